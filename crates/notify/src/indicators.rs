//! Indicator hits in the pipeline: a sign-in from an address the operator's intelligence
//! names becomes a `known_indicator` detection on its own, whatever its volume, and the
//! indicators an incident's sources matched travel with the incident (and into its
//! attribution) whichever detector opened it.

use std::net::IpAddr;

use intel::live::Loaded;
use intel::{Match, Observed};
use mail::signals::links::Link;
use model::{
    Detection, DetectionKind, EventId, Incident, MailRecord, OrgId, Outcome, Severity, SignIn,
};

/// The detection for one sign-in that matched `matches` (not empty). One incident per
/// organisation and first indicator: a feed's indicator is one piece of infrastructure.
pub fn detection(org: OrgId, id: EventId, sign_in: &SignIn, matches: &[Match]) -> Detection {
    let first = &matches[0];
    let linked = matches.iter().any(|m| !m.actors.is_empty());
    let succeeded = sign_in.outcome == Outcome::Success;
    let severity = match (succeeded, linked) {
        (true, _) => Severity::Critical,
        (false, true) => Severity::High,
        (false, false) => Severity::Medium,
    };
    let source = sign_in
        .source_ip
        .map_or_else(|| "an unknown address".to_string(), |ip| ip.to_string());
    let outcome = match sign_in.outcome {
        Outcome::Success => "a successful sign-in",
        Outcome::Failure => "a failed sign-in",
        Outcome::PreAuth => "a connection that stopped before a password",
    };
    let mut reasons = vec![format!(
        "{source} is named by indicator {} of feed {} ({}); {outcome} to {} came from \
         it.",
        first.indicator, first.feed, first.pattern, sign_in.account
    )];
    reasons.extend(matches.iter().skip(1).take(4).map(|m| {
        format!(
            "{} also matches indicator {} of feed {} ({}).",
            m.observed, m.indicator, m.feed, m.pattern
        )
    }));
    Detection {
        kind: DetectionKind::KnownIndicator,
        org,
        campaign_key: format!("indicator:{}:{}", first.feed, first.indicator),
        severity,
        first_seen: sign_in.time,
        last_seen: sign_in.time,
        accounts: vec![sign_in.account.clone()],
        sources: sign_in.source_ip.into_iter().collect(),
        compromised: if succeeded {
            vec![sign_in.account.clone()]
        } else {
            Vec::new()
        },
        evidence: vec![id],
        reasons,
    }
}

/// Adds `matches` to what the incident lists, without repeats and at most
/// [`Incident::MAX_INDICATORS`]. Returns whether anything was added.
pub fn attach<'a>(incident: &mut Incident, matches: impl IntoIterator<Item = &'a Match>) -> bool {
    let mut added = false;
    for m in matches {
        if incident.indicators.len() >= Incident::MAX_INDICATORS {
            break;
        }
        let known = incident.indicators.iter().any(|held| {
            held.indicator == m.indicator && held.feed == m.feed && held.observed == m.observed
        });
        if !known {
            incident.indicators.push(m.clone());
            added = true;
        }
    }
    added
}

/// Source addresses of one incident looked up; an incident lists at most
/// [`Incident::MAX_LISTED`] and the first ones are the attack's.
const SOURCES_LOOKED_UP: usize = 100;

/// Attaches what the incident's source addresses match in the live intelligence, at the
/// incident's last activity: whichever detector opened it (a spray, a campaign settled by
/// a later sign-in), its sources' indicators travel with it. Only address matches: an
/// account match belongs to that account's organisation alone. Returns whether anything
/// was added.
pub fn attach_sources(incident: &mut Incident, intel: &Loaded) -> bool {
    let matches: Vec<Match> = incident
        .sources
        .iter()
        .take(SOURCES_LOOKED_UP)
        .filter_map(|source| source.parse::<IpAddr>().ok())
        .flat_map(|ip| {
            let seen = Observed {
                ips: vec![ip],
                ..Observed::default()
            };
            intel.matches(&seen, incident.last_seen)
        })
        .collect();
    attach(incident, &matches)
}

/// Where a message's links (`mail::signals::links::extract`) point, normalised as indicators are, without repeats and at
/// most [`MailRecord::MAX_LINKS`]: what the mail intake, `scan` and a later retro-hunt
/// match URLs and link hosts against.
pub fn link_targets(links: &[Link]) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    for link in links {
        if targets.len() >= MailRecord::MAX_LINKS {
            break;
        }
        if let Some(url) = intel::normal::url(&link.href)
            && !targets.contains(&url)
        {
            targets.push(url);
        }
    }
    targets
}

/// The evidence of a `known_indicator` mail reason: what matched, which indicator and
/// feed, and the actors the feed links it to.
pub fn mail_evidence(m: &Match) -> String {
    let actors = if m.actors.is_empty() {
        String::new()
    } else {
        format!(", linked to {}", m.actors.join(", "))
    };
    format!(
        "{} {} is indicator {} of feed {}{actors}",
        m.field, m.observed, m.indicator, m.feed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Format, IncidentState, Origin, Protocol};

    fn sign_in(account: &str, ip: &str, outcome: Outcome) -> SignIn {
        SignIn {
            time: "2026-12-01T10:00:00Z".parse().expect("time"),
            account: account.into(),
            source_ip: Some(ip.parse().expect("ip")),
            outcome,
            failure_kind: None,
            protocol: Protocol::Imap,
            app: None,
            result_code: None,
            reason: None,
            record_id: None,
            country: None,
            asn: None,
            user_agent: None,
            format: Format::EntraGraph,
            origin: Origin::RequestLine {
                request: "test".into(),
                line: 1,
            },
            authentication: None,
        }
    }

    fn hit(indicator: &str, field: &str, observed: &str) -> Match {
        Match {
            indicator: indicator.into(),
            feed: "isac".into(),
            field: field.into(),
            observed: observed.into(),
            pattern: format!("[{field} = '{observed}']"),
            actors: vec!["apt28".into()],
            labels: vec![],
        }
    }

    #[test]
    fn a_successful_sign_in_from_a_named_address_is_critical_and_compromises_the_account() {
        let sign_in = sign_in("ana@clinic.example", "198.51.100.7", Outcome::Success);
        let matches = [hit("indicator--1", "ipv4-addr:value", "198.51.100.7")];
        let d = detection(OrgId(3), EventId(9), &sign_in, &matches);
        assert_eq!(d.kind, DetectionKind::KnownIndicator);
        assert_eq!(d.campaign_key, "indicator:isac:indicator--1");
        assert_eq!(d.severity, Severity::Critical);
        assert_eq!(d.compromised, ["ana@clinic.example"]);
        assert!(
            d.reasons[0].contains("indicator--1 of feed isac"),
            "{}",
            d.reasons[0]
        );
    }

    #[test]
    fn incidents_inherit_the_indicators_of_their_source_addresses_once() {
        let indicator = intel::Indicator {
            id: "indicator--1".into(),
            feed: "isac".into(),
            pattern: "[ipv4-addr:value = '198.51.100.0/24']".into(),
            name: None,
            valid_from: None,
            valid_until: None,
            modified: None,
            actors: vec!["apt28".into()],
            techniques: vec![],
            malware: vec![],
            confidence: None,
            labels: vec!["anonymising-vpn".into()],
        };
        let intel = Loaded::build(vec![indicator], &[], vec![], jiff::Timestamp::MIN);
        let t = jiff::Timestamp::UNIX_EPOCH;
        let mut incident = Incident {
            id: "i".into(),
            org: OrgId(1),
            kind: DetectionKind::PasswordSpray,
            technique: DetectionKind::PasswordSpray.technique(),
            severity: Severity::Medium,
            state: IncidentState::New,
            campaign_key: "k".into(),
            accounts: vec![],
            sources: vec![
                "198.51.100.7".into(),
                "203.0.113.1".into(),
                "not an address".into(),
            ],
            compromised_accounts: vec![],
            first_seen: t,
            last_seen: t,
            evidence_count: 1,
            summary: String::new(),
            reasons: vec![],
            indicators: vec![],
            attribution: None,
        };
        assert!(attach_sources(&mut incident, &intel));
        assert!(
            !attach_sources(&mut incident, &intel),
            "nothing new the second time"
        );
        assert_eq!(incident.indicators.len(), 1);
        assert_eq!(incident.indicators[0].observed, "198.51.100.7");
        assert_eq!(incident.indicators[0].labels, ["anonymising-vpn"]);
    }
}
