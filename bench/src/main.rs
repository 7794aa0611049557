//! `tocsin-bench`: writes the benchmark suite's inputs, each with a ground-truth file
//! beside it (`<out>.truth.json`), from the deterministic generators of the `scenario`
//! crate. The peer runner (`bench/run`) calls it; the same count and seed give the same
//! bytes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

mod gen_logs;
mod gen_mail;
mod intake;
mod limits;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write one benchmark input and its ground truth (`<out>.truth.json`).
    Gen {
        /// What to write.
        #[arg(value_enum)]
        dataset: Dataset,
        #[command(flatten)]
        args: GenArgs,
    },
    /// Read a file and cut it into lines, parsing nothing (a physical limit). Prints
    /// `{"records": N}`.
    Split { file: PathBuf },
    /// Run every line of a file through a JSON tokenizer that builds nothing (the floor of
    /// a JSON-lines parser). Prints `{"records": N, "invalid": M}`.
    Tokenize { file: PathBuf },
    /// Check every host name of a file (one per line) against protected domains with
    /// tocsin's lookalike index, as mail analysis does for an organisation's own domains.
    /// Prints `{"candidates": N, "flagged": M, "check_seconds": S, "by_kind": {..}}`.
    Lookalike {
        /// The protected domains, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        protected: Vec<String>,
        /// Also write every flagged host and why to standard error.
        #[arg(long)]
        list: bool,
        file: PathBuf,
    },
    /// Measure a running `tocsin serve` through its HTTP intake, whole processes on
    /// loopback: accepted sign-ins per second while organisations push their logs, and
    /// the time from the push that crosses a brute-force threshold to the webhook's
    /// arrival. Prints `{"events", "seconds", "events_per_second", "attacks", "notified",
    /// "notify_p50_ms", …, "peak_rss_kib", "cpu_seconds"}`.
    Intake(intake::IntakeArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Dataset {
    /// OpenSSH sshd lines only, RFC 3164 syslog.
    Sshd,
    /// sshd, Dovecot and Postfix lines interleaved, RFC 3164 syslog.
    AuthSyslog,
    /// Microsoft Graph `signIn` objects, one JSON object per line.
    Graph,
    /// Entra ID `SigninLogs` rows as Log Analytics exports them, one per line.
    SigninLogs,
    /// Okta System Log events, one JSON object per line.
    Okta,
    /// An mbox of messages: benign mail and every phishing kind, with attachments.
    Mbox,
}

#[derive(clap::Args)]
pub struct GenArgs {
    /// Records to write: lines, sign-in records or messages.
    #[arg(long)]
    pub count: u64,
    /// The file to write; the ground truth goes to `<out>.truth.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the generator; the same seed and count give the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen { dataset, args } => match dataset {
            Dataset::Mbox => gen_mail::write(&args),
            logs => gen_logs::write(logs, &args),
        },
        Command::Split { file } => {
            limits::split(&file).map(|n| println!("{}", serde_json::json!({ "records": n })))
        }
        Command::Tokenize { file } => limits::tokenize(&file).map(|(records, invalid)| {
            println!(
                "{}",
                serde_json::json!({ "records": records, "invalid": invalid })
            );
        }),
        Command::Lookalike {
            protected,
            list,
            file,
        } => lookalike(&protected, list, &file),
        Command::Intake(args) => intake::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Tocsin's lookalike check over a candidate list, timed without the file read.
fn lookalike(protected: &[String], list: bool, file: &std::path::Path) -> anyhow::Result<()> {
    use mail::lookalike::{LookalikeIndex, ProtectedDomain};
    let hosts = limits::read_hosts(file)?;
    let index = LookalikeIndex::new(protected.iter().map(|domain| ProtectedDomain {
        domain: domain.trim().to_ascii_lowercase(),
        owner: domain.trim().to_ascii_lowercase(),
    }));
    let started = Instant::now();
    let found: Vec<_> = hosts.iter().filter_map(|h| index.check(h)).collect();
    let check_seconds = started.elapsed().as_secs_f64();
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for lookalike in &found {
        *by_kind.entry(lookalike.kind.as_str()).or_default() += 1;
        if list {
            eprintln!("{lookalike}");
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "candidates": hosts.len(),
            "flagged": found.len(),
            "check_seconds": check_seconds,
            "by_kind": by_kind,
        })
    );
    Ok(())
}
