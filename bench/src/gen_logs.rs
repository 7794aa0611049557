//! Sign-in log inputs: syslog and the vendors' JSON exports, streamed from
//! [`scenario::AuthLog`] to the output file, and their ground truth beside it.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use scenario::{AuthDataset, AuthLog};

use crate::{Dataset, GenArgs};

pub fn write(dataset: Dataset, args: &GenArgs) -> anyhow::Result<()> {
    let dataset = match dataset {
        Dataset::Sshd => AuthDataset::Sshd,
        Dataset::AuthSyslog => AuthDataset::AuthSyslog,
        Dataset::Graph => AuthDataset::Graph,
        Dataset::SigninLogs => AuthDataset::SigninLogs,
        Dataset::Okta => AuthDataset::Okta,
        Dataset::Mbox => anyhow::bail!("the mbox is written by gen_mail"),
    };
    let out = &args.out;
    let file = File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let mut log = AuthLog::new(dataset, args.count, args.seed);
    log.write_to(&mut writer)
        .and_then(|()| writer.flush())
        .with_context(|| format!("cannot write {}", out.display()))?;

    let truth = log.truth();
    let truth_path = truth_path(out);
    std::fs::write(&truth_path, truth.to_json())
        .with_context(|| format!("cannot write {}", truth_path.display()))?;

    let tally = log.tally();
    eprintln!(
        "{}: {} lines, {} sign-ins ({} successes, {} failures, {} pre-auth), {} other \
         events, {} noise; {} attacks; {}",
        out.display(),
        tally.lines,
        tally.sign_ins,
        tally.successes,
        tally.failures,
        tally.pre_auth,
        tally.other_events,
        tally.noise,
        truth.attacks.len(),
        truth_path.display(),
    );
    Ok(())
}

/// `<out>.truth.json`, whatever `out`'s extension.
fn truth_path(out: &std::path::Path) -> PathBuf {
    let mut path = OsString::from(out.as_os_str());
    path.push(".truth.json");
    PathBuf::from(path)
}
