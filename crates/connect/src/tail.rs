//! Following growing log files (`tail -F`), for an organisation whose sshd, mail server or
//! identity provider already writes sign-ins to a file on the tocsin host.
//!
//! This module owns the position in each tailed file: which file it is (device, inode and
//! a fingerprint of its first bytes), the offset just after the last line committed, and
//! that line's number. The position is committed with the sign-ins of the lines before it
//! (`notify::SignInIntake::accept_up_to`), so a restart resumes exactly there: no line
//! is lost or stored twice. Only whole lines are taken; a line still being written waits
//! for its newline. Rotation by rename (the old file is read to its end through the open
//! handle first) and by copy-truncate are followed. Files are polled: no inotify, which
//! would not see files on network mounts anyway.
//!
//! Reading is bounded: a line never holds more than `max_line_bytes` in memory (longer
//! ones are cut away, counted and logged), a batch never more than `batch_lines` lines.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ingest::{LineParser, ParseOptions, Parsed};
use jiff::SignedDuration;
use model::{OrgId, Origin, SignIn};
use notify::SignInIntake;
use serde::{Deserialize, Serialize};
use store::{Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How many leading bytes of a file identify it, with its device and inode: an inode
/// reused for another file after a delete is told apart by its first line.
const FINGERPRINT_BYTES: u64 = 1024;

/// Bytes read from a file at a time.
const READ_CHUNK: usize = 64 * 1024;

/// What files to follow and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TailConfig {
    /// The files to follow, each with the organisation its sign-ins belong to. Default:
    /// none.
    pub files: Vec<TailedFile>,
    /// How often each file is looked at for new lines and rotation. Default: 1 s.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub poll_every: SignedDuration,
    /// Lines (of any kind) committed together, at most. Default: 1000.
    pub batch_lines: usize,
    /// Lines longer than this are cut away unread, counted and logged with file and line.
    /// Default: 64 KiB.
    pub max_line_bytes: usize,
    /// A file tocsin has never read (no saved position) is read from its end instead of
    /// its beginning: for attaching to a large existing log without importing its past.
    /// Default: false.
    pub start_at_end_for_new_files: bool,
}

impl Default for TailConfig {
    fn default() -> Self {
        TailConfig {
            files: Vec::new(),
            poll_every: SignedDuration::from_secs(1),
            batch_lines: 1000,
            max_line_bytes: ingest::DEFAULT_MAX_LINE_BYTES,
            start_at_end_for_new_files: false,
        }
    }
}

/// One followed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TailedFile {
    /// The path the log is written at; after a rotation, whatever file has that name.
    pub path: PathBuf,
    /// The organisation (its id) whose sign-ins the file holds.
    pub org: i64,
}

/// Why tailing could not start or did not end cleanly.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("tail: {0}")]
    Config(String),
    #[error("tail: {path}: organisation {org} does not exist")]
    UnknownOrganisation { path: PathBuf, org: i64 },
    #[error("tail: {path}: listed more than once")]
    DuplicatePath { path: PathBuf },
    #[error("tail: store: {0}")]
    Store(#[from] StoreError),
    #[error("tail: the tailing task ended abnormally: {0}")]
    Task(String),
}

/// Counters over every followed file since [`FileTail::start`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Whole lines committed (sign-ins, other records, errors alike).
    pub lines: u64,
    /// Sign-ins handed to the intake.
    pub sign_ins: u64,
    /// Lines that did not parse, or were too long.
    pub errors: u64,
    /// Lines longer than `max_line_bytes` (also in `errors`).
    pub cut_lines: u64,
    /// Rotations seen (rename or copy-truncate).
    pub rotations: u64,
}

#[derive(Default)]
struct Counters {
    lines: AtomicU64,
    sign_ins: AtomicU64,
    errors: AtomicU64,
    cut_lines: AtomicU64,
    rotations: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Stats {
        Stats {
            lines: self.lines.load(Ordering::Relaxed),
            sign_ins: self.sign_ins.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            cut_lines: self.cut_lines.load(Ordering::Relaxed),
            rotations: self.rotations.load(Ordering::Relaxed),
        }
    }
}

/// Which file a position is in, and how far it got: what is saved as the checkpoint
/// `tail:<path>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub device: u64,
    pub inode: u64,
    /// The first byte not yet committed; always just after a newline (or 0).
    pub offset: u64,
    /// The number of the last line committed (1-based; 0 before any).
    pub line: u64,
    /// FNV-1a of the first `fingerprint_bytes` bytes of the file.
    pub fingerprint: u64,
    pub fingerprint_bytes: u64,
}

/// The tailing of a set of files, running until [`FileTail::stop`] (or until dropped,
/// which stops it the same way without waiting for it).
pub struct FileTail {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    counters: Arc<Counters>,
}

impl FileTail {
    /// Checks the configuration, reads each file's saved position and starts following
    /// the files in a task of its own. Files that do not exist yet are waited for.
    pub async fn start(
        config: TailConfig,
        intake: Arc<SignInIntake>,
        store: Store,
    ) -> Result<FileTail, TailError> {
        let poll_every = Duration::try_from(config.poll_every)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| TailError::Config("poll_every must be positive".into()))?;
        if config.batch_lines == 0 {
            return Err(TailError::Config("batch_lines must be at least 1".into()));
        }
        if config.max_line_bytes == 0 {
            return Err(TailError::Config(
                "max_line_bytes must be at least 1".into(),
            ));
        }
        let mut seen = HashSet::new();
        let mut followers = Vec::with_capacity(config.files.len());
        for file in &config.files {
            if !seen.insert(file.path.clone()) {
                return Err(TailError::DuplicatePath {
                    path: file.path.clone(),
                });
            }
            if store.organisation(OrgId(file.org)).await?.is_none() {
                return Err(TailError::UnknownOrganisation {
                    path: file.path.clone(),
                    org: file.org,
                });
            }
            let name = checkpoint_name(&file.path);
            let saved = match store.checkpoint(&name).await? {
                None => None,
                Some(text) => match serde_json::from_str::<Position>(&text) {
                    Ok(position) => Some(position),
                    Err(err) => {
                        tracing::warn!(file = %file.path.display(), "tail: saved position unreadable ({err}); reading the file from its beginning");
                        Some(Position::unreadable())
                    }
                },
            };
            followers.push(Follower::new(file, name, saved, &config));
        }
        let counters = Arc::new(Counters::default());
        let (stop, stopped) = watch::channel(false);
        let run = Run {
            intake,
            counters: Arc::clone(&counters),
            batch_lines: config.batch_lines,
            stopped,
        };
        let task = tokio::spawn(run.follow(followers, poll_every));
        Ok(FileTail {
            stop,
            task,
            counters,
        })
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// Stops following: the lines read so far are committed (a partial last line is
    /// left for next time), then the task ends. Returns the final counters.
    pub async fn stop(self) -> Result<Stats, TailError> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|err| TailError::Task(err.to_string()))?;
        Ok(self.counters.snapshot())
    }
}

/// The checkpoint name of the file at `path`.
pub fn checkpoint_name(path: &Path) -> String {
    format!("tail:{}", path.display())
}

impl Position {
    /// A position that matches no file: the file is read from its beginning.
    fn unreadable() -> Position {
        Position {
            device: u64::MAX,
            inode: u64::MAX,
            offset: 0,
            line: 0,
            fingerprint: 0,
            fingerprint_bytes: u64::MAX,
        }
    }
}

/// What the task shares between files.
struct Run {
    intake: Arc<SignInIntake>,
    counters: Arc<Counters>,
    batch_lines: usize,
    stopped: watch::Receiver<bool>,
}

impl Run {
    async fn follow(mut self, mut followers: Vec<Follower>, poll_every: Duration) {
        loop {
            for follower in &mut followers {
                follower.poll(&self).await;
                if self.is_stopped() {
                    break;
                }
            }
            if self.is_stopped() {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(poll_every) => {}
                changed = self.stopped.changed() => {
                    // A dropped FileTail stops the task too.
                    if changed.is_err() || *self.stopped.borrow() {
                        break;
                    }
                }
            }
        }
        tracing::info!(stats = ?self.counters.snapshot(), "tail: stopped");
    }

    fn is_stopped(&self) -> bool {
        *self.stopped.borrow() || self.stopped.has_changed().is_err()
    }
}

/// The file currently open at a followed path, and how far it has been read.
struct Open {
    file: File,
    device: u64,
    inode: u64,
    /// Committed: the first byte after the last committed line, and that line's number.
    committed_offset: u64,
    committed_line: u64,
    /// Read: the first byte not yet read from the file (`pending` ends there).
    read_offset: u64,
    /// Bytes of an unfinished line (no newline yet), starting at `pending_start`.
    pending: Vec<u8>,
    /// The number of the last whole line read.
    line: u64,
    /// The line being discarded because it grew past `max_line_bytes`, if any.
    cutting: bool,
    /// How many first bytes were fingerprinted at the last commit, and their hash
    /// (0 bytes: nothing to compare yet).
    fingerprint: (u64, u64),
    parser: LineParser,
}

/// One followed path.
struct Follower {
    path: PathBuf,
    /// The path as sign-in origins and log lines name it.
    shown: String,
    org: OrgId,
    name: String,
    max_line_bytes: usize,
    year: i16,
    /// The position saved before this start, consulted when the path is first opened.
    saved: Option<Position>,
    start_at_end: bool,
    open: Option<Open>,
}

/// Lines read but not yet committed.
#[derive(Default)]
struct Batch {
    sign_ins: Vec<SignIn>,
    lines: u64,
    errors: u64,
    cut_lines: u64,
    /// The first parse error of the batch, with its line: logged once per batch, so that
    /// a file of garbage does not flood the log (each is logged at debug level).
    first_error: Option<(u64, String)>,
}

impl Follower {
    fn new(file: &TailedFile, name: String, saved: Option<Position>, config: &TailConfig) -> Self {
        Follower {
            shown: file.path.display().to_string(),
            path: file.path.clone(),
            org: OrgId(file.org),
            name,
            max_line_bytes: config.max_line_bytes,
            year: jiff::Zoned::now().year(),
            saved,
            start_at_end: config.start_at_end_for_new_files,
            open: None,
        }
    }

    /// Reads what the file has gained, committing `batch_lines` at a time, and follows a
    /// rotation. Errors are logged and retried at the next poll, never fatal.
    async fn poll(&mut self, run: &Run) {
        if let Err(err) = self.poll_once(run).await {
            tracing::warn!(file = %self.shown, "tail: {err}; retrying at the next poll");
        }
    }

    async fn poll_once(&mut self, run: &Run) -> Result<(), PollError> {
        if self.open.is_none() {
            match self.open_path()? {
                Some(open) => self.open = Some(open),
                None => return Ok(()),
            }
        }
        self.follow_truncation(run)?;
        self.drain(run, false).await?;
        if run.is_stopped() {
            return Ok(());
        }
        let Some(open) = &self.open else {
            return Ok(());
        };
        // Rename: the path names another file. The old one is finished first; while the
        // path names nothing, the old file may still be written to, so it is kept.
        let renamed = match std::fs::metadata(&self.path) {
            Ok(meta) => (meta.dev(), meta.ino()) != (open.device, open.inode),
            Err(_) => false,
        };
        if renamed {
            self.drain(run, true).await?;
            if run.is_stopped() {
                return Ok(());
            }
            // Opened before the old file is let go: if it cannot be, the old one is kept
            // and this is tried again at the next poll, counted once.
            let next = self.open_path()?;
            tracing::info!(file = %self.shown, "tail: file rotated (renamed away); reading the new file from its beginning");
            run.counters.rotations.fetch_add(1, Ordering::Relaxed);
            self.open = next;
            self.drain(run, false).await?;
        }
        Ok(())
    }

    /// Copy-truncate: the same file, now shorter than what was read of it, or with other
    /// first bytes (truncated, then written past the old offset between two polls). It
    /// is read again from its beginning.
    fn follow_truncation(&mut self, run: &Run) -> Result<(), PollError> {
        let Some(open) = &self.open else {
            return Ok(());
        };
        let size = open.file.metadata().map_err(PollError::Io)?.len();
        let (bytes, hash) = open.fingerprint;
        let rewritten = size < open.read_offset
            || (bytes > 0 && fingerprint(&open.file, bytes).map_err(PollError::Io)? != hash);
        if !rewritten {
            return Ok(());
        }
        tracing::info!(file = %self.shown, size, offset = open.read_offset, "tail: file truncated (copy-truncate rotation); reading it again from its beginning");
        run.counters.rotations.fetch_add(1, Ordering::Relaxed);
        let mut open = self.open.take().ok_or(PollError::Lost)?;
        open.file.seek(SeekFrom::Start(0)).map_err(PollError::Io)?;
        self.open = Some(Open::at(
            open.file,
            open.device,
            open.inode,
            0,
            0,
            self.parser(),
        ));
        Ok(())
    }

    fn parser(&self) -> LineParser {
        LineParser::new(ParseOptions {
            max_line_bytes: self.max_line_bytes,
            ..ParseOptions::for_year(self.year)
        })
    }

    /// Opens the path for the first time, at the saved position if it is this file's.
    fn open_path(&mut self) -> Result<Option<Open>, PollError> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(PollError::Io(err)),
        };
        let meta = file.metadata().map_err(PollError::Io)?;
        let (device, inode, size) = (meta.dev(), meta.ino(), meta.len());
        let (offset, line, known) = match self.saved.take() {
            Some(saved) => {
                let same_file = saved.device == device && saved.inode == inode;
                let same_start = saved.fingerprint_bytes <= size
                    && fingerprint(&file, saved.fingerprint_bytes).map_err(PollError::Io)?
                        == saved.fingerprint;
                if !same_file {
                    tracing::info!(file = %self.shown, "tail: the saved position is of another file (device or inode differ); reading from the beginning");
                    (0, 0, (0, 0))
                } else if !same_start {
                    tracing::info!(file = %self.shown, "tail: the file's first bytes changed since its position was saved; reading from the beginning");
                    (0, 0, (0, 0))
                } else if size < saved.offset {
                    tracing::info!(file = %self.shown, size, offset = saved.offset, "tail: the file is shorter than its saved position; reading from the beginning");
                    (0, 0, (0, 0))
                } else {
                    tracing::info!(file = %self.shown, offset = saved.offset, line = saved.line, "tail: resuming at the saved position");
                    (
                        saved.offset,
                        saved.line,
                        (saved.fingerprint_bytes, saved.fingerprint),
                    )
                }
            }
            None if self.start_at_end => {
                let start = last_line_start(&file, size, self.max_line_bytes);
                tracing::info!(file = %self.shown, offset = start, "tail: new file, starting at its end (line numbers count from there)");
                (start, 0, (0, 0))
            }
            None => {
                tracing::info!(file = %self.shown, "tail: reading the file from its beginning");
                (0, 0, (0, 0))
            }
        };
        // After its first file, a path's files (rotations) are read from their beginning.
        self.start_at_end = false;
        file.seek(SeekFrom::Start(offset)).map_err(PollError::Io)?;
        let mut open = Open::at(file, device, inode, offset, line, self.parser());
        open.fingerprint = known;
        Ok(Some(open))
    }

    /// Reads the open file to its end, committing every `batch_lines` lines and at the
    /// end. `finished` takes a last line without newline as a line (the file has been
    /// rotated away and will not grow any more).
    async fn drain(&mut self, run: &Run, finished: bool) -> Result<(), PollError> {
        loop {
            let Some(open) = self.open.as_mut() else {
                return Ok(());
            };
            let mut batch = Batch::default();
            let at_end = read_batch(
                open,
                &self.shown,
                self.max_line_bytes,
                run.batch_lines,
                finished,
                &mut batch,
            );
            let at_end = match at_end {
                Ok(at_end) => at_end,
                Err(err) => {
                    // Lines read before the error are still committed below.
                    tracing::warn!(file = %self.shown, "tail: reading: {err}");
                    true
                }
            };
            self.commit(run, batch).await?;
            if at_end || run.is_stopped() {
                return Ok(());
            }
        }
    }

    /// Commits the batch with the position after its last line; on failure the file is
    /// read again from the last committed position.
    async fn commit(&mut self, run: &Run, batch: Batch) -> Result<(), PollError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(());
        };
        let offset = open.read_offset - open.pending.len() as u64;
        if offset == open.committed_offset && batch.lines == 0 {
            return Ok(());
        }
        let fingerprint_bytes = offset.min(FINGERPRINT_BYTES);
        let hash = match open.fingerprint {
            (bytes, hash) if bytes == fingerprint_bytes => hash,
            _ => fingerprint(&open.file, fingerprint_bytes).map_err(PollError::Io)?,
        };
        let position = Position {
            device: open.device,
            inode: open.inode,
            offset,
            line: open.line,
            fingerprint: hash,
            fingerprint_bytes,
        };
        let position = serde_json::to_string(&position).map_err(PollError::Json)?;
        let sign_ins = batch.sign_ins.len() as u64;
        match run
            .intake
            .accept_up_to(self.org, batch.sign_ins, Some((&self.name, &position)))
            .await
        {
            Ok(_) => {
                open.committed_offset = offset;
                open.committed_line = open.line;
                open.fingerprint = (fingerprint_bytes, hash);
                if let Some((line, err)) = &batch.first_error {
                    let errors = batch.errors - batch.cut_lines;
                    tracing::warn!(file = %self.shown, line, errors, "tail: {errors} line(s) not read up to line {}, the first at {}:{line}: {err}", open.line, self.shown);
                }
                let counters = &run.counters;
                counters.lines.fetch_add(batch.lines, Ordering::Relaxed);
                counters.sign_ins.fetch_add(sign_ins, Ordering::Relaxed);
                counters.errors.fetch_add(batch.errors, Ordering::Relaxed);
                counters
                    .cut_lines
                    .fetch_add(batch.cut_lines, Ordering::Relaxed);
                Ok(())
            }
            Err(err) => {
                let (offset, line) = (open.committed_offset, open.committed_line);
                open.file
                    .seek(SeekFrom::Start(offset))
                    .map_err(PollError::Io)?;
                let parser = LineParser::new(open.parser.options().clone());
                let file = open.file.try_clone().map_err(PollError::Io)?;
                let known = open.fingerprint;
                *open = Open::at(file, open.device, open.inode, offset, line, parser);
                open.fingerprint = known;
                Err(PollError::Store(err))
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error("{0}")]
    Io(io::Error),
    #[error("position: {0}")]
    Json(serde_json::Error),
    #[error("committing: {0}")]
    Store(StoreError),
    #[error("the open file was lost")]
    Lost,
}

impl Open {
    fn at(file: File, device: u64, inode: u64, offset: u64, line: u64, parser: LineParser) -> Open {
        Open {
            file,
            device,
            inode,
            committed_offset: offset,
            committed_line: line,
            read_offset: offset,
            pending: Vec::new(),
            line,
            cutting: false,
            fingerprint: (0, 0),
            parser,
        }
    }
}

/// Reads whole lines into `batch` until it holds `batch_lines` lines or the file ends;
/// true if it ended.
fn read_batch(
    open: &mut Open,
    shown: &str,
    max_line_bytes: usize,
    batch_lines: usize,
    finished: bool,
    batch: &mut Batch,
) -> io::Result<bool> {
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        // Whole lines already in `pending` first; what they took is removed once, not
        // line by line (that would move the rest of the chunk for every line).
        let pending = std::mem::take(&mut open.pending);
        let mut start = 0;
        let mut full = false;
        while let Some(at) = pending[start..].iter().position(|&b| b == b'\n') {
            take_line(
                open,
                shown,
                max_line_bytes,
                &pending[start..start + at],
                batch,
            );
            start += at + 1;
            if batch.lines >= batch_lines as u64 {
                full = true;
                break;
            }
        }
        open.pending = pending;
        open.pending.drain(..start);
        if full {
            return Ok(false);
        }
        if open.pending.len() > max_line_bytes {
            // Too long: drop what is held and skip to its newline.
            open.cutting = true;
            open.pending.clear();
        }
        // Whatever the file is read into, `pending` stays within a line and a chunk.
        let room = READ_CHUNK.min(max_line_bytes.saturating_add(1));
        let n = open.file.read(&mut chunk[..room])?;
        if n == 0 {
            if finished && (!open.pending.is_empty() || open.cutting) {
                let line = std::mem::take(&mut open.pending);
                take_line(open, shown, max_line_bytes, &line, batch);
            }
            return Ok(true);
        }
        open.read_offset += n as u64;
        open.pending.extend_from_slice(&chunk[..n]);
    }
}

/// Parses one whole line (without its newline) into the batch.
fn take_line(open: &mut Open, shown: &str, max_line_bytes: usize, line: &[u8], batch: &mut Batch) {
    open.line += 1;
    batch.lines += 1;
    if open.cutting || line.len() > max_line_bytes {
        // A cut line's head would be misread (a JSON record cut short, a syslog line
        // without its end), so none of it is parsed.
        open.cutting = false;
        batch.errors += 1;
        batch.cut_lines += 1;
        tracing::warn!(file = %shown, line = open.line, limit = max_line_bytes, "tail: line longer than the limit, cut away unread");
        return;
    }
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let origin = Origin::FileLine {
        file: shown.to_owned(),
        line: open.line,
    };
    let text = String::from_utf8_lossy(line);
    match open.parser.parse(&text, origin) {
        Ok(Parsed::SignIns(sign_ins)) => batch.sign_ins.extend(sign_ins),
        Ok(_) => {}
        Err(err) => {
            batch.errors += 1;
            metrics::counter!("tocsin_parse_errors_total", "source" => "tail").increment(1);
            tracing::debug!(file = %shown, line = open.line, "tail: line not read: {err}");
            if batch.first_error.is_none() {
                batch.first_error = Some((open.line, err.to_string()));
            }
        }
    }
}

/// FNV-1a over the first `len` bytes of `file` (fewer if it is shorter): stable across
/// builds, which a saved fingerprint needs.
fn fingerprint(file: &File, len: u64) -> io::Result<u64> {
    let len = len.min(FINGERPRINT_BYTES) as usize;
    let mut buf = vec![0u8; len];
    let mut got = 0;
    while got < len {
        let n = file.read_at(&mut buf[got..], got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in &buf[..got] {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    Ok(hash)
}

/// Where the last whole line of a file of `size` bytes ends: reading starts there when a
/// new file is read from its end, so a line being written is not read from its middle.
fn last_line_start(file: &File, size: u64, max_line_bytes: usize) -> u64 {
    let look = size.min(max_line_bytes as u64);
    let mut buf = vec![0u8; look as usize];
    let from = size - look;
    match file.read_exact_at(&mut buf, from) {
        Ok(()) => buf
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(size, |at| from + at as u64 + 1),
        Err(_) => size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        File::create(&path)
            .and_then(|mut f| f.write_all(bytes))
            .expect("write");
        let file = File::open(&path).expect("open");
        (dir, file)
    }

    #[test]
    fn the_fingerprint_is_fnv1a_of_the_first_bytes_only() {
        let (_dir, file) = file_with(b"a");
        // The published FNV-1a 64 test vector: a saved fingerprint must not change
        // between builds.
        assert_eq!(fingerprint(&file, 1).expect("read"), 0xaf63_dc4c_8601_ec8c);
        let (_dir, long) = file_with(&[b'x'; 3000]);
        let (_dir, short) = file_with(&[b'x'; 1024]);
        assert_eq!(
            fingerprint(&long, 5000).expect("read"),
            fingerprint(&short, 1024).expect("read")
        );
    }

    #[test]
    fn reading_from_the_end_starts_after_the_last_newline() {
        let (_dir, file) = file_with(b"one\ntwo\nthr");
        assert_eq!(last_line_start(&file, 11, 1024), 8);
        let (_dir, file) = file_with(b"one\ntwo\n");
        assert_eq!(last_line_start(&file, 8, 1024), 8);
        // No newline within the last `max_line_bytes`: the end itself.
        assert_eq!(last_line_start(&file, 8, 3), 8);
        let (_dir, file) = file_with(b"abcdef");
        assert_eq!(last_line_start(&file, 6, 1024), 6);
    }
}
