//! Windows Security sign-in events as JSON: 4624 (an account logged on), 4625 (an account
//! failed to log on), 4771 (Kerberos pre-authentication failed) and 4776 (the domain
//! controller validated NTLM credentials).
//!
//! This module owns recognising the three JSON shapes Windows events travel in and the
//! mapping from their fields to [`SignIn`]: which NTSTATUS and Kerberos codes mean a wrong
//! password, which mean the password was right, and which accounts are noise. The shapes:
//!
//! - winlogbeat / Elastic Agent: `winlog.event_id`, `winlog.event_data.*`, `@timestamp`,
//!   `winlog.record_id`, `winlog.computer_name`;
//! - the `evtx` crate and `evtx_dump -o jsonl`: `Event.System.{EventID,
//!   TimeCreated.#attributes.SystemTime, EventRecordID, Computer}`, `Event.EventData.*`
//!   (also with `separate_json_attributes`, `TimeCreated_attributes`);
//! - flat records as NXLog `im_msvistalog` and Panther write them: `EventID`, `TimeCreated`
//!   or `EventTime`, `EventRecordID` or `RecordNumber`, `Computer` or `Hostname`, the event
//!   data at the top level or under `ExtraEventData`, possibly wrapped in `{"log": …}`.
//!
//! Decisions, made for password-spray and brute-force detection:
//! - The account is `TargetUserName` alone, lower-cased; the domain is dropped. 4771 and
//!   4776 carry no domain, and 4625 carries whatever domain the attacker typed, so keeping
//!   it would split one user into several accounts. A UPN (`alice@contoso.com`) stays one.
//! - Machine accounts (`WKS01$`), well-known service identities (SYSTEM, LOCAL SERVICE,
//!   NETWORK SERVICE, ANONYMOUS LOGON, window-manager and font-driver sessions) and events
//!   with no user name are [`Parsed::Noise`]: nobody sprays passwords at them, and domain
//!   controllers log thousands of their logons an hour.
//! - Other event ids are [`Parsed::Noise`] (there is no "other event" result yet).
//! - [`model::Protocol`] has no Windows logon kinds, so the protocol is `Unknown` and the
//!   kind goes in `app`: "Windows logon type 10 (RemoteInteractive)", "Kerberos
//!   pre-authentication", "NTLM credential validation".

use std::net::IpAddr;

use model::{FailureKind, Format, Origin, Outcome, Protocol, SignIn};
use serde_json::{Map, Value};

use crate::{ParseOptions, Parsed, RecordError};

#[cfg(feature = "evtx")]
pub mod evtx_file;

/// Whether a JSON line may be a Windows event, judged from its raw text without parsing it,
/// so that other formats pay one substring search for this module's existence.
pub fn looks_like(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memmem::find(bytes, b"\"winlog").is_some()
        || memchr::memmem::find(bytes, b"\"EventID\"").is_some()
}

/// Parses one JSON record that [`looks_like`] a Windows event. Returns `None` when the
/// parsed record turns out not to be one of the shapes this module knows, so that the caller
/// can try other formats.
pub fn try_parse(
    text: &str,
    origin: &Origin,
    opts: &ParseOptions,
) -> Option<Result<Parsed, RecordError>> {
    if !looks_like(text) {
        return None;
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(err) => return Some(Err(RecordError::json(&err))),
    };
    let event = Event::find(&value)?;
    Some(event.into_parsed(origin, opts))
}

/// Parses an event already in a [`Value`] (as the `evtx` crate gives it). Not one of the
/// known shapes is an [`RecordError::UnrecognisedJson`].
pub fn parse_value(
    value: &Value,
    origin: &Origin,
    opts: &ParseOptions,
) -> Result<Parsed, RecordError> {
    let event = Event::find(value).ok_or(RecordError::UnrecognisedJson {
        hint: Some("expected a Windows event with `Event.System.EventID`"),
    })?;
    event.into_parsed(origin, opts)
}

/// The parts of a Windows event that matter, wherever the shape keeps them. Field names in
/// errors are given as the shape spells them.
struct Event<'a> {
    id: &'a Value,
    id_field: &'static str,
    time: Option<&'a Value>,
    time_field: &'static str,
    record: Option<&'a Value>,
    computer: Option<&'a Value>,
    data: Option<&'a Map<String, Value>>,
    data_prefix: &'static str,
}

impl<'a> Event<'a> {
    fn find(value: &'a Value) -> Option<Event<'a>> {
        let obj = value.as_object()?;
        if let Some(winlog) = obj.get("winlog").and_then(Value::as_object)
            && let Some(id) = winlog.get("event_id")
        {
            return Some(Event {
                id,
                id_field: "winlog.event_id",
                time: obj.get("@timestamp"),
                time_field: "@timestamp",
                record: winlog.get("record_id"),
                computer: winlog.get("computer_name"),
                data: winlog.get("event_data").and_then(Value::as_object),
                data_prefix: "winlog.event_data.",
            });
        }
        if let Some(event) = obj.get("Event").and_then(Value::as_object)
            && let Some(system) = event.get("System").and_then(Value::as_object)
            && let Some(id) = system.get("EventID")
        {
            let time = system
                .get("TimeCreated")
                .and_then(|t| t.get("#attributes"))
                .or_else(|| system.get("TimeCreated_attributes"))
                .and_then(|a| a.get("SystemTime"));
            return Some(Event {
                id,
                id_field: "Event.System.EventID",
                time,
                time_field: "Event.System.TimeCreated.SystemTime",
                record: system.get("EventRecordID"),
                computer: system.get("Computer"),
                data: event.get("EventData").and_then(Value::as_object),
                data_prefix: "Event.EventData.",
            });
        }
        // Panther wraps the NXLog-style record in `log`.
        let flat = obj.get("log").and_then(Value::as_object).unwrap_or(obj);
        let id = flat.get("EventID")?;
        let (time, time_field) = match flat.get("TimeCreated") {
            Some(time) => (Some(time), "TimeCreated"),
            None => (flat.get("EventTime"), "EventTime"),
        };
        let (data, data_prefix) = match flat.get("ExtraEventData").and_then(Value::as_object) {
            Some(extra) => (Some(extra), "ExtraEventData."),
            None => (Some(flat), ""),
        };
        Some(Event {
            id,
            id_field: "EventID",
            time,
            time_field,
            record: flat
                .get("EventRecordID")
                .or_else(|| flat.get("RecordNumber")),
            computer: flat.get("Computer").or_else(|| flat.get("Hostname")),
            data,
            data_prefix,
        })
    }

    /// A field of the event data as text: winlogbeat writes strings, the `evtx` crate
    /// writes numbers for integer fields. `-` and empty are absent, as Windows means them.
    fn data(&self, name: &str) -> Option<String> {
        self.data
            .and_then(|data| data.get(name))
            .and_then(text)
            .filter(|t| !t.is_empty() && t != "-")
    }

    fn into_parsed(self, origin: &Origin, opts: &ParseOptions) -> Result<Parsed, RecordError> {
        let id = text(self.id.get("#text").unwrap_or(self.id))
            .and_then(|t| t.parse::<u32>().ok())
            .ok_or_else(|| {
                RecordError::field(self.id_field, format!("{} is not an event id", self.id))
            })?;
        let kind = match id {
            4624 => EventKind::LogonSuccess,
            4625 => EventKind::LogonFailure,
            4771 => EventKind::KerberosPreAuth,
            4776 => EventKind::NtlmValidation,
            _ => return Ok(Parsed::Noise),
        };
        let Some(user) = self.data("TargetUserName") else {
            return Ok(Parsed::Noise);
        };
        if is_noise_account(&user, self.data("TargetUserSid").as_deref()) {
            return Ok(Parsed::Noise);
        }
        let time = self.time(opts)?;
        let source_ip = match self.data("IpAddress") {
            None => None,
            Some(ip) => Some(
                ip.parse::<IpAddr>()
                    .map_err(|_| {
                        RecordError::field(
                            format!("{}IpAddress", self.data_prefix),
                            format!("{ip:?} is not an IP address"),
                        )
                    })?
                    .to_canonical(),
            ),
        };
        let (outcome, failure_kind, result_code, app) = match kind {
            EventKind::LogonSuccess | EventKind::LogonFailure => {
                let app = self.data("LogonType").map(|t| logon_type_name(&t));
                if kind == EventKind::LogonSuccess {
                    (Outcome::Success, None, None, app)
                } else {
                    let status = self.status_code("Status")?;
                    let sub_status = self.status_code("SubStatus")?;
                    let code = match (status, sub_status) {
                        (Some(STATUS_LOGON_FAILURE | STATUS_ACCOUNT_RESTRICTION), Some(sub))
                            if sub != 0 =>
                        {
                            sub
                        }
                        (Some(status), _) => status,
                        (None, Some(sub)) => sub,
                        (None, None) => {
                            return Err(RecordError::field(
                                format!("{}Status", self.data_prefix),
                                "missing; a 4625 event carries the NTSTATUS of the failure",
                            ));
                        }
                    };
                    (
                        Outcome::Failure,
                        Some(ntstatus_kind(code)),
                        Some(format!("{code:#010x}")),
                        app,
                    )
                }
            }
            EventKind::KerberosPreAuth => {
                let code = self.status_code("Status")?.ok_or_else(|| {
                    RecordError::field(
                        format!("{}Status", self.data_prefix),
                        "missing; a 4771 event carries the Kerberos failure code",
                    )
                })?;
                (
                    Outcome::Failure,
                    Some(kerberos_kind(code)),
                    Some(format!("{code:#x}")),
                    Some("Kerberos pre-authentication".to_owned()),
                )
            }
            EventKind::NtlmValidation => {
                let code = self.status_code("Status")?.unwrap_or(0);
                let app = Some("NTLM credential validation".to_owned());
                if code == 0 {
                    (Outcome::Success, None, None, app)
                } else {
                    (
                        Outcome::Failure,
                        Some(ntstatus_kind(code)),
                        Some(format!("{code:#010x}")),
                        app,
                    )
                }
            }
        };
        let reason = match outcome {
            Outcome::Success => None,
            _ => self.data("FailureReason").map(|r| failure_reason(&r)),
        };
        let record_id = match (self.record.and_then(text), self.computer.and_then(text)) {
            (Some(record), Some(computer)) => Some(format!("{computer}#{record}")),
            (Some(record), None) => Some(record),
            (None, _) => None,
        };
        Ok(Parsed::SignIns(vec![SignIn {
            time,
            account: user.to_lowercase(),
            source_ip,
            outcome,
            failure_kind,
            protocol: Protocol::Unknown,
            app,
            result_code,
            reason,
            record_id,
            country: None,
            asn: None,
            user_agent: None,
            format: Format::WindowsSecurity,
            origin: origin.clone(),
            authentication: None,
        }]))
    }

    fn time(&self, opts: &ParseOptions) -> Result<jiff::Timestamp, RecordError> {
        let field = self.time_field;
        let raw = self
            .time
            .and_then(Value::as_str)
            .ok_or_else(|| RecordError::field(field, "missing; expected the event's time"))?;
        parse_time(raw, opts).ok_or_else(|| {
            RecordError::field(
                field,
                format!("{raw:?} is not an RFC 3339 or `YYYY-MM-DD hh:mm:ss[ ±hhmm]` time"),
            )
        })
    }

    /// An NTSTATUS or Kerberos code field: `0xc000006d` as Windows renders it, or a number.
    fn status_code(&self, name: &str) -> Result<Option<u32>, RecordError> {
        let Some(raw) = self.data(name) else {
            return Ok(None);
        };
        parse_code(&raw).map(Some).ok_or_else(|| {
            RecordError::field(
                format!("{}{name}", self.data_prefix),
                format!("{raw:?} is not a status code such as 0xC000006A"),
            )
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EventKind {
    LogonSuccess,
    LogonFailure,
    KerberosPreAuth,
    NtlmValidation,
}

/// STATUS_LOGON_FAILURE and STATUS_ACCOUNT_RESTRICTION: the generic statuses of 4625,
/// whose SubStatus says what really happened.
const STATUS_LOGON_FAILURE: u32 = 0xC000_006D;
const STATUS_ACCOUNT_RESTRICTION: u32 = 0xC000_006E;

/// A JSON string or number as text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_code(raw: &str) -> Option<u32> {
    let raw = raw.trim();
    match raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        // Some exporters write the NTSTATUS as a signed decimal.
        None => raw
            .parse::<u32>()
            .ok()
            .or_else(|| raw.parse::<i32>().ok().map(|n| n as u32)),
    }
}

/// Times as the shapes write them: RFC 3339 (winlogbeat, `evtx`), Panther's
/// `2024-01-15 10:30:45 +0000`, and NXLog's zone-less `2024-01-15 10:30:45`, read in
/// [`ParseOptions::time_zone`].
fn parse_time(raw: &str, opts: &ParseOptions) -> Option<jiff::Timestamp> {
    let raw = raw.trim();
    if let Ok(time) = raw.parse::<jiff::Timestamp>() {
        return Some(time);
    }
    if let Ok(zoned) =
        jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S%.f %z", raw).and_then(|t| t.to_timestamp())
    {
        return Some(zoned);
    }
    let civil = raw.parse::<jiff::civil::DateTime>().ok()?;
    opts.time_zone
        .to_ambiguous_timestamp(civil)
        .compatible()
        .ok()
}

/// Machine accounts, well-known service identities, and the logon sessions Windows makes
/// for itself: never the target of a password guess.
fn is_noise_account(user: &str, sid: Option<&str>) -> bool {
    if user.ends_with('$') {
        return true;
    }
    if let Some(sid) = sid {
        // SYSTEM, LOCAL SERVICE, NETWORK SERVICE, ANONYMOUS LOGON; Window Manager (DWM-n)
        // and font driver host (UMFD-n) sessions.
        if matches!(sid, "S-1-5-18" | "S-1-5-19" | "S-1-5-20" | "S-1-5-7")
            || sid.starts_with("S-1-5-90-")
            || sid.starts_with("S-1-5-96-")
        {
            return true;
        }
    }
    let upper = user.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "SYSTEM" | "LOCAL SERVICE" | "NETWORK SERVICE" | "ANONYMOUS LOGON"
    )
}

/// Names a logon type as Windows documents it, for `app`.
fn logon_type_name(raw: &str) -> String {
    let name = match raw.trim() {
        "0" => "System",
        "2" => "Interactive",
        "3" => "Network",
        "4" => "Batch",
        "5" => "Service",
        "7" => "Unlock",
        "8" => "NetworkCleartext",
        "9" => "NewCredentials",
        "10" => "RemoteInteractive",
        "11" => "CachedInteractive",
        "12" => "CachedRemoteInteractive",
        "13" => "CachedUnlock",
        other => return format!("Windows logon type {other}"),
    };
    format!("Windows logon type {raw} ({name})")
}

/// Maps an NTSTATUS from 4625 (Status or SubStatus) or 4776 to what it means for detection.
pub fn ntstatus_kind(code: u32) -> FailureKind {
    match code {
        // STATUS_WRONG_PASSWORD
        0xC000_006A => FailureKind::BadPassword,
        // STATUS_NO_SUCH_USER
        0xC000_0064 => FailureKind::UnknownAccount,
        // STATUS_ACCOUNT_LOCKED_OUT
        0xC000_0234 => FailureKind::Locked,
        // STATUS_ACCOUNT_DISABLED, STATUS_ACCOUNT_EXPIRED: the account, not the password.
        0xC000_0072 | 0xC000_0193 => FailureKind::Disabled,
        // STATUS_PASSWORD_EXPIRED, STATUS_PASSWORD_MUST_CHANGE: Windows checks the password
        // before it says either, so the password was right.
        0xC000_0071 | 0xC000_0224 => FailureKind::ExpiredPassword,
        // STATUS_INVALID_LOGON_HOURS, STATUS_INVALID_WORKSTATION, STATUS_LOGON_TYPE_NOT_GRANTED:
        // restrictions checked after the password.
        0xC000_006F | 0xC000_0070 | 0xC000_015B => FailureKind::BlockedByPolicy,
        _ => FailureKind::Other,
    }
}

/// Maps a 4771 Kerberos failure code (RFC 4120 error codes) to what it means for detection.
pub fn kerberos_kind(code: u32) -> FailureKind {
    match code {
        // KDC_ERR_PREAUTH_FAILED: the pre-authentication data was encrypted with the wrong key.
        0x18 => FailureKind::BadPassword,
        // KDC_ERR_C_PRINCIPAL_UNKNOWN
        0x6 => FailureKind::UnknownAccount,
        // KDC_ERR_CLIENT_REVOKED: locked out, disabled or expired, without saying which;
        // lockout is what guessing causes, so that is the reading that helps detection.
        0x12 => FailureKind::Locked,
        // KDC_ERR_KEY_EXPIRED
        0x17 => FailureKind::ExpiredPassword,
        _ => FailureKind::Other,
    }
}

/// Replaces a `%%nnnn` message reference, which is what raw event data holds, with the text
/// Windows shows for it; anything else is kept as written.
fn failure_reason(raw: &str) -> String {
    let text = match raw.trim() {
        "%%2304" => "An Error occured during Logon.",
        "%%2305" => "The specified user account has expired.",
        "%%2307" => "Account locked out.",
        "%%2308" => "The user has not been granted the requested logon type at this machine.",
        "%%2309" => "The specified account's password has expired.",
        "%%2310" => "Account currently disabled.",
        "%%2311" => "Account logon time restriction violation.",
        "%%2312" => "User not allowed to logon at this computer.",
        "%%2313" => "Unknown user name or bad password.",
        other => other,
    };
    text.to_owned()
}

#[cfg(test)]
mod tests;
