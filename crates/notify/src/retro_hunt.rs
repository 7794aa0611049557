//! Retro-hunt: when indicators arrive, the sign-ins and messages stored over the last
//! days are searched for them, and a hit opens or extends an incident and tells the
//! organisation, as live matching would have had the indicator been known then.
//!
//! Only what arrived before an indicator is searched for it: what arrived after was
//! matched as it came in, and must not count twice; for the same reason a sign-in that
//! is already a `known_indicator` incident's evidence, or a message already an
//! incident's, is passed over. One hunt runs at a time; its progress
//! is stored (`retro_hunts`) so that the API can show it.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Mutex, Notify};

use crate::intake::SignInIntake;
use crate::mail_intake::MailIntake;
use intel::index::Index;
use intel::{Indicator, Match, Observed};
use store::{RetroHunt, Store, StoreError};

/// Indicators one hunt searches for; more wait for the next hunt.
const MAX_HUNTED: u32 = 2_000_000;
/// Events read from the store at a time.
const PAGE: u32 = 5_000;

pub struct RetroHunter {
    store: Store,
    sign_ins: Arc<SignInIntake>,
    mail: Arc<MailIntake>,
    days: u32,
    /// One hunt at a time; the next waits for it.
    running: Mutex<()>,
    /// Indicators that arrived before this were hunted for already: each automatic hunt
    /// takes those that arrived since, so that no event is counted twice.
    mark: Mutex<Option<Timestamp>>,
}

impl RetroHunter {
    pub fn new(
        store: Store,
        sign_ins: Arc<SignInIntake>,
        mail: Arc<MailIntake>,
        days: u32,
    ) -> RetroHunter {
        RetroHunter {
            store,
            sign_ins,
            mail,
            days,
            running: Mutex::new(()),
            mark: Mutex::new(None),
        }
    }

    /// Hunts for the indicators that arrived since the previous hunt of this kind began
    /// (all of them the first time: only events received before each indicator count).
    pub async fn start_new(self: &Arc<Self>) -> Result<RetroHunt, StoreError> {
        let mut mark = self.mark.lock().await;
        let since = match *mark {
            Some(since) => since,
            None => self
                .store
                .retro_hunts(1)
                .await?
                .first()
                .and_then(|h| h.started_at.parse::<Timestamp>().ok())
                .unwrap_or(Timestamp::MIN),
        };
        *mark = Some(Timestamp::now());
        self.start(since, None).await
    }

    /// Starts a hunt for the indicators that arrived at or after `indicators_since` over
    /// the last `days` (default: the configured number) and returns its record at once;
    /// the search goes on in the background.
    pub async fn start(
        self: &Arc<Self>,
        indicators_since: Timestamp,
        days: Option<u32>,
    ) -> Result<RetroHunt, StoreError> {
        let days = days.unwrap_or(self.days).clamp(1, 3650);
        let since = Timestamp::now()
            .checked_sub(SignedDuration::from_hours(24 * i64::from(days)))
            .unwrap_or(Timestamp::MIN);
        let total = self.store.events_since(since).await?;
        let id = self
            .store
            .start_retro_hunt(since, indicators_since, total)
            .await?;
        let hunter = Arc::clone(self);
        tokio::spawn(async move {
            let _one = hunter.running.lock().await;
            let outcome = hunter.search(id, since, indicators_since).await;
            let error = outcome.as_ref().err().map(ToString::to_string);
            if let Some(error) = &error {
                tracing::error!(hunt = id, "retro-hunt failed: {error}");
            }
            let _ = hunter.store.finish_retro_hunt(id, error.as_deref()).await;
        });
        self.store
            .retro_hunt(id)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("retro-hunt {id} vanished")))
    }

    async fn search(
        &self,
        id: i64,
        since: Timestamp,
        indicators_since: Timestamp,
    ) -> Result<(), StoreError> {
        let added = self
            .store
            .indicators_added(indicators_since, MAX_HUNTED)
            .await?;
        let mut arrived: HashMap<(String, String), Timestamp> = HashMap::new();
        let mut indicators: Vec<Indicator> = Vec::with_capacity(added.len());
        for (body, at) in added {
            if let Ok(indicator) = serde_json::from_str::<Indicator>(&body) {
                arrived.insert((indicator.feed.clone(), indicator.id.clone()), at);
                indicators.push(indicator);
            }
        }
        if indicators.is_empty() {
            return Ok(());
        }
        let benign = crate::feeds::stored_benign(&self.store).await?;
        let index = tokio::task::spawn_blocking(move || {
            Index::build(indicators, &benign, Timestamp::MIN).0
        })
        .await
        .map_err(|e| StoreError::Invalid(format!("compiling the hunted indicators: {e}")))?;
        // Only indicators that arrived after the event was received count for it.
        let later = |matches: Vec<Match>, received: Timestamp| -> Vec<Match> {
            matches
                .into_iter()
                .filter(|m| {
                    arrived
                        .get(&(m.feed.clone(), m.indicator.clone()))
                        .is_some_and(|at| *at > received)
                })
                .collect()
        };
        let (mut scanned, mut found, mut incidents) = (0i64, 0i64, 0i64);
        let mut after = 0i64;
        loop {
            let page = self.store.signins_for_hunt(since, after, PAGE).await?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = last.id.0;
            scanned += page.len() as i64;
            let ids: Vec<i64> = page.iter().map(|(o, _)| o.id.0).collect();
            let known = self.store.signins_already_known(&ids).await?;
            let mut hits = Vec::new();
            for (observation, received) in page {
                if known.contains(&observation.id.0) {
                    continue;
                }
                let seen = Observed::sign_in(&observation.sign_in);
                let matches = later(index.matches(&seen, observation.sign_in.time), received);
                if !matches.is_empty() {
                    found += 1;
                    hits.push((observation, matches));
                }
            }
            incidents += self.sign_ins.absorb_hunted(hits).await? as i64;
            self.store
                .retro_hunt_progress(id, scanned, found, incidents)
                .await?;
        }
        let mut after = 0i64;
        loop {
            let page = self.store.mails_since(since, after, PAGE).await?;
            let Some(last) = page.last() else {
                break;
            };
            after = last.mail.id.0;
            scanned += page.len() as i64;
            let ids: Vec<i64> = page.iter().map(|m| m.mail.id.0).collect();
            let known = self.store.mails_already_known(&ids).await?;
            for stored in page {
                if known.contains(&stored.mail.id.0) {
                    continue;
                }
                let seen = Observed::record(&stored.mail.record);
                let matches = later(
                    index.matches(&seen, stored.mail.record.time),
                    stored.received,
                );
                if !matches.is_empty() {
                    found += 1;
                    self.mail
                        .absorb_hunted(stored.org, &stored.mail, &matches)
                        .await?;
                    incidents += 1;
                }
            }
            self.store
                .retro_hunt_progress(id, scanned, found, incidents)
                .await?;
        }
        Ok(())
    }

    /// Hunts whenever `wake` is notified (a feed brought new indicators), for the
    /// indicators that arrived since the previous hunt began.
    pub async fn run_forever(self: Arc<Self>, wake: Arc<Notify>) {
        let _ = self.store.abandon_retro_hunts().await;
        loop {
            wake.notified().await;
            match self.start_new().await {
                Ok(hunt) => tracing::info!(hunt = hunt.id, "retro-hunt started"),
                Err(error) => tracing::error!("starting a retro-hunt: {error}"),
            }
        }
    }
}
