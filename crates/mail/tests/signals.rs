//! The three sender-and-content signal modules together, on the two kinds of message the
//! protected organisations see: a Cerium-style WHO lure and the real WHO newsletter it
//! imitates, a Zinc-style recruiter and a real recruiter.

use model::{AuthHeader, Mail, Mailbox};
use tocsin_mail::signals::impersonation::{self, OwnIdentity};
use tocsin_mail::signals::{auth, lure};
use tocsin_mail::{Code, Finding};

fn mailbox(name: &str, address: &str) -> Mailbox {
    Mailbox {
        name: Some(name.into()),
        address: address.into(),
    }
}

fn all_findings(mail: &Mail) -> Vec<Finding> {
    let trusted = ["mx.google.com".to_owned()];
    let own = [OwnIdentity {
        name: "Hôpital Saint-Luc".into(),
        domains: vec!["saintluc.example".into()],
    }];
    let mut findings = auth::check(mail, &trusted);
    findings.extend(impersonation::check(mail, &own));
    findings.extend(lure::check(mail));
    findings
}

fn codes(findings: &[Finding]) -> Vec<Code> {
    let mut c: Vec<Code> = findings.iter().map(|f| f.code).collect();
    c.sort();
    c
}

#[test]
fn who_lure_from_free_mail_versus_the_real_newsletter() {
    let lure_mail = Mail {
        subject: "COVID-19: nouvelles recommandations de l'OMS".into(),
        from: vec![mailbox("W\u{043e}rld Health Organizati\u{043e}n", "who.director.covid@gmail.com")],
        reply_to: vec![mailbox("WHO", "who-covid-desk@protonmail.com")],
        return_path: Some("who.director.covid@gmail.com".into()),
        auth_headers: vec![AuthHeader {
            arc: false,
            value: "mx.google.com; dkim=pass header.i=@gmail.com header.s=20230601; spf=pass (google.com: domain of who.director.covid@gmail.com designates 209.85.220.41 as permitted sender) smtp.mailfrom=who.director.covid@gmail.com; dmarc=pass (p=NONE sp=QUARANTINE dis=NONE) header.from=gmail.com".into(),
        }],
        html: "<p>Veuillez consulter les <b>consignes de l'OMS</b> sur la vaccination.</p>".into(),
        ..Mail::default()
    };
    let found = all_findings(&lure_mail);
    assert_eq!(
        codes(&found),
        [
            Code::DisplayNameImpersonation,
            Code::ReplyToMismatch,
            Code::LureHealth,
        ],
        "{found:#?}"
    );

    let newsletter = Mail {
        subject: "WHO news: COVID-19 vaccination update".into(),
        from: vec![mailbox("World Health Organization", "news@who.int")],
        return_path: Some("bounce-123@mail.who.int".into()),
        auth_headers: vec![AuthHeader {
            arc: false,
            value: "mx.google.com; dkim=pass header.i=@who.int; spf=pass smtp.mailfrom=bounce-123@mail.who.int; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=who.int".into(),
        }],
        text: "Read the latest WHO guidance.".into(),
        ..Mail::default()
    };
    let found = all_findings(&newsletter);
    assert_eq!(
        codes(&found),
        [Code::DmarcPass, Code::LureHealth],
        "{found:#?}"
    );
}

#[test]
fn recruiter_from_free_mail_versus_a_real_recruiter() {
    let zinc = Mail {
        subject: "Job offer: Senior Engineer (remote)".into(),
        from: vec![mailbox("Jane Roe", "jane.roe.boeing@gmail.com")],
        text: "Hello,\n\nPlease find the job description attached.\nThe salary is negotiable.\n\nBest regards,\nJane Roe\nSenior Recruiter at Boeing\n".into(),
        ..Mail::default()
    };
    let found = all_findings(&zinc);
    assert_eq!(
        codes(&found),
        [Code::FreemailOfficialTitle, Code::LureRecruiting],
        "{found:#?}"
    );
    let evidence: Vec<&str> = found.iter().map(|f| f.evidence.as_str()).collect();
    assert!(
        evidence.contains(&"signature line \"Senior Recruiter at Boeing\" from free-mail address \"Jane Roe\" <jane.roe.boeing@gmail.com>"),
        "{evidence:?}"
    );

    let real = Mail {
        from: vec![mailbox("Jane Roe", "jane.roe@boeing.com")],
        ..zinc.clone()
    };
    assert_eq!(codes(&all_findings(&real)), [Code::LureRecruiting]);
}

#[test]
fn spoofed_own_domain_fails_authentication() {
    let spoof = Mail {
        subject: "Votre mot de passe expire aujourd'hui".into(),
        from: vec![mailbox("Service informatique", "it@saintluc.example")],
        return_path: Some("bounce@evil.example".into()),
        auth_headers: vec![
            AuthHeader {
                arc: false,
                value: "mx.google.com; spf=fail (google.com: domain of bounce@evil.example does not designate 198.51.100.7 as permitted sender) smtp.mailfrom=bounce@evil.example; dmarc=fail (p=REJECT sp=REJECT dis=REJECT) header.from=saintluc.example".into(),
            },
            // Written by the attacker: a different authserv-id, so ignored.
            AuthHeader {
                arc: false,
                value: "mx.saintluc.example; dmarc=pass header.from=saintluc.example".into(),
            },
        ],
        ..Mail::default()
    };
    let found = all_findings(&spoof);
    assert_eq!(
        codes(&found),
        [
            Code::ReturnPathMismatch,
            Code::SpfFail,
            Code::DmarcFail,
            Code::LureCredentials,
        ],
        "{found:#?}"
    );
}

mod never_panic {
    use super::*;
    use proptest::prelude::*;

    const INVISIBLE: [char; 4] = ['\u{200b}', '\u{200d}', '\u{202e}', '\u{feff}'];

    fn mail_from(name: String, address: String, text: String, html: String, auth: String) -> Mail {
        Mail {
            subject: text.chars().take(50).collect(),
            from: vec![Mailbox {
                name: Some(name),
                address: address.clone(),
            }],
            sender: Some(Mailbox {
                name: None,
                address,
            }),
            reply_to: vec![mailbox("x", "a@b.example")],
            return_path: Some(auth.chars().take(40).collect()),
            auth_headers: vec![
                AuthHeader {
                    arc: false,
                    value: auth.clone(),
                },
                AuthHeader {
                    arc: true,
                    value: auth,
                },
            ],
            text,
            html,
            ..Mail::default()
        }
    }

    proptest! {
        #[test]
        fn signals_accept_any_input(
            name in "(\\PC|[\u{200b}\u{200d}\u{202e}\u{feff} ]){0,80}",
            address in "[a-z@.\\-\u{430}-\u{44f}]{0,30}",
            text in "(\\PC|\n){0,300}",
            html in "[<>/a-z \"'=&#;!\\-0-9\u{ac00}-\u{ac10}]{0,300}",
            auth in "[a-z0-9 ;=().\"\\\\@/\t\r\n-]{0,200}",
        ) {
            let mail = mail_from(name, address, text, html.clone(), auth.clone());
            let _ = all_findings(&mail);
            if let Some(parsed) = auth::parse(&auth, true) {
                prop_assert!(parsed.results.len() <= 64);
            }
            // Every `<` opens markup; only a character reference can put one back.
            if !html.contains('&') {
                prop_assert!(!lure::html_text(&html).contains('<'));
            }
            let normalised = impersonation::normalise_display_name(
                mail.from[0].name.as_deref().unwrap_or_default(),
            );
            prop_assert!(!normalised.chars().any(|c| INVISIBLE.contains(&c)));
            prop_assert_eq!(normalised.trim(), normalised.as_str());
        }
    }
}
