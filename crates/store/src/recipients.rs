//! Who at an organisation receives its notifications by e-mail, in which language, and
//! the generation of its webhook signing secret.
//!
//! The secret itself is never stored (it is derived from the master key, the
//! organisation and the generation); only the generation and when it last changed are,
//! so that a rotation can keep the previous secret valid for a while.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Intake, Language, Result, Store, StoreError, corrupt, now_text};
use model::OrgId;

/// The most recipients one organisation may have: e-mail notifications are for the
/// people who act on them, not a mailing list.
pub const MAX_RECIPIENTS: usize = 50;

/// One person who receives an organisation's notifications by e-mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub address: String,
    pub language: Language,
}

/// Where an organisation's webhook signing secret stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretGeneration {
    /// 0 until the first rotation.
    pub generation: u32,
    /// When the current generation replaced the previous one.
    pub rotated_at: Option<Timestamp>,
}

/// Checks and normalises a recipient list: plausible addresses (one `@`, no spaces or
/// angle brackets, which would let an address smuggle header syntax), lower-cased
/// domain, no duplicates, at most [`MAX_RECIPIENTS`].
pub fn normalise(recipients: &[Recipient]) -> Result<Vec<Recipient>> {
    if recipients.len() > MAX_RECIPIENTS {
        return Err(StoreError::Invalid(format!(
            "{} recipients given; an organisation may have at most {MAX_RECIPIENTS}",
            recipients.len()
        )));
    }
    let mut out: Vec<Recipient> = Vec::with_capacity(recipients.len());
    for r in recipients {
        let address = r.address.trim();
        let plausible = address.len() <= 254
            && address.split('@').count() == 2
            && address.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
            })
            && !address
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\".contains(c));
        if !plausible {
            return Err(StoreError::Invalid(format!(
                "{address:?} is not an e-mail address"
            )));
        }
        let (local, domain) = address.split_once('@').unwrap_or((address, ""));
        let address = format!("{local}@{}", domain.to_ascii_lowercase());
        if out.iter().any(|o| o.address.eq_ignore_ascii_case(&address)) {
            return Err(StoreError::Invalid(format!("{address:?} is listed twice")));
        }
        out.push(Recipient {
            address,
            language: r.language,
        });
    }
    Ok(out)
}

fn recipient(row: &sqlx::any::AnyRow) -> Result<Recipient> {
    let language: String = row.try_get("language")?;
    Ok(Recipient {
        address: row.try_get("address")?,
        language: language.parse().map_err(corrupt)?,
    })
}

const SELECT_RECIPIENTS: &str =
    "SELECT address, language FROM notification_recipients WHERE org_id = $1 ORDER BY id";

impl Store {
    /// The organisation's e-mail recipients, in the order they were given.
    pub async fn recipients(&self, org: OrgId) -> Result<Vec<Recipient>> {
        let rows = sqlx::query(SELECT_RECIPIENTS)
            .bind(org.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recipient).collect()
    }

    /// Replaces the organisation's recipients with `recipients` (checked by
    /// [`normalise`]); returns the list as stored.
    pub async fn set_recipients(
        &self,
        org: OrgId,
        recipients: &[Recipient],
    ) -> Result<Vec<Recipient>> {
        let recipients = normalise(recipients)?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM notification_recipients WHERE org_id = $1")
            .bind(org.0)
            .execute(&mut *tx)
            .await?;
        let now = now_text();
        for r in &recipients {
            sqlx::query(
                "INSERT INTO notification_recipients (org_id, address, language, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(org.0)
            .bind(&r.address)
            .bind(r.language.as_str())
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(recipients)
    }

    /// Where the organisation's webhook signing secret stands; `None` for no such
    /// organisation.
    pub async fn secret_generation(&self, org: OrgId) -> Result<Option<SecretGeneration>> {
        let row = sqlx::query(
            "SELECT webhook_secret_generation, webhook_rotated_at FROM organisations WHERE id = $1",
        )
        .bind(org.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| generation(&row)).transpose()
    }

    /// Moves the organisation to the next signing secret generation, now.
    pub async fn rotate_webhook_secret(&self, org: OrgId) -> Result<Option<SecretGeneration>> {
        let row = sqlx::query(
            "UPDATE organisations SET webhook_secret_generation = webhook_secret_generation + 1, \
             webhook_rotated_at = $1 WHERE id = $2 \
             RETURNING webhook_secret_generation, webhook_rotated_at",
        )
        .bind(now_text())
        .bind(org.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| generation(&row)).transpose()
    }
}

fn generation(row: &sqlx::any::AnyRow) -> Result<SecretGeneration> {
    let generation: i64 = row.try_get("webhook_secret_generation")?;
    let rotated_at: Option<String> = row.try_get("webhook_rotated_at")?;
    Ok(SecretGeneration {
        generation: u32::try_from(generation).map_err(corrupt)?,
        rotated_at: rotated_at
            .map(|at| at.parse::<Timestamp>().map_err(corrupt))
            .transpose()?,
    })
}

impl Intake {
    /// The organisation's e-mail recipients, read inside the intake transaction so that
    /// the notification queued goes to the list as it is when the change commits.
    pub async fn recipients(&mut self, org: OrgId) -> Result<Vec<Recipient>> {
        let rows = sqlx::query(SELECT_RECIPIENTS)
            .bind(org.0)
            .fetch_all(self.connection())
            .await?;
        rows.iter().map(recipient).collect()
    }
}
