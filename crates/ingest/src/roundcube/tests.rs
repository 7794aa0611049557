use crate::test_support::check_line as check;

#[test]
fn messages() {
    let cases: &[(&str, &str)] = &[
        (
            "[22-Jan-2013 22:28:21 +0200]: FAILED login for User1 from 192.0.2.43",
            "2013-01-22T20:28:21Z user1 failure bad_password browser ip=192.0.2.43 app=roundcube",
        ),
        (
            "[10-May-2015 13:02:52 -0400]: <4z506z6r> Failed login for a@x.org from 192.0.2.4 in session 4z506z6r (error: 0)",
            "2015-05-10T17:02:52Z a@x.org failure bad_password browser ip=192.0.2.4 app=roundcube",
        ),
        (
            "[10-May-2015 13:02:52 -0400]: <4z506z6r> Successful login for bob (ID: 12) from 198.51.100.4 in session 4z506z6r",
            "2015-05-10T17:02:52Z bob success browser ip=198.51.100.4 app=roundcube",
        ),
        (
            "May 19 06:07:48 web roundcube[21296]: <crk9n97i> IMAP Error: Login failed for test against imap.x.org from 192.0.2.1. AUTHENTICATE PLAIN: Authentication failed. in /usr/share/rcube_imap.php on line 193",
            "2026-05-19T06:07:48Z test failure bad_password browser ip=192.0.2.1 app=roundcube",
        ),
        (
            "Jul 11 03:06:37 web roundcube: IMAP Error: Login failed for admin from 127.0.0.1 from 1.2.3.4. AUTHENTICATE PLAIN: A0002 NO Login failed. user=admin from 127.0.0.1 in /x.php on line 205",
            "2026-07-11T03:06:37Z admin from 127.0.0.1 failure bad_password browser ip=1.2.3.4 app=roundcube",
        ),
        ("[10-May-2015 13:02:52 -0400]: <4z5> PHP Error: x", "noise"),
    ];
    for (line, expected) in cases {
        check(line, expected);
    }
}
