use model::{EventId, FailureKind, OrgId};

use crate::*;

#[test]
fn two_orgs_with_the_same_accounts_and_source_never_mix() {
    let start = ts("2024-11-25T13:00:00Z");
    let source = Some(ip("198.51.100.5"));
    let mut events = Vec::new();
    // Org 1: ten failures against "admin" (a brute force). Org 2: nine, interleaved.
    for i in 0..10 {
        let s = sign_in(
            start + secs(2 * i),
            "admin",
            source,
            Some(FailureKind::BadPassword),
        );
        events.push((OrgId(1), EventId(100 + i), s));
        if i < 9 {
            let s = sign_in(
                start + secs(2 * i + 1),
                "admin",
                source,
                Some(FailureKind::BadPassword),
            );
            events.push((OrgId(2), EventId(200 + i), s));
        }
    }
    // Then the source signs in to org 2's "admin": not a compromise, org 2 was not attacked.
    events.push((
        OrgId(2),
        EventId(299),
        sign_in(start + secs(30), "admin", source, None),
    ));
    // And six accounts each at both orgs from one address: twelve accounts, but no spray.
    for i in 0..6 {
        for org in [1, 2] {
            let s = sign_in(
                start + secs(40 + i),
                &format!("user{i}"),
                Some(ip("203.0.113.66")),
                Some(FailureKind::BadPassword),
            );
            events.push((OrgId(org), EventId(org * 1000 + i), s));
        }
    }
    let mut d = detectors();
    let out = run_merged(&mut d, &events);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].org, OrgId(1));
    assert_eq!(out[0].evidence, ids(100..110));
}
