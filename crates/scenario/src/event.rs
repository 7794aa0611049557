//! Building one generated sign-in so that its fields look like what the parser of its
//! format would produce from the rendered line.
//!
//! Owns the mapping from outcome to Entra error codes and sshd messages, used by both the
//! generators and the renderers; it must not make random choices the caller did not pass in.

use std::net::IpAddr;

use fastrand::Rng;
use jiff::Timestamp;
use model::{Authentication, FailureKind, Format, Origin, Outcome, Protocol, SignIn};

/// The Entra `status.errorCode` and `status.failureReason` for a failure kind, or for a
/// success when `kind` is `None`.
pub(crate) fn entra_status(kind: Option<FailureKind>) -> (u32, Option<&'static str>) {
    match kind {
        None => (0, None),
        Some(FailureKind::BadPassword) => (
            50126,
            Some("Error validating credentials due to invalid username or password."),
        ),
        Some(FailureKind::UnknownAccount) => (
            50034,
            Some(
                "The user account does not exist in the directory. To sign into this \
                 application, the account must be added to the directory.",
            ),
        ),
        Some(FailureKind::Locked) => (
            50053,
            Some(
                "Account is locked because user tried to sign in too many times with an \
                 incorrect user ID or password.",
            ),
        ),
        Some(FailureKind::Disabled) => (50057, Some("User account is disabled.")),
        Some(FailureKind::ExpiredPassword) => (50055, Some("The password is expired.")),
        Some(FailureKind::MfaRequired) => (50074, Some("Strong Authentication is required.")),
        Some(FailureKind::MfaFailed) => (
            500121,
            Some("Authentication failed during strong authentication request."),
        ),
        Some(FailureKind::BlockedByPolicy) => (
            53003,
            Some("Access has been blocked by Conditional Access policies."),
        ),
        Some(FailureKind::BlockedSource) => (
            50053,
            Some("Sign-in was blocked because it came from an IP address with malicious activity"),
        ),
        Some(FailureKind::Other) => (
            50058,
            Some("Session information is not sufficient for single-sign-on."),
        ),
    }
}

/// The application an Entra sign-in over `protocol` is recorded against.
pub(crate) fn entra_app(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Browser => "OfficeHome",
        Protocol::ModernClient => "Microsoft Office",
        Protocol::ExchangeActiveSync
        | Protocol::Imap
        | Protocol::Pop3
        | Protocol::Smtp
        | Protocol::ExchangeLegacy => "Office 365 Exchange Online",
        Protocol::OtherClient | Protocol::Ssh | Protocol::Unknown => "Microsoft Azure CLI",
    }
}

/// How an sshd sign-in authenticated; sshd names it in its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SshMethod {
    Password,
    PublicKey,
}

/// The sshd message (what follows `sshd[pid]: `) for a sign-in.
pub(crate) fn sshd_message(
    outcome: Outcome,
    kind: Option<FailureKind>,
    method: SshMethod,
    account: &str,
    ip: Option<IpAddr>,
    port: u16,
    key_fingerprint: &str,
) -> String {
    let from = match ip {
        Some(ip) => ip.to_string(),
        None => "UNKNOWN".to_owned(),
    };
    match (outcome, method) {
        (Outcome::Success, SshMethod::PublicKey) => format!(
            "Accepted publickey for {account} from {from} port {port} ssh2: ED25519 SHA256:{key_fingerprint}"
        ),
        (Outcome::Success, SshMethod::Password) => {
            format!("Accepted password for {account} from {from} port {port} ssh2")
        }
        (Outcome::PreAuth, _) => {
            format!("Connection closed by {from} port {port} [preauth]")
        }
        (Outcome::Failure, _) => {
            let invalid = if kind == Some(FailureKind::UnknownAccount) {
                "invalid user "
            } else {
                ""
            };
            format!("Failed password for {invalid}{account} from {from} port {port} ssh2")
        }
    }
}

/// A base64-looking SHA256 key fingerprint (43 characters, as OpenSSH prints them).
pub(crate) fn fingerprint(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..43)
        .map(|_| char::from(ALPHABET[rng.usize(..ALPHABET.len())]))
        .collect()
}

/// A random version-4 UUID string drawn from `rng`.
pub(crate) fn uuid(rng: &mut Rng) -> String {
    crate::render::uuid_from_bits(rng.u128(..))
}

/// How a successful Entra sign-in of `account` over `protocol` was authenticated in the
/// generated world: legacy protocols cannot do MFA; otherwise most staff use push or a
/// code, some a security key or passkey, and some still a password alone. Drawn from the
/// account's name, not the random stream, so that every account keeps its habit and the
/// other generated fields do not move.
pub(crate) fn strength(account: &str, protocol: Protocol) -> Authentication {
    if protocol.is_legacy() {
        return Authentication::SingleFactor;
    }
    match crate::render::fnv1a(&[account.as_bytes()]) % 20 {
        0..=2 => Authentication::SingleFactor,
        3..=5 => Authentication::PhishingResistant,
        _ => Authentication::MultiFactor,
    }
}

/// What a generator wants one sign-in to be; [`Spec::build`] fills in the format's details.
pub(crate) struct Spec<'a> {
    pub time: Timestamp,
    pub account: &'a str,
    pub ip: Option<IpAddr>,
    pub kind: Option<FailureKind>,
    pub protocol: Protocol,
    pub format: Format,
    pub country: Option<&'a str>,
    pub ssh_method: SshMethod,
    /// The client's user agent; sshd logs none, so it is dropped there.
    pub user_agent: Option<&'a str>,
}

impl Spec<'_> {
    /// Builds the sign-in, drawing its record id (Graph) or port and key (sshd) from `rng`.
    pub(crate) fn build(&self, rng: &mut Rng) -> SignIn {
        let outcome = if self.kind.is_some() {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        let origin = Origin::FileRecord {
            file: crate::ORIGIN_FILE.into(),
            record: 0,
        };
        match self.format {
            Format::EntraGraph => {
                let (code, reason) = entra_status(self.kind);
                SignIn {
                    time: self.time,
                    account: self.account.to_lowercase(),
                    source_ip: self.ip,
                    outcome,
                    failure_kind: self.kind,
                    protocol: self.protocol,
                    app: Some(entra_app(self.protocol).to_owned()),
                    result_code: Some(code.to_string()),
                    reason: reason.map(str::to_owned),
                    record_id: Some(uuid(rng)),
                    country: self.country.map(str::to_owned),
                    asn: None,
                    user_agent: self.user_agent.map(str::to_owned),
                    format: Format::EntraGraph,
                    origin,
                    authentication: (outcome == Outcome::Success)
                        .then(|| strength(self.account, self.protocol)),
                }
            }
            // Every other format is generated in sshd's shape until it has its own.
            _ => {
                let port = rng.u16(1024..=65535);
                let key = fingerprint(rng);
                let method = if outcome == Outcome::Failure {
                    SshMethod::Password
                } else {
                    self.ssh_method
                };
                let message = sshd_message(
                    outcome,
                    self.kind,
                    method,
                    self.account,
                    self.ip,
                    port,
                    &key,
                );
                SignIn {
                    time: self.time,
                    account: self.account.to_lowercase(),
                    source_ip: self.ip,
                    outcome,
                    failure_kind: self.kind,
                    protocol: Protocol::Ssh,
                    app: Some("sshd".to_owned()),
                    result_code: None,
                    reason: Some(message),
                    record_id: None,
                    country: None,
                    asn: None,
                    user_agent: None,
                    format: Format::Sshd,
                    origin,
                    authentication: None,
                }
            }
        }
    }
}
