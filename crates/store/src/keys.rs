//! API keys and the data directory's master key.
//!
//! An API key is `tsn_` followed by 64 hex digits of randomness. Only its SHA-256 is
//! stored, so a copy of the database lets nobody in. The master key is 32 random bytes
//! in `master.key` beside the database; secrets that must be reproduced (webhook signing
//! secrets) are derived from it instead of being stored.
//!
//! An organisation's admin makes and revokes its own keys; each says what it is for
//! (`label`), who made it and when it was last used (written at most once a minute).

use std::fmt;
use std::io::Write;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Result, Store, StoreError, now_text};
use model::OrgId;

/// Who a presented API key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The service's own staff: may enrol organisations, sees no organisation's events
    /// through the organisation API.
    Operator,
    /// A machine or person acting for one organisation, and only that one.
    Organisation(OrgId),
}

/// A presented key that is valid, and how it is named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedKey {
    pub principal: Principal,
    /// `tsn_` and the first 8 hex digits: enough to tell keys apart, useless to sign in.
    pub prefix: String,
}

/// What an organisation's admin sees of a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub prefix: String,
    pub label: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

const KEY_PREFIX: &str = "tsn_";
/// Keys not revoked that one organisation may hold.
const MAX_LIVE_KEYS_PER_ORG: i64 = 100;
const MAX_LABEL_CHARS: usize = 100;
/// How stale `last_used_at` may get before a request writes it again.
const LAST_USED_EVERY: SignedDuration = SignedDuration::from_secs(60);

fn key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        prefix: row.try_get("prefix")?,
        label: row.try_get("label")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| {
        StoreError::Invalid(format!("the system random source failed: {error}"))
    })?;
    Ok(bytes)
}

/// 256 random bits in hex: session cookies, CSRF and personal-address tokens, and the
/// secret part of API keys.
pub(crate) fn random_hex_token() -> Result<String> {
    Ok(hex::encode(random_bytes::<32>()?))
}

fn new_token() -> Result<String> {
    Ok(format!("{KEY_PREFIX}{}", random_hex_token()?))
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn display_prefix(token: &str) -> String {
    token.chars().take(KEY_PREFIX.len() + 8).collect()
}

impl Store {
    /// Creates a key for `principal` and returns the token. The token is not stored and
    /// cannot be shown again.
    pub async fn create_api_key(&self, principal: Principal) -> Result<String> {
        let mut conn = self.pool.acquire().await?;
        create_api_key(&mut conn, principal).await
    }

    /// Resolves a presented token to its principal, recording when it was last used.
    /// Revoked and unknown tokens resolve to `None`.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        Ok(self.authenticate_key(token).await?.map(|key| key.principal))
    }

    /// Resolves a presented token to its principal and its display prefix (how the key
    /// is named in audit trails). `last_used_at` is written when it is more than a
    /// minute old, so that a busy key does not turn every request into a write.
    pub async fn authenticate_key(&self, token: &str) -> Result<Option<AuthenticatedKey>> {
        if !token.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let row = sqlx::query(
            "SELECT id, role, org_id, prefix, last_used_at FROM api_keys \
             WHERE hash = $1 AND revoked_at IS NULL",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        let org: Option<i64> = row.try_get("org_id")?;
        let principal = match (role.as_str(), org) {
            ("operator", None) => Principal::Operator,
            ("organisation", Some(org)) => Principal::Organisation(OrgId(org)),
            _ => {
                return Err(crate::corrupt(format!(
                    "api key with role {role:?} and org {org:?}"
                )));
            }
        };
        let now = Timestamp::now();
        let last_used: Option<String> = row.try_get("last_used_at")?;
        let last_used_missing = last_used.is_none();
        let stale = last_used
            .and_then(|text| text.parse::<Timestamp>().ok())
            .is_none_or(|last| now.duration_since(last) >= LAST_USED_EVERY);
        // Written in the process's turn like every write, but only when the turn is free
        // (or the key was never used): queueing a request behind the intake's
        // transactions to note a time of minute precision cost seconds under load.
        let write = if stale && last_used_missing {
            Some(self.begin_write().await?)
        } else if stale {
            self.try_begin_write().await?
        } else {
            None
        };
        if let Some(mut write) = write {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now.to_string())
                .bind(row.try_get::<i64, _>("id")?)
                .execute(&mut *write)
                .await?;
            write.commit().await?;
        }
        Ok(Some(AuthenticatedKey {
            principal,
            prefix: row.try_get("prefix")?,
        }))
    }

    /// Creates a key for `org` named `label`, made by `created_by` (an actor such as
    /// `user:ana@echo.example`). Returns what is listed about it and the token, which is
    /// not stored and cannot be shown again.
    pub async fn create_org_key(
        &self,
        org: OrgId,
        label: &str,
        created_by: &str,
    ) -> Result<(ApiKey, String)> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return Err(StoreError::Invalid(format!(
                "a key needs a label of 1 to {MAX_LABEL_CHARS} characters saying what uses it"
            )));
        }
        let mut tx = self.begin_write().await?;
        let live: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM api_keys WHERE org_id = $1 AND revoked_at IS NULL",
        )
        .bind(org.0)
        .fetch_one(&mut *tx)
        .await?;
        if live >= MAX_LIVE_KEYS_PER_ORG {
            return Err(StoreError::Invalid(format!(
                "the organisation has {live} keys in use, the most allowed; revoke unused ones first"
            )));
        }
        let token = new_token()?;
        let row = sqlx::query(
            "INSERT INTO api_keys (org_id, role, prefix, hash, created_at, label, created_by) \
             VALUES ($1, 'organisation', $2, $3, $4, $5, $6) \
             RETURNING prefix, label, created_by, created_at, last_used_at, revoked_at",
        )
        .bind(org.0)
        .bind(display_prefix(&token))
        .bind(token_hash(&token))
        .bind(now_text())
        .bind(label)
        .bind(created_by)
        .fetch_one(&mut *tx)
        .await?;
        let key = key_from_row(&row)?;
        tx.commit().await?;
        Ok((key, token))
    }

    /// The keys of `org`, newest first, revoked ones included, at most `limit`.
    pub async fn api_keys(&self, org: OrgId, limit: u32) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT prefix, label, created_by, created_at, last_used_at, revoked_at \
             FROM api_keys WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(org.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Revokes every key of an organisation whose token starts with `prefix`.
    pub async fn revoke_api_key(&self, org: OrgId, prefix: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE org_id = $2 AND prefix = $3 AND revoked_at IS NULL",
        )
        .bind(now_text())
        .bind(org.0)
        .bind(prefix)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

pub(crate) async fn create_api_key(
    conn: &mut sqlx::AnyConnection,
    principal: Principal,
) -> Result<String> {
    let token = new_token()?;
    let (role, org) = match principal {
        Principal::Operator => ("operator", None),
        Principal::Organisation(org) => ("organisation", Some(org.0)),
    };
    sqlx::query(
        "INSERT INTO api_keys (org_id, role, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org)
    .bind(role)
    .bind(display_prefix(&token))
    .bind(token_hash(&token))
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// 32 secret bytes that live in the data directory and nowhere else.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub const FILE: &'static str = "master.key";

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) fn load_or_create(data_dir: &Path) -> Result<MasterKey> {
        let path = data_dir.join(Self::FILE);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok());
                bytes.map(MasterKey).ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "{}: not 64 hex digits; restore the file from a backup (webhook secrets derive from it)",
                        path.display()
                    ))
                })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = random_bytes::<32>()?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path).map_err(io)?;
                file.write_all(hex::encode(key).as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(MasterKey(key))
            }
            Err(error) => Err(io(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn last_use_is_written_once_a_minute_at_most_and_a_revoked_key_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_for_tests(dir.path()).await.expect("store");
        let (org, _) = store
            .create_organisation(&crate::NewOrganisation {
                name: "Echo Clinic".into(),
                sector: model::Sector::Clinic,
                country: "FR".into(),
                domains: vec!["echo.example".into()],
                webhook_url: None,
                language: crate::Language::En,
            })
            .await
            .expect("org");
        let (key, token) = store
            .create_org_key(org.id, "syslog", "user:ana@echo.example")
            .await
            .expect("key");
        assert_eq!(key.last_used_at, None);
        let found = store.authenticate_key(&token).await.expect("auth");
        assert_eq!(
            found.map(|k| (k.principal, k.prefix)),
            Some((Principal::Organisation(org.id), key.prefix.clone()))
        );
        let first = store.api_keys(org.id, 10).await.expect("keys")[0]
            .last_used_at
            .clone();
        assert!(first.is_some());
        store.authenticate_key(&token).await.expect("auth again");
        let second = store.api_keys(org.id, 10).await.expect("keys")[0]
            .last_used_at
            .clone();
        assert_eq!(first, second, "a second use within a minute writes nothing");

        assert_eq!(
            store
                .revoke_api_key(org.id, &key.prefix)
                .await
                .expect("revoke"),
            1
        );
        assert_eq!(store.authenticate_key(&token).await.expect("auth"), None);
        let listed = store.api_keys(org.id, 10).await.expect("keys");
        assert!(listed[0].revoked_at.is_some());
    }
}
