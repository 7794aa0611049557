//! What detectors emit and what detections become.

use std::fmt;
use std::net::IpAddr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{EventId, OrgId};

/// The kinds of attack tocsin recognises. The snake_case names are part of the output
/// format (`kind` in `scan --json` and the API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectionKind {
    /// Many failed attempts against one account.
    BruteForce,
    /// One source failing against many accounts, a few attempts each.
    PasswordSpray,
    /// One source trying many accounts once or twice each, many of which do not exist:
    /// a list of leaked user names and passwords replayed.
    CredentialStuffing,
    /// Many sources, each used once or twice and never successfully, failing against
    /// many accounts of one organisation over hours or days (low and slow).
    DistributedSpray,
    /// One source network failing against accounts of several organisations protected
    /// by the same service.
    CrossOrgCampaign,
    /// Messages judged phishing by the mail analyser, sent to enrolled accounts: a
    /// lookalike or impersonated sender, a lure, a dangerous link or attachment.
    Phishing,
    /// Sign-ins from an address that the operator's threat intelligence names: a live
    /// indicator, whatever the detectors make of the volume.
    KnownIndicator,
}

impl DetectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DetectionKind::BruteForce => "brute_force",
            DetectionKind::PasswordSpray => "password_spray",
            DetectionKind::CredentialStuffing => "credential_stuffing",
            DetectionKind::DistributedSpray => "distributed_spray",
            DetectionKind::CrossOrgCampaign => "cross_org_campaign",
            DetectionKind::Phishing => "phishing",
            DetectionKind::KnownIndicator => "known_indicator",
        }
    }

    /// The attack's name for people, capitalised: "Password spray".
    pub fn title(self) -> &'static str {
        match self {
            DetectionKind::BruteForce => "Brute force",
            DetectionKind::PasswordSpray => "Password spray",
            DetectionKind::CredentialStuffing => "Credential stuffing",
            DetectionKind::DistributedSpray => "Distributed password spray",
            DetectionKind::CrossOrgCampaign => "Campaign across organisations",
            DetectionKind::Phishing => "Spear-phishing",
            DetectionKind::KnownIndicator => "Sign-ins from known hostile infrastructure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "brute_force" => Some(DetectionKind::BruteForce),
            "password_spray" => Some(DetectionKind::PasswordSpray),
            "credential_stuffing" => Some(DetectionKind::CredentialStuffing),
            "distributed_spray" => Some(DetectionKind::DistributedSpray),
            "cross_org_campaign" => Some(DetectionKind::CrossOrgCampaign),
            "phishing" => Some(DetectionKind::Phishing),
            "known_indicator" => Some(DetectionKind::KnownIndicator),
            _ => None,
        }
    }

    /// The MITRE ATT&CK technique this kind of attack is.
    pub fn technique(self) -> Technique {
        match self {
            DetectionKind::BruteForce => Technique::PASSWORD_GUESSING,
            DetectionKind::PasswordSpray => Technique::PASSWORD_SPRAYING,
            DetectionKind::CredentialStuffing => Technique::CREDENTIAL_STUFFING,
            DetectionKind::DistributedSpray => Technique::PASSWORD_SPRAYING,
            DetectionKind::CrossOrgCampaign => Technique::PASSWORD_SPRAYING,
            DetectionKind::Phishing => Technique::PHISHING,
            DetectionKind::KnownIndicator => Technique::VALID_ACCOUNTS,
        }
    }
}

impl fmt::Display for DetectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A MITRE ATT&CK technique id such as `T1110.003`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Technique(&'static str);

impl Technique {
    /// T1110.001 Brute Force: Password Guessing.
    pub const PASSWORD_GUESSING: Technique = Technique("T1110.001");
    /// T1110.003 Brute Force: Password Spraying.
    pub const PASSWORD_SPRAYING: Technique = Technique("T1110.003");
    /// T1110.004 Brute Force: Credential Stuffing.
    pub const CREDENTIAL_STUFFING: Technique = Technique("T1110.004");
    /// T1566 Phishing (spear-phishing links and attachments, .001 and .002).
    pub const PHISHING: Technique = Technique("T1566");
    /// T1078 Valid Accounts: what an attacker who got in does next.
    pub const VALID_ACCOUNTS: Technique = Technique("T1078");

    pub fn id(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// How urgently the targeted organisation must act. Ordered: a change to a higher
/// severity is an escalation and is notified again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    /// An account is probably in the attacker's hands.
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding of one detector, with the evidence behind it.
///
/// A detector emits a detection when an attack first crosses its threshold and again,
/// with only the new evidence, each time the same attack goes on. Detections with the
/// same `org` and `campaign_key` belong to the same incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    pub kind: DetectionKind,
    pub org: OrgId,
    /// Detector-defined identity of the attack: the source for a spray, the account for a
    /// brute force.
    pub campaign_key: String,
    pub severity: Severity,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Accounts targeted by the evidence in this detection, sorted, without repeats.
    pub accounts: Vec<String>,
    /// Addresses the evidence came from, sorted, without repeats.
    pub sources: Vec<IpAddr>,
    /// Accounts that a source of this attack then signed in to (or whose password it
    /// proved valid): the attack probably succeeded.
    pub compromised: Vec<String>,
    /// The sign-ins this detection rests on that no earlier detection of the same attack
    /// carried.
    pub evidence: Vec<EventId>,
    /// Why the detector fired, one sentence each, for people. A further sign-in of an
    /// attack already reported carries none unless it makes the attack worse.
    pub reasons: Vec<String>,
}

/// Where an incident is in its life: new → notified → acknowledged → resolved, or
/// false positive (with a reason that feeds tuning) from any open state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// Opened; the organisation has not been told yet.
    New,
    /// A notification has been queued for the organisation.
    Notified,
    /// The organisation has seen it and is acting on it.
    Acknowledged,
    /// The organisation has dealt with it. New evidence of the same attack opens a new
    /// incident.
    Resolved,
    /// The organisation says it was no attack; the reason is kept for tuning.
    FalsePositive,
}

impl IncidentState {
    pub const ALL: [IncidentState; 5] = [
        IncidentState::New,
        IncidentState::Notified,
        IncidentState::Acknowledged,
        IncidentState::Resolved,
        IncidentState::FalsePositive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::New => "new",
            IncidentState::Notified => "notified",
            IncidentState::Acknowledged => "acknowledged",
            IncidentState::Resolved => "resolved",
            IncidentState::FalsePositive => "false_positive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        IncidentState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
    }

    /// Whether new detections of the same attack still join this incident. A closed
    /// incident stays as the organisation left it; the attack coming back is news.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            IncidentState::New | IncidentState::Notified | IncidentState::Acknowledged
        )
    }

    /// Whether a person may move an incident from this state to `to`. Detections and
    /// notifications move `new` to `notified`; people acknowledge, resolve and reject.
    pub fn may_become(self, to: IncidentState) -> bool {
        use IncidentState::*;
        matches!(
            (self, to),
            (New | Notified, Acknowledged)
                | (New | Notified | Acknowledged, Resolved | FalsePositive)
                | (New, Notified)
        )
    }
}

impl fmt::Display for IncidentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attack on one organisation, built from one or more detections.
///
/// The serde shape is the incident object of `scan --json` and of the HTTP API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: String,
    #[serde(skip)]
    pub org: OrgId,
    pub kind: DetectionKind,
    pub technique: Technique,
    pub severity: Severity,
    pub state: IncidentState,
    #[serde(skip)]
    pub campaign_key: String,
    /// Targeted accounts, sorted, capped at [`Incident::MAX_LISTED`].
    pub accounts: Vec<String>,
    /// Source addresses, sorted, capped at [`Incident::MAX_LISTED`].
    pub sources: Vec<String>,
    /// Accounts the attacker probably got into.
    pub compromised_accounts: Vec<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// How many sign-ins the incident rests on (all of them, also those not listed).
    pub evidence_count: u64,
    pub summary: String,
    /// Why the detectors opened the incident and why it got worse, one sentence each,
    /// at most [`Incident::MAX_REASONS`].
    pub reasons: Vec<String>,
    /// Threat-intelligence indicators its sources, senders, links or attachments matched,
    /// at most [`Incident::MAX_INDICATORS`].
    pub indicators: Vec<IndicatorMatch>,
    /// Who is probably behind it and how sure tocsin is, with the evidence; `None` until
    /// the intelligence has weighed it (an unattributed incident says so explicitly).
    pub attribution: Option<crate::attribution::Attribution>,
}

/// One live indicator of the operator's threat intelligence that matched one value of an
/// event: which indicator, from which feed, on what.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IndicatorMatch {
    /// The feed's id for the indicator (`indicator--<uuid>`, a MISP attribute uuid,
    /// `<list>:<line>`).
    pub indicator: String,
    /// The feed it came from, as the operator named it.
    pub feed: String,
    /// The STIX object path compared, e.g. `domain-name:value`.
    pub field: String,
    /// The value in the event that matched, e.g. `login.evil.example` for an indicator on
    /// `evil.example`.
    pub observed: String,
    /// The indicator's STIX pattern, for people to read.
    pub pattern: String,
    /// Actors the feed links the indicator to (catalogue ids or imported ids).
    pub actors: Vec<String>,
    /// The indicator's labels and tags (`tor-exit`, `tlp:amber`): what kind of
    /// infrastructure it is, for the attribution.
    #[serde(default)]
    pub labels: Vec<String>,
}

impl Incident {
    /// Lists of accounts and sources stop growing here; the counts go on. An attacker who
    /// sprays a million accounts must not make one incident a million rows long.
    pub const MAX_LISTED: usize = 1000;
    /// Reasons kept per incident: those of its opening and of each escalation.
    pub const MAX_REASONS: usize = 20;
    /// Indicator matches kept per incident; the first ones say who and what.
    pub const MAX_INDICATORS: usize = 50;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_only_open_ones_take_evidence() {
        for state in IncidentState::ALL {
            assert_eq!(IncidentState::parse(state.as_str()), Some(state));
        }
        let open: Vec<_> = IncidentState::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(
            open,
            [
                IncidentState::New,
                IncidentState::Notified,
                IncidentState::Acknowledged
            ]
        );
    }

    #[test]
    fn closed_incidents_stay_closed() {
        use IncidentState::*;
        assert!(Notified.may_become(Acknowledged));
        assert!(Acknowledged.may_become(Resolved));
        assert!(New.may_become(FalsePositive));
        assert!(!Resolved.may_become(Acknowledged));
        assert!(!FalsePositive.may_become(Resolved));
        assert!(!Acknowledged.may_become(Acknowledged));
        assert!(!Acknowledged.may_become(Notified));
    }
}
