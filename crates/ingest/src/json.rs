//! JSON format sniffing: which vendor wrote this record, told from its distinctive fields,
//! and the field helpers the vendor modules share.
//!
//! This module owns the routing of one JSON object to [`entra`], [`entra_la`], [`o365`],
//! [`okta`] or [`google`], and nothing about what the fields mean. Sniffing looks only at
//! top-level keys (and, for Google, `id.applicationName`), compared without regard to
//! case because some pipelines (Panther among them) lower-case keys on the way. It must
//! not guess: a record that matches no shape is an [`RecordError::UnrecognisedJson`],
//! never a best effort.
//!
//! Order matters where shapes overlap: the Log Analytics table has PascalCase columns that
//! fold to the Graph names (`UserPrincipalName`), so it is recognised by its own columns
//! (`TimeGenerated`, `ResultType`) before Graph is considered.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use jiff::Timestamp;
use model::Origin;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::{Parsed, RecordError, entra, entra_la, google, o365, okta};

/// The vendor shape a JSON record was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Graph,
    LogAnalytics,
    O365,
    Okta,
    Google,
}

/// Parses one JSON record (a line, or an element of a JSON document) of any supported
/// shape.
pub(crate) fn parse(text: &str, origin: &Origin) -> Result<Parsed, RecordError> {
    match sniff(text)? {
        Shape::Graph => entra::parse_json(text, origin).map(|sign_ins| {
            if sign_ins.is_empty() {
                Parsed::Noise
            } else {
                Parsed::SignIns(sign_ins)
            }
        }),
        shape => {
            let value: Value = serde_json::from_str(text).map_err(|err| RecordError::json(&err))?;
            let Value::Object(record) = &value else {
                return Err(not_an_object());
            };
            let record = Obj(record);
            match shape {
                Shape::LogAnalytics => entra_la::parse(record, origin),
                Shape::O365 => o365::parse(record, origin),
                Shape::Okta => okta::parse(record, origin),
                Shape::Google => google::parse(record, origin),
                Shape::Graph => Err(RecordError::UnrecognisedJson { hint: None }),
            }
        }
    }
}

/// Reads only the top level of the record (values stay raw) and decides its shape.
fn sniff(text: &str) -> Result<Shape, RecordError> {
    let TopLevel(keys) = serde_json::from_str(text).map_err(|err| {
        if err.is_data() {
            not_an_object()
        } else {
            RecordError::json(&err)
        }
    })?;
    let has = |name: &str| keys.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    // A repeated key counts once, with its last value, as a map would keep it.
    let raw = |name: &str| {
        keys.iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let exact = |name: &str| keys.iter().any(|(k, _)| k == name);
    // Azure Monitor diagnostic settings: the Graph-like sign-in sits under `properties`.
    if has("properties") && has("category") {
        return Ok(Shape::LogAnalytics);
    }
    // The Log Analytics table: PascalCase columns of its own.
    if has("TimeGenerated") || (has("ResultType") && has("UserPrincipalName")) {
        return Ok(Shape::LogAnalytics);
    }
    if exact("createdDateTime")
        || exact("userPrincipalName")
        || exact("@odata.context")
        || exact("value")
    {
        return Ok(Shape::Graph);
    }
    if has("CreationTime") && (has("Operation") || has("RecordType") || has("Workload")) {
        return Ok(Shape::O365);
    }
    if has("eventType") {
        return Ok(Shape::Okta);
    }
    if let Some(id) = raw("id")
        && let Ok(Value::Object(id)) = serde_json::from_str::<Value>(id.get())
        && Obj(&id).get("applicationName").is_some()
    {
        return Ok(Shape::Google);
    }
    if let Some(kind) = raw("kind")
        && serde_json::from_str::<&str>(kind.get()).is_ok_and(|k| k.starts_with("admin#reports#"))
    {
        return Ok(Shape::Google);
    }
    Err(RecordError::UnrecognisedJson { hint: None })
}

/// The top level of a record: its keys, borrowed from the text unless escaped, and raw
/// values, in order. Sniffing every record's shape must cost no more than reading it: a
/// map of owned keys allocated a string per field, a quarter of parsing a Graph record.
struct TopLevel<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for TopLevel<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = TopLevel<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(64);
                while let Some(Key(key)) = map.next_key()? {
                    fields.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(TopLevel(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A key borrowed from the text when it has no escapes (serde's `Cow` always copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

fn not_an_object() -> RecordError {
    RecordError::UnrecognisedJson {
        hint: Some("the record is not a JSON object"),
    }
}

/// A JSON object whose keys are looked up exactly first, then without regard to case.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a>(pub(crate) &'a Map<String, Value>);

impl<'a> Obj<'a> {
    /// The value under `key`, `None` when absent or `null`.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        let value = match self.0.get(key) {
            Some(value) => Some(value),
            None => self
                .0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
        };
        value.filter(|v| !v.is_null())
    }

    /// The object under `key`, if it is one.
    pub(crate) fn obj(&self, key: &str) -> Option<Obj<'a>> {
        self.get(key).and_then(Value::as_object).map(Obj)
    }

    /// The text under `key`, trimmed; `None` when absent, empty or not a string.
    pub(crate) fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// Like [`Obj::str`], owned.
    pub(crate) fn string(&self, key: &str) -> Option<String> {
        self.str(key).map(str::to_owned)
    }

    /// The integer under `key`, written as a number or as a string of digits.
    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// Parses a record time: RFC 3339, or a civil date and time without an offset (`2022-12-12
/// 15:57:57`, `2022-12-12T15:57:57`), which every source here writes in UTC.
pub(crate) fn time(field: &str, text: Option<&str>) -> Result<Timestamp, RecordError> {
    let text = text.ok_or_else(|| RecordError::field(field, "missing"))?;
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp())
        .ok_or_else(|| {
            RecordError::field(
                field,
                format!(
                    "{text:?} is not a time (expected RFC 3339 or `YYYY-MM-DD hh:mm:ss` in UTC)"
                ),
            )
        })
}

/// Parses a source address: a bare IPv4 or IPv6 address, or one with a port
/// (`203.0.113.9:443`, `[2001:db8::1]:443`), or an IPv6 address in brackets. IPv4-mapped
/// IPv6 addresses become IPv4 so that one client is one address. An absent or empty
/// value is `None`.
pub(crate) fn ip(field: &str, text: Option<&str>) -> Result<Option<IpAddr>, RecordError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let parsed = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<IpAddr>().ok())
        });
    match parsed {
        Some(ip) => Ok(Some(ip.to_canonical())),
        None => Err(RecordError::field(
            field,
            format!("{text:?} is not an IP address"),
        )),
    }
}

/// An account name as the model keeps it: trimmed and lower-cased.
pub(crate) fn account(field: &str, text: Option<&str>) -> Result<String, RecordError> {
    text.map(str::to_lowercase)
        .ok_or_else(|| RecordError::field(field, "missing"))
}

/// An autonomous system number written as a number, a string of digits or `AS64500`.
pub(crate) fn asn(value: Option<&Value>) -> Option<u32> {
    match value? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => {
            let s = s.trim();
            let s = s
                .strip_prefix("AS")
                .or_else(|| s.strip_prefix("as"))
                .unwrap_or(s);
            s.parse().ok()
        }
        _ => None,
    }
    .filter(|&n| n != 0)
}

/// A country as the source gives it: an ISO code upper-cased, a name as written.
pub(crate) fn country(text: Option<&str>) -> Option<String> {
    let text = text?;
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        Some(text.to_ascii_uppercase())
    } else {
        Some(text.to_owned())
    }
}

#[cfg(test)]
mod tests;
