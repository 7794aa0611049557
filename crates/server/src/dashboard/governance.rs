//! The scorecard in the browser: this week's score and grade, the actions that would
//! raise it, the trend, every metric with its anchor, the organisation among its sector
//! (only behind the privacy threshold), the mail-domain posture, and the monthly report
//! as a printable page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::chart::{self, PeerBar, ScorePoint};
use super::{Frame, operator, person, render};
use crate::auth::Caller;
use crate::scorecard::{Report, chosen_week, peer_cards, report};
use crate::{ApiError, AppState};
use scorecard::{Distribution, Metric, Scorecard, SectorView, Unit, Week};

#[derive(Deserialize, Default)]
pub(super) struct WeekQuery {
    week: Option<String>,
}

/// A metric as the page lists it.
struct MetricRow {
    name: &'static str,
    value: String,
    points: String,
    weight: u32,
    anchor: &'static str,
}

struct ActionRow {
    text: String,
    gain: String,
}

struct PostureRow {
    domain: String,
    spf: String,
    dmarc: String,
    dkim: String,
    points: String,
    checked: String,
}

#[derive(Template)]
#[template(path = "dashboard/scorecard.html")]
struct ScorecardPage {
    frame: Frame,
    week: String,
    previous_week: String,
    next_week: Option<String>,
    score: String,
    grade: String,
    measured_weight: u32,
    actions: Vec<ActionRow>,
    trend: String,
    metrics: Vec<MetricRow>,
    sector_scope: String,
    sector_organisations: usize,
    sector_chart: Option<String>,
    country_chart: Option<(String, String)>,
    postures: Vec<PostureRow>,
    lookalikes: Vec<String>,
    report_month: String,
}

pub(super) async fn scorecard_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(query): Query<WeekQuery>,
) -> Result<Response, ApiError> {
    let person = match person(&state, caller).await {
        Ok(person) => person,
        Err(response) => return Ok(*response),
    };
    let now = Timestamp::now();
    let week = chosen_week(query.week.as_deref(), now)?;
    let r = report(state.store(), &person.organisation, week, now).await?;
    let next = week.end();
    let page = ScorecardPage {
        frame: person.frame(super::REFRESH_MS),
        week: week.label(),
        previous_week: week.previous().label(),
        next_week: (next <= now).then(|| Week::containing(next).label()),
        score: r
            .card
            .score
            .map_or_else(|| "—".to_owned(), |s| format!("{s:.1}")),
        grade: r.card.grade.map_or("?", |g| g.as_str()).to_owned(),
        measured_weight: r.card.measured_weight,
        actions: actions(&r.card),
        trend: trend_chart(&r),
        metrics: metric_rows(&r.card),
        sector_scope: r.sector.scope.clone(),
        sector_organisations: r.sector.organisations,
        sector_chart: peer_chart(&r.sector),
        country_chart: r
            .sector_country
            .as_ref()
            .and_then(|v| peer_chart(v).map(|c| (v.scope.clone(), c))),
        postures: posture_rows(&r),
        lookalikes: r.counts.lookalike_domains.clone(),
        report_month: month_of(week).to_string()[..7].to_owned(),
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize, Default)]
pub(super) struct MonthQuery {
    /// `2026-11`; the last finished month when absent.
    month: Option<String>,
}

struct WeekColumn {
    label: String,
    score: String,
    grade: String,
}

struct ReportRow {
    name: &'static str,
    values: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard/report.html")]
struct ReportPage {
    frame: Frame,
    organisation: String,
    sector: String,
    country: String,
    month: String,
    generated: String,
    score: String,
    grade: String,
    columns: Vec<WeekColumn>,
    rows: Vec<ReportRow>,
    actions: Vec<ActionRow>,
    trend: String,
    sector_scope: String,
    sector_organisations: usize,
    sector_chart: Option<String>,
    postures: Vec<PostureRow>,
    incidents: Vec<(String, i64)>,
}

pub(super) async fn report_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(query): Query<MonthQuery>,
) -> Result<Response, ApiError> {
    let person = match person(&state, caller).await {
        Ok(person) => person,
        Err(response) => return Ok(*response),
    };
    let now = Timestamp::now();
    let today = now.to_zoned(TimeZone::UTC).date();
    let first = match query.month.as_deref() {
        Some(text) if !text.is_empty() => format!("{text}-01").parse::<Date>().map_err(|_| {
            ApiError::bad_request(format!(
                "month {text:?} is not a month; write it like 2026-11"
            ))
        })?,
        _ => today
            .first_of_month()
            .checked_sub(jiff::Span::new().months(1))
            .map_err(ApiError::internal)?,
    };
    // A week belongs to the month of its Thursday, as ISO 8601 gives weeks to years: four
    // or five whole weeks a month, none counted twice. The last one carries the sector
    // comparison.
    let weeks: Vec<Week> = {
        let mut weeks = Vec::new();
        let mut day = first;
        while day.month() == first.month() {
            if day.weekday() == jiff::civil::Weekday::Thursday {
                let at = day
                    .to_zoned(TimeZone::UTC)
                    .map_err(ApiError::internal)?
                    .timestamp();
                weeks.push(Week::containing(at));
            }
            day = day.tomorrow().map_err(ApiError::internal)?;
        }
        weeks
    };
    let Some(&last) = weeks.last() else {
        return Err(ApiError::bad_request("that month has no week"));
    };
    let r = report(state.store(), &person.organisation, last, now).await?;
    let mut cards = Vec::with_capacity(weeks.len());
    for &week in &weeks {
        cards.push(if week == last {
            r.card.clone()
        } else {
            Scorecard::of(
                week,
                &state
                    .store()
                    .week_counts(&person.organisation, week, now)
                    .await?,
            )
        });
    }
    let rows = Metric::ALL
        .into_iter()
        .map(|m| ReportRow {
            name: m.name(),
            values: cards.iter().map(|c| shown(c.value(m), m.unit())).collect(),
        })
        .collect();
    let (month_start, month_end) = (
        first
            .to_zoned(TimeZone::UTC)
            .map_err(ApiError::internal)?
            .timestamp(),
        first
            .last_of_month()
            .tomorrow()
            .and_then(|d| d.to_zoned(TimeZone::UTC))
            .map_err(ApiError::internal)?
            .timestamp(),
    );
    let incidents: Vec<(String, i64)> = state
        .store()
        .incidents_by_kind(person.org(), month_start, month_end)
        .await?
        .into_iter()
        .map(|(kind, n)| (kind.title().to_owned(), n))
        .collect();
    let page = ReportPage {
        frame: person.frame(0),
        organisation: person.organisation.name.clone(),
        sector: person.organisation.sector.to_string().replace('_', " "),
        country: person.organisation.country.clone(),
        month: first.strftime("%B %Y").to_string(),
        generated: now.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        score: r
            .card
            .score
            .map_or_else(|| "—".to_owned(), |s| format!("{s:.1}")),
        grade: r.card.grade.map_or("?", |g| g.as_str()).to_owned(),
        columns: cards
            .iter()
            .map(|c| WeekColumn {
                label: c.week.label(),
                score: c
                    .score
                    .map_or_else(|| "—".to_owned(), |s| format!("{s:.1}")),
                grade: c.grade.map_or("?", |g| g.as_str()).to_owned(),
            })
            .collect(),
        rows,
        actions: actions(&r.card),
        trend: trend_chart(&r),
        sector_scope: r.sector.scope.clone(),
        sector_organisations: r.sector.organisations,
        sector_chart: peer_chart(&r.sector),
        postures: posture_rows(&r),
        incidents,
    };
    render(&page, StatusCode::OK)
}

/// The month a week belongs to: its Thursday's, as the monthly report counts weeks.
fn month_of(week: Week) -> Date {
    (week.start() + jiff::SignedDuration::from_hours(72))
        .to_zoned(TimeZone::UTC)
        .date()
}

fn actions(card: &Scorecard) -> Vec<ActionRow> {
    card.actions
        .iter()
        .map(|a| ActionRow {
            text: a.text.clone(),
            gain: format!("+{:.1}", a.gain),
        })
        .collect()
}

fn trend_chart(r: &Report) -> String {
    let points: Vec<ScorePoint> = r
        .trend
        .iter()
        .map(|p| ScorePoint {
            week: p.week.label(),
            score: p.score,
            grade: p.grade.map(|g| g.as_str()),
        })
        .collect();
    chart::score_trend(&points)
}

fn metric_rows(card: &Scorecard) -> Vec<MetricRow> {
    card.metrics
        .iter()
        .map(|m| MetricRow {
            name: m.name,
            value: shown(m.value, m.unit),
            points: m.points.map_or_else(String::new, |p| format!("{p:.0}")),
            weight: m.weight,
            anchor: m.metric.anchor(),
        })
        .collect()
}

/// A value with its unit, as people read it.
fn shown(value: Option<f64>, unit: Unit) -> String {
    let Some(v) = value else {
        return "not measured".to_owned();
    };
    match unit {
        Unit::Percent => format!("{v:.1} %"),
        Unit::Count => format!("{v:.0}"),
        Unit::PerThousandMailboxes => format!("{v:.1} per 1,000"),
        Unit::Hours => format!("{v:.1} h"),
        Unit::Points => format!("{v:.0} / 100"),
    }
}

fn unit_words(unit: Unit) -> &'static str {
    match unit {
        Unit::Percent => "%",
        Unit::Count => "",
        Unit::PerThousandMailboxes => "per 1,000 mailboxes",
        Unit::Hours => "h",
        Unit::Points => "points",
    }
}

/// The sector's figures as bars, or `None` when the sector is below the threshold.
fn peer_chart(view: &SectorView) -> Option<String> {
    if view.distributions.is_empty() {
        return None;
    }
    let bars: Vec<PeerBar> = view.distributions.iter().map(peer_bar).collect();
    Some(chart::sector_bars(&bars))
}

fn peer_bar(d: &Distribution) -> PeerBar {
    let unit = Metric::parse(&d.metric).map_or(Unit::Points, Metric::unit);
    let scale = match unit {
        Unit::Percent | Unit::Points => 100.0,
        _ => [d.p75 * 1.25, d.own.unwrap_or(0.0) * 1.1, 1.0]
            .into_iter()
            .fold(0.0, f64::max),
    };
    PeerBar {
        name: d.name.clone(),
        unit: unit_words(unit).to_owned(),
        p25: d.p25,
        median: d.median,
        p75: d.p75,
        own: d.own,
        rank: d.rank,
        scale,
    }
}

fn posture_rows(r: &Report) -> Vec<PostureRow> {
    r.posture
        .iter()
        .map(|c| {
            let p = &c.posture;
            PostureRow {
                domain: p.domain.clone(),
                spf: p
                    .spf
                    .as_ref()
                    .map_or("none".to_owned(), |s| s.all.as_str().to_owned()),
                dmarc: p.dmarc.as_ref().map_or("none published".to_owned(), |d| {
                    if d.percent < 100 {
                        format!("p={} pct={}", d.policy.as_str(), d.percent)
                    } else {
                        format!("p={}", d.policy.as_str())
                    }
                }),
                dkim: if p.dkim.is_empty() {
                    "no key at the common selectors".to_owned()
                } else {
                    p.dkim
                        .iter()
                        .map(|k| k.selector.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                points: match (&p.error, c.points) {
                    (Some(error), _) => format!("lookup failed: {error}"),
                    (None, Some(points)) => format!("{points:.0} / 100"),
                    (None, None) => String::new(),
                },
                checked: c.checked_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            }
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub(super) struct SectorQuery {
    week: Option<String>,
    sector: Option<String>,
}

struct SectorRow {
    sector: String,
    label: String,
    organisations: usize,
    median: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/sectors.html")]
struct SectorsPage {
    frame: Frame,
    week: String,
    rows: Vec<SectorRow>,
    chosen: Option<String>,
    chart: Option<String>,
    organisations: usize,
}

/// The operator's (or a funder's) view of every sector: how many organisations each has,
/// its median score when five contribute one, and one sector's figures as bars. No
/// organisation is named and no figure comes from fewer than five.
pub(super) async fn sectors_page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(query): Query<SectorQuery>,
) -> Result<Response, ApiError> {
    let session = match operator(caller) {
        Ok(session) => session,
        Err(response) => return Ok(*response),
    };
    let now = Timestamp::now();
    let week = chosen_week(query.week.as_deref(), now)?;
    let chosen: Option<model::Sector> = match query.sector.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse()
                .map_err(|e: model::UnknownSector| ApiError::bad_request(e.to_string()))?,
        ),
    };
    let everyone = state.store().organisations().await?;
    let mut rows = Vec::new();
    let mut chart = None;
    let mut organisations = 0;
    for sector in model::Sector::ALL {
        let members: Vec<&store::Organisation> =
            everyone.iter().filter(|o| o.sector == sector).collect();
        if members.is_empty() {
            continue;
        }
        let cards = peer_cards(state.store(), &members, week, now).await?;
        let view = scorecard::compare(sector.to_string(), None, &cards);
        let median = view
            .distributions
            .iter()
            .find(|d| d.metric == "score")
            .map_or_else(
                || "fewer than five scored".to_owned(),
                |d| format!("{:.1}", d.median),
            );
        let selected = chosen == Some(sector);
        if selected {
            chart = peer_chart(&view);
            organisations = members.len();
        }
        rows.push(SectorRow {
            sector: sector.as_str().to_owned(),
            label: sector.as_str().replace('_', " "),
            organisations: members.len(),
            median,
            selected,
        });
    }
    let page = SectorsPage {
        frame: Frame::console(&session),
        week: week.label(),
        rows,
        chosen: chosen.map(|s| s.as_str().replace('_', " ")),
        chart,
        organisations,
    };
    render(&page, StatusCode::OK)
}
