//! Enrolled organisations and their mail domains.

use jiff::Timestamp;
use serde::Serialize;
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
}

/// An enrolled organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub sector: Sector,
    pub country: String,
    pub domains: Vec<String>,
    pub webhook_url: Option<String>,
    pub created_at: Timestamp,
}

impl Store {
    /// Enrols an organisation and creates its first API key, returned once.
    pub async fn create_organisation(
        &self,
        new: &NewOrganisation,
    ) -> Result<(Organisation, String)> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("organisation name is empty".into()));
        }
        let country = new.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(StoreError::Invalid(format!(
                "country {:?} is not an ISO 3166-1 alpha-2 code such as \"IE\"",
                new.country
            )));
        }
        let mut domains: Vec<String> = new
            .domains
            .iter()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        domains.sort();
        domains.dedup();
        if let Some(bad) = domains.iter().find(|d| !is_plausible_domain(d)) {
            return Err(StoreError::Invalid(format!("{bad:?} is not a domain name")));
        }
        let created_at = Timestamp::now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO organisations (name, sector, country, webhook_url, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(name)
        .bind(new.sector.as_str())
        .bind(&country)
        .bind(&new.webhook_url)
        .bind(created_at.to_string())
        .fetch_one(&mut *tx)
        .await?;
        for domain in &domains {
            sqlx::query("INSERT INTO org_domains (org_id, domain) VALUES (?, ?)")
                .bind(id)
                .bind(domain)
                .execute(&mut *tx)
                .await?;
        }
        let key = create_api_key(&mut tx, Principal::Organisation(OrgId(id))).await?;
        tx.commit().await?;
        let org = Organisation {
            id: OrgId(id),
            name: name.to_owned(),
            sector: new.sector,
            country,
            domains,
            webhook_url: new.webhook_url.clone(),
            created_at,
        };
        Ok((org, key))
    }

    pub async fn organisation(&self, org: OrgId) -> Result<Option<Organisation>> {
        let row = sqlx::query(
            "SELECT id, name, sector, country, webhook_url, created_at FROM organisations WHERE id = ?",
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
            "SELECT id, name, sector, country, webhook_url, created_at FROM organisations ORDER BY id",
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
        let done = sqlx::query("UPDATE organisations SET webhook_url = ? WHERE id = ?")
            .bind(url)
            .bind(org.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn with_domains(&self, row: sqlx::sqlite::SqliteRow) -> Result<Organisation> {
        let id: i64 = row.try_get("id")?;
        let sector: String = row.try_get("sector")?;
        let created_at: String = row.try_get("created_at")?;
        let domains: Vec<String> =
            sqlx::query_scalar("SELECT domain FROM org_domains WHERE org_id = ? ORDER BY domain")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Organisation {
            id: OrgId(id),
            name: row.try_get("name")?,
            sector: sector.parse().map_err(corrupt)?,
            country: row.try_get("country")?,
            domains,
            webhook_url: row.try_get("webhook_url")?,
            created_at: created_at.parse().map_err(corrupt)?,
        })
    }
}

fn is_plausible_domain(domain: &str) -> bool {
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
