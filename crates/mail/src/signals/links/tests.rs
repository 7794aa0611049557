use proptest::prelude::*;

use super::*;

fn html(body: &str) -> Mail {
    Mail {
        html: body.into(),
        ..Mail::default()
    }
}

fn text(body: &str) -> Mail {
    Mail {
        text: body.into(),
        ..Mail::default()
    }
}

/// (html, expected (href, host, text, source) of every link, in order)
#[test]
fn extract_reads_what_a_reader_can_click() {
    type Want<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Source);
    let cases: &[(&str, &[Want])] = &[
        (
            r#"<A HREF=&#x68;ttp://evil.example/x>Click</A>"#,
            &[(
                "http://evil.example/x",
                Some("evil.example"),
                Some("Click"),
                Source::Anchor,
            )],
        ),
        (
            "<a href=https://a.example/p?q=1&amp;r=2>  Sign\n  <b>in</b>\tnow </a>",
            &[(
                "https://a.example/p?q=1&r=2",
                Some("a.example"),
                Some("Sign in now"),
                Source::Anchor,
            )],
        ),
        (
            r#"<map><area shape=rect href="http://B.Example/" alt="map"></map>"#,
            &[(
                "http://B.Example/",
                Some("b.example"),
                Some("map"),
                Source::Area,
            )],
        ),
        (
            r#"<form method=post action="https://c.example/post"><input name=u><INPUT TYPE="Password" name=p></form>"#,
            &[(
                "https://c.example/post",
                Some("c.example"),
                None,
                Source::Form { password: true },
            )],
        ),
        (
            r#"<form action="https://c.example/search"><input name=q></form>"#,
            &[(
                "https://c.example/search",
                Some("c.example"),
                None,
                Source::Form { password: false },
            )],
        ),
        (
            r#"<meta http-equiv="Refresh" content="0; URL='https://d.example/go'">"#,
            &[(
                "https://d.example/go",
                Some("d.example"),
                None,
                Source::MetaRefresh,
            )],
        ),
        // Images, scripts' contents, mail and in-page links are not destinations.
        (
            r##"<img src="http://e.example/p.gif"><script>x='<a href="http://f.example/">x</a>'</script><a href="mailto:a@b.example">m</a><a href="#top">t</a><a href="cid:logo">c</a>"##,
            &[],
        ),
        // An unclosed anchor ends at the next one.
        (
            r#"<a href="https://g.example/1">one<a href="https://g.example/2">two"#,
            &[
                (
                    "https://g.example/1",
                    Some("g.example"),
                    Some("one"),
                    Source::Anchor,
                ),
                (
                    "https://g.example/2",
                    Some("g.example"),
                    Some("two"),
                    Source::Anchor,
                ),
            ],
        ),
        (
            r#"<a href="data:text/html;base64,PHNjcmlwdD4=">open</a>"#,
            &[(
                "data:text/html;base64,PHNjcmlwdD4=",
                None,
                Some("open"),
                Source::Anchor,
            )],
        ),
        (
            r#"<a href="//h.example/x">x</a><a href="www.i.example">i</a>"#,
            &[
                (
                    "//h.example/x",
                    Some("h.example"),
                    Some("x"),
                    Source::Anchor,
                ),
                (
                    "www.i.example",
                    Some("www.i.example"),
                    Some("i"),
                    Source::Anchor,
                ),
            ],
        ),
    ];
    for (input, want) in cases {
        let got = extract(&html(input)).links;
        let got: Vec<Want> = got
            .iter()
            .map(|l| {
                (
                    l.href.as_str(),
                    l.host.as_deref(),
                    l.text.as_deref(),
                    l.source,
                )
            })
            .collect();
        assert_eq!(&got, want, "{input}");
    }
}

#[test]
fn idn_hosts_keep_both_forms() {
    let links = extract(&html(r#"<a href="https://аррӏе.com/">x</a>"#)).links;
    assert_eq!(links[0].host.as_deref(), Some("xn--80ak6aa92e.com"));
    assert_eq!(links[0].host_unicode.as_deref(), Some("аррӏе.com"));
}

#[test]
fn bare_urls_in_plain_text() {
    let links = extract(&text(
        "See https://x.example/a, then (www.y.example). Not awww.z.example or a.example.\nftp://no",
    ))
    .links;
    let hrefs: Vec<&str> = links.iter().map(|l| l.href.as_str()).collect();
    assert_eq!(hrefs, ["https://x.example/a", "www.y.example"]);
    assert!(links.iter().all(|l| !l.in_html && l.source == Source::Text));
}

#[test]
fn extraction_is_capped_with_a_warning() {
    let body: String = (0..1_500)
        .map(|i| format!(r#"<a href="https://n{i}.example/">{i}</a>"#))
        .collect();
    let got = extract(&html(&body));
    assert_eq!(got.links.len(), MAX_LINKS);
    assert_eq!(got.warnings.len(), 1);
    assert!(got.warnings[0].contains("1000"), "{:?}", got.warnings);
    assert!(
        extract(&html(r#"<a href="https://a.example/">a</a>"#))
            .warnings
            .is_empty()
    );
}

#[test]
fn hosts_are_distinct_in_order() {
    let got = extract(&html(
        r#"<a href="https://b.example/1">1</a><a href="https://a.example/">2</a><a href="https://b.example/2">3</a><a href="data:,x">4</a>"#,
    ));
    assert_eq!(hosts(&got.links), ["b.example", "a.example"]);
}

fn findings(body: &str) -> Vec<Finding> {
    check(&extract(&html(body)).links)
}

/// (html, the finding expected — code and a piece of its evidence — or `None` for none
/// of `code`)
#[test]
fn check_finds_each_sign() {
    use Code::*;
    let cases: &[(&str, Code, Option<&str>)] = &[
        (
            r#"<a href="http://3232235777/login">x</a>"#,
            LinkIpLiteral,
            Some("hxxp://3232235777/login (host is the IPv4 address 192[.]168[.]1[.]1)"),
        ),
        (
            r#"<a href="http://0xC0A80101/">x</a>"#,
            LinkIpLiteral,
            Some("192[.]168[.]1[.]1"),
        ),
        (
            r#"<a href="http://0300.0250.1.1/">x</a>"#,
            LinkIpLiteral,
            Some("192[.]168[.]1[.]1"),
        ),
        (
            r#"<a href="http://203.0.113.9/a">x</a>"#,
            LinkIpLiteral,
            Some("hxxp://203[.]0[.]113[.]9/a"),
        ),
        (
            r#"<a href="https://[2001:db8::1]/a">x</a>"#,
            LinkIpLiteral,
            Some("hxxps://[2001:db8::1]/a"),
        ),
        (
            r#"<a href="https://www.ip-sample.example/">x</a>"#,
            LinkIpLiteral,
            None,
        ),
        (
            r#"<a href="https://xn--80ak6aa92e.com/">x</a>"#,
            LinkPunycode,
            Some("hxxps://xn--80ak6aa92e[.]com/ (displays as аррӏе.com)"),
        ),
        (r#"<a href="https://who.int/">x</a>"#, LinkPunycode, None),
        (
            r#"<a href="https://bit.ly/3abc">x</a>"#,
            LinkShortener,
            Some("hxxps://bit[.]ly/3abc"),
        ),
        (
            r#"<a href="https://www.tinyurl.com/y">x</a>"#,
            LinkShortener,
            Some("tinyurl"),
        ),
        (
            r#"<a href="https://notbit.ly.example/">x</a>"#,
            LinkShortener,
            None,
        ),
        (
            r#"<a href="https://evil.example/owa/auth/logon.aspx">x</a>"#,
            LinkCredentialPath,
            Some("hxxps://evil[.]example/owa/auth/logon.aspx"),
        ),
        (
            r#"<a href="https://evil.example/Account/Update?id=1">x</a>"#,
            LinkCredentialPath,
            Some("Account/Update"),
        ),
        (
            r#"<a href="https://evil.example/index.php?page=signin">x</a>"#,
            LinkCredentialPath,
            Some("page=signin"),
        ),
        (
            r#"<a href="https://evil.example/wp-login.php">x</a>"#,
            LinkCredentialPath,
            Some("wp-login"),
        ),
        (
            r#"<a href="https://microsoft.com@evil.example/">x</a>"#,
            LinkCredentialPath,
            Some("\"microsoft.com\" before the @ hides the real host evil[.]example"),
        ),
        (
            r#"<a href="https://www.linkedin.com/login">x</a>"#,
            LinkCredentialPath,
            None,
        ),
        (
            r#"<a href="https://news.example/blog/how-to-verify-facts">x</a>"#,
            LinkCredentialPath,
            None,
        ),
        (
            r#"<a href="https://shop.example/catalog?q=shoes">x</a>"#,
            LinkCredentialPath,
            None,
        ),
        (
            r#"<a href="https://evil.example/who">https://www.who.int/emergencies</a>"#,
            LinkTextMismatch,
            Some("text \"https://www.who.int/emergencies\" links to hxxps://evil[.]example/who"),
        ),
        (
            r#"<a href="https://evil.example/">who.int</a>"#,
            LinkTextMismatch,
            Some("text \"who.int\""),
        ),
        (
            r#"<a href="https://evil.example/">Visit https://who.int today</a>"#,
            LinkTextMismatch,
            Some("Visit"),
        ),
        (
            r#"<a href="http://198.51.100.7/">www.who.int</a>"#,
            LinkTextMismatch,
            Some("hxxp://198[.]51[.]100[.]7/"),
        ),
        (
            r#"<a href="https://click.who.int/track?u=1">www.who.int</a>"#,
            LinkTextMismatch,
            None,
        ),
        (
            r#"<a href="https://www.who.int/x">https://who.int/x</a>"#,
            LinkTextMismatch,
            None,
        ),
        (
            r#"<a href="https://evil.example/">Read more</a>"#,
            LinkTextMismatch,
            None,
        ),
        (
            r#"<a href="https://files.example/r.zip">report.zip</a>"#,
            LinkTextMismatch,
            None,
        ),
        (
            r#"<a href="https://files.example/r">invoice.pdf</a>"#,
            LinkTextMismatch,
            None,
        ),
        (
            r#"<a href="data:text/html;base64,PHNjcmlwdD4=">open</a>"#,
            LinkDataUri,
            Some("data:text/html;base64,PHNjcmlwdD4= (text/html)"),
        ),
        (
            r#"<a href=" DATA:,hello">open</a>"#,
            LinkDataUri,
            Some("(text/plain)"),
        ),
        (
            r#"<form action="https://evil.example/p.php"><input type=password></form>"#,
            HtmlPasswordForm,
            Some("a form posting to hxxps://evil[.]example/p.php with a password field"),
        ),
        (
            r#"<form><input type=text></form>"#,
            HtmlForm,
            Some("a form without an action"),
        ),
        (
            r#"<input type=password name=p>"#,
            HtmlPasswordForm,
            Some("a form without an action with a password field"),
        ),
        (r#"<p>no form here</p>"#, HtmlForm, None),
    ];
    for (input, code, want) in cases {
        let all = findings(input);
        let got: Vec<&Finding> = all.iter().filter(|f| f.code == *code).collect();
        match want {
            Some(piece) => {
                assert_eq!(got.len(), 1, "{input}: {got:?}");
                assert!(
                    got[0].evidence.contains(piece),
                    "{input}: {} lacks {piece}",
                    got[0].evidence
                );
            }
            None => assert!(got.is_empty(), "{input}: {got:?}"),
        }
    }
}

#[test]
fn one_finding_per_code_and_host() {
    let body: String = (0..40)
        .map(|i| format!(r#"<a href="https://bit.ly/n{i}">{i}</a>"#))
        .collect::<String>()
        + r#"<a href="https://tinyurl.com/z">z</a>"#;
    let got = findings(&body);
    let shorteners: Vec<&Finding> = got
        .iter()
        .filter(|f| f.code == Code::LinkShortener)
        .collect();
    assert_eq!(shorteners.len(), 2, "{got:?}");
}

#[test]
fn findings_per_code_are_bounded() {
    let body: String = (0..100)
        .map(|i| format!(r#"<a href="http://10.0.0.{i}/">{i}</a>"#))
        .collect();
    let got = findings(&body);
    assert_eq!(got.len(), MAX_FINDINGS_PER_CODE);
}

#[test]
fn plain_text_links_are_checked_too() {
    let got = check(&extract(&text("Open http://192.0.2.1/verify now")).links);
    let codes: Vec<Code> = got.iter().map(|f| f.code).collect();
    assert_eq!(codes, [Code::LinkIpLiteral, Code::LinkCredentialPath]);
}

#[test]
fn defang_table() {
    let cases = [
        ("https://evil.example/login", "hxxps://evil[.]example/login"),
        (
            "HTTP://a.b.example:8080/x.y?z=1.2",
            "hxxp://a[.]b[.]example:8080/x.y?z=1.2",
        ),
        ("ftp://f.example/", "fxp://f[.]example/"),
        ("www.who.int/covid", "www[.]who[.]int/covid"),
        ("data:text/html,<b>x.y</b>", "data:text/html,<b>x.y</b>"),
        ("https://u@h.example", "hxxps://u@h[.]example"),
    ];
    for (input, want) in cases {
        assert_eq!(defang(input), want, "{input}");
    }
}

#[test]
fn evidence_is_cut_on_a_character_boundary() {
    let long = format!("https://evil.example/{}", "é".repeat(500));
    let got = findings(&format!(r#"<a href="http://192.0.2.1/{long}">x</a>"#));
    let evidence = &got[0].evidence;
    assert!(
        evidence.chars().count() <= MAX_EVIDENCE_CHARS + 1,
        "{evidence}"
    );
    assert!(evidence.ends_with('…'));
    assert_eq!(printable("a\u{202E}b\nc", 50), "a[U+202E]b[U+000A]c");
}

proptest! {
    #[test]
    fn extract_and_check_never_panic(body in any::<String>()) {
        let mail = Mail { html: body.clone(), text: body, ..Mail::default() };
        let got = extract(&mail);
        prop_assert!(got.links.len() <= MAX_LINKS);
        let _ = check(&got.links);
    }

    #[test]
    fn tag_soup_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("<a href="), Just("<A HREF='"), Just("<form action="), Just("<input type=password>"),
                Just("<meta http-equiv=refresh content='0;url="), Just("</a>"), Just("</form>"),
                Just("&#x68;ttp://"), Just("https://"), Just("www."), Just("xn--"), Just("data:"),
                Just("@"), Just("."), Just("/"), Just("["), Just("]"), Just(":"), Just("\""),
                Just("'"), Just(">"), Just(" "), Just("é"), Just("\u{202E}"), Just("0x"), Just("99"),
                Just("<script>"), Just("<!--"), Just("who.int"), Just("login"),
            ],
            0..60,
        )
    ) {
        let body: String = parts.concat();
        let got = extract(&html(&body));
        for f in check(&got.links) {
            prop_assert!(f.evidence.chars().count() <= MAX_EVIDENCE_CHARS + 10);
        }
    }
}

#[test]
fn wrapped_links_are_judged_by_where_they_lead() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwho-int.org%2Flogin&data=05%7C01&reserved=0",
            "https://who-int.org/login",
            "Microsoft Safe Links",
        ),
        (
            "https://urldefense.proofpoint.com/v2/url?u=https-3A__linkedln.com_jobs&d=DwMF&c=x",
            "https://linkedln.com/jobs",
            "Proofpoint URL Defense",
        ),
        (
            "https://urldefense.com/v3/__https://rnicrosoft.com/owa__;!!abc$",
            "https://rnicrosoft.com/owa",
            "Proofpoint URL Defense",
        ),
        (
            "https://www.google.com/url?q=http://203.0.113.7/login.php&sa=D",
            "http://203.0.113.7/login.php",
            "Google redirect",
        ),
        // Safe Links around URL Defense: both layers come off.
        (
            "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Furldefense.com%2Fv3%2F__https%3A%2F%2Fwho-int.org%2F__%3B%21%21x%24&data=1",
            "https://who-int.org/",
            "Proofpoint URL Defense",
        ),
    ];
    for (href, want, wrapper) in cases {
        let links = extract(&html(&format!(r#"<a href="{href}">Open</a>"#))).links;
        assert_eq!(links.len(), 1, "{href}");
        assert_eq!(links[0].href, *want, "{href}");
        assert_eq!(links[0].wrapped_by, Some(*wrapper), "{href}");
    }
    // The text shows the real site and the wrapped link goes there: no mismatch.
    let honest = extract(&html(
        r#"<a href="https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.who.int%2Fnews&data=1">www.who.int/news</a>"#,
    ))
    .links;
    assert!(
        check(&honest)
            .iter()
            .all(|f| f.code != Code::LinkTextMismatch),
        "{:?}",
        check(&honest)
    );
    // Wrapped or not, an IP-literal destination is reported, and says it was wrapped.
    let ip = extract(&html(
        r#"<a href="https://www.google.com/url?q=http://203.0.113.7/login.php">x</a>"#,
    ))
    .links;
    let found = check(&ip);
    let f = found
        .iter()
        .find(|f| f.code == Code::LinkIpLiteral)
        .expect("ip literal");
    assert!(
        f.evidence.contains("unwrapped from Google redirect"),
        "{}",
        f.evidence
    );
}
