//! Enrichment: the country and autonomous system of every sign-in's source address, from
//! MaxMind-format (MMDB) databases the operator configures.
//!
//! Enrichment is optional. Without databases an [`Enricher`] changes nothing and says so
//! in [`Enricher::describe`]. It only fills what the source left out: a country or ASN
//! the identity provider reported is never overwritten. Private, loopback, link-local,
//! documentation and other non-global addresses are not looked up.
//!
//! This crate reads its database files once, in [`Enricher::open`]; after that it does no
//! I/O, never reads the clock and allocates only the country code it stores. It depends on
//! `model` alone among tocsin's crates, so that `ingest` stays free of it and enrichment
//! happens where sign-ins enter the service.

mod config;
mod database;
mod error;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use model::SignIn;

pub use config::EnrichConfig;
pub use error::{EnrichError, Field};

use database::{CountryLayout, Database};

/// Looks up the source addresses of sign-ins in the configured databases.
///
/// `Send + Sync`: one is shared, behind an `Arc`, by every request of the service.
#[derive(Debug, Default)]
pub struct Enricher {
    country: Option<(Arc<Database>, CountryLayout)>,
    asn: Option<Arc<Database>>,
    /// Lookups a database could not answer (a damaged record), counted rather than
    /// failing the intake of a sign-in over a missing country.
    lookup_errors: AtomicU64,
}

impl Enricher {
    /// An enricher without databases, which leaves every sign-in as it is.
    pub fn disabled() -> Enricher {
        Enricher::default()
    }

    /// Opens the configured databases and checks that each has the field it is
    /// configured for. The same path for both is read once.
    pub fn open(config: &EnrichConfig) -> Result<Enricher, EnrichError> {
        let country = match &config.country_db {
            Some(path) => {
                let database = Arc::new(Database::open(path, Field::Country)?);
                let layout = database.country_layout()?;
                Some((database, layout))
            }
            None => None,
        };
        let asn = match &config.asn_db {
            Some(path) => {
                let database = match &country {
                    Some((database, _)) if database.path() == path => Arc::clone(database),
                    _ => Arc::new(Database::open(path, Field::Asn)?),
                };
                database.check_asn()?;
                Some(database)
            }
            None => None,
        };
        Ok(Enricher {
            country,
            asn,
            lookup_errors: AtomicU64::new(0),
        })
    }

    /// Whether any database is open.
    pub fn is_enabled(&self) -> bool {
        self.country.is_some() || self.asn.is_some()
    }

    /// One line for the startup log: which databases are used, of what type and age.
    pub fn describe(&self) -> String {
        let about =
            |database: &Database| format!("{} ({})", database.path().display(), database.summary());
        match (&self.country, &self.asn) {
            (None, None) => "enrichment off: no databases configured".to_owned(),
            (Some((country, _)), Some(asn)) if Arc::ptr_eq(country, asn) => {
                format!("country and ASN from {}", about(country))
            }
            (Some((country, _)), Some(asn)) => {
                format!("country from {}, ASN from {}", about(country), about(asn))
            }
            (Some((country, _)), None) => {
                format!(
                    "country from {}; no ASN database configured",
                    about(country)
                )
            }
            (None, Some(asn)) => {
                format!("ASN from {}; no country database configured", about(asn))
            }
        }
    }

    /// Fills `country` and `asn` of `sign_in` from the databases where the source gave
    /// none. Addresses that are not globally routed are not looked up.
    pub fn enrich(&self, sign_in: &mut SignIn) {
        let want_country = sign_in.country.is_none() && self.country.is_some();
        let want_asn = sign_in.asn.is_none() && self.asn.is_some();
        if !(want_country || want_asn) {
            return;
        }
        let Some(ip) = sign_in.source_ip.map(|ip| ip.to_canonical()) else {
            return;
        };
        if !is_global(ip) {
            return;
        }
        if want_country && let Some((database, layout)) = &self.country {
            match database.country(ip, *layout) {
                Ok(country) => sign_in.country = country,
                Err(_) => self.count_error(),
            }
        }
        if want_asn && let Some(database) = &self.asn {
            match database.asn(ip) {
                Ok(asn) => sign_in.asn = asn,
                Err(_) => self.count_error(),
            }
        }
    }

    /// How many lookups failed on a damaged database record since the enricher opened.
    pub fn lookup_errors(&self) -> u64 {
        self.lookup_errors.load(Ordering::Relaxed)
    }

    fn count_error(&self) {
        self.lookup_errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether `ip` (canonical) is a globally routed address that a database can place.
/// `IpAddr::is_global` is not stable; this follows the IANA special-purpose registries
/// for the ranges that appear in sign-in logs.
fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_documentation()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (b & 0xc0) == 64)
        // IETF protocol assignments, 192.0.0.0/24.
        || ip.octets()[..3] == [192, 0, 0]
        // Benchmarking, 198.18.0.0/15.
        || (a == 198 && (b & 0xfe) == 18)
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // Documentation, 2001:db8::/32 and 3fff::/20.
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
        || (segments[0] == 0x3fff && (segments[1] & 0xf000) == 0)
        // Discard-only, 100::/64.
        || segments[..4] == [0x0100, 0, 0, 0]
        // IPv4-compatible and other addresses under ::/96 that are not canonical IPv4.
        || segments[..6] == [0; 6])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(ip: &str) -> bool {
        is_global(ip.parse::<IpAddr>().expect("ip").to_canonical())
    }

    #[test]
    fn only_global_addresses_are_looked_up() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "3fff:fff::1",
            "::ffff:10.0.0.1",
            "::ffff:203.0.113.1",
        ] {
            assert!(!global(ip), "{ip} is not global");
        }
        for ip in [
            "81.2.69.144",
            "8.8.8.8",
            "2a02:d180::1",
            "3fff:1000::1",
            "::ffff:81.2.69.144",
        ] {
            assert!(global(ip), "{ip} is global");
        }
    }
}
