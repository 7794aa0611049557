//! The actor catalogue against the public MISP galaxies, and attribution of the incidents
//! the product brief describes: Strontium's password spray, Zinc's recruiter lures,
//! Cerium's health-authority lures.

use model::Sector;
use tocsin_intel::Match;
use tocsin_intel::actors::{self, Absorbed, Catalogue};
use tocsin_intel::attribution::{Clues, Confidence, attribute};

fn galaxy(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/data/intel/misp-galaxy/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The built-in catalogue after absorbing the MISP threat-actor galaxy and Microsoft's
/// activity-group galaxy, as an operator loading both would have it.
fn with_galaxies() -> Catalogue {
    let mut catalogue = Catalogue::builtin();
    for file in ["threat-actor.json", "microsoft-activity-group.json"] {
        let intel = actors::from_galaxy(&galaxy(file), file).expect("present");
        assert!(intel.problems.is_empty(), "{file}: {:?}", intel.problems);
        for actor in intel.actors {
            assert!(!matches!(catalogue.absorb(actor), Absorbed::Refused(_)));
        }
    }
    catalogue
}

#[test]
fn the_galaxies_read_every_cluster() {
    let misp =
        actors::from_galaxy(&galaxy("threat-actor.json"), "threat-actor.json").expect("present");
    assert_eq!(misp.actors.len(), 1041);
    let apt28 = misp
        .actors
        .iter()
        .find(|a| a.name == "APT28")
        .expect("present");
    assert_eq!(apt28.id, "5b4ee3ea-eee3-4c8e-8323-85ae32658754");
    assert_eq!(apt28.origin.as_deref(), Some("RU"));
    assert!(apt28.aliases.iter().any(|a| a == "Forest Blizzard"));
    assert_eq!(apt28.aliases.len(), 29);
    let microsoft = actors::from_galaxy(
        &galaxy("microsoft-activity-group.json"),
        "microsoft-activity-group.json",
    )
    .expect("present");
    assert_eq!(microsoft.actors.len(), 179);
    let ruby = microsoft
        .actors
        .iter()
        .find(|a| a.name == "Ruby Sleet")
        .expect("present");
    assert_eq!(ruby.aliases, ["CERIUM", "VELVET CHOLLIMA"]);
    assert_eq!(ruby.origin.as_deref(), Some("KP"));
}

#[test]
fn every_name_of_a_group_resolves_to_its_one_catalogue_entry() {
    let catalogue = with_galaxies();
    // 1041 MISP clusters and 179 Microsoft ones, 8 built in: 1042 distinct groups once
    // merged by shared names.
    assert_eq!(catalogue.len(), 1042);
    for name in [
        "Fancy Bear",
        "Sofacy",
        "STRONTIUM",
        "Forest Blizzard",
        "FOREST BLIZZARD",
        "forest-blizzard",
        "APT 28",
        "Fighting Ursa",
        "BlueDelta",
    ] {
        assert_eq!(catalogue.find(name).expect("present").id, "apt28", "{name}");
    }
    // The galaxies' own ids resolve to the catalogue entry: indicators linked to them
    // count for it.
    for id in [
        "5b4ee3ea-eee3-4c8e-8323-85ae32658754", // MISP threat-actor "APT28"
        "8d84d7b0-7716-5ab3-a3a4-f373dd148347", // Microsoft "Forest Blizzard"
        "213cdde9-c11a-4ea9-8ce0-c868e9826fec", // Microsoft "STRONTIUM"
    ] {
        assert_eq!(catalogue.resolve(id).expect("present").id, "apt28", "{id}");
    }
    let zinc = catalogue.find("ZINC").expect("present");
    assert_eq!(zinc.id, "zinc");
    assert_eq!(catalogue.find("Lazarus Group").expect("present").id, "zinc");
    assert_eq!(catalogue.find("Diamond Sleet").expect("present").id, "zinc");
    assert_eq!(
        catalogue
            .resolve("68391641-859f-4a9a-9a1e-3e5cf71ec376")
            .expect("present")
            .id,
        "zinc"
    );
    // MISP's "ZINC EMERSON" (Patchwork) is another group.
    assert_eq!(
        catalogue.find("ZINC EMERSON").expect("present").name,
        "QUILTED TIGER"
    );
    let cerium = catalogue.find("CERIUM").expect("present");
    assert_eq!(cerium.id, "cerium");
    assert_eq!(cerium.name, "Ruby Sleet");
    assert_eq!(
        catalogue.alias_ids("cerium"),
        [
            "03ff54cf-f7d4-4606-a531-2ca6d4fa6a54",
            "c29e7262-6a6f-501d-8c00-57f75f2172a3"
        ]
    );
    // MISP lists Grizzly Steppe (the US government's name for Russian intelligence
    // services' activity) under both APT28 and APT29: it names neither.
    assert!(catalogue.is_ambiguous("Grizzly Steppe"));
    assert!(catalogue.find("Grizzly Steppe").is_none());
    // Microsoft lists Velvet Chollima under Ruby Sleet as well; the built-in catalogue
    // gives it to Kimsuky, where it stays.
    assert!(!catalogue.is_ambiguous("Velvet Chollima"));
    assert_eq!(
        catalogue.find("Velvet Chollima").expect("present").id,
        "kimsuky"
    );
    assert!(!cerium.aliases.iter().any(|a| a == "VELVET CHOLLIMA"));
    for (name, id) in [
        ("UNC2452", "apt29"),
        ("Midnight Blizzard", "apt29"),
        ("Cozy Bear", "apt29"),
        ("Thallium", "kimsuky"),
        ("Emerald Sleet", "kimsuky"),
        ("Charming Kitten", "apt35"),
        ("Mint Sandstorm", "apt35"),
        ("Zirconium", "apt31"),
        ("Periwinkle Tempest", "wizard-spider"),
    ] {
        assert_eq!(catalogue.find(name).expect("present").id, id, "{name}");
    }
    // What the catalogue says stays: imports add, never replace.
    let apt28 = catalogue.resolve("apt28").expect("present");
    assert_eq!(apt28.name, "Forest Blizzard");
    assert!(apt28.techniques.contains(&"T1110.003".to_string()));
    assert!(apt28.aliases.len() <= actors::MAX_ALIASES);
}

fn hit(indicator: &str, feed: &str, observed: &str, actors: &[&str]) -> Match {
    Match {
        indicator: indicator.into(),
        feed: feed.into(),
        field: "ipv4-addr:value".into(),
        observed: observed.into(),
        pattern: format!("[ipv4-addr:value = '{observed}']"),
        actors: actors.iter().map(|a| a.to_string()).collect(),
        labels: Vec::new(),
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

#[test]
fn an_indicator_linked_to_an_actor_names_it_very_likely() {
    let catalogue = with_galaxies();
    // Linked to the MISP galaxy cluster's uuid, as a MISP event's galaxy would be.
    let matches = [hit(
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "cert-feed",
        "203.0.113.9",
        &["5b4ee3ea-eee3-4c8e-8323-85ae32658754"],
    )];
    let techniques = strings(&["T1110.003"]);
    let attribution = attribute(
        &catalogue,
        &Clues {
            matches: &matches,
            techniques: &techniques,
            ..Clues::default()
        },
    );
    let actor = attribution.actor.as_ref().expect("present");
    assert_eq!(actor.id, "apt28");
    assert_eq!(actor.name, "Forest Blizzard");
    assert_eq!(attribution.confidence, Confidence::High);
    assert_eq!(attribution.words, "very likely");
    assert!(!attribution.conflict);
    assert_eq!(
        attribution.evidence,
        [
            "Indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f from feed cert-feed links this incident to Forest Blizzard (apt28).",
            "Technique T1110.003 is one Forest Blizzard is reported to use.",
        ]
    );
    assert_eq!(
        attribution.headline(),
        "Forest Blizzard (STRONTIUM, APT28): very likely, high confidence"
    );

    // A second, independent feed linking to the same group by another of its ids.
    let matches = [
        matches[0].clone(),
        hit(
            "5f1b3c1e-aaaa-4bbb-8ccc-0123456789ab",
            "misp-community",
            "203.0.113.10",
            &["8d84d7b0-7716-5ab3-a3a4-f373dd148347"],
        ),
    ];
    let attribution = attribute(
        &catalogue,
        &Clues {
            matches: &matches,
            ..Clues::default()
        },
    );
    assert_eq!(attribution.actor.expect("present").id, "apt28");
    assert_eq!(attribution.words, "almost certainly");
    assert_eq!(attribution.confidence, Confidence::High);
    assert_eq!(
        attribution.evidence,
        [
            "Indicators indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f, 5f1b3c1e-aaaa-4bbb-8ccc-0123456789ab from feeds cert-feed, misp-community link this incident to Forest Blizzard (apt28)."
        ]
    );
}

#[test]
fn a_spray_from_tor_at_a_vaccine_maker_fits_strontium_without_an_indicator() {
    let catalogue = Catalogue::builtin();
    let techniques = strings(&["T1110.003"]);
    let infrastructure = strings(&["tor-exit"]);
    let attribution = attribute(
        &catalogue,
        &Clues {
            techniques: &techniques,
            infrastructure: &infrastructure,
            sector: Some(Sector::Pharmaceutical),
            ..Clues::default()
        },
    );
    assert_eq!(attribution.actor.as_ref().expect("present").id, "apt28");
    assert_eq!(attribution.confidence, Confidence::Moderate);
    assert_eq!(attribution.words, "roughly even chance");
    assert_eq!(attribution.evidence.len(), 4);
    assert_eq!(
        attribution.evidence[0],
        "No indicator linked to an actor matched; the behaviour below fits Forest Blizzard (apt28) best, and behaviour is shared and imitated, so this is never more than moderate confidence."
    );
    assert_eq!(
        attribution.evidence[1],
        "Technique T1110.003 is one Forest Blizzard is reported to use."
    );
    assert!(attribution.evidence[2].starts_with(
        "Source addresses are on a tor-exit list; Forest Blizzard is reported to use: Tor and anonymising VPN egress for password spray"
    ));
    assert_eq!(
        attribution.evidence[3],
        "Forest Blizzard is reported to target the pharmaceutical sector, the targeted organisation's."
    );
    // Midnight Blizzard and Diamond Sleet spray too (ATT&CK T1110.003) and target vaccine
    // research: alternatives, low.
    let alternatives: Vec<(&str, Confidence)> = attribution
        .alternatives
        .iter()
        .map(|a| (a.id.as_str(), a.confidence))
        .collect();
    assert_eq!(
        alternatives,
        [("zinc", Confidence::Low), ("apt29", Confidence::Low)]
    );

    // At a hospital — a sector no public report has Strontium target — the same spray is
    // low confidence.
    let attribution = attribute(
        &catalogue,
        &Clues {
            techniques: &techniques,
            infrastructure: &infrastructure,
            sector: Some(Sector::Hospital),
            ..Clues::default()
        },
    );
    assert_eq!(attribution.actor.expect("present").id, "apt28");
    assert_eq!(attribution.confidence, Confidence::Low);
    assert_eq!(attribution.words, "roughly even chance");
}

#[test]
fn a_recruiter_lure_fits_zinc_and_leaves_cerium_an_alternative_never_above_moderate() {
    let catalogue = Catalogue::builtin();
    let techniques = strings(&["T1566"]);
    let lures = strings(&["lure_recruiting"]);
    let attribution = attribute(
        &catalogue,
        &Clues {
            techniques: &techniques,
            lures: &lures,
            sector: Some(Sector::Pharmaceutical),
            ..Clues::default()
        },
    );
    let actor = attribution.actor.as_ref().expect("present");
    assert_eq!(actor.id, "zinc");
    assert_eq!(actor.name, "Diamond Sleet");
    assert!(attribution.confidence <= Confidence::Moderate);
    assert_eq!(attribution.words, "roughly even chance");
    assert_eq!(
        attribution.evidence[1..],
        [
            "Technique T1566 is one Diamond Sleet is reported to use.".to_string(),
            "The mail uses a recruiting lure, a theme Diamond Sleet is known for.".to_string(),
            "Diamond Sleet is reported to target the pharmaceutical sector, the targeted organisation's.".to_string(),
        ][..]
    );
    let cerium = attribution
        .alternatives
        .iter()
        .find(|a| a.id == "cerium")
        .expect("present");
    assert_eq!(cerium.name, "Ruby Sleet");
    assert_eq!(cerium.confidence, Confidence::Low);
    assert!(
        attribution
            .alternatives
            .iter()
            .all(|a| a.confidence <= Confidence::Moderate)
    );

    // A health-authority lure is Cerium's instead.
    let lures = strings(&["health"]);
    let attribution = attribute(
        &catalogue,
        &Clues {
            techniques: &techniques,
            lures: &lures,
            sector: Some(Sector::LifeSciences),
            ..Clues::default()
        },
    );
    assert_eq!(attribution.actor.expect("present").id, "cerium");
    assert_eq!(attribution.confidence, Confidence::Moderate);
}

#[test]
fn nothing_that_fits_is_unattributed_and_says_why() {
    let catalogue = Catalogue::builtin();
    let attribution = attribute(&catalogue, &Clues::default());
    assert_eq!(attribution.actor, None);
    assert_eq!(attribution.words, "unattributed");
    assert_eq!(attribution.confidence, Confidence::Low);
    assert_eq!(
        attribution.evidence,
        [
            "No indicator matched, and the incident shows no technique, lure or infrastructure to compare with the actor catalogue."
        ]
    );
    assert_eq!(attribution.headline(), "unattributed");

    let techniques = strings(&["T1621"]);
    let lures = strings(&["lure_invoice"]);
    let matches = [hit("list:7", "blocklist", "198.51.100.7", &[])];
    let attribution = attribute(
        &catalogue,
        &Clues {
            matches: &matches,
            techniques: &techniques,
            lures: &lures,
            ..Clues::default()
        },
    );
    assert_eq!(attribution.actor, None);
    assert_eq!(attribution.words, "unattributed");
    assert_eq!(
        attribution.evidence,
        [
            "No indicator linked to an actor matched, and no catalogued actor is known for technique T1621, lure lure_invoice.",
            "Indicator list:7 (blocklist) matched ipv4-addr:value = 198.51.100.7 but its feed links it to no actor.",
        ]
    );

    // One kind of behaviour alone names no one.
    let techniques = strings(&["T1078"]);
    let attribution = attribute(
        &catalogue,
        &Clues {
            techniques: &techniques,
            ..Clues::default()
        },
    );
    assert_eq!(attribution.actor, None);
    assert_eq!(attribution.words, "unattributed");
    assert!(attribution.evidence[0].contains("only one kind of behaviour"));
    assert_eq!(attribution.alternatives[0].id, "apt28");
}

#[test]
fn indicators_of_two_actors_are_a_stated_conflict() {
    let catalogue = Catalogue::builtin();
    let matches = [
        hit("indicator--1", "feed-a", "203.0.113.1", &["apt28"]),
        hit("indicator--2", "feed-b", "203.0.113.2", &["zinc"]),
    ];
    let attribution = attribute(
        &catalogue,
        &Clues {
            matches: &matches,
            ..Clues::default()
        },
    );
    assert!(attribution.conflict);
    assert_eq!(attribution.actor, None);
    assert_eq!(attribution.confidence, Confidence::Low);
    assert_eq!(attribution.words, "roughly even chance");
    assert_eq!(
        attribution.evidence[0],
        "Conflicting intelligence: indicators link this incident to Forest Blizzard (apt28) and Diamond Sleet (zinc) with equal support; no single actor is named."
    );
    let both: Vec<&str> = attribution
        .alternatives
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(both, ["apt28", "zinc"]);

    // More independent feeds for one side: it is named, "likely", moderate, the conflict
    // still stated and the other listed.
    let matches = [
        matches[0].clone(),
        matches[1].clone(),
        hit("indicator--3", "feed-c", "203.0.113.3", &["zinc"]),
    ];
    let attribution = attribute(
        &catalogue,
        &Clues {
            matches: &matches,
            ..Clues::default()
        },
    );
    assert!(attribution.conflict);
    assert_eq!(attribution.actor.expect("present").id, "zinc");
    assert_eq!(attribution.confidence, Confidence::Moderate);
    assert_eq!(attribution.words, "likely");
    assert!(attribution.evidence[0].starts_with(
        "Conflicting intelligence: indicators link this incident to Diamond Sleet (zinc) and Forest Blizzard (apt28)."
    ));
    assert_eq!(attribution.alternatives.len(), 1);
    assert_eq!(attribution.alternatives[0].id, "apt28");
}

#[test]
fn attributions_serialise_for_the_api() {
    let catalogue = Catalogue::builtin();
    let matches = [hit("indicator--1", "feed-a", "203.0.113.1", &["cerium"])];
    let attribution = attribute(
        &catalogue,
        &Clues {
            matches: &matches,
            ..Clues::default()
        },
    );
    let json = serde_json::to_value(&attribution).expect("present");
    assert_eq!(json["actor"]["id"], "cerium");
    assert_eq!(json["actor"]["name"], "Ruby Sleet");
    assert_eq!(json["confidence"], "high");
    assert_eq!(json["words"], "very likely");
    let back: tocsin_intel::attribution::Attribution =
        serde_json::from_value(json).expect("present");
    assert_eq!(back, attribution);
}

#[test]
fn a_feed_linking_everything_to_everyone_stays_bounded() {
    let catalogue = Catalogue::builtin();
    let everyone: Vec<String> = (0..300).map(|n| format!("intrusion-set--{n}")).collect();
    // Each match links to 16 of 300 groups, a different 16 each time.
    let matches: Vec<Match> = (0..2000)
        .map(|n| {
            let some: Vec<&str> = (0..16)
                .map(|k| everyone[(n * 16 + k) % 300].as_str())
                .collect();
            hit(
                &format!("indicator--{n}"),
                "noisy-feed",
                "203.0.113.1",
                &some,
            )
        })
        .collect();
    let attribution = attribute(
        &catalogue,
        &Clues {
            matches: &matches,
            ..Clues::default()
        },
    );
    assert!(attribution.conflict);
    assert_eq!(attribution.actor, None);
    assert_eq!(attribution.alternatives.len(), 4);
    assert_eq!(attribution.evidence.len(), 32);
    assert_eq!(
        attribution.evidence[0],
        "Conflicting intelligence: indicators link this incident to intrusion-set--0 and intrusion-set--1 and intrusion-set--2 and intrusion-set--3 and 60 other actors with equal support; no single actor is named."
    );
    assert!(
        attribution.evidence[1]
            == "Indicators indicator--0, indicator--18, indicator--37, indicator--56 and 51 more from feed noisy-feed link this incident to intrusion-set--0."
    );
}
