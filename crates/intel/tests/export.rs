//! Sharing incidents out: the STIX 2.1 bundle checked against the OASIS interoperability
//! profile's required properties (the `interop` schemas in the public data), references
//! that resolve, patterns that parse, pseudonyms that hold; and the MISP event's types.

use std::collections::HashSet;

use jiff::Timestamp;
use model::Sector;
use serde_json::Value;
use tocsin_intel::Match;
use tocsin_intel::actors::Catalogue;
use tocsin_intel::attribution::{Clues, attribute};
use tocsin_intel::export::{
    self, ExportError, Organisation, SharedIncident, Sharing, misp_event, pseudonym, stix_bundle,
};

const KEY: &[u8] = b"a service secret of 32 bytes....";
const STIX_MATCH: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const MISP_MATCH: &str = "5f1b3c1e-aaaa-4bbb-8ccc-0123456789ab";

fn at(text: &str) -> Timestamp {
    text.parse().expect("present")
}

fn incident() -> SharedIncident {
    let matches = vec![
        Match {
            indicator: STIX_MATCH.into(),
            feed: "cert-feed".into(),
            field: "ipv4-addr:value".into(),
            observed: "203.0.113.9".into(),
            pattern: "[ipv4-addr:value = '203.0.113.0/24']".into(),
            actors: vec!["apt28".into()],
            labels: Vec::new(),
        },
        Match {
            indicator: MISP_MATCH.into(),
            feed: "misp-community".into(),
            field: "domain-name:value".into(),
            observed: "login.evil.example".into(),
            pattern: "[domain-name:value = 'evil.example']".into(),
            actors: vec![],
            labels: Vec::new(),
        },
    ];
    let catalogue = Catalogue::builtin();
    let attribution = attribute(
        &catalogue,
        &Clues {
            matches: &matches,
            ..Clues::default()
        },
    );
    SharedIncident {
        id: "incident-4711".into(),
        kind: "password_spray".into(),
        technique: "T1110.003".into(),
        severity: "high".into(),
        first_seen: at("2020-11-13T08:00:00Z"),
        last_seen: at("2020-11-13T09:30:15.25Z"),
        events: 1250,
        summary: "Password spray against 412 accounts from 2 addresses".into(),
        sources: vec![
            "203.0.113.9".into(),
            "2001:DB8::7".into(),
            "203.0.113.9".into(),
        ],
        accounts: vec!["alice.martin@hospital.example".into(), "bob".into()],
        senders: vec!["Recruiter@Evil.Example".into()],
        domains: vec!["login.evil.example".into()],
        urls: vec!["https://login.evil.example/o365?u=it's".into()],
        hashes: vec!["E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855".into()],
        matches,
        attribution: Some(attribution),
    }
}

fn pseudonymous(org: &str) -> Sharing<'_> {
    Sharing {
        organisation: Organisation {
            id: org,
            sector: Some(Sector::Hospital),
        },
        named: None,
        pseudonym_key: KEY,
    }
}

/// The `required` list of an OASIS interop schema, which adds to the core properties.
fn interop_required(kind: &str) -> Vec<String> {
    let path = format!(
        "{}/../../../shared/data/intel/stix-examples/interop/{kind}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).expect("present");
    schema["required"]
        .as_array()
        .expect("present")
        .iter()
        .map(|v| v.as_str().expect("present").to_owned())
        .collect()
}

/// Required by the STIX 2.1 specification itself (sections 3.1, 4, 5, 6, 7).
fn spec_required(kind: &str) -> &'static [&'static str] {
    match kind {
        "identity" => &["type", "spec_version", "id", "created", "modified", "name"],
        "indicator" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "pattern",
            "pattern_type",
            "valid_from",
        ],
        "observed-data" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "first_observed",
            "last_observed",
            "number_observed",
        ],
        "sighting" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "sighting_of_ref",
        ],
        "marking-definition" => &["type", "spec_version", "id", "created", "definition_type"],
        "intrusion-set" => &["type", "spec_version", "id", "created", "modified", "name"],
        "relationship" => &[
            "type",
            "spec_version",
            "id",
            "created",
            "modified",
            "relationship_type",
            "source_ref",
            "target_ref",
        ],
        // Cyber-observables.
        _ => &["type", "id"],
    }
}

fn is_sco(kind: &str) -> bool {
    [
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "file",
    ]
    .contains(&kind)
}

fn objects(bundle: &Value) -> &Vec<Value> {
    bundle["objects"].as_array().expect("present")
}

fn of_type<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    objects(bundle)
        .iter()
        .filter(|o| o["type"] == kind)
        .collect()
}

#[test]
fn every_object_has_the_required_properties_and_a_well_formed_id() {
    let bundle = stix_bundle(&incident(), &pseudonymous("17")).expect("present");
    assert_eq!(bundle["type"], "bundle");
    assert!(export::is_stix_id(
        bundle["id"].as_str().expect("present"),
        "bundle"
    ));
    let timestamp =
        regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").expect("present");
    let mut kinds = Vec::new();
    for object in objects(&bundle) {
        let kind = object["type"].as_str().expect("present");
        kinds.push(kind.to_owned());
        let id = object["id"].as_str().expect("present");
        assert!(export::is_stix_id(id, kind), "{id}");
        let mut required: Vec<String> = spec_required(kind).iter().map(|s| s.to_string()).collect();
        if ["indicator", "observed-data", "relationship", "sighting"].contains(&kind) {
            required.extend(interop_required(kind));
        }
        if kind == "intrusion-set" {
            // The interop profile also wants resource_level and primary_motivation, which
            // public reporting rarely settles and the catalogue does not record.
            required.push("created_by_ref".into());
        }
        if !["marking-definition"].contains(&kind) && !is_sco(kind) {
            required.push("object_marking_refs".into());
        }
        for property in &required {
            assert!(object.get(property).is_some(), "{id} lacks {property}");
        }
        if object.get("spec_version").is_some() {
            assert_eq!(object["spec_version"], "2.1");
        }
        for property in [
            "created",
            "modified",
            "valid_from",
            "first_seen",
            "last_seen",
            "first_observed",
            "last_observed",
        ] {
            if let Some(value) = object.get(property) {
                assert!(
                    timestamp.is_match(value.as_str().expect("present")),
                    "{id} {property}: {value}"
                );
            }
        }
    }
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "domain-name",
            "email-addr",
            "file",
            "identity",
            "indicator",
            "intrusion-set",
            "ipv4-addr",
            "ipv6-addr",
            "marking-definition",
            "observed-data",
            "relationship",
            "sighting",
            "url"
        ]
    );
    let observed = &of_type(&bundle, "observed-data")[0];
    assert_eq!(observed["number_observed"], 1250);
    assert_eq!(observed["first_observed"], "2020-11-13T08:00:00.000Z");
    assert_eq!(observed["last_observed"], "2020-11-13T09:30:15.250Z");
    // Two sources (one given twice), a sender, a domain, a URL, a file.
    assert_eq!(
        observed["object_refs"].as_array().expect("present").len(),
        6
    );
    let ipv6 = &of_type(&bundle, "ipv6-addr")[0];
    assert_eq!(ipv6["value"], "2001:db8::7");
    assert_eq!(
        of_type(&bundle, "email-addr")[0]["value"],
        "recruiter@evil.example"
    );
    assert_eq!(
        of_type(&bundle, "file")[0]["hashes"]["SHA-256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        of_type(&bundle, "ipv4-addr")[0]["id"],
        "ipv4-addr--".to_owned() + &uuid_of_sco(r#"{"value":"203.0.113.9"}"#)
    );
}

fn uuid_of_sco(canonical: &str) -> String {
    // Recomputed independently of the exporter: SHA-1 over the STIX namespace and the
    // canonical JSON, version 5, RFC 4122 variant.
    use sha1::Digest as _;
    let namespace = uuid::Uuid::parse_str("00abedb4-aa42-466c-9c01-fed23315a9b7").expect("present");
    let mut hasher = sha1::Sha1::new();
    hasher.update(namespace.as_bytes());
    hasher.update(canonical.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .to_string()
}

#[test]
fn sightings_and_references_point_into_the_bundle() {
    let bundle = stix_bundle(&incident(), &pseudonymous("17")).expect("present");
    let ids: HashSet<&str> = objects(&bundle)
        .iter()
        .map(|o| o["id"].as_str().expect("present"))
        .collect();
    let org = of_type(&bundle, "identity")
        .into_iter()
        .find(|i| i["identity_class"] == "organization")
        .expect("present");
    let tocsin = of_type(&bundle, "identity")
        .into_iter()
        .find(|i| i["identity_class"] == "system")
        .expect("present");
    assert_eq!(tocsin["name"], "tocsin");
    for object in objects(&bundle) {
        if let Some(creator) = object.get("created_by_ref") {
            assert_eq!(creator, &tocsin["id"]);
        }
        for marking in object["object_marking_refs"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert!(ids.contains(marking.as_str().expect("present")));
        }
        for reference in object["object_refs"].as_array().into_iter().flatten() {
            assert!(
                ids.contains(reference.as_str().expect("present")),
                "{reference}"
            );
        }
    }
    let sightings = of_type(&bundle, "sighting");
    // Two attacking sources, the MISP match restated as an indicator, the STIX match
    // referred to by its own id.
    assert_eq!(sightings.len(), 4);
    let observed_id = &of_type(&bundle, "observed-data")[0]["id"];
    let mut sighted = Vec::new();
    for sighting in &sightings {
        let of = sighting["sighting_of_ref"].as_str().expect("present");
        assert!(ids.contains(of) || of == STIX_MATCH, "{of}");
        sighted.push(of.to_owned());
        assert_eq!(
            sighting["where_sighted_refs"],
            serde_json::json!([org["id"]])
        );
        assert_eq!(
            sighting["observed_data_refs"],
            serde_json::json!([observed_id])
        );
        assert_eq!(sighting["first_seen"], "2020-11-13T08:00:00.000Z");
        assert_eq!(sighting["last_seen"], "2020-11-13T09:30:15.250Z");
        assert_eq!(sighting["count"], 1);
        assert_eq!(
            sighting["description"],
            "Attribution: Forest Blizzard (STRONTIUM, APT28): very likely, high confidence."
        );
    }
    assert!(sighted.contains(&STIX_MATCH.to_owned()));
    // The attribution: the named actor, and each sighted indicator indicating it.
    let sets = of_type(&bundle, "intrusion-set");
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["name"], "Forest Blizzard");
    assert_eq!(sets[0]["aliases"][0], "STRONTIUM");
    let relationships = of_type(&bundle, "relationship");
    assert_eq!(relationships.len(), 4);
    for relationship in &relationships {
        assert_eq!(relationship["relationship_type"], "indicates");
        assert_eq!(relationship["target_ref"], sets[0]["id"]);
        assert!(
            sighted.contains(
                &relationship["source_ref"]
                    .as_str()
                    .expect("present")
                    .to_owned()
            )
        );
        assert_eq!(relationship["confidence"], 85);
        assert!(
            relationship["description"]
                .as_str()
                .expect("present")
                .starts_with("Forest Blizzard (STRONTIUM, APT28): very likely, high confidence\nIndicator indicator--8e2e2d2b")
        );
    }
    // The feed's own STIX indicator is referred to, not restated under tocsin's name.
    assert!(!ids.contains(STIX_MATCH));
    let restated = of_type(&bundle, "indicator")
        .into_iter()
        .find(|i| i["external_references"][0]["external_id"] == MISP_MATCH)
        .expect("present");
    assert_eq!(restated["pattern"], "[domain-name:value = 'evil.example']");
    assert_eq!(
        restated["external_references"][0]["source_name"],
        "misp-community"
    );
}

#[test]
fn every_pattern_is_a_well_formed_comparison() {
    let bundle = stix_bundle(&incident(), &pseudonymous("17")).expect("present");
    let comparison = regex::Regex::new(
        r"^\[(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value = '(?:[^'\\]|\\.)*'\]$",
    )
    .expect("present");
    let patterns: Vec<&str> = of_type(&bundle, "indicator")
        .iter()
        .map(|i| {
            assert_eq!(i["pattern_type"], "stix");
            assert_eq!(
                i["indicator_types"],
                serde_json::json!(["malicious-activity"])
            );
            i["pattern"].as_str().expect("present")
        })
        .collect();
    for pattern in &patterns {
        assert!(comparison.is_match(pattern), "{pattern}");
    }
    assert!(patterns.contains(&"[ipv4-addr:value = '203.0.113.9']"));
    assert!(patterns.contains(&"[ipv6-addr:value = '2001:db8::7']"));
    assert_eq!(patterns.len(), 3);
}

#[test]
fn the_organisation_is_a_stable_pseudonym_unless_it_agreed_to_be_named() {
    let incident = incident();
    let bundle = stix_bundle(&incident, &pseudonymous("17")).expect("present");
    let text = serde_json::to_string(&bundle).expect("present");
    let name = "St Example Hospital";
    assert!(!text.contains(name));
    // Accounts never leave, named or not.
    assert!(!text.contains("alice"));
    assert!(!text.contains("hospital.example"));
    let alias = pseudonym(KEY, "17").expect("present");
    assert_eq!(alias.len(), "organisation-".len() + 32);
    assert!(text.contains(&alias));
    let org = of_type(&bundle, "identity")
        .into_iter()
        .find(|i| i["identity_class"] == "organization")
        .expect("present");
    assert_eq!(org["name"], alias.as_str());
    assert_eq!(org["sectors"], serde_json::json!(["healthcare"]));

    // Stable: the same incident exports to the same bundle.
    assert_eq!(
        stix_bundle(&incident, &pseudonymous("17")).expect("present"),
        bundle
    );
    assert_eq!(pseudonym(KEY, "17"), pseudonym(KEY, "17"));
    // Different per organisation and per key.
    let other = stix_bundle(&incident, &pseudonymous("18")).expect("present");
    let other_org = of_type(&other, "identity")
        .into_iter()
        .find(|i| i["identity_class"] == "organization")
        .expect("present");
    assert_ne!(other_org["name"], org["name"]);
    assert_ne!(other_org["id"], org["id"]);
    assert_ne!(
        pseudonym(b"another service's 32-byte secret", "17").expect("present"),
        alias
    );

    let named = Sharing {
        named: Some(name),
        ..pseudonymous("17")
    };
    let bundle = stix_bundle(&incident, &named).expect("present");
    let text = serde_json::to_string(&bundle).expect("present");
    assert!(text.contains(name));
    assert!(!text.contains(&alias));
    assert!(!text.contains("alice"));
}

#[test]
fn the_misp_event_has_the_types_misp_expects() {
    let incident = incident();
    let event = misp_event(&incident, &pseudonymous("17")).expect("present");
    let text = serde_json::to_string(&event).expect("present");
    assert!(!text.contains("alice"));
    let event = &event["Event"];
    assert_eq!(event["date"], "2020-11-13");
    assert_eq!(event["threat_level_id"], "1");
    assert_eq!(event["distribution"], "1");
    assert_eq!(event["analysis"], "1");
    assert_eq!(event["published"], false);
    assert_eq!(event["timestamp"], "1605259815");
    let tags: Vec<&str> = event["Tag"]
        .as_array()
        .expect("present")
        .iter()
        .map(|t| t["name"].as_str().expect("present"))
        .collect();
    assert_eq!(
        tags,
        [
            "tlp:amber",
            "tocsin:technique=\"T1110.003\"",
            "tocsin:attributed-to=\"Forest Blizzard\"",
            "estimative-language:likelihood-probability=\"very-likely\"",
            "estimative-language:confidence-in-analytic-judgment=\"high\"",
        ]
    );
    // The free-text summary may name the organisation: left out of a pseudonymous event.
    assert_eq!(
        event["info"],
        "tocsin: password_spray (T1110.003) — attribution: Forest Blizzard (STRONTIUM, APT28): very likely, high confidence"
    );
    let attributes: Vec<(&str, &str, &str, bool)> = event["Attribute"]
        .as_array()
        .expect("present")
        .iter()
        .map(|a| {
            (
                a["type"].as_str().expect("present"),
                a["category"].as_str().expect("present"),
                a["value"].as_str().expect("present"),
                a["to_ids"].as_bool().expect("present"),
            )
        })
        .collect();
    let alias = pseudonym(KEY, "17").expect("present");
    assert_eq!(
        attributes,
        [
            ("ip-src", "Network activity", "203.0.113.9", true),
            ("ip-src", "Network activity", "2001:db8::7", true),
            (
                "email-src",
                "Payload delivery",
                "recruiter@evil.example",
                true
            ),
            ("domain", "Network activity", "login.evil.example", true),
            (
                "url",
                "Network activity",
                "https://login.evil.example/o365?u=it%27s",
                true
            ),
            (
                "sha256",
                "Payload delivery",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                true
            ),
            ("target-org", "Targeting data", alias.as_str(), false),
        ]
    );
    let first = &event["Attribute"][0];
    assert_eq!(
        first["comment"],
        "matched cert-feed indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    );
    assert!(uuid::Uuid::parse_str(first["uuid"].as_str().expect("present")).is_ok());
    // Stable uuids.
    assert_eq!(
        misp_event(&incident, &pseudonymous("17")).expect("present")["Event"],
        *event
    );
}

#[test]
fn weak_keys_and_values_that_are_not_observables_are_refused_by_name() {
    let incident = incident();
    let weak = Sharing {
        pseudonym_key: b"short",
        ..pseudonymous("17")
    };
    let error = stix_bundle(&incident, &weak).expect_err("refused");
    assert!(matches!(error, ExportError::WeakKey { bytes: 5, .. }));
    assert_eq!(
        error.to_string(),
        "incident incident-4711: the pseudonym key has 5 bytes; at least 16 are needed"
    );
    let mut bad = incident.clone();
    bad.sources.push("not-an-ip".into());
    assert_eq!(
        misp_event(&bad, &pseudonymous("17"))
            .expect_err("refused")
            .to_string(),
        "incident incident-4711: source value \"not-an-ip\" is not one: an IP address"
    );
}

#[test]
fn accounts_never_leave_even_when_matched_or_quoted() {
    let mut incident = incident();
    incident.summary = "Password spray; Alice.Martin@hospital.example signed in afterwards".into();
    incident.matches.push(Match {
        indicator: "indicator--0c1f3d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f".into(),
        feed: "leaked-accounts".into(),
        field: "user-account:account_login".into(),
        observed: "alice.martin@hospital.example".into(),
        pattern: "[user-account:account_login = 'alice.martin@hospital.example']".into(),
        actors: vec![],
        labels: Vec::new(),
    });
    // An attribution quoting the account-matching indicator in its evidence.
    let catalogue = Catalogue::builtin();
    incident.attribution = Some(attribute(
        &catalogue,
        &Clues {
            matches: &incident.matches,
            ..Clues::default()
        },
    ));
    let named = Sharing {
        named: Some("St Example Hospital"),
        ..pseudonymous("17")
    };
    for text in [
        serde_json::to_string(&stix_bundle(&incident, &named).expect("exports")),
        serde_json::to_string(&misp_event(&incident, &named).expect("exports")),
    ] {
        let text = text.expect("serialises").to_ascii_lowercase();
        assert!(!text.contains("alice"), "{text}");
        assert!(
            !text.contains("0c1f3d4e"),
            "the account indicator is not sighted"
        );
    }
    let event = misp_event(&incident, &named).expect("exports");
    assert!(
        event["Event"]["info"]
            .as_str()
            .expect("present")
            .starts_with(
                "tocsin: password_spray (T1110.003): Password spray; [account] signed in afterwards"
            )
    );
}

#[test]
fn an_unattributed_incident_without_observables_still_exports_its_sightings() {
    let mut incident = incident();
    incident.sources.clear();
    incident.senders.clear();
    incident.domains.clear();
    incident.urls.clear();
    incident.hashes.clear();
    incident.attribution = Some(attribute(&Catalogue::builtin(), &Clues::default()));
    let bundle = stix_bundle(&incident, &pseudonymous("17")).expect("exports");
    assert!(of_type(&bundle, "observed-data").is_empty());
    assert!(of_type(&bundle, "intrusion-set").is_empty());
    assert!(of_type(&bundle, "relationship").is_empty());
    let sightings = of_type(&bundle, "sighting");
    assert_eq!(sightings.len(), 2);
    for sighting in sightings {
        assert!(sighting.get("observed_data_refs").is_none());
        assert_eq!(sighting["description"], "Attribution: unattributed.");
    }
    let event = misp_event(&incident, &pseudonymous("17")).expect("exports");
    let tags: Vec<&str> = event["Event"]["Tag"]
        .as_array()
        .expect("present")
        .iter()
        .map(|t| t["name"].as_str().expect("present"))
        .collect();
    assert_eq!(tags, ["tlp:amber", "tocsin:technique=\"T1110.003\""]);
    assert_eq!(
        event["Event"]["Attribute"]
            .as_array()
            .expect("present")
            .len(),
        1
    );
}
