//! Notification policy: when the organisation hears about a change to an incident.
//!
//! A new incident or an escalation is told at once; later evidence on an open incident is
//! batched into at most one `incident.updated` per interval; incidents below a severity
//! go to a daily digest; quiet hours hold everything but critical incidents until they
//! end. This module owns those rules as pure functions of the incident's pacing, the
//! organisation's settings and the time ([`decide`]), and the `[notify.policy]` settings.
//! Applying a decision (queuing, holding, the ticker) is [`crate::lifecycle`]'s.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::correlate::Change;
use model::Severity;
use store::NotifySettings;

/// The service's defaults for pacing notifications; each organisation may override the
/// interval, digest threshold, quiet hours and time zone (`/api/v1/org/settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// At most one `incident.updated` per incident per this long.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub update_interval: SignedDuration,
    /// Incidents below this severity wait for the daily digest instead of being told at
    /// once (`medium`: low incidents go to the digest; `low`: no digest).
    pub digest_below: Severity,
    /// The hour (0–23, in the organisation's time zone) the daily digest is sent.
    pub digest_hour: u8,
    /// The time zone of organisations that set none (IANA name).
    pub timezone: String,
    /// `HH:MM-HH:MM` during which only critical incidents are told, or empty for none.
    pub quiet_hours: String,
    /// How often held notifications are looked at.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub tick: SignedDuration,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            update_interval: SignedDuration::from_hours(1),
            digest_below: Severity::Medium,
            digest_hour: 8,
            timezone: "UTC".into(),
            quiet_hours: String::new(),
            tick: SignedDuration::from_mins(1),
        }
    }
}

impl PolicyConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if !self.update_interval.is_positive() {
            return Err("notify.policy.update_interval must be longer than zero".into());
        }
        if !self.tick.is_positive() {
            return Err("notify.policy.tick must be longer than zero".into());
        }
        if self.digest_hour > 23 {
            return Err(format!(
                "notify.policy.digest_hour must be 0 to 23, not {}",
                self.digest_hour
            ));
        }
        time_zone(&self.timezone).map_err(|e| format!("notify.policy.timezone: {e}"))?;
        QuietHours::parse(&self.quiet_hours)
            .map_err(|e| format!("notify.policy.quiet_hours: {e}"))?;
        Ok(())
    }
}

/// A setting that does not make sense.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("{0:?} is not an IANA time zone (such as \"Europe/Paris\")")]
    TimeZone(String),
    #[error("{0:?} is not quiet hours: write \"HH:MM-HH:MM\" (such as \"22:00-07:00\"), or \"\"")]
    QuietHours(String),
    #[error("the update interval must be between 1 minute and 7 days")]
    Interval,
}

/// Looks an IANA name up in the system's time zone database.
pub fn time_zone(name: &str) -> Result<TimeZone, PolicyError> {
    TimeZone::get(name).map_err(|_| PolicyError::TimeZone(name.to_owned()))
}

/// A daily period of the organisation's local time when only critical incidents are
/// told; it may run over midnight (`22:00-07:00`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
}

impl QuietHours {
    /// `HH:MM-HH:MM`; empty (or blank) means none.
    pub fn parse(text: &str) -> Result<Option<QuietHours>, PolicyError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let wrong = || PolicyError::QuietHours(text.to_owned());
        let (start, end) = text.split_once('-').ok_or_else(wrong)?;
        let time = |s: &str| -> Result<Time, PolicyError> {
            let (h, m) = s.trim().split_once(':').ok_or_else(wrong)?;
            if h.len() != 2 || m.len() != 2 {
                return Err(wrong());
            }
            let h: i8 = h.parse().map_err(|_| wrong())?;
            let m: i8 = m.parse().map_err(|_| wrong())?;
            Time::new(h, m, 0, 0).map_err(|_| wrong())
        };
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(wrong());
        }
        Ok(Some(QuietHours { start, end }))
    }

    /// When the quiet period that `at` falls in ends, or `None` when `at` is not quiet.
    fn end_of_quiet(&self, at: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let local = at.to_zoned(tz.clone());
        let now = local.time();
        let today = local.date();
        let end_date = if self.start < self.end {
            if now < self.start || now >= self.end {
                return None;
            }
            today
        } else if now >= self.start {
            today.tomorrow().ok()?
        } else if now < self.end {
            today
        } else {
            return None;
        };
        end_date
            .to_datetime(self.end)
            .to_zoned(tz.clone())
            .ok()
            .map(|z| z.timestamp())
    }
}

impl std::fmt::Display for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

/// The rules in force for one organisation: the service's defaults with its overrides.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub update_interval: SignedDuration,
    pub digest_below: Severity,
    pub digest_hour: u8,
    pub tz: TimeZone,
    pub quiet: Option<QuietHours>,
}

impl Policy {
    /// The organisation's overrides over the defaults. Settings are checked when saved;
    /// one that no longer makes sense (a time zone gone from the system's database)
    /// falls back to the default rather than silencing the organisation.
    pub fn for_org(config: &PolicyConfig, settings: &NotifySettings) -> Policy {
        let tz = settings
            .timezone
            .as_deref()
            .and_then(|name| time_zone(name).ok())
            .or_else(|| time_zone(&config.timezone).ok())
            .unwrap_or(TimeZone::UTC);
        let quiet = settings
            .quiet_hours
            .as_deref()
            .map(QuietHours::parse)
            .unwrap_or_else(|| QuietHours::parse(&config.quiet_hours))
            .ok()
            .flatten();
        Policy {
            update_interval: settings.update_interval.unwrap_or(config.update_interval),
            digest_below: settings.digest_below.unwrap_or(config.digest_below),
            digest_hour: config.digest_hour.min(23),
            tz,
            quiet,
        }
    }

    /// Checks settings an organisation asks for before they are saved.
    pub fn check(settings: &NotifySettings) -> Result<(), PolicyError> {
        if let Some(interval) = settings.update_interval
            && (interval < SignedDuration::from_mins(1)
                || interval > SignedDuration::from_hours(168))
        {
            return Err(PolicyError::Interval);
        }
        if let Some(tz) = &settings.timezone {
            time_zone(tz)?;
        }
        if let Some(quiet) = &settings.quiet_hours {
            QuietHours::parse(quiet)?;
        }
        Ok(())
    }
}

/// What an organisation is to be told about an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Notice {
    Opened,
    Escalated,
    /// More evidence on an incident already told.
    Updated,
    /// A place in the next daily digest.
    Digest,
}

impl Notice {
    /// The `event` of the notification document.
    pub fn event(self) -> &'static str {
        match self {
            Notice::Opened => "incident.opened",
            Notice::Escalated => "incident.escalated",
            Notice::Updated => "incident.updated",
            Notice::Digest => "digest",
        }
    }

    pub fn parse(event: &str) -> Option<Notice> {
        [
            Notice::Opened,
            Notice::Escalated,
            Notice::Updated,
            Notice::Digest,
        ]
        .into_iter()
        .find(|n| n.event() == event)
    }
}

/// What is known of an incident when deciding.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// What a detection just did to the incident; `None` when the ticker looks at a
    /// held notification again.
    pub change: Option<Change>,
    pub severity: Severity,
    /// Whether the organisation has been told about the incident before.
    pub told_before: bool,
    /// When it was last told.
    pub last_notified: Option<Timestamp>,
    /// A notification held back, and since when.
    pub held: Option<(Notice, Timestamp)>,
}

/// What to do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to tell.
    Nothing,
    Send(Notice),
    /// Hold `notice` (held since `since`) until `until`.
    Hold {
        notice: Notice,
        since: Timestamp,
        until: Timestamp,
    },
}

/// What a change calls for, given what is already held back.
fn classify(case: &Case, policy: &Policy) -> Option<Notice> {
    let held = case.held.map(|(notice, _)| notice);
    let Some(change) = case.change else {
        return held;
    };
    let low = case.severity < policy.digest_below;
    if !case.told_before {
        // Never told: whatever happened, the first word is the opening (or the digest).
        return match (change, held) {
            (Change::Extended, None) => None,
            _ if low => Some(Notice::Digest),
            _ => Some(Notice::Opened),
        };
    }
    Some(match change {
        _ if low => Notice::Digest,
        Change::Opened | Change::Escalated { .. } => Notice::Escalated,
        // An escalation already held (quiet hours) still says the most.
        Change::Extended => held.unwrap_or(Notice::Updated),
    })
}

/// The earliest a notice held since `since` may go: at once for an opening or an
/// escalation, one interval after the last notification for an update, at the next
/// digest hour for the digest; then, unless critical, after quiet hours.
pub fn due(
    notice: Notice,
    severity: Severity,
    since: Timestamp,
    last_notified: Option<Timestamp>,
    policy: &Policy,
) -> Timestamp {
    let due = match notice {
        Notice::Opened | Notice::Escalated => since,
        Notice::Updated => last_notified
            .and_then(|at| at.checked_add(policy.update_interval).ok())
            .map_or(since, |at| at.max(since)),
        Notice::Digest => next_digest(since, policy),
    };
    if severity == Severity::Critical {
        return due;
    }
    match policy.quiet.and_then(|q| q.end_of_quiet(due, &policy.tz)) {
        Some(end) => end,
        None => due,
    }
}

/// The first digest hour at or after `since`, in the organisation's time zone.
fn next_digest(since: Timestamp, policy: &Policy) -> Timestamp {
    let local = since.to_zoned(policy.tz.clone());
    let hour = Time::new(policy.digest_hour.min(23) as i8, 0, 0, 0).unwrap_or(Time::midnight());
    let at = |date: jiff::civil::Date| {
        date.to_datetime(hour)
            .to_zoned(policy.tz.clone())
            .map(|z| z.timestamp())
    };
    match at(local.date()) {
        Ok(today) if today >= since => today,
        _ => local
            .date()
            .checked_add(1.day())
            .ok()
            .and_then(|d| at(d).ok())
            .unwrap_or(since),
    }
}

/// Decides what to tell the organisation about an incident at `now`.
pub fn decide(case: &Case, policy: &Policy, now: Timestamp) -> Decision {
    let Some(notice) = classify(case, policy) else {
        return Decision::Nothing;
    };
    let since = match case.held {
        Some((held, since)) if held == notice => since,
        _ => now,
    };
    let until = due(notice, case.severity, since, case.last_notified, policy);
    if until <= now {
        Decision::Send(notice)
    } else {
        Decision::Hold {
            notice,
            since,
            until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn policy(quiet: &str, tz: &str) -> Policy {
        Policy::for_org(
            &PolicyConfig::default(),
            &NotifySettings {
                quiet_hours: Some(quiet.into()),
                timezone: Some(tz.into()),
                ..NotifySettings::default()
            },
        )
    }

    struct Row {
        what: &'static str,
        change: Option<Change>,
        severity: Severity,
        told_before: bool,
        last_notified: Option<&'static str>,
        held: Option<(Notice, &'static str)>,
        now: &'static str,
        quiet: &'static str,
        expect: Result<Notice, Option<(Notice, &'static str)>>,
    }

    const ESCALATED: Option<Change> = Some(Change::Escalated {
        from: Severity::Medium,
    });

    #[test]
    fn decisions_over_a_table_of_cases() {
        use Severity::*;
        let rows = [
            Row {
                what: "a new incident is told at once",
                change: Some(Change::Opened),
                severity: High,
                told_before: false,
                last_notified: None,
                held: None,
                now: "2026-12-07T10:00:00Z",
                quiet: "",
                expect: Ok(Notice::Opened),
            },
            Row {
                what: "an escalation is told at once",
                change: ESCALATED,
                severity: High,
                told_before: true,
                last_notified: Some("2026-12-07T09:59:00Z"),
                held: None,
                now: "2026-12-07T10:00:00Z",
                quiet: "",
                expect: Ok(Notice::Escalated),
            },
            Row {
                what: "more evidence within the interval waits for it to pass",
                change: Some(Change::Extended),
                severity: High,
                told_before: true,
                last_notified: Some("2026-12-07T09:30:00Z"),
                held: None,
                now: "2026-12-07T10:00:00Z",
                quiet: "",
                expect: Err(Some((Notice::Updated, "2026-12-07T10:30:00Z"))),
            },
            Row {
                what: "more evidence after the interval is told at once",
                change: Some(Change::Extended),
                severity: High,
                told_before: true,
                last_notified: Some("2026-12-07T08:30:00Z"),
                held: None,
                now: "2026-12-07T10:00:00Z",
                quiet: "",
                expect: Ok(Notice::Updated),
            },
            Row {
                what: "a held update keeps its place when more evidence comes",
                change: Some(Change::Extended),
                severity: High,
                told_before: true,
                last_notified: Some("2026-12-07T09:30:00Z"),
                held: Some((Notice::Updated, "2026-12-07T09:40:00Z")),
                now: "2026-12-07T10:00:00Z",
                quiet: "",
                expect: Err(Some((Notice::Updated, "2026-12-07T10:30:00Z"))),
            },
            Row {
                what: "the ticker sends a held update once the interval is over",
                change: None,
                severity: High,
                told_before: true,
                last_notified: Some("2026-12-07T09:30:00Z"),
                held: Some((Notice::Updated, "2026-12-07T09:40:00Z")),
                now: "2026-12-07T10:31:00Z",
                quiet: "",
                expect: Ok(Notice::Updated),
            },
            Row {
                what: "an escalation overtakes a held update",
                change: ESCALATED,
                severity: Critical,
                told_before: true,
                last_notified: Some("2026-12-07T09:30:00Z"),
                held: Some((Notice::Updated, "2026-12-07T09:40:00Z")),
                now: "2026-12-07T10:00:00Z",
                quiet: "",
                expect: Ok(Notice::Escalated),
            },
            Row {
                what: "a low incident goes to the next digest (08:00 Paris = 07:00 UTC)",
                change: Some(Change::Opened),
                severity: Low,
                told_before: false,
                last_notified: None,
                held: None,
                now: "2026-12-07T10:00:00Z",
                quiet: "",
                expect: Err(Some((Notice::Digest, "2026-12-08T07:00:00Z"))),
            },
            Row {
                what: "the digest goes at its hour",
                change: None,
                severity: Low,
                told_before: false,
                last_notified: None,
                held: Some((Notice::Digest, "2026-12-07T10:00:00Z")),
                now: "2026-12-08T07:00:30Z",
                quiet: "",
                expect: Ok(Notice::Digest),
            },
            Row {
                what: "a low incident escalated before its digest is opened at once",
                change: ESCALATED,
                severity: Medium,
                told_before: false,
                last_notified: None,
                held: Some((Notice::Digest, "2026-12-07T10:00:00Z")),
                now: "2026-12-07T11:00:00Z",
                quiet: "",
                expect: Ok(Notice::Opened),
            },
            Row {
                what: "quiet hours hold a high incident until they end (07:00 Paris = 06:00 UTC)",
                change: Some(Change::Opened),
                severity: High,
                told_before: false,
                last_notified: None,
                held: None,
                now: "2026-12-07T22:30:00Z",
                quiet: "22:00-07:00",
                expect: Err(Some((Notice::Opened, "2026-12-08T06:00:00Z"))),
            },
            Row {
                what: "quiet hours after midnight end the same morning",
                change: Some(Change::Opened),
                severity: Medium,
                told_before: false,
                last_notified: None,
                held: None,
                now: "2026-12-08T02:00:00Z",
                quiet: "22:00-07:00",
                expect: Err(Some((Notice::Opened, "2026-12-08T06:00:00Z"))),
            },
            Row {
                what: "quiet hours do not delay a critical incident",
                change: Some(Change::Opened),
                severity: Critical,
                told_before: false,
                last_notified: None,
                held: None,
                now: "2026-12-07T23:30:00Z",
                quiet: "22:00-07:00",
                expect: Ok(Notice::Opened),
            },
            Row {
                what: "an opening held by quiet hours goes at once when it turns critical",
                change: ESCALATED,
                severity: Critical,
                told_before: false,
                last_notified: None,
                held: Some((Notice::Opened, "2026-12-07T22:30:00Z")),
                now: "2026-12-07T23:30:00Z",
                quiet: "22:00-07:00",
                expect: Ok(Notice::Opened),
            },
            Row {
                what: "outside quiet hours nothing waits",
                change: Some(Change::Opened),
                severity: High,
                told_before: false,
                last_notified: None,
                held: None,
                now: "2026-12-07T12:00:00Z",
                quiet: "22:00-07:00",
                expect: Ok(Notice::Opened),
            },
            Row {
                what: "a digest that falls in quiet hours goes when they end",
                change: None,
                severity: Low,
                told_before: false,
                last_notified: None,
                held: Some((Notice::Digest, "2026-12-07T10:00:00Z")),
                now: "2026-12-08T07:00:30Z",
                quiet: "22:00-09:30",
                expect: Err(Some((Notice::Digest, "2026-12-08T08:30:00Z"))),
            },
            Row {
                what: "an update due in quiet hours waits for their end",
                change: Some(Change::Extended),
                severity: High,
                told_before: true,
                last_notified: Some("2026-12-07T20:30:00Z"),
                held: None,
                now: "2026-12-07T21:00:00Z",
                quiet: "22:00-07:00",
                expect: Err(Some((Notice::Updated, "2026-12-08T06:00:00Z"))),
            },
            Row {
                what: "more evidence on an incident never told (no channel then) says nothing",
                change: Some(Change::Extended),
                severity: High,
                told_before: false,
                last_notified: None,
                held: None,
                now: "2026-12-07T12:00:00Z",
                quiet: "",
                expect: Err(None),
            },
            Row {
                what: "nothing held and no change: nothing",
                change: None,
                severity: High,
                told_before: true,
                last_notified: None,
                held: None,
                now: "2026-12-07T12:00:00Z",
                quiet: "",
                expect: Err(None),
            },
        ];
        for row in rows {
            let policy = policy(row.quiet, "Europe/Paris");
            let case = Case {
                change: row.change,
                severity: row.severity,
                told_before: row.told_before,
                last_notified: row.last_notified.map(t),
                held: row.held.map(|(n, since)| (n, t(since))),
            };
            let got = decide(&case, &policy, t(row.now));
            let want = match row.expect {
                Ok(notice) => Decision::Send(notice),
                Err(None) => Decision::Nothing,
                Err(Some((notice, until))) => match got {
                    Decision::Hold { since, .. } => Decision::Hold {
                        notice,
                        since,
                        until: t(until),
                    },
                    other => panic!("{}: held expected, got {other:?}", row.what),
                },
            };
            assert_eq!(got, want, "{}", row.what);
        }
    }

    #[test]
    fn the_digest_hour_is_local_time() {
        let mut paris = policy("", "Europe/Paris");
        paris.digest_hour = 8;
        // 10:00 UTC on 7 December is 11:00 in Paris: the next 08:00 there is 07:00 UTC.
        assert_eq!(
            next_digest(t("2026-12-07T10:00:00Z"), &paris),
            t("2026-12-08T07:00:00Z")
        );
        assert_eq!(
            next_digest(t("2026-12-07T06:00:00Z"), &paris),
            t("2026-12-07T07:00:00Z")
        );
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(
            QuietHours::parse("22:00-07:00")
                .expect("parse")
                .map(|q| q.to_string()),
            Some("22:00-07:00".to_owned())
        );
        assert_eq!(QuietHours::parse(" ").expect("blank"), None);
        for wrong in ["22-07", "22:00", "25:00-07:00", "07:00-07:00", "7:00-8:00"] {
            assert!(QuietHours::parse(wrong).is_err(), "{wrong}");
        }
        let bad_tz = NotifySettings {
            timezone: Some("Mars/Olympus".into()),
            ..NotifySettings::default()
        };
        assert_eq!(
            Policy::check(&bad_tz),
            Err(PolicyError::TimeZone("Mars/Olympus".into()))
        );
        let fast = NotifySettings {
            update_interval: Some(SignedDuration::from_secs(5)),
            ..NotifySettings::default()
        };
        assert_eq!(Policy::check(&fast), Err(PolicyError::Interval));
        assert!(PolicyConfig::default().validate().is_ok());
    }
}
