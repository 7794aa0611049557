//! Enrolment with review over HTTP: the public application form, the operator's review,
//! the audit log, and the domains an organisation claims and proves by DNS.
//!
//! Who may be served (countries, sectors) is the `[enrolment]` configuration and is
//! checked here, before anything is stored; the shape of an application and the bounds
//! on open submissions are the store's. The organisation a request acts for always comes
//! from its key.

use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::auth::{Operator, OrgAdmin, OrgReader};
use crate::dns::{self, ExpectedRecord, TxtLookup};
use crate::error::ApiJson;
use crate::{ApiError, AppState};
use model::{OrgId, Sector};
use store::{
    Application, ApplicationState, AuditEntry, Contact, EnrolmentError, Language, NewApplication,
    OrgDomain, SubmissionLimits, VerificationMethod,
};

/// The largest application body accepted: the form is small, and the endpoint is open.
const MAX_APPLICATION_BYTES: usize = 64 * 1024;

/// Failed verifications an organisation may make in an hour: each costs a DNS lookup and
/// an audit entry, so an organisation cannot make the service query or write without end.
const MAX_FAILED_VERIFICATIONS_PER_HOUR: i64 = 30;

/// Who may enrol, how many may wait, and how domains are looked up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrolmentConfig {
    /// Countries served, as ISO 3166-1 alpha-2 codes ("FR", "DE"). Empty serves every
    /// country.
    pub countries: Vec<String>,
    /// Sectors served; an application from another sector is refused with the list.
    pub sectors: Vec<Sector>,
    /// Applications that may wait for review at once, in total; more are refused (429)
    /// until the operator decides some.
    pub max_pending: u32,
    /// Applications accepted in any hour, in total; more are refused (429).
    pub max_per_hour: u32,
    /// Nameservers that verification asks, as "ip:port". Empty uses the system's
    /// resolver configuration.
    pub nameservers: Vec<SocketAddr>,
    /// How long one DNS query may take.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub dns_timeout: SignedDuration,
    /// How often the TXT records of DNS-verified domains are looked up again. A record
    /// that disappeared is logged and audited (`domain.record_missing`); the domain
    /// stays verified, since a DNS change gone wrong should not silence notifications.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub recheck_every: SignedDuration,
}

impl Default for EnrolmentConfig {
    fn default() -> Self {
        EnrolmentConfig {
            countries: Vec::new(),
            sectors: Sector::ALL.to_vec(),
            max_pending: 1000,
            max_per_hour: 60,
            nameservers: Vec::new(),
            dns_timeout: SignedDuration::from_secs(5),
            recheck_every: SignedDuration::from_hours(24),
        }
    }
}

impl EnrolmentConfig {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(bad) = self
            .countries
            .iter()
            .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(format!(
                "enrolment.countries: {bad:?} is not an upper-case ISO 3166-1 alpha-2 code such as \"FR\""
            ));
        }
        if self.sectors.is_empty() {
            return Err("enrolment.sectors is empty: no organisation could enrol".into());
        }
        if self.max_pending == 0 || self.max_per_hour == 0 {
            return Err(
                "enrolment.max_pending and enrolment.max_per_hour must be at least 1".into(),
            );
        }
        for (name, value) in [
            ("enrolment.dns_timeout", self.dns_timeout),
            ("enrolment.recheck_every", self.recheck_every),
        ] {
            if !value.is_positive() {
                return Err(format!("{name} must be longer than zero, not {value:#}"));
            }
        }
        Ok(())
    }

    fn limits(&self) -> SubmissionLimits {
        SubmissionLimits {
            max_pending: self.max_pending,
            max_per_hour: self.max_per_hour,
        }
    }

    pub fn txt_lookup(&self) -> TxtLookup {
        TxtLookup::new(self.nameservers.clone(), self.dns_timeout.unsigned_abs())
    }

    /// Why an applicant from `country` in `sector` is not served, if they are not.
    fn ineligibility(&self, country: &str, sector: Sector) -> Option<String> {
        let country = country.trim().to_ascii_uppercase();
        if !self.countries.is_empty() && !self.countries.contains(&country) {
            return Some(format!(
                "country {country} is not served by this tocsin; it serves: {}",
                self.countries.join(", ")
            ));
        }
        if !self.sectors.contains(&sector) {
            let served: Vec<&str> = self.sectors.iter().map(|s| s.as_str()).collect();
            return Some(format!(
                "sector {} is not served by this tocsin; it serves: {}",
                sector.as_str(),
                served.join(", ")
            ));
        }
        None
    }
}

impl From<EnrolmentError> for ApiError {
    fn from(error: EnrolmentError) -> Self {
        let status = match &error {
            EnrolmentError::Invalid(_) | EnrolmentError::TooManyDomains { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            EnrolmentError::TooManyPending { .. } | EnrolmentError::TooManySubmissions { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            EnrolmentError::NoSuchApplication(_) | EnrolmentError::NotClaimed { .. } => {
                StatusCode::NOT_FOUND
            }
            EnrolmentError::AlreadyDecided { .. } | EnrolmentError::DomainTaken { .. } => {
                StatusCode::CONFLICT
            }
            EnrolmentError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match error {
            EnrolmentError::Store(inner) => inner.into(),
            other => ApiError::new(status, other.to_string()),
        }
    }
}

const PUBLIC_ACTOR: &str = "public";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/applications",
            post(submit)
                .layer(DefaultBodyLimit::max(MAX_APPLICATION_BYTES))
                .get(list),
        )
        .route("/api/v1/applications/{id}", get(one))
        .route("/api/v1/applications/{id}/approve", post(approve))
        .route("/api/v1/applications/{id}/reject", post(reject))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/org/audit", get(org_audit_log))
        .route("/api/v1/org/domains", post(claim_domain).get(list_domains))
        .route("/api/v1/org/domains/{domain}/verify", post(verify_domain))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationForm {
    name: String,
    sector: String,
    country: String,
    #[serde(default)]
    language: Option<String>,
    contacts: Vec<Contact>,
    domains: Vec<String>,
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// The public application form. Anyone may apply; nothing is granted until an operator
/// approves.
async fn submit(
    State(state): State<AppState>,
    ApiJson(form): ApiJson<ApplicationForm>,
) -> Result<(StatusCode, Json<Application>), ApiError> {
    let config = &state.enrolment;
    let sector: Sector = form.sector.parse().map_err(|_| {
        let served: Vec<&str> = config.sectors.iter().map(|s| s.as_str()).collect();
        unprocessable(format!(
            "sector {:?} is not a sector; choose one of: {}",
            form.sector,
            served.join(", ")
        ))
    })?;
    let language: Language = match &form.language {
        Some(text) => text
            .parse()
            .map_err(|e: store::StoreError| unprocessable(e.to_string()))?,
        None => Language::En,
    };
    if let Some(reason) = config.ineligibility(&form.country, sector) {
        return Err(unprocessable(reason));
    }
    let new = NewApplication {
        name: form.name,
        sector,
        country: form.country,
        language,
        contacts: form.contacts,
        domains: form.domains,
    };
    let application = state
        .store()
        .submit_application(&new, config.limits(), PUBLIC_ACTOR)
        .await?;
    tracing::info!(application = application.id, name = %application.name, "Application submitted.");
    Ok((StatusCode::CREATED, Json(application)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationsQuery {
    state: Option<String>,
    limit: Option<u32>,
}

async fn list(
    _: Operator,
    State(state): State<AppState>,
    Query(query): Query<ApplicationsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let wanted: Option<ApplicationState> = query
        .state
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(ApiError::bad_request)?;
    let applications = state
        .store()
        .applications(wanted, query.limit.unwrap_or(100))
        .await?;
    Ok(Json(serde_json::json!({ "applications": applications })))
}

async fn one(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Application>, ApiError> {
    state
        .store()
        .application(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("application {id} does not exist")))
}

#[derive(Serialize)]
pub(crate) struct Approved {
    pub application: Application,
    pub organisation_id: OrgId,
    /// Shown once; only its hash is kept.
    pub api_key: String,
    /// What the organisation publishes to prove each domain it applied with.
    pub records: Vec<ExpectedRecord>,
}

async fn approve(
    Operator { actor }: Operator,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Approved>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(approve_application(&state, id, &actor).await?),
    ))
}

/// Approves application `id` (the API's and the console's): creates the organisation,
/// its first key, and welcomes its contacts with the records to publish.
pub(crate) async fn approve_application(
    state: &AppState,
    id: i64,
    actor: &crate::Actor,
) -> Result<Approved, ApiError> {
    let (org, api_key) = state.store().approve_application(id, &actor.0).await?;
    let application = state
        .store()
        .application(id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("approved application {id} vanished")))?;
    let records: Vec<ExpectedRecord> = application
        .domains
        .iter()
        .map(|d| dns::expected_record(state.store().master_key(), org, d))
        .collect();
    tracing::info!(application = id, %org, "Application approved.");
    welcome(state, &application, org, &records).await?;
    Ok(Approved {
        application,
        organisation_id: org,
        api_key,
        records,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rejection {
    reason: Option<String>,
}

async fn reject(
    Operator { actor }: Operator,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Rejection>,
) -> Result<Json<Application>, ApiError> {
    let reason = body.reason.unwrap_or_default();
    let application = state
        .store()
        .reject_application(id, &reason, &actor.0)
        .await?;
    tracing::info!(application = id, "Application rejected.");
    Ok(Json(application))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<u32>,
    /// Entries older than this id: pages back through the log.
    before: Option<i64>,
}

async fn audit_log(
    _: Operator,
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let entries: Vec<AuditEntry> = state
        .store()
        .audit_log(query.limit.unwrap_or(100), query.before)
        .await?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}

async fn org_audit_log(
    OrgReader { org, .. }: OrgReader,
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let entries = state
        .store()
        .org_audit_log(org, query.limit.unwrap_or(100), query.before)
        .await?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}

#[derive(Serialize)]
struct DomainState {
    #[serde(flatten)]
    domain: OrgDomain,
    verified: bool,
    /// The TXT record that proves it.
    record: ExpectedRecord,
}

fn domain_state(state: &AppState, org: OrgId, domain: OrgDomain) -> DomainState {
    let record = dns::expected_record(state.store().master_key(), org, &domain.domain);
    DomainState {
        verified: domain.verified_at.is_some(),
        domain,
        record,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Claim {
    domain: String,
}

async fn claim_domain(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Claim>,
) -> Result<(StatusCode, Json<DomainState>), ApiError> {
    let claimed = state
        .store()
        .claim_domain(org, &body.domain, &actor.0)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(domain_state(&state, org, claimed)),
    ))
}

async fn list_domains(
    OrgReader { org, .. }: OrgReader,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let domains: Vec<DomainState> = state
        .store()
        .org_domains(org)
        .await?
        .into_iter()
        .map(|d| domain_state(&state, org, d))
        .collect();
    Ok(Json(serde_json::json!({ "domains": domains })))
}

/// Looks the claimed domain's TXT record up and, when it holds this organisation's
/// token, makes the domain the organisation's.
async fn verify_domain(
    OrgAdmin { org, actor }: OrgAdmin,
    State(state): State<AppState>,
    Path(domain): Path<String>,
) -> Result<Json<DomainState>, ApiError> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let claimed = state
        .store()
        .org_domains(org)
        .await?
        .into_iter()
        .find(|d| d.domain == domain)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{domain} is not claimed by this organisation; add it with POST /api/v1/org/domains"
            ))
        })?;
    if claimed.verified_at.is_some() {
        return Ok(Json(domain_state(&state, org, claimed)));
    }
    let an_hour_ago = jiff::Timestamp::now() - SignedDuration::from_hours(1);
    let failed = state
        .store()
        .audit_count_since(org, "domain.verification_failed", an_hour_ago)
        .await?;
    if failed >= MAX_FAILED_VERIFICATIONS_PER_HOUR {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{failed} verifications failed in the last hour; publish the record, wait for it to propagate, then try again"
            ),
        ));
    }
    let expected = dns::expected_record(state.store().master_key(), org, &domain);
    let found = match state.enrolment.txt_lookup().texts(&expected.name).await {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "Domain verification lookup failed.");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{error}; try again later"),
            ));
        }
    };
    if !found.iter().any(|text| text.trim() == expected.value) {
        let seen = if found.is_empty() {
            "no TXT record (the name does not exist or holds no TXT record)".to_owned()
        } else {
            found
                .iter()
                .map(|t| format!("{t:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        state
            .store()
            .audit(
                &actor.0,
                Some(org),
                "domain.verification_failed",
                &serde_json::json!({ "domain": domain, "found": found }),
            )
            .await?;
        return Err(unprocessable(format!(
            "expected a TXT record {} with the text {:?}; found {seen}",
            expected.name, expected.value
        )));
    }
    let verified = state
        .store()
        .verify_domain(org, &domain, VerificationMethod::Dns, &actor.0)
        .await?;
    // Mail intake keeps each organisation's domains in memory; the next message must see
    // this one.
    state.mail.forget_domains(org).await;
    tracing::info!(%org, %domain, "Domain verified.");
    Ok(Json(domain_state(&state, org, verified)))
}

/// What one re-check of verified domains found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recheck {
    /// Domains whose record is still published.
    pub present: u64,
    /// Domains whose record is gone (audited as `domain.record_missing`).
    pub missing: Vec<(OrgId, String)>,
    /// Domains whose lookup failed; tried again next time.
    pub failed: u64,
}

/// Looks up the record of every DNS-verified domain once. A missing record is logged
/// and audited, not acted on: the operator decides.
pub async fn recheck_domains(
    store: &store::Store,
    lookup: &TxtLookup,
) -> Result<Recheck, store::StoreError> {
    let mut recheck = Recheck::default();
    let domains = store.dns_verified_domains().await.map_err(|e| match e {
        EnrolmentError::Store(inner) => inner,
        other => store::StoreError::Invalid(other.to_string()),
    })?;
    for verified in domains {
        let expected = dns::expected_record(store.master_key(), verified.org, &verified.domain);
        match lookup.texts(&expected.name).await {
            Ok(found) if found.iter().any(|t| t.trim() == expected.value) => recheck.present += 1,
            Ok(found) => {
                tracing::warn!(org = %verified.org, domain = %verified.domain, "A verified domain's TXT record is gone.");
                store
                    .audit(
                        notify::lifecycle::SERVICE,
                        Some(verified.org),
                        "domain.record_missing",
                        &serde_json::json!({
                            "domain": verified.domain,
                            "expected": expected.value,
                            "found": found,
                        }),
                    )
                    .await?;
                recheck.missing.push((verified.org, verified.domain));
            }
            Err(error) => {
                tracing::warn!(%error, "Re-checking a verified domain failed.");
                recheck.failed += 1;
            }
        }
    }
    Ok(recheck)
}

/// Re-checks verified domains every `recheck_every`, until the task is dropped.
pub async fn recheck_domains_forever(store: store::Store, config: EnrolmentConfig) {
    let lookup = config.txt_lookup();
    let mut interval = tokio::time::interval(config.recheck_every.unsigned_abs());
    // The first tick is immediate; a restart should not look everything up at once.
    interval.tick().await;
    loop {
        interval.tick().await;
        match recheck_domains(&store, &lookup).await {
            Ok(recheck) => tracing::info!(
                present = recheck.present,
                missing = recheck.missing.len(),
                failed = recheck.failed,
                "Verified domains re-checked."
            ),
            Err(error) => tracing::error!(%error, "Re-checking verified domains failed."),
        }
    }
}

/// The applicant's contacts become the organisation's first e-mail recipients, in the
/// application's language, and each is told the next steps by e-mail. The API key is
/// never mailed: it is shown once, to the operator, who hands it over by a channel both
/// trust.
async fn welcome(
    state: &AppState,
    application: &Application,
    org: OrgId,
    records: &[ExpectedRecord],
) -> Result<(), ApiError> {
    let recipients: Vec<store::Recipient> = application
        .contacts
        .iter()
        .take(store::MAX_RECIPIENTS)
        .map(|c| store::Recipient {
            address: c.email.clone(),
            language: application.language,
        })
        .collect();
    state.store().set_recipients(org, &recipients).await?;
    let email = &state.intake.config().email;
    if !email.enabled() {
        return Ok(());
    }
    let base = uuid::Uuid::now_v7().to_string();
    for (n, contact) in recipients.iter().enumerate() {
        let delivery_id = format!("{base}.mail{}", n + 1);
        let message_id = notify::email::message_id(&delivery_id, email.from_domain());
        let notice = welcome_message(application, records, &state.http.public_url, message_id);
        let payload = serde_json::to_string(&notice)
            .map_err(|e| ApiError::internal(format!("cannot encode the welcome e-mail: {e}")))?;
        state
            .store()
            .enqueue(&store::NewDelivery {
                delivery_id,
                org,
                incident_id: None,
                channel: "email".into(),
                target: Some(contact.address.clone()),
                event: "application.approved".into(),
                payload,
                not_before: jiff::Timestamp::now(),
            })
            .await?;
    }
    state.intake.outbox_wake().notify_one();
    Ok(())
}

/// The welcome e-mail: the decision, the TXT records to publish, and what comes next.
fn welcome_message(
    application: &Application,
    records: &[ExpectedRecord],
    public_url: &str,
    message_id: String,
) -> notify::notice::EmailNotice {
    use notify::email::escape;
    let french = application.language == store::Language::Fr;
    // The name is the applicant's own text: it must not break the subject into headers.
    let name = application.name.replace(char::is_control, " ");
    let (subject, intro, publish, then) = if french {
        (
            format!("[tocsin] {name} est inscrite"),
            format!(
                "La demande d'inscription de {name} a été acceptée. Vous recevrez désormais \
                 par courriel les alertes d'attaque contre votre organisation."
            ),
            "Pour que tocsin protège vos domaines de messagerie, publiez dans le DNS de \
             chacun l'enregistrement TXT ci-dessous, puis demandez sa vérification :",
            "Votre opérateur vous remettra la clé d'API de l'organisation par un autre canal; \
             elle n'est jamais envoyée par courriel. Avec elle, configurez vos \
             destinataires, votre webhook et l'envoi de vos journaux de connexion.",
        )
    } else {
        (
            format!("[tocsin] {name} is enrolled"),
            format!(
                "The application of {name} was approved. From now on, attacks against your \
                 organisation are reported to you by e-mail."
            ),
            "For tocsin to protect your mail domains, publish the TXT record below in each \
             domain's DNS, then ask for it to be verified:",
            "Your operator will hand you the organisation's API key by another channel; it is \
             never sent by e-mail. With it, set your recipients, your webhook and the \
             shipping of your sign-in logs.",
        )
    };
    let lines: Vec<String> = records
        .iter()
        .map(|r| format!("{} TXT \"{}\"", r.name, r.value))
        .collect();
    let text = format!(
        "{intro}\n\n{publish}\n\n{}\n\n{then}\n\n{public_url}\n",
        lines.join("\n")
    );
    let html = format!(
        "<p>{}</p><p>{}</p><pre>{}</pre><p>{}</p><p>{}</p>",
        escape(&intro),
        escape(publish),
        escape(&lines.join("\n")),
        escape(then),
        escape(public_url),
    );
    notify::notice::EmailNotice {
        subject,
        text,
        html,
        message_id,
    }
}
