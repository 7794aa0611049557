//! Throughput of `LookalikeIndex::check` on the hosts a message carries: mostly benign
//! (plain, subdomains, national suffixes), some look-alikes of every family, a few
//! internationalised ones. Also the cost of building the built-in index.
//!
//! Run with `cargo bench -p tocsin-mail --bench lookalike`; figures are hosts per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tocsin_mail::lookalike::LookalikeIndex;

const HOSTS: &[&str] = &[
    "example.com",
    "mail.example.co.uk",
    "news.bbc.co.uk",
    "lists.sourceforge.net",
    "www.nytimes.com",
    "click.mailchimp.com",
    "github.com",
    "docs.google.com",
    "login.microsoftonline.com",
    "www.who.int",
    "google.com.br",
    "university.edu",
    "a.b.c.d.example.org",
    "cdn.shopify.com",
    "rnicrosoft.com",
    "micr0soft-login.xyz",
    "linkedln.com",
    "who-int.com",
    "who.int.secure-login.com",
    "xn--micrsoft-qbh.com",
    "mícrosoft.com",
    "secure-linkedin-jobs.net",
    "whoa.int",
    "outlook-verify.online",
];

fn check(c: &mut Criterion) {
    let index = LookalikeIndex::builtin();
    let mut group = c.benchmark_group("lookalike");
    group.throughput(Throughput::Elements(HOSTS.len() as u64));
    group.bench_function("check", |b| {
        b.iter(|| {
            for host in HOSTS {
                black_box(index.check(black_box(host)));
            }
        })
    });
    group.finish();
    c.bench_function("lookalike/build_builtin", |b| {
        b.iter(LookalikeIndex::builtin)
    });
}

criterion_group!(benches, check);
criterion_main!(benches);
