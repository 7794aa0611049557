//! Acceptance test of issue 11: every record of Panther's published sample logs for the
//! JSON sign-in formats parses into sign-ins with the right values, or is reported as
//! another event type. The samples sit beside the repository in
//! `shared/data/signin-samples/panther/`, one test case per line with the vendor record
//! under `"log"`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use model::{Origin, SignIn};
use tocsin_ingest::{ParseOptions, Parsed, RecordError, parse_line};

const FILES: &[&str] = &[
    "Azure.Audit.jsonl",
    "Microsoft365.Audit.AzureActiveDirectory.jsonl",
    "Microsoft365.Audit.Exchange.jsonl",
    "Okta.SystemLog.jsonl",
    "GSuite.ActivityEvent.jsonl",
];

fn samples_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/signin-samples/panther");
    assert!(
        dir.is_dir(),
        "the Panther samples are missing: expected them in {} (the repository sits beside \
         `shared/`)",
        dir.display()
    );
    dir
}

/// One sample: its file, its test name, and what its `log` parsed to.
struct Sample {
    file: &'static str,
    test_name: String,
    result: Result<Parsed, RecordError>,
}

fn load() -> Vec<Sample> {
    let dir = samples_dir();
    let mut samples = Vec::new();
    for file in FILES {
        let text = std::fs::read_to_string(dir.join(file)).expect("sample file is readable");
        for (i, line) in text.lines().enumerate() {
            let case: serde_json::Value = serde_json::from_str(line).expect("sample is JSON");
            let log = case["log"].to_string();
            let origin = Origin::FileLine {
                file: (*file).to_owned(),
                line: i as u64 + 1,
            };
            samples.push(Sample {
                file,
                test_name: case["test_name"].as_str().unwrap_or_default().to_owned(),
                result: parse_line(&log, origin, &ParseOptions::for_year(2026)),
            });
        }
    }
    samples
}

fn render_sign_in(s: &SignIn) -> String {
    let mut out = format!(
        "{} {} {} {}",
        s.format.as_str(),
        s.time,
        s.account,
        s.outcome.as_str()
    );
    if let Some(kind) = s.failure_kind {
        out += &format!(" {}", kind.as_str());
    }
    let optional = [
        ("ip", s.source_ip.map(|ip| ip.to_string())),
        ("code", s.result_code.clone()),
        ("country", s.country.clone()),
        ("asn", s.asn.map(|n| n.to_string())),
        ("auth", s.authentication.map(|a| a.as_str().to_owned())),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            out += &format!(" {name}={value}");
        }
    }
    out
}

fn render(result: &Result<Parsed, RecordError>) -> String {
    match result {
        Ok(Parsed::SignIns(sign_ins)) => sign_ins
            .iter()
            .map(render_sign_in)
            .collect::<Vec<_>>()
            .join("\n"),
        Ok(Parsed::OtherEvent { format, event_type }) => {
            format!("other {} {event_type}", format.as_str())
        }
        Ok(Parsed::Noise) => "noise".to_owned(),
        Err(err) => format!("error: {err}"),
    }
}

/// Samples that cannot be sign-ins because Panther's test cases cut out the fields every
/// real record has: no event time (or `"redacted"`), no outcome, or nothing at all. They are
/// errors, as they would be in real intake: a sign-in with an invented time would land
/// in the wrong detection window. Each is listed with the error it must give.
const INCOMPLETE: &[(&str, &str, &str)] = &[
    (
        "Okta.SystemLog.jsonl",
        "Same device and OS",
        "field `published`: \"redacted\"",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Different device & ASN",
        "field `published`: \"redacted\"",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Different ASN & same device",
        "field `published`: \"redacted\"",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Okta internal event should be ignored",
        "field `published`: \"redacted\"",
    ),
    (
        "Okta.SystemLog.jsonl",
        "AWS SSO via Okta",
        "field `published`: missing",
    ),
    (
        "Okta.SystemLog.jsonl",
        "AWS SSO via Okta without app name",
        "field `published`: missing",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Okta - Successful Login",
        "field `published`: missing",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Okta - Failed Login",
        "field `published`: missing",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Non-Sign-In Event",
        "field `published`: missing",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Login Event",
        "field `outcome.result`: missing",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Benign IP - No Alert",
        "not a recognised sign-in format",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Threat IP - No Adversary",
        "not a recognised sign-in format",
    ),
    ("GSuite.ActivityEvent.jsonl", "Normal Login Event", ""),
    (
        "GSuite.ActivityEvent.jsonl",
        "Login Success But Flagged Suspicious",
        "field `id.time`: missing",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Login With Approved Type",
        "field `id.time`: missing",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Login With Unapproved Type",
        "field `id.time`: missing",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "GSuite - Normal Login Event",
        "field `id.time`: missing",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "GSuite - Failed Login Event",
        "field `id.time`: missing",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Known Business Service - No Alert",
        "not a recognised sign-in format",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Malicious Email Detected",
        "not a recognised sign-in format",
    ),
];

/// Exact values for a representative record per test name (the first with that name).
const EXPECTED: &[(&str, &str, &str)] = &[
    // Azure Monitor diagnostic records.
    (
        "Azure.Audit.jsonl",
        "Account Lockout Error 50053",
        "entra_log_analytics 2025-01-15T08:15:23.456Z boromir@lotr.com failure locked ip=4.4.4.4 code=50053 country=RU asn=12345",
    ),
    (
        "Azure.Audit.jsonl",
        "Different Error Code",
        "entra_log_analytics 2025-01-15T09:30:45.123Z peregrin@lotr.com failure bad_password ip=3.3.3.3 code=50126 country=US asn=7018",
    ),
    (
        "Azure.Audit.jsonl",
        "Device Code Auth with Broker Client",
        "entra_log_analytics 2025-01-15T09:30:45.123Z aragorn@lotr.com success ip=2.2.2.2 code=0",
    ),
    (
        "Azure.Audit.jsonl",
        "Device Code Without Broker Client",
        "entra_log_analytics 2025-01-15T11:20:15.789Z iotdevice@company.com success ip=192.0.2.100",
    ),
    (
        "Azure.Audit.jsonl",
        "Multiple IP Access to Same Microsoft Graph Session",
        "entra_log_analytics 2025-01-15T09:35:20.456789Z gandalf@lotr.com success ip=5.5.5.5",
    ),
    (
        "Azure.Audit.jsonl",
        "Non-Interactive Sign-In via NonInteractiveUserSignInLogs Category",
        "entra_log_analytics 2026-02-18T07:32:50.5529478Z jane.doe@example.com success ip=203.0.113.10 code=0",
    ),
    (
        "Azure.Audit.jsonl",
        "High Risk During Sign-In",
        "entra_log_analytics 2025-01-15T14:23:10.1234567Z john@justice.org success ip=4.4.4.4 code=0 country=RU",
    ),
    (
        "Azure.Audit.jsonl",
        "Sign-In with legacy auth",
        "entra_log_analytics 2023-07-21T05:03:52.1605624Z eve@lexcorp.com success ip=12.12.12.12 code=0 country=US asn=1234 auth=single_factor",
    ),
    (
        "Azure.Audit.jsonl",
        "ROPC Login Without MFA",
        "entra_log_analytics 2025-01-15T09:30:25.1234567Z gandalf@lotr.com success ip=2.2.2.2 code=0 auth=single_factor",
    ),
    (
        "Azure.Audit.jsonl",
        "Failed ROPC Login",
        "entra_log_analytics 2025-01-15T15:05:50.6789012Z attacker@company.com failure bad_password ip=192.0.2.250 code=50126",
    ),
    (
        "Azure.Audit.jsonl",
        "VS Code to Microsoft Graph",
        "entra_log_analytics 2025-01-15T14:30:25.1234567Z sam@lotr.com success ip=9.9.9.9 code=0 country=US",
    ),
    (
        "Azure.Audit.jsonl",
        "Failed Sign-In",
        "other entra_log_analytics ServicePrincipalSignInLogs",
    ),
    (
        "Azure.Audit.jsonl",
        "Authentication Methods Policy OIDC Discovery URL Changed",
        "other entra_log_analytics Policy",
    ),
    // Office 365 Management Activity records.
    (
        "Microsoft365.Audit.AzureActiveDirectory.jsonl",
        "Failed Login event",
        "o365_audit 2022-12-12T15:57:57Z sample.user@yourorg.onmicrosoft.com failure bad_password ip=1.2.3.4",
    ),
    (
        "Microsoft365.Audit.AzureActiveDirectory.jsonl",
        "Login Event",
        "o365_audit 2022-12-12T15:57:57Z sample.user@yourorg.onmicrosoft.com success ip=1.2.3.4",
    ),
    (
        "Microsoft365.Audit.AzureActiveDirectory.jsonl",
        "MFA Add Event",
        "other o365_audit Update user.",
    ),
    (
        "Microsoft365.Audit.AzureActiveDirectory.jsonl",
        "MFA Remove event",
        "other o365_audit Update user.",
    ),
    (
        "Microsoft365.Audit.Exchange.jsonl",
        "External Organization Forwarding",
        "other o365_audit Set-Mailbox",
    ),
    (
        "Microsoft365.Audit.Exchange.jsonl",
        "Internal Forwarding with Suspicious Pattern",
        "other o365_audit New-InboxRule",
    ),
    // Okta System Log events.
    (
        "Okta.SystemLog.jsonl",
        "Successful Login",
        "okta 2024-04-02T19:17:37.621Z casey.hill@hey.com success ip=99.108.5.25 code=SUCCESS country=United States asn=7018",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Failed Login",
        "okta 2024-04-02T19:17:37.621Z casey.hill@hey.com failure other ip=99.108.5.25 code=FAILURE country=United States asn=7018",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Other Event",
        "okta 2022-06-22T18:18:29.015Z homer.simpson@duff.com failure bad_password ip=1.3.2.4 code=FAILURE country=United States asn=701",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Account Lock Event",
        "okta 2022-11-22T18:48:49.177Z homer.simpson@duff.com failure locked ip=1.2.3.4 code=FAILURE country=United States asn=7018",
    ),
    (
        "Okta.SystemLog.jsonl",
        "New Behavior Accessing Admin Console (behavior)",
        "okta 2022-06-22T18:18:29.015Z homer.simpson@duff.com failure mfa_required ip=1.3.2.4 code=CHALLENGE country=United States asn=701",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Sign-In From Inconspicuous State",
        "okta 2024-08-15T15:05:09.154Z dude.lightbulb@example.co success ip=1.1.1.1 code=SUCCESS country=Canada asn=7122",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Short Distances and Short Timedeltas",
        "okta 2023-06-12T22:26:01.951Z homer.simpson@company.com success ip=12.12.12.11 code=SUCCESS",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Admin Access Assigned",
        "other okta user.account.privilege.grant",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Threat Detected Event - Deny",
        "other okta security.threat.detected",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Okta Not sign-in",
        "other okta logout",
    ),
    (
        "Okta.SystemLog.jsonl",
        "Support Reset Credential",
        "other okta user.account.reset_password",
    ),
    // Google Workspace activities.
    (
        "GSuite.ActivityEvent.jsonl",
        "Government Backed Attack Warning",
        "other google_workspace login.gov_attack_warning",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Account Warning For Suspicious Login",
        "other google_workspace login.suspicious_login",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Account Warning For Password Leaked",
        "other google_workspace login.account_disabled_password_leak",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Forwarding to External Address - applicationName = login",
        "other google_workspace login.email_forwarding_out_of_domain",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Non-Login event",
        "other google_workspace logout.login_success",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Saml Login Event",
        "other google_workspace saml.login_success",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Delete Role",
        "other google_workspace admin.DELETE_ROLE",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Document Downloaded",
        "other google_workspace drive.download",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Two Step Verification Disabled",
        "other google_workspace user_accounts.2sv_disable",
    ),
    (
        "GSuite.ActivityEvent.jsonl",
        "Resource Accessed by Google",
        "other google_workspace access_transparency.GSUITE_RESOURCE",
    ),
];

#[test]
fn every_panther_sample_is_a_sign_in_or_another_event() {
    let samples = load();
    let mut tally: BTreeMap<&str, [u32; 4]> = BTreeMap::new();
    let mut failures = Vec::new();
    for sample in &samples {
        let counts = tally.entry(sample.file).or_default();
        let incomplete = INCOMPLETE
            .iter()
            .find(|(f, name, _)| *f == sample.file && *name == sample.test_name);
        match (&sample.result, incomplete) {
            (Ok(Parsed::SignIns(sign_ins)), _) => {
                counts[0] += sign_ins.len() as u32;
            }
            (Ok(Parsed::OtherEvent { .. }), _) => counts[1] += 1,
            (Ok(Parsed::Noise), _) => failures.push(format!(
                "{} {:?}: noise, expected a sign-in or another event",
                sample.file, sample.test_name
            )),
            (Err(err), Some((_, _, expected))) if err.to_string().contains(expected) => {
                counts[2] += 1;
            }
            (Err(err), _) => {
                counts[3] += 1;
                failures.push(format!("{} {:?}: {err}", sample.file, sample.test_name));
            }
        }
    }
    for (file, [sign_ins, others, incomplete, errors]) in &tally {
        println!(
            "{file}: {sign_ins} sign-ins, {others} other events, {incomplete} incomplete \
             fixtures (no time or empty), {errors} errors"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn representative_samples_parse_to_exact_values() {
    let samples = load();
    let mut failures = Vec::new();
    let mut per_file: BTreeMap<&str, usize> = BTreeMap::new();
    for (file, test_name, expected) in EXPECTED {
        *per_file.entry(file).or_default() += 1;
        let Some(sample) = samples
            .iter()
            .find(|s| s.file == *file && s.test_name == *test_name)
        else {
            failures.push(format!("{file} {test_name:?}: no such sample"));
            continue;
        };
        let got = render(&sample.result);
        if got != *expected {
            failures.push(format!(
                "{file} {test_name:?}:\n  got      {got}\n  expected {expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
