use model::Origin;

use crate::test_support::render;
use crate::{ParseOptions, parse_line};

fn check(line: &str, expected: &str) {
    let origin = Origin::FileLine {
        file: "auth.log".into(),
        line: 7,
    };
    let result = parse_line(line, origin, &ParseOptions::for_year(2026));
    assert_eq!(render(&result), expected, "line: {line}");
}

const T: &str = "2026-03-01T03:14:15Z";

/// Real-shaped sshd messages under one RFC 3164 header, and what each becomes.
#[test]
fn messages() {
    let cases: &[(&str, &str)] = &[
        (
            "Failed password for root from 203.0.113.9 port 52144 ssh2",
            "root failure bad_password ssh ip=203.0.113.9",
        ),
        (
            "Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2",
            "admin failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "Failed publickey for deploy from 203.0.113.9 port 40022 ssh2: RSA SHA256:0pM4xQ7r3UjZ7b",
            "noise",
        ),
        (
            "Failed publickey for invalid user deploy from 203.0.113.9 port 40022 ssh2: RSA SHA256:0pM4",
            "deploy failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "Failed hostbased for dan from 203.0.113.9 port 45785 ssh2: RSA 8c:e3, client user \"dan\"",
            "dan failure other ssh ip=203.0.113.9",
        ),
        (
            "Failed keyboard-interactive/pam for invalid user oracle from 203.0.113.9 port 1022 ssh2",
            "oracle failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "Failed keyboard-interactive/pam for alice from 203.0.113.9 port 1022 ssh2",
            "alice failure bad_password ssh ip=203.0.113.9",
        ),
        (
            "Failed none for invalid user test from 203.0.113.9 port 3333 ssh2",
            "noise",
        ),
        (
            "Invalid user admin from 203.0.113.9 port 4444",
            "admin failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "Invalid user admin from 203.0.113.9",
            "admin failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "User root from 203.0.113.9 not allowed because not listed in AllowUsers",
            "root failure other ssh ip=203.0.113.9",
        ),
        (
            "[ID 800047 auth.info] Failed keyboard-interactive for <invalid username> from 203.0.113.9 port 42742 ssh2",
            " failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "error: PAM: Authentication failure for alice from 203.0.113.9",
            "alice failure bad_password ssh ip=203.0.113.9",
        ),
        (
            "error: PAM: User not known to the underlying authentication module for illegal user kit from 203.0.113.9",
            "kit failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "ROOT LOGIN REFUSED FROM ::ffff:203.0.113.9",
            "root failure other ssh ip=203.0.113.9",
        ),
        (
            "refused connect from _U2F_@::ffff:203.0.113.9 (::ffff:203.0.113.9)",
            " failure blocked_source ssh ip=203.0.113.9",
        ),
        (
            "Disconnecting: Too many authentication failures for git [preauth]",
            "git failure other ssh",
        ),
        (
            "Received disconnect from 203.0.113.9: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]",
            " failure bad_password ssh ip=203.0.113.9",
        ),
        // Injections into the user name and the auth info (fail2ban's own cases).
        (
            "Failed password for invalid user test from 192.0.2.1 port 55555 ssh2 from 203.0.113.9 port 58946 ssh2",
            "test from 192.0.2.1 port 55555 ssh2 failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "Failed password for invalid user test from 203.0.113.9 port 58946 ssh2: from 192.0.2.1 port 55555 ssh2",
            "test failure unknown_account ssh ip=203.0.113.9",
        ),
        // Pre-authentication: scanners that leave before trying a credential.
        (
            "Connection closed by 203.0.113.9 port 22 [preauth]",
            " pre_auth ssh ip=203.0.113.9",
        ),
        (
            "Connection reset by authenticating user root 203.0.113.9 port 1558 [preauth]",
            "root pre_auth ssh ip=203.0.113.9",
        ),
        (
            "Connection closed by authenticating user test 127.0.0.1 203.0.113.9 port 46039 [preauth]",
            "test 127.0.0.1 pre_auth ssh ip=203.0.113.9",
        ),
        (
            "Did not receive identification string from 203.0.113.9 port 35836",
            " pre_auth ssh ip=203.0.113.9",
        ),
        (
            "Unable to negotiate with 203.0.113.9 port 55419: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1",
            " pre_auth ssh ip=203.0.113.9",
        ),
        (
            "banner exchange: Connection from 203.0.113.9 port 44105: invalid format",
            " pre_auth ssh ip=203.0.113.9",
        ),
        (
            "error: kex_exchange_identification: Connection closed by remote host",
            " pre_auth ssh",
        ),
        ("Connection closed by 203.0.113.9", "noise"),
        (
            "Accepted password for bob from 198.51.100.4 port 50000 ssh2",
            "bob success ssh ip=198.51.100.4",
        ),
        (
            "Accepted publickey for bob from 198.51.100.4 port 50000 ssh2: ED25519 SHA256:Zk3c4ZyVTm0",
            "bob success ssh ip=198.51.100.4",
        ),
        (
            "Accepted keyboard-interactive/pam for Bob from 198.51.100.4 port 50000 ssh2",
            "bob success ssh ip=198.51.100.4",
        ),
        // IPv6 and IPv4-mapped addresses.
        (
            "Failed password for root from 2001:db8::1 port 22 ssh2",
            "root failure bad_password ssh ip=2001:db8::1",
        ),
        (
            "Failed password for root from ::ffff:203.0.113.9 port 22 ssh2",
            "root failure bad_password ssh ip=203.0.113.9",
        ),
        // An empty user name and one with spaces and a forged " from ".
        (
            "Failed password for invalid user  from 203.0.113.9 port 22 ssh2",
            " failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "Failed password for invalid user john smith from 203.0.113.9 port 22 ssh2",
            "john smith failure unknown_account ssh ip=203.0.113.9",
        ),
        (
            "Failed password for invalid user x from 192.0.2.1 port 1 from 203.0.113.9 port 22 ssh2",
            "x from 192.0.2.1 port 1 failure unknown_account ssh ip=203.0.113.9",
        ),
        // Old sshd without a port, a trailing [preauth], and a host name from UseDNS.
        (
            "Failed password for root from 203.0.113.9",
            "root failure bad_password ssh ip=203.0.113.9",
        ),
        (
            "Failed password for root from 203.0.113.9 port 22 ssh2 [preauth]",
            "root failure bad_password ssh ip=203.0.113.9",
        ),
        (
            "Failed password for root from scanner.example port 22 ssh2",
            "root failure bad_password ssh",
        ),
        // Lines that are about attempts already counted, or about nothing.
        (
            "error: maximum authentication attempts exceeded for root from 203.0.113.9 port 22 ssh2 [preauth]",
            "root failure other ssh ip=203.0.113.9",
        ),
        (
            "Disconnected from invalid user admin 203.0.113.9 port 4444 [preauth]",
            "admin pre_auth ssh ip=203.0.113.9",
        ),
        (
            "Received disconnect from 203.0.113.9 port 4444:11: Bye Bye [preauth]",
            " pre_auth ssh ip=203.0.113.9",
        ),
        (
            "Connection closed by authenticating user root 203.0.113.9 port 22 [preauth]",
            "root pre_auth ssh ip=203.0.113.9",
        ),
        (
            "Received disconnect from 198.51.100.4 port 4444:11: disconnected by user",
            "noise",
        ),
        (
            "pam_unix(sshd:session): session opened for user bob(uid=1000) by (uid=0)",
            "noise",
        ),
        (
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
            "noise",
        ),
        (
            "Failed to release session: Interrupted system call",
            "noise",
        ),
        ("Server listening on 0.0.0.0 port 22.", "noise"),
        ("", "noise"),
    ];
    for (message, expected) in cases {
        let line = format!("Mar  1 03:14:15 web1 sshd[1234]: {message}");
        let expected = if *expected == "noise" {
            "noise".to_owned()
        } else {
            format!("{T} {expected} app=sshd reason={message}")
        };
        check(&line, &expected);
    }
}

#[test]
fn repeated_messages_count_each_attempt() {
    let line = "Mar  1 03:14:15 web1 sshd[1234]: message repeated 3 times: [ Failed password for root from 203.0.113.9 port 22 ssh2]";
    let one = format!(
        "{T} root failure bad_password ssh ip=203.0.113.9 app=sshd \
         reason=Failed password for root from 203.0.113.9 port 22 ssh2"
    );
    check(line, &[one.as_str(), one.as_str(), one.as_str()].join("\n"));
    check(
        "Mar  1 03:14:15 web1 sshd[1234]: message repeated 2 times: [ Server listening on :: port 22.]",
        "noise",
    );
}

#[test]
fn header_shapes() {
    let msg = "Failed password for root from 203.0.113.9 port 22 ssh2";
    let tail = format!("root failure bad_password ssh ip=203.0.113.9 app=sshd reason={msg}");
    let cases = [
        (
            format!("<38>1 2026-11-23T10:00:00.123Z web1 sshd 1234 - - {msg}"),
            "2026-11-23T10:00:00.123Z",
        ),
        (
            format!("2026-11-23T10:00:00+00:00 web1 sshd[1234]: {msg}"),
            "2026-11-23T10:00:00Z",
        ),
        (
            format!("2026-11-23T10:00:00.123456+01:00 web1 sshd[1234]: {msg}"),
            "2026-11-23T09:00:00.123456Z",
        ),
        (
            format!("Nov 23 10:00:00 web1 sshd-session[99]: {msg}"),
            "2026-11-23T10:00:00Z",
        ),
    ];
    for (line, time) in cases {
        check(&line, &format!("{time} {tail}"));
    }
}

#[test]
fn other_programs_and_unreadable_lines() {
    let cases = [
        (
            "Mar  1 03:14:15 web1 CRON[99]: (root) CMD (run-parts /etc/cron.hourly)",
            "noise",
        ),
        (
            "Mar  1 03:14:15 web1 kernel: [ 12.3] Failed password for root from 1.2.3.4 port 1 ssh2",
            "noise",
        ),
        ("just some text", "noise"),
        // Another program's bad date is not our business.
        ("Feb 30 03:14:15 web1 cron[1]: hello", "noise"),
        (
            "Foo  1 03:14:15 web1 sshd[1]: Failed password for root from 1.2.3.4 port 1 ssh2",
            "error: syslog header: \"Foo\" is not a month abbreviation; expected an RFC 3164 \
             (`Mar  1 03:14:15 host sshd[1234]: …`), RFC 5424 or ISO 8601 timestamp, then host \
             and program",
        ),
        (
            "Mar  1 03:14:15 web1 sshd[1]: Failed password for root",
            "error: sshd message \"Failed password for root\" is not understood: expected \
             `for <user> from <address> port <port>`",
        ),
        (
            "Mar  1 03:14:15 web1 sshd[1]: message repeated 99999 times: [ Failed password for root from 1.2.3.4 port 1 ssh2]",
            "error: sshd message \"message repeated 99999 times: [ Failed password for root from \
             1.2.3.4 port 1 ssh2]\" is not understood: expected a repeat count of at most 10000",
        ),
        (
            "Mar  1 03:14:15 web1 sshd[1]: message repeated x times: [ hi]",
            "error: sshd message \"message repeated x times: [ hi]\" is not understood: expected \
             `message repeated <N> times: [ <message>]`",
        ),
    ];
    for (line, expected) in cases {
        check(line, expected);
    }
}

#[test]
fn sign_ins_carry_origin_and_format() {
    let line = "Mar  1 03:14:15 web1 sshd[1]: Accepted password for bob from 1.2.3.4 port 1 ssh2";
    let origin = Origin::FileLine {
        file: "auth.log".into(),
        line: 7,
    };
    let Ok(crate::Parsed::SignIns(sign_ins)) =
        parse_line(line, origin.clone(), &ParseOptions::for_year(2026))
    else {
        panic!("expected a sign-in");
    };
    assert_eq!(sign_ins[0].origin, origin);
    assert_eq!(sign_ins[0].format, model::Format::Sshd);
    assert_eq!(sign_ins[0].result_code, None);
}
