//! Rendering sign-ins into the raw formats tocsin parses: one JSON object per line for
//! Microsoft Graph `signIn` records, Log Analytics `SigninLogs` rows and Okta System Log
//! events, and RFC 3164 syslog lines for OpenSSH `sshd`, Dovecot and Postfix.
//!
//! Owns the shape of those lines, field for field like the fixtures in
//! `crates/ingest/testdata` and the parsers' doc comments. Renderers are pure functions of
//! the sign-in: whatever a line needs that the sign-in does not carry (ids, pids, ports,
//! devices) is derived from a stable hash of it, never drawn from a clock or a global
//! random source. JSON is written key by key in a fixed order ([`JsonObject`]), so that a
//! record is the same bytes whichever serde_json features a build switched on.

use std::net::IpAddr;

use crate::event::{SshMethod, entra_app, entra_status, sshd_message};
use crate::names::display_name;
use jiff::tz::TimeZone;
use model::{Authentication, FailureKind, Outcome, Protocol, SignIn};

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

/// A JSON object written key by key in the order given. The renderers' output must be the
/// same bytes in every build, and `serde_json::Value` orders keys by name or by insertion
/// depending on whether another crate of the build switched on `preserve_order` (the
/// `evtx` reader does), so the records are written with this instead.
pub(crate) struct JsonObject {
    buf: String,
    empty: bool,
}

impl JsonObject {
    pub(crate) fn new() -> Self {
        let mut buf = String::with_capacity(256);
        buf.push('{');
        JsonObject { buf, empty: true }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.buf.push(',');
        }
        self.empty = false;
        push_json_str(&mut self.buf, key);
        self.buf.push(':');
    }

    pub(crate) fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        push_json_str(&mut self.buf, value);
        self
    }

    /// A string, or `null` for `None`.
    pub(crate) fn opt_str(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.str(key, value),
            None => self.raw(key, "null"),
        }
    }

    pub(crate) fn int(mut self, key: &str, value: i64) -> Self {
        self.key(key);
        self.buf.push_str(&value.to_string());
        self
    }

    /// A number as serde_json writes it, or `null` for `None`.
    pub(crate) fn float(self, key: &str, value: Option<f64>) -> Self {
        match value.and_then(serde_json::Number::from_f64) {
            Some(n) => self.raw(key, &n.to_string()),
            None => self.raw(key, "null"),
        }
    }

    pub(crate) fn bool(self, key: &str, value: bool) -> Self {
        self.raw(key, if value { "true" } else { "false" })
    }

    /// `value` is already JSON (`null`, `[]`, a nested object's text).
    pub(crate) fn raw(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        self.buf.push_str(value);
        self
    }

    pub(crate) fn object(self, key: &str, value: JsonObject) -> Self {
        let text = value.finish();
        self.raw(key, &text)
    }

    pub(crate) fn finish(mut self) -> String {
        self.buf.push('}');
        self.buf
    }
}

/// `[a,b,…]` of objects already written.
fn json_array(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    format!("[{}]", items.join(","))
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
fn push_json_str(buf: &mut String, s: &str) {
    buf.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        buf.push_str(&s[plain..i]);
        if escape.is_empty() {
            buf.push_str(&format!("\\u{b:04x}"));
        } else {
            buf.push_str(escape);
        }
        plain = i + 1;
    }
    buf.push_str(&s[plain..]);
    buf.push('"');
}

fn device(s: &SignIn) -> (&'static str, &'static str) {
    let hash = fnv1a(&[
        b"device",
        s.account.as_bytes(),
        s.protocol.as_str().as_bytes(),
    ]);
    let pick = |options: &[&'static str]| options[(hash % options.len() as u64) as usize];
    match s.protocol {
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
    }
}

fn device_detail(s: &SignIn) -> JsonObject {
    let (os, browser) = device(s);
    JsonObject::new()
        .str("deviceId", "")
        .str("displayName", "")
        .str("operatingSystem", os)
        .str("browser", browser)
        .bool("isCompliant", false)
        .bool("isManaged", false)
        .str("trustType", "")
}

fn location(s: &SignIn) -> JsonObject {
    let country = s.country.as_deref().unwrap_or("");
    match place(country) {
        Some((city, state, latitude, longitude)) => JsonObject::new()
            .str("city", city)
            .str("state", state)
            .str("countryOrRegion", country)
            .object(
                "geoCoordinates",
                JsonObject::new()
                    .raw("altitude", "null")
                    .float("latitude", Some(latitude))
                    .float("longitude", Some(longitude)),
            ),
        None => JsonObject::new()
            .raw("city", "null")
            .raw("state", "null")
            .opt_str("countryOrRegion", (!country.is_empty()).then_some(country))
            .object(
                "geoCoordinates",
                JsonObject::new()
                    .raw("altitude", "null")
                    .raw("latitude", "null")
                    .raw("longitude", "null"),
            ),
    }
}

/// Extra words Entra puts in `status.additionalDetails` for common failures.
fn additional_details(kind: Option<FailureKind>) -> Option<&'static str> {
    match kind {
        Some(FailureKind::BadPassword) => Some(
            "The user didn't enter the right credentials. It's expected to see some number of \
             these errors in your logs due to users making mistakes.",
        ),
        Some(FailureKind::MfaRequired) => Some("MFA requirement satisfied by claim in the token"),
        _ => None,
    }
}

/// The record id, error code and failure reason Entra records for a sign-in: the id is
/// the sign-in's `record_id` when it has one, else derived from its hash.
fn entra_fields(s: &SignIn) -> (String, u64, Option<String>) {
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
        (Outcome::Failure | Outcome::PreAuth, Some(reason)) => Some(reason.clone()),
        (Outcome::Failure | Outcome::PreAuth, None) => {
            Some(default_reason.unwrap_or("Other.").to_owned())
        }
        (Outcome::Success, _) => None,
    };
    (id, error_code, failure_reason)
}

/// Renders a sign-in as one line of JSON: a Microsoft Graph `signIn` resource
/// (`GET /auditLogs/signIns`), without a trailing newline, its keys in the documented
/// order.
///
/// `id` is the sign-in's `record_id` when it has one; the other ids (`userId`,
/// `correlationId`, device) are derived from a stable hash of the sign-in.
pub fn render_graph(s: &SignIn) -> String {
    let (id, error_code, failure_reason) = entra_fields(s);
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
    let ip = s.source_ip.map(|ip| ip.to_string()).unwrap_or_default();
    let mut record = JsonObject::new()
        .str("id", &id)
        .str("createdDateTime", &s.time.to_string())
        .str("userDisplayName", &display_name(&s.account))
        .str("userPrincipalName", &s.account)
        .str("userId", &uuid_from(&[b"user", s.account.as_bytes()]))
        .str("appId", &app_id(&app))
        .str("appDisplayName", &app)
        .str("ipAddress", &ip)
        .str("clientAppUsed", client_app_used(s.protocol))
        .str(
            "correlationId",
            &uuid_from(&[b"correlation", id.as_bytes()]),
        )
        .str("conditionalAccessStatus", ca_status)
        .bool("isInteractive", true)
        .str("riskDetail", "none")
        .str("riskLevelAggregated", "none")
        .str("riskLevelDuringSignIn", "none")
        .str("riskState", "none")
        .raw("riskEventTypes_v2", "[]")
        .str("resourceDisplayName", resource_name)
        .str("resourceId", resource_id)
        .object(
            "status",
            JsonObject::new()
                .int("errorCode", error_code as i64)
                .opt_str("failureReason", failure_reason.as_deref())
                .opt_str("additionalDetails", additional_details(s.failure_kind)),
        )
        .object("deviceDetail", device_detail(s))
        .object("location", location(s))
        .raw("appliedConditionalAccessPolicies", "[]");
    if let Some(strength) = s.authentication {
        let (requirement, details) = authentication_details(strength, s.time);
        record = record
            .str("authenticationRequirement", requirement)
            .raw("authenticationDetails", &details);
    }
    record.finish()
}

/// Graph's `authenticationRequirement` and `authenticationDetails` (as JSON text) for a
/// sign-in of this strength, shaped like the signIn resource's documented example: the
/// password step, then the second factor.
fn authentication_details(strength: Authentication, at: jiff::Timestamp) -> (&'static str, String) {
    let step = |method: &str, detail: &str| {
        JsonObject::new()
            .str("authenticationStepDateTime", &at.to_string())
            .str("authenticationMethod", method)
            .raw("authenticationMethodDetail", "null")
            .bool("succeeded", true)
            .str("authenticationStepResultDetail", detail)
            .str("authenticationStepRequirement", "Primary authentication")
            .finish()
    };
    match strength {
        Authentication::SingleFactor => (
            "singleFactorAuthentication",
            json_array([step("Password", "Correct password")]),
        ),
        Authentication::MultiFactor => (
            "multiFactorAuthentication",
            json_array([
                step("Password", "Correct password"),
                step("Mobile app notification", "MFA successfully completed"),
            ]),
        ),
        Authentication::PhishingResistant => (
            "multiFactorAuthentication",
            json_array([step("FIDO2 security key", "MFA successfully completed")]),
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

/// (country name as Okta writes it, postal code) for the countries generated sign-ins use.
fn okta_country(country: &str) -> Option<(&'static str, &'static str)> {
    match country {
        "IE" => Some(("Ireland", "D02")),
        "DE" => Some(("Germany", "35037")),
        "KE" => Some(("Kenya", "00100")),
        "NL" => Some(("Netherlands", "1012")),
        "US" => Some(("United States", "20147")),
        _ => None,
    }
}

/// The tenant an account's domain belongs to, as a stable id.
fn tenant_id(account: &str) -> String {
    let domain = account.rsplit_once('@').map_or("", |(_, d)| d);
    uuid_from(&[b"tenant", domain.as_bytes()])
}

/// Renders a sign-in as one line of JSON: a row of the Entra ID `SigninLogs` table as Log
/// Analytics exports it (PascalCase columns, `ResultType` as text, `Status`,
/// `LocationDetails`, `DeviceDetail` and `AuthenticationDetails` as JSON text), shaped
/// like `crates/ingest/testdata/entra_la/signinlogs-row*.json`, without a trailing
/// newline.
///
/// The ids are derived as [`render_graph`] derives them, so that a sign-in's Graph record
/// and its table row name the same `Id`; `TimeGenerated` is the sign-in's time plus an
/// ingestion delay of half a minute to three and a half minutes derived from its hash.
pub fn render_signin_logs(s: &SignIn) -> String {
    let (id, error_code, failure_reason) = entra_fields(s);
    let hash = sign_in_hash(s);
    let app = s
        .app
        .clone()
        .unwrap_or_else(|| entra_app(s.protocol).to_owned());
    let (resource_name, resource_id) = resource(s.protocol);
    let tenant = tenant_id(&s.account);
    let delay = jiff::SignedDuration::from_millis(30_000 + (hash % 180_000) as i64);
    let generated = s.time.checked_add(delay).unwrap_or(s.time);
    let mut status = JsonObject::new().int("errorCode", error_code as i64);
    if let Some(reason) = &failure_reason {
        status = status.str("failureReason", reason);
    }
    if let Some(details) = additional_details(s.failure_kind) {
        status = status.str("additionalDetails", details);
    } else if s
        .authentication
        .is_some_and(Authentication::is_multi_factor)
    {
        status = status.str("additionalDetails", "MFA completed in Azure AD");
    }
    let (os, browser) = device(s);
    let device_detail = JsonObject::new()
        .str("deviceId", "")
        .str("operatingSystem", os)
        .str("browser", browser)
        .finish();
    let ca_status = if s.outcome == Outcome::Success {
        "success"
    } else {
        "notApplied"
    };
    let (requirement, details) = match s.authentication {
        Some(strength) => {
            let (requirement, details) = authentication_details(strength, s.time);
            (requirement, Some(details))
        }
        None => ("singleFactorAuthentication", None),
    };
    let mut row = JsonObject::new()
        .str("TenantId", &tenant)
        .str("SourceSystem", "Azure AD")
        .str("TimeGenerated", &generated.to_string())
        .str(
            "ResourceId",
            &format!("/tenants/{tenant}/providers/Microsoft.aadiam"),
        )
        .str("OperationName", "Sign-in activity")
        .str("OperationVersion", "1.0")
        .str("Category", "SignInLogs")
        .str("ResultType", &error_code.to_string())
        .str("ResultSignature", "None")
        .str("ResultDescription", failure_reason.as_deref().unwrap_or(""))
        .int("DurationMs", 0)
        .str(
            "CorrelationId",
            &uuid_from(&[b"correlation", id.as_bytes()]),
        )
        .str("Identity", &display_name(&s.account))
        .int("Level", 4)
        .str("Location", s.country.as_deref().unwrap_or(""))
        .str("AppDisplayName", &app)
        .str("AppId", &app_id(&app));
    if let Some(details) = &details {
        row = row.str("AuthenticationDetails", details);
    }
    let mut row = row
        .str("AuthenticationRequirement", requirement)
        .str("ClientAppUsed", client_app_used(s.protocol))
        .str("ConditionalAccessStatus", ca_status)
        .str("CreatedDateTime", &s.time.to_string())
        .str("DeviceDetail", &device_detail)
        .str("Id", &id)
        .str(
            "IPAddress",
            &s.source_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        )
        .bool("IsInteractive", true)
        .str("LocationDetails", &location(s).finish())
        .str(
            "OriginalRequestId",
            &uuid_from(&[b"request", id.as_bytes()]),
        )
        .str("ResourceDisplayName", resource_name)
        .str("ResourceIdentity", resource_id)
        .str("RiskDetail", "none")
        .str("RiskLevelAggregated", "none")
        .str("RiskLevelDuringSignIn", "none")
        .str("RiskState", "none")
        .str("Status", &status.finish())
        .str("UserAgent", s.user_agent.as_deref().unwrap_or(""))
        .str("UserDisplayName", &display_name(&s.account))
        .str("UserId", &uuid_from(&[b"user", s.account.as_bytes()]))
        .str("UserPrincipalName", &s.account)
        .str("UserType", "Member");
    if let Some(asn) = s.asn {
        row = row.int("AutonomousSystemNumber", i64::from(asn));
    }
    row.str("Type", "SigninLogs").finish()
}

/// Renders a sign-in as one line of JSON: an Okta System Log event (the `LogEvent` of
/// `GET /api/v1/logs`), shaped like `crates/ingest/testdata/okta/*.json`, without a
/// trailing newline. A success that passed a second factor is a
/// `user.authentication.auth_via_mfa` event naming the factor; every other sign-in is a
/// `user.session.start`, whose failures name the reason (`INVALID_CREDENTIALS`,
/// `UNKNOWN_USER`, `LOCKED_OUT`, …). See [`render_okta_event`] for other event types.
pub fn render_okta(s: &SignIn) -> String {
    let event_type = match (s.outcome, s.authentication) {
        (
            Outcome::Success,
            Some(Authentication::MultiFactor | Authentication::PhishingResistant),
        ) => "user.authentication.auth_via_mfa",
        _ => "user.session.start",
    };
    render_okta_event(s, event_type)
}

/// Renders the sign-in's actor, client and outcome as an Okta System Log event of
/// `event_type`: a sign-in step (`user.session.start`, `user.authentication.sso`, which
/// names `s.app` as its target application, `user.authentication.auth_via_mfa`), a
/// lockout (`user.account.lock`) or an event that is not a sign-in (`user.session.end`,
/// `policy.evaluate_sign_on`). The ids (`uuid` unless the sign-in has a `record_id`, the
/// actor's, the session's) are derived from a stable hash of the sign-in.
pub fn render_okta_event(s: &SignIn, event_type: &str) -> String {
    let hash = sign_in_hash(s);
    let uuid = match &s.record_id {
        Some(id) => id.clone(),
        None => uuid_from(&[b"okta", event_type.as_bytes(), &hash.to_le_bytes()]),
    };
    let okta_id = |prefix: &str, parts: &[&[u8]]| {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut bits = fnv1a(parts);
        let mut id = prefix.to_owned();
        for _ in 0..17 {
            id.push(char::from(ALPHABET[(bits % 62) as usize]));
            bits = (bits / 62) ^ fnv1a(&[&bits.to_le_bytes()]);
        }
        id
    };
    let user_id = okta_id("00u", &[b"okta-user", s.account.as_bytes()]);
    let session = okta_id("idx", &[b"okta-session", &hash.to_le_bytes()]);
    let transaction = okta_id("", &[b"okta-transaction", &hash.to_le_bytes()]);
    let failure_reason = |kind: Option<FailureKind>| match kind {
        Some(FailureKind::UnknownAccount) => "UNKNOWN_USER",
        Some(FailureKind::Locked) => "LOCKED_OUT",
        Some(FailureKind::MfaFailed) => "VERIFICATION_ERROR",
        Some(FailureKind::ExpiredPassword) => "PASSWORD_EXPIRED",
        Some(FailureKind::Disabled) => "USER_SUSPENDED",
        Some(FailureKind::BlockedByPolicy) => "Sign-on policy evaluation resulted in DENY",
        Some(FailureKind::BlockedSource) => "Blocked by ThreatInsight",
        Some(FailureKind::MfaRequired) => "Additional verification required",
        Some(FailureKind::BadPassword | FailureKind::Other) | None => "INVALID_CREDENTIALS",
    };
    let outcome = match (s.outcome, s.failure_kind) {
        (Outcome::Success, _) => JsonObject::new()
            .str("result", "SUCCESS")
            .raw("reason", "null"),
        (_, Some(FailureKind::MfaRequired)) => JsonObject::new()
            .str("result", "CHALLENGE")
            .str("reason", failure_reason(s.failure_kind)),
        (_, Some(FailureKind::BlockedByPolicy | FailureKind::BlockedSource)) => JsonObject::new()
            .str("result", "DENY")
            .str("reason", failure_reason(s.failure_kind)),
        (Outcome::Failure | Outcome::PreAuth, kind) => JsonObject::new()
            .str("result", "FAILURE")
            .str("reason", failure_reason(kind)),
    };
    let (display_message, legacy) = match (event_type, s.outcome) {
        ("user.session.start", Outcome::Success) => {
            ("User login to Okta", Some("core.user_auth.login_success"))
        }
        ("user.session.start", _) => ("User login to Okta", Some("core.user_auth.login_failed")),
        ("user.authentication.auth_via_mfa", _) => (
            "Authentication of user via MFA",
            Some("core.user.factor.attempt_success"),
        ),
        ("user.authentication.sso", _) => ("User single sign on to app", Some("app.auth.sso")),
        ("user.session.end", _) => (
            "User logout from Okta",
            Some("core.user_auth.logout_success"),
        ),
        ("user.account.lock", _) => (
            "Max sign in attempts exceeded",
            Some("core.user_auth.account_locked"),
        ),
        ("policy.evaluate_sign_on", _) => ("Evaluation of sign-on policy", None),
        (other, _) => (other, None),
    };
    let user_agent = s.user_agent.as_deref().unwrap_or("");
    let (os, browser) = okta_client(user_agent);
    let country = s.country.as_deref().and_then(|c| {
        let (name, postal) = okta_country(c)?;
        let (city, state, lat, lon) = place(c)?;
        Some((name, postal, city, state, lat, lon))
    });
    let geo = |full: bool| {
        let mut geo = JsonObject::new();
        geo = match country {
            Some((name, postal, city, state, lat, lon)) => {
                let geo = geo
                    .str("city", city)
                    .str("state", state)
                    .str("country", name);
                if full {
                    geo.str("postalCode", postal).object(
                        "geolocation",
                        JsonObject::new()
                            .float("lat", Some(lat))
                            .float("lon", Some(lon)),
                    )
                } else {
                    geo
                }
            }
            None => {
                let geo = geo
                    .raw("city", "null")
                    .raw("state", "null")
                    .raw("country", "null");
                if full {
                    geo.raw("postalCode", "null").raw("geolocation", "null")
                } else {
                    geo
                }
            }
        };
        geo
    };
    let ip = s.source_ip.map(|ip| ip.to_string());
    let ip_version = match s.source_ip {
        Some(std::net::IpAddr::V6(_)) => "V6",
        _ => "V4",
    };
    let client = JsonObject::new()
        .object(
            "userAgent",
            JsonObject::new()
                .str("rawUserAgent", user_agent)
                .str("os", os)
                .str("browser", browser),
        )
        .str("zone", "null")
        .str("device", "Computer")
        .raw("id", "null")
        .opt_str("ipAddress", ip.as_deref())
        .object("geographicalContext", geo(true));
    let mfa = event_type == "user.authentication.auth_via_mfa";
    let factor = match s.authentication {
        Some(Authentication::PhishingResistant) => "FIDO_WEBAUTHN",
        _ => "OKTA_VERIFY_PUSH",
    };
    let mut debug_data = JsonObject::new();
    if mfa {
        debug_data = debug_data
            .str("requestUri", "/idp/idx/challenge/answer")
            .str("factor", factor)
            .str("factorIntent", "AUTHENTICATION");
    } else {
        debug_data = debug_data
            .str("requestUri", "/idp/idx/identify")
            .str("threatSuspected", "false");
    }
    let actor = || {
        JsonObject::new()
            .str("id", &user_id)
            .str("type", "User")
            .str("alternateId", &s.account)
            .str("displayName", &display_name(&s.account))
            .raw("detailEntry", "null")
    };
    let target = match event_type {
        "user.authentication.auth_via_mfa" => {
            let (name, properties) = match s.authentication {
                Some(Authentication::PhishingResistant) => (
                    "Security Key or Biometric",
                    "[DEVICE_BOUND, PHISHING_RESISTANT, HARDWARE_PROTECTED, USER_PRESENCE]",
                ),
                _ => ("Okta Verify", "[DEVICE_BOUND, HARDWARE_PROTECTED]"),
            };
            json_array([
                actor().finish(),
                JsonObject::new()
                    .str(
                        "id",
                        &okta_id("pfd", &[b"okta-factor", s.account.as_bytes()]),
                    )
                    .str("type", "AuthenticatorEnrollment")
                    .str("alternateId", "unknown")
                    .str("displayName", name)
                    .object(
                        "detailEntry",
                        JsonObject::new()
                            .str("methodTypeUsed", name)
                            .str("methodUsedVerifiedProperties", properties),
                    )
                    .finish(),
            ])
        }
        "user.authentication.sso" => {
            let app = s.app.as_deref().unwrap_or("Microsoft Office 365");
            json_array([JsonObject::new()
                .str("id", &okta_id("0oa", &[b"okta-app", app.as_bytes()]))
                .str("type", "AppInstance")
                .str("alternateId", app)
                .str("displayName", app)
                .object(
                    "detailEntry",
                    JsonObject::new().str("signOnModeType", "SAML_2_0"),
                )
                .finish()])
        }
        _ => "null".to_owned(),
    };
    let asn = s.asn.map(i64::from);
    let security_context = match asn {
        Some(asn) => JsonObject::new()
            .int("asNumber", asn)
            .str("asOrg", "example transit")
            .str("isp", "example isp")
            .str("domain", "example.net")
            .bool("isProxy", false),
        None => JsonObject::new()
            .raw("asNumber", "null")
            .raw("asOrg", "null")
            .raw("isp", "null")
            .raw("domain", "null")
            .raw("isProxy", "null"),
    };
    let severity = if event_type == "user.account.lock" {
        "WARN"
    } else {
        "INFO"
    };
    JsonObject::new()
        .object("actor", actor())
        .object("client", client)
        .raw("device", "null")
        .object(
            "authenticationContext",
            JsonObject::new()
                .raw("authenticationProvider", "null")
                .raw("credentialProvider", "null")
                .raw("credentialType", "null")
                .raw("issuer", "null")
                .raw("interface", "null")
                .int("authenticationStep", 0)
                .str("externalSessionId", &session),
        )
        .str("displayMessage", display_message)
        .str("eventType", event_type)
        .object("outcome", outcome)
        .str("published", &s.time.to_string())
        .object("securityContext", security_context)
        .str("severity", severity)
        .object(
            "debugContext",
            JsonObject::new().object("debugData", debug_data),
        )
        .opt_str("legacyEventType", legacy)
        .object(
            "transaction",
            JsonObject::new()
                .str("type", "WEB")
                .str("id", &transaction)
                .raw("detail", "{}"),
        )
        .str("uuid", &uuid)
        .str("version", "0")
        .object(
            "request",
            JsonObject::new().raw(
                "ipChain",
                &json_array([JsonObject::new()
                    .opt_str("ip", ip.as_deref())
                    .object("geographicalContext", geo(false))
                    .str("version", ip_version)
                    .raw("source", "null")
                    .finish()]),
            ),
        )
        .raw("target", &target)
        .finish()
}

/// Okta's `client.userAgent.os` and `.browser` for a raw user agent.
fn okta_client(user_agent: &str) -> (&'static str, &'static str) {
    let os = if user_agent.contains("iPhone") || user_agent.contains("iOS") {
        "iOS"
    } else if user_agent.contains("Android") {
        "Android"
    } else if user_agent.contains("Mac OS X") {
        "Mac OS X"
    } else if user_agent.contains("Windows") {
        "Windows 10"
    } else if user_agent.contains("Linux") {
        "Linux"
    } else {
        "Unknown"
    };
    let browser = if user_agent.contains("Edg/") {
        "EDGE"
    } else if user_agent.contains("Chrome/") {
        "CHROME"
    } else if user_agent.contains("Firefox/") {
        "FIREFOX"
    } else if user_agent.contains("Safari/") {
        "SAFARI"
    } else {
        "UNKNOWN"
    };
    (os, browser)
}

/// The Dovecot login process's message for one attempt over `service` (`imap` or
/// `pop3`): `Login: …` for a success, `… (auth failed, 1 attempts in N secs): …` for a
/// failure, `… (no auth attempts …)` for a client that left before trying. `lip` is the
/// server's own address; `seconds` is how long the failed login took.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dovecot_login_message(
    out: &mut String,
    service: &str,
    outcome: Outcome,
    account: &str,
    rip: IpAddr,
    lip: IpAddr,
    mpid: u32,
    session: &str,
    seconds: u32,
) {
    use std::fmt::Write as _;
    let _ = match outcome {
        Outcome::Success => write!(
            out,
            "{service}-login: Login: user=<{account}>, method=PLAIN, rip={rip}, lip={lip}, \
             mpid={mpid}, TLS, session=<{session}>"
        ),
        Outcome::Failure => write!(
            out,
            "{service}-login: Disconnected: Connection closed (auth failed, 1 attempts in \
             {seconds} secs): user=<{account}>, method=PLAIN, rip={rip}, lip={lip}, TLS, \
             session=<{session}>"
        ),
        Outcome::PreAuth => write!(
            out,
            "{service}-login: Disconnected: Connection closed (no auth attempts in {seconds} \
             secs): user=<>, rip={rip}, lip={lip}, TLS handshaking: Connection closed, \
             session=<{session}>"
        ),
    };
}

/// The Postfix `smtpd` message for one SASL attempt: the queue id's `client=` line with
/// `sasl_username=` for a success, the `SASL … authentication failed` warning for a
/// failure (Postfix 3.x appends the user name the client sent), `lost connection after
/// AUTH` for a client that left before trying. `client` is the client's reverse name
/// (`unknown` without one).
pub(crate) fn postfix_auth_message(
    out: &mut String,
    outcome: Outcome,
    account: &str,
    client: &str,
    ip: IpAddr,
    queue_id: &str,
) {
    use std::fmt::Write as _;
    let _ = match outcome {
        Outcome::Success => write!(
            out,
            "{queue_id}: client={client}[{ip}], sasl_method=PLAIN, sasl_username={account}"
        ),
        Outcome::Failure => write!(
            out,
            "warning: {client}[{ip}]: SASL PLAIN authentication failed: authentication \
             failure, sasl_username={account}"
        ),
        Outcome::PreAuth => write!(out, "lost connection after AUTH from {client}[{ip}]"),
    };
}

/// A Dovecot session id as it logs them (`session=<…>`): 16 base64 characters.
pub(crate) fn dovecot_session(bits: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = u128::from(bits) | (u128::from(bits.rotate_left(29)) << 64);
    (0..16)
        .map(|_| {
            let c = ALPHABET[(bits & 63) as usize];
            bits >>= 6;
            char::from(c)
        })
        .collect()
}

/// A Postfix queue id: ten upper-case hex digits.
pub(crate) fn postfix_queue_id(bits: u64) -> String {
    format!("{:010X}", bits & 0xff_ffff_ffff)
}

/// The server address Dovecot logs as `lip=` for a client at `rip`: one of its own
/// documentation addresses, of the client's family.
pub(crate) fn mail_server_address(rip: IpAddr) -> IpAddr {
    match rip {
        IpAddr::V4(_) => IpAddr::from([192, 0, 2, 2]),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::new(
            0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 2,
        )),
    }
}

/// Renders a sign-in as an RFC 3164 syslog line the way Dovecot's login process writes
/// it, for example `Nov  3 09:14:02 mail dovecot[812]: imap-login: Login:
/// user=<aoife.byrne>, method=PLAIN, rip=192.0.2.10, lip=192.0.2.2, mpid=4121, TLS,
/// session=<…>`, over `pop3` when the sign-in's protocol is POP3 and `imap` otherwise.
/// The time is written in UTC; the process id and session id are derived from its hash.
pub fn render_dovecot(s: &SignIn, host: &str) -> String {
    let hash = sign_in_hash(s);
    let service = if s.protocol == Protocol::Pop3 {
        "pop3"
    } else {
        "imap"
    };
    let rip = s.source_ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let mut message = String::new();
    dovecot_login_message(
        &mut message,
        service,
        s.outcome,
        &s.account,
        rip,
        mail_server_address(rip),
        (1000 + (hash >> 8) % 60_000) as u32,
        &dovecot_session(hash),
        2 + (hash % 5) as u32,
    );
    let stamp = s.time.to_zoned(TimeZone::UTC).strftime("%b %e %H:%M:%S");
    format!("{stamp} {host} dovecot[{}]: {message}", 300 + hash % 700)
}

/// Renders a sign-in as an RFC 3164 syslog line the way Postfix's submission `smtpd`
/// writes it: `… postfix/submission/smtpd[4121]: warning: unknown[203.0.113.7]: SASL
/// PLAIN authentication failed: authentication failure, sasl_username=admin` for a
/// failure, the queue id's `client=…, sasl_username=…` line for a success. The time is
/// written in UTC; the process and queue ids are derived from its hash.
pub fn render_postfix(s: &SignIn, host: &str) -> String {
    let hash = sign_in_hash(s);
    let ip = s.source_ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let mut message = String::new();
    postfix_auth_message(
        &mut message,
        s.outcome,
        &s.account,
        "unknown",
        ip,
        &postfix_queue_id(hash),
    );
    let stamp = s.time.to_zoned(TimeZone::UTC).strftime("%b %e %H:%M:%S");
    format!(
        "{stamp} {host} postfix/submission/smtpd[{}]: {message}",
        1000 + hash % 60_000
    )
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use jiff::Timestamp;
    use model::{Format, Origin};
    use serde_json::{Value, json};

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
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        for text in [
            "plain",
            "quote \" and backslash \\",
            "{\"errorCode\":0}",
            "tab\tnewline\ncr\rbell\u{7}del\u{7f}",
            "é, 漢字, \u{1f600}",
            "",
        ] {
            let mut ours = String::new();
            push_json_str(&mut ours, text);
            assert_eq!(ours, Value::from(text).to_string(), "{text:?}");
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

    fn cloud_sign_in(outcome: Outcome, kind: Option<FailureKind>) -> SignIn {
        let mut s = sign_in("2026-11-02T09:14:02.125Z", outcome, kind);
        s.account = "aoife.byrne@harbourview-health.example".into();
        s.protocol = Protocol::Browser;
        s.country = Some("IE".into());
        s.asn = Some(64_496);
        s.user_agent = Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0".into());
        s.record_id = Some("8c9b2f4e-6a1d-4c3b-9e2f-7d5a6b4c3e00".into());
        s
    }

    #[test]
    fn signin_logs_rows_are_shaped_like_the_fixture() {
        let mut s = cloud_sign_in(Outcome::Failure, Some(FailureKind::BadPassword));
        s.protocol = Protocol::Imap;
        let line = render_signin_logs(&s);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["Type"], "SigninLogs");
        assert_eq!(v["Category"], "SignInLogs");
        assert_eq!(v["ResultType"], "50126");
        assert_eq!(v["CreatedDateTime"], "2026-11-02T09:14:02.125Z");
        assert_eq!(
            v["UserPrincipalName"],
            "aoife.byrne@harbourview-health.example"
        );
        assert_eq!(v["IPAddress"], "203.0.113.7");
        assert_eq!(v["ClientAppUsed"], "IMAP4");
        assert_eq!(v["Id"], "8c9b2f4e-6a1d-4c3b-9e2f-7d5a6b4c3e00");
        assert_eq!(v["AutonomousSystemNumber"], 64_496);
        let status: Value =
            serde_json::from_str(v["Status"].as_str().expect("text")).expect("status");
        assert_eq!(status["errorCode"], 50126);
        let location: Value =
            serde_json::from_str(v["LocationDetails"].as_str().expect("text")).expect("loc");
        assert_eq!(location["countryOrRegion"], "IE");
        assert!(
            v["TimeGenerated"].as_str().expect("time")
                > v["CreatedDateTime"].as_str().expect("time")
        );
        assert_eq!(v.get("AuthenticationDetails"), None);

        let mut ok = cloud_sign_in(Outcome::Success, None);
        ok.authentication = Some(Authentication::MultiFactor);
        let v: Value = serde_json::from_str(&render_signin_logs(&ok)).expect("json");
        assert_eq!(v["ResultType"], "0");
        assert_eq!(v["AuthenticationRequirement"], "multiFactorAuthentication");
        let details: Value =
            serde_json::from_str(v["AuthenticationDetails"].as_str().expect("text"))
                .expect("details");
        assert_eq!(
            details[1]["authenticationMethod"],
            "Mobile app notification"
        );
        assert_eq!(render_signin_logs(&ok), render_signin_logs(&ok));
    }

    #[test]
    fn okta_events_are_shaped_like_the_fixtures() {
        let failed = cloud_sign_in(Outcome::Failure, Some(FailureKind::BadPassword));
        let v: Value = serde_json::from_str(&render_okta(&failed)).expect("json");
        assert_eq!(v["eventType"], "user.session.start");
        assert_eq!(v["outcome"]["result"], "FAILURE");
        assert_eq!(v["outcome"]["reason"], "INVALID_CREDENTIALS");
        assert_eq!(
            v["actor"]["alternateId"],
            "aoife.byrne@harbourview-health.example"
        );
        assert_eq!(v["actor"]["displayName"], "Aoife Byrne");
        assert_eq!(v["client"]["ipAddress"], "203.0.113.7");
        assert_eq!(v["client"]["geographicalContext"]["country"], "Ireland");
        assert_eq!(v["published"], "2026-11-02T09:14:02.125Z");
        assert_eq!(v["uuid"], "8c9b2f4e-6a1d-4c3b-9e2f-7d5a6b4c3e00");
        assert_eq!(v["securityContext"]["asNumber"], 64_496);
        assert_eq!(v["request"]["ipChain"][0]["version"], "V4");
        assert_eq!(v["target"], Value::Null);

        let mut unknown = failed.clone();
        unknown.failure_kind = Some(FailureKind::UnknownAccount);
        let v: Value = serde_json::from_str(&render_okta(&unknown)).expect("json");
        assert_eq!(v["outcome"]["reason"], "UNKNOWN_USER");

        let mut ok = cloud_sign_in(Outcome::Success, None);
        ok.authentication = Some(Authentication::PhishingResistant);
        let v: Value = serde_json::from_str(&render_okta(&ok)).expect("json");
        assert_eq!(v["eventType"], "user.authentication.auth_via_mfa");
        assert_eq!(v["outcome"]["result"], "SUCCESS");
        assert_eq!(v["debugContext"]["debugData"]["factor"], "FIDO_WEBAUTHN");
        assert_eq!(v["target"][1]["type"], "AuthenticatorEnrollment");

        ok.app = Some("Slack".into());
        let v: Value =
            serde_json::from_str(&render_okta_event(&ok, "user.authentication.sso")).expect("json");
        assert_eq!(v["target"][0]["type"], "AppInstance");
        assert_eq!(v["target"][0]["displayName"], "Slack");
    }

    #[test]
    fn dovecot_and_postfix_lines_name_user_and_client() {
        let mut s = sign_in(
            "2026-11-02T09:14:02Z",
            Outcome::Failure,
            Some(FailureKind::BadPassword),
        );
        s.account = "aoife.byrne".into();
        s.protocol = Protocol::Imap;
        let line = render_dovecot(&s, "mail");
        assert!(line.starts_with("Nov  2 09:14:02 mail dovecot["), "{line}");
        assert!(
            line.contains(
                "]: imap-login: Disconnected: Connection closed (auth failed, 1 attempts in "
            ),
            "{line}"
        );
        assert!(
            line.contains(
                "user=<aoife.byrne>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.2, TLS, session=<"
            ),
            "{line}"
        );
        let line = render_postfix(&s, "mail");
        assert!(line.contains(" postfix/submission/smtpd["), "{line}");
        assert!(line.ends_with("]: warning: unknown[203.0.113.7]: SASL PLAIN authentication failed: authentication failure, sasl_username=aoife.byrne"), "{line}");

        s.outcome = Outcome::Success;
        s.failure_kind = None;
        s.protocol = Protocol::Pop3;
        let line = render_dovecot(&s, "mail");
        assert!(line.contains("]: pop3-login: Login: user=<aoife.byrne>, method=PLAIN, rip=203.0.113.7, lip=192.0.2.2, mpid="), "{line}");
        let line = render_postfix(&s, "mail");
        assert!(
            line.contains(
                ": client=unknown[203.0.113.7], sasl_method=PLAIN, sasl_username=aoife.byrne"
            ),
            "{line}"
        );
        assert_eq!(line, render_postfix(&s, "mail"));
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
