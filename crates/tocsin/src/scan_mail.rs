//! `tocsin scan` over mail: `.eml` files, mbox files, Maildir folders and directory trees
//! of them. Each message gets a verdict with its reasons; nothing is stored or sent. A
//! message that names an indicator of the `--intel` files gets a `known_indicator` reason
//! per match before the verdict, as in the service's mail intake.

use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use intel::Observed;
use intel::live::Loaded;
use mail::analyse::{Analyser, OwnDomains};
use mail::{Code, Finding};
use model::{MailOrigin, Reason, Verdict};

/// Whether `path` holds mail rather than sign-in logs: a directory, a file named like
/// mail, or a file whose first line is an mbox separator or a mail header.
pub fn is_mail_input(path: &Path) -> bool {
    if path.is_dir() {
        return true;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if [".eml", ".mbox", ".mbx"]
        .iter()
        .any(|ext| name.ends_with(ext))
    {
        return true;
    }
    let mut head = [0u8; 512];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) else {
        return false;
    };
    mail::mailbox::looks_like_mail(&head[..n])
}

/// One line of `scan --json` for a message (docs/output.md).
#[derive(Serialize)]
struct MessageLine<'a> {
    origin: &'a MailOrigin,
    message_id: Option<&'a str>,
    from: Option<&'a str>,
    subject: &'a str,
    verdict: Verdict,
    score: i32,
    reasons: &'a [Reason],
}

#[derive(Default)]
pub struct MailTally {
    pub messages: u64,
    pub phishing: u64,
    pub suspicious: u64,
    pub clean: u64,
    pub unreadable: u64,
    pub errors: Vec<String>,
}

impl MailTally {
    pub fn report(&self, err: &mut impl Write) {
        let _ = writeln!(
            err,
            "Read {} messages: {} phishing, {} suspicious, {} clean; could not read {}.",
            self.messages, self.phishing, self.suspicious, self.clean, self.unreadable
        );
        for error in &self.errors {
            let _ = writeln!(err, "  {error}");
        }
    }
}

/// Judges every message under `paths` and prints one verdict per message.
pub fn scan_mail(
    paths: &[PathBuf],
    config: &mail::analyse::MailConfig,
    intel: &Loaded,
    json: bool,
) -> anyhow::Result<MailTally> {
    let analyser = Analyser::new(config)?;
    let own = OwnDomains::new("protected organisation", &config.protected_domains);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut tally = MailTally::default();
    let progress = ProgressBar::new_spinner();
    progress.set_style(
        ProgressStyle::with_template("{spinner} {pos} messages {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    for path in paths {
        let name = path.display().to_string();
        let reader = match mail::mailbox::read_path(path, &config.limits) {
            Ok(reader) => reader,
            Err(error) => {
                tally.unreadable += 1;
                tally.errors.push(error.to_string());
                continue;
            }
        };
        progress.set_message(name);
        for (origin, parsed) in reader {
            tally.messages += 1;
            progress.inc(1);
            let message = match parsed {
                Ok(message) => message,
                Err(error) => {
                    tally.unreadable += 1;
                    if tally.errors.len() < 20 {
                        tally.errors.push(format!("{origin}: {error}"));
                    }
                    if json {
                        write_line(
                            &mut out,
                            &serde_json::json!({ "origin": origin, "error": error.to_string() }),
                        )?;
                    }
                    continue;
                }
            };
            let extracted = mail::signals::links::extract(&message);
            let links = notify::indicators::link_targets(&extracted.links);
            let seen = Observed::mail(&message, links.iter().map(String::as_str));
            // A message without a date is judged with the intelligence live now, as the
            // service judges one it receives.
            let at = message.date.unwrap_or_else(jiff::Timestamp::now);
            let mut findings = analyser.findings_with_links(&message, &own, &extracted);
            findings.extend(
                intel.matches(&seen, at).iter().map(|m| {
                    Finding::new(Code::KnownIndicator, notify::indicators::mail_evidence(m))
                }),
            );
            let analysis = analyser.verdict(findings);
            match analysis.verdict {
                Verdict::Phishing => tally.phishing += 1,
                Verdict::Suspicious => tally.suspicious += 1,
                Verdict::Clean => tally.clean += 1,
            }
            let line = MessageLine {
                origin: &origin,
                message_id: message.message_id.as_deref(),
                from: message.from.first().map(|m| m.address.as_str()),
                subject: &message.subject,
                verdict: analysis.verdict,
                score: analysis.score,
                reasons: &analysis.reasons,
            };
            if json {
                write_line(&mut out, &line)?;
            } else {
                write_text(&mut out, &line)?;
            }
        }
    }
    progress.finish_and_clear();
    out.flush()?;
    Ok(tally)
}

fn write_line(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

fn write_text(out: &mut impl Write, m: &MessageLine<'_>) -> io::Result<()> {
    writeln!(
        out,
        "{:<10} {:>4}  {}  from {}  \"{}\"",
        m.verdict.as_str().to_uppercase(),
        m.score,
        m.origin,
        m.from.unwrap_or("(no sender)"),
        printable(m.subject)
    )?;
    if m.verdict != Verdict::Clean {
        for r in m.reasons {
            writeln!(
                out,
                "    {:+4} {:<28} {}",
                r.weight,
                r.code,
                printable(&r.evidence)
            )?;
        }
    }
    Ok(())
}

/// Mail headers are the attacker's text: control characters (a forged line break, an
/// escape sequence for the terminal) are shown, not obeyed.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                format!("[U+{:04X}]", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_headers_are_shown_not_obeyed() {
        assert_eq!(printable("a\u{1b}[2Jb\u{202e}c"), "a[U+001B][2Jb[U+202E]c");
    }
}
