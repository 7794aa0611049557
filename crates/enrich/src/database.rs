//! One MaxMind DB file held in memory, and the lookups of the two fields tocsin takes
//! from it. Owns the knowledge of where each database family keeps those fields; does
//! not decide which addresses are looked up (that is [`crate::Enricher`]'s).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{MaxMindDbError, PathElement, Reader, WithinOptions};

use crate::error::{EnrichError, Field};

/// Records examined when opening a database to learn which fields it has. The first
/// records of a real database all carry its fields; a database none of whose first
/// thousand records has a country has none to give.
const PROBED_RECORDS: usize = 1000;

const COUNTRY: [PathElement<'static>; 2] =
    [PathElement::Key("country"), PathElement::Key("iso_code")];
const REGISTERED_COUNTRY: [PathElement<'static>; 2] = [
    PathElement::Key("registered_country"),
    PathElement::Key("iso_code"),
];
const COUNTRY_CODE: [PathElement<'static>; 1] = [PathElement::Key("country_code")];
const ASN: [PathElement<'static>; 1] = [PathElement::Key("autonomous_system_number")];

/// Where a database keeps the country of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CountryLayout {
    /// MaxMind GeoIP2 / GeoLite2 (and DB-IP's MaxMind-compatible files): `country.iso_code`,
    /// else `registered_country.iso_code` for addresses whose location is unknown but whose
    /// registration is (anycast, satellite).
    GeoIp2,
    /// ip-location-db: a flat `country_code`.
    Flat,
}

/// An opened database file.
#[derive(Debug)]
pub(crate) struct Database {
    path: PathBuf,
    // Read once into memory: lookups then touch no file. The `mmap` feature would share
    // pages with the page cache but needs `unsafe`, which the workspace forbids.
    reader: Reader<Vec<u8>>,
}

impl Database {
    /// Reads `path`, for the use `field` names in the error messages.
    pub(crate) fn open(path: &Path, field: Field) -> Result<Database, EnrichError> {
        // Read here rather than through `Reader::open_readfile` so that a missing file
        // and a malformed one are different errors.
        let bytes = std::fs::read(path).map_err(|source| EnrichError::Unreadable {
            field,
            path: path.to_owned(),
            source,
        })?;
        let reader = Reader::from_source(bytes).map_err(|source| EnrichError::NotMmdb {
            field,
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        Ok(Database {
            path: path.to_owned(),
            reader,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The database's name for its type, such as `GeoLite2-City`.
    pub(crate) fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// The day the database was built, `YYYY-MM-DD` (UTC).
    pub(crate) fn build_date(&self) -> Option<String> {
        let epoch = i64::try_from(self.reader.metadata().build_epoch).ok()?;
        let time = jiff::Timestamp::from_second(epoch).ok()?;
        Some(time.strftime("%Y-%m-%d").to_string())
    }

    /// `GeoLite2-City, built 2024-05-01`, for the startup log.
    pub(crate) fn summary(&self) -> String {
        match self.build_date() {
            Some(date) => format!("{}, built {date}", self.database_type()),
            None => self.database_type().to_owned(),
        }
    }

    /// Learns where this database keeps countries, or says it has none.
    pub(crate) fn country_layout(&self) -> Result<CountryLayout, EnrichError> {
        let mut geoip2 = false;
        let mut flat = false;
        self.probe(|record| {
            geoip2 = has(record, &COUNTRY) || has(record, &REGISTERED_COUNTRY);
            flat = has(record, &COUNTRY_CODE);
            geoip2 || flat
        });
        match (geoip2, flat) {
            (true, _) => Ok(CountryLayout::GeoIp2),
            (false, true) => Ok(CountryLayout::Flat),
            (false, false) => Err(self.wrong(Field::Country)),
        }
    }

    /// Checks that this database has autonomous system numbers.
    pub(crate) fn check_asn(&self) -> Result<(), EnrichError> {
        let mut found = false;
        self.probe(|record| {
            found = has(record, &ASN);
            found
        });
        if found {
            Ok(())
        } else {
            Err(self.wrong(Field::Asn))
        }
    }

    fn wrong(&self, field: Field) -> EnrichError {
        EnrichError::WrongDatabase {
            field,
            path: self.path.clone(),
            database_type: self.database_type().to_owned(),
        }
    }

    /// Calls `found` on the first records with data until it returns true.
    fn probe(&self, mut found: impl FnMut(&maxminddb::LookupResult<'_, Vec<u8>>) -> bool) {
        let Ok(networks) = self.reader.networks(WithinOptions::default()) else {
            return;
        };
        for record in networks.take(PROBED_RECORDS).flatten() {
            if found(&record) {
                return;
            }
        }
    }

    /// The country of `ip` (already canonical: IPv4-mapped addresses as IPv4).
    pub(crate) fn country(
        &self,
        ip: IpAddr,
        layout: CountryLayout,
    ) -> Result<Option<String>, MaxMindDbError> {
        let Some(record) = self.record(ip)? else {
            return Ok(None);
        };
        // Borrowed strings: decoding allocates nothing; only a valid code is copied out.
        let code: Option<&str> = match layout {
            CountryLayout::GeoIp2 => match record.decode_path(&COUNTRY)? {
                Some(code) => Some(code),
                None => record.decode_path(&REGISTERED_COUNTRY)?,
            },
            CountryLayout::Flat => record.decode_path(&COUNTRY_CODE)?,
        };
        Ok(code.and_then(iso_country))
    }

    /// The autonomous system number of `ip` (already canonical).
    pub(crate) fn asn(&self, ip: IpAddr) -> Result<Option<u32>, MaxMindDbError> {
        match self.record(ip)? {
            Some(record) => record.decode_path(&ASN),
            None => Ok(None),
        }
    }

    fn record(
        &self,
        ip: IpAddr,
    ) -> Result<Option<maxminddb::LookupResult<'_, Vec<u8>>>, MaxMindDbError> {
        // An IPv4-only file (ip-location-db ships one per family) cannot hold an IPv6
        // address; the reader would answer with an error.
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(None);
        }
        let record = self.reader.lookup(ip)?;
        Ok(record.has_data().then_some(record))
    }
}

fn has(record: &maxminddb::LookupResult<'_, Vec<u8>>, path: &[PathElement<'_>]) -> bool {
    matches!(
        record.decode_path::<serde::de::IgnoredAny>(path),
        Ok(Some(_))
    )
}

/// A two-letter ISO 3166 code, upper-cased; anything else a database holds is dropped
/// rather than passed on to detectors and notifications.
fn iso_country(code: &str) -> Option<String> {
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| code.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_two_letter_codes_are_countries() {
        assert_eq!(iso_country("gb").as_deref(), Some("GB"));
        assert_eq!(iso_country("GB").as_deref(), Some("GB"));
        assert_eq!(iso_country(""), None);
        assert_eq!(iso_country("GBR"), None);
        assert_eq!(iso_country("1A"), None);
    }
}
