//! Any bytes as a STIX bundle, a MISP event, a list in each layout, a warning list and a
//! galaxy file: each reader returns what it could use and the problems, or an error that
//! names the source, and never panics. Feeds come from outside the operator's control.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_intel::lists::{Layout, read_list, read_warninglist};
use tocsin_intel::{actors, misp, stix};

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = stix::read("fuzz", "input", data) {
        for indicator in &bundle.intel.indicators {
            assert!(!indicator.id.is_empty());
        }
    }
    let _ = misp::read_event("fuzz", "input", data, None);
    for layout in [
        Layout::Plain,
        Layout::Csv {
            column: 1,
            header: true,
        },
        Layout::TorExits,
    ] {
        if let Ok(intel) = read_list("fuzz", "label", layout, data) {
            for problem in &intel.problems {
                assert!(problem.source.starts_with("fuzz"));
            }
        }
    }
    let _ = read_warninglist("input", data);
    let _ = actors::from_galaxy(data, "input");
});
