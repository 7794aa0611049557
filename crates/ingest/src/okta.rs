//! Okta System Log events (the `LogEvent` object of `GET /api/v1/logs`).
//!
//! This module owns which event types are sign-in attempts and how `outcome.result` and
//! `outcome.reason` map to outcomes and failure kinds. Every other event type is a known
//! record that is not a sign-in and becomes [`Parsed::OtherEvent`] named by its
//! `eventType`.
//!
//! Sign-in event types and how they read:
//! - `user.session.start`, `user.authentication.*` (`sso`, `verify`, `auth_via_mfa`,
//!   `authenticate`, `auth_via_*`): `SUCCESS`/`ALLOW` is a success, `FAILURE` a failure
//!   whose kind comes from `outcome.reason` (`INVALID_CREDENTIALS` a wrong password,
//!   `VERIFICATION_ERROR` a failed second factor, `LOCKED_OUT` a lockout, `User not found`
//!   / `UNKNOWN_USER` an unknown account), `CHALLENGE` a second factor asked for,
//!   `DENY` a policy refusal (or a refused source when the reason names a network zone or
//!   ThreatInsight).
//! - `user.mfa.*` verification events (not `user.mfa.factor.*`, which are enrolment
//!   changes): they only happen after the password was accepted, so any failure is a
//!   failed second factor.
//! - `policy.evaluate_sign_on`: `CHALLENGE` is a second factor asked for after the
//!   password (counted as the password validated), `DENY` a policy block; an `ALLOW` is
//!   only the policy's verdict, and the sign-in it allows is logged on its own, so it is
//!   an other event rather than a second success.
//! - `user.account.lock`: a lockout.
//!
//! `published` is RFC 3339 from the API; exports that drop the `T` and the zone
//! (`2022-03-22 14:21:53.225`) are read as UTC. The country is Okta's country name as
//! written (`United States`); the record id is `uuid`.
//!
//! `authentication` is set only on successful `user.authentication.auth_via_mfa` and
//! `user.authentication.verify` events, from the factor they name (the table is on the
//! private `authentication` function).
//! Okta logs each step of a sign-in as its own event, so an event that names a password
//! (or nothing) says nothing about whether a second factor followed: it, and every other
//! event type (`user.session.start` included), carries no `authentication`.

use model::{Authentication, FailureKind, Format, Origin, Outcome, Protocol, SignIn};
use serde_json::Value;

use crate::json::{self, Obj};
use crate::{Parsed, RecordError};

/// What kind of sign-in step an event type is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// A primary authentication or session start.
    SignIn,
    /// A second-factor verification, after the password.
    Mfa,
    /// A sign-on policy verdict.
    Policy,
    Lockout,
}

fn step(event_type: &str) -> Option<Step> {
    match event_type {
        "user.session.start" => Some(Step::SignIn),
        "policy.evaluate_sign_on" => Some(Step::Policy),
        "user.account.lock" | "user.account.lock.limit" => Some(Step::Lockout),
        "user.authentication.auth_via_mfa" => Some(Step::Mfa),
        t if t.starts_with("user.authentication.") => Some(Step::SignIn),
        t if t.starts_with("user.mfa.") && !t.starts_with("user.mfa.factor.") => Some(Step::Mfa),
        _ => None,
    }
}

/// Parses one record already recognised as an Okta System Log event.
pub(crate) fn parse(record: Obj<'_>, origin: &Origin) -> Result<Parsed, RecordError> {
    let event_type = record
        .str("eventType")
        .ok_or_else(|| RecordError::field("eventType", "missing"))?;
    let Some(step) = step(event_type) else {
        return Ok(other(event_type));
    };
    let outcome_obj = record.obj("outcome");
    let result = outcome_obj.and_then(|o| o.str("result"));
    let reason = outcome_obj.and_then(|o| o.string("reason"));
    let (outcome, failure_kind) = match (step, result.map(str::to_ascii_uppercase).as_deref()) {
        (Step::Lockout, _) => (Outcome::Failure, Some(FailureKind::Locked)),
        (Step::Policy, Some("ALLOW" | "SUCCESS")) => return Ok(other(event_type)),
        (Step::Policy, Some("CHALLENGE")) => (Outcome::Failure, Some(FailureKind::MfaRequired)),
        (Step::Policy, Some("DENY" | "FAILURE")) => {
            (Outcome::Failure, Some(deny_kind(reason.as_deref())))
        }
        (_, Some("SUCCESS" | "ALLOW")) => (Outcome::Success, None),
        (_, Some("CHALLENGE")) => (Outcome::Failure, Some(FailureKind::MfaRequired)),
        (_, Some("DENY")) => (Outcome::Failure, Some(deny_kind(reason.as_deref()))),
        (Step::Mfa, Some("FAILURE")) => (Outcome::Failure, Some(mfa_failure(reason.as_deref()))),
        (_, Some("FAILURE")) => (Outcome::Failure, Some(failure_kind(reason.as_deref()))),
        (_, Some(other)) => {
            return Err(RecordError::field(
                "outcome.result",
                format!("{other:?} is not SUCCESS, ALLOW, FAILURE, DENY or CHALLENGE"),
            ));
        }
        (_, None) => return Err(RecordError::field("outcome.result", "missing")),
    };
    let time = json::time("published", record.str("published"))?;
    let actor = record.obj("actor");
    let account = json::account(
        "actor.alternateId",
        actor.and_then(|a| a.str("alternateId")),
    )?;
    let client = record.obj("client");
    let source_ip = json::ip("client.ipAddress", client.and_then(|c| c.str("ipAddress")))?;
    let user_agent = client
        .and_then(|c| c.obj("userAgent"))
        .and_then(|ua| ua.string("rawUserAgent"));
    let country = client
        .and_then(|c| c.obj("geographicalContext"))
        .and_then(|g| g.str("country"));
    let asn = record
        .obj("securityContext")
        .and_then(|s| json::asn(s.get("asNumber")));
    Ok(Parsed::SignIns(vec![SignIn {
        time,
        account,
        source_ip,
        outcome,
        failure_kind,
        protocol: Protocol::Unknown,
        app: app(record),
        result_code: result.map(str::to_owned),
        reason: reason.filter(|_| outcome == Outcome::Failure),
        record_id: record.string("uuid"),
        country: json::country(country),
        asn,
        user_agent,
        authentication: authentication(event_type, outcome, record),
        format: Format::Okta,
        origin: origin.clone(),
    }]))
}

/// How strongly a successful factor verification authenticated the user.
///
/// Okta's own verdict comes first: an `AuthenticatorEnrollment` target whose
/// `detailEntry.methodUsedVerifiedProperties` lists `PHISHING_RESISTANT` is
/// phishing-resistant, whatever the factor. Otherwise `debugContext.debugData.factor`
/// decides, and without it `authenticationContext.credentialType`:
///
/// | factor or credential type | reading |
/// |---|---|
/// | `FIDO_WEBAUTHN`, `FIDO_U2F` | phishing-resistant |
/// | `SIGNED_NONCE` (Okta FastPass) | phishing-resistant when Okta verified the property (above), else multi-factor |
/// | `OKTA_VERIFY_PUSH`, `OKTA_PUSH`, `OKTA_OTP`, `GOOGLE_OTP`, `OKTA_SMS`, `OKTA_CALL`, `OKTA_EMAIL`, `RSA_TOKEN`, `SYMANTEC_VIP`, `YUBIKEY_TOKEN`, `DUO`, `HOTP` | multi-factor |
/// | credential type `OTP`, `SMS`, `EMAIL` | multi-factor |
/// | credential type `CERTIFICATE` | phishing-resistant |
/// | `OKTA_PASSWORD`, `PASSWORD_AS_FACTOR`, `OKTA_QUESTION`, `SECURITY_QUESTION`, credential type `PASSWORD`, anything else | nothing |
///
/// A password or security-question step is one step of a sign-in whose other steps are
/// other events, so it cannot say the sign-in was single-factor. An unknown factor name
/// gets nothing rather than "multi-factor": `auth_via_mfa` events also carry password
/// steps (`PASSWORD_AS_FACTOR`), so the event type alone proves no second factor.
fn authentication(event_type: &str, outcome: Outcome, record: Obj<'_>) -> Option<Authentication> {
    if outcome != Outcome::Success
        || !matches!(
            event_type,
            "user.authentication.auth_via_mfa" | "user.authentication.verify"
        )
    {
        return None;
    }
    if verified_phishing_resistant(record) {
        return Some(Authentication::PhishingResistant);
    }
    let factor = record
        .obj("debugContext")
        .and_then(|d| d.obj("debugData"))
        .and_then(|d| d.str("factor"));
    if let Some(factor) = factor {
        return match factor.to_ascii_uppercase().as_str() {
            "FIDO_WEBAUTHN" | "FIDO_U2F" => Some(Authentication::PhishingResistant),
            "SIGNED_NONCE" | "OKTA_VERIFY_PUSH" | "OKTA_PUSH" | "OKTA_OTP" | "GOOGLE_OTP"
            | "OKTA_SMS" | "OKTA_CALL" | "OKTA_EMAIL" | "RSA_TOKEN" | "SYMANTEC_VIP"
            | "YUBIKEY_TOKEN" | "DUO" | "HOTP" => Some(Authentication::MultiFactor),
            _ => None,
        };
    }
    let credential_type = record
        .obj("authenticationContext")
        .and_then(|a| a.str("credentialType"))?;
    match credential_type.to_ascii_uppercase().as_str() {
        "OTP" | "SMS" | "EMAIL" => Some(Authentication::MultiFactor),
        "CERTIFICATE" => Some(Authentication::PhishingResistant),
        _ => None,
    }
}

/// Whether Okta says the method used was phishing-resistant. The property list is text in
/// the API (`"[DEVICE_BOUND, PHISHING_RESISTANT]"`); some pipelines turn it into an array.
fn verified_phishing_resistant(record: Obj<'_>) -> bool {
    let Some(Value::Array(targets)) = record.get("target") else {
        return false;
    };
    targets
        .iter()
        .filter_map(Value::as_object)
        .map(Obj)
        .filter(|t| {
            t.str("type")
                .is_some_and(|ty| ty.eq_ignore_ascii_case("AuthenticatorEnrollment"))
        })
        .filter_map(|t| t.obj("detailEntry"))
        .filter_map(|d| d.get("methodUsedVerifiedProperties"))
        .any(|properties| {
            let listed = |text: &str| {
                text.trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .any(|p| p.trim().eq_ignore_ascii_case("PHISHING_RESISTANT"))
            };
            match properties {
                Value::String(text) => listed(text),
                Value::Array(items) => items.iter().filter_map(Value::as_str).any(listed),
                _ => false,
            }
        })
}

fn other(event_type: &str) -> Parsed {
    Parsed::OtherEvent {
        format: Format::Okta,
        event_type: event_type.to_owned(),
    }
}

/// The application signed in to: the first `AppInstance` target, as Okta names it.
fn app(record: Obj<'_>) -> Option<String> {
    let targets = record.get("target")?.as_array()?;
    targets
        .iter()
        .filter_map(|t| t.as_object().map(Obj))
        .find(|t| {
            t.str("type")
                .is_some_and(|ty| ty.eq_ignore_ascii_case("AppInstance"))
        })
        .and_then(|t| t.string("displayName"))
}

/// Maps `outcome.reason` of a failed primary sign-in to a failure kind.
pub fn failure_kind(reason: Option<&str>) -> FailureKind {
    let Some(reason) = reason else {
        return FailureKind::Other;
    };
    let upper = reason.to_ascii_uppercase();
    match upper.as_str() {
        "INVALID_CREDENTIALS" | "INVALID_PASSWORD" => FailureKind::BadPassword,
        "VERIFICATION_ERROR" | "INVALID_MFA" | "MFA_ENROLL_REQUIRED_ERROR" => {
            FailureKind::MfaFailed
        }
        "LOCKED_OUT" => FailureKind::Locked,
        "UNKNOWN_USER" | "USER NOT FOUND" | "USER_NOT_FOUND" => FailureKind::UnknownAccount,
        "PASSWORD_EXPIRED" => FailureKind::ExpiredPassword,
        "USER_SUSPENDED" | "USER_DEACTIVATED" | "USER_DISABLED" => FailureKind::Disabled,
        _ if upper.contains("NOT FOUND") => FailureKind::UnknownAccount,
        _ => FailureKind::Other,
    }
}

/// A failed second factor, unless the reason says the account is locked.
fn mfa_failure(reason: Option<&str>) -> FailureKind {
    match failure_kind(reason) {
        FailureKind::Locked => FailureKind::Locked,
        _ => FailureKind::MfaFailed,
    }
}

/// A `DENY`: a refused source when the reason names a network zone or ThreatInsight,
/// otherwise a sign-on policy.
fn deny_kind(reason: Option<&str>) -> FailureKind {
    let reason = reason.unwrap_or_default().to_ascii_lowercase();
    if reason.contains("zone") || reason.contains("threat") || reason.contains("blocklist") {
        FailureKind::BlockedSource
    } else {
        FailureKind::BlockedByPolicy
    }
}

#[cfg(test)]
mod tests;
