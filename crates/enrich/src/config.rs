//! The `[enrich]` section of the configuration: which databases to read. Owns no I/O;
//! [`crate::Enricher::open`] reads the files.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where to find the databases that locate sign-in source addresses.
///
/// Both are MaxMind DB (`.mmdb`) files. Either may be left out, and one file may serve
/// both when it has both kinds of field. Relative paths are taken from the working
/// directory. Without any, enrichment is off and sign-ins keep only what their source
/// said about the address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrichConfig {
    /// Database that gives the country of an address: MaxMind GeoLite2-Country or
    /// GeoLite2-City (`country.iso_code`), GeoIP2-Country, -City or -Enterprise, or
    /// ip-location-db's `geo-whois-asn-country` (`country_code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_db: Option<PathBuf>,
    /// Database that gives the autonomous system number of an address: MaxMind
    /// GeoLite2-ASN or GeoIP2-ISP, or ip-location-db's `asn`
    /// (`autonomous_system_number`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn_db: Option<PathBuf>,
}

impl EnrichConfig {
    /// Whether any database is configured.
    pub fn is_enabled(&self) -> bool {
        self.country_db.is_some() || self.asn_db.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_off_and_typos_are_refused() {
        let empty: EnrichConfig = toml::from_str("").expect("empty section");
        assert_eq!(empty, EnrichConfig::default());
        assert!(!empty.is_enabled());
        let both: EnrichConfig =
            toml::from_str("country_db = \"c.mmdb\"\nasn_db = \"a.mmdb\"\n").expect("both");
        assert_eq!(both.country_db, Some(PathBuf::from("c.mmdb")));
        assert!(both.is_enabled());
        let error = toml::from_str::<EnrichConfig>("geoip = \"x.mmdb\"\n").expect_err("typo");
        assert!(
            error.to_string().contains("unknown field `geoip`"),
            "{error}"
        );
    }
}
