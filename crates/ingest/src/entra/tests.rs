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

/// A successful beta `signIn` (the shape of Graph's "Get signIn" example) with
/// `authenticationRequirement` and `authenticationDetails` spliced in.
fn beta(requirement: &str, steps: &str) -> String {
    format!(
        r#"{{"id":"66ea54eb-6301-4ee5-be62-ff5a759b0100","createdDateTime":"2026-03-01T10:00:00Z",
        "userPrincipalName":"testaccount1@contoso.com","appDisplayName":"Graph explorer",
        "ipAddress":"131.107.159.37","clientAppUsed":"Browser","isInteractive":true,
        "authenticationRequirement":{requirement},"mfaDetail":null,
        "status":{{"errorCode":0,"failureReason":null,"additionalDetails":null}},
        "authenticationDetails":[{steps}]}}"#
    )
}

/// A beta `signIn` that failed with `code`.
fn beta_failure(code: i64, requirement: &str, steps: &str) -> String {
    beta(requirement, steps).replace(
        r#""errorCode":0,"failureReason":null"#,
        &format!(r#""errorCode":{code},"failureReason":"Failed.""#),
    )
}

/// One `authenticationDetail`, as the sign-in log writes it.
fn step(method: &str, detail: &str, succeeded: bool, result: &str) -> String {
    format!(
        r#"{{"authenticationStepDateTime":"2026-03-01T10:00:00Z","authenticationMethod":"{method}","authenticationMethodDetail":{detail},"succeeded":{succeeded},"authenticationStepResultDetail":"{result}","authenticationStepRequirement":"Primary authentication"}}"#
    )
}

fn password(succeeded: bool) -> String {
    step(
        "Password",
        r#""Password in the cloud""#,
        succeeded,
        if succeeded {
            "Correct password"
        } else {
            "Invalid username or password or Invalid on-premise username or password."
        },
    )
}

const SFA: &str = r#""singleFactorAuthentication""#;
const MFA: &str = r#""multiFactorAuthentication""#;

#[test]
fn graph_get_beta_example_is_phishing_resistant() {
    // FIDO2 as the primary method, MFA satisfied by the claim it put in the token.
    let text = include_str!("../../testdata/entra/get-signin-beta.json");
    let origin = Origin::FileRecord {
        file: "get-signin-beta.json".into(),
        record: 1,
    };
    let sign_in = parse_record(text, &origin).expect("fixture parses");
    assert_eq!(
        sign_in.authentication,
        Some(model::Authentication::PhishingResistant)
    );
}

#[test]
fn fixtures_without_authentication_fields_still_parse_to_none() {
    // The v1.0 resource has no authentication fields: nothing to say.
    for text in [
        include_str!("../../testdata/entra/get-signin.json"),
        include_str!("../../testdata/entra/list-signins.json"),
    ] {
        let sign_ins = parse_json(
            &text.replace('\n', " "),
            &Origin::FileLine {
                file: "t".into(),
                line: 1,
            },
        )
        .expect("fixture parses");
        assert!(!sign_ins.is_empty());
        for sign_in in sign_ins {
            assert_eq!(sign_in.authentication, None, "{}", sign_in.account);
        }
    }
}

#[test]
fn authentication_from_requirement_and_details() {
    use model::Authentication::{MultiFactor, PhishingResistant, SingleFactor};
    let push = step(
        "Mobile app notification",
        r#""+X XXXXXXXX27""#,
        true,
        "MFA successfully completed",
    );
    let cases: Vec<(&str, String, Option<model::Authentication>)> = vec![
        (
            "password alone",
            beta(SFA, &password(true)),
            Some(SingleFactor),
        ),
        (
            "password and push",
            beta(MFA, &format!("{},{push}", password(true))),
            Some(MultiFactor),
        ),
        (
            "password and text message",
            beta(
                MFA,
                &format!(
                    "{},{}",
                    password(true),
                    step(
                        "Text message",
                        r#""+X XXXXXXXX27""#,
                        true,
                        "MFA successfully completed"
                    )
                ),
            ),
            Some(MultiFactor),
        ),
        (
            "password and OATH code",
            beta(
                MFA,
                &format!(
                    "{},{}",
                    password(true),
                    step(
                        "OATH verification code",
                        "null",
                        true,
                        "MFA successfully completed"
                    )
                ),
            ),
            Some(MultiFactor),
        ),
        (
            "password and phone call",
            beta(
                MFA,
                &format!(
                    "{},{}",
                    password(true),
                    step(
                        "Phone call approval (Authentication phone)",
                        r#""+X XXXXXXXX27""#,
                        true,
                        "MFA successfully completed"
                    )
                ),
            ),
            Some(MultiFactor),
        ),
        // Without the requirement the steps alone must carry the reading.
        (
            "push alone says multi-factor",
            beta("null", &push),
            Some(MultiFactor),
        ),
        (
            "FIDO2 security key",
            beta(
                MFA,
                &step(
                    "FIDO2 security key",
                    r#""YubiKey 5""#,
                    true,
                    "methodSucceeded",
                ),
            ),
            Some(PhishingResistant),
        ),
        (
            "passkey in Microsoft Authenticator",
            beta(
                MFA,
                &step(
                    "Passkey (Microsoft Authenticator)",
                    "null",
                    true,
                    "methodSucceeded",
                ),
            ),
            Some(PhishingResistant),
        ),
        (
            "device-bound passkey",
            beta(
                MFA,
                &step("Passkey (device-bound)", "null", true, "methodSucceeded"),
            ),
            Some(PhishingResistant),
        ),
        (
            "Windows Hello for Business under a single-factor requirement",
            beta(
                SFA,
                &step(
                    "Windows Hello for Business",
                    "null",
                    true,
                    "methodSucceeded",
                ),
            ),
            Some(PhishingResistant),
        ),
        (
            "certificate-based authentication",
            beta(
                MFA,
                &step("X.509 Certificate", "null", true, "methodSucceeded"),
            ),
            Some(PhishingResistant),
        ),
        (
            "MFA satisfied by a claim in the token",
            beta(
                MFA,
                &step(
                    "Previously satisfied",
                    "null",
                    true,
                    "MFA requirement satisfied by claim in the token",
                ),
            ),
            Some(MultiFactor),
        ),
        (
            "the claim alone, no requirement",
            beta(
                "null",
                &step(
                    "Previously satisfied",
                    "null",
                    true,
                    "MFA requirement satisfied by claim in the token",
                ),
            ),
            Some(MultiFactor),
        ),
        (
            "first factor satisfied by a claim",
            beta(
                "null",
                &step(
                    "Previously satisfied",
                    "null",
                    true,
                    "First factor requirement satisfied by claim in the token",
                ),
            ),
            Some(SingleFactor),
        ),
        // A failed step counts for nothing: a denied security key, then a push.
        (
            "failed FIDO2 then push",
            beta(
                MFA,
                &format!(
                    "{},{push}",
                    step("FIDO2 security key", "null", false, "Authentication failed")
                ),
            ),
            Some(MultiFactor),
        ),
        // An unknown method falls back to what the requirement says.
        (
            "temporary access pass",
            beta(
                SFA,
                &step("Temporary Access Pass", "null", true, "methodSucceeded"),
            ),
            Some(SingleFactor),
        ),
        (
            "unknown requirement, no steps",
            beta(r#""somethingNew""#, ""),
            None,
        ),
        ("nothing recorded", beta("null", ""), None),
        // Unexpected shapes are ignored, not errors.
        (
            "requirement of the wrong type",
            beta("5", &password(true)),
            Some(SingleFactor),
        ),
        (
            "details not a list",
            beta(SFA, "").replace(
                r#""authenticationDetails":[]"#,
                r#""authenticationDetails":"n/a""#,
            ),
            Some(SingleFactor),
        ),
        (
            "mfaDetail names the second factor",
            beta("null", "").replace(
                r#""mfaDetail":null"#,
                r#""mfaDetail":{"authMethod":"PhoneAppNotification","authDetail":null}"#,
            ),
            Some(MultiFactor),
        ),
        // Failures: only a completed second factor after an accepted password counts.
        (
            "wrong password",
            beta_failure(50126, SFA, &password(false)),
            None,
        ),
        (
            "second factor asked for, not given",
            beta_failure(50074, MFA, &password(true)),
            None,
        ),
        (
            "push denied",
            beta_failure(
                500121,
                MFA,
                &format!(
                    "{},{}",
                    password(true),
                    step(
                        "Mobile app notification",
                        "null",
                        false,
                        "MFA denied; user declined the authentication"
                    )
                ),
            )
            .replace(
                r#""mfaDetail":null"#,
                r#""mfaDetail":{"authMethod":"PhoneAppNotification"}"#,
            ),
            None,
        ),
        // The error code says the second factor failed; a succeeded step does not undo it.
        (
            "second factor failed despite a succeeded step",
            beta_failure(500121, MFA, &format!("{},{push}", password(true))),
            None,
        ),
        (
            "blocked by Conditional Access after MFA",
            beta_failure(53003, MFA, &format!("{},{push}", password(true))),
            Some(MultiFactor),
        ),
        (
            "blocked by Conditional Access after a password only",
            beta_failure(53003, MFA, &password(true)),
            None,
        ),
    ];
    crate::test_support::check_authentication(&cases);
}

#[test]
fn graph_pages_carry_authentication_per_record() {
    let page = format!(
        r#"{{"@odata.context":"x","value":[{},{}]}}"#,
        beta(SFA, &password(true)),
        beta(
            MFA,
            &step(
                "Windows Hello for Business",
                "null",
                true,
                "methodSucceeded"
            )
        )
    );
    let sign_ins = parse_json(
        &page.replace('\n', " "),
        &Origin::FileLine {
            file: "t".into(),
            line: 1,
        },
    )
    .expect("page parses");
    let got: Vec<_> = sign_ins.iter().map(|s| s.authentication).collect();
    assert_eq!(
        got,
        [
            Some(model::Authentication::SingleFactor),
            Some(model::Authentication::PhishingResistant)
        ]
    );
}
