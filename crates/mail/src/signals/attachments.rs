//! Attached files that run code, hide what they are, or hide from scanners.
//!
//! Each attachment is judged by its name (macro-enabled Office, shortcuts, disk images,
//! HTML and script files, double extensions, bidirectional-override characters) and by
//! its bytes, since the sender's content type is not trusted: an OLE2 or OOXML file with a
//! VBA project, a LNK header, an ISO/VHD image, a Windows executable, HTML. Zip archives
//! are opened one level deep: entry names get the same name checks, Office files inside
//! get the macro check, encrypted entries are reported. 7z and RAR archives are not
//! unpacked; their headers say whether they are encrypted, which is reported when they do.
//!
//! Reading is bounded per message: at most [`MAX_ENTRIES`] zip entries per archive and
//! [`MAX_INFLATED_BYTES`] decompressed bytes in all, checked against declared sizes
//! before reading and enforced with `take` while reading, since declared sizes lie.

use std::collections::HashSet;
use std::io::{Cursor, Read};

use model::{Attachment, Mail};

use super::links::{is_bidi_control, printable};
use crate::{Code, Finding};

/// Zip entries looked at per archive.
pub const MAX_ENTRIES: usize = 1_000;
/// Decompressed bytes read from archives per message.
pub const MAX_INFLATED_BYTES: u64 = 20 * 1024 * 1024;
/// Bytes of an archive entry read to recognise it: enough for the ISO 9660 signature at
/// 0x8001, the furthest-out magic number looked for.
const SNIFF_BYTES: u64 = 0x8001 + 5;
/// Entries of an OLE2 compound file looked at.
const MAX_OLE_ENTRIES: usize = 10_000;
/// RAR blocks walked looking for an encrypted file.
const MAX_RAR_BLOCKS: usize = 1_000;
const MAX_EVIDENCE_CHARS: usize = 200;

/// Findings and the reasons a file could not be fully looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inspection {
    pub findings: Vec<Finding>,
    /// E.g. a zip whose entries cannot be listed, or the decompression budget reached;
    /// to be reported with the message.
    pub warnings: Vec<String>,
}

/// Inspects every attachment of `mail`.
pub fn check(mail: &Mail) -> Inspection {
    let mut inspector = Inspector::new(MAX_INFLATED_BYTES);
    for (i, attachment) in mail.attachments.iter().enumerate() {
        inspector.attachment(i + 1, attachment);
    }
    Inspection {
        findings: inspector.findings,
        warnings: inspector.warnings,
    }
}

const MACRO_EXTS: &[&str] = &[
    "docm", "xlsm", "pptm", "dotm", "xltm", "xlam", "ppam", "sldm", "potm", "ppsm",
];
const SHORTCUT_EXTS: &[&str] = &["lnk", "url", "scf", "website"];
const DISK_EXTS: &[&str] = &["iso", "img", "vhd", "vhdx"];
const HTML_EXTS: &[&str] = &["html", "htm", "shtml", "xhtml", "svg", "mht", "mhtml"];
const SCRIPT_EXTS: &[&str] = &[
    "js", "jse", "vbs", "vbe", "wsf", "wsh", "hta", "ps1", "bat", "cmd", "scr", "exe", "dll",
    "msi", "jar", "cpl", "com", "pif", "reg", "chm", "appx", "msix", "xll",
];
/// Extensions a file pretends to have in front of its real one (`invoice.pdf.exe`).
const DECOY_EXTS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf", "odt", "ods", "csv", "jpg",
    "jpeg", "png", "gif", "bmp", "tif", "tiff", "mp3", "mp4", "wav", "avi", "mov", "zip", "rar",
    "7z", "eml", "msg", "html", "htm",
];
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY_MAGIC: &[u8] = b"PK\x05\x06";
const LNK_MAGIC: &[u8] = &[
    0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x46,
];
const RAR4_MAGIC: &[u8] = b"Rar!\x1a\x07\x00";
const RAR5_MAGIC: &[u8] = b"Rar!\x1a\x07\x01\x00";
const SEVEN_ZIP_MAGIC: &[u8] = &[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C];

/// How deep a file sits: an attachment, or an entry of an attached archive.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    Attachment,
    InArchive,
}

struct Inspector {
    findings: Vec<Finding>,
    warnings: Vec<String>,
    seen: HashSet<(Code, String)>,
    /// Decompressed bytes read so far, and the most that may be.
    inflated: u64,
    budget: u64,
    budget_warned: bool,
}

impl Inspector {
    fn new(budget: u64) -> Self {
        Inspector {
            findings: Vec::new(),
            warnings: Vec::new(),
            seen: HashSet::new(),
            inflated: 0,
            budget,
            budget_warned: false,
        }
    }

    /// One finding per code and file: a `.docm` that also holds a VBA project is one
    /// macro finding, with the first reason found.
    fn add(&mut self, code: Code, subject: &str, what: &str) {
        if self.seen.insert((code, subject.to_owned())) {
            let text = format!("{subject}: {what}");
            self.findings
                .push(Finding::new(code, printable(&text, MAX_EVIDENCE_CHARS)));
        }
    }

    fn warn(&mut self, subject: &str, what: &str) {
        let text = format!("attachment {subject}: {what}");
        self.warnings.push(printable(&text, MAX_EVIDENCE_CHARS));
    }

    fn attachment(&mut self, index: usize, attachment: &Attachment) {
        let subject = match attachment.name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(name) => printable(name, 100),
            None => format!(
                "unnamed attachment {index} ({})",
                printable(&attachment.content_type, 60)
            ),
        };
        if let Some(name) = &attachment.name {
            self.name(&subject, name);
        }
        self.content(&subject, &attachment.data, Depth::Attachment);
    }

    fn name(&mut self, subject: &str, name: &str) {
        if let Some(c) = name.chars().find(|&c| is_bidi_control(c)) {
            self.add(
                Code::AttachmentRtlo,
                subject,
                &format!(
                    "name contains the bidirectional control [U+{:04X}], which makes it display as something else",
                    u32::from(c)
                ),
            );
        }
        let Some((stem, ext)) = split_extension(name) else {
            return;
        };
        let ext = ext.as_str();
        if MACRO_EXTS.contains(&ext) {
            self.add(
                Code::AttachmentMacro,
                subject,
                &format!("macro-enabled Office file (.{ext})"),
            );
        }
        if SHORTCUT_EXTS.contains(&ext) {
            self.add(
                Code::AttachmentShortcut,
                subject,
                &format!("Windows shortcut (.{ext})"),
            );
        }
        if DISK_EXTS.contains(&ext) {
            self.add(
                Code::AttachmentDiskImage,
                subject,
                &format!("disk image (.{ext})"),
            );
        }
        if HTML_EXTS.contains(&ext) {
            self.add(
                Code::AttachmentHtml,
                subject,
                &format!("HTML or SVG file (.{ext}), which can run script or show a sign-in form"),
            );
        }
        if SCRIPT_EXTS.contains(&ext) {
            self.add(
                Code::AttachmentScript,
                subject,
                &format!("executable or script (.{ext})"),
            );
        }
        if !is_dangerous(ext) {
            return;
        }
        let inner = split_extension(&stem).map(|(_, e)| e);
        if let Some(inner) = inner.filter(|e| DECOY_EXTS.contains(&e.as_str())) {
            self.add(
                Code::AttachmentDoubleExtension,
                subject,
                &format!("looks like .{inner} but is .{ext}"),
            );
        } else {
            let spaces = stem.chars().rev().take_while(|c| c.is_whitespace()).count();
            if spaces >= 3 {
                self.add(
                    Code::AttachmentDoubleExtension,
                    subject,
                    &format!("{spaces} spaces push the real extension .{ext} out of sight"),
                );
            }
        }
    }

    /// Judges `data` by what it is, not by what it is called.
    fn content(&mut self, subject: &str, data: &[u8], depth: Depth) {
        if data.starts_with(OLE_MAGIC) {
            self.ole(subject, data);
        } else if data.starts_with(ZIP_MAGIC) || data.starts_with(ZIP_EMPTY_MAGIC) {
            self.zip(subject, data, depth);
        } else if data.starts_with(LNK_MAGIC) {
            self.add(
                Code::AttachmentShortcut,
                subject,
                "Windows shortcut (LNK header)",
            );
        } else if data.starts_with(RAR4_MAGIC) || data.starts_with(RAR5_MAGIC) {
            if let Some(what) = rar_encryption(data) {
                self.add(Code::AttachmentEncryptedArchive, subject, what);
            }
        } else if data.starts_with(SEVEN_ZIP_MAGIC) {
            if let Some(what) = seven_zip_encryption(data) {
                self.add(Code::AttachmentEncryptedArchive, subject, what);
            }
        } else if let Some(what) = disk_image(data) {
            self.add(Code::AttachmentDiskImage, subject, what);
        } else if is_pe(data) {
            self.add(
                Code::AttachmentScript,
                subject,
                "Windows executable (MZ/PE header)",
            );
        } else if looks_like_html(data) {
            self.add(Code::AttachmentHtml, subject, "HTML or SVG content");
        }
    }

    fn ole(&mut self, subject: &str, data: &[u8]) {
        let file = match cfb::CompoundFile::open(Cursor::new(data)) {
            Ok(f) => f,
            Err(e) => {
                self.warn(subject, &format!("OLE2 file could not be read: {e}"));
                return;
            }
        };
        let mut macro_path = None;
        let mut encrypted = false;
        for entry in file.walk().take(MAX_OLE_ENTRIES) {
            let name = entry.name();
            if ["_VBA_PROJECT", "_VBA_PROJECT_CUR", "VBA", "Macros"]
                .iter()
                .any(|m| name.eq_ignore_ascii_case(m))
            {
                macro_path.get_or_insert_with(|| entry.path().display().to_string());
            }
            // How Office stores a password-protected document: the real file encrypted in
            // one stream of an OLE2 container.
            if name == "EncryptedPackage" {
                encrypted = true;
            }
        }
        if let Some(path) = macro_path {
            self.add(
                Code::AttachmentMacro,
                subject,
                &format!("OLE2 Office file with a VBA project ({path})"),
            );
        }
        if encrypted {
            self.add(
                Code::AttachmentEncryptedArchive,
                subject,
                "password-protected Office document (EncryptedPackage), unreadable to scanners",
            );
        }
    }

    fn zip(&mut self, subject: &str, data: &[u8], depth: Depth) {
        let mut archive = match zip::ZipArchive::new(Cursor::new(data)) {
            Ok(a) => a,
            Err(e) => {
                self.warn(subject, &format!("zip entries could not be listed: {e}"));
                return;
            }
        };
        let names: Vec<String> = (0..archive.len().min(MAX_ENTRIES))
            .map(|i| match archive.by_index_data(i) {
                Ok(entry) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
                Err(_) => String::new(),
            })
            .collect();
        let office = names.iter().any(|n| n == "[Content_Types].xml");
        if let Some(vba) = names
            .iter()
            .find(|n| n.to_ascii_lowercase().ends_with("vbaproject.bin"))
        {
            self.add(
                Code::AttachmentMacro,
                subject,
                &format!("Office file with a VBA project ({})", printable(vba, 60)),
            );
        }
        // An Office document is a zip of XML parts, and an archive inside an archive is
        // the second level: neither is unpacked further.
        if office || depth == Depth::InArchive {
            return;
        }
        if archive.len() > MAX_ENTRIES {
            self.warn(
                subject,
                &format!(
                    "{} zip entries; only the first {MAX_ENTRIES} were looked at",
                    archive.len()
                ),
            );
        }
        let mut encrypted: Vec<String> = Vec::new();
        for (i, entry_name) in names.iter().enumerate() {
            let inner = format!("{subject} → {}", printable(entry_name, 100));
            let (is_encrypted, declared, is_dir) = match archive.by_index_data(i) {
                Ok(e) => (e.encrypted(), e.size(), e.is_dir()),
                Err(e) => {
                    self.warn(&inner, &format!("entry could not be read: {e}"));
                    continue;
                }
            };
            if is_dir {
                continue;
            }
            self.name(&inner, entry_name);
            if is_encrypted {
                encrypted.push(entry_name.clone());
                continue;
            }
            let buf = match self.read_entry(&mut archive, i, declared, &inner) {
                Some(buf) => buf,
                None => continue,
            };
            self.content(&inner, &buf, Depth::InArchive);
        }
        if let Some(first) = encrypted.first() {
            let more = match encrypted.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            self.add(
                Code::AttachmentEncryptedArchive,
                subject,
                &format!(
                    "password-protected zip, scanners cannot look inside ({}{more})",
                    printable(first, 80)
                ),
            );
        }
    }

    /// Reads an archive entry: its first [`SNIFF_BYTES`] to recognise it, and all of it
    /// when it is an Office file (the macro check needs the whole file), never past the
    /// message's remaining decompression budget.
    fn read_entry<R: Read + std::io::Seek>(
        &mut self,
        archive: &mut zip::ZipArchive<R>,
        index: usize,
        declared: u64,
        subject: &str,
    ) -> Option<Vec<u8>> {
        let remaining = self.budget.saturating_sub(self.inflated);
        if remaining == 0 {
            if !self.budget_warned {
                self.budget_warned = true;
                self.warn(
                    subject,
                    &format!(
                        "decompression budget of {} bytes reached; later entries were not opened",
                        self.budget
                    ),
                );
            }
            return None;
        }
        let mut reader = match archive.by_index(index) {
            Ok(r) => r,
            Err(e) => {
                self.warn(subject, &format!("entry could not be opened: {e}"));
                return None;
            }
        };
        let mut buf = Vec::new();
        let sniff = SNIFF_BYTES.min(remaining);
        let read = (&mut reader).take(sniff).read_to_end(&mut buf);
        self.inflated += buf.len() as u64;
        if let Err(e) = read {
            self.warn(subject, &format!("entry could not be decompressed: {e}"));
            return None;
        }
        let office = buf.starts_with(OLE_MAGIC) || buf.starts_with(ZIP_MAGIC);
        if !office || (buf.len() as u64) < sniff {
            return Some(buf);
        }
        let remaining = self.budget.saturating_sub(self.inflated);
        if declared.saturating_sub(buf.len() as u64) > remaining {
            self.warn(
                subject,
                &format!("declares {declared} bytes, more than the {remaining} left to decompress; not opened"),
            );
            return None;
        }
        let before = buf.len() as u64;
        // The zip crate stops an entry at its declared size; `take` keeps the budget even
        // if that ever changes. One byte more than allowed tells a cut file from a whole one.
        let read = (&mut reader).take(remaining + 1).read_to_end(&mut buf);
        let got = buf.len() as u64 - before;
        self.inflated += got.min(remaining);
        if got > remaining {
            self.warn(
                subject,
                &format!("inflates past the {remaining} bytes left to decompress (declared {declared}); not checked"),
            );
            return None;
        }
        if let Err(e) = read {
            self.warn(subject, &format!("entry could not be decompressed: {e}"));
            return None;
        }
        Some(buf)
    }
}

/// `("invoice.pdf", "exe")` for `invoice.pdf.exe`: the extension lower-cased, after
/// dropping bidi controls and the trailing dots and spaces Windows ignores.
fn split_extension(name: &str) -> Option<(String, String)> {
    let clean: String = name.chars().filter(|&c| !is_bidi_control(c)).collect();
    let clean = clean.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    // Only the file name, not a folder in an archive path.
    let file = clean.rsplit(['/', '\\']).next().unwrap_or(clean);
    let (stem, ext) = file.rsplit_once('.')?;
    let ext = ext.trim().to_lowercase();
    if ext.is_empty() || ext.len() > 10 || stem.trim().is_empty() {
        return None;
    }
    Some((stem.to_owned(), ext))
}

fn is_dangerous(ext: &str) -> bool {
    [MACRO_EXTS, SHORTCUT_EXTS, DISK_EXTS, HTML_EXTS, SCRIPT_EXTS]
        .iter()
        .any(|list| list.contains(&ext))
}

fn disk_image(data: &[u8]) -> Option<&'static str> {
    if data.get(0x8001..0x8006) == Some(b"CD001") {
        return Some("ISO 9660 disk image (CD001 at 0x8001)");
    }
    if data.starts_with(b"vhdxfile") {
        return Some("VHDX disk image");
    }
    let footer = data
        .len()
        .checked_sub(512)
        .and_then(|at| data.get(at..at + 8));
    if data.starts_with(b"conectix") || footer == Some(b"conectix") {
        return Some("VHD disk image");
    }
    None
}

fn is_pe(data: &[u8]) -> bool {
    if !data.starts_with(b"MZ") {
        return false;
    }
    let Some(offset) = data.get(0x3C..0x40) else {
        return false;
    };
    let offset = u32::from_le_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
    offset.checked_add(4).and_then(|end| data.get(offset..end)) == Some(b"PE\0\0")
}

fn looks_like_html(data: &[u8]) -> bool {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let start = data
        .iter()
        .take(1024)
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let head = &data[start..data.len().min(start + 16)];
    let head = head.to_ascii_lowercase();
    [&b"<!doctype html"[..], b"<html", b"<svg", b"<script"]
        .iter()
        .any(|p| head.starts_with(p))
}

/// Reads a RAR5 variable-length integer at `at`; returns it and the position after it.
fn vint(data: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *data.get(at)?;
        at += 1;
        value |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

/// Whether a RAR archive says it is encrypted: header encryption (RAR5 archive
/// encryption header, RAR4 `MHD_PASSWORD`) or an encrypted file entry.
fn rar_encryption(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(RAR5_MAGIC) {
        let mut at = RAR5_MAGIC.len();
        for _ in 0..MAX_RAR_BLOCKS {
            // CRC32, header size, then the header: type, flags, [extra size], [data size].
            let (size, body) = vint(data, at + 4)?;
            let (kind, next) = vint(data, body)?;
            let (flags, next) = vint(data, next)?;
            let (extra, next) = if flags & 1 != 0 {
                vint(data, next)?
            } else {
                (0, next)
            };
            let (packed, _) = if flags & 2 != 0 {
                vint(data, next)?
            } else {
                (0, next)
            };
            let end = body.checked_add(usize::try_from(size).ok()?)?;
            match kind {
                4 => return Some("encrypted RAR archive (file names hidden too)"),
                2 if extra > 0 => {
                    let start = end.checked_sub(usize::try_from(extra).ok()?)?;
                    let mut rec = start;
                    while rec < end {
                        let (rsize, rbody) = vint(data, rec)?;
                        let (rtype, _) = vint(data, rbody)?;
                        if rtype == 1 {
                            return Some("RAR archive with encrypted files");
                        }
                        rec = rbody.checked_add(usize::try_from(rsize).ok()?)?;
                    }
                }
                5 => return None,
                _ => {}
            }
            at = end.checked_add(usize::try_from(packed).ok()?)?;
        }
        return None;
    }
    // RAR4: blocks of CRC(2) type(1) flags(2) size(2) [add size(4) when flags & 0x8000].
    let mut at = RAR4_MAGIC.len();
    for _ in 0..MAX_RAR_BLOCKS {
        let head = data.get(at..at + 7)?;
        let kind = head[2];
        let flags = u16::from_le_bytes([head[3], head[4]]);
        let size = u16::from_le_bytes([head[5], head[6]]) as usize;
        if size < 7 {
            return None;
        }
        match kind {
            0x73 if flags & 0x0080 != 0 => {
                return Some("encrypted RAR archive (file names hidden too)");
            }
            0x74 if flags & 0x0004 != 0 => return Some("RAR archive with encrypted files"),
            0x7B => return None,
            _ => {}
        }
        let add = if flags & 0x8000 != 0 {
            let a = data.get(at + 7..at + 11)?;
            u32::from_le_bytes([a[0], a[1], a[2], a[3]]) as usize
        } else {
            0
        };
        at = at.checked_add(size)?.checked_add(add)?;
    }
    None
}

/// Whether a 7z archive uses AES (coder id 06F10701) in its header: an encoded header
/// that needs it means the file names are hidden too (`-mhe`).
fn seven_zip_encryption(data: &[u8]) -> Option<&'static str> {
    const AES: &[u8] = &[0x06, 0xF1, 0x07, 0x01];
    let start = data.get(12..28)?;
    let offset = u64::from_le_bytes(start[..8].try_into().ok()?);
    let size = u64::from_le_bytes(start[8..].try_into().ok()?);
    let from = usize::try_from(offset).ok()?.checked_add(32)?;
    let to = from.checked_add(usize::try_from(size).ok()?)?;
    let header = data.get(from..to)?;
    if !header.windows(AES.len()).any(|w| w == AES) {
        return None;
    }
    match header.first() {
        // kEncodedHeader: the header itself is packed, here with AES.
        Some(0x17) => Some("encrypted 7z archive (file names hidden too)"),
        _ => Some("7z archive with encrypted files"),
    }
}

#[cfg(test)]
mod tests;
