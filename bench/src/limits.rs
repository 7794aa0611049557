//! The physical-limit lines of the benchmark report: how fast the same input can be read
//! and cut into records when nothing is parsed, so that a reader sees how close a parser
//! comes to the floor set by the disk, the page cache and memory bandwidth.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::Context;

/// Large enough that a read system call costs little per line.
const BUFFER: usize = 1 << 20;

/// Lines of `path`, each handed to `each` as bytes without its newline; a last line with
/// no newline counts too. Lines longer than the buffer are handed over in one piece.
fn for_each_line(path: &Path, mut each: impl FnMut(&[u8])) -> anyhow::Result<u64> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = BufReader::with_capacity(BUFFER, file);
    let mut carry: Vec<u8> = Vec::new();
    let mut lines = 0u64;
    loop {
        let chunk = reader
            .fill_buf()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if chunk.is_empty() {
            break;
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            if carry.is_empty() {
                each(&chunk[start..end]);
            } else {
                carry.extend_from_slice(&chunk[start..end]);
                each(&carry);
                carry.clear();
            }
            lines += 1;
            start = end + 1;
        }
        carry.extend_from_slice(&chunk[start..]);
        let consumed = chunk.len();
        reader.consume(consumed);
    }
    if !carry.is_empty() {
        each(&carry);
        lines += 1;
    }
    Ok(lines)
}

/// Reads `path` and cuts it into lines: the floor of any line-oriented parser.
pub fn split(path: &Path) -> anyhow::Result<u64> {
    let mut bytes = 0usize;
    let lines = for_each_line(path, |line| bytes = bytes.wrapping_add(line.len()))?;
    std::hint::black_box(bytes);
    Ok(lines)
}

/// Reads `path` and runs every line through a JSON tokenizer that builds nothing: the
/// floor of a JSON-lines parser. Returns the records and the lines that were not JSON.
pub fn tokenize(path: &Path) -> anyhow::Result<(u64, u64)> {
    let mut invalid = 0u64;
    let lines = for_each_line(path, |line| {
        if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err() {
            invalid += 1;
        }
    })?;
    Ok((lines - invalid, invalid))
}

/// Host names of `path`, one per line; blank lines and `#` comments skipped.
pub fn read_hosts(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut text = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file under the system's temporary directory, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, content: &[u8]) -> Self {
            let path =
                std::env::temp_dir().join(format!("tocsin-bench-{}-{name}", std::process::id()));
            std::fs::write(&path, content).expect("temporary file is writable");
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn lines_are_counted_with_or_without_a_final_newline() {
        let with = TempFile::new("with", b"a\nbb\n\nccc\n");
        assert_eq!(split(&with.0).expect("readable"), 4);
        let without = TempFile::new("without", b"a\nbb\nccc");
        assert_eq!(split(&without.0).expect("readable"), 3);
    }

    #[test]
    fn tokenize_counts_records_and_what_is_not_json() {
        let f = TempFile::new(
            "json",
            b"{\"a\":1}\n[1,2]\nnot json\n{\"b\":{\"c\":[true]}}\n",
        );
        assert_eq!(tokenize(&f.0).expect("readable"), (3, 1));
    }

    #[test]
    fn hosts_skip_blanks_and_comments() {
        let f = TempFile::new(
            "hosts",
            b"# dnstwist\nclinic.example\n\n  c1inic.example \n",
        );
        assert_eq!(
            read_hosts(&f.0).expect("readable"),
            ["clinic.example", "c1inic.example"]
        );
    }
}
