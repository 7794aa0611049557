//! Personal mail addresses watched for an organisation, by double opt-in.
//!
//! An organisation's admin invites an address; a random token (only its SHA-256 kept) is
//! mailed to it; its owner confirms, and is given an opt-out token of the same kind.
//! Opting out forgets the address and every event of it at that organisation: the
//! sign-ins of that account and the records of mail sent to it.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::Row;

use crate::keys::token_hash;
use crate::users::normalise_email;
use crate::{Result, Store, StoreError, corrupt, now_text};
use model::OrgId;

/// Confirmed personal addresses listed per organisation.
const MAX_LISTED: u32 = 10_000;
/// How soon the same address may be invited again: each invitation sends a message, and
/// an invitation must not become a way to flood someone's mailbox.
const REINVITE_AFTER: SignedDuration = SignedDuration::from_mins(10);

/// An invitation waiting for its owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingPersonal {
    pub org: OrgId,
    pub email: String,
    pub requested_by: String,
    pub expires_at: Timestamp,
}

/// A confirmed personal address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonalAccount {
    pub email: String,
    pub confirmed_at: String,
}

/// What a confirmation token led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// Watched from now on; `opt_out_token` is shown once, to the owner.
    Confirmed {
        org: OrgId,
        email: String,
        opt_out_token: String,
    },
    /// The token was real but too old; the admin must invite again.
    Expired,
    /// No such token (never issued, or used already).
    Unknown,
}

/// What opting out removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OptedOut {
    pub org: OrgId,
    pub email: String,
    pub signins_deleted: u64,
    pub mails_deleted: u64,
}

impl Store {
    /// Records an invitation of `email` for `org`, valid for `ttl`, and returns the token
    /// to mail to it. An earlier invitation of the same address is replaced; at most
    /// `max_pending` invitations of one organisation wait at once.
    pub async fn invite_personal(
        &self,
        org: OrgId,
        email: &str,
        requested_by: &str,
        ttl: SignedDuration,
        max_pending: u32,
    ) -> Result<String> {
        let email = normalise_email(email)?;
        let now = Timestamp::now();
        let expires_at = now
            .checked_add(ttl)
            .map_err(|error| StoreError::Invalid(format!("confirmation lifetime: {error}")))?;
        let token = crate::keys::random_hex_token()?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM personal_pending WHERE expires_at_us <= $1")
            .bind(now.as_microsecond())
            .execute(&mut *tx)
            .await?;
        let confirmed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM personal_accounts WHERE org_id = $1 AND email = $2",
        )
        .bind(org.0)
        .bind(&email)
        .fetch_one(&mut *tx)
        .await?;
        if confirmed > 0 {
            return Err(StoreError::Invalid(format!(
                "{email} is confirmed already for this organisation"
            )));
        }
        let last_invited: Option<String> = sqlx::query_scalar(
            "SELECT max(created_at) FROM personal_pending WHERE org_id = $1 AND email = $2",
        )
        .bind(org.0)
        .bind(&email)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(last) = last_invited.and_then(|t| t.parse::<Timestamp>().ok())
            && now.duration_since(last) < REINVITE_AFTER
        {
            return Err(StoreError::Invalid(format!(
                "{email} was invited less than {} minutes ago; the message may take a while",
                REINVITE_AFTER.as_mins()
            )));
        }
        sqlx::query("DELETE FROM personal_pending WHERE org_id = $1 AND email = $2")
            .bind(org.0)
            .bind(&email)
            .execute(&mut *tx)
            .await?;
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM personal_pending WHERE org_id = $1")
                .bind(org.0)
                .fetch_one(&mut *tx)
                .await?;
        if pending >= i64::from(max_pending) {
            return Err(StoreError::Invalid(format!(
                "{pending} invitations are waiting for confirmation, the most allowed; \
                 wait for them to be confirmed or to expire"
            )));
        }
        sqlx::query(
            "INSERT INTO personal_pending (token_hash, org_id, email, requested_by, created_at, \
             expires_at_us) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash(&token))
        .bind(org.0)
        .bind(&email)
        .bind(requested_by)
        .bind(now.to_string())
        .bind(expires_at.as_microsecond())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The invitation a confirmation token stands for, expired or not, without using it.
    pub async fn personal_invitation(&self, token: &str) -> Result<Option<PendingPersonal>> {
        let row = sqlx::query(
            "SELECT org_id, email, requested_by, expires_at_us FROM personal_pending \
             WHERE token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(pending_from_row).transpose()
    }

    /// Uses a confirmation token: the address becomes watched for the organisation.
    pub async fn confirm_personal(&self, token: &str) -> Result<Confirmation> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM personal_pending WHERE token_hash = $1 \
             RETURNING org_id, email, requested_by, expires_at_us",
        )
        .bind(token_hash(token))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Confirmation::Unknown);
        };
        let pending = pending_from_row(&row)?;
        if pending.expires_at <= Timestamp::now() {
            tx.commit().await?;
            return Ok(Confirmation::Expired);
        }
        let opt_out_token = crate::keys::random_hex_token()?;
        sqlx::query(
            "INSERT INTO personal_accounts (org_id, email, confirmed_at, opt_out_hash) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, email) DO UPDATE SET \
             confirmed_at = excluded.confirmed_at, opt_out_hash = excluded.opt_out_hash",
        )
        .bind(pending.org.0)
        .bind(&pending.email)
        .bind(now_text())
        .bind(token_hash(&opt_out_token))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Confirmation::Confirmed {
            org: pending.org,
            email: pending.email,
            opt_out_token,
        })
    }

    /// The organisation and address an opt-out token stands for.
    pub async fn personal_opt_out_target(&self, token: &str) -> Result<Option<(OrgId, String)>> {
        let row =
            sqlx::query("SELECT org_id, email FROM personal_accounts WHERE opt_out_hash = $1")
                .bind(token_hash(token))
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| Ok((OrgId(row.try_get("org_id")?), row.try_get("email")?)))
            .transpose()
    }

    /// Forgets the address of an opt-out token and its events at that organisation:
    /// sign-ins of that account, and mail records sent to it (a record also sent to
    /// others of the organisation keeps them and loses only this recipient). `None`
    /// when the token is unknown.
    pub async fn opt_out_personal(&self, token: &str) -> Result<Option<OptedOut>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM personal_accounts WHERE opt_out_hash = $1 RETURNING org_id, email",
        )
        .bind(token_hash(token))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let org = OrgId(row.try_get("org_id")?);
        let email: String = row.try_get("email")?;
        let signins_deleted =
            sqlx::query("DELETE FROM signins WHERE org_id = $1 AND lower(account) = $2")
                .bind(org.0)
                .bind(&email)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        // Recipients are a JSON array; the LIKE only narrows the rows to read.
        let escaped = email
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let rows = sqlx::query(
            "SELECT id, recipients FROM mails WHERE org_id = $1 AND recipients LIKE $2 ESCAPE '\\'",
        )
        .bind(org.0)
        .bind(&pattern)
        .fetch_all(&mut *tx)
        .await?;
        let mut mails_deleted = 0;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let text: String = row.try_get("recipients")?;
            let recipients: Vec<String> = serde_json::from_str(&text)
                .map_err(|error| corrupt(format!("mail {id} recipients: {error}")))?;
            let kept: Vec<&String> = recipients
                .iter()
                .filter(|r| !r.eq_ignore_ascii_case(&email))
                .collect();
            if kept.len() == recipients.len() {
                continue;
            }
            if kept.is_empty() {
                sqlx::query("DELETE FROM mails WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                mails_deleted += 1;
            } else {
                let kept = serde_json::to_string(&kept)
                    .map_err(|error| corrupt(format!("mail {id} recipients: {error}")))?;
                sqlx::query("UPDATE mails SET recipients = $1 WHERE id = $2")
                    .bind(kept)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // Incidents stay (they are the organisation's record of an attack) but stop
        // naming the address among their accounts.
        let rows = sqlx::query(
            "SELECT id, accounts, compromised FROM incidents WHERE org_id = $1 \
             AND (accounts LIKE $2 ESCAPE '\\' OR compromised LIKE $3 ESCAPE '\\')",
        )
        .bind(org.0)
        .bind(&pattern)
        .bind(&pattern)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            let mut lists = Vec::new();
            for column in ["accounts", "compromised"] {
                let text: String = row.try_get(column)?;
                let list: Vec<String> = serde_json::from_str(&text)
                    .map_err(|error| corrupt(format!("incident {id} {column}: {error}")))?;
                let kept: Vec<String> = list
                    .into_iter()
                    .filter(|a| !a.eq_ignore_ascii_case(&email))
                    .collect();
                lists.push(
                    serde_json::to_string(&kept)
                        .map_err(|error| corrupt(format!("incident {id}: {error}")))?,
                );
            }
            sqlx::query("UPDATE incidents SET accounts = $1, compromised = $2 WHERE id = $3")
                .bind(&lists[0])
                .bind(&lists[1])
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(OptedOut {
            org,
            email,
            signins_deleted,
            mails_deleted,
        }))
    }

    /// Confirmed personal addresses of `org`, in address order.
    pub async fn personal_accounts(&self, org: OrgId) -> Result<Vec<PersonalAccount>> {
        let rows = sqlx::query(
            "SELECT email, confirmed_at FROM personal_accounts WHERE org_id = $1 \
             ORDER BY email LIMIT $2",
        )
        .bind(org.0)
        .bind(i64::from(MAX_LISTED))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PersonalAccount {
                    email: row.try_get("email")?,
                    confirmed_at: row.try_get("confirmed_at")?,
                })
            })
            .collect()
    }

    /// Invitations of `org` still waiting (not expired), in address order.
    pub async fn pending_personal(&self, org: OrgId) -> Result<Vec<PendingPersonal>> {
        let rows = sqlx::query(
            "SELECT org_id, email, requested_by, expires_at_us FROM personal_pending \
             WHERE org_id = $1 AND expires_at_us > $2 ORDER BY email LIMIT $3",
        )
        .bind(org.0)
        .bind(Timestamp::now().as_microsecond())
        .bind(i64::from(MAX_LISTED))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pending_from_row).collect()
    }

    /// Which of `addresses` are confirmed personal addresses of `org`, lower-cased. Only
    /// the addresses asked about are looked up, so a message costs one small query
    /// however many addresses the organisation has opted in (and none when `addresses` is
    /// empty).
    pub async fn confirmed_personal(
        &self,
        org: OrgId,
        addresses: &[String],
    ) -> Result<HashSet<String>> {
        let mut wanted: Vec<String> = addresses.iter().map(|a| a.trim().to_lowercase()).collect();
        wanted.sort();
        wanted.dedup();
        let mut found = HashSet::new();
        // SQLite's bound-parameter limit is far above this; chunks keep each query small.
        for chunk in wanted.chunks(256) {
            let placeholders = crate::placeholders(2, chunk.len());
            let sql = format!(
                "SELECT email FROM personal_accounts WHERE org_id = $1 AND email IN ({placeholders})"
            );
            let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).bind(org.0);
            for address in chunk {
                query = query.bind(address);
            }
            found.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(found)
    }
}

fn pending_from_row(row: &sqlx::any::AnyRow) -> Result<PendingPersonal> {
    let expires_us: i64 = row.try_get("expires_at_us")?;
    Ok(PendingPersonal {
        org: OrgId(row.try_get("org_id")?),
        email: row.try_get("email")?,
        requested_by: row.try_get("requested_by")?,
        expires_at: Timestamp::from_microsecond(expires_us)
            .map_err(|error| corrupt(format!("invitation expiry: {error}")))?,
    })
}
