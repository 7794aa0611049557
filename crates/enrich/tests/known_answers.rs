//! Enrichment against MaxMind's published test databases, whose JSON sources
//! (`source-data/` beside them) give the expected answer for every network.

use std::net::IpAddr;
use std::path::PathBuf;

use model::{Format, Origin, Outcome, Protocol, SignIn};
use tocsin_enrich::{EnrichConfig, EnrichError, Enricher, Field};

const CITY: &str = "GeoLite2-City-Test.mmdb";
const GEOIP2_CITY: &str = "GeoIP2-City-Test.mmdb";
const COUNTRY: &str = "GeoLite2-Country-Test.mmdb";
const ASN: &str = "GeoLite2-ASN-Test.mmdb";

/// A file of MaxMind's test data, which the repository expects in `shared/` beside it.
fn test_data(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ipdb/maxmind-test-data/test-data");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "MaxMind test database {} is missing: these tests need the repository checked out \
         beside `shared/` (with shared/data/ipdb/maxmind-test-data from \
         github.com/maxmind/MaxMind-DB)",
        path.display()
    );
    path
}

fn enricher(country_db: Option<&str>, asn_db: Option<&str>) -> Enricher {
    let config = EnrichConfig {
        country_db: country_db.map(test_data),
        asn_db: asn_db.map(test_data),
    };
    Enricher::open(&config).expect("test databases open")
}

fn sign_in(ip: Option<&str>) -> SignIn {
    SignIn {
        time: "2024-05-01T10:00:00Z".parse().expect("time"),
        account: "ana@example.org".into(),
        source_ip: ip.map(|ip| ip.parse::<IpAddr>().expect("ip")),
        outcome: Outcome::Failure,
        failure_kind: None,
        protocol: Protocol::Imap,
        app: None,
        result_code: None,
        reason: None,
        record_id: None,
        country: None,
        asn: None,
        user_agent: None,
        format: Format::Sshd,
        origin: Origin::FileLine {
            file: "auth.log".into(),
            line: 1,
        },
        authentication: None,
    }
}

/// Enriches a sign-in from `ip` and compares what was filled in, field for field.
fn check(enricher: &Enricher, ip: &str, country: Option<&str>, asn: Option<u32>) {
    let mut event = sign_in(Some(ip));
    enricher.enrich(&mut event);
    assert_eq!(
        (event.country.as_deref(), event.asn),
        (country, asn),
        "{ip} ({})",
        enricher.describe()
    );
}

#[test]
fn countries_from_city_and_country_databases() {
    // From source-data/GeoLite2-City-Test.json. The Country and GeoIP2-City test databases
    // are built from sources of their own that agree on these networks.
    let everywhere = [
        ("81.2.69.144", Some("GB")),
        ("81.2.69.160", Some("GB")),
        // Located in GB, registered in FR: the location wins.
        ("2.125.160.216", Some("GB")),
        ("89.160.20.128", Some("SE")),
        ("89.160.20.115", Some("SE")),
        ("216.160.83.58", Some("US")),
        ("67.43.156.13", Some("BT")),
        // Represented by the US, located in PH.
        ("202.196.224.1", Some("PH")),
        // Not in any of them.
        ("1.1.1.1", None),
        ("8.8.8.8", None),
    ];
    for db in [CITY, COUNTRY, GEOIP2_CITY] {
        let enricher = enricher(Some(db), None);
        for (ip, country) in everywhere {
            check(&enricher, ip, country, None);
        }
    }
    // Networks only the GeoLite2-City source lists.
    let city = enricher(Some(CITY), None);
    check(&city, "175.16.199.5", Some("CN"), None);
    check(&city, "214.78.0.1", Some("US"), None);
    check(&enricher(Some(COUNTRY), None), "175.16.199.5", None, None);
}

#[test]
fn ipv6_and_ipv4_mapped_addresses() {
    let enricher = enricher(Some(CITY), Some(ASN));
    check(&enricher, "2001:218::1", Some("JP"), None);
    check(&enricher, "2001:2e0:1:2::3", Some("HK"), None);
    check(&enricher, "2a02:d180::1", Some("DE"), None);
    check(&enricher, "2a02:e900::42", Some("IE"), None);
    check(&enricher, "2001:480::1", Some("US"), None);
    // A located network with neither a country nor a registered country.
    check(&enricher, "2a02:d500::1", None, None);
    check(&enricher, "2001:1700::1", None, Some(6730));
    check(&enricher, "2003::1", None, Some(3320));
    check(&enricher, "2a02:1800::1", None, Some(6848));
    // Sources such as Windows and dual-stack sockets write IPv4 as IPv4-mapped IPv6.
    check(&enricher, "::ffff:81.2.69.144", Some("GB"), None);
    check(&enricher, "::ffff:67.43.156.13", Some("BT"), Some(35908));
}

#[test]
fn autonomous_systems_from_the_asn_database() {
    // From source-data/GeoLite2-ASN-Test.json.
    let enricher = enricher(None, Some(ASN));
    let cases = [
        ("67.43.156.13", Some(35908)),
        ("1.0.0.1", Some(15169)),
        ("1.128.0.1", Some(1221)),
        ("12.81.92.7", Some(7018)),
        ("12.81.100.1", Some(7018)),
        ("89.160.20.128", Some(29518)),
        ("216.160.83.58", Some(209)),
        ("18.1.2.3", Some(3)),
        ("81.2.69.144", None),
    ];
    for (ip, asn) in cases {
        check(&enricher, ip, None, asn);
    }
}

#[test]
fn both_databases_fill_both_fields() {
    let enricher = enricher(Some(CITY), Some(ASN));
    check(&enricher, "67.43.156.13", Some("BT"), Some(35908));
    check(&enricher, "89.160.20.128", Some("SE"), Some(29518));
    check(&enricher, "216.160.83.58", Some("US"), Some(209));
}

#[test]
fn what_the_source_said_wins() {
    let enricher = enricher(Some(CITY), Some(ASN));
    let mut event = sign_in(Some("67.43.156.13"));
    event.country = Some("FR".into());
    enricher.enrich(&mut event);
    assert_eq!(
        (event.country.as_deref(), event.asn),
        (Some("FR"), Some(35908))
    );

    let mut event = sign_in(Some("67.43.156.13"));
    event.asn = Some(64500);
    enricher.enrich(&mut event);
    assert_eq!(
        (event.country.as_deref(), event.asn),
        (Some("BT"), Some(64500))
    );
}

#[test]
fn internal_addresses_and_missing_addresses_are_not_looked_up() {
    let enricher = enricher(Some(CITY), Some(ASN));
    for ip in [
        "10.0.0.1",
        "192.168.1.20",
        "127.0.0.1",
        "100.64.3.4",
        "203.0.113.7",
        "::1",
        "fe80::1",
        "fd12:3456::1",
        "2001:db8::1",
        "::ffff:192.168.0.1",
    ] {
        check(&enricher, ip, None, None);
    }
    let mut event = sign_in(None);
    enricher.enrich(&mut event);
    assert_eq!((event.country, event.asn), (None, None));
    assert_eq!(enricher.lookup_errors(), 0);
}

#[test]
fn without_databases_nothing_changes_and_it_says_so() {
    let enricher = Enricher::open(&EnrichConfig::default()).expect("nothing to open");
    assert!(!enricher.is_enabled());
    assert_eq!(
        enricher.describe(),
        "enrichment off: no databases configured"
    );
    check(&enricher, "81.2.69.144", None, None);
    assert!(!Enricher::disabled().is_enabled());
}

#[test]
fn describe_names_each_file_its_type_and_build_date() {
    let both = enricher(Some(CITY), Some(ASN));
    assert!(both.is_enabled());
    let line = both.describe();
    let city = test_data(CITY).display().to_string();
    let asn = test_data(ASN).display().to_string();
    assert!(
        line.starts_with(&format!("country from {city} (GeoLite2-City, built 20")),
        "{line}"
    );
    assert!(
        line.contains(&format!(", ASN from {asn} (GeoLite2-ASN, built 20")),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line}");

    let country_only = enricher(Some(COUNTRY), None).describe();
    assert!(
        country_only.contains("(GeoLite2-Country, built ")
            && country_only.ends_with("; no ASN database configured"),
        "{country_only}"
    );
    let asn_only = enricher(None, Some(ASN)).describe();
    assert!(
        asn_only.starts_with("ASN from ") && asn_only.ends_with("; no country database configured"),
        "{asn_only}"
    );
}

#[test]
fn a_missing_file_names_its_path() {
    let path = test_data(ASN).with_file_name("GeoLite2-Nowhere.mmdb");
    let config = EnrichConfig {
        country_db: Some(path.clone()),
        asn_db: None,
    };
    let error = Enricher::open(&config).expect_err("missing");
    assert!(
        matches!(&error, EnrichError::Unreadable { field: Field::Country, path: p, source }
            if *p == path && source.kind() == std::io::ErrorKind::NotFound),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot read the country database {}: ",
            path.display()
        )),
        "{message}"
    );
}

#[test]
fn a_file_that_is_not_an_mmdb_names_its_path() {
    let path = test_data("README.md");
    let config = EnrichConfig {
        country_db: None,
        asn_db: Some(path.clone()),
    };
    let error = Enricher::open(&config).expect_err("not an mmdb");
    assert!(
        matches!(&error, EnrichError::NotMmdb { field: Field::Asn, path: p, .. } if *p == path),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "the ASN database {} is not a MaxMind DB (.mmdb) file: ",
            path.display()
        )),
        "{message}"
    );
}

#[test]
fn a_database_without_the_field_is_refused() {
    let asn_as_country = EnrichConfig {
        country_db: Some(test_data(ASN)),
        asn_db: None,
    };
    let error = Enricher::open(&asn_as_country).expect_err("no countries");
    assert!(
        matches!(&error, EnrichError::WrongDatabase { field: Field::Country, database_type, .. }
            if database_type == "GeoLite2-ASN"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the country database {} is a \"GeoLite2-ASN\" database, whose records have no \
             country (`country.iso_code`, `registered_country.iso_code` or `country_code`)",
            test_data(ASN).display()
        )
    );

    // One file may serve both only when it has both fields; a City database has no ASN.
    let city_for_both = EnrichConfig {
        country_db: Some(test_data(CITY)),
        asn_db: Some(test_data(CITY)),
    };
    let error = Enricher::open(&city_for_both).expect_err("no ASN");
    assert!(
        matches!(&error, EnrichError::WrongDatabase { field: Field::Asn, path, .. }
            if *path == test_data(CITY)),
        "{error:?}"
    );
    assert!(error.to_string().contains("GeoLite2-City"), "{error}");
}
