//! Correlation: folding detections into incidents.
//!
//! Pure functions over model types; the caller loads the incident a detection may
//! belong to and stores what comes back. An incident is one attack on one organisation:
//! detections with the same campaign key that arrive while the incident is still recent
//! extend it instead of opening another.

use std::collections::BTreeSet;

use model::{Detection, DetectionKind, Incident, IncidentState, Severity};

/// What a detection did to its incident. Opening and escalating are what the
/// organisation is told about; an extension only adds evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Opened,
    /// The incident became more severe, or an account is newly believed compromised.
    Escalated {
        from: Severity,
    },
    Extended,
}

impl Change {
    /// The notification event name, if the organisation must be told.
    pub fn event(self) -> Option<&'static str> {
        match self {
            Change::Opened => Some("incident.opened"),
            Change::Escalated { .. } => Some("incident.escalated"),
            Change::Extended => None,
        }
    }
}

/// Brings the summary up to date with the incident's counts. [`absorb`] rewrites it when
/// an incident opens or escalates, not for every further sign-in of an attack that goes
/// on (formatting it per sign-in was most of the cost of a flood): call this once before
/// the incident is stored or shown.
pub fn refresh_summary(incident: &mut Incident) {
    incident.summary = summary(incident);
}

/// Folds `detection` into `existing` (the incident of the same organisation and campaign
/// key, if there is a recent one) or opens a new incident with id `new_id`.
pub fn absorb(
    existing: Option<Incident>,
    detection: &Detection,
    new_id: impl FnOnce() -> String,
) -> (Incident, Change) {
    match existing {
        Some(mut incident) => {
            let change = extend(&mut incident, detection);
            (incident, change)
        }
        None => (open(detection, new_id()), Change::Opened),
    }
}

/// A new incident with id `id` from its first detection.
pub fn open(detection: &Detection, id: String) -> Incident {
    let mut incident = Incident {
        id,
        org: detection.org,
        kind: detection.kind,
        technique: detection.kind.technique(),
        severity: detection.severity,
        state: IncidentState::New,
        campaign_key: detection.campaign_key.clone(),
        accounts: capped(detection.accounts.iter().cloned()),
        sources: capped(detection.sources.iter().map(|ip| ip.to_string())),
        compromised_accounts: capped(detection.compromised.iter().cloned()),
        first_seen: detection.first_seen,
        last_seen: detection.last_seen,
        evidence_count: detection.evidence.len() as u64,
        summary: String::new(),
        reasons: detection
            .reasons
            .iter()
            .take(Incident::MAX_REASONS)
            .cloned()
            .collect(),
        indicators: Vec::new(),
        attribution: None,
    };
    incident.summary = summary(&incident);
    incident
}

/// Folds a further detection of the same attack into its incident, in place: an attack
/// that goes on brings one detection per sign-in, so this allocates only for what is new.
pub fn extend(incident: &mut Incident, detection: &Detection) -> Change {
    debug_assert_eq!(
        incident.org, detection.org,
        "correlation never crosses organisations"
    );
    let before = incident.severity;
    let compromised_before = incident.compromised_accounts.len();
    incident.severity = incident.severity.max(detection.severity);
    merge(
        &mut incident.accounts,
        detection.accounts.iter().map(String::as_str),
    );
    merge_sources(&mut incident.sources, &detection.sources);
    merge(
        &mut incident.compromised_accounts,
        detection.compromised.iter().map(String::as_str),
    );
    incident.first_seen = incident.first_seen.min(detection.first_seen);
    incident.last_seen = incident.last_seen.max(detection.last_seen);
    incident.evidence_count += detection.evidence.len() as u64;
    let change =
        if incident.severity > before || incident.compromised_accounts.len() > compromised_before {
            Change::Escalated { from: before }
        } else {
            Change::Extended
        };
    // An extension's reason only counts one more sign-in; the reasons worth keeping say
    // why the incident was opened and why it got worse.
    if change != Change::Extended {
        incident.summary = summary(incident);
        for reason in &detection.reasons {
            if incident.reasons.len() < Incident::MAX_REASONS && !incident.reasons.contains(reason)
            {
                incident.reasons.push(reason.clone());
            }
        }
    }
    change
}

/// Adds items to a sorted list without repeats, until the list is full. An attack that
/// goes on adds one detection per sign-in, so this must not rebuild the list each time,
/// and copies an item only when it is new.
fn merge<'a>(list: &mut Vec<String>, items: impl Iterator<Item = &'a str>) {
    for item in items {
        // Full lists take nothing more; most sign-ins of a flood end here, cheaply.
        if list.len() >= Incident::MAX_LISTED {
            return;
        }
        if let Err(at) = list.binary_search_by(|listed| listed.as_str().cmp(item)) {
            list.insert(at, item.to_owned());
        }
    }
}

/// [`merge`] for addresses, written into one reused buffer rather than a string each.
fn merge_sources(list: &mut Vec<String>, sources: &[std::net::IpAddr]) {
    use std::fmt::Write;
    let mut text = String::with_capacity(40);
    for ip in sources {
        if list.len() >= Incident::MAX_LISTED {
            return;
        }
        text.clear();
        let _ = write!(text, "{ip}");
        merge(list, std::iter::once(text.as_str()));
    }
}

fn capped(items: impl Iterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = items.collect();
    set.into_iter().take(Incident::MAX_LISTED).collect()
}

/// One paragraph a person reads first: what, against whom, from where, when, and
/// whether it worked.
pub fn summary(incident: &Incident) -> String {
    let first = incident
        .first_seen
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    let last = incident.last_seen.strftime("%Y-%m-%d %H:%M:%S").to_string();
    // The date once when the attack fits in one day.
    let last = match last.split_once(' ') {
        Some((day, time)) if first.starts_with(day) => time.to_owned(),
        _ => last,
    };
    let window = if incident.first_seen == incident.last_seen {
        format!("at {first} UTC")
    } else {
        format!("between {first} and {last} UTC")
    };
    let failed = incident
        .evidence_count
        .saturating_sub(incident.compromised_accounts.len() as u64);
    let accounts = listing(&incident.accounts, "account");
    let sources = listing(&incident.sources, "address");
    let mut text = match incident.kind {
        DetectionKind::BruteForce => format!(
            "Brute force against {accounts}: {failed} failed sign-ins from {sources} {window}."
        ),
        DetectionKind::CrossOrgCampaign => format!(
            "Campaign against several organisations from {sources}, here against {accounts}: \
             {failed} failed sign-ins {window}."
        ),
        DetectionKind::Phishing => format!(
            "Spear-phishing against {accounts}: {} judged phishing, from {}, {window}.",
            count(incident.evidence_count, "message"),
            listing(&incident.sources, "sender")
        ),
        DetectionKind::KnownIndicator => format!(
            "Sign-ins from {sources}, which the threat intelligence names, against {accounts}: \
             {} {window}.",
            count(incident.evidence_count, "sign-in")
        ),
        kind => format!(
            "{} from {sources} against {accounts}: {failed} failed sign-ins {window}.",
            kind.title()
        ),
    };
    if !incident.compromised_accounts.is_empty() {
        text.push_str(&format!(
            " The attacker then signed in to {}: treat it as compromised.",
            listing(&incident.compromised_accounts, "account")
        ));
    }
    text
}

/// "alice@x", "alice@x and bob@x", or "17 accounts (alice@x, bob@x, carol@x, …)".
fn listing(items: &[String], noun: &str) -> String {
    match items {
        [] => format!("no known {noun}"),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        _ => {
            let shown: Vec<&str> = items.iter().take(3).map(String::as_str).collect();
            let more = if items.len() > 3 { ", …" } else { "" };
            // Lists stop at the cap; say so rather than understate the attack.
            let plus = if items.len() >= Incident::MAX_LISTED {
                "+"
            } else {
                ""
            };
            format!(
                "{}{plus} {} ({}{more})",
                items.len(),
                plural(noun),
                shown.join(", ")
            )
        }
    }
}

/// "1 message", "3 messages".
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {}", plural(noun))
    }
}

fn plural(noun: &str) -> String {
    if noun.ends_with('s') {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{EventId, OrgId, Timestamp};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn brute_force(evidence: i64, severity: Severity, compromised: &[&str]) -> Detection {
        Detection {
            kind: DetectionKind::BruteForce,
            org: OrgId(7),
            campaign_key: "brute_force:alice@example.org".into(),
            severity,
            first_seen: at("2026-11-23T09:00:00Z"),
            last_seen: at("2026-11-23T09:05:00Z"),
            accounts: vec!["alice@example.org".into()],
            sources: vec!["198.51.100.23".parse().expect("ip")],
            compromised: compromised.iter().map(|s| s.to_string()).collect(),
            evidence: (0..evidence).map(EventId).collect(),
            reasons: vec![],
        }
    }

    #[test]
    fn first_detection_opens_and_later_ones_extend_or_escalate() {
        let (incident, change) = absorb(None, &brute_force(10, Severity::Medium, &[]), || {
            "i1".into()
        });
        assert_eq!(change, Change::Opened);
        assert_eq!(incident.id, "i1");
        assert_eq!(incident.evidence_count, 10);
        assert_eq!(
            incident.summary,
            "Brute force against alice@example.org: 10 failed sign-ins from 198.51.100.23 \
             between 2026-11-23 09:00:00 and 09:05:00 UTC."
        );

        let mut more = brute_force(1, Severity::Medium, &[]);
        more.last_seen = at("2026-11-23T09:07:00Z");
        let (incident, change) = absorb(Some(incident), &more, || unreachable!());
        assert_eq!(change, Change::Extended);
        assert_eq!(incident.evidence_count, 11);
        assert_eq!(incident.last_seen, at("2026-11-23T09:07:00Z"));

        let success = brute_force(1, Severity::Critical, &["alice@example.org"]);
        let (incident, change) = absorb(Some(incident), &success, || unreachable!());
        assert_eq!(
            change,
            Change::Escalated {
                from: Severity::Medium
            }
        );
        assert_eq!(incident.severity, Severity::Critical);
        assert_eq!(
            incident.compromised_accounts,
            vec!["alice@example.org".to_string()]
        );
        assert!(
            incident.summary.ends_with("treat it as compromised."),
            "{}",
            incident.summary
        );
        assert!(
            incident.summary.contains(": 11 failed sign-ins"),
            "{}",
            incident.summary
        );
    }

    #[test]
    fn listed_accounts_stop_at_the_cap_while_counts_go_on() {
        let mut spray = brute_force(1, Severity::Medium, &[]);
        spray.kind = DetectionKind::PasswordSpray;
        spray.accounts = (0..Incident::MAX_LISTED + 50)
            .map(|i| format!("u{i:05}@example.org"))
            .collect();
        let (incident, _) = absorb(None, &spray, || "i".into());
        assert_eq!(incident.accounts.len(), Incident::MAX_LISTED);
        assert!(
            incident
                .summary
                .contains("1000+ accounts (u00000@example.org"),
            "{}",
            incident.summary
        );
    }
}
