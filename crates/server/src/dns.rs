//! Proof of domain ownership by a DNS TXT record.
//!
//! An organisation proves a domain by publishing `_tocsin.<domain> TXT
//! "tocsin-verification=<token>"`. The token is `HMAC(master key, org id, domain)`: it is
//! never stored, cannot be guessed from the id, and differs per organisation, so a record
//! published for one organisation proves nothing for another. This module derives tokens
//! and reads records; deciding what a lookup means for the store is the handler's.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::RData;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use model::OrgId;
use store::MasterKey;

type HmacSha256 = Hmac<Sha256>;

/// The label under the domain where the record lives.
pub const RECORD_LABEL: &str = "_tocsin";
/// What the record's text starts with.
pub const VALUE_PREFIX: &str = "tocsin-verification=";

/// The records one lookup reports, at most; a name with more is not one we asked for.
const MAX_REPORTED: usize = 10;

/// The TXT record an organisation publishes to prove `domain`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExpectedRecord {
    /// The owner name, `_tocsin.<domain>`.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The text, `tocsin-verification=<token>`.
    pub value: String,
}

/// The record `org` must publish for `domain` (already normalised: lower case, no
/// trailing dot).
pub fn expected_record(master: &MasterKey, org: OrgId, domain: &str) -> ExpectedRecord {
    let mut mac =
        HmacSha256::new_from_slice(master.as_bytes()).expect("HMAC takes keys of any length");
    // The domain is last and the id is delimited, so no (org, domain) pair can spell
    // another's input.
    mac.update(
        format!(
            "tocsin domain verification v1 for organisation {} domain {domain}",
            org.0
        )
        .as_bytes(),
    );
    let token = hex::encode(&mac.finalize().into_bytes()[..20]);
    ExpectedRecord {
        name: format!("{RECORD_LABEL}.{domain}"),
        kind: "TXT",
        value: format!("{VALUE_PREFIX}{token}"),
    }
}

/// A lookup that did not give an answer either way.
#[derive(Debug, thiserror::Error)]
#[error("the lookup of {name} TXT failed: {reason}")]
pub struct LookupError {
    pub name: String,
    pub reason: String,
}

/// Reads TXT records through the configured nameservers, or the system's.
#[derive(Clone, Debug)]
pub struct TxtLookup {
    nameservers: Vec<SocketAddr>,
    timeout: Duration,
}

impl TxtLookup {
    pub fn new(nameservers: Vec<SocketAddr>, timeout: Duration) -> TxtLookup {
        TxtLookup {
            nameservers,
            timeout,
        }
    }

    // A resolver per lookup: its cache would otherwise remember "no record" for as long
    // as the negative TTL, and an organisation that just published would be told it had
    // not.
    fn resolver(&self) -> Result<TokioResolver, String> {
        let mut builder = if self.nameservers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| {
                format!("the system resolver configuration is unreadable ({e}); set [enrolment] nameservers")
            })?
        } else {
            let servers = self
                .nameservers
                .iter()
                .map(|address| {
                    let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                        .into_iter()
                        .map(|mut c| {
                            c.port = address.port();
                            c
                        })
                        .collect();
                    NameServerConfig::new(address.ip(), true, connections)
                })
                .collect();
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            )
        };
        let options = builder.options_mut();
        options.timeout = self.timeout;
        options.attempts = 1;
        options.cache_size = 0;
        builder.build().map_err(|e| e.to_string())
    }

    /// The texts of the TXT records at `name` (each record's strings joined, as RFC 7208
    /// reads them). A name that does not exist or has no TXT record gives none.
    pub async fn texts(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let failed = |reason: String| LookupError {
            name: name.to_owned(),
            reason,
        };
        let resolver = self.resolver().map_err(failed)?;
        // Fully qualified, so no search domain is tried.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let lookup = tokio::time::timeout(self.timeout * 2, resolver.txt_lookup(fqdn)).await;
        let lookup = match lookup {
            Err(_) => return Err(failed("no answer in time".into())),
            Ok(Err(NetError::Dns(DnsError::NoRecordsFound(_)))) => return Ok(Vec::new()),
            Ok(Err(error)) => return Err(failed(error.to_string())),
            Ok(Ok(lookup)) => lookup,
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .take(MAX_REPORTED)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_by_organisation_and_domain_and_are_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("master.key"), "11".repeat(32)).expect("key");
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let store = rt
            .block_on(store::Store::open_for_tests(dir.path()))
            .expect("store");
        let key = store.master_key();
        let a = expected_record(key, OrgId(1), "a.example");
        assert_eq!(a.name, "_tocsin.a.example");
        assert!(a.value.starts_with(VALUE_PREFIX));
        assert_eq!(a.value.len(), VALUE_PREFIX.len() + 40);
        assert_eq!(a, expected_record(key, OrgId(1), "a.example"));
        assert_ne!(a.value, expected_record(key, OrgId(2), "a.example").value);
        assert_ne!(a.value, expected_record(key, OrgId(1), "b.example").value);
    }
}
