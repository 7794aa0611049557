use crate::test_support::check_line as check;

const H: &str = "Jun 13 16:30:54 mail dovecot:";

#[test]
fn messages() {
    let cases: &[(&str, &str)] = &[
        (
            "imap-login: Disconnected (auth failed, 2 attempts in 4 secs): user=<bob@x.org>, method=PLAIN, rip=203.0.113.9, lip=10.0.0.1, TLS",
            "bob@x.org failure bad_password imap ip=203.0.113.9 app=dovecot",
        ),
        (
            "pop3-login: Aborted login (auth failed, 1 attempts in 17 secs): user=<Test>, method=PLAIN, rip=2001:db8::7, lip=::1",
            "test failure bad_password pop3 ip=2001:db8::7 app=dovecot",
        ),
        (
            "imap-login: Login: user=<alice>, method=PLAIN, rip=198.51.100.4, lip=10.0.0.1, mpid=123, TLS",
            "alice success imap ip=198.51.100.4 app=dovecot",
        ),
        (
            "pop3-login: Aborted login (tried to use disallowed plaintext auth): rip=203.0.113.9, lip=10.0.0.1",
            " failure other pop3 ip=203.0.113.9 app=dovecot",
        ),
        (
            "imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=203.0.113.9, lip=10.0.0.1, TLS handshaking",
            " pre_auth imap ip=203.0.113.9 app=dovecot",
        ),
        (
            "auth: passwd-file(carol,203.0.113.9): unknown user",
            "carol failure unknown_account unknown ip=203.0.113.9 app=dovecot",
        ),
        (
            "auth-worker(304): pam(dave,203.0.113.9,<n4JLdHNV>): pam_authenticate() failed: Authentication failure (password mismatch?)",
            "dave failure bad_password unknown ip=203.0.113.9 app=dovecot",
        ),
        (
            "auth: sql(a,b@x.org,203.0.113.9,<s1>): Password mismatch",
            "a,b@x.org failure bad_password unknown ip=203.0.113.9 app=dovecot",
        ),
        ("imap(alice): Logged out in=10 out=20", "noise"),
        ("auth: sql(x,203.0.113.9): lookup failed", "noise"),
        ("master: Dovecot v2.3.19 starting up", "noise"),
    ];
    for (message, expected) in cases {
        let expected = if *expected == "noise" {
            "noise".to_owned()
        } else {
            format!("2026-06-13T16:30:54Z {expected}")
        };
        check(&format!("{H} {message}"), &expected);
    }
}

#[test]
fn framings() {
    check(
        "@400000004c91b044077a9e94 dovecot-auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=rhost=1.2.3.4 rhost=192.0.2.10",
        "2010-09-16T05:50:50.1254765Z rhost=1.2.3.4 failure bad_password unknown ip=192.0.2.10 app=dovecot",
    );
    check(
        "2013-08-11 03:56:40 auth-worker(default): Info: pam(erin,192.0.2.4): pam_authenticate() failed: Authentication failure (password mismatch?)",
        "2013-08-11T03:56:40Z erin failure bad_password unknown ip=192.0.2.4 app=dovecot",
    );
    check(
        "Jan 29 09:33:58 pop3-login: Info: Aborted login (auth failed, 1 attempts in 2 secs): user=<grace>, method=PLAIN, rip=192.0.2.3",
        "2026-01-29T09:33:58Z grace failure bad_password pop3 ip=192.0.2.3 app=dovecot",
    );
}
