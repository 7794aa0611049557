//! What a notification says: the incident, the evidence, and what to do now.
//!
//! The JSON built here is the webhook body, documented in docs/webhooks.md. It is built
//! once when the notification is queued and sent byte for byte on every attempt.

use serde::Serialize;

use model::{DetectionKind, Incident, OrgId};
use store::{StoredMail, StoredSignIn};

/// How many sign-ins a notification carries; the rest are one API call away.
pub const EVIDENCE_IN_NOTIFICATION: usize = 20;

#[derive(Serialize)]
struct Notification<'a> {
    event: &'a str,
    delivery_id: &'a str,
    organisation: OrganisationRef<'a>,
    incident: &'a Incident,
    evidence: Vec<&'a StoredSignIn>,
    /// The messages judged phishing, for a phishing incident: headers, verdict and
    /// reasons, never the body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<&'a StoredMail>,
    recommended_actions: Vec<&'static str>,
}

#[derive(Serialize)]
struct OrganisationRef<'a> {
    id: OrgId,
    name: &'a str,
}

/// The webhook body for `event` on `incident`.
pub fn notification(
    event: &str,
    delivery_id: &str,
    org_name: &str,
    incident: &Incident,
    evidence: &[StoredSignIn],
    messages: &[StoredMail],
) -> String {
    let body = Notification {
        event,
        delivery_id,
        organisation: OrganisationRef {
            id: incident.org,
            name: org_name,
        },
        incident,
        evidence: evidence.iter().take(EVIDENCE_IN_NOTIFICATION).collect(),
        messages: messages.iter().take(EVIDENCE_IN_NOTIFICATION).collect(),
        recommended_actions: recommended_actions(incident),
    };
    // Serialising plain data with string keys cannot fail.
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
    }
    actions
}
