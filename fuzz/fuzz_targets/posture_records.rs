//! Any DNS TXT texts (one per line): SPF, DMARC and DKIM reading returns a record or
//! nothing, never panics, and a domain's points stay within 0–100.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_scorecard::posture::{DomainPosture, dkim, dmarc, spf};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let texts: Vec<String> = text.lines().map(str::to_owned).collect();
    let posture = DomainPosture {
        domain: "fuzz.example".into(),
        spf: spf(&texts),
        dmarc: dmarc(&texts),
        dkim: dkim("s1", &texts).into_iter().collect(),
        error: None,
    };
    let points = posture.points().expect("no error, so points");
    assert!((0.0..=100.0).contains(&points), "{points}");
});
