use super::*;

/// Feeds `(pid, message)` lines from host `h` and renders what each gave:
/// `failure 1.2.3.4 root` per event, `-` for nothing, joined by `; `.
fn run(tracker: &mut SessionTracker, lines: &[(&str, &str)]) -> Vec<String> {
    lines
        .iter()
        .map(|(pid, message)| {
            let events = tracker.observe("h", pid, message).expect("parses");
            if events.is_empty() {
                return "-".to_owned();
            }
            events
                .iter()
                .map(|e| {
                    let ip = e.source_ip.map_or("?".to_owned(), |ip| ip.to_string());
                    format!("{} {ip} {}", e.outcome.as_str(), e.account)
                        .trim_end()
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect()
}

#[test]
fn locked_account_fails_on_the_line_that_names_the_client() {
    let mut t = SessionTracker::new();
    let got = run(
        &mut t,
        &[
            ("1", "User root not allowed because account is locked"),
            ("1", "input_userauth_request: invalid user root [preauth]"),
            (
                "1",
                "error: Received disconnect from 198.51.100.34: 11: Bye Bye [preauth]",
            ),
        ],
    );
    assert_eq!(got, ["-", "-", "failure 198.51.100.34 root"]);
    assert!(t.is_empty(), "a closed connection is forgotten");
}

#[test]
fn locked_account_with_a_known_address_fails_at_once() {
    let mut t = SessionTracker::new();
    let got = run(
        &mut t,
        &[
            (
                "2",
                "Connection from 192.0.2.9 port 4000 on 192.0.2.1 port 22",
            ),
            ("2", "User root not allowed because account is locked"),
            (
                "2",
                "Received disconnect from 192.0.2.9 port 4000:11: Bye Bye [preauth]",
            ),
        ],
    );
    assert_eq!(got, ["-", "failure 192.0.2.9 root", "pre_auth 192.0.2.9"]);
}

#[test]
fn too_many_failures_takes_the_address_or_waits_for_it() {
    let mut t = SessionTracker::new();
    let got = run(
        &mut t,
        &[
            ("3", "Connection from 115.249.163.77 port 51353"),
            (
                "3",
                "Disconnecting: Too many authentication failures for root [preauth]",
            ),
            (
                "4",
                "Disconnecting: Too many authentication failures for root [preauth]",
            ),
            ("5", "Connection closed by 61.0.0.1 [preauth]"),
            ("4", "Connection closed by 61.0.0.1 [preauth]"),
        ],
    );
    assert_eq!(
        got,
        [
            "-",
            "failure 115.249.163.77 root",
            "-",
            "pre_auth 61.0.0.1",
            "failure 61.0.0.1 root"
        ]
    );
}

#[test]
fn too_many_failures_after_counted_failures_is_not_counted_again() {
    let mut t = SessionTracker::new();
    let failed = "Failed password for root from 192.0.2.7 port 1 ssh2";
    let got = run(
        &mut t,
        &[
            ("6", failed),
            ("6", failed),
            (
                "6",
                "error: maximum authentication attempts exceeded for root from 192.0.2.7 port 1 ssh2 [preauth]",
            ),
            (
                "6",
                "Disconnecting authenticating user root 192.0.2.7 port 1: Too many authentication failures [preauth]",
            ),
        ],
    );
    assert_eq!(
        got,
        ["failure 192.0.2.7 root", "failure 192.0.2.7 root", "-", "-"]
    );
}

#[test]
fn refused_keys_give_the_address_and_too_many_failures_counts_once() {
    let mut t = SessionTracker::new();
    let key = "Failed publickey for git from 192.0.2.111 port 57910 ssh2: RSA 14:ba";
    let got = run(
        &mut t,
        &[
            ("7", key),
            ("7", key),
            (
                "7",
                "Disconnecting: Too many authentication failures for git [preauth]",
            ),
            ("7", "Connection closed by 192.0.2.111 [preauth]"),
        ],
    );
    assert_eq!(
        got,
        ["-", "-", "failure 192.0.2.111 git", "pre_auth 192.0.2.111"]
    );
}

#[test]
fn pam_unix_failures_count_only_when_another_user_is_tried() {
    let pam = |user: &str, host: &str| {
        format!(
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser={user} rhost={host}"
        )
    };
    let mut t = SessionTracker::new();
    let (root, sudoer) = (pam("root", "192.0.2.114"), pam("sudoer", "192.0.2.114"));
    let got = run(
        &mut t,
        &[
            ("8", &root),
            ("8", &sudoer),
            (
                "8",
                "Accepted password for known from 192.0.2.114 port 52100 ssh2",
            ),
        ],
    );
    assert_eq!(
        got,
        [
            "-",
            "failure 192.0.2.114 root",
            "failure 192.0.2.114 sudoer; success 192.0.2.114 known"
        ]
    );

    // The same user again, then accepted: a PAM stack whose second module let them in.
    let rda = pam("rda", "192.0.2.113");
    let got = run(
        &mut t,
        &[
            ("9", &rda),
            ("9", &rda),
            (
                "9",
                "Accepted password for rda from 192.0.2.113 port 52100 ssh2",
            ),
        ],
    );
    assert_eq!(got, ["-", "-", "success 192.0.2.113 rda"]);

    // The usual case: the `Failed` line reports the try, once.
    let got = run(
        &mut t,
        &[
            ("10", &pam("root", "192.0.2.50")),
            ("10", "Failed password for root from 192.0.2.50 port 2 ssh2"),
            ("10", &pam("admin", "192.0.2.50")),
            (
                "10",
                "Failed password for admin from 192.0.2.50 port 2 ssh2",
            ),
            ("10", "Connection closed by 192.0.2.50 port 2 [preauth]"),
        ],
    );
    assert_eq!(
        got,
        [
            "-",
            "failure 192.0.2.50 root",
            "-",
            "failure 192.0.2.50 admin",
            "pre_auth 192.0.2.50"
        ]
    );
    assert!(t.is_empty());
}

#[test]
fn address_less_probes_take_the_connection_address() {
    let mut t = SessionTracker::new();
    let got = run(
        &mut t,
        &[
            (
                "11",
                "Connection from 192.0.2.16 port 51280 on 192.0.2.16 port 22",
            ),
            (
                "11",
                "error: kex_exchange_identification: read: Connection reset by peer",
            ),
            ("11", "Connection reset by 192.0.2.16 port 51280"),
            (
                "12",
                "error: kex_exchange_identification: Connection closed by remote host",
            ),
            ("12", "Connection closed by 192.0.2.15 port 35352"),
        ],
    );
    assert_eq!(
        got,
        [
            "-",
            "pre_auth 192.0.2.16",
            "-",
            "pre_auth ?",
            "pre_auth 192.0.2.15"
        ]
    );
}

#[test]
fn connection_from_starts_afresh_when_a_pid_is_reused() {
    let mut t = SessionTracker::new();
    let too_many = "Disconnecting: Too many authentication failures [preauth]";
    let got = run(
        &mut t,
        &[
            ("13", "Connection from 192.0.2.1 port 1"),
            ("13", too_many),
            ("13", "Connection from 192.0.2.2 port 2"),
            ("13", too_many),
        ],
    );
    assert_eq!(got, ["-", "failure 192.0.2.1", "-", "failure 192.0.2.2"]);
}

#[test]
fn hosts_and_pids_are_separate_connections() {
    let mut t = SessionTracker::new();
    t.observe("a", "1", "User root not allowed because account is locked")
        .expect("parses");
    let other_host = t
        .observe("b", "1", "Connection closed by 192.0.2.1 [preauth]")
        .expect("parses");
    assert_eq!(other_host[0].outcome, Outcome::PreAuth);
    let same = t
        .observe("a", "1", "Connection closed by 192.0.2.1 [preauth]")
        .expect("parses");
    assert_eq!(same[0].outcome, Outcome::Failure);
    assert_eq!(same[0].failure_kind, Some(FailureKind::Locked));
}

#[test]
fn the_tracker_never_holds_more_than_its_capacity() {
    let mut t = SessionTracker::with_capacity(100);
    for pid in 0..1_000 {
        let pid = pid.to_string();
        t.observe("h", &pid, "Connection from 192.0.2.1 port 1")
            .expect("parses");
        assert!(t.len() <= 100, "{} connections held", t.len());
    }
    assert!(t.len() >= 90, "eviction forgets a tenth at a time");
    // The most recently heard connection survives eviction, the oldest does not.
    let recent = t
        .observe(
            "h",
            "999",
            "Disconnecting: Too many authentication failures [preauth]",
        )
        .expect("parses");
    assert_eq!(recent[0].source_ip, parse_address("192.0.2.1"));
    let forgotten = t
        .observe(
            "h",
            "0",
            "Disconnecting: Too many authentication failures [preauth]",
        )
        .expect("parses");
    assert!(forgotten.is_empty(), "held back for want of an address");

    let mut tiny = SessionTracker::with_capacity(0);
    tiny.observe("h", "1", "Connection from 192.0.2.1 port 1")
        .expect("parses");
    tiny.observe("h", "2", "Connection from 192.0.2.2 port 1")
        .expect("parses");
    assert_eq!(tiny.len(), 1);
}

#[test]
fn held_failures_are_bounded() {
    let mut t = SessionTracker::new();
    let long_user = "x".repeat(5_000);
    for _ in 0..100 {
        let line = format!(
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser={long_user} rhost=192.0.2.1"
        );
        t.observe("h", "1", &line).expect("parses");
    }
    let released = t
        .observe(
            "h",
            "1",
            "Accepted password for known from 192.0.2.1 port 1 ssh2",
        )
        .expect("parses");
    assert_eq!(released.len(), MAX_HELD_PAM_FAILURES + 1);
    assert!(released[0].message.len() <= MAX_HELD_TEXT);
    assert!(released[0].account.len() <= MAX_HELD_TEXT);
}

#[test]
fn repeated_messages_are_counted_without_context() {
    let mut t = SessionTracker::new();
    let got = t
        .observe(
            "h",
            "14",
            "message repeated 2 times: [ Failed password for root from 192.0.2.3 port 1 ssh2]",
        )
        .expect("parses");
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].outcome, got[0].count), (Outcome::Failure, 2));
    let too_many = run(
        &mut t,
        &[(
            "14",
            "Disconnecting: Too many authentication failures [preauth]",
        )],
    );
    assert_eq!(too_many, ["-"], "the repeated failures were counted");
}
