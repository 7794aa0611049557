//! `tocsin-bench`: writes the benchmark suite's inputs, each with a ground-truth file
//! beside it (`<out>.truth.json`), from the deterministic generators of the `scenario`
//! crate. The peer runner (`bench/run`) calls it; the same count and seed give the same
//! bytes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod gen_logs;
mod gen_mail;

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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
