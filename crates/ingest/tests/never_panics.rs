//! Property tests: no input, however mangled, makes parsing panic.

use model::Origin;
use proptest::prelude::*;
use tocsin_ingest::{ParseOptions, Parsed, SourceReader, parse_line};

/// Real-shaped lines of every supported kind, to be mutated.
const SEEDS: &[&str] = &[
    "Mar  1 03:14:15 web1 sshd[1234]: Failed password for root from 203.0.113.9 port 22 ssh2",
    "Mar  1 03:14:15 web1 sshd[1234]: Failed password for invalid user  from 2001:db8::1 port 22 ssh2",
    "Mar  1 03:14:15 web1 sshd[1234]: message repeated 3 times: [ Failed password for root from 203.0.113.9 port 22 ssh2]",
    "Mar  1 03:14:15 web1 sshd[1234]: Accepted publickey for bob from 198.51.100.4 port 50000 ssh2: ED25519 SHA256:Zk3c",
    "<38>1 2026-11-23T10:00:00.123Z web1 sshd 1234 ID [a@1 k=\"v\\]\"] Invalid user admin from 203.0.113.9 port 4444",
    "2026-11-23T10:00:00.123456+01:00 web1 sshd-session[5]: Failed keyboard-interactive/pam for alice from 203.0.113.9 port 1022 ssh2",
    "Jun 13 16:30:54 mail dovecot: imap-login: Disconnected (auth failed, 2 attempts in 4 secs): user=<bob>, method=PLAIN, rip=203.0.113.9, lip=10.0.0.1",
    "Jan 29 05:13:50 mail dovecot: auth-worker(31326): pam(a,b,203.0.113.9,<s>): pam_authenticate() failed: Authentication failure (password mismatch?)",
    "@400000004c91b044077a9e94 dovecot-auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 ruser=x rhost=203.0.113.9  user=root",
    "Mar 10 13:33:30 mx postfix/smtpd[1]: warning: unknown[203.0.113.9]:55729: SASL LOGIN authentication failed: authentication failure, sasl_username=bob",
    "Mar 10 13:33:30 mx postfix/postscreen[1]: PREGREET 14 after 0.08 from [203.0.113.9]:59415: EHLO x",
    "2014-12-02 03:00:23 auth_plain authenticator failed for (h) [203.0.113.9]:41556 I=[10.0.0.1]:25: 535 Incorrect authentication data (set_id=w)",
    "2019-10-22 03:39:17 mx1 exim[29786]: SMTP protocol error in \"AUTH LOGIN\" H=(x) [8.8.8.8]\" H=(y) [192.0.2.6] AUTH command used when not advertised",
    "[22-Jan-2013 22:28:21 +0200]: <ab> IMAP Error: Login failed for a from 127.0.0.1 from 1.2.3.4. AUTHENTICATE PLAIN: NO x",
    "Nov 23 21:50:19 sshd[8148]: Connection closed by authenticating user a b 203.0.113.9 port 1 [preauth]",
    "Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed because not listed in AllowUsers",
    "Mar  1 03:14:15 srv sshd[20878]: kernel:[  970.699396]: Failed keyboard-interactive for <invalid username> from 205.186.180.55 port 42742 ssh2",
    r#"{"id":"1","createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"A@x.org","ipAddress":"203.0.113.9","clientAppUsed":"IMAP4","status":{"errorCode":50126,"failureReason":"Bad."},"location":{"countryOrRegion":"US"}}"#,
    r#"{"TimeGenerated":"2024-05-06T08:12:44Z","UserPrincipalName":"a@x.org","ResultType":"50126","IPAddress":"::ffff:198.51.100.23","Status":"{\"errorCode\":50126}","LocationDetails":{"countryOrRegion":"DE"},"AutonomousSystemNumber":64500}"#,
    r#"{"time":"2024-05-06 08:20:00","category":"SignInLogs","resultType":"50053","properties":{"createdDateTime":"2024-05-06T08:19:58Z","userPrincipalName":"a@x.org","status":{"errorCode":50053,"failureReason":"malicious IP"}}}"#,
    r#"{"CreationTime":"2024-05-06T09:01:02","Operation":"UserLoginFailed","RecordType":15,"UserId":"a@x.org","ClientIP":"[2001:db8::1]:443","LogonError":"IdsLocked","ExtendedProperties":[{"Name":"UserAgent","Value":"BAV2ROPC"}]}"#,
    r#"{"eventType":"user.session.start","published":"2022-03-22 14:21:53.225","uuid":"u","actor":{"alternateId":"a@x.org"},"client":{"ipAddress":"203.0.113.9","userAgent":{"rawUserAgent":"x"}},"outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"},"securityContext":{"asNumber":64500}}"#,
    r#"{"kind":"admin#reports#activity","id":{"time":"2024-05-06T11:22:33Z","uniqueQualifier":"7","applicationName":"login"},"actor":{"email":"a@x.org"},"ipAddress":"203.0.113.9","events":[{"name":"login_failure","parameters":[{"name":"login_failure_type","value":"login_failure_invalid_password"}]}]}"#,
    r#"{"@odata.context":"x","value":[{"createdDateTime":"2026-03-01T10:00:00Z","userPrincipalName":"a@x.org","status":{"errorCode":0}}]}"#,
];

fn origin() -> Origin {
    Origin::FileLine {
        file: "prop".into(),
        line: 1,
    }
}

/// Applies edits (position, operation, character) to a seed line.
fn mutate(seed: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for &(position, operation, c) in edits {
        let at = if chars.is_empty() {
            0
        } else {
            position % (chars.len() + 1)
        };
        match operation % 3 {
            0 => chars.insert(at, c),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ if at < chars.len() => chars[at] = c,
            _ => chars.push(c),
        }
    }
    chars.into_iter().collect()
}

fn check_invariants(result: &Result<Parsed, tocsin_ingest::RecordError>) {
    match result {
        Ok(Parsed::SignIns(sign_ins)) => assert!(!sign_ins.is_empty()),
        Ok(Parsed::Noise) => {}
        Ok(Parsed::OtherEvent { event_type, .. }) => assert!(!event_type.is_empty()),
        Err(err) => assert!(!err.to_string().is_empty()),
    }
}

proptest! {
    #[test]
    fn arbitrary_strings(line in any::<String>()) {
        check_invariants(&parse_line(&line, origin(), &ParseOptions::for_year(2026)));
    }

    #[test]
    fn mutated_valid_lines(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec(
            (any::<usize>(), any::<u8>(), prop_oneof![
                Just(' '), Just('"'), Just('{'), Just('}'), Just('['), Just(']'), Just(':'),
                Just('\\'), Just('\u{feff}'), Just('0'), Just('9'), any::<char>(),
            ]),
            0..6,
        ),
    ) {
        let line = mutate(SEEDS[seed], &edits);
        check_invariants(&parse_line(&line, origin(), &ParseOptions::for_year(2026)));
    }

    #[test]
    fn arbitrary_bytes_through_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let opts = ParseOptions { max_line_bytes: 64, max_document_bytes: 256, ..ParseOptions::for_year(2026) };
        for record in SourceReader::new("prop", bytes.as_slice(), opts) {
            check_invariants(&record.result);
        }
    }

    #[test]
    fn seeds_joined_through_the_reader(picks in proptest::collection::vec(0..SEEDS.len(), 0..8)) {
        let text: String = picks.iter().map(|&i| format!("{}\n", SEEDS[i])).collect();
        let count = SourceReader::new("prop", text.as_bytes(), ParseOptions::for_year(2026))
            .inspect(|record| check_invariants(&record.result))
            .count();
        // Every line is one record; a first JSON line that is complete keeps line mode.
        prop_assert_eq!(count, picks.len());
    }
}

#[test]
fn every_seed_parses_to_sign_ins_or_noise() {
    for seed in SEEDS {
        let result = parse_line(seed, origin(), &ParseOptions::for_year(2026));
        assert!(result.is_ok(), "{seed}: {result:?}");
    }
}
