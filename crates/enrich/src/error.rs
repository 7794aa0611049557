//! Why a configured database cannot be used. Each error names the file and what is wrong
//! with it, so that the operator can fix the configuration without reading code.

use std::fmt;
use std::path::PathBuf;

/// What a database is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The ISO 3166 country code of an address (`country_db`).
    Country,
    /// The autonomous system number of an address (`asn_db`).
    Asn,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Country => "country",
            Field::Asn => "ASN",
        })
    }
}

/// A database from the `[enrich]` configuration that cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    /// The file is missing or unreadable.
    #[error("cannot read the {field} database {}: {source}", .path.display())]
    Unreadable {
        field: Field,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not in the MaxMind DB format (or is damaged).
    #[error(
        "the {field} database {} is not a MaxMind DB (.mmdb) file: {source}",
        .path.display()
    )]
    NotMmdb {
        field: Field,
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The file is an MMDB, but of a kind that does not hold the field asked for, such as
    /// an ASN database configured as `country_db`.
    #[error(
        "the {field} database {} is a {database_type:?} database, whose records have no {}",
        .path.display(),
        .field.record_fields()
    )]
    WrongDatabase {
        field: Field,
        path: PathBuf,
        /// The database's own name for its type (metadata `database_type`).
        database_type: String,
    },
}

impl Field {
    /// The record fields looked for, as the error message lists them.
    fn record_fields(self) -> &'static str {
        match self {
            Field::Country => {
                "country (`country.iso_code`, `registered_country.iso_code` or `country_code`)"
            }
            Field::Asn => "autonomous system number (`autonomous_system_number`)",
        }
    }
}
