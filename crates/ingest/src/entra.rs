//! Microsoft Entra ID sign-ins in the Microsoft Graph `signIn` shape, as returned by
//! `GET /auditLogs/signIns` and exported from the Entra admin centre.
//!
//! This module owns the mapping from Graph fields to [`SignIn`]: which error codes mean a
//! wrong password, which mean the password was right, and which client names are legacy
//! protocols, and how strongly a sign-in was authenticated (`authenticationRequirement`,
//! `authenticationDetails` and the deprecated `mfaDetail` of the beta resource; the v1.0
//! resource has none of them, so its sign-ins carry no `authentication`). It reads only
//! the fields it maps and ignores the rest, so new Graph fields and `null`s in unused
//! fields never break intake; an authentication field of an unexpected shape is ignored
//! rather than failing the record. The other Entra shapes (Azure Monitor and Log
//! Analytics exports) live in [`crate::entra_la`] and share [`failure_kind`],
//! [`protocol`] and [`authentication`] with this module.

use std::borrow::Cow;
use std::net::IpAddr;

use model::{Authentication, FailureKind, Format, Origin, Outcome, Protocol, SignIn};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::RecordError;
use crate::json::Obj;

/// The fields of a Graph `signIn` that tocsin maps. Everything is optional so that the error for a missing field can name it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphSignIn<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_date_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_principal_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    app_display_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ip_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    client_app_used: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<Status<'a>>,
    #[serde(borrow)]
    location: Option<Location<'a>>,
    // Kept raw and read leniently: an unexpected shape here must not fail the record.
    #[serde(borrow)]
    authentication_requirement: Option<&'a RawValue>,
    #[serde(borrow)]
    authentication_details: Option<&'a RawValue>,
    #[serde(borrow)]
    mfa_detail: Option<&'a RawValue>,
    /// A Graph list response (`{"@odata.context": …, "value": [ … ]}`) on one line.
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    error_code: Option<i64>,
    #[serde(borrow)]
    failure_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(borrow)]
    country_or_region: Option<Cow<'a, str>>,
}

/// Parses one JSON line: a single Graph `signIn`, or a Graph list response whose `value`
/// holds several. A list response with an empty `value` gives an empty vector.
pub fn parse_json(text: &str, origin: &Origin) -> Result<Vec<SignIn>, RecordError> {
    let record: GraphSignIn<'_> = deserialize(text)?;
    if record.created_date_time.is_none()
        && record.user_principal_name.is_none()
        && let Some(value) = record.value
    {
        return parse_page(value, origin);
    }
    Ok(vec![record.into_sign_in(origin)?])
}

/// Parses one Graph `signIn` object, such as an element of a JSON array document.
pub fn parse_record(text: &str, origin: &Origin) -> Result<SignIn, RecordError> {
    let record: GraphSignIn<'_> = deserialize(text)?;
    record.into_sign_in(origin)
}

fn parse_page(value: &RawValue, origin: &Origin) -> Result<Vec<SignIn>, RecordError> {
    let records: Vec<&RawValue> = serde_json::from_str(value.get())
        .map_err(|_| RecordError::field("value", "expected an array of signIn records"))?;
    records
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            parse_record(raw.get(), origin).map_err(|err| match err {
                RecordError::Field { field, problem } => {
                    RecordError::field(format!("value[{i}].{field}"), problem)
                }
                other => RecordError::field(format!("value[{i}]"), other.to_string()),
            })
        })
        .collect()
}

/// Deserialises with the path of a bad field kept, so that the error can name it.
fn deserialize<'a>(text: &'a str) -> Result<GraphSignIn<'a>, RecordError> {
    // Tracking the path costs a third of a record's parse; it is only needed to say where
    // a record went wrong, so a record is read again with it only when it fails.
    if let Ok(record) = serde_json::from_str(text) {
        return Ok(record);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let record = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if !inner.is_data() {
            RecordError::json(&inner)
        } else if path == "." {
            RecordError::UnrecognisedJson {
                hint: Some("the record is not a JSON object"),
            }
        } else {
            let RecordError::Json { message, .. } = RecordError::json(&inner) else {
                return RecordError::field(path, inner.to_string());
            };
            RecordError::field(path, message)
        }
    })?;
    de.end().map_err(|err| RecordError::json(&err))?;
    Ok(record)
}

impl GraphSignIn<'_> {
    fn into_sign_in(self, origin: &Origin) -> Result<SignIn, RecordError> {
        let (Some(created), Some(upn)) = (&self.created_date_time, &self.user_principal_name)
        else {
            return Err(self.missing_key_field());
        };
        let time = created.parse::<jiff::Timestamp>().map_err(|_| {
            RecordError::field(
                "createdDateTime",
                format!("{created:?} is not an RFC 3339 time"),
            )
        })?;
        if upn.trim().is_empty() {
            return Err(RecordError::field("userPrincipalName", "is empty"));
        }
        let source_ip = match self.ip_address.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                text.parse::<IpAddr>()
                    .map_err(|_| {
                        RecordError::field("ipAddress", format!("{text:?} is not an IP address"))
                    })?
                    .to_canonical(),
            ),
        };
        let status = self.status.ok_or_else(|| {
            RecordError::field("status", "missing; expected an object with `errorCode`")
        })?;
        let code = status
            .error_code
            .ok_or_else(|| RecordError::field("status.errorCode", "missing"))?;
        let (outcome, failure_kind) = match code {
            0 => (Outcome::Success, None),
            code => (
                Outcome::Failure,
                Some(failure_kind(code, status.failure_reason.as_deref())),
            ),
        };
        let reason = status
            .failure_reason
            .map(Cow::into_owned)
            .filter(|r| !r.trim().is_empty())
            // Graph fills successes with the placeholder "Other.".
            .filter(|r| outcome == Outcome::Failure || r != "Other.");
        let raw = |value: Option<&RawValue>| {
            value.and_then(|v| serde_json::from_str::<Value>(v.get()).ok())
        };
        let requirement = raw(self.authentication_requirement);
        let authentication = authentication(
            outcome,
            failure_kind,
            requirement.as_ref().and_then(Value::as_str),
            raw(self.authentication_details).as_ref(),
            raw(self.mfa_detail).as_ref(),
        );
        Ok(SignIn {
            time,
            account: upn.to_lowercase(),
            source_ip,
            outcome,
            failure_kind,
            protocol: protocol(self.client_app_used.as_deref()),
            app: non_empty(self.app_display_name),
            result_code: Some(code.to_string()),
            reason,
            record_id: non_empty(self.id),
            country: self.location.and_then(|l| non_empty(l.country_or_region)),
            // The v1.0 signIn resource has neither.
            asn: None,
            user_agent: None,
            authentication,
            format: Format::EntraGraph,
            origin: origin.clone(),
        })
    }

    fn missing_key_field(&self) -> RecordError {
        match (&self.created_date_time, &self.user_principal_name) {
            (Some(_), None) => RecordError::field("userPrincipalName", "missing"),
            (None, Some(_)) => RecordError::field("createdDateTime", "missing"),
            _ => RecordError::UnrecognisedJson { hint: None },
        }
    }
}

fn non_empty(text: Option<Cow<'_, str>>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty()).map(Cow::into_owned)
}

/// Maps an Entra `status.errorCode` (an AADSTS number) and its `failureReason` to what it
/// means for detection.
///
/// 50053 is two different events under one code: the account locked by Smart Lockout, or
/// the sign-in refused because the source address is known to be malicious. Only the
/// reason text tells them apart, and the difference matters: a lockout says the account
/// was guessed at, a blocked source says nothing about the password.
///
/// Interrupts that Entra logs as failures after the password was checked (50140 "keep me
/// signed in", 50158 external challenge) map to [`FailureKind::MfaRequired`]: the model
/// has no "interrupted" kind, and what matters is that the password was right, which
/// `MfaRequired` says and a wrong-password kind would hide.
pub fn failure_kind(code: i64, failure_reason: Option<&str>) -> FailureKind {
    match code {
        // 50056: no password stored for the user; still a password guess that failed.
        // 50064: credential validation failed.
        50126 | 50056 | 50064 => FailureKind::BadPassword,
        // 50059 and 50128: no tenant for the domain, so no such account either.
        50034 | 50059 | 50128 => FailureKind::UnknownAccount,
        50053 if failure_reason.is_some_and(|r| r.to_ascii_lowercase().contains("malicious")) => {
            FailureKind::BlockedSource
        }
        50053 => FailureKind::Locked,
        // A client caught in a sign-in loop is refused whatever it sends.
        50196 => FailureKind::BlockedSource,
        50057 => FailureKind::Disabled,
        // 50144: the on-premises Active Directory password has expired.
        50055 | 50144 => FailureKind::ExpiredPassword,
        50072 | 50074 | 50076 | 50079 | 50140 | 50158 => FailureKind::MfaRequired,
        500121 => FailureKind::MfaFailed,
        // 53000 to 53004: Conditional Access (device state, app, proof-up) blocked it.
        53000..=53004 => FailureKind::BlockedByPolicy,
        _ => FailureKind::Other,
    }
}

/// Maps `clientAppUsed` to a protocol. Older exports say "Other clients; IMAP" where newer
/// ones say "IMAP4", so the part after "Other clients; " is looked at too.
pub fn protocol(client_app_used: Option<&str>) -> Protocol {
    let Some(name) = client_app_used.map(str::trim) else {
        return Protocol::Unknown;
    };
    let name = name.strip_prefix("Other clients; ").unwrap_or(name);
    const TABLE: &[(&str, Protocol)] = &[
        ("Browser", Protocol::Browser),
        ("Mobile Apps and Desktop clients", Protocol::ModernClient),
        ("Exchange ActiveSync", Protocol::ExchangeActiveSync),
        ("IMAP4", Protocol::Imap),
        ("IMAP", Protocol::Imap),
        ("POP3", Protocol::Pop3),
        ("POP", Protocol::Pop3),
        ("Authenticated SMTP", Protocol::Smtp),
        ("SMTP", Protocol::Smtp),
        ("Exchange Web Services", Protocol::ExchangeLegacy),
        ("MAPI Over HTTP", Protocol::ExchangeLegacy),
        ("MAPI", Protocol::ExchangeLegacy),
        ("Offline Address Book", Protocol::ExchangeLegacy),
        ("Autodiscover", Protocol::ExchangeLegacy),
        ("Exchange Online PowerShell", Protocol::ExchangeLegacy),
        ("Outlook Anywhere (RPC over HTTP)", Protocol::ExchangeLegacy),
        ("Reporting Web Services", Protocol::ExchangeLegacy),
        ("Universal Outlook", Protocol::ExchangeLegacy),
        ("Older Office clients", Protocol::OtherClient),
        ("Other clients", Protocol::OtherClient),
    ];
    TABLE
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map_or(Protocol::Unknown, |(_, protocol)| *protocol)
}

/// How strongly an Entra sign-in was authenticated, from `authenticationRequirement`,
/// the succeeded steps of `authenticationDetails` and the deprecated `mfaDetail`. Shared
/// by every Entra shape so that they cannot disagree; `details` and `mfa_detail` may be
/// JSON or, as Log Analytics exports them, JSON text.
///
/// The reading is the strongest of what the record says:
///
/// | the record says | reading |
/// |---|---|
/// | `authenticationRequirement: singleFactorAuthentication` | single factor |
/// | `authenticationRequirement: multiFactorAuthentication` | multi-factor (also when satisfied by a claim in the token: the original method is unknown) |
/// | a succeeded step `Password` | single factor |
/// | a succeeded step `Mobile app notification`, `OATH verification code`, `Text message`, `SMS`, `Voice`, `Phone call …`, `Authenticator App`, `Software OATH token`, `Hardware OATH token`, `Passwordless phone sign-in` | multi-factor |
/// | a succeeded step `FIDO2 security key`, `FIDO2`, `FIDO`, `Passkey (…)`, `Windows Hello for Business`, `X.509 Certificate` | phishing-resistant |
/// | a succeeded step whose result is `MFA requirement satisfied by claim …` | multi-factor |
/// | a succeeded step whose result is `First factor requirement satisfied by claim …` | single factor |
/// | `mfaDetail.authMethod` (the second factor used) | multi-factor; phishing-resistant when it names such a method |
/// | any other method or requirement (`Temporary Access Pass`, `Other`, …) | nothing |
///
/// Only a success gets a reading from all of these. A failure gets one only when the
/// password was accepted ([`FailureKind::password_was_valid`], and not a failed second
/// factor) and a succeeded step shows a completed second factor: a Conditional Access
/// block after MFA, say. The requirement says what was needed, not what was done, so it
/// counts for successes only.
pub fn authentication(
    outcome: Outcome,
    failure_kind: Option<FailureKind>,
    requirement: Option<&str>,
    details: Option<&Value>,
    mfa_detail: Option<&Value>,
) -> Option<Authentication> {
    let details = details.and_then(json_text);
    let steps = match details.as_deref() {
        Some(Value::Array(steps)) => steps.as_slice(),
        _ => &[],
    };
    let from_steps = steps
        .iter()
        .filter_map(Value::as_object)
        .map(Obj)
        .filter(|step| step_succeeded(step.get("succeeded")))
        .filter_map(|step| {
            let by_method = step.str("authenticationMethod").and_then(method_strength);
            let by_result = step
                .str("authenticationStepResultDetail")
                .and_then(claim_strength);
            by_method.max(by_result)
        })
        .max();
    match outcome {
        Outcome::Success => {
            let by_requirement = requirement.and_then(|r| {
                if r.eq_ignore_ascii_case("multiFactorAuthentication") {
                    Some(Authentication::MultiFactor)
                } else if r.eq_ignore_ascii_case("singleFactorAuthentication") {
                    Some(Authentication::SingleFactor)
                } else {
                    None
                }
            });
            let by_mfa_detail = mfa_detail.and_then(json_text).and_then(|detail| {
                let method = detail.as_object().map(Obj)?.string("authMethod")?;
                // mfaDetail names the second factor of the sign-in; what it does not
                // recognise is still a second factor.
                Some(match method_strength(&method) {
                    Some(Authentication::PhishingResistant) => Authentication::PhishingResistant,
                    _ => Authentication::MultiFactor,
                })
            });
            [by_requirement, from_steps, by_mfa_detail]
                .into_iter()
                .flatten()
                .max()
        }
        Outcome::Failure
            if failure_kind
                .is_some_and(|k| k.password_was_valid() && k != FailureKind::MfaFailed) =>
        {
            from_steps.filter(|a| a.is_multi_factor())
        }
        _ => None,
    }
}

/// `succeeded` is a boolean in the schema; some exports write it as text.
fn step_succeeded(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => {
            s.trim().eq_ignore_ascii_case("true") || s.trim().eq_ignore_ascii_case("succeeded")
        }
        _ => false,
    }
}

/// The strength of one `authenticationMethod` (see [`authentication`]).
fn method_strength(method: &str) -> Option<Authentication> {
    const TABLE: &[(&str, Authentication)] = &[
        ("Password", Authentication::SingleFactor),
        ("Mobile app notification", Authentication::MultiFactor),
        ("OATH verification code", Authentication::MultiFactor),
        ("Text message", Authentication::MultiFactor),
        ("SMS", Authentication::MultiFactor),
        ("Voice", Authentication::MultiFactor),
        ("Authenticator App", Authentication::MultiFactor),
        ("Software OATH token", Authentication::MultiFactor),
        ("Hardware OATH token", Authentication::MultiFactor),
        ("Passwordless phone sign-in", Authentication::MultiFactor),
        // Older mfaDetail names for the same methods.
        ("PhoneAppNotification", Authentication::MultiFactor),
        ("PhoneAppOTP", Authentication::MultiFactor),
        ("OneWaySMS", Authentication::MultiFactor),
        ("TwoWayVoiceMobile", Authentication::MultiFactor),
        ("TwoWayVoiceOffice", Authentication::MultiFactor),
        ("TwoWayVoiceAlternateMobile", Authentication::MultiFactor),
        ("FIDO2 security key", Authentication::PhishingResistant),
        ("FIDO2", Authentication::PhishingResistant),
        ("FIDO", Authentication::PhishingResistant),
        ("Passkey", Authentication::PhishingResistant),
        (
            "Windows Hello for Business",
            Authentication::PhishingResistant,
        ),
        ("X.509 Certificate", Authentication::PhishingResistant),
    ];
    let method = method.trim();
    if let Some((_, strength)) = TABLE.iter().find(|(m, _)| m.eq_ignore_ascii_case(method)) {
        return Some(*strength);
    }
    // "Phone call approval (Authentication phone)", "… (Office phone)", …; and every
    // passkey flavour ("Passkey (device-bound)", "Passkey (Microsoft Authenticator)").
    let starts = |prefix: &str| {
        method
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts("Phone call") {
        Some(Authentication::MultiFactor)
    } else if starts("Passkey (") {
        Some(Authentication::PhishingResistant)
    } else {
        None
    }
}

/// A step satisfied by a claim in the token names no method, only which requirement the
/// earlier sign-in satisfied.
fn claim_strength(result: &str) -> Option<Authentication> {
    let result = result.trim().to_ascii_lowercase();
    if result.starts_with("mfa requirement satisfied") {
        Some(Authentication::MultiFactor)
    } else if result.starts_with("first factor requirement satisfied") {
        Some(Authentication::SingleFactor)
    } else {
        None
    }
}

/// A value that Log Analytics may hold as JSON text (`"[{\"authenticationMethod\": …}]"`);
/// any other value is read where it is.
fn json_text(value: &Value) -> Option<Cow<'_, Value>> {
    match value {
        Value::String(text) => {
            let text = text.trim_start();
            if text.starts_with('[') || text.starts_with('{') {
                serde_json::from_str(text).ok().map(Cow::Owned)
            } else {
                None
            }
        }
        other => Some(Cow::Borrowed(other)),
    }
}

#[cfg(test)]
mod tests;
