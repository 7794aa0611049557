//! The operator's threat intelligence in the running service: each configured feed pulled
//! on its schedule, an uploaded bundle taken in, what they hold stored, and the live
//! index rebuilt from the store so that every process and every restart matches the same
//! indicators. New indicators start a retro-hunt (`retro_hunt`).

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::retro_hunt::RetroHunter;
use intel::live::{Live, Loaded};
use intel::source::{self, FeedConfig, Pulled};
use intel::{Actor, BenignList, Indicator, Intel, Problem};
use store::{IndicatorRow, Store, StoreError};

/// Indicators read from the store per query while rebuilding.
const LOAD_PAGE: u32 = 50_000;
/// Indicators compiled at most (about 2.5 GiB of index); the rest wait in the store.
const MAX_LOADED: usize = intel::stix::IndicatorSet::DEFAULT_LIMIT;
/// Problems listed in an answer or a log line; the count covers all.
pub const LISTED_PROBLEMS: usize = 100;

/// `[intel]` in the configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntelConfig {
    /// How often a feed is pulled unless it sets its own `refresh`.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub refresh: SignedDuration,
    /// How many days of stored sign-ins and messages a retro-hunt searches.
    pub retro_hunt_days: u32,
    /// The feeds, pulled in this order.
    pub feeds: Vec<FeedConfig>,
}

impl Default for IntelConfig {
    fn default() -> Self {
        IntelConfig {
            refresh: SignedDuration::from_hours(1),
            retro_hunt_days: 30,
            feeds: Vec::new(),
        }
    }
}

impl IntelConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.refresh < SignedDuration::from_secs(10) {
            return Err("[intel] refresh must be at least 10s".into());
        }
        if !(1..=3650).contains(&self.retro_hunt_days) {
            return Err("[intel] retro_hunt_days must be between 1 and 3650".into());
        }
        let mut names = std::collections::HashSet::new();
        for feed in &self.feeds {
            feed.validate()
                .map_err(|e| format!("[[intel.feeds]]: {e}"))?;
            if feed.name == UPLOADS || !names.insert(feed.name.as_str()) {
                return Err(format!(
                    "[[intel.feeds]]: the name {:?} is used twice (or is reserved for uploads)",
                    feed.name
                ));
            }
            if feed
                .refresh
                .is_some_and(|r| r < SignedDuration::from_secs(10))
            {
                return Err(format!("feed {}: refresh must be at least 10s", feed.name));
            }
        }
        Ok(())
    }
}

/// The feed name bundles uploaded through the API go to unless another is given.
pub const UPLOADS: &str = "uploads";

/// Why intelligence could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Source(#[from] source::SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What taking in one pull or upload did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TakenIn {
    pub feed: String,
    /// One line: what was read.
    pub summary: String,
    pub indicators: usize,
    pub actors: usize,
    pub benign_lists: usize,
    /// Indicators new or changed in the store.
    pub changed: u64,
    /// Indicators removed (revoked, withdrawn).
    pub removed: usize,
    /// Objects that could not be used, with the reason; at most [`LISTED_PROBLEMS`].
    pub problems: Vec<Problem>,
    pub problem_count: usize,
    /// Indicators the matcher refused (patterns tocsin cannot evaluate), all feeds.
    pub refused_patterns: usize,
}

/// Compiles every stored indicator, warning list and imported actor into what the
/// intakes match against.
pub async fn load(store: &Store) -> Result<Loaded, StoreError> {
    let mut indicators: Vec<Indicator> = Vec::new();
    let mut unreadable = 0usize;
    let mut last: Option<(String, String)> = None;
    loop {
        if indicators.len() >= MAX_LOADED {
            tracing::warn!(
                held = MAX_LOADED,
                "more indicators are stored than are matched; only the first are used"
            );
            break;
        }
        let page = store
            .indicators_page(
                last.as_ref().map(|(f, i)| (f.as_str(), i.as_str())),
                LOAD_PAGE,
            )
            .await?;
        let Some((feed, row)) = page.last() else {
            break;
        };
        last = Some((feed.clone(), row.id.clone()));
        for (_, row) in &page {
            match serde_json::from_str::<Indicator>(&row.body) {
                Ok(indicator) => indicators.push(indicator),
                Err(_) => unreadable += 1,
            }
        }
    }
    if unreadable > 0 {
        tracing::warn!(
            unreadable,
            "stored indicators that do not parse were skipped"
        );
    }
    let benign = stored_benign(store).await?;
    let actors: Vec<Actor> = store
        .imported_actors()
        .await?
        .iter()
        .filter_map(|body| serde_json::from_str(body).ok())
        .collect();
    // Expiry is judged at each event's time; nothing is dropped at build for being old,
    // so that a retro-hunt and a late log still see what was valid when it happened.
    let loaded = tokio::task::spawn_blocking(move || {
        Loaded::build(indicators, &benign, actors, Timestamp::MIN)
    })
    .await
    .map_err(|e| StoreError::Invalid(format!("compiling the indicators: {e}")))?;
    Ok(loaded)
}

/// Every stored warning list; one that no longer reads as one is skipped.
pub(crate) async fn stored_benign(store: &Store) -> Result<Vec<BenignList>, StoreError> {
    Ok(store
        .benign_lists()
        .await?
        .iter()
        .filter_map(|body| serde_json::from_str(body).ok())
        .collect())
}

/// Stores what one pull or upload of `feed` gave.
async fn take_in(store: &Store, feed: &str, pulled: Pulled) -> Result<TakenIn, StoreError> {
    let Pulled {
        intel,
        removed,
        snapshot,
        cursor,
        summary,
    } = pulled;
    let Intel {
        indicators,
        actors,
        benign,
        problems,
    } = intel;
    let rows: Vec<(IndicatorRow, Option<Timestamp>)> = indicators
        .iter()
        .filter_map(|i| {
            let body = serde_json::to_string(i).ok()?;
            Some((
                IndicatorRow {
                    id: i.id.clone(),
                    body,
                },
                i.modified,
            ))
        })
        .collect();
    let actor_rows: Vec<(String, String)> = actors
        .iter()
        .filter_map(|a| Some((a.id.clone(), serde_json::to_string(a).ok()?)))
        .collect();
    let benign_rows: Vec<(String, String)> = benign
        .iter()
        .filter_map(|b| Some((b.name.clone(), serde_json::to_string(b).ok()?)))
        .collect();
    let changed = store
        .store_feed_pull(
            feed,
            snapshot,
            &rows,
            &removed,
            &actor_rows,
            &benign_rows,
            &cursor,
            problems.len(),
        )
        .await?;
    Ok(TakenIn {
        feed: feed.to_string(),
        summary,
        indicators: indicators.len(),
        actors: actors.len(),
        benign_lists: benign.len(),
        changed,
        removed: removed.len(),
        problem_count: problems.len(),
        problems: problems.into_iter().take(LISTED_PROBLEMS).collect(),
        refused_patterns: 0,
    })
}

/// Pulls one configured feed now and stores what it gave; a failure is recorded on the
/// feed (and what it held stays in force).
pub async fn pull_one(store: &Store, feed: &FeedConfig) -> Result<TakenIn, FeedError> {
    store
        .upsert_feed(&feed.name, feed.kind.as_str(), &feed.location)
        .await?;
    let cursor = store
        .feed(&feed.name)
        .await?
        .map(|f| f.cursor)
        .unwrap_or_default();
    match source::pull(feed, &cursor).await {
        Ok(pulled) => Ok(take_in(store, &feed.name, pulled).await?),
        Err(error) => {
            store.feed_failed(&feed.name, &error.to_string()).await?;
            Err(error.into())
        }
    }
}

/// Takes in a STIX bundle uploaded by an operator, into feed `feed` (which is created
/// as an upload feed when new). Versions merge: a newer `modified` replaces, revoked
/// objects go.
pub async fn upload_bundle(
    store: &Store,
    feed: &str,
    uploader: &str,
    bytes: &[u8],
) -> Result<TakenIn, FeedError> {
    let bundle = intel::stix::read(feed, &format!("upload to {feed}"), bytes)
        .map_err(source::SourceError::from)?;
    if store.feed(feed).await?.is_none() {
        store.upsert_feed(feed, "upload", uploader).await?;
    }
    let summary = format!(
        "{} indicators, {} actors, {} problems",
        bundle.intel.indicators.len(),
        bundle.intel.actors.len(),
        bundle.intel.problems.len()
    );
    let pulled = Pulled {
        intel: bundle.intel,
        removed: bundle.revoked,
        snapshot: false,
        cursor: String::new(),
        summary,
    };
    Ok(take_in(store, feed, pulled).await?)
}

/// Rebuilds the live intelligence from the store and installs it. Returns the number of
/// indicators compiled and of patterns refused.
pub async fn reload(store: &Store, live: &Live) -> Result<(usize, usize), StoreError> {
    let started = std::time::Instant::now();
    let loaded = load(store).await?;
    let counts = (loaded.indicators, loaded.problems.len());
    tracing::info!(
        indicators = counts.0,
        refused = counts.1,
        memory_mib = loaded.index.memory_estimate() / (1 << 20),
        took_ms = started.elapsed().as_millis() as u64,
        "threat intelligence loaded"
    );
    for problem in loaded.problems.iter().take(20) {
        tracing::warn!(
            feed = %problem.source,
            indicator = problem.object.as_deref().unwrap_or("-"),
            reason = %problem.reason,
            "indicator not used"
        );
    }
    live.install(loaded);
    Ok(counts)
}

/// Pulls each configured feed when it is due, for as long as the service runs; after a
/// pull that changed indicators, reloads the live index and wakes the retro-hunter.
pub async fn run_forever(store: Store, live: Arc<Live>, config: IntelConfig, hunt: Arc<Notify>) {
    if config.feeds.is_empty() {
        return;
    }
    loop {
        let mut changed = false;
        let mut next = Duration::from_secs(config.refresh.as_secs().max(10) as u64);
        let now = Timestamp::now();
        for feed in &config.feeds {
            let every = feed.refresh.unwrap_or(config.refresh);
            let last = store
                .feed(&feed.name)
                .await
                .ok()
                .flatten()
                .and_then(|f| f.last_attempt)
                .and_then(|t| t.parse::<Timestamp>().ok());
            let due = last.map_or(now, |t| t.checked_add(every).unwrap_or(now));
            if due > now {
                let wait = due.duration_since(now).unsigned_abs();
                next = next.min(wait);
                continue;
            }
            match pull_one(&store, feed).await {
                Ok(taken) => {
                    tracing::info!(feed = %feed.name, changed = taken.changed, "{}", taken.summary);
                    changed |= taken.changed > 0 || taken.removed > 0;
                }
                Err(error) => tracing::warn!(feed = %feed.name, "feed pull failed: {error}"),
            }
            next = next.min(Duration::from_secs(every.as_secs().max(10) as u64));
        }
        if changed {
            match reload(&store, &live).await {
                Ok(_) => hunt.notify_one(),
                Err(error) => tracing::error!("reloading the threat intelligence: {error}"),
            }
        }
        tokio::time::sleep(next.max(Duration::from_secs(1))).await;
    }
}

/// The service's threat intelligence: its configuration, the live index, the feed puller
/// and the retro-hunter. One per process; the API reaches it through the server's state.
pub struct Intelligence {
    pub config: IntelConfig,
    store: Store,
    live: Arc<Live>,
    pub hunter: Arc<RetroHunter>,
    hunt: Arc<Notify>,
}

impl Intelligence {
    /// Registers the configured feeds and loads what the store holds into the live index
    /// (the intakes match against it from now on). Nothing is pulled yet: see
    /// [`Intelligence::start`].
    pub async fn open(
        store: Store,
        config: IntelConfig,
        sign_ins: Arc<crate::SignInIntake>,
        mail: Arc<crate::MailIntake>,
    ) -> Result<Intelligence, StoreError> {
        for feed in &config.feeds {
            store
                .upsert_feed(&feed.name, feed.kind.as_str(), &feed.location)
                .await?;
        }
        let live = Arc::clone(sign_ins.intel());
        reload(&store, &live).await?;
        let hunter = Arc::new(RetroHunter::new(
            store.clone(),
            sign_ins,
            mail,
            config.retro_hunt_days,
        ));
        Ok(Intelligence {
            config,
            store,
            live,
            hunter,
            hunt: Arc::new(Notify::new()),
        })
    }

    /// Starts pulling the configured feeds on their schedules and hunting through stored
    /// events when they bring new indicators.
    pub fn start(&self) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            tokio::spawn(run_forever(
                self.store.clone(),
                Arc::clone(&self.live),
                self.config.clone(),
                Arc::clone(&self.hunt),
            )),
            tokio::spawn(Arc::clone(&self.hunter).run_forever(Arc::clone(&self.hunt))),
        ]
    }

    pub fn live(&self) -> &Arc<Live> {
        &self.live
    }

    /// Takes in an uploaded STIX bundle, reloads the live index and, when indicators are
    /// new or changed, hunts for them through the stored events.
    pub async fn upload(
        &self,
        feed: &str,
        uploader: &str,
        bytes: &[u8],
    ) -> Result<(TakenIn, Option<store::RetroHunt>), FeedError> {
        if self.config.feeds.iter().any(|f| f.name == feed) {
            return Err(FeedError::Source(source::SourceError::Config {
                feed: feed.to_string(),
                reason: "this feed is pulled from its configured location; upload to another \
                         feed name"
                    .into(),
            }));
        }
        let taken = upload_bundle(&self.store, feed, uploader, bytes).await?;
        self.after_take_in(taken).await
    }

    /// Pulls the configured feed `name` now, out of its schedule.
    pub async fn pull_now(
        &self,
        name: &str,
    ) -> Result<(TakenIn, Option<store::RetroHunt>), FeedError> {
        let feed = self
            .config
            .feeds
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                FeedError::Source(source::SourceError::Config {
                    feed: name.to_string(),
                    reason: "no such feed in [[intel.feeds]]".into(),
                })
            })?;
        let taken = pull_one(&self.store, feed).await?;
        self.after_take_in(taken).await
    }

    async fn after_take_in(
        &self,
        mut taken: TakenIn,
    ) -> Result<(TakenIn, Option<store::RetroHunt>), FeedError> {
        if taken.changed == 0 && taken.removed == 0 {
            return Ok((taken, None));
        }
        let (_, refused) = reload(&self.store, &self.live).await?;
        taken.refused_patterns = refused;
        let hunt = if taken.changed > 0 {
            Some(self.hunter.start_new().await?)
        } else {
            None
        };
        Ok((taken, hunt))
    }
}
