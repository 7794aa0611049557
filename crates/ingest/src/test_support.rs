//! Compact one-line renderings of parse results, so that table-driven tests can state
//! the expected outcome as a readable string.

use model::{Authentication, SignIn};

use crate::{Parsed, RecordError};

pub(crate) fn render(result: &Result<Parsed, RecordError>) -> String {
    match result {
        Ok(Parsed::Noise) => "noise".to_owned(),
        Ok(Parsed::OtherEvent { format, event_type }) => {
            format!("other {} {event_type}", format.as_str())
        }
        Ok(Parsed::SignIns(sign_ins)) => sign_ins
            .iter()
            .map(render_sign_in)
            .collect::<Vec<_>>()
            .join("\n"),
        Err(err) => format!("error: {err}"),
    }
}

pub(crate) fn render_sign_in(s: &SignIn) -> String {
    let mut out = format!("{} {} {}", s.time, s.account, s.outcome.as_str());
    if let Some(kind) = s.failure_kind {
        out += &format!(" {}", kind.as_str());
    }
    out += &format!(" {}", s.protocol.as_str());
    let optional = [
        ("ip", s.source_ip.map(|ip| ip.to_string())),
        ("app", s.app.clone()),
        ("code", s.result_code.clone()),
        ("reason", s.reason.clone()),
        ("id", s.record_id.clone()),
        ("country", s.country.clone()),
        ("asn", s.asn.map(|n| n.to_string())),
        ("ua", s.user_agent.clone()),
        ("auth", s.authentication.map(|a| a.as_str().to_owned())),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            out += &format!(" {name}={value}");
        }
    }
    out
}

/// Parses `line` as read from `mail.log` line 7 in 2026 and compares its rendering.
pub(crate) fn check_line(line: &str, expected: &str) {
    let origin = model::Origin::FileLine {
        file: "mail.log".into(),
        line: 7,
    };
    let result = crate::parse_line(line, origin, &crate::ParseOptions::for_year(2026));
    let rendered = render(&result);
    // The reason repeats the message; tests state it only where it matters.
    let rendered = rendered
        .split('\n')
        .map(|s| s.split(" reason=").next().unwrap_or(s).to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(rendered, expected, "line: {line}");
}

/// Parses `input` (pretty-printed JSON is put on one line first) as one line and renders
/// the result.
pub(crate) fn parse_rendered(input: &str) -> String {
    let line = match serde_json::from_str::<serde_json::Value>(input) {
        Ok(value) => value.to_string(),
        Err(_) => input.to_owned(),
    };
    let origin = model::Origin::FileLine {
        file: "t.json".into(),
        line: 1,
    };
    render(&crate::parse_line(
        &line,
        origin,
        &crate::ParseOptions::for_year(2026),
    ))
}

/// Checks a table of (input, expected rendering) cases.
pub(crate) fn check_all(cases: &[(&str, &str)]) {
    for (input, expected) in cases {
        assert_eq!(parse_rendered(input), *expected, "input: {input}");
    }
}

/// Parses `input` like [`parse_rendered`] and returns the `authentication` of the one
/// sign-in it must give; anything else (an error, another event, several sign-ins) fails
/// the test, so that a case cannot pass by not being a sign-in at all.
pub(crate) fn authentication_of(input: &str) -> Option<Authentication> {
    let line = match serde_json::from_str::<serde_json::Value>(input) {
        Ok(value) => value.to_string(),
        Err(_) => input.to_owned(),
    };
    let origin = model::Origin::FileLine {
        file: "t.json".into(),
        line: 1,
    };
    let result = crate::parse_line(&line, origin, &crate::ParseOptions::for_year(2026));
    match result {
        Ok(Parsed::SignIns(sign_ins)) if sign_ins.len() == 1 => sign_ins[0].authentication,
        other => panic!("expected one sign-in, got {}", render(&other)),
    }
}

/// Checks a table of (case name, input, expected authentication).
pub(crate) fn check_authentication<S: AsRef<str>>(cases: &[(&str, S, Option<Authentication>)]) {
    for (name, input, expected) in cases {
        assert_eq!(authentication_of(input.as_ref()), *expected, "case: {name}");
    }
}
