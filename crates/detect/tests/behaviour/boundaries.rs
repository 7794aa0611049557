use model::{FailureKind, OrgId};

use crate::*;

fn failures(times: &[i64]) -> Vec<model::SignIn> {
    let start = ts("2024-11-25T13:00:00Z");
    times
        .iter()
        .map(|t| {
            sign_in(
                start + secs(*t),
                "a@x.example",
                Some(ip("198.51.100.5")),
                Some(FailureKind::BadPassword),
            )
        })
        .collect()
}

#[test]
fn nine_failures_are_not_a_brute_force_and_ten_are() {
    let mut d = detectors();
    assert!(run(&mut d, OrgId(1), 0, &failures(&[0, 1, 2, 3, 4, 5, 6, 7, 8])).is_empty());
    let mut d = detectors();
    assert_eq!(
        run(
            &mut d,
            OrgId(1),
            0,
            &failures(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        )
        .len(),
        1
    );
}

#[test]
fn failures_a_window_apart_count_together_and_a_second_more_do_not() {
    let mut d = detectors();
    let out = run(
        &mut d,
        OrgId(1),
        0,
        &failures(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 600]),
    );
    assert_eq!(out.len(), 1, "exactly 10 minutes apart: inside the window");
    let mut d = detectors();
    let out = run(
        &mut d,
        OrgId(1),
        0,
        &failures(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 601]),
    );
    assert!(out.is_empty(), "10 minutes and 1 second apart: outside");
}

#[test]
fn an_extension_needs_the_next_failure_within_the_window_of_the_previous() {
    let mut d = detectors();
    let out = run(
        &mut d,
        OrgId(1),
        0,
        &failures(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 609, 1210]),
    );
    // Crossing at 9 s, extension at 609 s (600 s later), then 601 s of quiet: new pending.
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].evidence, [model::EventId(10)]);
}
