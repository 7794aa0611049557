//! Enrolment with review: applications, the operator's decision, and the domains an
//! organisation claims and proves.
//!
//! This module checks the shape of what an applicant sends (lengths, addresses, domain
//! syntax) and the bounds that keep an open endpoint from filling the disk; which
//! countries and sectors are served is the server's configuration, not stored policy.
//! Every change is written with its audit entry in one transaction.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit;
use crate::keys::{Principal, create_api_key};
use crate::orgs::{
    Language, is_plausible_domain, normalise_country, normalise_domain, normalise_domains,
};
use crate::{Store, StoreError, corrupt};
use model::{OrgId, Sector};

/// The longest organisation or contact name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Domains one application may list.
pub const MAX_APPLICATION_DOMAINS: usize = 20;
/// Contacts one application may list.
pub const MAX_CONTACTS: usize = 10;
/// Domains one organisation may claim, verified or not.
pub const MAX_ORG_DOMAINS: i64 = 100;
/// The most applications one read returns.
pub const MAX_APPLICATION_PAGE: u32 = 1000;

/// What can go wrong in enrolment; each variant is something the caller can explain.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The application is malformed: the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{limit} applications are already waiting for review; try again once the operator has decided some"
    )]
    TooManyPending { limit: u32 },
    #[error("{limit} applications were submitted in the last hour; try again later")]
    TooManySubmissions { limit: u32 },
    #[error("application {0} does not exist")]
    NoSuchApplication(i64),
    #[error("application {id} was already {state}")]
    AlreadyDecided { id: i64, state: ApplicationState },
    #[error("{domain} is verified by another organisation")]
    DomainTaken { domain: String },
    #[error("{domain} is not claimed by this organisation; add it first")]
    NotClaimed { domain: String },
    #[error("this organisation already claims {limit} domains")]
    TooManyDomains { limit: i64 },
}

impl From<sqlx::Error> for EnrolmentError {
    fn from(error: sqlx::Error) -> Self {
        EnrolmentError::Store(StoreError::Database(error))
    }
}

type Result<T, E = EnrolmentError> = std::result::Result<T, E>;

/// Someone the service may write to about the application and the organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: String,
}

/// What an applicant sends.
#[derive(Clone, Debug)]
pub struct NewApplication {
    pub name: String,
    pub sector: Sector,
    pub country: String,
    pub language: Language,
    pub contacts: Vec<Contact>,
    pub domains: Vec<String>,
}

/// The bounds on submissions, from configuration.
#[derive(Clone, Copy, Debug)]
pub struct SubmissionLimits {
    /// Applications waiting for review, in total.
    pub max_pending: u32,
    /// Submissions accepted in any hour, in total.
    pub max_per_hour: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationState {
    Pending,
    Approved,
    Rejected,
}

impl ApplicationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::Pending => "pending",
            ApplicationState::Approved => "approved",
            ApplicationState::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for ApplicationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ApplicationState {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "pending" => Ok(ApplicationState::Pending),
            "approved" => Ok(ApplicationState::Approved),
            "rejected" => Ok(ApplicationState::Rejected),
            _ => Err(format!(
                "state {text:?} is not one of pending, approved, rejected"
            )),
        }
    }
}

/// An application as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Application {
    pub id: i64,
    pub name: String,
    pub sector: Sector,
    pub country: String,
    pub language: Language,
    pub contacts: Vec<Contact>,
    pub domains: Vec<String>,
    pub state: ApplicationState,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub submitted_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    /// The organisation an approval created.
    pub org_id: Option<OrgId>,
}

/// How a domain was proved to be the organisation's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationMethod {
    /// An operator enrolled the organisation with it.
    Operator,
    /// A TXT record at `_tocsin.<domain>` held the organisation's token.
    Dns,
}

impl VerificationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationMethod::Operator => "operator",
            VerificationMethod::Dns => "dns",
        }
    }
}

/// A domain an organisation claims, and whether it is proved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrgDomain {
    pub domain: String,
    pub claimed_at: Option<Timestamp>,
    pub verified_at: Option<Timestamp>,
    pub method: Option<VerificationMethod>,
}

/// A verified domain of some organisation (for the periodic re-check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedDomain {
    pub org: OrgId,
    pub domain: String,
    pub method: VerificationMethod,
}

fn invalid(message: impl Into<String>) -> EnrolmentError {
    EnrolmentError::Invalid(message.into())
}

fn check_name(field: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(format!("{field} is empty")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "{field} is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(format!("{field} contains control characters")));
    }
    Ok(name.to_owned())
}

/// A plausible address: one `@`, a local part without spaces or controls, a domain name.
/// Deliverability is the confirmation mail's business, not syntax's.
pub fn is_plausible_email(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    address.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '<' | '>' | '"'))
        && is_plausible_domain(&domain.to_ascii_lowercase())
}

fn check_application(new: &NewApplication) -> Result<(String, String, Vec<Contact>, Vec<String>)> {
    let name = check_name("name", &new.name)?;
    let country = normalise_country(&new.country).map_err(|e| invalid(e.to_string()))?;
    if new.contacts.is_empty() {
        return Err(invalid(
            "contacts is empty: give at least one name and email",
        ));
    }
    if new.contacts.len() > MAX_CONTACTS {
        return Err(invalid(format!(
            "contacts lists {}, more than {MAX_CONTACTS}",
            new.contacts.len()
        )));
    }
    let mut contacts = Vec::with_capacity(new.contacts.len());
    for contact in &new.contacts {
        let name = check_name("contact name", &contact.name)?;
        let email = contact.email.trim().to_owned();
        if !is_plausible_email(&email) {
            return Err(invalid(format!(
                "contact email {email:?} is not a mail address"
            )));
        }
        contacts.push(Contact { name, email });
    }
    if new.domains.is_empty() {
        return Err(invalid(
            "domains is empty: give the organisation's mail domains",
        ));
    }
    if new.domains.len() > MAX_APPLICATION_DOMAINS {
        return Err(invalid(format!(
            "domains lists {}, more than {MAX_APPLICATION_DOMAINS}",
            new.domains.len()
        )));
    }
    let domains = normalise_domains(&new.domains).map_err(|e| invalid(e.to_string()))?;
    Ok((name, country, contacts, domains))
}

impl Store {
    /// Stores an application for review, within the configured bounds. `actor` is who
    /// submitted it (an applicant is `public`).
    pub async fn submit_application(
        &self,
        new: &NewApplication,
        limits: SubmissionLimits,
        actor: &str,
    ) -> Result<Application> {
        let (name, country, contacts, domains) = check_application(new)?;
        let submitted_at = Timestamp::now();
        let submitted_us = submitted_at.as_microsecond();
        // IMMEDIATE takes the write lock first, so two submissions cannot both see room
        // for one more.
        let mut tx = self.begin_write().await?;
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM applications WHERE state = 'pending'")
                .fetch_one(&mut *tx)
                .await?;
        if pending >= i64::from(limits.max_pending) {
            return Err(EnrolmentError::TooManyPending {
                limit: limits.max_pending,
            });
        }
        let recent: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM applications WHERE submitted_us > $1")
                .bind(submitted_us - 3_600_000_000)
                .fetch_one(&mut *tx)
                .await?;
        if recent >= i64::from(limits.max_per_hour) {
            return Err(EnrolmentError::TooManySubmissions {
                limit: limits.max_per_hour,
            });
        }
        let contacts_json = serde_json::to_string(&contacts)
            .map_err(|e| StoreError::Invalid(format!("contacts: {e}")))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO applications (name, sector, country, language, contacts, state, \
             submitted_at, submitted_us) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id",
        )
        .bind(&name)
        .bind(new.sector.as_str())
        .bind(&country)
        .bind(new.language.as_str())
        .bind(&contacts_json)
        .bind(submitted_at.to_string())
        .bind(submitted_us)
        .fetch_one(&mut *tx)
        .await?;
        for domain in &domains {
            sqlx::query("INSERT INTO application_domains (application_id, domain) VALUES ($1, $2)")
                .bind(id)
                .bind(domain)
                .execute(&mut *tx)
                .await?;
        }
        audit::append(
            &mut tx,
            actor,
            None,
            "application.submitted",
            &serde_json::json!({
                "application": id,
                "name": name,
                "sector": new.sector.as_str(),
                "country": country,
                "domains": domains,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(Application {
            id,
            name,
            sector: new.sector,
            country,
            language: new.language,
            contacts,
            domains,
            state: ApplicationState::Pending,
            reason: None,
            submitted_at,
            decided_at: None,
            decided_by: None,
            org_id: None,
        })
    }

    /// Applications, oldest first, optionally only those in `state`; for operators.
    pub async fn applications(
        &self,
        state: Option<ApplicationState>,
        limit: u32,
    ) -> Result<Vec<Application>> {
        let rows = sqlx::query(
            "SELECT * FROM applications WHERE (CAST($1 AS TEXT) IS NULL OR state = $1) ORDER BY id LIMIT $2",
        )
        .bind(state.map(ApplicationState::as_str))
        .bind(i64::from(limit.clamp(1, MAX_APPLICATION_PAGE)))
        .fetch_all(&self.pool)
        .await?;
        let mut applications = Vec::with_capacity(rows.len());
        let mut conn = self.pool.acquire().await?;
        for row in rows {
            applications.push(application(&mut conn, &row).await?);
        }
        Ok(applications)
    }

    pub async fn application(&self, id: i64) -> Result<Option<Application>> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query("SELECT * FROM applications WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(row) => Ok(Some(application(&mut conn, &row).await?)),
            None => Ok(None),
        }
    }

    /// Creates the organisation an application describes, with its domains claimed but
    /// not verified, and its first API key (returned once).
    pub async fn approve_application(&self, id: i64, actor: &str) -> Result<(OrgId, String)> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT * FROM applications WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(EnrolmentError::NoSuchApplication(id))?;
        let found = application(&mut tx, &row).await?;
        if found.state != ApplicationState::Pending {
            return Err(EnrolmentError::AlreadyDecided {
                id,
                state: found.state,
            });
        }
        let now = Timestamp::now().to_string();
        let org: i64 = sqlx::query_scalar(
            "INSERT INTO organisations (name, sector, country, language, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&found.name)
        .bind(found.sector.as_str())
        .bind(&found.country)
        .bind(found.language.as_str())
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let org = OrgId(org);
        for domain in &found.domains {
            sqlx::query("INSERT INTO org_domains (org_id, domain, claimed_at) VALUES ($1, $2, $3)")
                .bind(org.0)
                .bind(domain)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
        let key = create_api_key(&mut tx, Principal::Organisation(org)).await?;
        sqlx::query(
            "UPDATE applications SET state = 'approved', decided_at = $1, decided_by = $2, \
             org_id = $3 WHERE id = $4",
        )
        .bind(&now)
        .bind(actor)
        .bind(org.0)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            Some(org),
            "application.approved",
            &serde_json::json!({
                "application": id,
                "name": found.name,
                "domains": found.domains,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok((org, key))
    }

    /// Refuses an application; the reason is required and kept.
    pub async fn reject_application(
        &self,
        id: i64,
        reason: &str,
        actor: &str,
    ) -> Result<Application> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(invalid(
                "reason is empty: say why the application is rejected",
            ));
        }
        if reason.chars().count() > 2000 {
            return Err(invalid("reason is longer than 2000 characters"));
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT * FROM applications WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(EnrolmentError::NoSuchApplication(id))?;
        let mut found = application(&mut tx, &row).await?;
        if found.state != ApplicationState::Pending {
            return Err(EnrolmentError::AlreadyDecided {
                id,
                state: found.state,
            });
        }
        let now = Timestamp::now();
        sqlx::query(
            "UPDATE applications SET state = 'rejected', reason = $1, decided_at = $2, \
             decided_by = $3 WHERE id = $4",
        )
        .bind(reason)
        .bind(now.to_string())
        .bind(actor)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            None,
            "application.rejected",
            &serde_json::json!({ "application": id, "name": found.name, "reason": reason }),
        )
        .await?;
        tx.commit().await?;
        found.state = ApplicationState::Rejected;
        found.reason = Some(reason.to_owned());
        found.decided_at = Some(now);
        found.decided_by = Some(actor.to_owned());
        Ok(found)
    }

    /// Every domain `org` claims, verified or not.
    pub async fn org_domains(&self, org: OrgId) -> Result<Vec<OrgDomain>> {
        let rows = sqlx::query(
            "SELECT domain, claimed_at, verified_at, method FROM org_domains WHERE org_id = $1 \
             ORDER BY domain",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(org_domain).collect()
    }

    /// Adds a domain `org` means to prove. Claiming one that is already claimed changes
    /// nothing; one verified by another organisation is refused.
    pub async fn claim_domain(&self, org: OrgId, domain: &str, actor: &str) -> Result<OrgDomain> {
        let domain = normalise_domain(domain);
        if !is_plausible_domain(&domain) {
            return Err(invalid(format!("domain {domain:?} is not a domain name")));
        }
        let mut tx = self.begin_write().await?;
        taken_elsewhere(&mut tx, org, &domain).await?;
        if let Some(existing) = domain_of(&mut tx, org, &domain).await? {
            return Ok(existing);
        }
        let claimed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM org_domains WHERE org_id = $1")
            .bind(org.0)
            .fetch_one(&mut *tx)
            .await?;
        if claimed >= MAX_ORG_DOMAINS {
            return Err(EnrolmentError::TooManyDomains {
                limit: MAX_ORG_DOMAINS,
            });
        }
        let now = Timestamp::now();
        sqlx::query("INSERT INTO org_domains (org_id, domain, claimed_at) VALUES ($1, $2, $3)")
            .bind(org.0)
            .bind(&domain)
            .bind(now.to_string())
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            actor,
            Some(org),
            "domain.claimed",
            &serde_json::json!({ "domain": domain }),
        )
        .await?;
        tx.commit().await?;
        Ok(OrgDomain {
            domain,
            claimed_at: Some(now),
            verified_at: None,
            method: None,
        })
    }

    /// Marks a claimed domain as the organisation's, once its proof was checked.
    /// Refused when another organisation verified it meanwhile.
    pub async fn verify_domain(
        &self,
        org: OrgId,
        domain: &str,
        method: VerificationMethod,
        actor: &str,
    ) -> Result<OrgDomain> {
        let domain = normalise_domain(domain);
        let mut tx = self.begin_write().await?;
        taken_elsewhere(&mut tx, org, &domain).await?;
        let Some(existing) = domain_of(&mut tx, org, &domain).await? else {
            return Err(EnrolmentError::NotClaimed { domain });
        };
        if existing.verified_at.is_some() {
            return Ok(existing);
        }
        let now = Timestamp::now();
        sqlx::query(
            "UPDATE org_domains SET verified_at = $1, method = $2 WHERE org_id = $3 AND domain = $4",
        )
        .bind(now.to_string())
        .bind(method.as_str())
        .bind(org.0)
        .bind(&domain)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            actor,
            Some(org),
            "domain.verified",
            &serde_json::json!({ "domain": domain, "method": method.as_str() }),
        )
        .await?;
        tx.commit().await?;
        Ok(OrgDomain {
            verified_at: Some(now),
            method: Some(method),
            ..existing
        })
    }

    /// Every domain verified by DNS, of every organisation; for the periodic re-check.
    pub async fn dns_verified_domains(&self) -> Result<Vec<VerifiedDomain>> {
        let rows = sqlx::query(
            "SELECT org_id, domain FROM org_domains WHERE verified_at IS NOT NULL \
             AND method = 'dns' ORDER BY org_id, domain",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(VerifiedDomain {
                    org: OrgId(row.try_get("org_id")?),
                    domain: row.try_get("domain")?,
                    method: VerificationMethod::Dns,
                })
            })
            .collect()
    }
}

async fn taken_elsewhere(conn: &mut sqlx::AnyConnection, org: OrgId, domain: &str) -> Result<()> {
    let other: Option<i64> = sqlx::query_scalar(
        "SELECT org_id FROM org_domains WHERE domain = $1 AND org_id != $2 \
         AND verified_at IS NOT NULL LIMIT 1",
    )
    .bind(domain)
    .bind(org.0)
    .fetch_optional(&mut *conn)
    .await?;
    match other {
        Some(_) => Err(EnrolmentError::DomainTaken {
            domain: domain.to_owned(),
        }),
        None => Ok(()),
    }
}

async fn domain_of(
    conn: &mut sqlx::AnyConnection,
    org: OrgId,
    domain: &str,
) -> Result<Option<OrgDomain>> {
    let row = sqlx::query(
        "SELECT domain, claimed_at, verified_at, method FROM org_domains \
         WHERE org_id = $1 AND domain = $2",
    )
    .bind(org.0)
    .bind(domain)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(org_domain).transpose()
}

fn parse_time(text: Option<String>) -> Result<Option<Timestamp>> {
    text.map(|t| t.parse().map_err(|e| EnrolmentError::Store(corrupt(e))))
        .transpose()
}

fn org_domain(row: &sqlx::any::AnyRow) -> Result<OrgDomain> {
    let method: Option<String> = row.try_get("method")?;
    let method = match method.as_deref() {
        None => None,
        Some("operator") => Some(VerificationMethod::Operator),
        Some("dns") => Some(VerificationMethod::Dns),
        Some(other) => {
            return Err(EnrolmentError::Store(corrupt(format!(
                "verification method {other:?}"
            ))));
        }
    };
    Ok(OrgDomain {
        domain: row.try_get("domain")?,
        claimed_at: parse_time(row.try_get("claimed_at")?)?,
        verified_at: parse_time(row.try_get("verified_at")?)?,
        method,
    })
}

async fn application(
    conn: &mut sqlx::AnyConnection,
    row: &sqlx::any::AnyRow,
) -> Result<Application> {
    let id: i64 = row.try_get("id")?;
    let domains: Vec<String> = sqlx::query_scalar(
        "SELECT domain FROM application_domains WHERE application_id = $1 ORDER BY domain",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let sector: String = row.try_get("sector")?;
    let language: String = row.try_get("language")?;
    let contacts: String = row.try_get("contacts")?;
    let state: String = row.try_get("state")?;
    let submitted_at: String = row.try_get("submitted_at")?;
    let org: Option<i64> = row.try_get("org_id")?;
    let bad = |e: String| EnrolmentError::Store(corrupt(e));
    Ok(Application {
        id,
        name: row.try_get("name")?,
        sector: sector
            .parse()
            .map_err(|e: model::UnknownSector| bad(e.to_string()))?,
        country: row.try_get("country")?,
        language: language
            .parse()
            .map_err(|e: StoreError| bad(e.to_string()))?,
        contacts: serde_json::from_str(&contacts).map_err(|e| bad(e.to_string()))?,
        domains,
        state: state.parse().map_err(bad)?,
        reason: row.try_get("reason")?,
        submitted_at: submitted_at
            .parse()
            .map_err(|e: jiff::Error| bad(e.to_string()))?,
        decided_at: parse_time(row.try_get("decided_at")?)?,
        decided_by: row.try_get("decided_by")?,
        org_id: org.map(OrgId),
    })
}
