use crate::test_support::check_line as check;

#[test]
fn messages() {
    let cases: &[(&str, &str)] = &[
        (
            "2014-12-02 03:00:23 auth_plain authenticator failed for (rom182) [203.0.113.9]:41556 I=[10.0.0.1]:25: 535 Incorrect authentication data (set_id=Webmaster)",
            "2014-12-02T03:00:23Z webmaster failure bad_password smtp ip=203.0.113.9 app=exim",
        ),
        (
            "2013-06-12 03:57:58 login authenticator failed for (ylmf-pc) [203.0.113.9]: 535 Incorrect authentication data: 1 Time(s)",
            "2013-06-12T03:57:58Z  failure bad_password smtp ip=203.0.113.9 app=exim",
        ),
        (
            "2019-10-22 03:39:17 mx1 exim[29786]: dovecot_login authenticator failed for ([10.0.0.5]) [203.0.113.9]: 535 Incorrect authentication data (set_id=t@x.org)",
            "2019-10-22T03:39:17Z t@x.org failure bad_password smtp ip=203.0.113.9 app=exim",
        ),
        (
            "Oct 22 03:39:17 mx1 exim[29786]: plain authenticator failed for (x) [203.0.113.9]: 535 Incorrect authentication data",
            "2026-10-22T03:39:17Z  failure bad_password smtp ip=203.0.113.9 app=exim",
        ),
        (
            "2017-11-28 14:14:32 SMTP protocol error in \"aUtH lOgIn\" H=(test) [8.8.8.8]\" H=(roxzgj) [192.0.2.6] AUTH command used when not advertised",
            "2017-11-28T14:14:32Z  pre_auth smtp ip=192.0.2.6 app=exim",
        ),
        (
            "2013-06-15 16:36:49 H=altmx.example [203.0.113.9] F=<a@b> rejected RCPT <c@d>: Unknown user",
            "noise",
        ),
    ];
    for (line, expected) in cases {
        check(line, expected);
    }
}
