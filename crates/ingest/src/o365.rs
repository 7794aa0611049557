//! Office 365 Unified Audit Log records in the Office 365 Management Activity API schema
//! (also what `Search-UnifiedAuditLog` puts in `AuditData`).
//!
//! This module owns the sign-in operations of that log: `UserLoggedIn` and
//! `UserLoginFailed`, which Entra writes as `AzureActiveDirectoryStsLogon` records
//! (`RecordType` 15). Every other operation (Exchange `MailItemsAccessed`, `Set-Mailbox`,
//! directory changes, …) is a known record that is not a sign-in and becomes
//! [`Parsed::OtherEvent`] named by its `Operation`.
//!
//! Decisions:
//! - The failure kind comes from `ErrorNumber` (an AADSTS code, mapped by
//!   [`crate::entra::failure_kind`] so that Entra shapes agree) when the record has one,
//!   else from the `LogonError` name.
//! - `CreationTime` carries no offset; the schema defines it as UTC.
//! - `ClientIP` may carry a port (`203.0.113.9:10736`) or be an IPv6 address in
//!   brackets; both are reduced to the address. `ActorIpAddress` is the fallback.
//! - The schema names the application only by id, so `app` is `ApplicationId`.
//! - The protocol is read from `ExtendedProperties`: the `BAV2ROPC` user agent is a
//!   legacy (password-only) client, a `RequestType` of `OAuth2:Token` a modern client,
//!   the interactive request types (`Login:…`, `OAuth2:Authorize`, `SAS:…`, `Kmsi:…`,
//!   `Saml2:…`, `WsFederation:…`) a browser.
//! - `authentication` is always `None`. The only candidate, the `UserAuthenticationMethod`
//!   extended property (`"1"`, `"16"`, `"65"`, …), is an undocumented number, and no
//!   other field says which factors were used; the Entra sign-in log of the same sign-in
//!   ([`crate::entra`], [`crate::entra_la`]) does.

use model::{FailureKind, Format, Origin, Outcome, Protocol, SignIn};
use serde_json::Value;

use crate::json::{self, Obj};
use crate::{Parsed, RecordError, entra};

/// Parses one record already recognised as an Office 365 Management Activity record.
pub(crate) fn parse(record: Obj<'_>, origin: &Origin) -> Result<Parsed, RecordError> {
    let operation = record
        .str("Operation")
        .ok_or_else(|| RecordError::field("Operation", "missing"))?;
    let outcome = match operation {
        "UserLoggedIn" => Outcome::Success,
        "UserLoginFailed" => Outcome::Failure,
        other => {
            return Ok(Parsed::OtherEvent {
                format: Format::O365Audit,
                event_type: other.to_owned(),
            });
        }
    };
    let time = json::time("CreationTime", record.str("CreationTime"))?;
    let account = json::account("UserId", record.str("UserId"))?;
    let source_ip = match record.str("ClientIP") {
        Some(text) => json::ip("ClientIP", Some(text))?,
        None => json::ip("ActorIpAddress", record.str("ActorIpAddress"))?,
    };
    let extended = extended_properties(record.get("ExtendedProperties"));
    let property = |name: &str| {
        extended
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let error_number = record.int("ErrorNumber");
    let logon_error = record.string("LogonError");
    let failure_kind = match (outcome, error_number) {
        (Outcome::Success, _) => None,
        (_, Some(code)) if code != 0 => Some(entra::failure_kind(code, None)),
        _ => Some(logon_error_kind(logon_error.as_deref())),
    };
    let user_agent = property("UserAgent").map(str::to_owned);
    Ok(Parsed::SignIns(vec![SignIn {
        time,
        account,
        source_ip,
        outcome,
        failure_kind,
        protocol: protocol(property("RequestType"), user_agent.as_deref()),
        app: record.string("ApplicationId"),
        result_code: error_number.map(|n| n.to_string()),
        reason: logon_error.filter(|_| outcome == Outcome::Failure),
        record_id: record.string("Id"),
        country: None,
        asn: None,
        user_agent,
        // See the module docs: nothing here says which factors were used.
        authentication: None,
        format: Format::O365Audit,
        origin: origin.clone(),
    }]))
}

/// `ExtendedProperties` as name/value pairs (`[{"Name": "UserAgent", "Value": "…"}]`).
fn extended_properties(value: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|item| {
            let item = Obj(item);
            Some((item.string("Name")?, item.string("Value")?))
        })
        .collect()
}

/// Maps a `LogonError` name (the AADSTS error's symbolic name) to a failure kind.
pub fn logon_error_kind(logon_error: Option<&str>) -> FailureKind {
    const TABLE: &[(&str, FailureKind)] = &[
        ("InvalidUserNameOrPassword", FailureKind::BadPassword),
        ("InvalidPassword", FailureKind::BadPassword),
        ("UserAccountNotFound", FailureKind::UnknownAccount),
        ("InvalidUserName", FailureKind::UnknownAccount),
        ("InvalidTenantName", FailureKind::UnknownAccount),
        ("IdsLocked", FailureKind::Locked),
        ("UserDisabled", FailureKind::Disabled),
        ("UserAccountDisabled", FailureKind::Disabled),
        (
            "InvalidPasswordExpiredPassword",
            FailureKind::ExpiredPassword,
        ),
        (
            "InvalidPasswordExpiredOnPremPassword",
            FailureKind::ExpiredPassword,
        ),
        ("PasswordChangeRequired", FailureKind::ExpiredPassword),
        // 50074, 50076, 50079, 50072: the password was right, a second factor was asked.
        (
            "UserStrongAuthClientAuthNRequiredInterrupt",
            FailureKind::MfaRequired,
        ),
        (
            "UserStrongAuthClientAuthNRequired",
            FailureKind::MfaRequired,
        ),
        (
            "UserStrongAuthEnrollmentRequiredInterrupt",
            FailureKind::MfaRequired,
        ),
        ("UserStrongAuthEnrollmentRequired", FailureKind::MfaRequired),
        ("UserStrongAuthExpired", FailureKind::MfaRequired),
        ("KmsiInterrupt", FailureKind::MfaRequired),
        (
            "ExternalChallengeNotSupportedForPassthroughUsers",
            FailureKind::MfaRequired,
        ),
        ("StrongAuthenticationFailed", FailureKind::MfaFailed),
        ("UserStrongAuthFailed", FailureKind::MfaFailed),
        ("BlockedByConditionalAccess", FailureKind::BlockedByPolicy),
        (
            "BlockedByConditionalAccessOnSecurityPolicy",
            FailureKind::BlockedByPolicy,
        ),
        ("DeviceNotCompliant", FailureKind::BlockedByPolicy),
        ("DeviceNotDomainJoined", FailureKind::BlockedByPolicy),
        (
            "ApplicationUsedIsNotAnApprovedApp",
            FailureKind::BlockedByPolicy,
        ),
    ];
    let Some(name) = logon_error else {
        return FailureKind::Other;
    };
    TABLE
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map_or(FailureKind::Other, |(_, kind)| *kind)
}

/// The protocol from `RequestType` and the user agent (see the module docs).
fn protocol(request_type: Option<&str>, user_agent: Option<&str>) -> Protocol {
    if user_agent.is_some_and(|ua| ua.eq_ignore_ascii_case("BAV2ROPC")) {
        return Protocol::OtherClient;
    }
    let Some(request_type) = request_type else {
        return Protocol::Unknown;
    };
    let interactive = [
        "Login:",
        "SAS:",
        "Kmsi:",
        "Saml2:",
        "WsFederation:",
        "OAuth2:Authorize",
    ];
    if request_type.eq_ignore_ascii_case("OAuth2:Token") {
        Protocol::ModernClient
    } else if interactive.iter().any(|p| {
        request_type
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    }) {
        Protocol::Browser
    } else {
        Protocol::Unknown
    }
}

#[cfg(test)]
mod tests;
