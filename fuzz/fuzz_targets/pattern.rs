//! Any text: the parser returns a pattern or an error with an offset inside the text,
//! never panics; a parsed pattern compiles or is refused, and a compiled one evaluates
//! against an event without panicking.
#![no_main]

use tocsin_intel::pattern::{compile, parse};
use tocsin_intel::{Observed, ObservedFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Err(e) => assert!(e.offset <= text.len().max(tocsin_intel::pattern::MAX_PATTERN_LEN)),
        Ok(pattern) => {
            if let Ok(compiled) = compile(&pattern) {
                let seen = Observed {
                    ips: vec!["198.51.100.7".parse().unwrap_or([0, 0, 0, 0].into())],
                    hosts: vec!["login.evil.example".into()],
                    urls: vec!["https://login.evil.example/a?b=c".into()],
                    email_addrs: vec!["jobs@evil.example".into()],
                    from: Some("jobs@evil.example".into()),
                    sender: None,
                    subject: Some("Invoice 2041".into()),
                    files: vec![ObservedFile {
                        name: Some("cv.doc".into()),
                        md5: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
                        sha1: None,
                        sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                            .into(),
                    }],
                    accounts: vec!["root".into()],
                };
                let _ = compiled.evaluate(&seen);
            }
        }
    }
});
