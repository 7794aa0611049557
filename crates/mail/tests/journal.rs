//! Microsoft 365 journal reports: the original inside is what gets judged, and the
//! report's envelope names its recipients.

use tocsin_mail::analyse::{Analyser, MailConfig, OwnDomains};
use tocsin_mail::parse::{Limits, parse_message};

fn case(name: &str) -> Vec<u8> {
    scenario::mail_corpus()
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.raw)
        .expect("corpus case")
}

#[test]
fn the_original_in_a_journal_report_is_judged_with_the_envelope_recipients() {
    let original = case("recruiter-zinc-docm");
    let report = scenario::journal_report(
        &original,
        "sarah.miller.talent@gmail.com",
        "Job offer: Senior Biomedical Engineer - salary and interview",
        "<corpus-3@generator.example>",
        &["ana.silva@clinic.example", "hidden.bcc@clinic.example"],
    );
    let mail = parse_message(&report, &Limits::default()).expect("report parses");
    assert_eq!(
        mail.message_id.as_deref(),
        Some("corpus-3@generator.example")
    );
    assert_eq!(mail.from[0].address, "sarah.miller.talent@gmail.com");
    assert_eq!(
        mail.attachments
            .iter()
            .map(|a| a.name.as_deref().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["Boeing_Job_Description.docm"]
    );
    // A Bcc recipient appears only in the report's envelope.
    assert!(
        mail.recipients()
            .contains(&"hidden.bcc@clinic.example".to_owned()),
        "{:?}",
        mail.recipients()
    );
    assert_eq!(mail.size, report.len() as u64);
    let analysis = Analyser::new(&MailConfig::default())
        .expect("config")
        .analyse(
            &mail,
            &OwnDomains::new("Clinic", &["clinic.example".into()]),
        );
    assert_eq!(analysis.verdict, model::Verdict::Phishing);
    assert!(
        analysis
            .reasons
            .iter()
            .any(|r| r.code == "attachment_macro")
    );
}

#[test]
fn a_report_inside_a_report_is_unwrapped_once_only() {
    let inner_report = scenario::journal_report(
        &case("colleague-docx"),
        "a@b",
        "s",
        "<m>",
        &["x@clinic.example"],
    );
    let outer = scenario::journal_report(&inner_report, "a@b", "s", "<m>", &["y@clinic.example"]);
    let mail = parse_message(&outer, &Limits::default()).expect("parses");
    // What is judged is the inner report as it is: its own attachment, not unwrapped.
    assert_eq!(
        mail.from[0].address,
        "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e@clinic.onmicrosoft.com"
    );
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!(mail.attachments[0].content_type, "message/rfc822");
}

#[test]
fn a_report_without_its_original_is_judged_as_itself_with_a_warning() {
    let report = b"From: Microsoft Outlook <MicrosoftExchange@clinic.onmicrosoft.com>\r\n\
X-MS-Journal-Report: \r\nSubject: s\r\nContent-Type: text/plain\r\n\r\nSender: a@b.example\r\nTo: ana@clinic.example\r\n";
    let mail = parse_message(report, &Limits::default()).expect("parses");
    assert_eq!(mail.subject, "s");
    assert!(
        mail.warnings
            .iter()
            .any(|w| w.contains("journal report without a readable original")),
        "{:?}",
        mail.warnings
    );
}
