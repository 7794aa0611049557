//! Syslog line headers: RFC 3164 (`Mar  1 03:14:15 host prog[pid]: msg`), RFC 5424
//! (`<38>1 2026-11-23T10:00:00Z host prog pid - - msg`) and the ISO-stamped shapes that
//! rsyslog and `journalctl -o short-iso` write (`2026-11-23T10:00:00+01:00 host prog[pid]: msg`).
//!
//! This module only splits a header into timestamp, host, program and message, and turns
//! the timestamp into an instant. It does not know what any program's messages mean. It
//! is a small strict parser rather than a forgiving one, because a misread header must
//! become an error, not an event with the wrong time.

use jiff::Timestamp;
use jiff::civil;

use crate::{ParseOptions, RecordError};

/// A syslog line split into its parts; the timestamp is checked only on demand, so that
/// lines from programs nobody asked about cost no date arithmetic.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub stamp: Stamp<'a>,
    /// The host that logged the line; empty when the sender wrote none.
    pub host: &'a str,
    pub program: &'a str,
    /// The process id in `prog[pid]:` (or RFC 5424's PROCID), which with the host names
    /// one sshd connection.
    pub pid: Option<&'a str>,
    pub message: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stamp<'a> {
    /// RFC 3164: no year and no zone; both come from [`ParseOptions`].
    Bsd {
        month: &'a str,
        day: &'a str,
        time: &'a str,
    },
    /// RFC 3339, or ISO 8601 without an offset (then in [`ParseOptions::time_zone`]).
    Iso(&'a str),
    /// The RFC 5424 nil value `-`.
    Missing,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Splits a syslog line, or says which part of the header is not there.
pub(crate) fn split(line: &str) -> Result<Line<'_>, String> {
    let (had_pri, rest) = strip_pri(line)?;
    if had_pri && let Some(rest) = rest.strip_prefix("1 ") {
        return split_5424(rest);
    }
    let (stamp, rest) = if rest.starts_with(|c: char| c.is_ascii_digit()) {
        let (token, rest) = token(rest);
        (Stamp::Iso(token), rest)
    } else {
        split_bsd_stamp(rest)?
    };
    let (host, after_host) = token(rest);
    if host.is_empty() {
        return Err("no host after the timestamp".to_owned());
    }
    // Some senders write no host: `Nov 23 21:50:19 sshd[8148]: …`, or a bracketed tag
    // without a colon (`Jun 25 23:53:34 [sshd] User …`). A host name never ends in `:`.
    let (host, (program, pid, message)) = if host.ends_with(':') {
        ("", split_tag(rest)?)
    } else if let Some(tag) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        ("", (tag, None, after_host))
    } else {
        (host, split_tag(after_host)?)
    };
    Ok(Line {
        stamp,
        host,
        program,
        pid,
        message,
    })
}

fn strip_pri(line: &str) -> Result<(bool, &str), String> {
    let Some(rest) = line.strip_prefix('<') else {
        return Ok((false, line));
    };
    let Some((digits, rest)) = rest.split_once('>') else {
        return Err("priority `<…>` is not closed".to_owned());
    };
    match digits.parse::<u8>() {
        Ok(pri) if pri <= 191 && !digits.is_empty() && digits.len() <= 3 => Ok((true, rest)),
        _ => Err(format!("priority <{digits}> is not a number from 0 to 191")),
    }
}

fn split_bsd_stamp(rest: &str) -> Result<(Stamp<'_>, &str), String> {
    let (month, rest) = token(rest);
    if !MONTHS.contains(&month) {
        return Err(format!("{month:?} is not a month abbreviation"));
    }
    // Days below 10 are padded with a space ("Mar  1"), which `token` skips.
    let (day, rest) = token(rest);
    let (time, rest) = token(rest);
    if day.is_empty() || time.is_empty() {
        return Err("timestamp is cut short".to_owned());
    }
    Ok((Stamp::Bsd { month, day, time }, rest))
}

/// `prog[pid]: message` or `prog: message`, as program, pid and message.
fn split_tag(rest: &str) -> Result<(&str, Option<&str>, &str), String> {
    let Some((tag, message)) = rest.split_once(':') else {
        return Err("no `program:` tag after the host".to_owned());
    };
    if tag.is_empty() || tag.contains(char::is_whitespace) {
        return Err("no `program:` tag after the host".to_owned());
    }
    // `[sshd]:` is a bracketed tag, not a program with an empty name.
    let tag = tag
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(tag);
    let (program, pid) = match tag.split_once('[') {
        Some((program, pid)) => match pid.strip_suffix(']') {
            Some(pid) => (program, Some(pid)),
            None => return Err(format!("tag {tag:?} has an unclosed `[pid]`")),
        },
        None => (tag, None),
    };
    Ok((program, pid, message.strip_prefix(' ').unwrap_or(message)))
}

/// `TIMESTAMP HOST APP PROCID MSGID SD [MSG]`, after `<PRI>1 `.
fn split_5424(rest: &str) -> Result<Line<'_>, String> {
    let (stamp, rest) = token(rest);
    let (host, rest) = token(rest);
    let (program, rest) = token(rest);
    let (procid, rest) = token(rest);
    let (msgid, rest) = token(rest);
    if msgid.is_empty() {
        return Err("RFC 5424 header is cut short".to_owned());
    }
    let rest = skip_structured_data(rest)?;
    let message = rest.strip_prefix(' ').unwrap_or(rest);
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    let stamp = if stamp == "-" {
        Stamp::Missing
    } else {
        Stamp::Iso(stamp)
    };
    Ok(Line {
        stamp,
        host: if host == "-" { "" } else { host },
        program,
        pid: (procid != "-").then_some(procid),
        message,
    })
}

/// Skips `-` or a run of `[id key="value" …]` elements, whose values may hold escaped
/// `]` and `"`.
fn skip_structured_data(rest: &str) -> Result<&str, String> {
    if let Some(after) = rest.strip_prefix('-') {
        return Ok(after);
    }
    let mut chars = rest.char_indices().peekable();
    let mut depth_open = false;
    let mut in_quotes = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if in_quotes => {
                chars.next();
            }
            '"' if depth_open => in_quotes = !in_quotes,
            '[' if !depth_open => depth_open = true,
            ']' if depth_open && !in_quotes => {
                depth_open = false;
                if chars.peek().map(|(_, c)| *c) != Some('[') {
                    return Ok(&rest[i + 1..]);
                }
            }
            _ if !depth_open => {
                return Err("RFC 5424 structured data is neither `-` nor `[…]`".to_owned());
            }
            _ => {}
        }
    }
    Err("RFC 5424 structured data is not closed".to_owned())
}

/// The next space-separated token and what follows it, without the separating spaces.
fn token(text: &str) -> (&str, &str) {
    let text = text.trim_start_matches(' ');
    match text.split_once(' ') {
        Some((token, rest)) => (token, rest.trim_start_matches(' ')),
        None => (text, ""),
    }
}

impl Stamp<'_> {
    /// The instant the timestamp names.
    pub(crate) fn resolve(&self, opts: &ParseOptions) -> Result<Timestamp, RecordError> {
        match *self {
            Stamp::Missing => Err(RecordError::header("the RFC 5424 timestamp is `-`")),
            Stamp::Iso(text) => {
                if let Ok(timestamp) = text.parse::<Timestamp>() {
                    return Ok(timestamp);
                }
                let local = text.parse::<civil::DateTime>().map_err(|_| {
                    RecordError::header(format!("timestamp {text:?} is not an ISO 8601 time"))
                })?;
                local
                    .to_zoned(opts.time_zone.clone())
                    .map(|z| z.timestamp())
                    .map_err(|err| {
                        RecordError::header(format!("timestamp {text:?} is out of range: {err}"))
                    })
            }
            Stamp::Bsd { month, day, time } => {
                let month_number = MONTHS.iter().position(|m| *m == month).map_or(0, |i| i + 1);
                let bad_time = || RecordError::header(format!("time {time:?} is not hh:mm:ss"));
                let day_number = day
                    .parse::<i8>()
                    .map_err(|_| RecordError::header(format!("day {day:?} is not a number")))?;
                // jiff also reads "0314"; syslog always writes the colons.
                if time.as_bytes().get(2) != Some(&b':') {
                    return Err(bad_time());
                }
                let clock = time.parse::<civil::Time>().map_err(|_| bad_time())?;
                let year = opts.default_year;
                let date =
                    civil::Date::new(year, month_number as i8, day_number).map_err(|_| {
                        RecordError::header(format!("{month} {day} is not a date in {year}"))
                    })?;
                date.to_datetime(clock)
                    .to_zoned(opts.time_zone.clone())
                    .map(|z| z.timestamp())
                    .map_err(|err| {
                        RecordError::header(format!("{month} {day} {time} is out of range: {err}"))
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a split line as `stamp-as-UTC program | message`, or the error.
    fn check(line: &str, expected: &str) {
        let opts = ParseOptions {
            time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(1)),
            ..ParseOptions::for_year(2026)
        };
        let rendered = match split(line) {
            Err(problem) => format!("split error: {problem}"),
            Ok(parsed) => match parsed.stamp.resolve(&opts) {
                Ok(time) => format!("{time} {} | {}", parsed.program, parsed.message),
                Err(err) => format!("error: {err}"),
            },
        };
        assert_eq!(rendered, expected, "line: {line}");
    }

    #[test]
    fn headers() {
        let cases = [
            // RFC 3164 in the configured zone (UTC+1 here) and year.
            (
                "Mar  1 03:14:15 host sshd[1234]: hello",
                "2026-03-01T02:14:15Z sshd | hello",
            ),
            (
                "Mar 01 03:14:15 host sshd: hello",
                "2026-03-01T02:14:15Z sshd | hello",
            ),
            (
                "<38>Mar 11 03:14:15 host sshd[9]: a: b",
                "2026-03-11T02:14:15Z sshd | a: b",
            ),
            ("Dec 31 23:59:59 h cron[1]:", "2026-12-31T22:59:59Z cron | "),
            // No host, or a bracketed tag with or without a colon.
            (
                "Nov 23 21:50:19 sshd[8148]: a",
                "2026-11-23T20:50:19Z sshd | a",
            ),
            ("Mar  3 00:17:22 [sshd]: a", "2026-03-02T23:17:22Z sshd | a"),
            (
                "Jun 25 23:53:34 [sshd] a b",
                "2026-06-25T22:53:34Z sshd | a b",
            ),
            // ISO shapes with and without offsets and fractions.
            (
                "2026-11-23T10:00:00+00:00 host sshd[1234]: hi",
                "2026-11-23T10:00:00Z sshd | hi",
            ),
            (
                "2026-11-23T10:00:00.123456+01:00 host sshd-session[5]: hi",
                "2026-11-23T09:00:00.123456Z sshd-session | hi",
            ),
            (
                "2026-11-23T10:00:00+0100 host sshd[1]: hi",
                "2026-11-23T09:00:00Z sshd | hi",
            ),
            (
                "2026-11-23T10:00:00 host sshd[1]: hi",
                "2026-11-23T09:00:00Z sshd | hi",
            ),
            // RFC 5424 with nil and real structured data and a BOM.
            (
                "<38>1 2026-11-23T10:00:00.123Z host sshd 1234 - - msg here",
                "2026-11-23T10:00:00.123Z sshd | msg here",
            ),
            (
                "<38>1 2026-11-23T10:00:00Z host sshd 1 ID47 [a@1 k=\"v\\]\"][b@1 x=\"y\"] \u{feff}msg",
                "2026-11-23T10:00:00Z sshd | msg",
            ),
            (
                "<38>1 2026-11-23T10:00:00Z host sshd 1 - -",
                "2026-11-23T10:00:00Z sshd | ",
            ),
        ];
        for (line, expected) in cases {
            check(line, expected);
        }
    }

    #[test]
    fn bad_headers() {
        let cases = [
            (
                "Foo  1 03:14:15 host sshd[1]: x",
                "split error: \"Foo\" is not a month abbreviation",
            ),
            (
                "Mar  1 03:14:15 host sshd[1 x",
                "split error: no `program:` tag after the host",
            ),
            (
                "Mar  1 03:14:15 host sshd[1: x",
                "split error: tag \"sshd[1\" has an unclosed `[pid]`",
            ),
            (
                "<999>Mar  1 03:14:15 h p: x",
                "split error: priority <999> is not a number from 0 to 191",
            ),
            (
                "<38>1 2026-11-23T10:00:00Z host",
                "split error: RFC 5424 header is cut short",
            ),
            (
                "<38>1 2026-11-23T10:00:00Z h sshd 1 - [a x",
                "split error: RFC 5424 structured data is not closed",
            ),
            (
                "<38>1 - host sshd 1 - - msg",
                "error: syslog header: the RFC 5424 timestamp is `-`; expected an RFC 3164 (`Mar  1 03:14:15 host sshd[1234]: …`), RFC 5424 or ISO 8601 timestamp, then host and program",
            ),
            (
                "Feb 29 03:14:15 host sshd[1]: x",
                "error: syslog header: Feb 29 is not a date in 2026; expected an RFC 3164 (`Mar  1 03:14:15 host sshd[1234]: …`), RFC 5424 or ISO 8601 timestamp, then host and program",
            ),
            (
                "Mar  1 3:14 host sshd[1]: x",
                "error: syslog header: time \"3:14\" is not hh:mm:ss; expected an RFC 3164 (`Mar  1 03:14:15 host sshd[1234]: …`), RFC 5424 or ISO 8601 timestamp, then host and program",
            ),
            (
                "2026-13-01T00:00:00Z host sshd[1]: x",
                "error: syslog header: timestamp \"2026-13-01T00:00:00Z\" is not an ISO 8601 time; expected an RFC 3164 (`Mar  1 03:14:15 host sshd[1234]: …`), RFC 5424 or ISO 8601 timestamp, then host and program",
            ),
        ];
        for (line, expected) in cases {
            check(line, expected);
        }
    }
}
