//! Attachments in their real formats, small but whole: a PDF with a correct
//! cross-reference table, Word and Excel files (OOXML zips, and with macros an OLE
//! `vbaProject.bin`), PNG and JPEG images, calendar invitations, CSV exports, voicemail
//! audio; and what attackers send: legacy Office files with a VBA project, Windows
//! shortcuts, ISO 9660 images, executables, HTML smuggling pages, encrypted archives.
//!
//! A scanner looks at these bytes, not only at the names, so the structures are the
//! real ones (signatures, headers, offsets, checksums); the payloads are inert text.

use std::io::{self, Cursor, Write};
use std::time::{Duration, SystemTime};

use fastrand::Rng;
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// One attachment.
#[derive(Clone, Debug)]
pub(super) struct File {
    pub content_type: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

impl File {
    pub(super) fn new(content_type: &'static str, name: impl Into<String>, bytes: Vec<u8>) -> File {
        File {
            content_type,
            name: name.into(),
            bytes,
        }
    }
}

pub(super) const PDF: &str = "application/pdf";
pub(super) const DOCX: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub(super) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub(super) const DOCM: &str = "application/vnd.ms-word.document.macroEnabled.12";
pub(super) const XLSM: &str = "application/vnd.ms-excel.sheet.macroEnabled.12";
pub(super) const XLS: &str = "application/vnd.ms-excel";
pub(super) const ZIP: &str = "application/zip";
pub(super) const PNG: &str = "image/png";
pub(super) const JPEG: &str = "image/jpeg";
pub(super) const CSV: &str = "text/csv";
pub(super) const ICS: &str = "application/ics";
pub(super) const HTML: &str = "text/html";
pub(super) const WAV: &str = "audio/wav";
pub(super) const OCTET: &str = "application/octet-stream";

/// `D:20261102091403+01'00'`, the PDF date of `at` in the clinic's time.
fn pdf_date(at: i64) -> String {
    let ts = Timestamp::from_second(at + super::LOCAL_OFFSET).unwrap_or(Timestamp::UNIX_EPOCH);
    format!(
        "D:{}+01'00'",
        ts.to_zoned(TimeZone::UTC).strftime("%Y%m%d%H%M%S")
    )
}

fn pdf_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'(');
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                out.push(c as u8);
            }
            // WinAnsi covers Latin-1; anything else is a replacement, as a cheap
            // generator would write it.
            c if (c as u32) < 0x100 => out.push(c as u32 as u8),
            _ => out.push(b'?'),
        }
    }
    out.push(b')');
}

/// What a PDF holds beyond its text.
#[derive(Default)]
pub(super) struct PdfExtras<'a> {
    /// A scanned page or a logo: a JPEG of this many bytes drawn on page 1.
    pub image_bytes: usize,
    /// A link annotation over the first lines of page 1 (phishing PDFs' "Open document").
    pub link: Option<&'a str>,
}

/// A PDF 1.7 file: Helvetica text, one content stream per page of `pages` (lines of
/// text), an optional JPEG and link, an Info dictionary and a correct xref table.
pub(super) fn pdf(
    rng: &mut Rng,
    title: &str,
    producer: &str,
    at: i64,
    pages: &[Vec<String>],
    extras: PdfExtras<'_>,
) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let page_count = pages.len().max(1);
    let has_image = extras.image_bytes > 0;
    // Objects: 1 catalog, 2 pages, 3-4 fonts, 5 info, 6 image, then page and content
    // pairs, then the link annotation.
    let first_page = 7;
    let annot = first_page + 2 * page_count;
    let mut object = |out: &mut Vec<u8>, n: usize, body: &[u8]| {
        while offsets.len() < n {
            offsets.push(0);
        }
        offsets[n - 1] = out.len();
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(
        &mut out,
        1,
        b"<< /Type /Catalog /Pages 2 0 R /Lang (en-GB) >>",
    );
    let kids: Vec<String> = (0..page_count)
        .map(|i| format!("{} 0 R", first_page + 2 * i))
        .collect();
    object(
        &mut out,
        2,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {page_count} >>",
            kids.join(" ")
        )
        .as_bytes(),
    );
    object(
        &mut out,
        3,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    object(
        &mut out,
        4,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    );
    let mut info = b"<< /Title ".to_vec();
    pdf_string(&mut info, title);
    info.extend_from_slice(b" /Producer ");
    pdf_string(&mut info, producer);
    info.extend_from_slice(b" /CreationDate ");
    pdf_string(&mut info, &pdf_date(at));
    info.extend_from_slice(b" /ModDate ");
    pdf_string(&mut info, &pdf_date(at));
    info.extend_from_slice(b" >>");
    object(&mut out, 5, &info);
    if has_image {
        let jpeg = jpeg(rng, extras.image_bytes);
        let mut body = format!(
            "<< /Type /XObject /Subtype /Image /Width 1654 /Height 2339 /ColorSpace /DeviceRGB \
             /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
            jpeg.len()
        )
        .into_bytes();
        body.extend_from_slice(&jpeg);
        body.extend_from_slice(b"\nendstream");
        object(&mut out, 6, &body);
    } else {
        object(&mut out, 6, b"null");
    }
    for i in 0..page_count {
        let lines = pages.get(i).map(Vec::as_slice).unwrap_or(&[]);
        let mut content: Vec<u8> = Vec::new();
        if has_image && i == 0 {
            content.extend_from_slice(b"q 595 0 0 842 0 0 cm /Im1 Do Q\n");
        }
        content.extend_from_slice(b"BT\n/F2 14 Tf\n56 780 Td\n16 TL\n");
        for (n, line) in lines.iter().enumerate() {
            if n == 1 {
                content.extend_from_slice(b"/F1 10 Tf\n");
            }
            pdf_string(&mut content, line);
            content.extend_from_slice(b" Tj T*\n");
        }
        content.extend_from_slice(b"ET\n");
        let annots = if i == 0 && extras.link.is_some() {
            format!(" /Annots [{annot} 0 R]")
        } else {
            String::new()
        };
        let xobject = if has_image {
            " /XObject << /Im1 6 0 R >>"
        } else {
            ""
        };
        object(
            &mut out,
            first_page + 2 * i,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R \
                 /F2 4 0 R >>{xobject} >> /Contents {} 0 R{annots} >>",
                first_page + 2 * i + 1
            )
            .as_bytes(),
        );
        let mut body = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        body.extend_from_slice(&content);
        body.extend_from_slice(b"endstream");
        object(&mut out, first_page + 2 * i + 1, &body);
    }
    let mut size = annot;
    if let Some(link) = extras.link {
        let mut body = b"<< /Type /Annot /Subtype /Link /Rect [56 600 540 790] /Border [0 0 0] /A << /S /URI /URI "
            .to_vec();
        pdf_string(&mut body, link);
        body.extend_from_slice(b" >> >>");
        object(&mut out, annot, &body);
        size += 1;
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f \n").as_bytes());
    for offset in offsets.iter().take(size - 1) {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    let id = super::text::hex(rng, 32, false);
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {size} /Root 1 0 R /Info 5 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}

/// A JPEG of about `size` bytes: JFIF, quantisation and frame headers, entropy-coded
/// noise (0xFF stuffed as the format requires) and the end marker.
pub(super) fn jpeg(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out: Vec<u8> = vec![
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x01, 0x00,
        0x96, 0x00, 0x96, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00,
    ];
    for i in 0..64u8 {
        out.push(2 + i / 4);
    }
    out.extend_from_slice(&[
        0xff, 0xc0, 0x00, 0x11, 0x08, 0x09, 0x23, 0x06, 0x76, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11,
        0x01, 0x03, 0x11, 0x01, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11,
        0x00, 0x3f, 0x00,
    ]);
    let start = out.len();
    out.resize(start + size.saturating_sub(start + 2).max(64), 0);
    rng.fill(&mut out[start..]);
    for i in start..out.len() {
        if out[i] == 0xff && i + 1 < out.len() {
            out[i + 1] = 0x00;
        }
    }
    if out.last() == Some(&0xff) {
        out.pop();
    }
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// CRC-32 as PNG and zip use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

/// What a PNG shows; decides how well it compresses, so how big it is.
#[derive(Clone, Copy)]
pub(super) enum Picture {
    /// A flat logo: a few colour blocks.
    Logo,
    /// A screenshot: window chrome, text-like rows, some noise.
    Screenshot,
    /// A QR code: black and white modules with finder patterns.
    QrCode,
}

/// A PNG (8-bit RGB, zlib-compressed) of `width` × `height`.
pub(super) fn png(rng: &mut Rng, width: u32, height: u32, picture: Picture) -> io::Result<Vec<u8>> {
    let (w, h) = (width as usize, height as usize);
    let mut raw = Vec::with_capacity((w * 3 + 1) * h);
    let colour = [rng.u8(..), rng.u8(..), rng.u8(..)];
    let qr: Vec<bool> = (0..33 * 33).map(|_| rng.bool()).collect();
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            let px = match picture {
                Picture::Logo => {
                    if x < h && (x + y) % 7 < 4 {
                        colour
                    } else if y > h / 3 && y < 2 * h / 3 && x > h + 4 && (x / 6) % 5 != 0 {
                        [40, 50, 70]
                    } else {
                        [255, 255, 255]
                    }
                }
                Picture::Screenshot => {
                    // Title bar, then lines of "text": glyph-sized blocks, some inked,
                    // with anti-aliasing noise at the edges of the ink.
                    let glyph = (x / 4).wrapping_mul(2_654_435_761)
                        ^ (y / 14).wrapping_mul(40_503)
                        ^ usize::from(colour[0]);
                    if y < 24 {
                        [32, 96, 160]
                    } else if y % 14 < 9 && (y / 14) % 3 != 2 && x % 420 < 320 && glyph % 5 < 3 {
                        let edge = if x % 4 == 0 { rng.u8(..64) } else { 0 };
                        [40 + edge, 40 + edge, 48 + edge]
                    } else {
                        [250, 250, 250]
                    }
                }
                Picture::QrCode => {
                    let (mx, my) = (x * 41 / w.max(1), y * 41 / h.max(1));
                    let dark = if !(4..37).contains(&mx) || !(4..37).contains(&my) {
                        false
                    } else {
                        let (qx, qy) = (mx - 4, my - 4);
                        let finder = |cx: usize, cy: usize| {
                            let (dx, dy) = (qx.abs_diff(cx), qy.abs_diff(cy));
                            let d = dx.max(dy);
                            (d <= 3).then_some(d != 2)
                        };
                        finder(3, 3)
                            .or_else(|| finder(29, 3))
                            .or_else(|| finder(3, 29))
                            .unwrap_or(qr[qy * 33 + qx])
                    };
                    if dark { [0, 0, 0] } else { [255, 255, 255] }
                }
            };
            raw.extend_from_slice(&px);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    z.write_all(&raw)?;
    let idat = z.finish()?;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8; 4], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc_input);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"sRGB", &[0]);
    chunk(b"pHYs", &[0, 0, 0x0e, 0xc4, 0, 0, 0x0e, 0xc4, 1]);
    chunk(b"IDAT", &idat);
    chunk(b"IEND", &[]);
    Ok(out)
}

fn zip_time(at: i64) -> zip::DateTime {
    let ts = Timestamp::from_second(at + super::LOCAL_OFFSET).unwrap_or(Timestamp::UNIX_EPOCH);
    let dt = ts.to_zoned(TimeZone::UTC).datetime();
    zip::DateTime::from_date_and_time(
        dt.year() as u16,
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
    )
    .unwrap_or_default()
}

/// A deflated zip of `entries`, dated `at`.
pub(super) fn zip(entries: &[(&str, &[u8])], at: i64) -> io::Result<Vec<u8>> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip_time(at));
        for (name, body) in entries {
            zip.start_file(*name, options).map_err(io::Error::other)?;
            zip.write_all(body)?;
        }
        zip.finish().map_err(io::Error::other)?;
    }
    Ok(buf.into_inner())
}

/// A password-protected (ZipCrypto) zip: each entry's 12-byte encryption header and
/// ciphertext, which look like noise, stored with the encryption flag set.
pub(super) fn encrypted_zip(rng: &mut Rng, entries: &[(&str, usize)], at: i64) -> Vec<u8> {
    let time = zip_time(at);
    let (date, clock) = (time.datepart(), time.timepart());
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, size) in entries {
        let mut data = vec![0u8; size + 12];
        rng.fill(&mut data);
        let crc = crc32(&data);
        let offset = out.len() as u32;
        let header = |sig: &[u8], central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // needed
            h.extend_from_slice(&1u16.to_le_bytes()); // flags: encrypted
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&clock.to_le_bytes());
            h.extend_from_slice(&date.to_le_bytes());
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&((data.len() - 12) as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
                h.extend_from_slice(&0x20u32.to_le_bytes()); // archive bit
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend_from_slice(&header(b"PK\x03\x04", false));
        out.extend_from_slice(&data);
        central.extend_from_slice(&header(b"PK\x01\x02", true));
    }
    let central_at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n";

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn core_properties(author: &str, at: i64) -> String {
    let ts = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH);
    let when = ts.strftime("%Y-%m-%dT%H:%M:%SZ");
    format!(
        "{XML}<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:creator>{a}</dc:creator>\
         <cp:lastModifiedBy>{a}</cp:lastModifiedBy><cp:revision>{r}</cp:revision>\
         <dcterms:created xsi:type=\"dcterms:W3CDTF\">{when}</dcterms:created>\
         <dcterms:modified xsi:type=\"dcterms:W3CDTF\">{when}</dcterms:modified></cp:coreProperties>",
        a = xml_text(author),
        r = 1 + at % 17,
    )
}

fn app_properties(application: &str) -> String {
    format!(
        "{XML}<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\">\
         <Application>{application}</Application><DocSecurity>0</DocSecurity><AppVersion>16.0000</AppVersion></Properties>"
    )
}

const PACKAGE_RELS: &str = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties\" Target=\"docProps/app.xml\"/>\
<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"{main}\"/>\
</Relationships>";

/// A Word document (`.docx`), or with `vba` a macro-enabled one (`.docm`) carrying
/// `word/vbaProject.bin`.
pub(super) fn word(
    author: &str,
    at: i64,
    paragraphs: &[String],
    vba: Option<&[u8]>,
) -> io::Result<Vec<u8>> {
    let main = if vba.is_some() {
        "application/vnd.ms-word.document.macroEnabled.main+xml"
    } else {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    };
    let content_types = format!(
        "{XML}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>{}\
         <Override PartName=\"/word/document.xml\" ContentType=\"{main}\"/>\
         <Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
         <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
         <Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/></Types>",
        if vba.is_some() {
            "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
        } else {
            ""
        }
    );
    let document_rels = format!(
        "{XML}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>{}\
         </Relationships>",
        if vba.is_some() {
            "<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" Target=\"vbaProject.bin\"/>"
        } else {
            ""
        }
    );
    let mut body = String::new();
    for (i, p) in paragraphs.iter().enumerate() {
        let style = if i == 0 {
            "<w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr>"
        } else {
            ""
        };
        body.push_str(&format!(
            "<w:p>{style}<w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            xml_text(p)
        ));
    }
    let document = format!(
        "{XML}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><w:body>{body}\
         <w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1440\" w:right=\"1440\" w:bottom=\"1440\" \
         w:left=\"1440\" w:header=\"708\" w:footer=\"708\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    );
    let styles = format!(
        "{XML}<w:styles xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Aptos\" w:hAnsi=\"Aptos\"/><w:sz w:val=\"22\"/>\
         </w:rPr></w:rPrDefault></w:docDefaults><w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\">\
         <w:name w:val=\"Normal\"/></w:style><w:style w:type=\"paragraph\" w:styleId=\"Heading1\">\
         <w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/><w:rPr><w:b/><w:sz w:val=\"32\"/></w:rPr></w:style></w:styles>"
    );
    let rels = format!(
        "{XML}{}",
        PACKAGE_RELS.replace("{main}", "word/document.xml")
    );
    let core = core_properties(author, at);
    let app = app_properties("Microsoft Office Word");
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", content_types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", document_rels.as_bytes()),
        ("word/styles.xml", styles.as_bytes()),
        ("docProps/core.xml", core.as_bytes()),
        ("docProps/app.xml", app.as_bytes()),
    ];
    if let Some(vba) = vba {
        entries.push(("word/vbaProject.bin", vba));
    }
    zip(&entries, at)
}

/// A workbook (`.xlsx`), or with `vba` a macro-enabled one (`.xlsm`). Text cells are
/// inline strings; cells that read as numbers are numbers.
pub(super) fn workbook(
    author: &str,
    at: i64,
    sheet: &str,
    rows: &[Vec<String>],
    vba: Option<&[u8]>,
) -> io::Result<Vec<u8>> {
    let main = if vba.is_some() {
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    };
    let content_types = format!(
        "{XML}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>{}\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"{main}\"/>\
         <Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
         <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
         <Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/></Types>",
        if vba.is_some() {
            "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
        } else {
            ""
        }
    );
    let workbook = format!(
        "{XML}<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
         <sheets><sheet name=\"{}\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
        xml_text(sheet)
    );
    let workbook_rels = format!(
        "{XML}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" \
         Target=\"worksheets/sheet1.xml\"/>{}</Relationships>",
        if vba.is_some() {
            "<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" Target=\"vbaProject.bin\"/>"
        } else {
            ""
        }
    );
    let mut data = String::new();
    for (r, row) in rows.iter().enumerate() {
        data.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, cell) in row.iter().enumerate() {
            let col = (b'A' + (c % 26) as u8) as char;
            let at = format!("{col}{}", r + 1);
            if !cell.is_empty() && cell.parse::<f64>().is_ok() {
                data.push_str(&format!("<c r=\"{at}\"><v>{cell}</v></c>"));
            } else {
                data.push_str(&format!(
                    "<c r=\"{at}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                    xml_text(cell)
                ));
            }
        }
        data.push_str("</row>");
    }
    let worksheet = format!(
        "{XML}<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{data}</sheetData></worksheet>"
    );
    let rels = format!("{XML}{}", PACKAGE_RELS.replace("{main}", "xl/workbook.xml"));
    let core = core_properties(author, at);
    let app = app_properties("Microsoft Excel");
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", content_types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", worksheet.as_bytes()),
        ("docProps/core.xml", core.as_bytes()),
        ("docProps/app.xml", app.as_bytes()),
    ];
    if let Some(vba) = vba {
        entries.push(("xl/vbaProject.bin", vba));
    }
    zip(&entries, at)
}

/// MS-OVBA "compression" with raw chunks only: the signature byte, then 4096-byte
/// chunks each under a header that says "not compressed". Valid, and what a VBA
/// reader decompresses.
fn ovba(source: &str) -> Vec<u8> {
    let mut out = vec![0x01];
    for chunk in source.as_bytes().chunks(4096) {
        out.extend_from_slice(&0x3fffu16.to_le_bytes());
        out.extend_from_slice(chunk);
        out.resize(out.len() + 4096 - chunk.len(), b' ');
    }
    out
}

/// Writes a VBA project (PROJECT, `VBA/_VBA_PROJECT`, `VBA/dir`, one module per
/// `(name, source)`) under `root` of a compound file.
fn vba_storage<F: io::Read + io::Write + io::Seek>(
    file: &mut cfb::CompoundFile<F>,
    root: &str,
    modules: &[(&str, &str)],
    at: SystemTime,
) -> io::Result<()> {
    let vba = format!("{root}/VBA");
    file.create_storage_all(&vba)?;
    file.set_created_time(&vba, at)?;
    file.set_modified_time(&vba, at)?;
    let mut project = String::from("ID=\"{5E5A1D31-0C35-4E1B-9E22-0B7A3C9F4D21}\"\r\n");
    for (name, _) in modules {
        if name.starts_with("This") {
            project.push_str(&format!("Document={name}/&H00000000\r\n"));
        } else {
            project.push_str(&format!("Module={name}\r\n"));
        }
    }
    project.push_str(
        "Name=\"Project\"\r\nHelpContextID=\"0\"\r\nVersionCompatible32=\"393222000\"\r\n\
         CMG=\"C7C5D1D1D5D1D5D1D5D1D5\"\r\nDPB=\"C0C2D6D2D6D2D6\"\r\nGC=\"C2C0D4D4D4\"\r\n\r\n[Host Extender Info]\r\n\
         &H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000\r\n",
    );
    file.create_stream(format!("{root}/PROJECT"))?
        .write_all(project.as_bytes())?;
    file.create_stream(format!("{vba}/_VBA_PROJECT"))?
        .write_all(&[0xcc, 0x61, 0xff, 0xff, 0x00, 0x00, 0x00])?;
    let mut dir = String::from("\u{1}\u{0}\u{4}\u{0}\u{0}\u{0}\u{3}\u{0}\u{0}\u{0}Project");
    for (name, _) in modules {
        dir.push_str(&format!("\u{19}\u{0}{name}\u{47}\u{0}{name}"));
    }
    file.create_stream(format!("{vba}/dir"))?
        .write_all(&ovba(&dir))?;
    for (name, source) in modules {
        file.create_stream(format!("{vba}/{name}"))?
            .write_all(&ovba(source))?;
    }
    Ok(())
}

fn system_time(at: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(at.max(0) as u64)
}

/// An OLE compound file holding a VBA project: the `vbaProject.bin` of a `.docm` or
/// `.xlsm`. Times are set from `at` so that the bytes depend on nothing else.
pub(super) fn vba_project(at: i64, modules: &[(&str, &str)]) -> io::Result<Vec<u8>> {
    let at = system_time(at);
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new()))?;
    file.set_created_time("/", at)?;
    file.set_modified_time("/", at)?;
    vba_storage(&mut file, "", modules, at)?;
    file.flush()?;
    Ok(file.into_inner().into_inner())
}

/// A legacy Excel workbook (`.xls`, BIFF8 in an OLE compound file) with a VBA project
/// under `_VBA_PROJECT_CUR`.
pub(super) fn legacy_workbook_with_macros(
    at: i64,
    modules: &[(&str, &str)],
) -> io::Result<Vec<u8>> {
    let time = system_time(at);
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new()))?;
    file.set_created_time("/", time)?;
    file.set_modified_time("/", time)?;
    // BOF (workbook globals, BIFF8), a codepage record and EOF.
    let mut workbook = vec![0x09, 0x08, 0x10, 0x00, 0x00, 0x06, 0x05, 0x00];
    workbook.extend_from_slice(&[
        0xbb, 0x0d, 0xcc, 0x07, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00,
    ]);
    workbook.extend_from_slice(&[0x42, 0x00, 0x02, 0x00, 0xb0, 0x04]);
    workbook.resize(4096 + (at as usize % 2048), 0);
    workbook.extend_from_slice(&[0x0a, 0x00, 0x00, 0x00]);
    file.create_stream("/Workbook")?.write_all(&workbook)?;
    file.create_storage("/_VBA_PROJECT_CUR")?;
    file.set_created_time("/_VBA_PROJECT_CUR", time)?;
    file.set_modified_time("/_VBA_PROJECT_CUR", time)?;
    vba_storage(&mut file, "/_VBA_PROJECT_CUR", modules, time)?;
    file.flush()?;
    Ok(file.into_inner().into_inner())
}

/// A Windows shortcut (MS-SHLLINK): the 76-byte header with the LinkCLSID, then the
/// name, relative path, arguments and icon as counted UTF-16 strings.
pub(super) fn lnk(name: &str, target: &str, arguments: &str, icon: &str) -> Vec<u8> {
    let mut b: Vec<u8> = Vec::new();
    b.extend_from_slice(&0x4cu32.to_le_bytes());
    b.extend_from_slice(&[
        0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x46,
    ]);
    // HasName, HasRelativePath, HasArguments, HasIconLocation, IsUnicode.
    b.extend_from_slice(&0xecu32.to_le_bytes());
    b.extend_from_slice(&0x20u32.to_le_bytes()); // FILE_ATTRIBUTE_ARCHIVE
    b.extend_from_slice(&[0; 24]); // times
    b.extend_from_slice(&0u32.to_le_bytes()); // file size
    b.extend_from_slice(&0u32.to_le_bytes()); // icon index
    b.extend_from_slice(&7u32.to_le_bytes()); // SW_SHOWMINNOACTIVE
    b.extend_from_slice(&[0; 12]); // hot key, reserved
    for s in [name, target, arguments, icon] {
        let units: Vec<u16> = s.encode_utf16().collect();
        b.extend_from_slice(&(units.len() as u16).to_le_bytes());
        for u in units {
            b.extend_from_slice(&u.to_le_bytes());
        }
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b
}

/// A Windows executable's first bytes (DOS header and stub, PE header for x86-64, one
/// section) followed by `size` bytes of code-like noise.
pub(super) fn executable(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut b = vec![0u8; 0x80];
    b[0] = b'M';
    b[1] = b'Z';
    b[0x3c] = 0x80;
    b[0x40..0x40 + 39].copy_from_slice(b"This program cannot be run in DOS mode.");
    b.extend_from_slice(b"PE\0\0");
    b.extend_from_slice(&0x8664u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&[0; 12]);
    b.extend_from_slice(&0xf0u16.to_le_bytes());
    b.extend_from_slice(&0x22u16.to_le_bytes());
    b.resize(0x400, 0);
    let start = b.len();
    b.resize(start + size, 0);
    rng.fill(&mut b[start..]);
    b
}

/// An ISO 9660 image holding `files` in its root directory: system area, primary volume
/// descriptor, terminator, path tables, the root directory and the files' extents.
pub(super) fn iso(volume: &str, files: &[(&str, &[u8])], at: i64) -> Vec<u8> {
    const SECTOR: usize = 2048;
    let both32 = |v: u32| -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&v.to_le_bytes());
        b[4..].copy_from_slice(&v.to_be_bytes());
        b
    };
    let both16 = |v: u16| -> [u8; 4] {
        let mut b = [0u8; 4];
        b[..2].copy_from_slice(&v.to_le_bytes());
        b[2..].copy_from_slice(&v.to_be_bytes());
        b
    };
    let ts = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH);
    let dt = ts.to_zoned(TimeZone::UTC).datetime();
    let recorded = [
        (dt.year() - 1900) as u8,
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
        0,
    ];
    let record = |extent: u32, length: u32, flags: u8, name: &[u8]| -> Vec<u8> {
        let mut r = vec![0u8; 33];
        r[2..10].copy_from_slice(&both32(extent));
        r[10..18].copy_from_slice(&both32(length));
        r[18..25].copy_from_slice(&recorded);
        r[25] = flags;
        r[28..32].copy_from_slice(&both16(1));
        r[32] = name.len() as u8;
        r.extend_from_slice(name);
        if r.len() % 2 == 1 {
            r.push(0);
        }
        r[0] = r.len() as u8;
        r
    };
    let root_extent = 20u32;
    let mut next = root_extent + 1;
    let mut directory = record(root_extent, SECTOR as u32, 2, &[0]);
    directory.extend(record(root_extent, SECTOR as u32, 2, &[1]));
    let mut extents = Vec::new();
    for (name, body) in files {
        let iso_name = format!("{};1", name.to_ascii_uppercase());
        directory.extend(record(next, body.len() as u32, 0, iso_name.as_bytes()));
        extents.push(next);
        next += body.len().div_ceil(SECTOR).max(1) as u32;
    }
    let total = next as usize;
    let mut out = vec![0u8; total * SECTOR];
    let pvd = &mut out[16 * SECTOR..17 * SECTOR];
    pvd[0] = 1;
    pvd[1..6].copy_from_slice(b"CD001");
    pvd[6] = 1;
    let volume_id = format!("{:<32}", volume.to_ascii_uppercase());
    pvd[40..72].copy_from_slice(&volume_id.as_bytes()[..32]);
    pvd[80..88].copy_from_slice(&both32(total as u32));
    pvd[120..124].copy_from_slice(&both16(1));
    pvd[124..128].copy_from_slice(&both16(1));
    pvd[128..132].copy_from_slice(&both16(SECTOR as u16));
    pvd[132..140].copy_from_slice(&both32(10));
    pvd[140..144].copy_from_slice(&18u32.to_le_bytes());
    pvd[148..152].copy_from_slice(&19u32.to_be_bytes());
    let root = record(root_extent, SECTOR as u32, 2, &[0]);
    pvd[156..156 + 34].copy_from_slice(&root[..34]);
    pvd[881] = 1;
    let terminator = &mut out[17 * SECTOR..18 * SECTOR];
    terminator[0] = 255;
    terminator[1..6].copy_from_slice(b"CD001");
    terminator[6] = 1;
    let path_le = [1u8, 0, 20, 0, 0, 0, 1, 0, 0, 0];
    out[18 * SECTOR..18 * SECTOR + 10].copy_from_slice(&path_le);
    let path_be = [1u8, 0, 0, 0, 0, 20, 0, 1, 0, 0];
    out[19 * SECTOR..19 * SECTOR + 10].copy_from_slice(&path_be);
    let at_root = root_extent as usize * SECTOR;
    out[at_root..at_root + directory.len()].copy_from_slice(&directory);
    for ((_, body), extent) in files.iter().zip(extents) {
        let at = extent as usize * SECTOR;
        out[at..at + body.len()].copy_from_slice(body);
    }
    out
}

/// A voicemail recording: RIFF/WAVE, G.711 µ-law at 8 kHz, `seconds` long.
pub(super) fn wav(rng: &mut Rng, seconds: u32) -> Vec<u8> {
    let samples = 8_000 * seconds as usize;
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&((samples + 38) as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&18u32.to_le_bytes());
    b.extend_from_slice(&7u16.to_le_bytes()); // µ-law
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8_000u32.to_le_bytes());
    b.extend_from_slice(&8_000u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(samples as u32).to_le_bytes());
    let start = b.len();
    b.resize(start + samples, 0);
    // Speech-like: quiet most of the time (µ-law 0xff is silence), bursts of noise.
    let mut loud = false;
    for (i, s) in b[start..].iter_mut().enumerate() {
        if i % 800 == 0 {
            loud = rng.u8(..3) != 0;
        }
        *s = if loud { rng.u8(..) } else { 0xfe | rng.u8(..2) };
    }
    b
}

/// A calendar invitation as Exchange writes it (METHOD:REQUEST, Windows time zone).
pub(super) struct Invitation<'a> {
    pub organiser: (&'a str, &'a str),
    pub attendees: &'a [(String, String)],
    pub summary: &'a str,
    pub description: &'a str,
    pub location: &'a str,
    /// Local start, `20261105T100000`, and length in minutes.
    pub start: String,
    pub minutes: i64,
    pub uid: String,
    pub stamp: i64,
}

pub(super) fn ics(invitation: &Invitation<'_>) -> String {
    let end = {
        let parsed: jiff::civil::DateTime = invitation
            .start
            .parse()
            .unwrap_or_else(|_| jiff::civil::date(2026, 11, 2).at(9, 0, 0, 0));
        parsed
            .checked_add(jiff::Span::new().minutes(invitation.minutes))
            .unwrap_or(parsed)
            .strftime("%Y%m%dT%H%M%S")
            .to_string()
    };
    let stamp = Timestamp::from_second(invitation.stamp)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y%m%dT%H%M%SZ");
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n\
         BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\n\
         END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
         RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n",
    );
    out.push_str(&format!(
        "ORGANIZER;CN={}:mailto:{}\r\n",
        invitation.organiser.0, invitation.organiser.1
    ));
    for (name, address) in invitation.attendees {
        out.push_str(&format!(
            "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN={name}:mailto:{address}\r\n"
        ));
    }
    let description = invitation.description.replace("\r\n", "\\n");
    out.push_str(&format!(
        "DESCRIPTION;LANGUAGE=en-GB:{description}\r\nUID:{uid}\r\nSUMMARY;LANGUAGE=en-GB:{summary}\r\n\
         DTSTART;TZID=W. Europe Standard Time:{start}\r\nDTEND;TZID=W. Europe Standard Time:{end}\r\n\
         CLASS:PUBLIC\r\nPRIORITY:5\r\nDTSTAMP:{stamp}\r\nTRANSP:OPAQUE\r\nSTATUS:CONFIRMED\r\nSEQUENCE:0\r\n\
         LOCATION;LANGUAGE=en-GB:{location}\r\nX-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n\
         BEGIN:VALARM\r\nDESCRIPTION:REMINDER\r\nTRIGGER;RELATED=START:-PT15M\r\nACTION:DISPLAY\r\nEND:VALARM\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        uid = invitation.uid,
        summary = invitation.summary,
        start = invitation.start,
        location = invitation.location,
    ));
    fold_ics(&out)
}

/// iCalendar lines longer than 75 octets folded with CRLF and a space (RFC 5545).
fn fold_ics(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 70);
    for line in text.split_inclusive("\r\n") {
        let content = line.trim_end_matches("\r\n");
        let mut width = 0;
        for c in content.chars() {
            if width + c.len_utf8() > 74 {
                out.push_str("\r\n ");
                width = 1;
            }
            out.push(c);
            width += c.len_utf8();
        }
        out.push_str("\r\n");
    }
    out
}

/// Rows as CSV with CRLF, quoting cells that need it.
pub(super) fn csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_zip_lists_its_entries_as_encrypted() {
        let mut rng = Rng::with_seed(1);
        let bytes = encrypted_zip(
            &mut rng,
            &[("Invoice_1.pdf.exe", 100), ("b.csv", 10)],
            1_793_595_600,
        );
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
        assert_eq!(archive.len(), 2);
        let first = archive.by_index_raw(0).expect("entry");
        assert_eq!(first.name().expect("a name"), "Invoice_1.pdf.exe");
        assert!(first.encrypted());
        assert_eq!(first.compressed_size(), 112);
    }

    #[test]
    fn office_files_are_zips_with_their_parts_and_macros_an_ole_project() {
        let vba = vba_project(
            1_793_595_600,
            &[("Module1", "Sub AutoOpen()\r\nEnd Sub\r\n")],
        )
        .expect("memory");
        assert!(vba.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"));
        assert_eq!(
            vba,
            vba_project(
                1_793_595_600,
                &[("Module1", "Sub AutoOpen()\r\nEnd Sub\r\n")]
            )
            .expect("memory"),
            "no clock in the compound file"
        );
        let docm = word("A", 1_793_595_600, &["Title".into()], Some(&vba)).expect("memory");
        let mut archive = zip::ZipArchive::new(Cursor::new(docm)).expect("a zip");
        assert!(archive.by_name("word/vbaProject.bin").is_ok());
        assert!(archive.by_name("word/document.xml").is_ok());
        let xls = legacy_workbook_with_macros(1_793_595_600, &[("Module1", "Sub A()\r\nEnd Sub")])
            .expect("memory");
        let ole = cfb::CompoundFile::open(Cursor::new(xls)).expect("an OLE file");
        assert!(ole.exists("/_VBA_PROJECT_CUR/VBA/dir"));
        assert!(ole.exists("/Workbook"));
    }

    #[test]
    fn a_pdf_cross_reference_table_points_at_its_objects() {
        let mut rng = Rng::with_seed(2);
        let pages = vec![vec!["Invoice (1)".to_owned(), "Total: 10,00 €".to_owned()]; 2];
        let extras = PdfExtras {
            image_bytes: 5_000,
            link: Some("https://example.org/a"),
        };
        let pdf = pdf(&mut rng, "T", "P", 1_793_595_600, &pages, extras);
        // Offsets are bytes (the file has binary parts): read it as Latin-1, one char a byte.
        let text: Vec<u8> = pdf.clone();
        let at = |offset: usize, expected: &str| text[offset..].starts_with(expected.as_bytes());
        let marker = b"startxref\n";
        let found = text
            .windows(marker.len())
            .rposition(|w| w == marker)
            .expect("startxref");
        let tail = String::from_utf8_lossy(&text[found + marker.len()..]);
        let start: usize = tail
            .lines()
            .next()
            .and_then(|n| n.parse().ok())
            .expect("offset");
        assert!(at(start, "xref\n0 "));
        let table = String::from_utf8_lossy(&text[start..]);
        let entries: Vec<usize> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().expect("offset"))
            .collect();
        assert_eq!(
            entries.len(),
            11,
            "six fixed objects, two per page, the link"
        );
        for (i, offset) in entries.iter().enumerate() {
            assert!(at(*offset, &format!("{} 0 obj", i + 1)), "object {}", i + 1);
        }
    }

    #[test]
    fn images_and_disk_images_have_their_signatures() {
        let mut rng = Rng::with_seed(3);
        let png = png(&mut rng, 40, 20, Picture::QrCode).expect("memory");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR's CRC covers its type and data.
        assert_eq!(&png[29..33], &crc32(&png[12..29]).to_be_bytes());
        let iso = iso("VOL", &[("A.LNK", &lnk("a", "b", "c", "d"))], 1_793_595_600);
        assert_eq!(&iso[0x8001..0x8006], b"CD001");
        assert!(jpeg(&mut rng, 1_000).starts_with(&[0xff, 0xd8]));
        assert!(wav(&mut rng, 1).starts_with(b"RIFF"));
    }
}
