//! Messages per second through the whole mail path on the fixture corpus: decoding
//! (`parse_message`) and judging (`Analyser::analyse`), and judging alone.
//!
//! Run with `cargo bench -p tocsin-mail --bench analyse`; the throughput figures are
//! messages per second over the 18 corpus messages (11 phishing, 1 suspicious, 6 clean,
//! 2 to 45 KB each, with attachments).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tocsin_mail::analyse::{Analyser, MailConfig, OwnDomains};
use tocsin_mail::parse::{Limits, parse_message};

fn corpus(c: &mut Criterion) {
    let raws: Vec<Vec<u8>> = scenario::mail_corpus().into_iter().map(|c| c.raw).collect();
    let config = MailConfig {
        trusted_authserv_ids: vec![scenario::CORPUS_AUTHSERV_ID.into()],
        ..MailConfig::default()
    };
    let analyser = Analyser::new(&config).expect("valid config");
    let own = OwnDomains::new("Clinic", &[scenario::CORPUS_OWN_DOMAIN.into()]);
    let limits = Limits::default();
    let mails: Vec<model::Mail> = raws
        .iter()
        .map(|raw| parse_message(raw, &limits).expect("corpus parses"))
        .collect();

    let mut group = c.benchmark_group("mail");
    group.throughput(Throughput::Elements(raws.len() as u64));
    group.bench_function("parse_and_analyse_corpus", |b| {
        b.iter(|| {
            for raw in &raws {
                let mail = parse_message(black_box(raw), &limits).expect("parses");
                black_box(analyser.analyse(&mail, &own));
            }
        })
    });
    group.bench_function("analyse_corpus", |b| {
        b.iter(|| {
            for mail in &mails {
                black_box(analyser.analyse(black_box(mail), &own));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, corpus);
criterion_main!(benches);
