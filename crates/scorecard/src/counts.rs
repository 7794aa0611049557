//! The tally of one organisation's week that every metric is computed from. The store
//! fills it; each field says exactly what is counted, and docs/metrics.md repeats it.

use serde::{Deserialize, Serialize};

use crate::posture::DomainPosture;

/// Lookalike domains kept per week: enough to act on, bounded against a flood of mail.
pub const MAX_LOOKALIKES: usize = 50;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WeekCounts {
    /// Sign-in attempts of the week, any outcome (pre-authentication probes excluded).
    pub sign_ins: u64,
    /// Successful sign-ins.
    pub successes: u64,
    /// Successful sign-ins whose source records how they were authenticated.
    pub successes_with_strength: u64,
    /// Of those, completed with a second factor (phishing-resistant ones included).
    pub successes_multi_factor: u64,
    /// Of those, completed with a phishing-resistant factor.
    pub successes_phishing_resistant: u64,
    /// Accounts with at least one successful sign-in whose strength is recorded.
    pub active_accounts: u64,
    /// Of those, accounts none of whose recorded successful sign-ins was single-factor.
    pub active_accounts_multi_factor: u64,
    /// Successful sign-ins over a legacy protocol (IMAP, POP, SMTP AUTH, Exchange
    /// ActiveSync and other basic-auth Exchange protocols, Entra "Other clients").
    pub legacy_successes: u64,
    /// Sign-in attempts over a legacy protocol, any outcome: what attackers still find
    /// open.
    pub legacy_attempts: u64,
    /// Failed sign-ins because the account was locked: whatever the parsers read as
    /// `FailureKind::Locked` (Entra 50053 Smart Lockout, Okta `user.account.lock`, O365
    /// `IdsLocked`, Windows 4625 0xC0000234, Kerberos 0x12; docs/metrics.md lists them).
    pub lockouts: u64,
    /// Distinct accounts locked at least once.
    pub locked_accounts: u64,
    /// Password attacks first seen this week: brute force, password spray and
    /// distributed spray incidents.
    pub attacks: u64,
    /// Of those, attacks that ended in an accepted password or a sign-in (an account
    /// listed as compromised).
    pub attacks_succeeded: u64,
    /// Distinct accounts those attacks targeted.
    pub targeted_accounts: u64,
    /// Inbound messages analysed.
    pub messages: u64,
    /// Messages judged phishing.
    pub phishing_messages: u64,
    /// Distinct recipient addresses at the organisation's verified domains (exact match)
    /// in the week's mail: the mailboxes mail reached. Every recipient counts when the
    /// organisation has no verified domain.
    pub mailboxes: u64,
    /// Sender domains of the week's mail that imitate one of the organisation's own
    /// domains (lookalike reasons), at most [`MAX_LOOKALIKES`].
    pub lookalike_domains: Vec<String>,
    /// Messages whose From is at one of the organisation's own domains and that failed
    /// DMARC at a trusted receiving host: spoofs of the organisation itself.
    pub own_domain_spoofs: u64,
    /// Incidents whose first notification was queued (not held back) this week.
    pub notified_incidents: u64,
    /// Median seconds from an incident's first queued notification to its
    /// acknowledgement (or resolution, when it was never acknowledged), over this week's
    /// notified incidents that were acknowledged.
    pub acknowledge_seconds: Option<u64>,
    /// Median seconds from first notification to resolution, over this week's notified
    /// incidents that were resolved.
    pub resolve_seconds: Option<u64>,
    /// Messages whose From is at one of the organisation's own domains and that a trusted
    /// receiving host judged by DMARC (pass or fail): the organisation's own mail as
    /// others see it.
    pub own_domain_messages: u64,
    /// Of those, messages with an aligned DMARC pass.
    pub own_domain_dmarc_pass: u64,
    /// Notified incidents still unacknowledged when the week was counted.
    pub unacknowledged: u64,
    /// Sign-in formats that delivered at least one record this week (`entra_graph`,
    /// `sshd`, …).
    pub sign_in_sources: Vec<String>,
    /// Pull connectors configured (Graph, Okta, Google). Syslog and file tails are the
    /// operator's, not the organisation's, and are not counted.
    pub connectors: u64,
    /// Of those, connectors in error when counted.
    pub connectors_failing: u64,
    /// Accounts with a successful sign-in in the 28 days to the week's end: the staff
    /// tocsin can see.
    pub staff: u64,
    /// Staff personal addresses confirmed for watching (opted in) at the week's end.
    pub staff_opted_in: u64,
    /// The mail-domain posture of each verified domain, as last read from DNS.
    pub domains: Vec<DomainPosture>,
}
