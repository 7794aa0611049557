use std::io::Write;

use model::Attachment;
use proptest::prelude::*;
use zip::write::SimpleFileOptions;

use super::*;

fn file(name: &str, data: Vec<u8>) -> Attachment {
    Attachment {
        name: Some(name.into()),
        // Deliberately harmless: the checks must not believe it.
        content_type: "application/pdf".into(),
        size: data.len() as u64,
        sha256: String::new(),
        data,
    }
}

fn inspect(attachments: Vec<Attachment>) -> Inspection {
    check(&Mail {
        attachments,
        ..Mail::default()
    })
}

fn codes(i: &Inspection) -> Vec<Code> {
    let mut c: Vec<Code> = i.findings.iter().map(|f| f.code).collect();
    c.sort();
    c
}

/// A zip of `(name, content)` entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in entries {
        w.start_file(*name, options).expect("start zip entry");
        w.write_all(content).expect("write zip entry");
    }
    w.finish().expect("finish zip").into_inner()
}

/// A minimal Word document; with `vba`, one that carries a macro project as a .docm does.
fn ooxml(vba: bool) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", b"<?xml version=\"1.0\"?><Types/>"),
        ("word/document.xml", b"<w:document/>"),
    ];
    if vba {
        entries.push(("word/vbaProject.bin", &[0xD0, 0xCF, 0x11, 0xE0]));
    }
    zip_of(&entries)
}

/// An OLE2 compound file with the given storages and streams, as a legacy .doc is.
fn ole(storages: &[&str], streams: &[&str]) -> Vec<u8> {
    let mut f = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("create cfb");
    for s in storages {
        f.create_storage(s).expect("create storage");
    }
    for s in streams {
        let mut stream = f.create_stream(s).expect("create stream");
        stream
            .write_all(b"Attribute VB_Name")
            .expect("write stream");
    }
    f.flush().expect("flush cfb");
    f.into_inner().into_inner()
}

fn lnk() -> Vec<u8> {
    let mut data = LNK_MAGIC.to_vec();
    data.resize(76, 0);
    data
}

fn iso() -> Vec<u8> {
    let mut data = vec![0u8; 0x8800];
    data[0x8000] = 1;
    data[0x8001..0x8006].copy_from_slice(b"CD001");
    data
}

fn pe() -> Vec<u8> {
    let mut data = vec![0u8; 0x100];
    data[..2].copy_from_slice(b"MZ");
    data[0x3C] = 0x80;
    data[0x80..0x84].copy_from_slice(b"PE\0\0");
    data
}

/// Offsets of the first entry's local header (always 0 here) and central directory
/// record, found through the end-of-central-directory record.
fn first_entry(zip: &[u8]) -> (usize, usize) {
    let eocd = zip.len() - 22;
    assert_eq!(
        &zip[eocd..eocd + 4],
        b"PK\x05\x06",
        "no comment, so EOCD is last"
    );
    let cd = u32::from_le_bytes(zip[eocd + 16..eocd + 20].try_into().expect("4 bytes")) as usize;
    assert_eq!(&zip[cd..cd + 4], b"PK\x01\x02");
    (0, cd)
}

/// Sets the encryption bit of the general-purpose flags of the first entry, in both
/// headers. zip 9 keeps its ZipCrypto writer private and its AES writer would bring a
/// crypto stack into the build for one test; readers (ours included) decide "encrypted"
/// from this bit alone, so setting it is what an encrypted archive looks like to them.
fn set_encrypted(zip: &mut [u8]) {
    let (local, central) = first_entry(zip);
    zip[local + 6] |= 1;
    zip[central + 8] |= 1;
}

/// Writes `size` as the first entry's declared uncompressed size, in both headers.
fn declare_size(zip: &mut [u8], size: u32) {
    let (local, central) = first_entry(zip);
    zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
}

#[test]
fn names_alone() {
    use Code::*;
    let cases: &[(&str, &[Code])] = &[
        ("offer.docm", &[AttachmentMacro]),
        ("Budget.XLSM", &[AttachmentMacro]),
        (
            "invoice.pdf.exe",
            &[AttachmentScript, AttachmentDoubleExtension],
        ),
        (
            "INVOICE.PDF.EXE. ",
            &[AttachmentScript, AttachmentDoubleExtension],
        ),
        (
            "scan.docx .js",
            &[AttachmentScript, AttachmentDoubleExtension],
        ),
        (
            "document            .exe",
            &[AttachmentScript, AttachmentDoubleExtension],
        ),
        (
            "payment.pdf.html",
            &[AttachmentHtml, AttachmentDoubleExtension],
        ),
        (
            "invoice\u{202E}fdp.exe",
            &[AttachmentScript, AttachmentRtlo],
        ),
        ("photo\u{2066}gpj.scr", &[AttachmentScript, AttachmentRtlo]),
        ("shortcut.lnk", &[AttachmentShortcut]),
        ("portal.url", &[AttachmentShortcut]),
        ("setup.iso", &[AttachmentDiskImage]),
        ("disk.vhdx", &[AttachmentDiskImage]),
        ("statement.htm", &[AttachmentHtml]),
        ("logo.svg", &[AttachmentHtml]),
        ("update.ps1", &[AttachmentScript]),
        ("help.chm", &[AttachmentScript]),
        ("report.pdf", &[]),
        ("colleague.docx", &[]),
        ("archive.tar.gz", &[]),
        ("report.pdf.zip", &[]),
        ("my file.v2.final.xlsx", &[]),
        (".exe", &[]),
        ("noextension", &[]),
    ];
    for (name, want) in cases {
        let got = inspect(vec![file(name, b"plain bytes".to_vec())]);
        assert_eq!(codes(&got), *want, "{name:?}: {:?}", got.findings);
    }
}

#[test]
fn evidence_names_the_file_and_makes_controls_visible() {
    let got = inspect(vec![file("invoice\u{202E}fdp.exe", Vec::new())]);
    let rtlo = got
        .findings
        .iter()
        .find(|f| f.code == Code::AttachmentRtlo)
        .expect("an rtlo finding");
    assert!(
        rtlo.evidence.starts_with("invoice[U+202E]fdp.exe: "),
        "{}",
        rtlo.evidence
    );
    assert!(!rtlo.evidence.contains('\u{202E}'));
    let double = inspect(vec![file("invoice.pdf.exe", Vec::new())]);
    assert!(
        double
            .findings
            .iter()
            .any(|f| f.evidence == "invoice.pdf.exe: looks like .pdf but is .exe"),
        "{:?}",
        double.findings
    );
}

/// (name the sender gave, content, expected codes, a piece of one finding's evidence)
#[test]
fn content_decides_not_the_name() {
    use Code::*;
    let cases: Vec<(&str, Vec<u8>, &[Code], &str)> = vec![
        (
            "report.docx",
            ooxml(true),
            &[AttachmentMacro],
            "report.docx: Office file with a VBA project (word/vbaProject.bin)",
        ),
        ("report.docx", ooxml(false), &[], ""),
        (
            "old.doc",
            ole(
                &["/Macros", "/Macros/VBA"],
                &["/Macros/VBA/dir", "/WordDocument"],
            ),
            &[AttachmentMacro],
            "VBA project (/Macros)",
        ),
        (
            "book.xls",
            ole(&["/_VBA_PROJECT_CUR"], &["/_VBA_PROJECT_CUR/PROJECT"]),
            &[AttachmentMacro],
            "_VBA_PROJECT_CUR",
        ),
        (
            "clean.doc",
            ole(&[], &["/WordDocument", "/1Table"]),
            &[],
            "",
        ),
        (
            "locked.docx",
            ole(&[], &["/EncryptionInfo", "/EncryptedPackage"]),
            &[AttachmentEncryptedArchive],
            "password-protected Office document",
        ),
        (
            "invoice.pdf",
            lnk(),
            &[AttachmentShortcut],
            "invoice.pdf: Windows shortcut (LNK header)",
        ),
        ("scan.pdf", iso(), &[AttachmentDiskImage], "ISO 9660"),
        ("image.jpg", pe(), &[AttachmentScript], "MZ/PE"),
        (
            "statement.pdf",
            b"\xEF\xBB\xBF  <!DOCTYPE html><form>".to_vec(),
            &[AttachmentHtml],
            "HTML or SVG content",
        ),
        (
            "image.png",
            b"<svg onload=alert(1)>".to_vec(),
            &[AttachmentHtml],
            "HTML",
        ),
        ("notes.txt", b"MZ but not an executable".to_vec(), &[], ""),
    ];
    for (name, data, want, piece) in cases {
        let got = inspect(vec![file(name, data)]);
        assert_eq!(codes(&got), want, "{name}: {:?}", got.findings);
        assert!(
            want.is_empty() || got.findings.iter().any(|f| f.evidence.contains(piece)),
            "{name}: no evidence with {piece:?} in {:?}",
            got.findings
        );
        assert!(got.warnings.is_empty(), "{name}: {:?}", got.warnings);
    }
}

#[test]
fn zip_entries_get_the_name_and_macro_checks_one_level_deep() {
    let inner_zip = zip_of(&[("deeper.exe", b"MZ")]);
    let docx = ooxml(true);
    let lnk = lnk();
    let archive = zip_of(&[
        ("offer.docm", b"x"),
        ("cv.docx", &docx),
        ("folder/", b""),
        ("folder/photo.jpg", &lnk),
        ("setup.zip", &inner_zip),
        ("readme.txt", b"hello"),
    ]);
    let got = inspect(vec![file("jobs.zip", archive)]);
    let evidence: Vec<&str> = got.findings.iter().map(|f| f.evidence.as_str()).collect();
    assert_eq!(
        evidence,
        [
            "jobs.zip → offer.docm: macro-enabled Office file (.docm)",
            "jobs.zip → cv.docx: Office file with a VBA project (word/vbaProject.bin)",
            "jobs.zip → folder/photo.jpg: Windows shortcut (LNK header)",
        ],
        "the zip inside the zip is not opened: {evidence:?}"
    );
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
}

#[test]
fn encrypted_zip_entries_are_reported_once_per_archive() {
    let mut archive = zip_of(&[("salary.pdf", b"%PDF-1.7 secret"), ("b.txt", b"x")]);
    set_encrypted(&mut archive);
    let got = inspect(vec![file("offer.zip", archive)]);
    assert_eq!(codes(&got), [Code::AttachmentEncryptedArchive]);
    assert_eq!(
        got.findings[0].evidence,
        "offer.zip: password-protected zip, scanners cannot look inside (salary.pdf)"
    );
}

#[test]
fn an_unreadable_zip_is_a_warning() {
    let mut broken = b"PK\x03\x04".to_vec();
    broken.extend_from_slice(&[0xFF; 64]);
    let got = inspect(vec![file("files.zip", broken)]);
    assert!(got.findings.is_empty());
    assert_eq!(got.warnings.len(), 1);
    assert!(
        got.warnings[0].starts_with("attachment files.zip: zip entries could not be listed"),
        "{:?}",
        got.warnings
    );
}

#[test]
fn rar_and_7z_report_encryption_when_their_headers_say_so() {
    // RAR4: marker block, then a main header whose flags carry MHD_PASSWORD (0x0080).
    let mut rar4 = RAR4_MAGIC.to_vec();
    rar4.extend_from_slice(&[0, 0, 0x73, 0x80, 0x00, 13, 0, 0, 0, 0, 0, 0, 0]);
    // RAR4 with a file header flagged encrypted (0x0004) after a plain main header.
    let mut rar4_file = RAR4_MAGIC.to_vec();
    rar4_file.extend_from_slice(&[0, 0, 0x73, 0x00, 0x00, 13, 0, 0, 0, 0, 0, 0, 0]);
    rar4_file.extend_from_slice(&[0, 0, 0x74, 0x04, 0x80, 32, 0, 0, 0, 0, 0]);
    rar4_file.resize(rar4_file.len() + 21, 0);
    // RAR5: the first header is an archive encryption header (type 4).
    let mut rar5 = RAR5_MAGIC.to_vec();
    rar5.extend_from_slice(&[0, 0, 0, 0, 3, 4, 0, 0]);
    // 7z: start header pointing at an encoded header (0x17) that names the AES coder.
    let mut seven = SEVEN_ZIP_MAGIC.to_vec();
    seven.extend_from_slice(&[0, 4, 0, 0, 0, 0]);
    let header = [0x17u8, 0x06, 0x01, 0x04, 0x06, 0xF1, 0x07, 0x01, 0x00];
    seven.extend_from_slice(&0u64.to_le_bytes());
    seven.extend_from_slice(&(header.len() as u64).to_le_bytes());
    seven.extend_from_slice(&[0, 0, 0, 0]);
    seven.extend_from_slice(&header);
    let plain_rar4 = {
        let mut r = RAR4_MAGIC.to_vec();
        r.extend_from_slice(&[0, 0, 0x73, 0x00, 0x00, 13, 0, 0, 0, 0, 0, 0, 0]);
        r
    };
    let cases = [
        (rar4, Some("encrypted RAR archive (file names hidden too)")),
        (rar4_file, Some("RAR archive with encrypted files")),
        (rar5, Some("encrypted RAR archive (file names hidden too)")),
        (seven, Some("encrypted 7z archive (file names hidden too)")),
        (plain_rar4, None),
    ];
    for (i, (data, want)) in cases.into_iter().enumerate() {
        let got = inspect(vec![file("a.bin", data)]);
        let evidence: Vec<&str> = got.findings.iter().map(|f| f.evidence.as_str()).collect();
        match want {
            Some(w) => assert_eq!(evidence, [format!("a.bin: {w}")], "case {i}"),
            None => assert!(evidence.is_empty(), "case {i}: {evidence:?}"),
        }
    }
}

/// An OLE2 header followed by `len` zero bytes: compresses about a thousandfold, and
/// is read whole because it looks like an Office file.
fn bomb_entry(len: usize) -> Vec<u8> {
    let mut data = OLE_MAGIC.to_vec();
    data.resize(len, 0);
    data
}

#[test]
fn a_zip_bomb_declaring_its_size_is_not_opened() {
    let mut archive = zip_of(&[("offer.doc", &bomb_entry(64 << 20))]);
    declare_size(&mut archive, 1 << 30);
    assert!(archive.len() < 1 << 20, "{} bytes", archive.len());
    let mut inspector = Inspector::new(MAX_INFLATED_BYTES);
    inspector.attachment(1, &file("jobs.zip", archive));
    assert!(inspector.inflated <= SNIFF_BYTES, "{}", inspector.inflated);
    assert_eq!(inspector.warnings.len(), 1, "{:?}", inspector.warnings);
    assert!(
        inspector.warnings[0].contains("declares 1073741824 bytes"),
        "{:?}",
        inspector.warnings
    );
}

#[test]
fn a_zip_bomb_lying_about_its_size_stops_at_the_declared_size() {
    let mut archive = zip_of(&[("offer.doc", &bomb_entry(64 << 20))]);
    declare_size(&mut archive, 40_000);
    let mut inspector = Inspector::new(MAX_INFLATED_BYTES);
    inspector.attachment(1, &file("jobs.zip", archive));
    assert!(
        inspector.inflated <= 40_000,
        "read {} bytes",
        inspector.inflated
    );
    assert_eq!(inspector.warnings.len(), 1, "{:?}", inspector.warnings);
    assert!(
        inspector.warnings[0].contains("larger than its declared"),
        "{:?}",
        inspector.warnings
    );
}

#[test]
fn many_archives_share_one_decompression_budget() {
    let archive = zip_of(&[("offer.doc", &bomb_entry(1 << 20))]);
    let mut inspector = Inspector::new(MAX_INFLATED_BYTES);
    for i in 1..=30 {
        inspector.attachment(i, &file(&format!("jobs{i}.zip"), archive.clone()));
    }
    assert!(
        inspector.inflated <= MAX_INFLATED_BYTES,
        "{}",
        inspector.inflated
    );
    assert!(
        inspector.inflated >= MAX_INFLATED_BYTES - (1 << 20),
        "{}",
        inspector.inflated
    );
    let budget: Vec<&String> = inspector
        .warnings
        .iter()
        .filter(|w| w.contains("decompression budget"))
        .collect();
    assert_eq!(budget.len(), 1, "{:?}", inspector.warnings);
}

#[test]
fn entries_past_the_cap_are_not_looked_at() {
    let names: Vec<String> = (0..MAX_ENTRIES + 5).map(|i| format!("f{i}.txt")).collect();
    let mut entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    entries.push(("last.exe", b""));
    let got = inspect(vec![file("many.zip", zip_of(&entries))]);
    assert!(got.findings.is_empty(), "{:?}", got.findings);
    assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
    assert!(got.warnings[0].contains("1006 zip entries"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        magic in prop_oneof![
            Just(&b""[..]), Just(OLE_MAGIC), Just(ZIP_MAGIC), Just(ZIP_EMPTY_MAGIC), Just(LNK_MAGIC),
            Just(RAR4_MAGIC), Just(RAR5_MAGIC), Just(SEVEN_ZIP_MAGIC), Just(&b"MZ"[..]),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
        name in any::<String>(),
    ) {
        let mut data = magic.to_vec();
        data.extend_from_slice(&tail);
        let got = inspect(vec![file(&name, data)]);
        for f in &got.findings {
            prop_assert!(f.evidence.chars().count() <= MAX_EVIDENCE_CHARS + 1);
        }
    }

    #[test]
    fn damaged_real_files_never_panic(
        which in 0usize..4,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let mut data = match which {
            0 => ooxml(true),
            1 => ole(&["/Macros", "/Macros/VBA"], &["/Macros/VBA/dir"]),
            2 => zip_of(&[("a.docm", b"x"), ("b.doc", &ole(&["/VBA"], &[]))]),
            _ => iso(),
        };
        for (at, byte) in flips {
            let i = at.index(data.len());
            data[i] = byte;
        }
        let _ = inspect(vec![file("x.zip", data)]);
    }
}
