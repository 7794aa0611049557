//! The normalised sign-in event that every source is parsed into.

use std::fmt;
use std::net::IpAddr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::OrgId;

/// One authentication attempt, whatever system reported it.
///
/// The serde shape of this type is the NDJSON that `tocsin parse` prints; docs/output.md
/// documents it and it only grows compatibly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    /// When the attempt happened, as the source recorded it (event time, UTC).
    pub time: Timestamp,
    /// The account the attempt was made against, lower-cased (a UPN, a mail address or a
    /// local user name).
    pub account: String,
    /// Where the attempt came from, when the source says.
    pub source_ip: Option<IpAddr>,
    pub outcome: Outcome,
    /// Why the attempt failed; `None` on success.
    pub failure_kind: Option<FailureKind>,
    pub protocol: Protocol,
    /// The application signed in to, as the source names it (`appDisplayName`, `sshd`).
    pub app: Option<String>,
    /// The source's own result code (Entra `status.errorCode`), kept for analysts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_code: Option<String>,
    /// The source's own words for a failure (`status.failureReason`, the sshd message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The source's unique id for this record, used to drop duplicates on re-delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// ISO 3166 country code the source (or enrichment) located the address in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Autonomous system number of the address, from the source or enrichment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// The client's user agent, when the source records one. Attack tools reuse theirs
    /// across targets, which ties campaigns together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// How strongly a successful sign-in was authenticated, when the source says
    /// (Entra `authenticationRequirement`/`authenticationDetails`, Okta's factor, Google's
    /// `login_challenge_method`). `None` for sources that do not record it (sshd, IMAP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Authentication>,
    pub format: Format,
    pub origin: Origin,
}

impl SignIn {
    pub fn is_failure(&self) -> bool {
        self.outcome == Outcome::Failure
    }

    /// The network the source address belongs to, as detectors group addresses: the /24
    /// of an IPv4 address, the /64 of an IPv6 one (one subscriber's allocation).
    pub fn source_network(&self) -> Option<Network> {
        self.source_ip.map(Network::of)
    }

    /// The sign-in as tocsin prints it (`tocsin parse`): its fields and, derived from the
    /// address, the `source_network` that detectors key sprays by.
    pub fn printed(&self) -> Printed<'_> {
        Printed {
            sign_in: self,
            source_network: self.source_network(),
        }
    }
}

/// See [`SignIn::printed`].
#[derive(Serialize)]
pub struct Printed<'a> {
    #[serde(flatten)]
    sign_in: &'a SignIn,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_network: Option<Network>,
}

/// An IPv4 /24 or IPv6 /64 network, written `203.0.113.0/24` or `2001:db8:1:2::/64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    /// The /24 or /64 that holds `ip`; an IPv4-mapped IPv6 address counts as IPv4.
    pub fn of(ip: IpAddr) -> Network {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                Network {
                    base: IpAddr::from([a, b, c, 0]),
                    prefix: 24,
                }
            }
            IpAddr::V6(v6) => {
                let s = v6.segments();
                Network {
                    base: IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0]),
                    prefix: 64,
                }
            }
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        Network::of(ip) == *self
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

impl Serialize for Network {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    /// The client went away, or was turned away, before it tried a credential: a scanner
    /// probing the service (sshd "Connection closed by … [preauth]", a TLS or cipher
    /// mismatch). Not a failed sign-in; context for spray detection.
    PreAuth,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::PreAuth => "pre_auth",
        }
    }
}

/// Why a sign-in failed, in terms that matter for detection: a wrong password is what a
/// spray produces, an unknown account is what a dictionary produces, a lockout is what a
/// brute force ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The password (or key) was wrong for an account that exists.
    BadPassword,
    /// The account does not exist (sshd "invalid user", Entra 50034).
    UnknownAccount,
    /// The account is locked out (Entra 50053).
    Locked,
    /// The account is disabled (Entra 50057).
    Disabled,
    /// The password was right but has expired (Entra 50055).
    ExpiredPassword,
    /// The password was right and a second factor was asked for (Entra 50074, 50076).
    /// Not a credential failure: for an attacker it means the password is known.
    MfaRequired,
    /// The second factor failed or was denied (Entra 500121).
    MfaFailed,
    /// A policy blocked the attempt after the password was accepted (Entra 53003
    /// Conditional Access, Okta sign-on policy DENY).
    BlockedByPolicy,
    /// The identity provider refused the source address itself as malicious (Entra 50053
    /// "malicious IP", Entra 50196 loop): nothing about the password is known.
    BlockedSource,
    /// Any other failure.
    Other,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::BadPassword => "bad_password",
            FailureKind::UnknownAccount => "unknown_account",
            FailureKind::Locked => "locked",
            FailureKind::Disabled => "disabled",
            FailureKind::ExpiredPassword => "expired_password",
            FailureKind::MfaRequired => "mfa_required",
            FailureKind::MfaFailed => "mfa_failed",
            FailureKind::BlockedByPolicy => "blocked_by_policy",
            FailureKind::BlockedSource => "blocked_source",
            FailureKind::Other => "other",
        }
    }

    /// Whether this failure means the password itself was accepted: for an attacker it
    /// is as good as a success (the second factor or a policy is all that stood in the
    /// way), and it must never count as a wrong guess.
    pub fn password_was_valid(self) -> bool {
        matches!(
            self,
            FailureKind::ExpiredPassword
                | FailureKind::MfaRequired
                | FailureKind::MfaFailed
                | FailureKind::BlockedByPolicy
        )
    }
}

/// The protocol or client family the attempt used. Legacy protocols matter because they
/// cannot do multi-factor authentication and are what sprays use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Browser,
    /// Modern desktop and mobile clients (OAuth).
    ModernClient,
    ExchangeActiveSync,
    Imap,
    Pop3,
    Smtp,
    /// Exchange Web Services, MAPI, Autodiscover, PowerShell and other Exchange basic-auth
    /// protocols.
    ExchangeLegacy,
    /// Entra's "Other clients".
    OtherClient,
    Ssh,
    Unknown,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Browser => "browser",
            Protocol::ModernClient => "modern_client",
            Protocol::ExchangeActiveSync => "exchange_active_sync",
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
            Protocol::ExchangeLegacy => "exchange_legacy",
            Protocol::OtherClient => "other_client",
            Protocol::Ssh => "ssh",
            Protocol::Unknown => "unknown",
        }
    }

    /// Protocols that authenticate with a password alone and cannot be made to ask for a
    /// second factor.
    pub fn is_legacy(self) -> bool {
        matches!(
            self,
            Protocol::ExchangeActiveSync
                | Protocol::Imap
                | Protocol::Pop3
                | Protocol::Smtp
                | Protocol::ExchangeLegacy
                | Protocol::OtherClient
        )
    }
}

/// The strength of the authentication a sign-in completed, from the weakest: what the
/// governance metrics count as MFA coverage (CIS Controls 6.3/6.5, CISA CPG 2.H).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authentication {
    /// A password (or another single factor) alone.
    SingleFactor,
    /// A second factor that a phishing site can relay: push, one-time code, SMS, call.
    MultiFactor,
    /// A factor bound to the site it signs in to, which a phishing proxy cannot relay:
    /// FIDO2/WebAuthn security keys and passkeys, Windows Hello for Business, certificates.
    PhishingResistant,
}

impl Authentication {
    pub fn as_str(self) -> &'static str {
        match self {
            Authentication::SingleFactor => "single_factor",
            Authentication::MultiFactor => "multi_factor",
            Authentication::PhishingResistant => "phishing_resistant",
        }
    }

    pub fn parse(s: &str) -> Option<Authentication> {
        [
            Authentication::SingleFactor,
            Authentication::MultiFactor,
            Authentication::PhishingResistant,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// Whether a second factor was completed (phishing-resistant ones included).
    pub fn is_multi_factor(self) -> bool {
        self >= Authentication::MultiFactor
    }
}

/// The source format a record was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A Microsoft Graph `signIn` resource (Entra ID sign-in logs).
    EntraGraph,
    /// An Entra sign-in as Azure Monitor / Log Analytics exports it (`SigninLogs`,
    /// `AADNonInteractiveUserSignInLogs`).
    EntraLogAnalytics,
    /// An Office 365 Unified Audit Log record (`UserLoggedIn`, `UserLoginFailed`).
    O365Audit,
    /// An Okta System Log event.
    Okta,
    /// A Google Workspace Reports API `login` activity.
    GoogleWorkspace,
    /// A Windows Security event (4624, 4625, 4771, 4776) as JSON or from an EVTX file.
    WindowsSecurity,
    /// An OpenSSH `sshd` line in a syslog file.
    Sshd,
    /// A Dovecot IMAP/POP authentication line.
    Dovecot,
    /// A Postfix SASL authentication line.
    Postfix,
    /// An Exim authenticator line.
    Exim,
    /// A Roundcube webmail login line.
    Roundcube,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::EntraGraph => "entra_graph",
            Format::EntraLogAnalytics => "entra_log_analytics",
            Format::O365Audit => "o365_audit",
            Format::Okta => "okta",
            Format::GoogleWorkspace => "google_workspace",
            Format::WindowsSecurity => "windows_security",
            Format::Sshd => "sshd",
            Format::Dovecot => "dovecot",
            Format::Postfix => "postfix",
            Format::Exim => "exim",
            Format::Roundcube => "roundcube",
        }
    }
}

/// Where a record was read from, so that a user can find it again.
///
/// Serialised as `{"file": "auth.log", "line": 12}` for line-oriented input,
/// `{"file": "signins.json", "record": 3}` for records inside one JSON document, and
/// `{"request": "…", "line": 3}` for a line of an HTTP intake request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Origin {
    FileLine { file: String, line: u64 },
    FileRecord { file: String, record: u64 },
    RequestLine { request: String, line: u64 },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::FileLine { file, line } => write!(f, "{file}:{line}"),
            Origin::FileRecord { file, record } => write!(f, "{file} record {record}"),
            Origin::RequestLine { request, line } => write!(f, "request {request} line {line}"),
        }
    }
}

/// The stored identity of a sign-in: its row in the store, or its sequence number in an
/// offline scan. Detections refer to their evidence by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub i64);

/// A sign-in as the detectors see it: accepted for one organisation and given an id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub id: EventId,
    pub org: OrgId,
    pub sign_in: SignIn,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_serialises_to_the_documented_shapes() {
        let line = Origin::FileLine {
            file: "auth.log".into(),
            line: 12,
        };
        let record = Origin::FileRecord {
            file: "s.json".into(),
            record: 3,
        };
        let request = Origin::RequestLine {
            request: "r1".into(),
            line: 2,
        };
        assert_eq!(
            serde_json::to_string(&line).expect("json"),
            r#"{"file":"auth.log","line":12}"#
        );
        assert_eq!(
            serde_json::to_string(&record).expect("json"),
            r#"{"file":"s.json","record":3}"#
        );
        assert_eq!(
            serde_json::to_string(&request).expect("json"),
            r#"{"request":"r1","line":2}"#
        );
        assert_eq!(line.to_string(), "auth.log:12");
    }

    #[test]
    fn networks_are_the_slash_24_or_slash_64() {
        let v4 = Network::of("203.0.113.77".parse().expect("ip"));
        assert_eq!(v4.to_string(), "203.0.113.0/24");
        assert!(v4.contains("203.0.113.1".parse().expect("ip")));
        assert!(!v4.contains("203.0.114.1".parse().expect("ip")));
        let mapped = Network::of("::ffff:203.0.113.9".parse().expect("ip"));
        assert_eq!(mapped, v4);
        let v6 = Network::of("2001:db8:1:2:3:4:5:6".parse().expect("ip"));
        assert_eq!(v6.to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn only_password_accepting_failures_count_as_valid_password() {
        assert!(FailureKind::MfaRequired.password_was_valid());
        assert!(!FailureKind::BadPassword.password_was_valid());
        assert!(!FailureKind::UnknownAccount.password_was_valid());
    }
}
