//! API keys and the data directory's master key.
//!
//! An API key is `tsn_` followed by 64 hex digits of randomness. Only its SHA-256 is
//! stored, so a copy of the database lets nobody in. The master key is 32 random bytes
//! in `master.key` beside the database; secrets that must be reproduced (webhook signing
//! secrets) are derived from it instead of being stored.

use std::fmt;
use std::io::Write;
use std::path::Path;

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

const KEY_PREFIX: &str = "tsn_";

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| {
        StoreError::Invalid(format!("the system random source failed: {error}"))
    })?;
    Ok(bytes)
}

fn new_token() -> Result<String> {
    Ok(format!(
        "{KEY_PREFIX}{}",
        hex::encode(random_bytes::<32>()?)
    ))
}

fn token_hash(token: &str) -> Vec<u8> {
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
        if !token.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(
            "UPDATE api_keys SET last_used_at = ? WHERE hash = ? AND revoked_at IS NULL \
             RETURNING role, org_id",
        )
        .bind(now_text())
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        let org: Option<i64> = row.try_get("org_id")?;
        match (role.as_str(), org) {
            ("operator", None) => Ok(Some(Principal::Operator)),
            ("organisation", Some(org)) => Ok(Some(Principal::Organisation(OrgId(org)))),
            _ => Err(crate::corrupt(format!(
                "api key with role {role:?} and org {org:?}"
            ))),
        }
    }

    /// Revokes every key of an organisation whose token starts with `prefix`.
    pub async fn revoke_api_key(&self, org: OrgId, prefix: &str) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND prefix = ? AND revoked_at IS NULL",
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
    conn: &mut sqlx::SqliteConnection,
    principal: Principal,
) -> Result<String> {
    let token = new_token()?;
    let (role, org) = match principal {
        Principal::Operator => ("operator", None),
        Principal::Organisation(org) => ("organisation", Some(org.0)),
    };
    sqlx::query(
        "INSERT INTO api_keys (org_id, role, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?)",
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
