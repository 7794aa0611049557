//! A cheap look at a message's MIME structure before the real parser sees it.
//!
//! mail-parser has no limit on the number of parts or on multipart nesting, and a part whose
//! boundary never comes makes it scan to the end of the message once per open level, so a
//! deeply nested or 10,000-part message costs it quadratic time and a part record per
//! part. This module finds, in two linear passes, where a message crosses
//! [`Limits::max_parts`](super::Limits::max_parts) or
//! [`Limits::max_depth`](super::Limits::max_depth), so that the parser is only given the
//! bytes before that point.
//!
//! It errs on the side of counting too much: every `boundary=` parameter anywhere in the
//! message is taken as declared, boundaries are matched anywhere in a line and regardless
//! of case (mail-parser matches `--boundary` anywhere), and each `Content-Type:
//! message/rfc822` opens a level until the next boundary of an enclosing multipart.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashSet;

/// Where the message has to be cut, and why.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Cut {
    /// Byte offset of the start of the line where a limit was crossed.
    pub at: usize,
    pub why: Crossed,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Crossed {
    Parts,
    Depth,
    /// More distinct boundaries declared than parts allowed: every multipart needs one.
    Boundaries,
}

/// Longest boundary taken from a declaration; RFC 2046 allows 70 characters.
const MAX_BOUNDARY: usize = 200;
/// How far back from `message/rfc822` a `Content-Type` name is looked for.
const CONTENT_TYPE_REACH: usize = 64;

/// Returns where `raw` first crosses `max_parts` or `max_depth`, or `None` when it stays
/// within both.
pub(super) fn cut(raw: &[u8], max_parts: usize, max_depth: usize) -> Option<Cut> {
    let (boundaries, mut cut) = declared_boundaries(raw, max_parts);
    let scan_end = cut.as_ref().map_or(raw.len(), |c| c.at);
    let raw = &raw[..scan_end];

    // Patterns 0 and 1 are the nested-message types; boundary i is pattern i + 2.
    let mut patterns: Vec<Vec<u8>> = vec![b"message/rfc822".to_vec(), b"message/global".to_vec()];
    patterns.extend(boundaries.iter().map(|b| [b"--", b.as_slice()].concat()));
    // Longest match: on a `--n10` line the boundary is `n10`, not `n1`.
    let Ok(matcher) = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(&patterns)
    else {
        // Building only fails past aho-corasick's own size limits, which MAX_BOUNDARY and
        // max_parts keep far away; refuse the structure rather than parse unbounded.
        return Some(Cut {
            at: 0,
            why: Crossed::Boundaries,
        });
    };

    // Open multiparts, innermost last: (boundary index, depth of the parts inside it).
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut parts = 1usize;
    for m in matcher.find_iter(raw) {
        let pattern = m.pattern().as_usize();
        if pattern < 2 {
            if !names_content_type(raw, m.start()) {
                continue;
            }
            parts += 1;
            depth += 1;
        } else {
            let boundary = pattern - 2;
            let closing = raw.get(m.end()..m.end() + 2) == Some(b"--");
            match open.iter().rposition(|&(b, _)| b == boundary) {
                Some(level) if closing => {
                    let inside = open[level].1;
                    open.truncate(level);
                    depth = inside.saturating_sub(1);
                    continue;
                }
                Some(level) => {
                    open.truncate(level + 1);
                    depth = open[level].1;
                }
                None if closing => continue,
                None => {
                    depth += 1;
                    open.push((boundary, depth));
                }
            }
            parts += 1;
        }
        let why = if parts > max_parts {
            Crossed::Parts
        } else if depth > max_depth {
            Crossed::Depth
        } else {
            continue;
        };
        cut = Some(Cut {
            at: line_start(raw, m.start()),
            why,
        });
        break;
    }
    cut
}

/// Every distinct `boundary=` value in `raw`, in order of first appearance, and where to
/// cut if there are more than `max_parts` of them.
fn declared_boundaries(raw: &[u8], max_parts: usize) -> (Vec<Vec<u8>>, Option<Cut>) {
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut order = Vec::new();
    let Ok(finder) = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(["boundary"])
    else {
        return (order, None);
    };
    for m in finder.find_iter(raw) {
        let Some(value) = parameter_value(&raw[m.end()..]) else {
            continue;
        };
        if seen.contains(value) {
            continue;
        }
        if order.len() >= max_parts {
            let at = line_start(raw, m.start());
            return (
                order,
                Some(Cut {
                    at,
                    why: Crossed::Boundaries,
                }),
            );
        }
        seen.insert(value.to_vec());
        order.push(value.to_vec());
    }
    (order, None)
}

/// The value of a MIME parameter whose name has just been read: `="v"`, `=v`, also with
/// RFC 2231 `*0`/`*` suffixes and blanks around `=`. `None` when it is not a parameter.
fn parameter_value(rest: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    while matches!(rest.get(i), Some(b'*' | b'0'..=b'9')) && i < 8 {
        i += 1;
    }
    while matches!(rest.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if rest.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while matches!(rest.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let rest = rest.get(i..)?;
    let value = if let Some(quoted) = rest.strip_prefix(b"\"") {
        let end = quoted
            .iter()
            .take(MAX_BOUNDARY + 1)
            .position(|&c| c == b'"')?;
        &quoted[..end]
    } else {
        let end = rest
            .iter()
            .take(MAX_BOUNDARY + 1)
            .position(|&c| matches!(c, b';' | b' ' | b'\t' | b'\r' | b'\n' | b'"'))
            .unwrap_or(rest.len().min(MAX_BOUNDARY + 1));
        &rest[..end]
    };
    (!value.is_empty() && value.len() <= MAX_BOUNDARY).then_some(value)
}

/// Whether the bytes shortly before `at` on the same line name `Content-Type`.
fn names_content_type(raw: &[u8], at: usize) -> bool {
    let from = at
        .saturating_sub(CONTENT_TYPE_REACH)
        .max(line_start(raw, at));
    raw[from..at]
        .windows(b"content-type".len())
        .any(|w| w.eq_ignore_ascii_case(b"content-type"))
}

/// Offset of the first byte of the line holding `at`, looking back at most a few
/// kilobytes (a cut inside a very long line is still a cut before the crossing).
fn line_start(raw: &[u8], at: usize) -> usize {
    let floor = at.saturating_sub(4096);
    raw[floor..at]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(floor.min(at), |p| floor + p + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> Vec<u8> {
        let mut m = b"Subject: nest\n".to_vec();
        for i in 0..levels {
            m.extend(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n").bytes(),
            );
        }
        m.extend(b"Content-Type: text/plain\n\nhi\n");
        m
    }

    fn declarations(n: usize) -> Vec<u8> {
        let mut m = b"Subject: talk\n\n".to_vec();
        for i in 0..n {
            m.extend(format!("a boundary=x{i} is declared\n").bytes());
        }
        m
    }

    fn flat(parts: usize) -> Vec<u8> {
        let mut m = b"Content-Type: multipart/mixed; boundary=XyZ\n\n".to_vec();
        for _ in 0..parts {
            m.extend(b"--XyZ\nContent-Type: text/plain\n\nx\n");
        }
        m.extend(b"--XyZ--\n");
        m
    }

    #[test]
    fn counts_parts_and_depth() {
        let cases: &[(Vec<u8>, usize, usize, Option<Crossed>)] = &[
            (flat(10), 20, 5, None),
            (flat(10), 10, 5, Some(Crossed::Parts)),
            (flat(10), 11, 5, None),
            (nested(5), 100, 5, None),
            (nested(6), 100, 5, Some(Crossed::Depth)),
            (nested(50), 20, 100, Some(Crossed::Parts)),
            (declarations(30), 20, 100, Some(Crossed::Boundaries)),
            (declarations(30), 30, 100, None),
        ];
        for (raw, max_parts, max_depth, want) in cases {
            let got = cut(raw, *max_parts, *max_depth).map(|c| c.why);
            assert_eq!(&got, want, "parts {max_parts} depth {max_depth}");
        }
    }

    #[test]
    fn boundaries_that_prefix_others_do_not_hide_depth() {
        // n1 is a prefix of n10..n19: a naive match would close n1's level at `--n10`.
        assert_eq!(
            cut(&nested(30), 1000, 25).map(|c| c.why),
            Some(Crossed::Depth)
        );
        assert_eq!(cut(&nested(30), 1000, 30), None);
    }

    #[test]
    fn cut_is_at_the_start_of_the_crossing_line() {
        let raw = flat(3);
        let c = cut(&raw, 2, 5).expect("three parts are over two");
        assert!(raw[c.at..].starts_with(b"--XyZ\n"), "{:?}", &raw[c.at..]);
        // Header part, first part: the second boundary line is where the third part starts.
        assert_eq!(raw[..c.at].iter().filter(|&&b| b == b'\n').count(), 6);
    }

    #[test]
    fn closed_siblings_do_not_add_depth() {
        let mut m = b"Content-Type: multipart/mixed; boundary=outer\n\n".to_vec();
        for i in 0..30 {
            m.extend(
                format!(
                    "--outer\nContent-Type: multipart/alternative; boundary=in{i}\n\n\
                     --in{i}\nContent-Type: text/plain\n\nx\n--in{i}--\n"
                )
                .bytes(),
            );
        }
        m.extend(b"--outer--\n");
        assert_eq!(cut(&m, 1000, 3), None);
    }

    #[test]
    fn nested_messages_count_as_levels() {
        let mut m = Vec::new();
        for _ in 0..10 {
            m.extend(b"Subject: fwd\nContent-Type: message/rfc822\n\n");
        }
        m.extend(b"Subject: inner\n\nbody\n");
        assert_eq!(cut(&m, 1000, 9).map(|c| c.why), Some(Crossed::Depth));
        assert_eq!(cut(&m, 1000, 10), None);
        // Mentioning the type in a body is not a nested message.
        let prose = b"Subject: x\n\nsee message/rfc822 and message/rfc822 again\n";
        assert_eq!(cut(prose, 1000, 0), None);
    }

    #[test]
    fn parameter_values() {
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"=\"a b\"; x", Some(b"a b")),
            (b"=abc;x", Some(b"abc")),
            (b" = abc\n", Some(b"abc")),
            (b"*0=abc", Some(b"abc")),
            (b" of the part", None),
            (b"=\"\"", None),
            (b"=\"unterminated", None),
        ];
        for (rest, want) in cases {
            assert_eq!(
                parameter_value(rest),
                *want,
                "{:?}",
                String::from_utf8_lossy(rest)
            );
        }
    }
}
