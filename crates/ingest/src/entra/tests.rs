use model::{Format, Origin};

use super::*;
use crate::test_support::render;
use crate::{ParseOptions, Parsed, parse_line};

fn check(input: &str, expected: &str) {
    let origin = Origin::FileLine {
        file: "t.json".into(),
        line: 1,
    };
    let result = parse_line(input, origin, &ParseOptions::for_year(2026));
    assert_eq!(render(&result), expected, "input: {input}");
}

/// A minimal valid record with `patch` spliced in after the required fields.
fn record(patch: &str) -> String {
    format!(
        r#"{{"createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"a@x.org","status":{{"errorCode":0}}{patch}}}"#
    )
}

#[test]
fn graph_get_example() {
    let text = include_str!("../../testdata/entra/get-signin.json");
    let origin = Origin::FileRecord {
        file: "get-signin.json".into(),
        record: 1,
    };
    let sign_in = parse_record(text, &origin).expect("fixture parses");
    assert_eq!(sign_in.format, Format::EntraGraph);
    assert_eq!(sign_in.origin, origin);
    assert_eq!(
        crate::test_support::render_sign_in(&sign_in),
        "2020-03-13T19:15:41.6195833Z testaccount1@contoso.com success browser \
         ip=131.107.159.37 app=Graph explorer code=0 id=66ea54eb-6301-4ee5-be62-ff5a759b0100 \
         country=US"
    );
}

#[test]
fn graph_list_page_on_one_line() {
    let text = include_str!("../../testdata/entra/list-signins.json");
    let one_line = text.replace('\n', " ");
    check(
        &one_line,
        "2020-03-13T19:15:41.6195833Z testaccount1@contoso.com success browser \
         ip=131.107.159.37 app=Graph explorer code=0 id=66ea54eb-6301-4ee5-be62-ff5a759b0100 \
         country=US\n\
         2020-03-13T19:16:02Z testaccount2@contoso.com failure bad_password imap ip=2001:db8::7 \
         app=Office 365 Exchange Online code=50126 \
         reason=Error validating credentials due to invalid username or password. \
         id=b01b1a1b-7a3c-4d8e-9f00-5c1e2d3f4a00",
    );
}

#[test]
fn awkward_records() {
    let cases: &[(&str, &str)] = &[
        // Missing, empty and null addresses are all "unknown".
        (
            &record(""),
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        (
            &record(r#","ipAddress":"""#),
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        (
            &record(r#","ipAddress":null"#),
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        // IPv4-mapped IPv6 is the IPv4 address.
        (
            &record(r#","ipAddress":"::ffff:192.0.2.1""#),
            "2026-03-01T10:00:00Z a@x.org success unknown ip=192.0.2.1 code=0",
        ),
        // The "Other." placeholder on a success is not a reason.
        (
            r#"{"createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"a@x.org","status":{"errorCode":0,"failureReason":"Other."}}"#,
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        // Upper-case UPNs are lower-cased.
        (
            r#"{"createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"Alice@Example.ORG","status":{"errorCode":50126}}"#,
            "2026-03-01T10:00:00Z alice@example.org failure bad_password unknown code=50126",
        ),
        (
            &record(r#","clientAppUsed":"Carrier pigeon""#),
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        (
            &record(r#","clientAppUsed":"Other clients; POP""#),
            "2026-03-01T10:00:00Z a@x.org success pop3 code=0",
        ),
        (
            &record(r#","location":null"#),
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        (
            &record(r#","location":{"city":null,"countryOrRegion":"","geoCoordinates":null}"#),
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        // Unknown fields and nulls in unmapped fields are ignored.
        (
            &record(r#","deviceDetail":null,"newField":{"a":[1,2]},"isInteractive":"yes""#),
            "2026-03-01T10:00:00Z a@x.org success unknown code=0",
        ),
        // Escapes in strings are decoded.
        (
            &record(r#","appDisplayName":"Caf\u00e9 \"app\"""#),
            "2026-03-01T10:00:00Z a@x.org success unknown app=Café \"app\" code=0",
        ),
        // A page with no records is not an error.
        (r#"{"@odata.context":"x","value":[]}"#, "noise"),
    ];
    for (input, expected) in cases {
        check(input, expected);
    }
}

#[test]
fn error_codes_map_to_failure_kinds() {
    let cases = [
        (50126, "bad_password"),
        (50034, "unknown_account"),
        (50053, "locked"),
        (50057, "disabled"),
        (50055, "expired_password"),
        (50144, "expired_password"),
        (50074, "mfa_required"),
        (50076, "mfa_required"),
        (50079, "mfa_required"),
        (50072, "mfa_required"),
        (50140, "mfa_required"),
        (50158, "mfa_required"),
        (500121, "mfa_failed"),
        (53003, "blocked_by_policy"),
        (70000, "other"),
        (-1, "other"),
    ];
    for (code, expected) in cases {
        assert_eq!(failure_kind(code, None).as_str(), expected, "code {code}");
    }
}

/// Issue 11: 50053 is a lockout, or a refused malicious source; only the reason says which.
#[test]
fn locked_and_malicious_source_are_told_apart_by_the_reason() {
    let cases = [
        (
            Some(
                "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
            ),
            "locked",
        ),
        (
            Some("Sign-in was blocked because it came from an IP address with malicious activity"),
            "blocked_source",
        ),
        (None, "locked"),
    ];
    for (reason, expected) in cases {
        assert_eq!(failure_kind(50053, reason).as_str(), expected, "{reason:?}");
    }
    check(
        &record("").replace(
            r#"{"errorCode":0}"#,
            r#"{"errorCode":50053,"failureReason":"Sign-in was blocked because it came from an IP address with malicious activity"}"#,
        ),
        "2026-03-01T10:00:00Z a@x.org failure blocked_source unknown code=50053 \
         reason=Sign-in was blocked because it came from an IP address with malicious activity",
    );
}

#[test]
fn client_apps_map_to_protocols() {
    let cases = [
        (Some("Browser"), "browser"),
        (Some("Mobile Apps and Desktop clients"), "modern_client"),
        (Some("Exchange ActiveSync"), "exchange_active_sync"),
        (Some("IMAP4"), "imap"),
        (Some("IMAP"), "imap"),
        (Some("POP3"), "pop3"),
        (Some("Authenticated SMTP"), "smtp"),
        (Some("SMTP"), "smtp"),
        (Some("Exchange Web Services"), "exchange_legacy"),
        (Some("MAPI Over HTTP"), "exchange_legacy"),
        (Some("Offline Address Book"), "exchange_legacy"),
        (Some("Autodiscover"), "exchange_legacy"),
        (Some("Exchange Online PowerShell"), "exchange_legacy"),
        (Some("Outlook Anywhere (RPC over HTTP)"), "exchange_legacy"),
        (Some("Reporting Web Services"), "exchange_legacy"),
        (Some("Universal Outlook"), "exchange_legacy"),
        (Some("Other clients"), "other_client"),
        (Some("Other clients; Older Office clients"), "other_client"),
        (Some("Something new"), "unknown"),
        (None, "unknown"),
    ];
    for (name, expected) in cases {
        assert_eq!(protocol(name).as_str(), expected, "{name:?}");
    }
}

#[test]
fn errors_say_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"createdDateTime":"2026-03-01T10:00:00Z" "x":1}"#,
            "error: invalid JSON at column 43: expected `,` or `}`",
        ),
        (
            r#"{"createdDateTime":"#,
            "error: invalid JSON at column 19: EOF while parsing a value",
        ),
        (
            r#"{"a":1} trailing"#,
            "error: invalid JSON at column 9: trailing characters",
        ),
        (
            r#"{"foo":"bar"}"#,
            "error: JSON record is not a recognised sign-in format: expected a Microsoft Graph \
             signIn with `createdDateTime` and `userPrincipalName`, an Azure Monitor or Log \
             Analytics sign-in, an Office 365 audit record, an Okta System Log event or a \
             Google Workspace activity",
        ),
        (
            r#"{"createdDateTime":"yesterday","userPrincipalName":"a@x.org","status":{"errorCode":0}}"#,
            "error: field `createdDateTime`: \"yesterday\" is not an RFC 3339 time",
        ),
        (
            r#"{"createdDateTime":"2026-03-01T10:00:00Z","status":{"errorCode":0}}"#,
            "error: field `userPrincipalName`: missing",
        ),
        (
            r#"{"createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"a@x.org"}"#,
            "error: field `status`: missing; expected an object with `errorCode`",
        ),
        (
            r#"{"createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"a@x.org","status":{"errorCode":"50126"}}"#,
            "error: field `status.errorCode`: invalid type: string \"50126\", expected i64",
        ),
        (
            &record(r#","ipAddress":"10.0.0.300""#),
            "error: field `ipAddress`: \"10.0.0.300\" is not an IP address",
        ),
        (
            r#"{"value":[{"createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"a@x.org","status":{"errorCode":0}},{"createdDateTime":"never","userPrincipalName":"a@x.org","status":{"errorCode":0}}]}"#,
            "error: field `value[1].createdDateTime`: \"never\" is not an RFC 3339 time",
        ),
        (
            r#"{"value":5}"#,
            "error: field `value`: expected an array of signIn records",
        ),
    ];
    for (input, expected) in cases {
        check(input, expected);
    }
}

#[test]
fn parsed_is_sign_ins_for_a_record() {
    let parsed = parse_line(
        &record(""),
        Origin::FileLine {
            file: "t".into(),
            line: 1,
        },
        &ParseOptions::for_year(2026),
    );
    assert!(matches!(parsed, Ok(Parsed::SignIns(v)) if v.len() == 1));
}
