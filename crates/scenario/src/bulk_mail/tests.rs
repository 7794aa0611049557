use std::collections::HashSet;

use super::*;

fn take(seed: u64, n: usize) -> Vec<BulkMessage> {
    bulk_mail(seed)
        .take(n)
        .collect::<io::Result<Vec<_>>>()
        .expect("generation writes to memory only")
}

#[test]
fn the_same_seed_gives_the_same_messages_and_a_longer_run_extends_a_shorter_one() {
    let a = take(7, 120);
    let b = take(7, 60);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.raw, y.raw);
        assert_eq!(x.message_id, y.message_id);
    }
    let c = take(8, 60);
    assert_ne!(
        a.iter().take(60).map(|m| &m.raw).collect::<Vec<_>>(),
        c.iter().map(|m| &m.raw).collect::<Vec<_>>()
    );
}

#[test]
fn every_block_holds_every_phishing_kind_and_ids_are_unique() {
    let messages = take(1, BLOCK);
    for kind in MailKind::ALL {
        assert!(messages.iter().any(|m| m.kind == kind), "{kind}");
    }
    let phishing = messages.iter().filter(|m| m.kind.is_phishing()).count();
    assert_eq!(phishing, PHISHING_PER_BLOCK);
    let ids: HashSet<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), messages.len());
    assert!(
        messages
            .iter()
            .all(|m| m.message_id.starts_with('<') && m.message_id.ends_with('>'))
    );
}

#[test]
fn deliveries_start_on_the_second_of_november_and_never_go_back() {
    let messages = take(3, 200);
    let start = Timestamp::from_second(START).expect("valid");
    assert!(messages[0].delivered > start);
    assert!(messages.windows(2).all(|w| w[0].delivered < w[1].delivered));
}

#[test]
fn the_mbox_writer_quotes_from_lines_and_ends_lines_with_lf() {
    let message = BulkMessage {
        message_id: "<a@b>".into(),
        kind: MailKind::Benign,
        template: "test",
        envelope_sender: String::new(),
        delivered: Timestamp::from_second(START).expect("valid"),
        raw: b"Subject: a\r\n\r\nFrom here on\r\n>From there\r\nend".to_vec(),
    };
    let mut writer = MboxWriter::new(Vec::new());
    writer.write_message(&message).expect("memory");
    let written = writer.bytes_written();
    let out = String::from_utf8(writer.into_inner()).expect("utf8");
    assert_eq!(
        out,
        "From MAILER-DAEMON Mon Nov  2 05:00:00 2026\n\
         Subject: a\n\n>From here on\n>>From there\nend\n\n"
    );
    assert_eq!(written, out.len() as u64);
}
