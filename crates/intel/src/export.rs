//! Sharing an incident back out: a STIX 2.1 bundle for CTI platforms and TAXII servers,
//! and a MISP event for MISP communities.
//!
//! What leaves and what never does:
//! - The targeted organisation is named only when it agreed ([`Sharing::named`]);
//!   otherwise it is a pseudonym, HMAC-SHA256 of its id under the service's
//!   `pseudonym_key`: stable across exports, so recipients can tell "the same victim
//!   again", different per organisation, and not reversible without the key. Its sector
//!   is kept, coarsened to the STIX industry sector (a hospital is `healthcare`), since a
//!   fine sector and a country can name a small organisation on their own.
//! - **Accounts are never exported**, whatever the organisation agreed: they are the
//!   victims' user names, and no recipient needs them to block an attacker. Indicators
//!   that matched an account (`user-account:` or an account's value) are neither sighted
//!   nor quoted, and any account name left in free text is replaced by `[account]`. There
//!   are no passwords to leak; tocsin never holds any.
//! - The incident's free-text summary goes into the MISP event only when the organisation
//!   agreed to be named: it may name the organisation.
//! - Attacking infrastructure — source addresses, sender addresses, domains, URLs, file
//!   hashes — is exported, as observed data, as indicators and as sightings.
//!
//! Every id is a UUIDv5, so exporting the same incident twice gives the same bundle and
//! the same event: STIX Cyber-observable ids follow the STIX 2.1 rule (section 2.9: the
//! STIX namespace over the object's id-contributing properties), the rest come from the
//! tocsin namespace over the incident id and the object's content. Timestamps come from
//! the incident, never the clock.
//!
//! The STIX objects follow the OASIS STIX 2.1 interoperability profile: every SDO and SRO
//! has `created_by_ref` (the tocsin identity) and TLP:AMBER in `object_marking_refs`;
//! indicators have `name` and `indicator_types`; observed data has `object_refs`;
//! sightings have `first_seen`, `last_seen` and `count`. The one exception: an attributed
//! actor's `intrusion-set` lacks the profile's `resource_level` and `primary_motivation`,
//! which public reporting rarely settles and the catalogue does not record.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use md5::Digest as _;
use model::Sector;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::attribution::{ALMOST_CERTAINLY, Attribution, LIKELY, ROUGHLY_EVEN_CHANCE, VERY_LIKELY};
use crate::{Match, normal};

/// The STIX 2.1 namespace for Cyber-observable ids (STIX 2.1 section 2.9).
pub const STIX_SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);
/// tocsin's own namespace for the ids it makes: fixed, since changing it changes every
/// exported id and recipients would see new objects for old incidents.
pub const TOCSIN_NAMESPACE: Uuid = Uuid::from_u128(0x6f2c_1d5e_8a3b_4c7d_9e0f_a1b2_c3d4_e5f6);
/// The TLP:AMBER marking definition predefined by STIX 2.1 (section 7.2.1.4).
pub const TLP_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
/// Fewest bytes a pseudonym key may have: a short key makes pseudonyms guessable from
/// the few thousand organisation ids.
pub const MIN_PSEUDONYM_KEY_BYTES: usize = 16;
/// Most values of each kind exported from one incident.
pub const MAX_VALUES: usize = 1000;
/// When the tocsin identity and organisation identities were first described: fixed so
/// that they are the same object in every export.
const IDENTITY_CREATED: &str = "2020-04-14T00:00:00.000Z";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "incident {incident}: the pseudonym key has {bytes} bytes; at least {MIN_PSEUDONYM_KEY_BYTES} are needed"
    )]
    WeakKey { incident: String, bytes: usize },
    #[error("incident {incident}: {field} value {value:?} is not one: {reason}")]
    BadValue {
        incident: String,
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("incident {incident}: last seen {last} is before first seen {first}")]
    Window {
        incident: String,
        first: Timestamp,
        last: Timestamp,
    },
}

/// An incident as it is shared: a plain copy of what the incident store holds, so that
/// export does not follow every change of `model::Incident`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedIncident {
    pub id: String,
    /// `password_spray`, `phishing`, ...
    pub kind: String,
    /// The ATT&CK technique id.
    pub technique: String,
    /// `low`, `medium`, `high`, `critical`.
    pub severity: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Events (sign-ins, messages) the incident holds; at least one is reported.
    pub events: u64,
    pub summary: String,
    /// Attacking source addresses.
    pub sources: Vec<String>,
    /// The victims' accounts: never exported (see the module documentation).
    pub accounts: Vec<String>,
    /// Sender addresses of malicious mail.
    pub senders: Vec<String>,
    pub domains: Vec<String>,
    pub urls: Vec<String>,
    /// File hashes in hex: MD5, SHA-1, SHA-256 or SHA-512 by length.
    pub hashes: Vec<String>,
    pub matches: Vec<Match>,
    pub attribution: Option<Attribution>,
}

/// The targeted organisation, as tocsin knows it.
#[derive(Clone, Copy, Debug)]
pub struct Organisation<'a> {
    /// tocsin's id for it (the pseudonym is derived from this).
    pub id: &'a str,
    pub sector: Option<Sector>,
}

/// What the organisation agreed to share, and the service's pseudonym key.
#[derive(Clone, Copy, Debug)]
pub struct Sharing<'a> {
    pub organisation: Organisation<'a>,
    /// Its name, only when it agreed to be named; `None` exports a pseudonym.
    pub named: Option<&'a str>,
    /// The service's secret for pseudonyms (at least [`MIN_PSEUDONYM_KEY_BYTES`]).
    pub pseudonym_key: &'a [u8],
}

/// The name a pseudonymised organisation is shared under:
/// `organisation-` and the first 16 bytes of HMAC-SHA256(key, org id) in hex.
pub fn pseudonym(key: &[u8], org_id: &str) -> Option<String> {
    if key.len() < MIN_PSEUDONYM_KEY_BYTES {
        return None;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(org_id.as_bytes());
    let digest = mac.finalize().into_bytes();
    Some(format!("organisation-{}", hex::encode(&digest[..16])))
}

/// A UUIDv5 (RFC 9562 section 5.5) of `name` in `namespace`.
fn uuid_v5(namespace: Uuid, name: &str) -> Uuid {
    let mut hasher = sha1::Sha1::new();
    hasher.update(namespace.as_bytes());
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// STIX timestamps: UTC, millisecond precision.
fn stix_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A value inside a STIX pattern's single quotes: `\` and `'` escaped (STIX 2.1
/// Patterning, section 9.1).
fn pattern_literal(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The observables of an incident, checked and in one spelling.
struct Observables {
    ips: Vec<IpAddr>,
    senders: Vec<String>,
    domains: Vec<String>,
    urls: Vec<String>,
    /// (STIX hash name, MISP type, lower-case hex)
    hashes: Vec<(&'static str, &'static str, String)>,
}

fn observables(incident: &SharedIncident) -> Result<Observables, ExportError> {
    let bad = |field: &'static str, value: &str, reason: &'static str| ExportError::BadValue {
        incident: incident.id.clone(),
        field,
        value: value.chars().take(256).collect(),
        reason,
    };
    let mut out = Observables {
        ips: Vec::new(),
        senders: Vec::new(),
        domains: Vec::new(),
        urls: Vec::new(),
        hashes: Vec::new(),
    };
    for source in incident.sources.iter().take(MAX_VALUES) {
        let ip: IpAddr = source
            .trim()
            .parse()
            .map_err(|_| bad("source", source, "an IP address"))?;
        if !out.ips.contains(&ip) {
            out.ips.push(ip);
        }
    }
    for sender in incident.senders.iter().take(MAX_VALUES) {
        let sender =
            normal::email(sender).ok_or_else(|| bad("sender", sender, "a mail address"))?;
        push_new(&mut out.senders, sender);
    }
    for domain in incident.domains.iter().take(MAX_VALUES) {
        let domain = normal::domain(domain).ok_or_else(|| bad("domain", domain, "a host name"))?;
        push_new(&mut out.domains, domain);
    }
    for url in incident.urls.iter().take(MAX_VALUES) {
        let url = normal::url(url).ok_or_else(|| bad("url", url, "a URL"))?;
        push_new(&mut out.urls, url);
    }
    for hash in incident.hashes.iter().take(MAX_VALUES) {
        let hex = normal::hash(hash)
            .ok_or_else(|| bad("hash", hash, "an MD5, SHA-1, SHA-256 or SHA-512 hash"))?;
        let (stix, misp) = match hex.len() {
            32 => ("MD5", "md5"),
            40 => ("SHA-1", "sha1"),
            64 => ("SHA-256", "sha256"),
            _ => ("SHA-512", "sha512"),
        };
        if !out.hashes.iter().any(|(_, _, h)| *h == hex) {
            out.hashes.push((stix, misp, hex));
        }
    }
    Ok(out)
}

fn push_new(values: &mut Vec<String>, value: String) {
    if !values.contains(&value) {
        values.push(value);
    }
}

fn check(incident: &SharedIncident, sharing: &Sharing<'_>) -> Result<(), ExportError> {
    if sharing.pseudonym_key.len() < MIN_PSEUDONYM_KEY_BYTES {
        return Err(ExportError::WeakKey {
            incident: incident.id.clone(),
            bytes: sharing.pseudonym_key.len(),
        });
    }
    if incident.last_seen < incident.first_seen {
        return Err(ExportError::Window {
            incident: incident.id.clone(),
            first: incident.first_seen,
            last: incident.last_seen,
        });
    }
    Ok(())
}

/// The STIX 2.1 industry sector (`industry-sector-ov`) a tocsin sector is shared as.
pub fn stix_sector(sector: Sector) -> Option<&'static str> {
    match sector {
        Sector::Hospital
        | Sector::Clinic
        | Sector::CareFacility
        | Sector::Lab
        | Sector::ClinicianPractice
        | Sector::MedicalDevices => Some("healthcare"),
        Sector::Pharmaceutical | Sector::LifeSciences => Some("pharmaceuticals"),
        Sector::HumanRights | Sector::Humanitarian => Some("non-profit"),
        // Not in the open vocabulary; STIX allows other values.
        Sector::PoliticalCampaign => Some("political-campaign"),
        Sector::Other => None,
    }
}

/// The identity the organisation is shared under: its name when it agreed, else its
/// pseudonym. The id comes from that name, never from the organisation id, which would be
/// guessable.
fn organisation_identity(
    sharing: &Sharing<'_>,
    incident: &str,
) -> Result<(String, Value), ExportError> {
    let name = match sharing.named {
        Some(name) => name.to_owned(),
        None => pseudonym(sharing.pseudonym_key, sharing.organisation.id).ok_or_else(|| {
            ExportError::WeakKey {
                incident: incident.to_owned(),
                bytes: sharing.pseudonym_key.len(),
            }
        })?,
    };
    let id = format!(
        "identity--{}",
        uuid_v5(TOCSIN_NAMESPACE, &format!("organisation\n{name}"))
    );
    let mut identity = json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": id,
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "created_by_ref": tocsin_identity_id(),
        "name": name,
        "identity_class": "organization",
        "object_marking_refs": [TLP_AMBER],
    });
    if let Some(sector) = sharing.organisation.sector.and_then(stix_sector) {
        identity["sectors"] = json!([sector]);
    }
    if sharing.named.is_none() {
        identity["description"] = json!("A pseudonym: the organisation did not agree to be named.");
    }
    Ok((id, identity))
}

fn tocsin_identity_id() -> String {
    format!(
        "identity--{}",
        uuid_v5(TOCSIN_NAMESPACE, "identity\ntocsin")
    )
}

fn tocsin_identity() -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": tocsin_identity_id(),
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "created_by_ref": tocsin_identity_id(),
        "name": "tocsin",
        "description": "A threat-notification service watching the organisations it protects for attacks.",
        "identity_class": "system",
        "object_marking_refs": [TLP_AMBER],
    })
}

fn tlp_amber() -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_AMBER,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": "TLP:AMBER",
        "definition": { "tlp": "amber" },
    })
}

/// A STIX Cyber-observable and its id (STIX namespace over its id-contributing
/// properties, serialised in canonical JSON: sorted keys, no spaces — what `json!` of one
/// or two keys gives).
fn sco(kind: &str, contributing: Value) -> (String, Value) {
    let canonical = contributing.to_string();
    let id = format!("{kind}--{}", uuid_v5(STIX_SCO_NAMESPACE, &canonical));
    let mut object = json!({ "type": kind, "spec_version": "2.1", "id": id });
    if let (Some(target), Some(fields)) = (object.as_object_mut(), contributing.as_object()) {
        for (key, value) in fields {
            target.insert(key.clone(), value.clone());
        }
    }
    (id, object)
}

/// An indicator the bundle sights: its id, and its object — `None` for a feed's own STIX
/// indicator, which is referred to by id, not restated under tocsin's name.
struct Stated {
    id: String,
    object: Option<Value>,
}

/// The incident as a STIX 2.1 bundle: identities, TLP:AMBER, the observed data, an
/// indicator per attacking source and per matched indicator from a non-STIX feed, and a
/// sighting of each indicator (matched STIX indicators are referred to by their own id).
pub fn stix_bundle(incident: &SharedIncident, sharing: &Sharing<'_>) -> Result<Value, ExportError> {
    check(incident, sharing)?;
    let seen = observables(incident)?;
    let first = stix_time(incident.first_seen);
    let last = stix_time(incident.last_seen);
    let scope = |what: &str| {
        uuid_v5(
            TOCSIN_NAMESPACE,
            &format!("incident\n{}\n{what}", incident.id),
        )
    };
    let creator = tocsin_identity_id();
    let (org_id, org) = organisation_identity(sharing, &incident.id)?;
    let mut objects = vec![tlp_amber(), tocsin_identity(), org];

    let mut sco_ids = Vec::new();
    let mut scos = Vec::new();
    let mut add_sco = |(id, object): (String, Value)| {
        sco_ids.push(id);
        scos.push(object);
    };
    for ip in &seen.ips {
        let kind = if ip.is_ipv4() {
            "ipv4-addr"
        } else {
            "ipv6-addr"
        };
        add_sco(sco(kind, json!({ "value": ip.to_string() })));
    }
    for sender in &seen.senders {
        add_sco(sco("email-addr", json!({ "value": sender })));
    }
    for domain in &seen.domains {
        add_sco(sco("domain-name", json!({ "value": domain })));
    }
    for url in &seen.urls {
        add_sco(sco("url", json!({ "value": url })));
    }
    for (name, _, hex) in &seen.hashes {
        add_sco(sco("file", json!({ "hashes": { *name: hex } })));
    }
    let observed_id =
        (!sco_ids.is_empty()).then(|| format!("observed-data--{}", scope("observed-data")));
    if let Some(id) = &observed_id {
        objects.push(json!({
            "type": "observed-data",
            "spec_version": "2.1",
            "id": id,
            "created": last,
            "modified": last,
            "created_by_ref": creator,
            "first_observed": first,
            "last_observed": last,
            "number_observed": incident.events.clamp(1, 999_999_999),
            "object_refs": sco_ids,
            "object_marking_refs": [TLP_AMBER],
        }));
    }
    objects.extend(scos);

    let mut stated: Vec<Stated> = Vec::new();
    let indicator =
        |id: &str, name: String, description: String, pattern: String, extra: Option<Value>| {
            let mut object = json!({
                "type": "indicator",
                "spec_version": "2.1",
                "id": id,
                "created": last,
                "modified": last,
                "created_by_ref": creator,
                "name": name,
                "description": description,
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": first,
                "object_marking_refs": [TLP_AMBER],
            });
            if let (Some(extra), Some(target)) = (extra, object.as_object_mut()) {
                target.insert("external_references".into(), extra);
            }
            object
        };
    for ip in &seen.ips {
        let kind = if ip.is_ipv4() {
            "ipv4-addr"
        } else {
            "ipv6-addr"
        };
        let pattern = format!("[{kind}:value = '{ip}']");
        let id = format!("indicator--{}", scope(&format!("indicator\n{pattern}")));
        let object = indicator(
            &id,
            format!("Attacking source {ip}"),
            format!(
                "Source of {} ({}) against a {} organisation.",
                incident.kind,
                incident.technique,
                sector_words(sharing)
            ),
            pattern,
            None,
        );
        stated.push(Stated {
            id,
            object: Some(object),
        });
    }
    for m in exportable_matches(incident) {
        if is_stix_id(&m.indicator, "indicator") {
            if !stated.iter().any(|s| s.id == m.indicator) {
                stated.push(Stated {
                    id: m.indicator.clone(),
                    object: None,
                });
            }
            continue;
        }
        let pattern = if looks_like_pattern(&m.pattern) {
            m.pattern.clone()
        } else {
            format!("[{} = '{}']", m.field, pattern_literal(&m.observed))
        };
        let id = format!(
            "indicator--{}",
            scope(&format!("match\n{}\n{}\n{pattern}", m.feed, m.indicator))
        );
        if stated.iter().any(|s| s.id == id) {
            continue;
        }
        let object = indicator(
            &id,
            format!("{}: {}", m.feed, m.indicator),
            format!(
                "Indicator {} of feed {} matched {} = {}.",
                m.indicator, m.feed, m.field, m.observed
            ),
            pattern,
            Some(json!([{ "source_name": m.feed, "external_id": m.indicator }])),
        );
        stated.push(Stated {
            id,
            object: Some(object),
        });
    }
    for s in &stated {
        if let Some(object) = &s.object {
            objects.push(object.clone());
        }
        let mut sighting = json!({
            "type": "sighting",
            "spec_version": "2.1",
            "id": format!("sighting--{}", scope(&format!("sighting\n{}", s.id))),
            "created": last,
            "modified": last,
            "created_by_ref": creator,
            "first_seen": first,
            "last_seen": last,
            "count": 1,
            "sighting_of_ref": s.id,
            "where_sighted_refs": [org_id],
            "object_marking_refs": [TLP_AMBER],
        });
        if let Some(observed) = &observed_id {
            sighting["observed_data_refs"] = json!([observed]);
        }
        if let Some(attribution) = &incident.attribution {
            sighting["description"] = json!(format!("Attribution: {}.", attribution.headline()));
        }
        objects.push(sighting);
    }
    if let Some(attribution) = &incident.attribution {
        let withheld: Vec<&str> = incident
            .matches
            .iter()
            .take(MAX_VALUES)
            .filter(|m| !is_exportable(m, incident))
            .map(|m| m.indicator.as_str())
            .collect();
        objects.extend(attributed(
            attribution,
            &stated,
            &withheld,
            &creator,
            incident.last_seen,
            &scope,
        ));
    }
    let mut bundle = json!({
        "type": "bundle",
        "id": format!("bundle--{}", scope("bundle")),
        "objects": objects,
    });
    redact(&mut bundle, &incident.accounts);
    Ok(bundle)
}

/// The named actor as an `intrusion-set` (one id per actor across every export, a new
/// `modified` per incident) and an `indicates` relationship from each sighted indicator to
/// it, carrying the attribution's confidence (STIX 2.1 Appendix A, Low/Med/High) and
/// evidence, less sentences about `withheld` indicators. Nothing when no actor is named.
fn attributed(
    attribution: &Attribution,
    stated: &[Stated],
    withheld: &[&str],
    creator: &str,
    last_seen: Timestamp,
    scope: &dyn Fn(&str) -> Uuid,
) -> Vec<Value> {
    let Some(actor) = &attribution.actor else {
        return Vec::new();
    };
    let set_id = format!(
        "intrusion-set--{}",
        uuid_v5(TOCSIN_NAMESPACE, &format!("intrusion-set\n{}", actor.id))
    );
    let last = stix_time(last_seen);
    let modified = if last.as_str() > IDENTITY_CREATED {
        last.clone()
    } else {
        IDENTITY_CREATED.to_owned()
    };
    let mut objects = vec![json!({
        "type": "intrusion-set",
        "spec_version": "2.1",
        "id": set_id,
        "created": IDENTITY_CREATED,
        "modified": modified,
        "created_by_ref": creator,
        "name": actor.name,
        "aliases": actor.aliases.iter().take(32).collect::<Vec<_>>(),
        "object_marking_refs": [TLP_AMBER],
    })];
    // Evidence naming a withheld (account) indicator would let a recipient look the
    // account up in that feed.
    let description = std::iter::once(attribution.headline())
        .chain(
            attribution
                .evidence
                .iter()
                .filter(|sentence| !withheld.iter().any(|id| sentence.contains(id)))
                .cloned(),
        )
        .collect::<Vec<_>>()
        .join("\n");
    for s in stated {
        objects.push(json!({
            "type": "relationship",
            "spec_version": "2.1",
            "id": format!("relationship--{}", scope(&format!("indicates\n{}\n{}", s.id, actor.id))),
            "created": last,
            "modified": last,
            "created_by_ref": creator,
            "relationship_type": "indicates",
            "source_ref": s.id,
            "target_ref": set_id,
            "confidence": attribution.confidence.stix(),
            "description": description,
            "object_marking_refs": [TLP_AMBER],
        }));
    }
    objects
}

/// The MISP estimative-language taxonomy's tag for an attribution's words.
fn likelihood_tag(words: &str) -> Option<&'static str> {
    match words {
        ALMOST_CERTAINLY => Some("almost-certain"),
        VERY_LIKELY => Some("very-likely"),
        LIKELY => Some("likely"),
        ROUGHLY_EVEN_CHANCE => Some("roughly-even-chance"),
        _ => None,
    }
}

fn sector_words(sharing: &Sharing<'_>) -> String {
    sharing
        .organisation
        .sector
        .and_then(stix_sector)
        .unwrap_or("protected")
        .replace('-', " ")
}

/// The matches that may leave: none on an account (`user-account:` objects, or whose
/// matched value is one of the incident's accounts), since those name a victim.
fn exportable_matches(incident: &SharedIncident) -> impl Iterator<Item = &Match> {
    incident
        .matches
        .iter()
        .take(MAX_VALUES)
        .filter(|m| is_exportable(m, incident))
}

fn is_exportable(m: &Match, incident: &SharedIncident) -> bool {
    !m.field.starts_with("user-account:")
        && !incident
            .accounts
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(m.observed.trim()))
}

const REDACTED: &str = "[account]";
/// Shortest account name redacted inside free text; shorter ones would shred words.
const MIN_REDACTED_CHARS: usize = 3;

/// Replaces every account name (ASCII case-insensitively) in every string of `value` with
/// `[account]`: free text — an attribution's evidence, a summary — can quote what an
/// event showed, and accounts never leave.
fn redact(value: &mut Value, accounts: &[String]) {
    let accounts: Vec<String> = accounts
        .iter()
        .take(MAX_VALUES)
        .map(|a| a.trim().to_owned())
        .filter(|a| a.chars().count() >= MIN_REDACTED_CHARS)
        .collect();
    if accounts.is_empty() {
        return;
    }
    // One pass, longest account first where two overlap, so that a replacement is never
    // searched again.
    let Ok(finder) = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&accounts)
    else {
        return;
    };
    let replacements = vec![REDACTED; accounts.len()];
    redact_strings(value, &finder, &replacements);
}

fn redact_strings(value: &mut Value, finder: &aho_corasick::AhoCorasick, with: &[&str]) {
    match value {
        Value::String(text) if finder.is_match(text.as_str()) => {
            *text = finder.replace_all(text, with);
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| redact_strings(v, finder, with)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|v| redact_strings(v, finder, with)),
        _ => {}
    }
}

/// `kind--<uuid>`.
pub fn is_stix_id(id: &str, kind: &str) -> bool {
    id.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix("--"))
        .is_some_and(|uuid| Uuid::parse_str(uuid).is_ok() && uuid.len() == 36)
}

fn looks_like_pattern(pattern: &str) -> bool {
    let pattern = pattern.trim();
    pattern.starts_with('[') && pattern.ends_with(']') && pattern.contains(':')
}

/// The incident as a MISP event (the JSON MISP's "Import from… MISP JSON" and feeds
/// read): attacking sources as `ip-src`, senders as `email-src`, domains, URLs and hashes,
/// all for IDS; the targeted organisation as `target-org` (its name or pseudonym, not for
/// IDS); TLP:AMBER; distribution "this community only".
pub fn misp_event(incident: &SharedIncident, sharing: &Sharing<'_>) -> Result<Value, ExportError> {
    check(incident, sharing)?;
    let seen = observables(incident)?;
    let scope = |what: &str| {
        uuid_v5(
            TOCSIN_NAMESPACE,
            &format!("incident\n{}\n{what}", incident.id),
        )
    };
    let timestamp = incident.last_seen.as_second().to_string();
    let comment_for = |value: &str| -> String {
        let hits: Vec<String> = exportable_matches(incident)
            .filter(|m| m.observed == value)
            .take(4)
            .map(|m| format!("matched {} indicator {}", m.feed, m.indicator))
            .collect();
        hits.join("; ")
    };
    let mut attributes = Vec::new();
    let mut attribute = |kind: &str, category: &str, value: String, to_ids: bool| {
        attributes.push(json!({
            "type": kind,
            "category": category,
            "value": value,
            "to_ids": to_ids,
            "uuid": scope(&format!("attribute\n{kind}\n{value}")).to_string(),
            "timestamp": timestamp,
            "comment": comment_for(&value),
            "distribution": "5",
        }));
    };
    for ip in &seen.ips {
        attribute("ip-src", "Network activity", ip.to_string(), true);
    }
    for sender in &seen.senders {
        attribute("email-src", "Payload delivery", sender.clone(), true);
    }
    for domain in &seen.domains {
        attribute("domain", "Network activity", domain.clone(), true);
    }
    for url in &seen.urls {
        attribute("url", "Network activity", url.clone(), true);
    }
    for (_, kind, hex) in &seen.hashes {
        attribute(kind, "Payload delivery", hex.clone(), true);
    }
    let org_name = match sharing.named {
        Some(name) => name.to_owned(),
        None => pseudonym(sharing.pseudonym_key, sharing.organisation.id).ok_or_else(|| {
            ExportError::WeakKey {
                incident: incident.id.clone(),
                bytes: sharing.pseudonym_key.len(),
            }
        })?,
    };
    attribute("target-org", "Targeting data", org_name, false);
    let threat_level = match incident.severity.to_ascii_lowercase().as_str() {
        "critical" | "high" => "1",
        "medium" => "2",
        "low" => "3",
        _ => "4",
    };
    let mut info = format!("tocsin: {} ({})", incident.kind, incident.technique);
    // The summary is free text that may name the organisation: only when it agreed.
    if sharing.named.is_some() && !incident.summary.is_empty() {
        info = format!(
            "{info}: {}",
            incident.summary.chars().take(200).collect::<String>()
        );
    }
    if let Some(attribution) = &incident.attribution {
        info = format!("{info} — attribution: {}", attribution.headline());
    }
    let mut tags = vec![json!({ "name": "tlp:amber" })];
    if !incident.technique.is_empty() {
        tags.push(json!({ "name": format!("tocsin:technique=\"{}\"", incident.technique) }));
    }
    if let Some(attribution) = &incident.attribution
        && let Some(actor) = &attribution.actor
    {
        tags.push(json!({ "name": format!("tocsin:attributed-to=\"{}\"", actor.name) }));
        if let Some(likelihood) = likelihood_tag(attribution.words) {
            tags.push(json!({
                "name": format!("estimative-language:likelihood-probability=\"{likelihood}\"")
            }));
        }
        tags.push(json!({
            "name": format!(
                "estimative-language:confidence-in-analytic-judgment=\"{}\"",
                attribution.confidence.as_str()
            )
        }));
    }
    let mut event = json!({
        "Event": {
            "uuid": scope("misp-event").to_string(),
            "info": info,
            "date": incident.first_seen.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
            "timestamp": timestamp,
            "threat_level_id": threat_level,
            "analysis": "1",
            "distribution": "1",
            "published": false,
            "Orgc": { "name": "tocsin", "uuid": uuid_v5(TOCSIN_NAMESPACE, "identity\ntocsin").to_string() },
            "Attribute": attributes,
            "Tag": tags,
        }
    });
    redact(&mut event, &incident.accounts);
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v5_matches_the_rfc_example() {
        // RFC 9562 appendix A.4: "www.example.com" in the DNS namespace.
        let dns = Uuid::from_u128(0x6ba7b810_9dad_11d1_80b4_00c04fd430c8);
        assert_eq!(
            uuid_v5(dns, "www.example.com").to_string(),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    #[test]
    fn sco_ids_follow_the_stix_rule() {
        // The ids the STIX 2.1 identifier section and the OASIS stix2 library derive.
        let (id, object) = sco("ipv4-addr", json!({ "value": "198.51.100.3" }));
        assert_eq!(id, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
        assert_eq!(object["value"], "198.51.100.3");
        assert_eq!(
            sco("ipv6-addr", json!({ "value": "2001:db8::1" })).0,
            "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26"
        );
        assert_eq!(
            sco("domain-name", json!({ "value": "example.com" })).0,
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"
        );
    }

    #[test]
    fn accounts_are_redacted_from_every_string_whatever_their_case() {
        let mut value = json!({
            "a": "Spray against Alice.Martin@hospital.example and alice.martin@HOSPITAL.example",
            "b": ["account here", 3, {"c": "bob"}],
        });
        redact(
            &mut value,
            &[
                "alice.martin@hospital.example".into(),
                "account".into(),
                "bo".into(),
            ],
        );
        assert_eq!(
            value,
            json!({
                "a": "Spray against [account] and [account]",
                "b": ["[account] here", 3, {"c": "bob"}],
            })
        );
    }

    #[test]
    fn pattern_literals_escape_quotes_and_backslashes() {
        assert_eq!(pattern_literal(r"a'b\c"), r"a\'b\\c");
    }

    #[test]
    fn stix_timestamps_have_milliseconds() {
        let at: Timestamp = "2020-11-13T10:00:00Z".parse().expect("present");
        assert_eq!(stix_time(at), "2020-11-13T10:00:00.000Z");
    }
}
