//! Compact one-line renderings of parse results, so that table-driven tests can state
//! the expected outcome as a readable string.

use model::SignIn;

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
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            out += &format!(" {name}={value}");
        }
    }
    out
}
