//! Google Workspace Reports API activities (`activities.list`), of which the `login`
//! application's are sign-ins.
//!
//! Two shapes are read: the API's own activity (`{"kind": "admin#reports#activity",
//! "id": {…}, "actor": {…}, "events": [{"name", "parameters": [{"name", "value"}]}]}`),
//! and the flattened one-event-per-record export (`"name"` and `"parameters": {…}` at
//! the top level) that SIEM pipelines such as Panther write.
//!
//! This module owns which login events are sign-in attempts. An activity holds one or
//! more events; it gives at most one [`SignIn`], from the first of:
//! - `login_failure`: a failure, its kind from `login_failure_type`
//!   (`login_failure_invalid_password` a wrong password, `…_invalid_second_factor` a
//!   failed second factor, `…_missing_second_factor` a second factor asked for,
//!   `…_account_disabled` disabled, others `Other`);
//! - `login_success`: a success;
//! - a failed `login_challenge` or `login_verification`: a wrong password when the
//!   challenge was the password, otherwise a failed second factor.
//!
//! Everything else is [`Parsed::OtherEvent`] named `application.event`: other
//! applications (`drive.download`), `logout`, passed challenges (the success that follows
//! is logged as `login_success`), and the signals Google raises about an account —
//! `suspicious_login`, `suspicious_login_less_secure_app`, `suspicious_programmatic_login`,
//! `gov_attack_warning`, `account_disabled_*`. Those are not attempts and carry no
//! outcome; they are reported under their own names so that the service can act on them
//! (a government-backed attack warning is worth a notification by itself). When one
//! activity holds both a sign-in and a signal, the sign-in is what is returned.
//!
//! A `login_success` carries `authentication`, from the challenges it lists (the table is
//! on the private `authentication` function); failures never do, because none of
//! Google's failure types means a second factor was completed.

use model::{Authentication, FailureKind, Format, Origin, Outcome, Protocol, SignIn};
use serde_json::{Map, Value};

use crate::json::{self, Obj};
use crate::{Parsed, RecordError};

/// One event of an activity: its name and its parameters by name.
struct Event<'a> {
    name: &'a str,
    parameters: Map<String, Value>,
}

impl Event<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        Obj(&self.parameters).str(name)
    }
}

/// Parses one record already recognised as a Google Workspace Reports API activity.
pub(crate) fn parse(record: Obj<'_>, origin: &Origin) -> Result<Parsed, RecordError> {
    let id = record.obj("id");
    let application = id
        .and_then(|id| id.str("applicationName"))
        .ok_or_else(|| RecordError::field("id.applicationName", "missing"))?;
    let events = events(record)?;
    if application != "login" {
        let first = events
            .first()
            .map(|e| e.name)
            .or_else(|| record.str("type"));
        return Ok(other(application, first));
    }
    let Some((event, outcome, failure_kind, code)) = sign_in_event(&events) else {
        // Not an attempt: name it by the first signal, else the first event.
        let signal = events
            .iter()
            .find(|e| is_signal(e.name))
            .or_else(|| events.first());
        return match signal {
            Some(event) => Ok(other(application, Some(event.name))),
            None => Err(RecordError::field(
                "events",
                "no event names; expected `events[].name` or a top-level `name`",
            )),
        };
    };
    let time = json::time("id.time", id.and_then(|id| id.str("time")))?;
    let actor_email = record.obj("actor").and_then(|a| a.str("email"));
    let account = json::account(
        "actor.email",
        actor_email.or_else(|| event.param("affected_email_address")),
    )?;
    let source_ip = json::ip("ipAddress", record.str("ipAddress"))?;
    let network = record.obj("networkInfo");
    let asn = network.and_then(|n| match n.get("ipAsn") {
        Some(Value::Array(list)) => json::asn(list.first()),
        other => json::asn(other),
    });
    let record_id = id.and_then(|id| match id.get("uniqueQualifier") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    });
    Ok(Parsed::SignIns(vec![SignIn {
        time,
        account,
        source_ip,
        outcome,
        failure_kind,
        protocol: protocol(event.param("login_type")),
        app: None,
        result_code: code.clone(),
        reason: code.filter(|_| outcome == Outcome::Failure),
        record_id: record_id.map(|q| match id.and_then(|id| id.str("time")) {
            // The qualifier is unique only together with the time.
            Some(time) => format!("{time}/{q}"),
            None => q,
        }),
        country: json::country(network.and_then(|n| n.str("regionCode"))),
        asn,
        user_agent: None,
        authentication: authentication(event, outcome),
        format: Format::GoogleWorkspace,
        origin: origin.clone(),
    }]))
}

/// How strongly a `login_success` was authenticated: the strongest of the challenges in
/// its `login_challenge_method`, of `is_second_factor` and of a `passkey` `login_type`.
///
/// | the event says | reading |
/// |---|---|
/// | `password` | single factor |
/// | `google_authenticator`, `google_prompt`, `idv_any_phone`, `idv_preregistered_phone`, `backup_code`, `offline_otp`, `security_key_otp`, `internal_two_factor` | multi-factor |
/// | `security_key`, `passkey`, `login_type: passkey` | phishing-resistant |
/// | `is_second_factor: true` | multi-factor |
/// | `none`, the `knowledge_*` and `login_location` identity checks, anything else | nothing |
///
/// So a password with an unknown extra challenge reads as single factor (the weaker
/// reading the record supports), and a sign-in Google did not authenticate itself (SAML,
/// `none`) reads as nothing.
fn authentication(event: &Event<'_>, outcome: Outcome) -> Option<Authentication> {
    if outcome != Outcome::Success {
        return None;
    }
    let by_method = challenge_methods(event)
        .iter()
        .filter_map(|m| match m.trim().to_ascii_lowercase().as_str() {
            "password" => Some(Authentication::SingleFactor),
            "google_authenticator"
            | "google_prompt"
            | "idv_any_phone"
            | "idv_preregistered_phone"
            | "backup_code"
            | "offline_otp"
            | "security_key_otp"
            | "internal_two_factor" => Some(Authentication::MultiFactor),
            "security_key" | "passkey" => Some(Authentication::PhishingResistant),
            _ => None,
        })
        .max();
    let second_factor = match Obj(&event.parameters).get("is_second_factor") {
        Some(Value::Bool(true)) => Some(Authentication::MultiFactor),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => {
            Some(Authentication::MultiFactor)
        }
        _ => None,
    };
    let passkey_login = event
        .param("login_type")
        .filter(|t| t.eq_ignore_ascii_case("passkey"))
        .map(|_| Authentication::PhishingResistant);
    [by_method, second_factor, passkey_login]
        .into_iter()
        .flatten()
        .max()
}

type Classified<'e, 'a> = (&'e Event<'a>, Outcome, Option<FailureKind>, Option<String>);

/// The event that makes the activity a sign-in, with what it says (see the module docs).
fn sign_in_event<'e, 'a>(events: &'e [Event<'a>]) -> Option<Classified<'e, 'a>> {
    if let Some(e) = events.iter().find(|e| e.name == "login_failure") {
        let failure_type = e.param("login_failure_type");
        let kind = match failure_type {
            Some("login_failure_invalid_password") => FailureKind::BadPassword,
            Some("login_failure_invalid_second_factor") => FailureKind::MfaFailed,
            Some("login_failure_missing_second_factor") => FailureKind::MfaRequired,
            Some("login_failure_account_disabled") => FailureKind::Disabled,
            _ => FailureKind::Other,
        };
        return Some((
            e,
            Outcome::Failure,
            Some(kind),
            failure_type.map(str::to_owned),
        ));
    }
    if let Some(e) = events.iter().find(|e| e.name == "login_success") {
        return Some((e, Outcome::Success, None, None));
    }
    let e = events.iter().find(|e| {
        matches!(e.name, "login_challenge" | "login_verification")
            && e.param("login_challenge_status")
                .is_some_and(|s| s.to_ascii_lowercase().contains("fail"))
    })?;
    let password = challenge_methods(e).iter().any(|m| m == "password");
    let kind = if password {
        FailureKind::BadPassword
    } else {
        FailureKind::MfaFailed
    };
    let status = e.param("login_challenge_status").map(str::to_owned);
    Some((e, Outcome::Failure, Some(kind), status))
}

/// `login_challenge_method`, a list in the API and sometimes a single string in exports.
fn challenge_methods(event: &Event<'_>) -> Vec<String> {
    match Obj(&event.parameters).get("login_challenge_method") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

fn is_signal(name: &str) -> bool {
    name.starts_with("suspicious_")
        || name.starts_with("account_disabled_")
        || name == "gov_attack_warning"
}

fn other(application: &str, event: Option<&str>) -> Parsed {
    let event_type = match event.map(str::trim).filter(|e| !e.is_empty()) {
        Some(event) => format!("{application}.{event}"),
        None => application.to_owned(),
    };
    Parsed::OtherEvent {
        format: Format::GoogleWorkspace,
        event_type,
    }
}

/// The events of either shape, parameters keyed by name.
fn events<'a>(record: Obj<'a>) -> Result<Vec<Event<'a>>, RecordError> {
    if let Some(list) = record.get("events") {
        let Value::Array(list) = list else {
            return Err(RecordError::field("events", "expected an array of events"));
        };
        return Ok(list
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|e| {
                let e = Obj(e);
                Some(Event {
                    name: e.str("name")?,
                    parameters: parameters(e.get("parameters")),
                })
            })
            .collect());
    }
    Ok(record
        .str("name")
        .map(|name| Event {
            name,
            parameters: parameters(record.get("parameters")),
        })
        .into_iter()
        .collect())
}

/// Parameters as a map: the API's `[{"name", "value" | "boolValue" | "intValue" |
/// "multiValue" …}]` list, or an export's object as is.
fn parameters(value: Option<&Value>) -> Map<String, Value> {
    match value {
        Some(Value::Object(map)) => map.clone(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|p| {
                let p = Obj(p);
                let name = p.string("name")?;
                let value = [
                    "value",
                    "boolValue",
                    "intValue",
                    "multiValue",
                    "multiIntValue",
                ]
                .iter()
                .find_map(|k| p.get(k))?
                .clone();
                Some((name, value))
            })
            .collect(),
        _ => Map::new(),
    }
}

/// `login_type`: how the user signed in.
fn protocol(login_type: Option<&str>) -> Protocol {
    match login_type {
        Some("google_password" | "reauth" | "saml" | "passkey") => Protocol::Browser,
        // Google Sync, Google's Exchange ActiveSync service.
        Some("exchange") => Protocol::ExchangeActiveSync,
        _ => Protocol::Unknown,
    }
}

#[cfg(test)]
mod tests;
