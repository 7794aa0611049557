//! The words of the bulk mailbox: random choices over tables, tokens, HTML escaping,
//! the HTML each mail client writes around a few paragraphs, signatures and quoted
//! replies.

use fastrand::Rng;

/// One of `items`; the tables are constants and never empty.
pub(super) fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// One of `items`, copied: for tables of names and strings.
pub(super) fn choose<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.usize(..items.len())]
}

/// One of `items`, by weight.
pub(super) fn weighted<'a, T>(rng: &mut Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut at = rng.u32(..total.max(1));
    for (item, w) in items {
        if at < *w {
            return item;
        }
        at -= w;
    }
    &items[items.len() - 1].0
}

/// True `percent` times in a hundred.
pub(super) fn chance(rng: &mut Rng, percent: u32) -> bool {
    rng.u32(..100) < percent
}

pub(super) fn hex(rng: &mut Rng, n: usize, upper: bool) -> String {
    let digits: &[u8] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    (0..n).map(|_| digits[rng.usize(..16)] as char).collect()
}

pub(super) fn alnum(rng: &mut Rng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| CHARS[rng.usize(..CHARS.len())] as char)
        .collect()
}

pub(super) fn b64(rng: &mut Rng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..n)
        .map(|_| CHARS[rng.usize(..CHARS.len())] as char)
        .collect()
}

/// A version 4 UUID's shape.
pub(super) fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex(rng, 8, false),
        hex(rng, 4, false),
        hex(rng, 3, false),
        pick(rng, &['8', '9', 'a', 'b']),
        hex(rng, 3, false),
        hex(rng, 12, false)
    )
}

/// Text for HTML.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// `template` with each `{key}` replaced by its value.
pub(super) fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (key, value) in slots {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// Paragraphs as a plain-text body.
pub(super) fn plain(paragraphs: &[String]) -> String {
    let mut out = paragraphs.join("\r\n\r\n");
    out.push_str("\r\n");
    out
}

/// A signature block: lines under the sender's name.
pub(super) struct Signature {
    pub lines: Vec<String>,
}

impl Signature {
    pub(super) fn text(&self) -> String {
        self.lines.join("\r\n")
    }

    fn html(&self) -> String {
        self.lines
            .iter()
            .map(|l| esc(l))
            .collect::<Vec<_>>()
            .join("<br>\r\n")
    }
}

/// The HTML Outlook writes (Word's HTML, with its styles), around `paragraphs`. `logo`
/// is the `cid:` of an inline signature image.
pub(super) fn outlook_html(
    paragraphs: &[String],
    signature: &Signature,
    logo: Option<&str>,
    quoted: Option<&str>,
) -> String {
    let mut body = String::new();
    for p in paragraphs {
        for line in p.split("\r\n") {
            body.push_str("<p class=\"MsoNormal\">");
            body.push_str(&esc(line));
            body.push_str("<o:p></o:p></p>\r\n");
        }
        body.push_str("<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\r\n");
    }
    body.push_str("<p class=\"MsoNormal\"><span style=\"font-size:10.0pt;color:#1F3864\">");
    body.push_str(&signature.html());
    body.push_str("</span><o:p></o:p></p>\r\n");
    if let Some(cid) = logo {
        body.push_str(&format!(
            "<p class=\"MsoNormal\"><img width=\"160\" height=\"48\" style=\"width:1.6666in;height:.5in\" \
             id=\"Picture_x0020_1\" src=\"cid:{cid}\" alt=\"Riverside Clinic\"><o:p></o:p></p>\r\n"
        ));
    }
    if let Some(quoted) = quoted {
        body.push_str(
            "<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\">\r\n",
        );
        for line in quoted.split("\r\n") {
            body.push_str("<p class=\"MsoNormal\">");
            body.push_str(&esc(line));
            body.push_str("<o:p></o:p></p>\r\n");
        }
        body.push_str("</div>\r\n");
    }
    format!(
        "<html xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" \
         xmlns:w=\"urn:schemas-microsoft-com:office:word\" xmlns:m=\"http://schemas.microsoft.com/office/2004/12/omml\" \
         xmlns=\"http://www.w3.org/TR/REC-html40\">\r\n<head>\r\n\
         <meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n\
         <meta name=\"Generator\" content=\"Microsoft Word 15 (filtered medium)\">\r\n\
         <style><!--\r\n/* Font Definitions */\r\n\
         @font-face\r\n\t{{font-family:\"Cambria Math\";\r\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}}\r\n\
         @font-face\r\n\t{{font-family:Calibri;\r\n\tpanose-1:2 15 5 2 2 2 4 3 2 4;}}\r\n\
         @font-face\r\n\t{{font-family:Aptos;}}\r\n\
         /* Style Definitions */\r\n\
         p.MsoNormal, li.MsoNormal, div.MsoNormal\r\n\t{{margin:0cm;\r\n\tfont-size:11.0pt;\r\n\tfont-family:\"Aptos\",sans-serif;\r\n\tmso-ligatures:standardcontextual;\r\n\tmso-fareast-language:EN-US;}}\r\n\
         a:link, span.MsoHyperlink\r\n\t{{mso-style-priority:99;\r\n\tcolor:#467886;\r\n\ttext-decoration:underline;}}\r\n\
         span.EmailStyle17\r\n\t{{mso-style-type:personal-compose;\r\n\tfont-family:\"Aptos\",sans-serif;\r\n\tcolor:windowtext;}}\r\n\
         .MsoChpDefault\r\n\t{{mso-style-type:export-only;\r\n\tfont-size:11.0pt;\r\n\tmso-fareast-language:EN-US;}}\r\n\
         @page WordSection1\r\n\t{{size:612.0pt 792.0pt;\r\n\tmargin:72.0pt 72.0pt 72.0pt 72.0pt;}}\r\n\
         div.WordSection1\r\n\t{{page:WordSection1;}}\r\n--></style><!--[if gte mso 9]><xml>\r\n\
         <o:shapedefaults v:ext=\"edit\" spidmax=\"1026\" />\r\n</xml><![endif]--><!--[if gte mso 9]><xml>\r\n\
         <o:shapelayout v:ext=\"edit\">\r\n<o:idmap v:ext=\"edit\" data=\"1\" />\r\n</o:shapelayout></xml><![endif]-->\r\n\
         </head>\r\n<body lang=\"EN-GB\" link=\"#467886\" vlink=\"#96607D\" style=\"word-wrap:break-word\">\r\n\
         <div class=\"WordSection1\">\r\n{body}</div>\r\n</body>\r\n</html>\r\n"
    )
}

/// The HTML Gmail writes around `paragraphs`.
pub(super) fn gmail_html(
    paragraphs: &[String],
    signature: &Signature,
    quoted: Option<&str>,
) -> String {
    let mut body = String::from("<div dir=\"ltr\">");
    for p in paragraphs {
        for line in p.split("\r\n") {
            body.push_str("<div>");
            body.push_str(&esc(line));
            body.push_str("</div>");
        }
        body.push_str("<div><br></div>");
    }
    body.push_str(
        "<div><span class=\"gmail_signature_prefix\">-- </span><br>\
                   <div dir=\"ltr\" class=\"gmail_signature\" data-smartmail=\"gmail_signature\">",
    );
    body.push_str(&signature.html());
    body.push_str("</div></div></div>\r\n");
    if let Some(quoted) = quoted {
        body.push_str("<br><div class=\"gmail_quote\"><blockquote class=\"gmail_quote\" \
                       style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">");
        for line in quoted.split("\r\n") {
            body.push_str(&esc(line));
            body.push_str("<br>");
        }
        body.push_str("</blockquote></div>\r\n");
    }
    body
}

/// A plain HTML document around an already-built body, as applications write it.
pub(super) fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\r\n<html lang=\"en\">\r\n<head>\r\n<meta charset=\"utf-8\">\r\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\r\n\
         <title>{}</title>\r\n</head>\r\n<body style=\"margin:0;padding:0;background:#f4f5f7;\
         font-family:Segoe UI,Helvetica,Arial,sans-serif\">\r\n{body}\r\n</body>\r\n</html>\r\n",
        esc(title)
    )
}

/// Text quoted below a reply, Outlook's way (a header block, then the text).
pub(super) fn outlook_quote(from: &str, sent: &str, to: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nSent: {sent}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\n{}",
        body.trim_end()
    )
}

/// Text quoted below a reply, Gmail's and Thunderbird's way (`> ` before every line).
pub(super) fn angle_quote(attribution: &str, body: &str) -> String {
    let mut out = format!("{attribution}\r\n");
    for line in body.trim_end().split("\r\n") {
        if line.is_empty() {
            out.push_str(">\r\n");
        } else {
            out.push_str("> ");
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out
}

/// The confidentiality notice healthcare organisations put under every message.
pub(super) const CLINIC_DISCLAIMER: &str = "This e-mail and any attachments are confidential and may contain \
patient-identifiable information. If you have received it in error, please tell the sender \
and delete it. Riverside Clinic, 12 Weir Road, Riverside. Registered charity no. 1100123.";

/// Filler sentences for the body of ordinary mail, so that no two messages read alike.
pub(super) const SMALL_TALK: &[&str] = &[
    "Let me know if anything is unclear.",
    "Happy to talk it through if that is easier.",
    "Thanks again for your help with this.",
    "I have copied in the others who need to see it.",
    "Apologies for the delay in getting back to you.",
    "Shout if you need anything else from me.",
    "I will be in clinic most of the afternoon but can pick this up tomorrow.",
    "Could you confirm once you have had a chance to look?",
    "No rush on this, end of the week is fine.",
    "I have put a placeholder in the diary for a quick catch-up.",
    "Please treat the figures as provisional until finance signs them off.",
    "From what I can see the numbers match last month's.",
    "From next week the ward round starts at 08:30 instead of 09:00.",
    "From the audit, the main gaps are documentation and hand hygiene.",
    "Many thanks,",
];
