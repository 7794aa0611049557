//! Rendered e-mail notifications, snapshot-tested in both languages, and the escaping and
//! defanging of what attackers and feeds chose.

mod common;

use jiff::Timestamp;
use model::attribution::{Alternative, Attribution, Confidence};
use model::{DetectionKind, Incident, IncidentState, OrgId, Severity};
use serde_json::json;
use store::Language;
use tocsin_notify::email::{self, EN, FR};
use tocsin_notify::notice::EmailNotice;

fn spray() -> serde_json::Value {
    let accounts: Vec<String> = (1..=14)
        .map(|n| format!("staff{n:02}@stbrigids-hospital.example"))
        .collect();
    json!({
        "event": "incident.opened",
        "delivery_id": "0193a000-0000-7000-8000-000000000001",
        "organisation": {"id": 1, "name": "St. Brigid's Hospital"},
        "incident": {
            "id": "0193a000-0000-7000-8000-0000000000aa",
            "kind": "password_spray",
            "technique": "T1110.003",
            "severity": "high",
            "state": "notified",
            "accounts": accounts,
            "sources": ["203.0.113.7"],
            "compromised_accounts": [],
            "first_seen": "2026-11-23T03:00:00Z",
            "last_seen": "2026-11-23T03:09:00Z",
            "evidence_count": 28,
            "summary": "Password spray against 14 accounts from 203.0.113.7.",
            "reasons": ["14 accounts failed from 203.0.113.0/24 within 9m."]
        },
        "evidence": [
            {"id": 1, "time": "2026-11-23T03:00:00Z", "account": "staff01@stbrigids-hospital.example", "source_ip": "203.0.113.7", "outcome": "failure", "country": "NL"},
            {"id": 2, "time": "2026-11-23T03:00:30Z", "account": "staff02@stbrigids-hospital.example", "source_ip": "203.0.113.7", "outcome": "failure", "country": "NL"}
        ],
        "recommended_actions": tocsin_notify::payload::recommended_actions(&incident(DetectionKind::PasswordSpray, false)),
    })
}

fn phishing() -> serde_json::Value {
    json!({
        "event": "incident.escalated",
        "delivery_id": "0193a000-0000-7000-8000-000000000002",
        "organisation": {"id": 2, "name": "Northwind <Vaccines> & Co"},
        "incident": {
            "id": "0193a000-0000-7000-8000-0000000000bb",
            "kind": "phishing",
            "technique": "T1566",
            "severity": "critical",
            "state": "notified",
            "accounts": ["ana.silva@northwind-vaccines.example"],
            "sources": ["evil-login.example"],
            "compromised_accounts": [],
            "first_seen": "2026-11-23T12:15:00Z",
            "last_seen": "2026-11-23T12:15:00Z",
            "evidence_count": 1,
            "summary": "Phishing from evil-login.example to 1 recipient.",
            "reasons": ["Links to https://evil-login.example/reset?u=ana"]
        },
        "evidence": [],
        "messages": [{
            "id": 3, "time": "2026-11-23T12:15:00Z", "message_id": "x@evil-login.example",
            "from": {"name": "<script>alert('IT')</script> Helpdesk", "address": "it@evil-login.example"},
            "reply_to": "drop@attacker.example",
            "subject": "Reset now <b>urgent</b> http://evil-login.example/a?b=1&c=2",
            "recipients": ["ana.silva@northwind-vaccines.example"],
            "attachments": [{"name": "<img src=x onerror=alert(1)>.html", "content_type": "text/html", "size": 10, "sha256": "00"}],
            "score": 90, "verdict": "phishing", "reasons": []
        }],
        "recommended_actions": tocsin_notify::payload::recommended_actions(&incident(DetectionKind::Phishing, false)),
    })
}

fn with_playbook(mut doc: serde_json::Value) -> serde_json::Value {
    doc["playbook"] = json!({
        "id": "password-spray",
        "version": 3,
        "title": "Password spray",
        "actions": [
            "Reset exposed credentials.",
            {"title": "Enforce MFA", "detail": "for every targeted account"},
            "Block legacy authentication."
        ]
    });
    doc
}

fn incident(kind: DetectionKind, compromised: bool) -> Incident {
    Incident {
        id: "i".into(),
        org: OrgId(1),
        kind,
        technique: kind.technique(),
        severity: Severity::High,
        state: IncidentState::Notified,
        campaign_key: String::new(),
        accounts: vec!["a@x.example".into()],
        sources: vec![],
        compromised_accounts: if compromised {
            vec!["a@x.example".into()]
        } else {
            vec![]
        },
        first_seen: Timestamp::UNIX_EPOCH,
        last_seen: Timestamp::UNIX_EPOCH,
        evidence_count: 1,
        summary: String::new(),
        reasons: vec![],
        indicators: vec![],
        attribution: None,
    }
}

/// A sign-in from an address a CERT feed links to Forest Blizzard, the account then
/// signed in to, and a Tor exit, attributed with high confidence: built as the intakes
/// build it, turned into the webhook document by `payload`.
fn known_indicator_incident() -> Incident {
    Incident {
        id: "0193a000-0000-7000-8000-0000000000cc".into(),
        org: OrgId(1),
        kind: DetectionKind::KnownIndicator,
        technique: DetectionKind::KnownIndicator.technique(),
        severity: Severity::Critical,
        state: IncidentState::Notified,
        campaign_key: "known_indicator:198.51.100.23".into(),
        accounts: vec![
            "mia.njoroge@stbrigids-hospital.example".into(),
            "omar.haddad@stbrigids-hospital.example".into(),
        ],
        sources: vec!["198.51.100.23".into(), "203.0.113.50".into()],
        compromised_accounts: vec!["mia.njoroge@stbrigids-hospital.example".into()],
        first_seen: "2026-11-23T03:00:00Z".parse().expect("time"),
        last_seen: "2026-11-23T03:02:00Z".parse().expect("time"),
        evidence_count: 2,
        summary: "Sign-ins from 2 addresses named by threat intelligence; mia.njoroge@stbrigids-hospital.example signed in from 198.51.100.23.".into(),
        reasons: vec!["198.51.100.23 is indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f of feed cert-feed.".into()],
        indicators: common::cert_feed_matches(),
        attribution: Some(common::forest_blizzard()),
    }
}

fn known_indicator_document(incident: &Incident) -> serde_json::Value {
    let document = tocsin_notify::payload::document(
        "incident.opened",
        "0193a000-0000-7000-8000-000000000003",
        "St. Brigid's Hospital",
        incident,
        &[],
        &[],
        None,
    );
    serde_json::from_str(&document).expect("json")
}

fn render(doc: &serde_json::Value, language: Language) -> EmailNotice {
    email::render(&doc.to_string(), language, "<row@cert.example>".into()).expect("renders")
}

fn shown(notice: &EmailNotice) -> String {
    format!(
        "Subject: {}\n\n===== text =====\n{}\n===== html =====\n{}",
        notice.subject, notice.text, notice.html
    )
}

#[test]
fn spray_in_english_and_french() {
    let en = render(&spray(), Language::En);
    assert_eq!(
        en.subject,
        "[tocsin] High: password spray against 14 accounts of St. Brigid's Hospital"
    );
    insta::assert_snapshot!("spray_en", shown(&en));
    let fr = render(&spray(), Language::Fr);
    assert!(
        fr.subject.starts_with("[tocsin] Élevée : pulvérisation"),
        "{}",
        fr.subject
    );
    insta::assert_snapshot!("spray_fr", shown(&fr));
}

#[test]
fn spray_with_playbook() {
    let doc = with_playbook(spray());
    let en = render(&doc, Language::En);
    assert!(
        en.text
            .contains("Playbook: Password spray (password-spray, v3)")
    );
    assert!(
        en.text
            .contains("2. Enforce MFA: for every targeted account")
    );
    insta::assert_snapshot!("spray_playbook_en", shown(&en));
    // An id this tocsin has no file for: the document's own English text, said to be so.
    let fr = render(&doc, Language::Fr);
    assert!(
        fr.text
            .contains("Cette procédure n'est rédigée qu'en anglais.")
    );
    insta::assert_snapshot!("spray_playbook_fr", shown(&fr));
    assert!(!render(&spray(), Language::En).text.contains("Playbook"));
}

#[test]
fn a_known_playbook_is_read_in_the_recipients_language() {
    let mut doc = spray();
    doc["playbook"] = json!({
        "id": "password_spray",
        "version": 1,
        "title": "Password spray: stop the guessing and close the doors it relies on",
        "actions": ["Reset the passwords of every listed account that may be exposed."],
        "language": "en"
    });
    let fr = render(&doc, Language::Fr);
    for part in [&fr.text, &fr.html] {
        assert!(
            part.contains("Pulvérisation de mots de passe"),
            "the French file's title: {part}"
        );
        assert!(
            part.contains("Imposez l'authentification multifacteur")
                || part.contains("Imposez l&#39;authentification multifacteur")
                || part.contains("Imposez l&#x27;authentification multifacteur"),
            "{part}"
        );
        assert!(!part.contains("Reset the passwords"), "{part}");
        assert!(!part.contains("rédigée qu'en anglais"), "{part}");
    }
    // The playbook replaces the plain list of recommended actions: said once, not twice.
    let en = render(&doc, Language::En);
    assert!(
        en.text.contains("Enforce multi-factor authentication"),
        "{}",
        en.text
    );
    assert_eq!(
        en.text.matches("Block legacy authentication").count(),
        1,
        "{}",
        en.text
    );
}

#[test]
fn hostile_phishing_is_escaped_and_defanged() {
    for language in [Language::En, Language::Fr] {
        let notice = render(&phishing(), language);
        for part in [&notice.text, &notice.html] {
            assert!(!part.contains("http://evil"), "{part}");
            assert!(!part.contains("https://evil"), "{part}");
            assert!(!part.contains("evil-login.example"), "{part}");
            assert!(part.contains("evil-login[.]example"), "{part}");
        }
        assert!(!notice.html.contains("<script"), "{}", notice.html);
        assert!(!notice.html.contains("<img"), "{}", notice.html);
        assert!(!notice.html.contains("<b>urgent"), "{}", notice.html);
        assert!(notice.html.contains("&lt;script&gt;"));
        assert!(notice.html.contains("Northwind &lt;Vaccines&gt; &amp; Co"));
    }
    insta::assert_snapshot!("phishing_en", shown(&render(&phishing(), Language::En)));
    insta::assert_snapshot!("phishing_fr", shown(&render(&phishing(), Language::Fr)));
}

#[test]
fn an_update_says_so_in_both_languages() {
    let mut doc = spray();
    doc["event"] = json!("incident.updated");
    assert!(
        render(&doc, Language::En)
            .subject
            .starts_with("[tocsin] High (update):")
    );
    assert!(
        render(&doc, Language::Fr)
            .subject
            .starts_with("[tocsin] Élevée (mise à jour) :")
    );
}

#[test]
fn test_notification_says_it_is_a_test() {
    let doc = json!({"event": "notification.test", "delivery_id": "d1", "organisation": {"id": 1, "name": "A&B"}});
    let en = render(&doc, Language::En);
    assert_eq!(en.subject, "[tocsin] Test notification for A&B");
    assert!(en.html.contains("A&amp;B"));
    let fr = render(&doc, Language::Fr);
    assert_eq!(fr.subject, "[tocsin] Notification de test pour A&B");
}

/// French readers get every recommended action in French: none falls through to the
/// "in English" heading.
#[test]
fn every_recommended_action_has_a_french_translation() {
    let kinds = [
        DetectionKind::BruteForce,
        DetectionKind::PasswordSpray,
        DetectionKind::CredentialStuffing,
        DetectionKind::DistributedSpray,
        DetectionKind::CrossOrgCampaign,
        DetectionKind::Phishing,
        DetectionKind::KnownIndicator,
    ];
    for kind in kinds {
        for compromised in [false, true] {
            let mut doc = spray();
            doc["recommended_actions"] = json!(tocsin_notify::payload::recommended_actions(
                &incident(kind, compromised)
            ));
            let fr = render(&doc, Language::Fr);
            assert!(
                !fr.text.contains(FR.heading_untranslated),
                "{kind:?}: {}",
                fr.text
            );
            let en = render(&doc, Language::En);
            assert!(!en.text.contains(EN.heading_untranslated));
        }
    }
}

#[test]
fn defanging_keeps_text_readable() {
    assert_eq!(
        email::defang("see https://a.example/x and HTTP://b.example"),
        "see hxxps://a[.]example/x and HXXP://b[.]example"
    );
    assert_eq!(email::defang("Hello. World"), "Hello. World");
    assert_eq!(email::defang("198.51.100.7"), "198[.]51[.]100[.]7");
}

#[test]
fn known_indicator_says_who_and_which_indicators() {
    let doc = known_indicator_document(&known_indicator_incident());
    let en = render(&doc, Language::En);
    assert_eq!(
        en.subject,
        "[tocsin] Critical: sign-ins from known hostile infrastructure to 2 accounts of St. Brigid's Hospital"
    );
    for part in [&en.text, &en.html] {
        assert!(part.contains("Who is behind it"), "{part}");
        assert!(
            part.contains("Very likely Forest Blizzard (STRONTIUM, APT28) — high confidence"),
            "{part}"
        );
        assert!(
            part.contains("Also possible: Midnight Blizzard (low confidence)."),
            "{part}"
        );
        assert!(part.contains("Indicators matched"), "{part}");
        assert!(
            part.contains("198[.]51[.]100[.]23 (ipv4-addr:value) matched indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f from feed cert-feed; linked to forest-blizzard"),
            "{part}"
        );
        assert!(!part.contains("198.51.100.23"), "{part}");
        // Three evidence sentences of four.
        assert!(part.contains("Technique T1078"), "{part}");
        assert!(!part.contains("health sector"), "{part}");
    }
    insta::assert_snapshot!("known_indicator_en", shown(&en));

    let fr = render(&doc, Language::Fr);
    assert!(
        fr.subject.starts_with(
            "[tocsin] Critique : connexions depuis une infrastructure hostile connue vers 2 comptes"
        ),
        "{}",
        fr.subject
    );
    for part in [&fr.text, &fr.html] {
        assert!(part.contains("Qui est derrière l"), "{part}");
        assert!(
            part.contains(
                "Très probablement Forest Blizzard (STRONTIUM, APT28) — confiance élevée"
            ),
            "{part}"
        );
        assert!(part.contains("Indicateurs correspondants"), "{part}");
        assert!(
            part.contains("du flux cert-feed ; lié à forest-blizzard"),
            "{part}"
        );
        assert!(!part.contains("Who is behind"), "{part}");
    }
    insta::assert_snapshot!("known_indicator_fr", shown(&fr));
}

/// An indicator value and a feed name are the attacker's and the feed's text: never
/// markup in the HTML part, never a link, never a line of their own in the text part.
#[test]
fn hostile_indicators_are_escaped_and_defanged() {
    let mut incident = known_indicator_incident();
    incident.indicators[1].observed = "<script>alert(1)</script>.evil.example".into();
    incident.indicators[1].field = "domain-name:value".into();
    incident.indicators[1].feed = "\"><img src=x>".into();
    incident.indicators[1].actors = vec!["x\n-- \nReply with your password".into()];
    if let Some(attribution) = incident.attribution.as_mut() {
        attribution.evidence[0] =
            "Indicator from feed \"><img src=x> names <b>http://evil.example/x</b>.".into();
    }
    let doc = known_indicator_document(&incident);
    for language in [Language::En, Language::Fr] {
        let notice = render(&doc, language);
        let html = &notice.html;
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains(
                "&lt;script&gt;alert(1)&lt;/script&gt;.evil[.]example (domain-name:value)"
            ),
            "{html}"
        );
        assert!(html.contains("&quot;&gt;&lt;img src=x&gt;"), "{html}");
        assert!(
            html.contains("&lt;b&gt;hxxp://evil[.]example/x&lt;/b&gt;"),
            "{html}"
        );
        for part in [&notice.text, &notice.html] {
            assert!(!part.contains("evil.example"), "{part}");
            assert!(!part.contains("http://evil"), "{part}");
            assert!(
                part.contains("x[U+000A]-- [U+000A]Reply with your password"),
                "{part}"
            );
        }
        let text = &notice.text;
        assert!(
            text.contains("<script>alert(1)</script>.evil[.]example (domain-name:value)"),
            "{text}"
        );
        assert!(!text.contains("\nReply with"), "{text}");
        assert_eq!(text.matches("\n-- \n").count(), 1, "one footer: {text}");
    }
}

#[test]
fn an_unattributed_incident_says_why_not() {
    let mut incident = known_indicator_incident();
    incident.attribution = Some(Attribution {
        actor: None,
        confidence: Confidence::Low,
        words: model::attribution::UNATTRIBUTED,
        evidence: vec![
            "No indicator linked to an actor matched, and no catalogued actor is known for technique T1078.".into(),
            "Indicator tor-exits:412 (tor-exits) matched ipv4-addr:value = 203.0.113.50 but its feed links it to no actor.".into(),
        ],
        conflict: false,
        alternatives: vec![],
    });
    let doc = known_indicator_document(&incident);
    let en = render(&doc, Language::En);
    assert!(
        en.text.contains("Not attributed: No indicator linked to an actor matched, and no catalogued actor is known for technique T1078.\n"),
        "{}",
        en.text
    );
    // The reason is the headline; the rest is quoted below it, defanged.
    assert_eq!(
        en.text.matches("no catalogued actor").count(),
        1,
        "{}",
        en.text
    );
    assert!(en.text.contains("- Indicator tor-exits:412 (tor-exits) matched ipv4-addr:value = 203[.]0[.]113[.]50 but its feed links it to no actor."), "{}", en.text);
    let fr = render(&doc, Language::Fr);
    assert!(
        fr.text
            .contains("Attaque non attribuée\u{a0}: No indicator linked"),
        "{}",
        fr.text
    );
    assert!(
        fr.text.contains("Éléments retenus (rédigés en anglais)"),
        "{}",
        fr.text
    );

    // Indicators pointing at two actors equally: nobody is named, both are.
    incident.attribution = Some(Attribution {
        actor: None,
        confidence: Confidence::Low,
        words: model::attribution::ROUGHLY_EVEN_CHANCE,
        evidence: vec!["Conflicting intelligence: indicators link this incident to Forest Blizzard and Midnight Blizzard with equal support; no single actor is named.".into()],
        conflict: true,
        alternatives: vec![
            Alternative { id: "forest-blizzard".into(), name: "Forest Blizzard".into(), confidence: Confidence::Low },
            Alternative { id: "midnight-blizzard".into(), name: "Midnight Blizzard".into(), confidence: Confidence::Low },
        ],
    });
    let en = render(&known_indicator_document(&incident), Language::En);
    assert!(
        en.text.contains("Not attributed: the indicators point to more than one actor (Forest Blizzard, Midnight Blizzard)."),
        "{}",
        en.text
    );
    // No attribution weighed yet: no section at all, rather than a guess.
    incident.attribution = None;
    let en = render(&known_indicator_document(&incident), Language::En);
    assert!(!en.text.contains("Who is behind it"), "{}", en.text);
    assert!(en.text.contains("Indicators matched"), "{}", en.text);
}

/// The daily digest lists each incident in a few lines, with who is behind it, rather
/// than rendering as one empty incident.
#[test]
fn the_digest_lists_each_incident_with_who_is_behind_it() {
    let mut brute = incident(DetectionKind::BruteForce, false);
    brute.id = "0193a000-0000-7000-8000-0000000000dd".into();
    brute.severity = Severity::Low;
    brute.sources = (1..=7).map(|n| format!("192.0.2.{n}")).collect();
    brute.attribution = Some(Attribution {
        actor: None,
        confidence: Confidence::Low,
        words: model::attribution::UNATTRIBUTED,
        evidence: vec!["No indicator linked to an actor matched, and no catalogued actor is known for technique T1110.001.".into()],
        conflict: false,
        alternatives: vec![],
    });
    let mut known = known_indicator_incident();
    known.severity = Severity::Low;
    let document = tocsin_notify::payload::digest(
        "0193a000-0000-7000-8000-000000000004",
        OrgId(1),
        "St. Brigid's Hospital",
        &[
            tocsin_notify::payload::DigestEntry {
                incident: known,
                reach: None,
            },
            tocsin_notify::payload::DigestEntry {
                incident: brute,
                reach: None,
            },
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&document).expect("json");
    let en = render(&doc, Language::En);
    assert_eq!(
        en.subject,
        "[tocsin] Digest: 2 incidents of St. Brigid's Hospital"
    );
    for part in [&en.text, &en.html] {
        assert!(
            part.contains("Very likely Forest Blizzard (STRONTIUM, APT28) — high confidence"),
            "{part}"
        );
        assert!(
            part.contains("Not attributed: No indicator linked"),
            "{part}"
        );
        assert!(
            part.contains("198[.]51[.]100[.]23, 203[.]0[.]113[.]50"),
            "{part}"
        );
        assert!(part.contains("192[.]0[.]2[.]5, and 2 more"), "{part}");
        assert!(
            part.contains("0193a000-0000-7000-8000-0000000000dd"),
            "{part}"
        );
        assert!(!part.contains("attack on 0 accounts"), "{part}");
    }
    insta::assert_snapshot!("digest_en", shown(&en));
    let fr = render(&doc, Language::Fr);
    assert_eq!(
        fr.subject,
        "[tocsin] Récapitulatif : 2 incidents de St. Brigid's Hospital"
    );
    assert!(
        fr.text.contains("Très probablement Forest Blizzard"),
        "{}",
        fr.text
    );
    assert!(fr.text.contains("Attaque non attribuée"), "{}", fr.text);
    insta::assert_snapshot!("digest_fr", shown(&fr));
}

#[test]
fn a_failed_connector_in_english_and_french_with_the_vendor_text_escaped() {
    let organisation = store::Organisation {
        id: OrgId(3),
        name: "Echo <Clinic>".into(),
        sector: model::Sector::Clinic,
        country: "FR".into(),
        domains: Vec::new(),
        webhook_url: None,
        language: Language::En,
        created_at: Timestamp::UNIX_EPOCH,
    };
    let document = tocsin_notify::notice::connector_failed_document(
        "0193a000-0000-7000-8000-000000000003",
        &organisation,
        "entra",
        "graph",
        "Microsoft refused the app's credential: HTTP 401 Unauthorized: AADSTS7000222: The provided client secret keys for app '<script>' are expired.",
        "Create a new client secret in the Entra admin centre.",
    );
    let en = email::render(&document, Language::En, "<row@cert.example>".into()).expect("renders");
    assert_eq!(
        en.subject,
        "[tocsin] Sign-in logs of Echo <Clinic> stopped arriving (entra)"
    );
    assert!(en.html.contains("&lt;script&gt;") && !en.html.contains("<script>"));
    insta::assert_snapshot!("connector_failed_en", shown(&en));
    let fr = email::render(&document, Language::Fr, "<row@cert.example>".into()).expect("renders");
    assert!(fr.subject.contains("n'arrivent plus"), "{}", fr.subject);
    insta::assert_snapshot!("connector_failed_fr", shown(&fr));
}
