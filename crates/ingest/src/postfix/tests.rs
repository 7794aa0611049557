use crate::test_support::check_line as check;

#[test]
fn messages() {
    let cases: &[(&str, &str)] = &[
        (
            "postfix/smtpd[1]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
            " failure bad_password smtp ip=203.0.113.9 app=postfix",
        ),
        (
            "postfix/submission/smtpd[1]: warning: host.example[203.0.113.9]:55729: SASL PLAIN authentication failed: authentication failure, sasl_username=bob@x.org",
            "bob@x.org failure bad_password smtp ip=203.0.113.9 app=postfix",
        ),
        (
            "postfix/smtpd[1]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: Connection lost to authentication server",
            "noise",
        ),
        (
            "postfix/smtpd[1]: warning: h[203.0.113.9]: SASL CRAM-MD5 authentication failed: Invalid authentication mechanism",
            " pre_auth smtp ip=203.0.113.9 app=postfix",
        ),
        (
            "postfix/smtpd[1]: 4BQ1: client=mua.example[198.51.100.4], sasl_method=PLAIN, sasl_username=Alice",
            "alice success smtp ip=198.51.100.4 app=postfix",
        ),
        (
            "postfix/smtpd[1]: lost connection after AUTH from unknown[203.0.113.9]",
            " pre_auth smtp ip=203.0.113.9 app=postfix",
        ),
        (
            "postfix/smtpd[1]: disconnect from unknown[203.0.113.9] ehlo=1 auth=0/1 quit=1 commands=2/3",
            " pre_auth smtp ip=203.0.113.9 app=postfix",
        ),
        (
            "postfix/postscreen[1]: PREGREET 14 after 0.08 from [203.0.113.9]:59415: EHLO ylmf-pc\\r\\n",
            " pre_auth smtp ip=203.0.113.9 app=postfix",
        ),
        (
            "postfix/smtpd[1]: lost connection after DATA from good[192.0.2.10]",
            "noise",
        ),
        (
            "postfix/smtpd[1]: disconnect from good[192.0.2.10] ehlo=1 mail=1 quit=1 commands=3",
            "noise",
        ),
        (
            "postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[203.0.113.9]: 554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using rbl.example; from=<a@b> to=<c@d> proto=ESMTP",
            "noise",
        ),
        (
            "postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[203.0.113.9]: 554 5.7.1 <c@d>: Relay access denied; from=<a@b> to=<c@d>",
            "noise",
        ),
    ];
    for (message, expected) in cases {
        let expected = if *expected == "noise" {
            "noise".to_owned()
        } else {
            format!("2026-03-10T13:33:30Z {expected}")
        };
        check(&format!("Mar 10 13:33:30 mx {message}"), &expected);
    }
}
