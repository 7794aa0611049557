//! Enrolled organisations and their mail domains.
//!
//! `Organisation::domains` holds only the verified domains: those are the organisation's
//! (mail intake and lookalike protection use them). Claimed, unverified domains are read
//! through `Store::org_domains` in `enrolment.rs`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::keys::{Principal, create_api_key};
use crate::{Result, Store, StoreError, corrupt};
use model::{OrgId, Sector};

/// What an operator gives to enrol an organisation.
#[derive(Clone, Debug)]
pub struct NewOrganisation {
    pub name: String,
    pub sector: Sector,
    /// ISO 3166-1 alpha-2 code.
    pub country: String,
    pub domains: Vec<String>,
    pub webhook_url: Option<String>,
    /// The language notifications are written in.
    pub language: Language,
}

/// A language an organisation is written to. Notifications exist in these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Fr];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Language {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Language> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Language::En),
            "fr" => Ok(Language::Fr),
            _ => Err(StoreError::Invalid(format!(
                "language {text:?} is not offered; choose \"en\" or \"fr\""
            ))),
        }
    }
}

/// An enrolled organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub sector: Sector,
    pub country: String,
    /// Verified domains only: the ones that are the organisation's.
    pub domains: Vec<String>,
    pub webhook_url: Option<String>,
    pub language: Language,
    pub created_at: Timestamp,
}

impl Store {
    /// Enrols an organisation and creates its first API key, returned once. The domains
    /// an operator gives are verified by that act (method `operator`).
    pub async fn create_organisation(
        &self,
        new: &NewOrganisation,
    ) -> Result<(Organisation, String)> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("organisation name is empty".into()));
        }
        let country = normalise_country(&new.country)?;
        let domains = normalise_domains(&new.domains)?;
        let created_at = Timestamp::now();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO organisations (name, sector, country, webhook_url, language, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name)
        .bind(new.sector.as_str())
        .bind(&country)
        .bind(&new.webhook_url)
        .bind(new.language.as_str())
        .bind(created_at.to_string())
        .fetch_one(&mut *tx)
        .await?;
        for domain in &domains {
            sqlx::query(
                "INSERT INTO org_domains (org_id, domain, claimed_at, verified_at, method) \
                 VALUES ($1, $2, $3, $4, 'operator')",
            )
            .bind(id)
            .bind(domain)
            .bind(created_at.to_string())
            .bind(created_at.to_string())
            .execute(&mut *tx)
            .await?;
        }
        let key = create_api_key(&mut tx, Principal::Organisation(OrgId(id))).await?;
        crate::audit::append(
            &mut tx,
            "operator",
            Some(OrgId(id)),
            "organisation.created",
            &serde_json::json!({ "name": name, "domains": domains }),
        )
        .await?;
        tx.commit().await?;
        let org = Organisation {
            id: OrgId(id),
            name: name.to_owned(),
            sector: new.sector,
            country,
            domains,
            webhook_url: new.webhook_url.clone(),
            language: new.language,
            created_at,
        };
        Ok((org, key))
    }

    pub async fn organisation(&self, org: OrgId) -> Result<Option<Organisation>> {
        let row = sqlx::query(
            "SELECT id, name, sector, country, webhook_url, language, created_at FROM organisations WHERE id = $1",
        )
        .bind(org.0)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(self.with_domains(row).await?)),
            None => Ok(None),
        }
    }

    /// Every organisation; for operators only.
    pub async fn organisations(&self) -> Result<Vec<Organisation>> {
        let rows = sqlx::query(
            "SELECT id, name, sector, country, webhook_url, language, created_at FROM organisations ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut orgs = Vec::with_capacity(rows.len());
        for row in rows {
            orgs.push(self.with_domains(row).await?);
        }
        Ok(orgs)
    }

    /// Sets (or clears) where an organisation's notifications are posted.
    pub async fn set_webhook(&self, org: OrgId, url: Option<&str>) -> Result<bool> {
        let done = sqlx::query("UPDATE organisations SET webhook_url = $1 WHERE id = $2")
            .bind(url)
            .bind(org.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn with_domains(&self, row: sqlx::any::AnyRow) -> Result<Organisation> {
        let mut conn = self.pool.acquire().await?;
        organisation_from(&mut conn, row).await
    }
}

impl crate::Intake {
    /// The organisation, read inside the write transaction: a writer that asked the pool
    /// for a second connection could wait for one held by another writer waiting for it.
    pub async fn organisation(&mut self, org: OrgId) -> Result<Option<Organisation>> {
        let conn = self.connection();
        let row = sqlx::query(
            "SELECT id, name, sector, country, webhook_url, language, created_at FROM organisations WHERE id = $1",
        )
        .bind(org.0)
        .fetch_optional(&mut *conn)
        .await?;
        match row {
            Some(row) => Ok(Some(organisation_from(conn, row).await?)),
            None => Ok(None),
        }
    }
}

async fn organisation_from(
    conn: &mut sqlx::AnyConnection,
    row: sqlx::any::AnyRow,
) -> Result<Organisation> {
    {
        let id: i64 = row.try_get("id")?;
        let sector: String = row.try_get("sector")?;
        let created_at: String = row.try_get("created_at")?;
        let domains: Vec<String> = sqlx::query_scalar(
            "SELECT domain FROM org_domains WHERE org_id = $1 AND verified_at IS NOT NULL \
                 ORDER BY domain",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let language: String = row.try_get("language")?;
        Ok(Organisation {
            id: OrgId(id),
            name: row.try_get("name")?,
            sector: sector.parse().map_err(corrupt)?,
            country: row.try_get("country")?,
            domains,
            webhook_url: row.try_get("webhook_url")?,
            language: language.parse().map_err(corrupt)?,
            created_at: created_at.parse().map_err(corrupt)?,
        })
    }
}

/// An ISO 3166-1 alpha-2 code, upper-cased.
pub(crate) fn normalise_country(country: &str) -> Result<String> {
    let upper = country.trim().to_ascii_uppercase();
    if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(StoreError::Invalid(format!(
            "country {country:?} is not an ISO 3166-1 alpha-2 code such as \"IE\""
        )));
    }
    Ok(upper)
}

/// Lower-cased, without a trailing dot; sorted and de-duplicated.
pub(crate) fn normalise_domains(domains: &[String]) -> Result<Vec<String>> {
    let mut domains: Vec<String> = domains.iter().map(|d| normalise_domain(d)).collect();
    domains.sort();
    domains.dedup();
    if let Some(bad) = domains.iter().find(|d| !is_plausible_domain(d)) {
        return Err(StoreError::Invalid(format!(
            "domain {bad:?} is not a domain name"
        )));
    }
    Ok(domains)
}

pub(crate) fn normalise_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

pub(crate) fn is_plausible_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
