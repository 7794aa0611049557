//! Persistence for tocsin: the embedded SQLite store, or PostgreSQL when a URL names it.
//!
//! This crate owns the schema and its migrations (one history per engine), every SQL
//! statement, the data directory's files (the SQLite database and the master key), the
//! notification outbox table, the scaled-out pipeline's leases (`pipeline.rs`) and event
//! retention (`retention.rs`). It holds no policy: what an incident is, when to notify and how to deliver are
//! decided in `notify`; this crate only makes those decisions durable.
//!
//! Tenancy is by construction: every query over organisation data takes the [`OrgId`]
//! of the caller as a parameter and filters on it in SQL; no method returns rows of more
//! than one organisation except the operator's, the outbox worker's, the notification
//! policy's ticker (`due_pending`), the domain re-check (`dns_verified_domains`), the
//! retro-hunt (`signins_for_hunt`, `mails_since`: each row with its organisation, for the
//! intakes to open that organisation's incidents), the connectors the service runs
//! (`all_connectors`: settings and status, never a credential), the operator's console
//! (`organisation_health`, `shared_campaigns`: one row per organisation or campaign,
//! counts and times), the detector replay and the pipeline's forward outbox
//! (`observations_since`, `pending_forwards`: each observation with its organisation,
//! for the detectors that key their state by it) and the cross-organisation counts
//! (`campaign_reach`, `false_positives`: counts, never rows). The threat intelligence
//! (`intel.rs`) is the operator's and belongs to no organisation.

mod activity;
mod audit;
mod connectors;
mod enrolment;
mod incidents;
mod intel;
mod keys;
mod lifecycle;
mod mails;
mod migrate;
mod orgs;
mod outbox;
mod personal;
mod pipeline;
mod recipients;
mod retention;
mod scorecard;
mod signins;
mod users;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, ConnectOptions, Transaction};

pub use activity::{OrgHealth, Ranked, SharedCampaign};
pub use audit::{AuditEntry, MAX_AUDIT_PAGE};
pub use connectors::{
    Connector, ConnectorKey, ConnectorStatus, MAX_CONNECTORS_PER_ORG, NewConnector, PullState,
};
pub use enrolment::{
    Application, ApplicationState, Contact, EnrolmentError, MAX_APPLICATION_DOMAINS,
    MAX_APPLICATION_PAGE, MAX_CONTACTS, MAX_NAME_CHARS, NewApplication, OrgDomain,
    SubmissionLimits, VerificationMethod, VerifiedDomain, is_plausible_email,
};
pub use intel::{Feed, IndicatorRow, OrgMail, RetroHunt};
pub use keys::{ApiKey, AuthenticatedKey, MasterKey, Principal};
pub use lifecycle::{
    CampaignReach, EventKind, FalsePositives, IncidentEvent, MAX_EXTENSION_EVENTS, NotifySettings,
    Pacing, ReasonCount, StateChange,
};
pub use mails::{Sender, StoredMail};
pub use migrate::{SCHEMA_VERSION, schema_version};
pub use model::OrgId;
pub use orgs::{Language, NewOrganisation, Organisation};
pub use outbox::{
    Attempt, AttemptRecord, Delivery, DeliveryRecord, IncidentAttempt, MAX_DEAD_LISTED,
    NewDelivery, OutboxCounts, Outcome,
};
pub use personal::{Confirmation, OptedOut, PendingPersonal, PersonalAccount};
pub use pipeline::{Claimed, Forward};
pub use recipients::{MAX_RECIPIENTS, Recipient, SecretGeneration};
pub use retention::{Deleted, StoreConfig};
pub use signins::{Intake, StoredSignIn};
pub use users::{
    MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, NewSession, NewUser, Role, Session, User,
    hash_password, normalise_email, verify_password,
};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the database schema is version {found}, newer than this tocsin understands ({supported}); \
         run the tocsin release that wrote it or a newer one"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    /// The event stream did not take the events (full, or unreachable): nothing of the
    /// request was accepted and the sender should retry later.
    #[error("the event stream is not accepting events now ({0}); retry later")]
    Unavailable(String),
    #[error("partition {partition} of stage {stage} is no longer this worker's")]
    LeaseLost { stage: String, partition: u32 },
    #[error("stored row is not readable: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine holds the store. Almost every statement is written once, in
/// the SQL both engines speak (`$1` parameters, `ON CONFLICT`, `RETURNING`); the few that
/// differ ask [`Dialect::pick`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The statement for this engine.
    pub(crate) fn pick(self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }
}

/// A handle on the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// Writers of this process take turns here, holding no connection while they wait;
    /// only the one whose turn it is asks the database for its lock.
    turn: Arc<tokio::sync::Mutex<()>>,
    master_key: MasterKey,
    data_dir: PathBuf,
}

impl Store {
    /// The database file's name inside the data directory.
    pub const DATABASE_FILE: &'static str = "tocsin.db";

    /// Opens (creating if missing) the embedded SQLite store in `data_dir` and applies
    /// migrations.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        Store::connect(None, data_dir).await
    }

    /// Opens the store at `url` (`postgres://…`, or `sqlite:` for the embedded default),
    /// or the embedded SQLite database in `data_dir` when `url` is `None`, and applies
    /// migrations. The master key stays a file in `data_dir` whichever engine holds the
    /// rows: every process of one deployment reads the same key, the database never does.
    pub async fn connect(url: Option<&str>, data_dir: &Path) -> Result<Store> {
        sqlx::any::install_default_drivers();
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_owned(),
            source,
        })?;
        let master_key = MasterKey::load_or_create(data_dir)?;
        let (dialect, options) = match url {
            Some(url) if url.starts_with("postgres:") || url.starts_with("postgresql:") => {
                (Dialect::Postgres, AnyConnectOptions::from_str(url)?)
            }
            Some(url) if url != "sqlite:" => {
                return Err(StoreError::Invalid(format!(
                    "store url {:?} is neither `sqlite:` (the embedded database in the data \
                     directory) nor `postgres://user@host/database`",
                    redact(url)
                )));
            }
            _ => {
                let db_path = data_dir.join(Self::DATABASE_FILE);
                let sqlite = SqliteConnectOptions::new()
                    .filename(&db_path)
                    .create_if_missing(true);
                (
                    Dialect::Sqlite,
                    AnyConnectOptions::from_url(&sqlite.to_url_lossy())?,
                )
            }
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // NORMAL in WAL mode survives a crash of the process (a committed
                        // transaction is in the OS's hands); only a power loss can take
                        // the last commits back.
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .execute(conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        migrate::apply(&pool, dialect).await?;
        Ok(Store {
            pool,
            dialect,
            turn: Arc::new(tokio::sync::Mutex::new(())),
            master_key,
            data_dir: data_dir.to_owned(),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The key webhook signing secrets are derived from; it never leaves the data
    /// directory.
    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction; writers take turns. SQLite has one writer at a time
    /// and taking its lock up front avoids a deadlock between two readers that both want
    /// to write. On PostgreSQL a transaction-scoped advisory lock gives the same order, so
    /// that the checks made before a write (limits, counts, the newest incident of a key)
    /// still hold when it commits, whichever process writes.
    pub(crate) async fn begin_write(&self) -> Result<Write> {
        let turn = Arc::clone(&self.turn).lock_owned().await;
        Ok(Write {
            tx: begin_write(&self.pool, self.dialect).await?,
            _turn: Some(turn),
        })
    }

    /// A write transaction if no other writer of this process has the turn now, else
    /// `None`: for writes that may as well wait for a later request (a key's last use)
    /// and must not make this one queue behind the intake.
    pub(crate) async fn try_begin_write(&self) -> Result<Option<Write>> {
        let Ok(turn) = Arc::clone(&self.turn).try_lock_owned() else {
            return Ok(None);
        };
        Ok(Some(Write {
            tx: begin_write(&self.pool, self.dialect).await?,
            _turn: Some(turn),
        }))
    }
}

/// A write transaction holding this process's turn; it derefs to the connection, so
/// statements run on `&mut *write`.
pub(crate) struct Write {
    tx: Transaction<'static, Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Write {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for Write {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Write {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// The advisory lock every PostgreSQL writer takes (an arbitrary constant: "tocsin").
const WRITE_LOCK: i64 = 0x746f_6373_696e;

pub(crate) async fn begin_write(
    pool: &AnyPool,
    dialect: Dialect,
) -> Result<Transaction<'static, Any>> {
    match dialect {
        Dialect::Sqlite => Ok(pool.begin_with("BEGIN IMMEDIATE").await?),
        Dialect::Postgres => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITE_LOCK)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        }
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// `$first, $first+1, …`: `count` numbered parameters for an `IN (…)` list.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// `SELECT *` of the rows of `table` with these ids that belong to `org`, in time order.
/// Only the table name (a constant of ours) and numbered placeholders are spliced in; the
/// values are bound.
pub(crate) fn rows_of_org_by_id(
    table: &'static str,
    org: OrgId,
    ids: &[model::EventId],
) -> sqlx::query::Query<'static, Any, sqlx::any::AnyArguments> {
    let placeholders = placeholders(2, ids.len());
    let sql = format!(
        "SELECT * FROM {table} WHERE org_id = $1 AND id IN ({placeholders}) ORDER BY time_us, id"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(org.0);
    for id in ids {
        query = query.bind(id.0);
    }
    query
}

#[cfg(any(test, feature = "testing"))]
mod testing;
#[cfg(any(test, feature = "testing"))]
pub use testing::{TEST_DATABASE_VARIABLE, raw_database_url, test_database_url};
