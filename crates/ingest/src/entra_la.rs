//! Microsoft Entra ID sign-ins as Azure Monitor exports them: the diagnostic-settings record
//! (`{"time", "category": "SignInLogs", "resultType", "callerIpAddress", "properties":
//! {…Graph-like camelCase…}}`, as sent to a storage account or event hub) and the Log
//! Analytics table row (`SigninLogs`, `AADNonInteractiveUserSignInLogs`: PascalCase
//! columns, `ResultType` as a string, `Status` and `LocationDetails` as nested JSON or as
//! JSON text).
//!
//! This module owns finding the Graph fields in those two shapes; what the error codes
//! and client names mean stays in [`crate::entra`], so that the three Entra shapes can
//! never disagree. Field names are matched without regard to case, which covers both
//! shapes and pipelines that lower-case keys.
//!
//! Decisions:
//! - Only user sign-ins become [`SignIn`]s (`SignInLogs`, `NonInteractiveUserSignInLogs`
//!   and their table names). Service-principal and managed-identity sign-ins, audit
//!   records and every other category are [`Parsed::OtherEvent`] named by their category:
//!   workload identities authenticate with secrets and certificates, not passwords, so
//!   they are not what spray and brute-force detection counts.
//! - The time is the sign-in's `createdDateTime`; the record's `time`/`TimeGenerated` is
//!   used only when it is missing (they differ by the export delay).
//! - The result is `status.errorCode` when present, otherwise `resultType` (a code as
//!   text, or `Success`/`Failure` in some exports). A bare `Failure` is a failure of kind
//!   `Other` without a code.
//! - The record id is the sign-in `id` only: `originalRequestId` is shared by the steps
//!   of one sign-in and `correlationId` by a whole session, so de-duplicating on them
//!   would drop real attempts.
//! - `authentication` comes from `authenticationRequirement`, `authenticationDetails`
//!   (JSON text in Log Analytics rows, an array in diagnostic records) and `mfaDetail`,
//!   read by [`entra::authentication`], whose table says what each value means.

use jiff::Timestamp;
use model::{FailureKind, Format, Origin, Outcome, SignIn};
use serde_json::Value;

use crate::json::{self, Obj};
use crate::{Parsed, RecordError, entra};

/// Categories (diagnostic settings) and table names (Log Analytics) of user sign-ins.
const USER_SIGN_INS: &[&str] = &[
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "SigninLogs",
    "AADNonInteractiveUserSignInLogs",
];

/// Parses one record already recognised as an Azure Monitor / Log Analytics export.
pub(crate) fn parse(record: Obj<'_>, origin: &Origin) -> Result<Parsed, RecordError> {
    let category = record.str("category").or_else(|| record.str("Type"));
    if let Some(category) = category
        && !USER_SIGN_INS
            .iter()
            .any(|c| c.eq_ignore_ascii_case(category))
    {
        return Ok(Parsed::OtherEvent {
            format: Format::EntraLogAnalytics,
            event_type: category.to_owned(),
        });
    }
    // The diagnostic shape nests the sign-in; the table shape is flat.
    let (sign_in, prefix) = match record.obj("properties") {
        Some(properties) => (properties, "properties."),
        None => (record, ""),
    };
    let field = |name: &str| format!("{prefix}{name}");
    let time = match sign_in.str("createdDateTime") {
        Some(text) => json::time(&field("createdDateTime"), Some(text))?,
        None => record_time(record)?,
    };
    let account = json::account(
        &field("userPrincipalName"),
        sign_in.str("userPrincipalName"),
    )?;
    let source_ip = match sign_in.str("ipAddress") {
        Some(text) => json::ip(&field("ipAddress"), Some(text))?,
        None => json::ip("callerIpAddress", record.str("callerIpAddress"))?,
    };
    let status = nested(sign_in.get("status"));
    let status = status.as_ref().and_then(Value::as_object).map(Obj);
    let failure_reason = status
        .and_then(|s| s.string("failureReason"))
        .or_else(|| sign_in.string("resultDescription"))
        .or_else(|| record.string("resultDescription"));
    let code = status
        .and_then(|s| s.int("errorCode"))
        .or_else(|| sign_in.int("resultType"))
        .or_else(|| record.int("resultType"));
    let (outcome, failure_kind, result_code) = match code {
        Some(0) => (Outcome::Success, None, Some("0".to_owned())),
        Some(code) => (
            Outcome::Failure,
            Some(entra::failure_kind(code, failure_reason.as_deref())),
            Some(code.to_string()),
        ),
        None => match sign_in
            .str("resultType")
            .or_else(|| record.str("resultType"))
        {
            Some(word) if word.eq_ignore_ascii_case("success") => (Outcome::Success, None, None),
            Some(word) if word.eq_ignore_ascii_case("failure") => {
                (Outcome::Failure, Some(FailureKind::Other), None)
            }
            Some(other) => {
                return Err(RecordError::field(
                    "resultType",
                    format!("{other:?} is neither an error code nor Success/Failure"),
                ));
            }
            None => {
                return Err(RecordError::field(
                    field("status.errorCode"),
                    "missing, and no `resultType` either",
                ));
            }
        },
    };
    // Entra fills successes with the placeholder "Other."; a success has no reason.
    let reason = failure_reason.filter(|_| outcome == Outcome::Failure);
    let authentication = entra::authentication(
        outcome,
        failure_kind,
        sign_in.str("authenticationRequirement"),
        sign_in.get("authenticationDetails"),
        sign_in.get("mfaDetail"),
    );
    let country = location_country(sign_in.get("location"))
        .or_else(|| location_country(sign_in.get("LocationDetails")));
    Ok(Parsed::SignIns(vec![SignIn {
        time,
        account,
        source_ip,
        outcome,
        failure_kind,
        protocol: entra::protocol(sign_in.str("clientAppUsed")),
        app: sign_in.string("appDisplayName"),
        result_code,
        reason,
        record_id: sign_in.string("id"),
        country: json::country(country.as_deref()),
        asn: json::asn(sign_in.get("autonomousSystemNumber")),
        user_agent: sign_in.string("userAgent"),
        authentication,
        format: Format::EntraLogAnalytics,
        origin: origin.clone(),
    }]))
}

/// The record's own time, when the sign-in carries none.
fn record_time(record: Obj<'_>) -> Result<Timestamp, RecordError> {
    match record.str("TimeGenerated") {
        Some(text) => json::time("TimeGenerated", Some(text)),
        None => json::time("time", record.str("time")),
    }
}

/// The country of a Graph `location` object, or the table's `Location` column (a code).
fn location_country(value: Option<&Value>) -> Option<String> {
    match nested(value)? {
        Value::Object(location) => Obj(&location).string("countryOrRegion"),
        Value::String(code) => Some(code.trim().to_owned()).filter(|c| !c.is_empty()),
        _ => None,
    }
}

/// A nested value that Log Analytics may hold as JSON text (`"Status": "{\"errorCode\":0}"`).
fn nested(value: Option<&Value>) -> Option<Value> {
    match value? {
        Value::String(text) if text.trim_start().starts_with('{') => {
            serde_json::from_str(text).ok()
        }
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests;
