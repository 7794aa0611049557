//! The mbox input: [`scenario::bulk_mail`] streamed to the output file in mboxrd, and
//! its ground truth beside it (`<out>.truth.json`), one entry per message in mbox order:
//!
//! ```json
//! {"dataset":"mbox","records":10000,"seed":1,"own_domains":["clinic.example",…],
//!  "messages":[{"message_id":"<…@…>","kind":"benign","phishing":false},…]}
//! ```
//!
//! Both files are written as the messages are generated, so memory stays flat whatever
//! the count.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use scenario::{BULK_OWN_DOMAINS, MailKind, MboxWriter, bulk_mail};

use crate::GenArgs;

pub fn write(args: &GenArgs) -> anyhow::Result<()> {
    let out = &args.out;
    let truth_path = truth_path(out);
    let file = File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut mbox = MboxWriter::new(BufWriter::with_capacity(1 << 20, file));
    let truth_file = File::create(&truth_path)
        .with_context(|| format!("cannot create {}", truth_path.display()))?;
    let mut truth = BufWriter::new(truth_file);
    // Keys in the documented order (serde_json's maps would sort them), the messages
    // one per line.
    write!(
        truth,
        "{{\"dataset\":\"mbox\",\"records\":{},\"seed\":{},\"own_domains\":{},\"messages\":[",
        args.count,
        args.seed,
        serde_json::to_string(&BULK_OWN_DOMAINS)?,
    )
    .with_context(|| format!("cannot write {}", truth_path.display()))?;

    let mut by_kind: BTreeMap<MailKind, u64> = BTreeMap::new();
    for (i, message) in bulk_mail(args.seed).take(args.count as usize).enumerate() {
        let message = message.context("cannot build a message")?;
        mbox.write_message(&message)
            .with_context(|| format!("cannot write {}", out.display()))?;
        let separator = if i == 0 { "\n" } else { ",\n" };
        write!(
            truth,
            "{separator}{{\"message_id\":{},\"kind\":\"{}\",\"phishing\":{}}}",
            serde_json::to_string(&message.message_id)?,
            message.kind.as_str(),
            message.kind.is_phishing(),
        )
        .with_context(|| format!("cannot write {}", truth_path.display()))?;
        *by_kind.entry(message.kind).or_default() += 1;
    }
    mbox.flush()
        .with_context(|| format!("cannot write {}", out.display()))?;
    writeln!(truth, "\n]}}")
        .and_then(|()| truth.flush())
        .with_context(|| format!("cannot write {}", truth_path.display()))?;

    let kinds: Vec<String> = by_kind
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    eprintln!(
        "{}: {} messages, {} bytes ({}); {}",
        out.display(),
        args.count,
        mbox.bytes_written(),
        kinds.join(", "),
        truth_path.display(),
    );
    Ok(())
}

/// `<out>.truth.json`, whatever `out`'s extension.
fn truth_path(out: &Path) -> PathBuf {
    let mut path = OsString::from(out.as_os_str());
    path.push(".truth.json");
    PathBuf::from(path)
}
