//! What a notification says: the incident, the evidence, and what to do now.
//!
//! The JSON built here is the webhook body, documented in docs/webhooks.md. It is built
//! once when the notification is queued and sent byte for byte on every attempt.
//!
//! Two shapes: one incident (`incident.opened`, `incident.escalated`,
//! `incident.updated`), and the daily `digest` listing several. Both carry the playbook
//! of each incident in English (the e-mail renderer takes other languages from
//! [`crate::playbook::for_incident`]) and, for a campaign seen at other organisations,
//! how many, never which.
//!
//! The incident object is the API's, with two notification bounds: at most
//! [`INDICATORS_IN_NOTIFICATION`] indicator matches (and `indicator_count`, how many the
//! incident holds), and the attribution's `headline` beside its fields, so that a
//! receiver can show who is behind it without rebuilding the sentence.

use serde::Serialize;
use serde_json::Value;

use crate::playbook::{self, Language, PlaybookText};
use model::{DetectionKind, Incident, OrgId};
use store::{CampaignReach, StoredMail, StoredSignIn};

/// How many sign-ins a notification carries; the rest are one API call away.
pub const EVIDENCE_IN_NOTIFICATION: usize = 20;

/// How many indicator matches an incident of a notification carries: enough to say who
/// and what, few enough that a digest of 100 incidents stays readable. The incident keeps
/// up to [`Incident::MAX_INDICATORS`], listed by the API.
pub const INDICATORS_IN_NOTIFICATION: usize = 10;

/// The incident as a notification shows it: the API's incident object, its indicator
/// matches cut to [`INDICATORS_IN_NOTIFICATION`] with `indicator_count` saying how many
/// there are, and `attribution.headline` added. The attribution's evidence and
/// alternatives are held to the bounds `intel::attribution` gives them, also for an
/// incident read back from the store.
///
/// Built from the serialised incident rather than a mirror struct, so that a field added
/// to the incident reaches receivers without a change here.
pub fn incident_object(incident: &Incident) -> Value {
    // Serialising plain data with string keys cannot fail.
    let mut value = serde_json::to_value(incident).unwrap_or(Value::Null);
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    if let Some(Value::Array(indicators)) = object.get_mut("indicators") {
        indicators.truncate(INDICATORS_IN_NOTIFICATION);
    }
    object.insert(
        "indicator_count".to_owned(),
        Value::from(incident.indicators.len()),
    );
    if let (Some(attribution), Some(Value::Object(shown))) =
        (&incident.attribution, object.get_mut("attribution"))
    {
        if let Some(Value::Array(evidence)) = shown.get_mut("evidence") {
            evidence.truncate(intel::attribution::MAX_EVIDENCE);
        }
        if let Some(Value::Array(alternatives)) = shown.get_mut("alternatives") {
            alternatives.truncate(intel::attribution::MAX_ALTERNATIVES);
        }
        shown.insert("headline".to_owned(), Value::String(attribution.headline()));
    }
    value
}

#[derive(Serialize)]
struct Notification<'a> {
    event: &'a str,
    delivery_id: &'a str,
    organisation: OrganisationRef<'a>,
    incident: Value,
    evidence: Vec<&'a StoredSignIn>,
    /// The messages judged phishing, for a phishing incident: headers, verdict and
    /// reasons, never the body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<&'a StoredMail>,
    recommended_actions: Vec<&'static str>,
    /// What to do, step by step, from the technique's playbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    playbook: Option<PlaybookText>,
    /// When an account is believed in the attacker's hands: the account-compromise
    /// playbook, to follow first.
    #[serde(skip_serializing_if = "Option::is_none")]
    compromise_playbook: Option<PlaybookText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign: Option<CampaignReach>,
}

#[derive(Serialize)]
struct OrganisationRef<'a> {
    id: OrgId,
    name: &'a str,
}

/// The webhook body for `event` on `incident`, saying how far its campaign reaches when
/// other organisations were hit (`reach` with at least one other).
pub fn document(
    event: &str,
    delivery_id: &str,
    org_name: &str,
    incident: &Incident,
    evidence: &[StoredSignIn],
    messages: &[StoredMail],
    reach: Option<CampaignReach>,
) -> String {
    let body = Notification {
        event,
        delivery_id,
        organisation: OrganisationRef {
            id: incident.org,
            name: org_name,
        },
        incident: incident_object(incident),
        evidence: evidence.iter().take(EVIDENCE_IN_NOTIFICATION).collect(),
        messages: messages.iter().take(EVIDENCE_IN_NOTIFICATION).collect(),
        recommended_actions: recommended_actions(incident),
        playbook: playbook::for_incident(incident, Language::En),
        compromise_playbook: playbook::compromise_for(incident, Language::En),
        campaign: reach.filter(|r| r.other_organisations > 0),
    };
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string(&body).unwrap_or_default()
}

/// Incidents listed in one digest; the rest wait for the next (and the API lists all).
pub const INCIDENTS_IN_DIGEST: usize = 100;

/// One incident of a digest.
pub struct DigestEntry {
    pub incident: Incident,
    pub reach: Option<CampaignReach>,
}

#[derive(Serialize)]
struct Digest<'a> {
    event: &'static str,
    delivery_id: &'a str,
    organisation: OrganisationRef<'a>,
    incidents: Vec<DigestItem>,
}

#[derive(Serialize)]
struct DigestItem {
    incident: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    playbook: Option<PlaybookText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compromise_playbook: Option<PlaybookText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign: Option<CampaignReach>,
}

/// The daily digest: the organisation's low-severity incidents of the day, in one
/// document.
pub fn digest(delivery_id: &str, org: OrgId, org_name: &str, entries: &[DigestEntry]) -> String {
    let body = Digest {
        event: "digest",
        delivery_id,
        organisation: OrganisationRef {
            id: org,
            name: org_name,
        },
        incidents: entries
            .iter()
            .take(INCIDENTS_IN_DIGEST)
            .map(|e| DigestItem {
                incident: incident_object(&e.incident),
                playbook: playbook::for_incident(&e.incident, Language::En),
                compromise_playbook: playbook::compromise_for(&e.incident, Language::En),
                campaign: e.reach.filter(|r| r.other_organisations > 0),
            })
            .collect(),
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// What the organisation should do now, most urgent first.
pub fn recommended_actions(incident: &Incident) -> Vec<&'static str> {
    let mut actions = Vec::new();
    if !incident.compromised_accounts.is_empty() {
        actions.extend([
            "Treat the compromised accounts as in the attacker's hands: reset their passwords and revoke all their sessions and refresh tokens now.",
            "Check the compromised accounts for new MFA methods, mailbox forwarding or inbox rules, OAuth consents and sent mail since the attack began, and remove what the owner did not add.",
        ]);
    }
    match incident.kind {
        DetectionKind::BruteForce => actions.extend([
            "Block the listed source addresses at the identity provider or firewall.",
            "Make sure the targeted accounts use multi-factor authentication and a long, unique password.",
            "Confirm that account lockout (or Entra smart lockout) is on for these accounts.",
        ]),
        DetectionKind::CredentialStuffing => actions.extend([
            "Block the listed source addresses at the identity provider or firewall.",
            "The attacker is replaying a list of leaked user names and passwords: force a password reset for every listed account that exists, and check staff addresses against breach notification services.",
            "Require multi-factor authentication and block legacy authentication, so that a leaked password alone is not enough.",
        ]),
        DetectionKind::PasswordSpray
        | DetectionKind::DistributedSpray
        | DetectionKind::CrossOrgCampaign => actions.extend([
            "Block the listed source addresses at the identity provider or firewall.",
            "Require multi-factor authentication for every targeted account and block legacy authentication (IMAP, POP, SMTP AUTH, Exchange ActiveSync with basic auth), which sprays rely on.",
            "Look for any successful sign-in from the listed addresses, and ban common and breached passwords (Entra password protection).",
        ]),
        DetectionKind::Phishing => actions.extend([
            "Tell the listed recipients not to open the message's links or attachments, and not to reply; if anyone did, or typed a password on a page it led to, reset that password and revoke the account's sessions now.",
            "Find and remove every copy of the message from all mailboxes (Microsoft 365: Content search and purge; Google Workspace: the security investigation tool), searching by sender and subject.",
            "Block the sender's domain and the link hosts listed in the evidence at the mail gateway and the web proxy.",
            "If an attachment was opened, isolate that computer and have it checked for malware before it reconnects.",
        ]),
        DetectionKind::KnownIndicator => actions.extend([
            "Block the listed source addresses at the identity provider, VPN and firewall: the operator's threat intelligence names them.",
            "Check every listed account for a successful sign-in from these addresses, and treat any account that has one as compromised.",
            "Require multi-factor authentication for the targeted accounts and block legacy authentication.",
        ]),
    }
    actions
}
