//! What the pipeline's tests and its benchmark share: the demo's traffic, a store with
//! its organisations, and a deployment (stream, ingest, workers) in this process.

#![allow(dead_code)]

use std::sync::Arc;

use model::{OrgId, SignIn, Timestamp};
use store::{NewOrganisation, Store};
use tocsin_pipeline::{Pipeline, PipelineConfig, Publisher, Workers};

/// How the sign-ins are cut into requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// In time order across organisations, as shippers that push as events happen:
    /// a request is a run of one organisation's consecutive sign-ins.
    AsTheyHappen,
    /// An hour at a time, each organisation its own sign-ins of that hour: as shippers
    /// that push in hourly batches (larger requests, events out of time order across
    /// organisations within the hour).
    Hourly,
}

/// `demos` demo days (three organisations each, a day of sign-ins with a spray across
/// them, a brute force ending in a compromise, ordinary traffic) as requests of at most
/// `per_request` sign-ins of one organisation.
pub fn traffic(
    demos: u64,
    per_request: usize,
    arrival: Arrival,
) -> (Vec<NewOrganisation>, Vec<(usize, Vec<SignIn>)>) {
    let start: Timestamp = "2026-11-02T00:00:00Z".parse().expect("time");
    let mut orgs = Vec::new();
    let mut all: Vec<(usize, SignIn)> = Vec::new();
    for seed in 0..demos {
        let demo = scenario::demo(7 + seed, start);
        for o in demo.orgs {
            let index = orgs.len();
            orgs.push(NewOrganisation {
                name: if demos == 1 {
                    o.name.clone()
                } else {
                    format!("{} {seed}", o.name)
                },
                sector: o.sector,
                country: o.country.clone(),
                domains: vec![format!("org{index}.example")],
                webhook_url: Some(format!("https://org{index}.example/hook")),
                language: store::Language::En,
            });
            all.extend(o.sign_ins.into_iter().map(|s| (index, s)));
        }
    }
    all.sort_by_key(|(_, s)| s.time);
    let mut requests: Vec<(usize, Vec<SignIn>)> = Vec::new();
    if arrival == Arrival::AsTheyHappen {
        for (org, sign_in) in all {
            match requests.last_mut() {
                Some((last, batch)) if *last == org && batch.len() < per_request => {
                    batch.push(sign_in)
                }
                _ => requests.push((org, vec![sign_in])),
            }
        }
        return (orgs, requests);
    }
    let hour = |s: &SignIn| s.time.as_second().div_euclid(3600);
    let mut i = 0;
    while i < all.len() {
        let this_hour = hour(&all[i].1);
        let end = all[i..]
            .iter()
            .position(|(_, s)| hour(s) != this_hour)
            .map_or(all.len(), |n| i + n);
        let mut by_org: std::collections::BTreeMap<usize, Vec<SignIn>> = Default::default();
        for (org, sign_in) in &all[i..end] {
            by_org.entry(*org).or_default().push(sign_in.clone());
        }
        for (org, sign_ins) in by_org {
            for chunk in sign_ins.chunks(per_request) {
                requests.push((org, chunk.to_vec()));
            }
        }
        i = end;
    }
    (orgs, requests)
}

/// The test's store (PostgreSQL when TOCSIN_TEST_DATABASE_URL names one) with `orgs`
/// enrolled; their ids in the same order.
pub async fn open(dir: &std::path::Path, orgs: &[NewOrganisation]) -> (Store, Vec<OrgId>) {
    let store = Store::open_for_tests(dir).await.expect("store");
    let mut ids = Vec::new();
    for org in orgs {
        ids.push(store.create_organisation(org).await.expect("org").0.id);
    }
    (store, ids)
}

/// What the single process (`--role all`) does with `requests`.
pub async fn single_process(store: &Store, ids: &[OrgId], requests: Vec<(usize, Vec<SignIn>)>) {
    let intake = notify::SignInIntake::new(
        store.clone(),
        detect::DetectConfig::default(),
        notify::NotifyConfig::default(),
    )
    .await
    .expect("intake");
    for (org, sign_ins) in requests {
        intake.accept(ids[org], sign_ins).await.expect("accept");
    }
}

/// A stream and an ingest intake publishing to it.
pub struct Deployment {
    pub store: Store,
    pub ids: Vec<OrgId>,
    pub pipeline: Pipeline,
    pub ingest: notify::SignInIntake,
}

impl Deployment {
    pub async fn start(store: Store, ids: Vec<OrgId>, config: &PipelineConfig) -> Deployment {
        let pipeline = Pipeline::connect(config)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let ingest = notify::SignInIntake::publishing(
            store.clone(),
            detect::DetectConfig::default(),
            notify::NotifyConfig::default(),
            Arc::new(Publisher::new(pipeline.clone())),
        );
        Deployment {
            store,
            ids,
            pipeline,
            ingest,
        }
    }

    /// A worker named `owner` on `store` (this deployment's, or a pool of its own).
    pub fn worker(&self, store: &Store, owner: &str) -> Workers {
        Workers::start(
            self.pipeline.clone(),
            Arc::new(notify::SignInIntake::for_workers(
                store.clone(),
                detect::DetectConfig::default(),
                notify::NotifyConfig::default(),
            )),
            detect::DetectConfig::default(),
            owner.into(),
        )
    }

    pub async fn publish(&self, requests: Vec<(usize, Vec<SignIn>)>) {
        for (org, sign_ins) in requests {
            self.ingest
                .accept(self.ids[org], sign_ins)
                .await
                .expect("published");
        }
    }
}
