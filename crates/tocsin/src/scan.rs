//! `tocsin scan` and `tocsin parse`: the service's parsers and detectors over files,
//! offline. Nothing is stored and nothing is sent. With `--intel`, every sign-in and
//! message is also matched against threat intelligence read from files, the way the
//! service's intakes match them against its feeds, so that service and scan agree.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use ingest::{ParseOptions, Parsed, SourceReader};
use intel::Observed;
use intel::live::Loaded;
use model::{DetectionKind, EventId, Incident, Observation, OrgId};
use notify::correlate;
use notify::indicators;

use crate::config::Config;

/// How many unreadable records the closing summary lists; the count covers all.
const LISTED_ERRORS: usize = 20;
/// How many intelligence problems (refused patterns, unreadable objects) are listed; the
/// count covers all.
const LISTED_PROBLEMS: usize = 20;
/// Indicator matches the table names under an incident; the JSON has them all.
const LISTED_INDICATORS: usize = 3;

#[derive(clap::Args)]
pub struct InputArgs {
    /// Files to read. Sign-in logs: Entra ID, Office 365, Okta, Google Workspace JSON,
    /// Windows `.evtx`, or syslog from sshd, Dovecot, Postfix, Exim, Roundcube. Mail
    /// (`scan` only): `.eml` files, mbox files, Maildir folders and directories of them.
    /// `-` reads standard input; gzip is recognised by its content.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The year of syslog timestamps that carry none (RFC 3164). Default: this year.
    #[arg(long)]
    year: Option<i16>,
}

#[derive(clap::Args)]
pub struct ScanArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Print one JSON document per incident and line instead of a table.
    #[arg(long)]
    json: bool,
    /// Configuration file whose `[detect]` thresholds and `[enrich]` databases to use.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Threat intelligence to match every sign-in and message against; repeat for
    /// several. A STIX 2.1 bundle, a MISP feed directory (with `manifest.json`) or a MISP
    /// event, a MISP warning list (its values never alert), or a plain list of addresses,
    /// networks, domains, URLs or hashes, one per line. What each held is reported on
    /// standard error; an indicator is judged live at each event's own time.
    #[arg(long = "intel", value_name = "PATH")]
    intel: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub struct ParseArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Also print the lines that are not sign-in events.
    #[arg(long)]
    all: bool,
    /// Configuration file whose `[enrich]` databases to use, to add the country and ASN
    /// of each source address.
    #[arg(long, short)]
    config: Option<PathBuf>,
}

/// The configuration at `path`, or the defaults.
fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    match path {
        Some(path) => Config::load(path),
        None => Ok(Config::default()),
    }
}

/// The enricher of the configuration; offline tools mention it only when it is on.
fn enricher(config: &Config) -> anyhow::Result<enrich::Enricher> {
    let enricher = crate::serve::open_enricher(&config.enrich)?;
    if enricher.is_enabled() {
        crate::serve::log_enrichment(&enricher);
    }
    Ok(enricher)
}

/// Records handed from the reading thread to the detecting one at a time, and batches
/// that may wait between them: enough to keep both cores busy, bounded so that a fast
/// reader cannot fill memory ahead of slow detectors.
const BATCH: usize = 1024;
const QUEUED_BATCHES: usize = 8;

/// Every record of every input, in order, with a progress bar over the bytes read.
/// A file that cannot be opened is reported and skipped. Reading and parsing run on a
/// thread of their own, so that on two cores parsing overlaps what `each` does.
fn for_each_record(input: &InputArgs, mut each: impl FnMut(ingest::Record)) -> Tally {
    let (batches, received) = std::sync::mpsc::sync_channel(QUEUED_BATCHES);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_records(input, batches));
        for batch in received {
            batch.into_iter().for_each(&mut each);
        }
        match reader.join() {
            Ok(tally) => tally,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Reads and parses every input, sending records in batches; counts what they held.
fn read_records(
    input: &InputArgs,
    batches: std::sync::mpsc::SyncSender<Vec<ingest::Record>>,
) -> Tally {
    let year = input.year.unwrap_or_else(|| {
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .year()
    });
    let options = ParseOptions::for_year(year);
    let total: u64 = input
        .files
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|m| m.len())
        .sum();
    let progress = ProgressBar::new(total);
    progress.set_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_bar} {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Small inputs finish before a bar would be read.
    if total < 8 * 1024 * 1024 {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut tally = Tally::default();
    let mut done_before = 0;
    let mut batch = Vec::with_capacity(BATCH);
    for path in &input.files {
        let name = path.display().to_string();
        let reader: Box<dyn Read + Send> = if name == "-" {
            Box::new(io::stdin())
        } else {
            match File::open(path) {
                Ok(file) => Box::new(file),
                Err(error) => {
                    tally.unreadable_files.push(format!("{name}: {error}"));
                    continue;
                }
            }
        };
        progress.set_message(name.clone());
        let mut records = SourceReader::new(&name, reader, options.clone());
        let mut count = 0u64;
        while let Some(record) = records.next() {
            match &record.result {
                Ok(Parsed::SignIns(sign_ins)) => tally.sign_ins += sign_ins.len() as u64,
                Ok(Parsed::Noise | Parsed::OtherEvent { .. }) => tally.ignored += 1,
                Err(error) => {
                    tally.rejected += 1;
                    if tally.errors.len() < LISTED_ERRORS {
                        tally.errors.push(format!("{}: {error}", record.origin));
                    }
                }
            }
            batch.push(record);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                // The receiver only goes away when the process is ending.
                if batches.send(full).is_err() {
                    return tally;
                }
            }
            count += 1;
            if count.is_multiple_of(4096) {
                progress.set_position(done_before + records.bytes_read());
            }
        }
        done_before += records.bytes_read();
        progress.set_position(done_before);
    }
    if !batch.is_empty() {
        let _ = batches.send(batch);
    }
    progress.finish_and_clear();
    tally
}

/// What the inputs held, for the closing summary on standard error.
#[derive(Default)]
struct Tally {
    sign_ins: u64,
    ignored: u64,
    rejected: u64,
    errors: Vec<String>,
    unreadable_files: Vec<String>,
}

impl Tally {
    fn report(&self) -> ExitCode {
        let mut err = io::stderr().lock();
        let _ = writeln!(
            err,
            "Read {}, ignored {} of other events, could not read {}.",
            count(self.sign_ins, "sign-in", "sign-ins"),
            count(self.ignored, "line", "lines"),
            count(self.rejected, "record", "records"),
        );
        for error in &self.errors {
            let _ = writeln!(err, "  {error}");
        }
        if self.rejected as usize > self.errors.len() {
            let _ = writeln!(
                err,
                "  … and {} more (`tocsin parse` lists every one).",
                self.rejected as usize - self.errors.len()
            );
        }
        for file in &self.unreadable_files {
            let _ = writeln!(err, "error: cannot read {file}");
        }
        if self.unreadable_files.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

pub fn parse(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let enricher = enricher(&load_config(args.config.as_deref())?)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = None;
    let tally = for_each_record(&args.input, |record| {
        if failed.is_some() {
            return;
        }
        let written = match record.result {
            Ok(Parsed::SignIns(mut sign_ins)) => sign_ins.iter_mut().try_for_each(|s| {
                enricher.enrich(s);
                write_json(&mut out, &s.printed())
            }),
            Ok(Parsed::Noise) if args.all => write_json(
                &mut out,
                &serde_json::json!({ "origin": record.origin, "ignored": "not a sign-in event" }),
            ),
            Ok(Parsed::OtherEvent { format, event_type }) if args.all => write_json(
                &mut out,
                &serde_json::json!({
                    "origin": record.origin,
                    "ignored": "not a sign-in event",
                    "format": format,
                    "event_type": event_type,
                }),
            ),
            Ok(Parsed::Noise | Parsed::OtherEvent { .. }) => Ok(()),
            Err(error) => write_json(
                &mut out,
                &serde_json::json!({ "origin": record.origin, "error": error.to_string() }),
            ),
        };
        failed = written.err();
    });
    if let Some(error) = failed {
        return broken_pipe_or(error);
    }
    out.flush().or_else(ignore_broken_pipe)?;
    Ok(tally.report())
}

/// Reads every `--intel` path and compiles what they hold, reporting on standard error
/// what each gave and what was refused. A path that cannot be read at all stops the
/// scan: a scan the user believes was checked against intelligence must be.
async fn load_intel(paths: &[PathBuf]) -> anyhow::Result<Loaded> {
    if paths.is_empty() {
        return Ok(Loaded::empty());
    }
    // Not locked across the loads: a feed reader may log while it reads.
    let mut err = io::stderr();
    let mut held = intel::stix::IndicatorSet::default();
    let mut actors = Vec::new();
    let mut benign = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let (kind, pulled) = intel::source::load_path(path)
            .await
            .with_context(|| format!("cannot read the intelligence in {}", path.display()))?;
        let (read, revoked) = (pulled.intel, pulled.removed);
        let values: usize = read.benign.iter().map(|b| b.values.len()).sum();
        let _ = writeln!(
            err,
            "Intelligence {}: {}, {}, {}, {}, {}{}.",
            path.display(),
            kind.as_str(),
            count(read.indicators.len() as u64, "indicator", "indicators"),
            count(read.actors.len() as u64, "actor", "actors"),
            count(values as u64, "benign value", "benign values"),
            count(read.problems.len() as u64, "problem", "problems"),
            if revoked.is_empty() {
                String::new()
            } else {
                format!("; {} revoked", revoked.len())
            },
        );
        // Two files may hold versions of one indicator: the newest counts, and one
        // revoked in any file matches in none, as when the service pulls a feed again.
        held.merge(read.indicators, revoked);
        actors.extend(read.actors);
        benign.extend(read.benign);
        problems.extend(read.problems);
    }
    // Old logs are scanned with the intelligence of today: an indicator that expired
    // since must still match the events of its time, so none is dropped when compiling
    // and each is judged live at the event's own time.
    let loaded = Loaded::build(
        held.into_indicators(),
        &benign,
        actors,
        jiff::Timestamp::MIN,
    );
    problems.extend(loaded.problems.iter().cloned());
    let _ = writeln!(
        err,
        "Matching against {} and {} known actors; {}.",
        count(loaded.indicators as u64, "indicator", "indicators"),
        loaded.actors.len(),
        count(problems.len() as u64, "problem", "problems"),
    );
    for problem in problems.iter().take(LISTED_PROBLEMS) {
        let _ = match &problem.object {
            Some(object) => writeln!(err, "  {}: {object}: {}", problem.source, problem.reason),
            None => writeln!(err, "  {}: {}", problem.source, problem.reason),
        };
    }
    if problems.len() > LISTED_PROBLEMS {
        let _ = writeln!(err, "  … and {} more.", problems.len() - LISTED_PROBLEMS);
    }
    Ok(loaded)
}

pub async fn scan(mut args: ScanArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref())?;
    let intel = load_intel(&args.intel).await?;
    // Mail and sign-in logs can be scanned together; each goes its own way.
    let (mail_paths, log_paths): (Vec<PathBuf>, Vec<PathBuf>) = args
        .input
        .files
        .drain(..)
        .partition(|path| crate::scan_mail::is_mail_input(path));
    args.input.files = log_paths;
    if !mail_paths.is_empty() {
        let tally = crate::scan_mail::scan_mail(&mail_paths, &config.mail, &intel, args.json)?;
        tally.report(&mut io::stderr().lock());
        if args.input.files.is_empty() {
            return Ok(if tally.unreadable == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
    }
    let enricher = enricher(&config)?;
    let mut detectors = detect::Detectors::new(config.detect.clone());
    let mut incidents: HashMap<String, Incident> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut next_id = 0i64;
    let tally = for_each_record(&args.input, |record| {
        let Ok(Parsed::SignIns(sign_ins)) = record.result else {
            return;
        };
        for mut sign_in in sign_ins {
            enricher.enrich(&mut sign_in);
            next_id += 1;
            let id = EventId(next_id);
            // As `notify::intake` does: a sign-in from a named address is a detection of
            // its own; every incident takes its sources' indicators at the end.
            let matches = intel.matches(&Observed::sign_in(&sign_in), sign_in.time);
            let known = (!matches.is_empty()).then(|| {
                let mut detection = indicators::detection(OrgId::LOCAL, id, &sign_in, &matches);
                detection.reasons.truncate(Incident::MAX_REASONS);
                (detection, matches)
            });
            let observation = Observation {
                id,
                org: OrgId::LOCAL,
                sign_in,
            };
            let detections = detectors.observe(&observation);
            let known_detection = known.as_ref().map(|(d, _)| d.clone());
            for detection in detections.into_iter().chain(known_detection) {
                // Most detections extend an incident already open: that path is in place
                // and copies nothing it does not add.
                let incident = match incidents.get_mut(&detection.campaign_key) {
                    Some(incident) => {
                        correlate::extend(incident, &detection);
                        incident
                    }
                    None => {
                        let key = detection.campaign_key.clone();
                        order.push(key.clone());
                        // Offline, incidents are numbered in the order they open, so
                        // that two scans of the same input print the same ids.
                        let id = format!("scan-{:04}", order.len());
                        incidents
                            .entry(key)
                            .or_insert(correlate::open(&detection, id))
                    }
                };
                if detection.kind == DetectionKind::KnownIndicator
                    && let Some((_, matches)) = &known
                {
                    indicators::attach(incident, matches);
                }
            }
        }
    });
    let mut found: Vec<Incident> = order
        .iter()
        .filter_map(|key| incidents.remove(key))
        .collect();
    for incident in &mut found {
        indicators::attach_sources(incident, &intel);
        // No organisation offline, so no sector to weigh; the built-in catalogue is
        // always there, so an incident nothing points to says "unattributed" and why.
        incident.attribution = Some(intel.attribute(incident, None));
        notify::correlate::refresh_summary(incident);
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = BufWriter::new(io::stdout().lock());
    let written = if args.json {
        found
            .iter()
            .try_for_each(|incident| write_json(&mut out, incident))
    } else {
        write_table(&mut out, &found)
    };
    if let Err(error) = written.and_then(|()| out.flush()) {
        return broken_pipe_or(error);
    }
    Ok(tally.report())
}

fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

pub(crate) fn write_table(out: &mut impl Write, incidents: &[Incident]) -> io::Result<()> {
    if incidents.is_empty() {
        return writeln!(out, "No incidents.");
    }
    let rows: Vec<[String; 8]> = incidents
        .iter()
        .map(|i| {
            [
                i.id.clone(),
                i.kind.to_string(),
                i.technique.to_string(),
                i.severity.to_string(),
                abbreviate(&i.accounts),
                abbreviate(&i.sources),
                format!(
                    "{} – {}",
                    i.first_seen.strftime("%Y-%m-%d %H:%M:%S"),
                    i.last_seen.strftime("%H:%M:%S")
                ),
                i.evidence_count.to_string(),
            ]
        })
        .collect();
    let header = [
        "ID",
        "KIND",
        "TECHNIQUE",
        "SEVERITY",
        "ACCOUNTS",
        "SOURCES",
        "WHEN (UTC)",
        "EVIDENCE",
    ];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())
    };
    line(out, &header.map(String::from))?;
    for row in &rows {
        line(out, row)?;
    }
    writeln!(out)?;
    for incident in incidents {
        writeln!(out, "{}: {}", incident.id, incident.summary)?;
        for reason in &incident.reasons {
            writeln!(out, "  - {reason}")?;
        }
        for m in incident.indicators.iter().take(LISTED_INDICATORS) {
            writeln!(
                out,
                "  indicator: {} of feed {} matched {} = {}",
                m.indicator, m.feed, m.field, m.observed
            )?;
        }
        if incident.indicators.len() > LISTED_INDICATORS {
            writeln!(
                out,
                "  … and {} more indicators (`--json` lists them).",
                incident.indicators.len() - LISTED_INDICATORS
            )?;
        }
        if let Some(attribution) = &incident.attribution {
            writeln!(out, "  attribution: {}", attribution.headline())?;
        }
    }
    Ok(())
}

/// "a", "a, b" or "a, b +15".
fn abbreviate(items: &[String]) -> String {
    match items {
        [] => "-".into(),
        [one] => one.clone(),
        [a, b] => format!("{a}, {b}"),
        [a, b, rest @ ..] => format!("{a}, {b} +{}", rest.len()),
    }
}

/// `tocsin parse | head` closes the pipe early; that is not an error.
fn ignore_broken_pipe(error: io::Error) -> io::Result<()> {
    if error.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(error)
    }
}

fn broken_pipe_or(error: io::Error) -> anyhow::Result<ExitCode> {
    ignore_broken_pipe(error).context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
