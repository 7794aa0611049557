//! The pull connectors organisations set up, their sealed credentials and their status.
//!
//! A connector's credential (a client secret, an API token, a service-account key) is
//! sealed with AES-256-GCM before it reaches the database and opened only by the task that
//! pulls with it. The key is the operator's ([`ConnectorKey`]: from the configuration or
//! the environment), or else derived from the data directory's master key, which is a file
//! beside the database and not in it: a copied database or a dump reveals no credential.
//! Each sealed value is bound to its organisation and connector name (the AEAD's
//! associated data), so a value moved to another row does not open.
//!
//! What the organisation sees of a connector is its settings and its status: state, last
//! success, last error in words, events received today and the newest event's time. The
//! credential never leaves this module except to [`Store::connector_secret`].

use std::fmt;

use base64::Engine as _;
use jiff::Timestamp;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::keys::random_bytes;
use crate::{Intake, MasterKey, OrgId, Result, Store, StoreError, corrupt, now_text};

/// The most connectors one organisation may have.
pub const MAX_CONNECTORS_PER_ORG: i64 = 16;

/// The prefix of a sealed value, naming the scheme so that another can follow.
const SEALED_PREFIX: &str = "v1:";

/// The 32-byte key connector credentials are sealed with.
#[derive(Clone)]
pub struct ConnectorKey([u8; 32]);

impl fmt::Debug for ConnectorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectorKey(..)")
    }
}

impl ConnectorKey {
    /// A key given as 64 hex digits (from the configuration or `TOCSIN_CONNECTOR_KEY`).
    pub fn from_hex(text: &str) -> Result<ConnectorKey> {
        hex::decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(ConnectorKey)
            .ok_or_else(|| {
                StoreError::Invalid(
                    "the connector key must be 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`"
                        .into(),
                )
            })
    }

    /// The key derived from the master key, for a service that sets none: HMAC-SHA256 of a
    /// fixed label, so that it is independent of every other use of the master key.
    pub fn derived_from(master: &MasterKey) -> ConnectorKey {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, master.as_bytes());
        let tag = ring::hmac::sign(&key, b"tocsin connector credentials v1");
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(tag.as_ref());
        ConnectorKey(bytes)
    }

    fn aead(&self) -> Result<LessSafeKey> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| StoreError::Invalid("the connector key is not an AES-256 key".into()))
    }

    /// Seals `secret` for connector `name` of `org`.
    pub fn seal(&self, org: OrgId, name: &str, secret: &str) -> Result<String> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let mut buffer = secret.as_bytes().to_vec();
        self.aead()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(associated_data(org, name)),
                &mut buffer,
            )
            .map_err(|_| StoreError::Invalid("sealing the credential failed".into()))?;
        let mut sealed = nonce_bytes.to_vec();
        sealed.extend_from_slice(&buffer);
        Ok(format!(
            "{SEALED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(sealed)
        ))
    }

    /// Opens what [`ConnectorKey::seal`] sealed for the same organisation and name.
    pub fn open(&self, org: OrgId, name: &str, sealed: &str) -> Result<String> {
        let unreadable = || {
            StoreError::Invalid(format!(
                "the credential of connector {name} does not open with this connector key; \
                 was the key (or the data directory's master key) changed? Set the credential again"
            ))
        };
        let body = sealed.strip_prefix(SEALED_PREFIX).ok_or_else(unreadable)?;
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| unreadable())?;
        if bytes.len() < NONCE_LEN {
            return Err(unreadable());
        }
        let mut ciphertext = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| unreadable())?;
        let plain = self
            .aead()?
            .open_in_place(
                nonce,
                Aad::from(associated_data(org, name)),
                &mut ciphertext,
            )
            .map_err(|_| unreadable())?;
        String::from_utf8(plain.to_vec()).map_err(|_| unreadable())
    }
}

fn associated_data(org: OrgId, name: &str) -> Vec<u8> {
    format!("tocsin connector {}/{name}", org.0).into_bytes()
}

/// A connector as set up: what the API takes.
#[derive(Clone, Debug)]
pub struct NewConnector<'a> {
    pub name: &'a str,
    /// `graph`, `okta` or `google`.
    pub kind: &'a str,
    /// The settings, JSON, without the credential.
    pub settings: &'a str,
    /// The credential in clear; `None` keeps the one already stored (changing settings
    /// without pasting the secret again).
    pub secret: Option<&'a str>,
}

/// A connector as stored, without its credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Connector {
    #[serde(skip)]
    pub org: OrgId,
    pub name: String,
    pub kind: String,
    /// The settings, JSON.
    #[serde(skip)]
    pub settings: String,
    /// Bumped at every change: a running connector restarts when it moves.
    #[serde(skip)]
    pub generation: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub status: ConnectorStatus,
}

/// What an organisation sees of a connector's health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectorStatus {
    /// `starting`, `running`, `backing_off` or `failed`.
    pub state: String,
    pub last_success_at: Option<Timestamp>,
    /// Why the last attempt failed, in words; `None` after a success.
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// When the organisation was told that the connector failed (once per failure).
    pub failure_notified_at: Option<Timestamp>,
    /// Events received since midnight UTC.
    pub events_today: i64,
    /// The time of the newest event received.
    pub newest_event_at: Option<Timestamp>,
}

/// The state a pull ended in, as the status records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullState {
    /// Answers are arriving.
    Running,
    /// The vendor refused for now (429, 5xx, network): retrying after a pause.
    BackingOff,
    /// The credential or the settings were refused: someone must act.
    Failed,
}

impl PullState {
    fn as_str(self) -> &'static str {
        match self {
            PullState::Running => "running",
            PullState::BackingOff => "backing_off",
            PullState::Failed => "failed",
        }
    }
}

fn checkpoint_name(org: OrgId, name: &str) -> String {
    format!("pull:{}:{name}", org.0)
}

fn parse_time(text: Option<String>) -> Result<Option<Timestamp>> {
    text.map(|t| t.parse::<Timestamp>().map_err(corrupt))
        .transpose()
}

fn connector_from_row(row: &AnyRow) -> Result<Connector> {
    let today = Timestamp::now().strftime("%Y-%m-%d").to_string();
    let events_day: Option<String> = row.try_get("events_day")?;
    let events_today = if events_day.as_deref() == Some(today.as_str()) {
        row.try_get("events_today")?
    } else {
        0
    };
    Ok(Connector {
        org: OrgId(row.try_get("org_id")?),
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        settings: row.try_get("settings")?,
        generation: row.try_get("generation")?,
        created_at: row
            .try_get::<String, _>("created_at")?
            .parse()
            .map_err(corrupt)?,
        updated_at: row
            .try_get::<String, _>("updated_at")?
            .parse()
            .map_err(corrupt)?,
        status: ConnectorStatus {
            state: row.try_get("state")?,
            last_success_at: parse_time(row.try_get("last_success_at")?)?,
            last_error: row.try_get("last_error")?,
            last_error_at: parse_time(row.try_get("last_error_at")?)?,
            failure_notified_at: parse_time(row.try_get("failure_notified_at")?)?,
            events_today,
            newest_event_at: parse_time(row.try_get("newest_event_at")?)?,
        },
    })
}

const CONNECTOR_COLUMNS: &str = "org_id, name, kind, settings, generation, created_at, updated_at, \
     state, last_success_at, last_error, last_error_at, failure_notified_at, events_day, \
     events_today, newest_event_at";

impl Store {
    /// Creates connector `new.name` of `org`, or replaces its settings (and its
    /// credential when one is given). A replaced connector keeps its position unless its
    /// kind changed: a credential renewed after it expired resumes where pulling stopped.
    /// Returns the connector as stored.
    pub async fn put_connector(
        &self,
        org: OrgId,
        key: &ConnectorKey,
        new: &NewConnector<'_>,
    ) -> Result<Connector> {
        let mut tx = self.begin_write().await?;
        let existing: Option<(String, i64)> = sqlx::query_as(
            "SELECT kind, generation FROM connectors WHERE org_id = $1 AND name = $2",
        )
        .bind(org.0)
        .bind(new.name)
        .fetch_optional(&mut *tx)
        .await?;
        let now = now_text();
        match existing {
            None => {
                let count: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM connectors WHERE org_id = $1")
                        .bind(org.0)
                        .fetch_one(&mut *tx)
                        .await?;
                if count >= MAX_CONNECTORS_PER_ORG {
                    return Err(StoreError::Invalid(format!(
                        "an organisation has at most {MAX_CONNECTORS_PER_ORG} connectors; delete one first"
                    )));
                }
                let secret = new.secret.ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "connector {} is new: its credential (`secret`) is required",
                        new.name
                    ))
                })?;
                sqlx::query(
                    "INSERT INTO connectors (org_id, name, kind, settings, secret, generation, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7)",
                )
                .bind(org.0)
                .bind(new.name)
                .bind(new.kind)
                .bind(new.settings)
                .bind(key.seal(org, new.name, secret)?)
                .bind(&now)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                // A connector of this name deleted before may have left a position.
                sqlx::query("DELETE FROM connector_checkpoints WHERE name = $1")
                    .bind(checkpoint_name(org, new.name))
                    .execute(&mut *tx)
                    .await?;
            }
            Some((kind, generation)) => {
                if kind != new.kind {
                    sqlx::query("DELETE FROM connector_checkpoints WHERE name = $1")
                        .bind(checkpoint_name(org, new.name))
                        .execute(&mut *tx)
                        .await?;
                }
                let sealed = new
                    .secret
                    .map(|secret| key.seal(org, new.name, secret))
                    .transpose()?;
                sqlx::query(
                    "UPDATE connectors SET kind = $1, settings = $2, secret = coalesce($3, secret), \
                     generation = $4, updated_at = $5, state = 'starting' \
                     WHERE org_id = $6 AND name = $7",
                )
                .bind(new.kind)
                .bind(new.settings)
                .bind(sealed)
                .bind(generation + 1)
                .bind(&now)
                .bind(org.0)
                .bind(new.name)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        self.connector(org, new.name)
            .await?
            .ok_or_else(|| corrupt("a connector just written is missing"))
    }

    /// Connector `name` of `org`, without its credential.
    pub async fn connector(&self, org: OrgId, name: &str) -> Result<Option<Connector>> {
        let sql =
            format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE org_id = $1 AND name = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(connector_from_row)
            .transpose()
    }

    /// `org`'s connectors, by name.
    pub async fn connectors(&self, org: OrgId) -> Result<Vec<Connector>> {
        let sql =
            format!("SELECT {CONNECTOR_COLUMNS} FROM connectors WHERE org_id = $1 ORDER BY name");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(connector_from_row)
            .collect()
    }

    /// Every organisation's connectors, for the service that runs them (operator-level:
    /// each row carries its organisation, and no credential).
    pub async fn all_connectors(&self) -> Result<Vec<Connector>> {
        let sql = format!("SELECT {CONNECTOR_COLUMNS} FROM connectors ORDER BY org_id, name");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(connector_from_row)
            .collect()
    }

    /// Deletes connector `name` of `org` and its position. Returns whether it existed.
    pub async fn delete_connector(&self, org: OrgId, name: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM connectors WHERE org_id = $1 AND name = $2")
            .bind(org.0)
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM connector_checkpoints WHERE name = $1")
            .bind(checkpoint_name(org, name))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted > 0)
    }

    /// The credential of connector `name` of `org`, opened: for the task that pulls.
    pub async fn connector_secret(
        &self,
        org: OrgId,
        name: &str,
        key: &ConnectorKey,
    ) -> Result<Option<String>> {
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT secret FROM connectors WHERE org_id = $1 AND name = $2")
                .bind(org.0)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        sealed.map(|s| key.open(org, name, &s)).transpose()
    }

    /// Where connector `name` of `org` got to, as it last committed it.
    pub async fn connector_position(&self, org: OrgId, name: &str) -> Result<Option<String>> {
        self.checkpoint(&checkpoint_name(org, name)).await
    }

    /// Records a successful answer: `events` received, the newest of them at `newest`.
    /// Clears the last error and the failure notice, so a later failure is told again.
    pub async fn record_pull_success(
        &self,
        org: OrgId,
        name: &str,
        events: u64,
        newest: Option<Timestamp>,
    ) -> Result<()> {
        let now = Timestamp::now();
        let today = now.strftime("%Y-%m-%d").to_string();
        sqlx::query(
            "UPDATE connectors SET state = 'running', last_success_at = $1, last_error = NULL, \
             last_error_at = NULL, failure_notified_at = NULL, \
             events_today = CASE WHEN events_day = $2 THEN events_today + $3 ELSE $4 END, \
             events_day = $5, \
             newest_event_at = CASE WHEN $6 IS NOT NULL AND (newest_event_at IS NULL OR newest_event_at < $7) \
                 THEN $8 ELSE newest_event_at END \
             WHERE org_id = $9 AND name = $10",
        )
        .bind(now.to_string())
        .bind(&today)
        .bind(events as i64)
        .bind(events as i64)
        .bind(&today)
        .bind(newest.map(|t| t.to_string()))
        .bind(newest.map(|t| t.to_string()))
        .bind(newest.map(|t| t.to_string()))
        .bind(org.0)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt and the state it leaves the connector in.
    pub async fn record_pull_error(
        &self,
        org: OrgId,
        name: &str,
        state: PullState,
        message: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE connectors SET state = $1, last_error = $2, last_error_at = $3 \
             WHERE org_id = $4 AND name = $5",
        )
        .bind(state.as_str())
        .bind(message)
        .bind(now_text())
        .bind(org.0)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl Intake {
    /// Marks connector `name` of `org` failed with `message`, in this transaction, and
    /// says whether the organisation is yet to be told: true the first time after a
    /// success, false while the same failure goes on.
    pub async fn mark_connector_failed(
        &mut self,
        org: OrgId,
        name: &str,
        message: &str,
    ) -> Result<bool> {
        let now = self.received_at().to_owned();
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT failure_notified_at FROM connectors WHERE org_id = $1 AND name = $2",
        )
        .bind(org.0)
        .bind(name)
        .fetch_optional(&mut *self.connection())
        .await?;
        let Some((notified,)) = row else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE connectors SET state = 'failed', last_error = $1, last_error_at = $2, \
             failure_notified_at = coalesce(failure_notified_at, $3) WHERE org_id = $4 AND name = $5",
        )
        .bind(message)
        .bind(&now)
        .bind(&now)
        .bind(org.0)
        .bind(name)
        .execute(&mut *self.connection())
        .await?;
        Ok(notified.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ConnectorKey {
        ConnectorKey::from_hex(&"ab".repeat(32)).expect("key")
    }

    #[test]
    fn a_sealed_credential_opens_only_with_its_key_organisation_and_name() {
        let sealed = key().seal(OrgId(1), "entra", "s3cr3t~value").expect("seal");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(
            key().open(OrgId(1), "entra", &sealed).expect("open"),
            "s3cr3t~value"
        );
        assert!(key().open(OrgId(2), "entra", &sealed).is_err());
        assert!(key().open(OrgId(1), "okta", &sealed).is_err());
        let other = ConnectorKey::from_hex(&"cd".repeat(32)).expect("key");
        assert!(other.open(OrgId(1), "entra", &sealed).is_err());
        // Two seals of one value differ (fresh nonce each time).
        assert_ne!(
            sealed,
            key().seal(OrgId(1), "entra", "s3cr3t~value").expect("seal")
        );
    }

    #[test]
    fn a_connector_key_must_be_64_hex_digits() {
        assert!(ConnectorKey::from_hex("abcd").is_err());
        assert!(ConnectorKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(ConnectorKey::from_hex(&format!(" {}\n", "0f".repeat(32))).is_ok());
    }
}
