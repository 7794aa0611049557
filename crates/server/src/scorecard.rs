//! The governance scorecard over HTTP: an organisation's week, its trend, its place in
//! its sector (never below the privacy threshold), CSV/JSON export, and the mail-domain
//! posture read from DNS. What the numbers mean is the `scorecard` crate's; counting
//! them is the store's; this module gathers them for one request.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::auth::{Operator, OrgAdmin, OrgReader};
use crate::dns::TxtLookup;
use crate::{ApiError, AppState};
use model::{OrgId, Sector};
use scorecard::posture::{self, COMMON_DKIM_SELECTORS};
use scorecard::{DomainPosture, Grade, Metric, Scorecard, SectorView, Week, WeekCounts};
use store::{Organisation, Store};

/// Weeks of trend on the scorecard.
pub const TREND_WEEKS: usize = 12;
/// Weeks an export may span at most.
pub const MAX_EXPORT_WEEKS: usize = 104;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/org/scorecard", get(own_scorecard))
        .route("/api/v1/org/scorecard/export", get(own_export))
        .route("/api/v1/org/scorecard/posture", post(check_own_posture))
        .route("/api/v1/orgs/{org}/scorecard", get(any_scorecard))
        .route("/api/v1/sectors/{sector}/scorecard", get(sector_scorecard))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WeekQuery {
    /// `2026-W48`; the last finished week when absent.
    week: Option<String>,
    /// For the sector view: an ISO 3166 country to narrow to.
    country: Option<String>,
}

/// The scorecard page's data: one organisation's week and everything around it.
#[derive(Serialize)]
pub(crate) struct Report {
    pub organisation: Named,
    #[serde(flatten)]
    pub card: Scorecard,
    pub counts: WeekCounts,
    pub trend: Vec<TrendPoint>,
    pub sector: SectorView,
    /// The same sector in the organisation's country; `None` when fewer than five
    /// organisations share both.
    pub sector_country: Option<SectorView>,
    pub posture: Vec<CheckedPosture>,
}

#[derive(Serialize)]
pub(crate) struct Named {
    pub id: OrgId,
    pub name: String,
    pub sector: Sector,
    pub country: String,
}

#[derive(Serialize)]
pub(crate) struct TrendPoint {
    pub week: Week,
    pub score: Option<f64>,
    pub grade: Option<Grade>,
}

#[derive(Serialize)]
pub(crate) struct CheckedPosture {
    #[serde(flatten)]
    pub posture: DomainPosture,
    pub checked_at: Timestamp,
    /// 0–100 as the metric counts it.
    pub points: Option<f64>,
}

/// The week a request asks for, or the last finished one.
pub(crate) fn chosen_week(week: Option<&str>, now: Timestamp) -> Result<Week, ApiError> {
    match week {
        None | Some("") => Ok(Week::containing(now).previous()),
        Some(label) => Week::parse(label).ok_or_else(|| {
            ApiError::bad_request(format!(
                "week {label:?} is not an ISO week; write it like {}",
                Week::containing(now).label()
            ))
        }),
    }
}

pub(crate) async fn report(
    store: &Store,
    org: &Organisation,
    week: Week,
    now: Timestamp,
) -> Result<Report, ApiError> {
    let counts = store.week_counts(org, week, now).await?;
    let card = Scorecard::of(week, &counts);
    let mut trend = Vec::with_capacity(TREND_WEEKS);
    for past in week.trailing(TREND_WEEKS) {
        let card = if past == week {
            card.clone()
        } else {
            Scorecard::of(past, &store.week_counts(org, past, now).await?)
        };
        trend.push(TrendPoint {
            week: past,
            score: card.score,
            grade: card.grade,
        });
    }
    let everyone = store.organisations().await?;
    let sector_peers: Vec<&Organisation> =
        everyone.iter().filter(|o| o.sector == org.sector).collect();
    let peers = peer_cards(store, &sector_peers, week, now).await?;
    let sector = scorecard::compare(org.sector.to_string(), Some(&card), &peers);
    let country_cards: Vec<Scorecard> = sector_peers
        .iter()
        .zip(&peers)
        .filter(|(o, _)| o.country == org.country)
        .map(|(_, c)| c.clone())
        .collect();
    let sector_country = (country_cards.len() >= scorecard::MIN_CONTRIBUTORS).then(|| {
        scorecard::compare(
            format!("{} in {}", org.sector, org.country),
            Some(&card),
            &country_cards,
        )
    });
    let posture = store
        .domain_postures(org.id)
        .await?
        .into_iter()
        .filter(|(p, _)| org.domains.contains(&p.domain))
        .map(|(posture, checked_at)| CheckedPosture {
            points: posture.points(),
            posture,
            checked_at,
        })
        .collect();
    Ok(Report {
        organisation: Named {
            id: org.id,
            name: org.name.clone(),
            sector: org.sector,
            country: org.country.clone(),
        },
        card,
        counts,
        trend,
        sector,
        sector_country,
        posture,
    })
}

pub(crate) async fn peer_cards(
    store: &Store,
    peers: &[&Organisation],
    week: Week,
    now: Timestamp,
) -> Result<Vec<Scorecard>, ApiError> {
    let mut cards = Vec::with_capacity(peers.len());
    for peer in peers {
        cards.push(Scorecard::of(
            week,
            &store.week_counts(peer, week, now).await?,
        ));
    }
    Ok(cards)
}

async fn organisation(store: &Store, org: OrgId) -> Result<Organisation, ApiError> {
    store
        .organisation(org)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("organisation {org} does not exist")))
}

async fn own_scorecard(
    reader: OrgReader,
    State(state): State<AppState>,
    Query(query): Query<WeekQuery>,
) -> Result<Json<Report>, ApiError> {
    let now = Timestamp::now();
    let week = chosen_week(query.week.as_deref(), now)?;
    let org = organisation(state.store(), reader.org).await?;
    Ok(Json(report(state.store(), &org, week, now).await?))
}

async fn any_scorecard(
    _: Operator,
    State(state): State<AppState>,
    Path(org): Path<i64>,
    Query(query): Query<WeekQuery>,
) -> Result<Json<Report>, ApiError> {
    let now = Timestamp::now();
    let week = chosen_week(query.week.as_deref(), now)?;
    let org = organisation(state.store(), OrgId(org)).await?;
    Ok(Json(report(state.store(), &org, week, now).await?))
}

/// A sector's figures for an operator or a funder: quartiles only, no organisation named.
async fn sector_scorecard(
    _: Operator,
    State(state): State<AppState>,
    Path(sector): Path<String>,
    Query(query): Query<WeekQuery>,
) -> Result<Json<SectorView>, ApiError> {
    let sector: Sector = sector
        .parse()
        .map_err(|e: model::UnknownSector| ApiError::bad_request(e.to_string()))?;
    let now = Timestamp::now();
    let week = chosen_week(query.week.as_deref(), now)?;
    let country = query.country.map(|c| c.trim().to_ascii_uppercase());
    let everyone = state.store().organisations().await?;
    let members: Vec<&Organisation> = everyone
        .iter()
        .filter(|o| o.sector == sector && country.as_ref().is_none_or(|c| &o.country == c))
        .collect();
    let cards = peer_cards(state.store(), &members, week, now).await?;
    let scope = match &country {
        Some(c) => format!("{sector} in {c}"),
        None => sector.to_string(),
    };
    Ok(Json(scorecard::compare(scope, None, &cards)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    /// `csv` (the default) or `json`.
    format: Option<String>,
    /// Weeks back from the last finished one, 1–104; 12 when absent.
    weeks: Option<usize>,
}

#[derive(Serialize)]
struct ExportRow {
    week: Week,
    score: Option<f64>,
    grade: Option<Grade>,
    metrics: std::collections::BTreeMap<&'static str, Option<f64>>,
}

async fn own_export(
    reader: OrgReader,
    State(state): State<AppState>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let weeks = query.weeks.unwrap_or(TREND_WEEKS);
    if weeks == 0 || weeks > MAX_EXPORT_WEEKS {
        return Err(ApiError::bad_request(format!(
            "weeks must be between 1 and {MAX_EXPORT_WEEKS}"
        )));
    }
    let now = Timestamp::now();
    let last = Week::containing(now).previous();
    let org = organisation(state.store(), reader.org).await?;
    let mut rows = Vec::with_capacity(weeks);
    for week in last.trailing(weeks) {
        let card = Scorecard::of(week, &state.store().week_counts(&org, week, now).await?);
        rows.push(ExportRow {
            week,
            score: card.score,
            grade: card.grade,
            metrics: Metric::ALL
                .into_iter()
                .map(|m| (m.id(), card.value(m)))
                .collect(),
        });
    }
    match query.format.as_deref().unwrap_or("csv") {
        "json" => Ok(Json(rows).into_response()),
        "csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"tocsin-scorecard.csv\"",
                ),
            ],
            csv(&rows),
        )
            .into_response()),
        other => Err(ApiError::bad_request(format!(
            "format {other:?} is not offered; choose csv or json"
        ))),
    }
}

/// RFC 4180 text: a header row, then a row per week; an unmeasured value is empty.
fn csv(rows: &[ExportRow]) -> String {
    let mut out = String::from("week,score,grade");
    for metric in Metric::ALL {
        out.push(',');
        out.push_str(metric.id());
    }
    out.push_str("\r\n");
    let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for row in rows {
        out.push_str(&row.week.label());
        out.push(',');
        out.push_str(&number(row.score));
        out.push(',');
        out.push_str(row.grade.map_or("", Grade::as_str));
        for metric in Metric::ALL {
            out.push(',');
            out.push_str(&number(row.metrics.get(metric.id()).copied().flatten()));
        }
        out.push_str("\r\n");
    }
    out
}

async fn check_own_posture(
    admin: OrgAdmin,
    State(state): State<AppState>,
) -> Result<Json<Vec<CheckedPosture>>, ApiError> {
    let org = organisation(state.store(), admin.org).await?;
    let lookup = state.enrolment.txt_lookup();
    let now = Timestamp::now();
    let mut checked = Vec::with_capacity(org.domains.len());
    for domain in &org.domains {
        let posture = read_posture(&lookup, domain).await;
        state.store().record_posture(org.id, &posture, now).await?;
        checked.push(CheckedPosture {
            points: posture.points(),
            posture,
            checked_at: now,
        });
    }
    Ok(Json(checked))
}

/// Reads what `domain` publishes: SPF at the domain, DMARC at `_dmarc`, and DKIM keys at
/// the common selectors. A failed SPF or DMARC lookup is reported, not scored as absent.
pub async fn read_posture(lookup: &TxtLookup, domain: &str) -> DomainPosture {
    let dmarc_name = format!("_dmarc.{domain}");
    let (spf, dmarc) = tokio::join!(lookup.texts(domain), lookup.texts(&dmarc_name));
    let mut selectors = tokio::task::JoinSet::new();
    for selector in COMMON_DKIM_SELECTORS {
        let lookup = lookup.clone();
        let name = format!("{selector}._domainkey.{domain}");
        selectors.spawn(async move { (*selector, lookup.texts(&name).await) });
    }
    let mut dkim = Vec::new();
    let mut dkim_failures = Vec::new();
    while let Some(joined) = selectors.join_next().await {
        match joined {
            Ok((selector, Ok(texts))) => dkim.extend(posture::dkim(selector, &texts)),
            Ok((_, Err(error))) => dkim_failures.push(error.to_string()),
            Err(error) => dkim_failures.push(error.to_string()),
        }
    }
    dkim.sort_by(|a, b| a.selector.cmp(&b.selector));
    let mut errors = Vec::new();
    // One selector failing says nothing; all of them failing means DNS did not answer,
    // and "no DKIM key" would be a guess.
    if dkim.is_empty() && dkim_failures.len() == COMMON_DKIM_SELECTORS.len() {
        errors.extend(dkim_failures.into_iter().take(1));
    }
    let spf = spf.map_err(|e| errors.push(e.to_string())).ok();
    let dmarc = dmarc.map_err(|e| errors.push(e.to_string())).ok();
    DomainPosture {
        domain: domain.to_owned(),
        spf: spf.and_then(|t| posture::spf(&t)),
        dmarc: dmarc.and_then(|t| posture::dmarc(&t)),
        dkim,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
    }
}

/// Reads the posture of every verified domain of every organisation and keeps it.
pub async fn refresh_postures(
    store: &Store,
    lookup: &TxtLookup,
) -> Result<usize, store::StoreError> {
    let mut read = 0;
    for org in store.organisations().await? {
        for domain in &org.domains {
            let posture = read_posture(lookup, domain).await;
            if let Some(error) = &posture.error {
                tracing::warn!(org = %org.id, %domain, %error, "Reading the domain's mail posture failed.");
            }
            store
                .record_posture(org.id, &posture, Timestamp::now())
                .await?;
            read += 1;
        }
    }
    Ok(read)
}

/// Counts the newest settled week of every organisation, so that it is kept while its
/// events are still within retention, whether or not anyone looks at it.
pub async fn settle_weeks(store: &Store, now: Timestamp) -> Result<usize, store::StoreError> {
    let settled = Week::containing(now - jiff::SignedDuration::from_hours(48)).previous();
    let mut counted = 0;
    for org in store.organisations().await? {
        store.week_counts(&org, settled, now).await?;
        counted += 1;
    }
    Ok(counted)
}

/// At start and then as often as domains are re-checked (daily by default): reads the
/// mail-domain posture of every verified domain, then keeps the newest settled week of
/// every organisation. Runs in the process that delivers notifications (`all` or
/// `notify`), so that a scaled deployment asks DNS once.
pub async fn keep_scorecards_forever(store: Store, config: crate::EnrolmentConfig) {
    let lookup = config.txt_lookup();
    let mut interval = tokio::time::interval(config.recheck_every.unsigned_abs());
    loop {
        interval.tick().await;
        match refresh_postures(&store, &lookup).await {
            Ok(read) => tracing::info!(domains = read, "Mail-domain posture read from DNS."),
            Err(error) => tracing::error!(%error, "Reading mail-domain posture failed."),
        }
        match settle_weeks(&store, Timestamp::now()).await {
            Ok(organisations) => tracing::info!(organisations, "Settled scorecard weeks kept."),
            Err(error) => tracing::error!(%error, "Keeping settled scorecard weeks failed."),
        }
    }
}
