//! Rendering sign-ins into the raw formats tocsin parses: one Microsoft Graph `signIn`
//! JSON object per line, and OpenSSH `sshd` lines in RFC 3164 syslog.
//!
//! Owns the shape of those lines. Renderers are pure functions of the sign-in: whatever
//! a line needs that the sign-in does not carry (ids, pids, ports, devices) is derived from
//! a stable hash of it, never drawn from a clock or a global random source.

use jiff::tz::TimeZone;
use model::{Authentication, FailureKind, Outcome, Protocol, SignIn};
use serde_json::{Value, json};

use crate::event::{SshMethod, entra_app, entra_status, sshd_message};
use crate::names::display_name;

/// 64-bit FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator keeps ("ab", "c") and ("a", "bc") apart.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Formats 128 bits as a version-4, RFC 4122 variant UUID string.
pub(crate) fn uuid_from_bits(bits: u128) -> String {
    let bits = (bits & !(0xf << 76)) | (0x4 << 76);
    let bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn uuid_from(parts: &[&[u8]]) -> String {
    let high = fnv1a(parts);
    let low = fnv1a(&[&high.to_le_bytes(), b"low"]);
    uuid_from_bits((u128::from(high) << 64) | u128::from(low))
}

/// The hash that stands for a sign-in when a renderer needs a stable choice.
fn sign_in_hash(s: &SignIn) -> u64 {
    let time = s.time.as_nanosecond().to_le_bytes();
    let ip = s.source_ip.map(|ip| ip.to_string()).unwrap_or_default();
    let record = s.record_id.as_deref().unwrap_or("");
    let reason = s.reason.as_deref().unwrap_or("");
    fnv1a(&[
        &time,
        s.account.as_bytes(),
        ip.as_bytes(),
        record.as_bytes(),
        reason.as_bytes(),
    ])
}

/// The Graph `clientAppUsed` value for a protocol.
pub fn client_app_used(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Browser => "Browser",
        Protocol::ModernClient => "Mobile Apps and Desktop clients",
        Protocol::ExchangeActiveSync => "Exchange ActiveSync",
        Protocol::Imap => "IMAP4",
        Protocol::Pop3 => "POP3",
        Protocol::Smtp => "Authenticated SMTP",
        Protocol::ExchangeLegacy => "Exchange Web Services",
        Protocol::OtherClient | Protocol::Ssh | Protocol::Unknown => "Other clients",
    }
}

/// Well-known first-party application ids, so that rendered records look like real ones.
fn app_id(app: &str) -> String {
    match app {
        "OfficeHome" => "4765445b-32c6-49b0-83e6-1d93765276ca".to_owned(),
        "Microsoft Office" => "d3590ed6-52b3-4102-aeff-aad2292ab01c".to_owned(),
        "Office 365 Exchange Online" => "00000002-0000-0ff1-ce00-000000000000".to_owned(),
        "Microsoft Azure CLI" => "04b07795-8ddb-461a-bbee-02f9e1bf7b46".to_owned(),
        other => uuid_from(&[b"app", other.as_bytes()]),
    }
}

/// (resourceDisplayName, resourceId) for a protocol.
fn resource(protocol: Protocol) -> (&'static str, &'static str) {
    if protocol.is_legacy() {
        (
            "Office 365 Exchange Online",
            "00000002-0000-0ff1-ce00-000000000000",
        )
    } else {
        (
            "Windows Azure Active Directory",
            "00000002-0000-0000-c000-000000000000",
        )
    }
}

/// (city, state, latitude, longitude) for the countries the demo uses.
fn place(country: &str) -> Option<(&'static str, &'static str, f64, f64)> {
    match country {
        "IE" => Some(("Dublin", "Dublin", 53.3498, -6.2603)),
        "DE" => Some(("Marburg", "Hessen", 50.8021, 8.7667)),
        "KE" => Some(("Nairobi", "Nairobi County", -1.2921, 36.8219)),
        "NL" => Some(("Amsterdam", "Noord-Holland", 52.3676, 4.9041)),
        "US" => Some(("Ashburn", "Virginia", 39.0438, -77.4874)),
        _ => None,
    }
}

fn device_detail(s: &SignIn) -> Value {
    let hash = fnv1a(&[
        b"device",
        s.account.as_bytes(),
        s.protocol.as_str().as_bytes(),
    ]);
    let pick = |options: &[&'static str]| options[(hash % options.len() as u64) as usize];
    let (os, browser) = match s.protocol {
        Protocol::Browser => (
            pick(&["Windows10", "Windows10", "MacOs", "Ios"]),
            pick(&[
                "Edge 120.0.2210",
                "Chrome 120.0.6099",
                "Safari 17.1",
                "Firefox 121.0",
            ]),
        ),
        Protocol::ModernClient => (pick(&["Windows10", "Ios", "Android"]), "Rich Client 4.56.0"),
        Protocol::ExchangeActiveSync | Protocol::Imap | Protocol::Pop3 => {
            (pick(&["Ios", "Android"]), "")
        }
        _ => ("", ""),
    };
    json!({
        "deviceId": "",
        "displayName": "",
        "operatingSystem": os,
        "browser": browser,
        "isCompliant": false,
        "isManaged": false,
        "trustType": "",
    })
}

fn location(s: &SignIn) -> Value {
    let country = s.country.as_deref().unwrap_or("");
    match place(country) {
        Some((city, state, latitude, longitude)) => json!({
            "city": city,
            "state": state,
            "countryOrRegion": country,
            "geoCoordinates": { "altitude": null, "latitude": latitude, "longitude": longitude },
        }),
        None => json!({
            "city": null,
            "state": null,
            "countryOrRegion": if country.is_empty() { Value::Null } else { Value::from(country) },
            "geoCoordinates": { "altitude": null, "latitude": null, "longitude": null },
        }),
    }
}

/// Extra words Entra puts in `status.additionalDetails` for common failures.
fn additional_details(kind: Option<FailureKind>) -> Value {
    match kind {
        Some(FailureKind::BadPassword) => Value::from(
            "The user didn't enter the right credentials. It's expected to see some number of \
             these errors in your logs due to users making mistakes.",
        ),
        Some(FailureKind::MfaRequired) => {
            Value::from("MFA requirement satisfied by claim in the token")
        }
        _ => Value::Null,
    }
}

/// Renders a sign-in as one line of JSON: a Microsoft Graph `signIn` resource
/// (`GET /auditLogs/signIns`), without a trailing newline.
///
/// `id` is the sign-in's `record_id` when it has one; the other ids (`userId`,
/// `correlationId`, device) are derived from a stable hash of the sign-in.
pub fn render_graph(s: &SignIn) -> String {
    let id = match &s.record_id {
        Some(id) => id.clone(),
        None => uuid_from(&[b"id", &sign_in_hash(s).to_le_bytes()]),
    };
    // Entra has no pre-authentication events; one renders as a generic failure.
    let (default_code, default_reason) = entra_status(match s.outcome {
        Outcome::Success => None,
        Outcome::Failure | Outcome::PreAuth => Some(s.failure_kind.unwrap_or(FailureKind::Other)),
    });
    let error_code: u64 = s
        .result_code
        .as_deref()
        .and_then(|code| code.parse().ok())
        .unwrap_or(u64::from(default_code));
    let failure_reason = match (s.outcome, &s.reason) {
        (Outcome::Failure, Some(reason)) => Value::from(reason.as_str()),
        (Outcome::Failure | Outcome::PreAuth, None) => {
            Value::from(default_reason.unwrap_or("Other."))
        }
        (Outcome::PreAuth, Some(reason)) => Value::from(reason.as_str()),
        (Outcome::Success, _) => Value::Null,
    };
    let app = s
        .app
        .clone()
        .unwrap_or_else(|| entra_app(s.protocol).to_owned());
    let (resource_name, resource_id) = resource(s.protocol);
    let ca_status = if s.outcome == Outcome::Success {
        "success"
    } else {
        "notApplied"
    };
    let record = json!({
        "id": id,
        "createdDateTime": s.time.to_string(),
        "userDisplayName": display_name(&s.account),
        "userPrincipalName": s.account,
        "userId": uuid_from(&[b"user", s.account.as_bytes()]),
        "appId": app_id(&app),
        "appDisplayName": app,
        "ipAddress": s.source_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        "clientAppUsed": client_app_used(s.protocol),
        "correlationId": uuid_from(&[b"correlation", id.as_bytes()]),
        "conditionalAccessStatus": ca_status,
        "isInteractive": true,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes_v2": [],
        "resourceDisplayName": resource_name,
        "resourceId": resource_id,
        "status": {
            "errorCode": error_code,
            "failureReason": failure_reason,
            "additionalDetails": additional_details(s.failure_kind),
        },
        "deviceDetail": device_detail(s),
        "location": location(s),
        "appliedConditionalAccessPolicies": [],
    });
    let mut record = record;
    if let Some(strength) = s.authentication {
        let (requirement, details) = authentication_details(strength, s.time);
        record["authenticationRequirement"] = requirement.into();
        record["authenticationDetails"] = details;
    }
    record.to_string()
}

/// Graph's `authenticationRequirement` and `authenticationDetails` for a sign-in of this
/// strength, shaped like the signIn resource's documented example: the password step,
/// then the second factor.
fn authentication_details(strength: Authentication, at: jiff::Timestamp) -> (&'static str, Value) {
    let step = |method: &str, detail: &str| {
        json!({
            "authenticationStepDateTime": at.to_string(),
            "authenticationMethod": method,
            "authenticationMethodDetail": null,
            "succeeded": true,
            "authenticationStepResultDetail": detail,
            "authenticationStepRequirement": "Primary authentication",
        })
    };
    match strength {
        Authentication::SingleFactor => (
            "singleFactorAuthentication",
            json!([step("Password", "Correct password")]),
        ),
        Authentication::MultiFactor => (
            "multiFactorAuthentication",
            json!([
                step("Password", "Correct password"),
                step("Mobile app notification", "MFA successfully completed"),
            ]),
        ),
        Authentication::PhishingResistant => (
            "multiFactorAuthentication",
            json!([step("FIDO2 security key", "MFA successfully completed")]),
        ),
    }
}

/// Renders a sign-in as an RFC 3164 syslog line the way OpenSSH's `sshd` writes it, for
/// example `Nov  3 09:14:02 gw sshd[4121]: Failed password for invalid user admin from
/// 203.0.113.7 port 52144 ssh2`. The time is written in UTC.
///
/// The message is the sign-in's `reason` when that already is an sshd message (as the
/// generators make it); otherwise it is built from the sign-in with a port derived from
/// its hash. The pid is derived from its hash too.
pub fn render_sshd(s: &SignIn, host: &str) -> String {
    let hash = sign_in_hash(s);
    let pid = 1000 + hash % 60_000;
    let message = match s.reason.as_deref() {
        Some(reason) if reason.starts_with("Failed ") || reason.starts_with("Accepted ") => {
            reason.to_owned()
        }
        _ => {
            let port = 1024 + ((hash >> 20) % 64_000) as u16;
            let key = uuid_from(&[b"key", &hash.to_le_bytes()]).replace('-', "");
            sshd_message(
                s.outcome,
                s.failure_kind,
                SshMethod::Password,
                &s.account,
                s.source_ip,
                port,
                &key,
            )
        }
    };
    let stamp = s.time.to_zoned(TimeZone::UTC).strftime("%b %e %H:%M:%S");
    format!("{stamp} {host} sshd[{pid}]: {message}")
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use jiff::Timestamp;
    use model::{Format, Origin};

    use super::*;

    fn sign_in(time: &str, outcome: Outcome, kind: Option<FailureKind>) -> SignIn {
        SignIn {
            time: time.parse().expect("time"),
            account: "admin".into(),
            source_ip: Some("203.0.113.7".parse::<IpAddr>().expect("ip")),
            outcome,
            failure_kind: kind,
            protocol: Protocol::Ssh,
            app: Some("sshd".into()),
            result_code: None,
            reason: None,
            record_id: None,
            country: None,
            asn: None,
            user_agent: None,
            format: Format::Sshd,
            origin: Origin::FileRecord {
                file: "scenario".into(),
                record: 0,
            },
            authentication: None,
        }
    }

    #[test]
    fn sshd_lines_pad_the_day_and_name_invalid_users() {
        let s = sign_in(
            "2024-11-03T09:14:02Z",
            Outcome::Failure,
            Some(FailureKind::UnknownAccount),
        );
        let line = render_sshd(&s, "gw");
        assert!(line.starts_with("Nov  3 09:14:02 gw sshd["), "{line}");
        assert!(
            line.contains("]: Failed password for invalid user admin from 203.0.113.7 port "),
            "{line}"
        );
        assert!(line.ends_with(" ssh2"), "{line}");
        assert_eq!(line, render_sshd(&s, "gw"));

        let ok = sign_in("2024-11-23T23:59:59Z", Outcome::Success, None);
        let line = render_sshd(&ok, "gw");
        assert!(line.starts_with("Nov 23 23:59:59 gw sshd["), "{line}");
        assert!(
            line.contains("]: Accepted password for admin from 203.0.113.7 port "),
            "{line}"
        );
    }

    #[test]
    fn graph_records_carry_the_documented_fields() {
        let mut s = sign_in(
            "2024-11-23T09:14:02Z",
            Outcome::Failure,
            Some(FailureKind::BadPassword),
        );
        s.account = "aoife.byrne@stbrigids-hospital.example".into();
        s.protocol = Protocol::Imap;
        s.format = Format::EntraGraph;
        s.country = Some("IE".into());
        let line = render_graph(&s);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["createdDateTime"], "2024-11-23T09:14:02Z");
        assert_eq!(
            v["userPrincipalName"],
            "aoife.byrne@stbrigids-hospital.example"
        );
        assert_eq!(v["userDisplayName"], "Aoife Byrne");
        assert_eq!(v["ipAddress"], "203.0.113.7");
        assert_eq!(v["clientAppUsed"], "IMAP4");
        assert_eq!(v["status"]["errorCode"], 50126);
        assert_eq!(
            v["status"]["failureReason"],
            "Error validating credentials due to invalid username or password."
        );
        assert_eq!(v["location"]["countryOrRegion"], "IE");
        assert_eq!(v["location"]["geoCoordinates"]["altitude"], Value::Null);
        assert_eq!(v["appliedConditionalAccessPolicies"], json!([]));
        assert_eq!(v["riskEventTypes_v2"], json!([]));
        let id = v["id"].as_str().expect("id");
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        for field in [
            "userId",
            "appId",
            "appDisplayName",
            "correlationId",
            "conditionalAccessStatus",
            "isInteractive",
            "riskDetail",
            "riskLevelAggregated",
            "riskLevelDuringSignIn",
            "riskState",
            "resourceDisplayName",
            "resourceId",
            "deviceDetail",
        ] {
            assert!(!v[field].is_null(), "{field} missing in {line}");
        }
        for field in [
            "deviceId",
            "displayName",
            "operatingSystem",
            "browser",
            "isCompliant",
            "isManaged",
            "trustType",
        ] {
            assert!(
                !v["deviceDetail"][field].is_null(),
                "deviceDetail.{field} missing"
            );
        }
        assert_eq!(render_graph(&s), line);

        s.outcome = Outcome::Success;
        s.failure_kind = None;
        let v: Value = serde_json::from_str(&render_graph(&s)).expect("json");
        assert_eq!(v["status"]["errorCode"], 0);
        assert_eq!(v["status"]["failureReason"], Value::Null);
        let _: Timestamp = v["createdDateTime"]
            .as_str()
            .expect("str")
            .parse()
            .expect("time");
    }
}
