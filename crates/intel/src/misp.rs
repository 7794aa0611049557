//! MISP feeds: a directory or base URL with `manifest.json` (event uuid → summary) and
//! one `<uuid>.json` per event. Each `to_ids` attribute of a supported type becomes an
//! indicator with the STIX pattern that says the same; threat-actor galaxy clusters (or
//! their tags) become actors, ATT&CK and malware clusters the indicators' techniques and
//! families. A pull fetches only events that are new or whose manifest timestamp
//! changed, and over HTTP asks with the last ETag / Last-Modified so an unchanged file
//! costs a 304.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lists::{HashKind, hash_of, hash_pattern, host, ip_pattern};
use crate::stix::{Problems, is_technique, quote, without_bom};
use crate::{Actor, Indicator, Intel, normal};

/// At most this many attributes are read from one event.
const MAX_ATTRIBUTES: usize = 500_000;
/// At most this many events are listed in one manifest.
const MAX_MANIFEST_EVENTS: usize = 1_000_000;
/// At most this many labels, actors, techniques or families per indicator.
const MAX_LIST: usize = 256;
/// A value longer than this is not an indicator (URLs are bounded by `normal::url`).
const MAX_VALUE: usize = 8192;
/// Validators (ETag, Last-Modified) longer than this are not kept.
const MAX_VALIDATOR: usize = 1024;

/// Galaxy types whose clusters name a threat actor.
const ACTOR_GALAXIES: [&str; 3] = [
    "threat-actor",
    "mitre-intrusion-set",
    "microsoft-activity-group",
];
/// Galaxy types whose clusters name a malware family.
const MALWARE_GALAXIES: [&str; 8] = [
    "mitre-malware",
    "malpedia",
    "ransomware",
    "rat",
    "backdoor",
    "banker",
    "stealer",
    "botnet",
];
/// Galaxy types whose clusters are ATT&CK techniques.
const TECHNIQUE_GALAXIES: [&str; 2] = [
    "mitre-attack-pattern",
    "mitre-enterprise-attack-attack-pattern",
];

#[derive(Debug, thiserror::Error)]
pub enum MispError {
    #[error("{source_name}: {reason}")]
    Read { source_name: String, reason: String },
    #[error("{source_name}: HTTP status {status}")]
    Status { source_name: String, status: u16 },
    #[error("{source_name}: not a MISP {what}: {reason}")]
    Format {
        source_name: String,
        what: &'static str,
        reason: String,
    },
    #[error("{source_name}: not a URL or directory: {reason}")]
    Location { source_name: String, reason: String },
    #[error("building the HTTP client: {0}")]
    Client(String),
}

/// How much one pull may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest manifest or event file read.
    pub max_file_bytes: usize,
    /// At most this many event files are read in one pull; the rest wait for the next.
    pub max_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 64 << 20,
            max_events: 1000,
        }
    }
}

/// What a feed's server said about a file the last time, to ask "has it changed?".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What a caller keeps between pulls of one feed (plain data; store it as JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCache {
    /// Per URL.
    #[serde(default)]
    pub validators: BTreeMap<String, Validators>,
    /// Event uuid → the manifest `timestamp` of the version read.
    #[serde(default)]
    pub events: BTreeMap<String, i64>,
    /// Event uuid → the indicator ids it gave: an attribute that disappears from a new
    /// version of its event, or an event that leaves the manifest, is withdrawn.
    #[serde(default)]
    pub indicators: BTreeMap<String, Vec<String>>,
}

/// What one pull produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pull {
    /// Indicators and actors of the events read in this pull.
    pub intel: Intel,
    /// Attribute uuids that are no longer indicators (deleted, `to_ids` cleared, gone
    /// from their event, or their event gone from the manifest): remove held versions
    /// (`IndicatorSet::withdraw`).
    pub withdrawn: Vec<String>,
    pub counts: Counts,
    /// The manifest had not changed (HTTP 304): nothing else was asked.
    pub manifest_unchanged: bool,
    /// Event files read.
    pub events_read: usize,
    /// Events the manifest lists with the timestamp already read.
    pub events_unchanged: usize,
    /// Event files the server answered 304 for although the manifest timestamp changed.
    pub events_not_modified: usize,
    /// Events no longer in the manifest.
    pub events_removed: Vec<String>,
    /// More changed events are waiting than one pull may read.
    pub more: bool,
}

/// How the attributes of the events read were used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub indicators: usize,
    /// Attributes without `to_ids` (context, not detection).
    pub not_to_ids: usize,
    /// `to_ids` attributes of a type tocsin does not turn into a pattern.
    pub unsupported: usize,
    pub deleted: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.indicators += other.indicators;
        self.not_to_ids += other.not_to_ids;
        self.unsupported += other.unsupported;
        self.deleted += other.deleted;
    }
}

/// One event file, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub uuid: String,
    pub info: String,
    pub intel: Intel,
    pub withdrawn: Vec<String>,
    pub counts: Counts,
}

/// A MISP galaxy file (`clusters/threat-actor.json` of misp-galaxy): resolves a galaxy
/// tag such as `misp-galaxy:threat-actor="Sofacy"` to its cluster when the event carries
/// only the tag.
#[derive(Clone, Debug, Default)]
pub struct Galaxy {
    actors: Vec<Actor>,
    /// Lower-case value or synonym → index in `actors`.
    by_name: HashMap<String, usize>,
}

impl Galaxy {
    /// Reads a galaxy clusters file (`{"type": ..., "values": [cluster, ...]}`).
    pub fn read(source_name: &str, bytes: &[u8]) -> Result<Galaxy, MispError> {
        let value: Value =
            serde_json::from_slice(without_bom(bytes)).map_err(|e| MispError::Format {
                source_name: source_name.to_string(),
                what: "galaxy",
                reason: e.to_string(),
            })?;
        let Some(Value::Array(values)) = value.get("values") else {
            return Err(MispError::Format {
                source_name: source_name.to_string(),
                what: "galaxy",
                reason: "no `values` array".to_string(),
            });
        };
        let mut galaxy = Galaxy::default();
        for cluster in values.iter().take(MAX_MANIFEST_EVENTS) {
            let Some(actor) = cluster_actor(cluster) else {
                continue;
            };
            let index = galaxy.actors.len();
            for name in std::iter::once(&actor.name).chain(&actor.aliases) {
                // The first cluster to claim a name keeps it: synonyms overlap.
                galaxy.by_name.entry(name.to_lowercase()).or_insert(index);
            }
            galaxy.actors.push(actor);
        }
        Ok(galaxy)
    }

    /// The actor a cluster value or synonym names.
    pub fn actor(&self, name: &str) -> Option<&Actor> {
        self.by_name
            .get(&name.to_lowercase())
            .and_then(|&i| self.actors.get(i))
    }

    pub fn len(&self) -> usize {
        self.actors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actors.is_empty()
    }
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// A string, or each string of an array.
fn one_or_many(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 1024)
            .take(MAX_LIST)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// A threat-actor galaxy cluster as an [`Actor`].
fn cluster_actor(cluster: &Value) -> Option<Actor> {
    let uuid = str_of(cluster, "uuid").filter(|u| is_uuid(u))?;
    let name = str_of(cluster, "value").filter(|v| !v.trim().is_empty())?;
    let meta = cluster.get("meta");
    let aliases = one_or_many(meta.and_then(|m| m.get("synonyms")))
        .into_iter()
        .filter(|alias| alias != name)
        .collect();
    let origin = one_or_many(meta.and_then(|m| m.get("country")))
        .into_iter()
        .find(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(|c| c.to_ascii_uppercase());
    Some(Actor {
        id: uuid.to_string(),
        name: name.to_string(),
        aliases,
        origin,
        description: str_of(cluster, "description").unwrap_or("").to_string(),
        references: one_or_many(meta.and_then(|m| m.get("refs"))),
        ..Actor::default()
    })
}

/// The ATT&CK id of a technique cluster: `meta.external_id`, else the end of its value
/// ("Spearphishing Link - T1566.002").
fn cluster_technique(cluster: &Value) -> Option<String> {
    let meta = cluster.get("meta");
    one_or_many(meta.and_then(|m| m.get("external_id")))
        .into_iter()
        .find(|id| is_technique(id))
        .or_else(|| str_of(cluster, "value").and_then(technique_in_name))
}

fn technique_in_name(name: &str) -> Option<String> {
    let (_, id) = name.rsplit_once(" - ")?;
    is_technique(id.trim()).then(|| id.trim().to_string())
}

/// A uuid as MISP writes them: 36 characters of hex and dashes. Checked before an event
/// uuid becomes part of a path or URL.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// A MISP timestamp: seconds since the epoch, as a number or a string.
fn epoch(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What an event's (or attribute's) galaxies and tags say.
#[derive(Clone, Debug, Default)]
struct Context {
    labels: Vec<String>,
    actors: Vec<Actor>,
    techniques: Vec<String>,
    malware: Vec<String>,
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if list.len() < MAX_LIST && !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

impl Context {
    fn add_actor(&mut self, actor: Actor) {
        if self.actors.len() < MAX_LIST && !self.actors.iter().any(|a| a.id == actor.id) {
            self.actors.push(actor);
        }
    }

    /// Reads `Tag` and `Galaxy` of an event or attribute.
    fn read(&mut self, object: &Map<String, Value>, galaxy: Option<&Galaxy>) {
        if let Some(Value::Array(galaxies)) = object.get("Galaxy") {
            for g in galaxies.iter().take(MAX_LIST) {
                let kind = str_of(g, "type").unwrap_or("");
                let Some(Value::Array(clusters)) = g.get("GalaxyCluster") else {
                    continue;
                };
                for cluster in clusters.iter().take(MAX_LIST) {
                    if ACTOR_GALAXIES.contains(&kind) {
                        if let Some(actor) = cluster_actor(cluster) {
                            self.add_actor(actor);
                        }
                    } else if TECHNIQUE_GALAXIES.contains(&kind) {
                        if let Some(technique) = cluster_technique(cluster) {
                            push_unique(&mut self.techniques, &technique);
                        }
                    } else if MALWARE_GALAXIES.contains(&kind)
                        && let Some(name) = str_of(cluster, "value")
                    {
                        push_unique(&mut self.malware, name);
                    }
                }
            }
        }
        if let Some(Value::Array(tags)) = object.get("Tag") {
            for tag in tags.iter().take(MAX_LIST) {
                let Some(name) = str_of(tag, "name").filter(|n| n.len() <= 1024) else {
                    continue;
                };
                push_unique(&mut self.labels, name);
                self.read_galaxy_tag(name, galaxy);
            }
        }
    }

    /// `misp-galaxy:<type>="<value>"`: the galaxy named by a tag alone, as MISP feeds
    /// carry them.
    fn read_galaxy_tag(&mut self, tag: &str, galaxy: Option<&Galaxy>) {
        let Some((kind, value)) = tag
            .strip_prefix("misp-galaxy:")
            .and_then(|rest| rest.split_once('='))
        else {
            return;
        };
        let value = value.trim().trim_matches('"');
        if value.is_empty() {
            return;
        }
        if ACTOR_GALAXIES.contains(&kind) {
            if self
                .actors
                .iter()
                .any(|a| a.name == value || a.aliases.iter().any(|s| s == value))
            {
                return;
            }
            let actor = galaxy
                .and_then(|g| g.actor(value))
                .cloned()
                .unwrap_or_else(|| Actor {
                    // No cluster to give a uuid: the tag itself is the stable key.
                    id: tag.to_string(),
                    name: value.to_string(),
                    ..Actor::default()
                });
            self.add_actor(actor);
        } else if TECHNIQUE_GALAXIES.contains(&kind) {
            if let Some(technique) = technique_in_name(value) {
                push_unique(&mut self.techniques, &technique);
            }
        } else if MALWARE_GALAXIES.contains(&kind) {
            push_unique(&mut self.malware, value);
        }
    }
}

/// The STIX pattern for one attribute: `Ok(None)` when its type is not one tocsin uses.
fn attribute_pattern(kind: &str, value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.len() > MAX_VALUE {
        return Err(format!("value longer than {MAX_VALUE} bytes"));
    }
    let bad = |what: &str| {
        format!(
            "`{}` is not {what}",
            value.chars().take(80).collect::<String>()
        )
    };
    let pattern = match kind {
        "ip-src" | "ip-dst" => ip_pattern(value).ok_or_else(|| bad("an IP address or network"))?,
        // Events carry no ports: the address is what can be matched.
        "ip-src|port" | "ip-dst|port" => value
            .rsplit_once('|')
            .and_then(|(ip, _)| ip_pattern(ip))
            .ok_or_else(|| bad("an address|port pair"))?,
        "domain" | "hostname" => {
            let host = host(value).ok_or_else(|| bad("a host name"))?;
            format!("[domain-name:value = {}]", quote(&host))
        }
        "domain|ip" => {
            let (name, ip) = value
                .split_once('|')
                .ok_or_else(|| bad("a domain|ip pair"))?;
            let name = host(name).ok_or_else(|| bad("a domain|ip pair"))?;
            let ip = ip
                .trim()
                .parse::<std::net::IpAddr>()
                .map_err(|_| bad("a domain|ip pair"))?;
            format!(
                "[domain-name:value = {} AND domain-name:resolves_to_refs[*].value = {}]",
                quote(&name),
                quote(&ip.to_string())
            )
        }
        "url" => {
            let url = normal::url(value).ok_or_else(|| bad("a URL"))?;
            format!("[url:value = {}]", quote(&url))
        }
        "email-src" | "email" => {
            let address = normal::email(value).ok_or_else(|| bad("a mail address"))?;
            format!("[email-addr:value = {}]", quote(&address))
        }
        "email-subject" => {
            if value.is_empty() {
                return Err("empty subject".to_string());
            }
            format!("[email-message:subject = {}]", quote(value))
        }
        "md5" | "sha1" | "sha256" => {
            let hash_kind = hash_kind(kind);
            let hex = hash_of(hash_kind, value).ok_or_else(|| bad(&format!("a {kind} hash")))?;
            hash_pattern(hash_kind, &hex)
        }
        "filename|md5" | "filename|sha1" | "filename|sha256" => {
            let algorithm = &kind["filename|".len()..];
            let hash_kind = hash_kind(algorithm);
            let (name, hash) = value
                .rsplit_once('|')
                .ok_or_else(|| bad(&format!("a filename|{algorithm} pair")))?;
            let hex = hash_of(hash_kind, hash)
                .ok_or_else(|| bad(&format!("a filename|{algorithm} pair")))?;
            if name.is_empty() {
                hash_pattern(hash_kind, &hex)
            } else {
                format!(
                    "[file:name = {} AND file:hashes.{} = {}]",
                    quote(name),
                    hash_kind.stix_key(),
                    quote(&hex)
                )
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(pattern))
}

fn hash_kind(name: &str) -> HashKind {
    match name {
        "md5" => HashKind::Md5,
        "sha1" => HashKind::Sha1,
        _ => HashKind::Sha256,
    }
}

/// Reads one event file (`{"Event": {...}}`). `source_name` names the file or URL in
/// problems; `galaxy` resolves galaxy tags to clusters.
pub fn read_event(
    feed: &str,
    source_name: &str,
    bytes: &[u8],
    galaxy: Option<&Galaxy>,
) -> Result<Event, MispError> {
    let format_error = |reason: String| MispError::Format {
        source_name: source_name.to_string(),
        what: "event",
        reason,
    };
    let mut root: Value =
        serde_json::from_slice(without_bom(bytes)).map_err(|e| format_error(e.to_string()))?;
    let event = match root.get_mut("Event") {
        Some(Value::Object(event)) => std::mem::take(event),
        _ => return Err(format_error("no `Event` object".to_string())),
    };
    let uuid = event
        .get("uuid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let info = event
        .get("info")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();

    let mut context = Context::default();
    context.read(&event, galaxy);

    let mut problems = Problems::new(source_name);
    let mut counts = Counts::default();
    let mut indicators = Vec::new();
    let mut withdrawn = Vec::new();
    let mut actors = context.actors.clone();
    let objects = match event.get("Object") {
        Some(Value::Array(objects)) => objects.as_slice(),
        _ => &[],
    };
    let attributes = event
        .get("Attribute")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| (a, false))
        .chain(objects.iter().flat_map(|object| {
            let object_deleted = object.get("deleted").and_then(Value::as_bool) == Some(true);
            object
                .get("Attribute")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(move |a| (a, object_deleted))
        }));
    for (index, (attribute, object_deleted)) in attributes.enumerate() {
        if index >= MAX_ATTRIBUTES {
            problems.push(
                Some(&uuid),
                format!("more than {MAX_ATTRIBUTES} attributes; the rest were not read"),
            );
            break;
        }
        let Value::Object(attribute) = attribute else {
            problems.push(Some(&uuid), format!("attribute {index}: not an object"));
            continue;
        };
        let Some(id) = attribute
            .get("uuid")
            .and_then(Value::as_str)
            .filter(|u| is_uuid(u))
        else {
            problems.push(Some(&uuid), format!("attribute {index}: no uuid"));
            continue;
        };
        let deleted =
            object_deleted || attribute.get("deleted").and_then(Value::as_bool) == Some(true);
        let to_ids = match attribute.get("to_ids") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "1" || s == "true",
            Some(Value::Number(n)) => n.as_u64() == Some(1),
            _ => false,
        };
        if deleted {
            counts.deleted += 1;
            withdrawn.push(id.to_string());
            continue;
        }
        if !to_ids {
            counts.not_to_ids += 1;
            withdrawn.push(id.to_string());
            continue;
        }
        let kind = attribute.get("type").and_then(Value::as_str).unwrap_or("");
        let value = attribute.get("value").and_then(Value::as_str).unwrap_or("");
        let pattern = match attribute_pattern(kind, value) {
            Ok(Some(pattern)) => pattern,
            Ok(None) => {
                counts.unsupported += 1;
                continue;
            }
            Err(reason) => {
                problems.push(Some(id), format!("{kind} attribute: {reason}"));
                continue;
            }
        };
        let mut own = context.clone();
        own.read(attribute, galaxy);
        for actor in &own.actors {
            if actors.len() < MAX_LIST && !actors.iter().any(|a| a.id == actor.id) {
                actors.push(actor.clone());
            }
        }
        let modified =
            epoch(attribute.get("timestamp")).and_then(|t| Timestamp::from_second(t).ok());
        counts.indicators += 1;
        indicators.push(Indicator {
            id: id.to_string(),
            feed: feed.to_string(),
            pattern,
            name: (!info.is_empty()).then(|| info.clone()),
            // MISP's first_seen/last_seen say when a value was observed, not how long it
            // stays bad: a last_seen taken as expiry would silence an indicator the day
            // after its last report.
            valid_from: None,
            valid_until: None,
            modified,
            actors: own.actors.iter().map(|a| a.id.clone()).collect(),
            techniques: own.techniques,
            malware: own.malware,
            confidence: None,
            labels: own.labels,
        });
    }
    Ok(Event {
        uuid,
        info,
        intel: Intel {
            indicators,
            actors,
            benign: Vec::new(),
            problems: problems.finish(),
        },
        withdrawn,
        counts,
    })
}

/// Where a feed is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Directory(PathBuf),
    /// The base URL; `manifest.json` and the event files are under it.
    Url(url::Url),
}

/// One MISP feed as configured.
#[derive(Clone, Debug)]
pub struct Feed {
    pub name: String,
    pub location: Location,
    pub limits: Limits,
    pub galaxy: Option<std::sync::Arc<Galaxy>>,
    client: Option<reqwest::Client>,
}

enum Fetched {
    Body(Vec<u8>, Validators),
    NotModified,
}

impl Feed {
    /// A feed at `location`: a URL (`http://` or `https://`) or a directory.
    pub fn new(name: &str, location: &str) -> Result<Feed, MispError> {
        let location = if location.starts_with("http://") || location.starts_with("https://") {
            let mut url = url::Url::parse(location).map_err(|e| MispError::Location {
                source_name: location.to_string(),
                reason: e.to_string(),
            })?;
            // `join` replaces the last segment unless the base ends with a slash.
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            Location::Url(url)
        } else {
            Location::Directory(PathBuf::from(location))
        };
        let client = match location {
            Location::Url(_) => Some(
                crate::taxii::http_client(std::time::Duration::from_secs(60))
                    .map_err(|e| MispError::Client(e.to_string()))?,
            ),
            Location::Directory(_) => None,
        };
        Ok(Feed {
            name: name.to_string(),
            location,
            limits: Limits::default(),
            galaxy: None,
            client,
        })
    }

    fn place(&self, file: &str) -> Result<String, MispError> {
        match &self.location {
            Location::Directory(dir) => Ok(dir.join(file).display().to_string()),
            Location::Url(base) => {
                base.join(file)
                    .map(String::from)
                    .map_err(|e| MispError::Location {
                        source_name: base.to_string(),
                        reason: e.to_string(),
                    })
            }
        }
    }

    async fn fetch(&self, file: &str, cache: &FeedCache) -> Result<(String, Fetched), MispError> {
        let place = self.place(file)?;
        let max = self.limits.max_file_bytes;
        let read_error = |reason: String| MispError::Read {
            source_name: place.clone(),
            reason,
        };
        let fetched = match (&self.location, &self.client) {
            (Location::Directory(_), _) => {
                let size = std::fs::metadata(&place)
                    .map_err(|e| read_error(e.to_string()))?
                    .len();
                if size > max as u64 {
                    return Err(read_error(format!(
                        "{size} bytes is more than the {max} allowed"
                    )));
                }
                let body = std::fs::read(&place).map_err(|e| read_error(e.to_string()))?;
                Fetched::Body(body, Validators::default())
            }
            (Location::Url(_), Some(client)) => {
                let mut request = client.get(&place);
                if let Some(held) = cache.validators.get(&place) {
                    if let Some(etag) = &held.etag {
                        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                    }
                    if let Some(date) = &held.last_modified {
                        request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
                    }
                }
                let response = request
                    .send()
                    .await
                    .map_err(|e| read_error(e.to_string()))?;
                let status = response.status();
                if status == reqwest::StatusCode::NOT_MODIFIED {
                    Fetched::NotModified
                } else if !status.is_success() {
                    return Err(MispError::Status {
                        source_name: place,
                        status: status.as_u16(),
                    });
                } else {
                    let header = |name: reqwest::header::HeaderName| {
                        response
                            .headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .filter(|v| v.len() <= MAX_VALIDATOR)
                            .map(str::to_string)
                    };
                    let validators = Validators {
                        etag: header(reqwest::header::ETAG),
                        last_modified: header(reqwest::header::LAST_MODIFIED),
                    };
                    let body = crate::taxii::read_body(response, max)
                        .await
                        .map_err(read_error)?;
                    Fetched::Body(body, validators)
                }
            }
            (Location::Url(_), None) => {
                return Err(MispError::Client("no HTTP client".to_string()));
            }
        };
        Ok((place, fetched))
    }

    /// Reads what changed since `cache` and updates `cache` with what was read. An event
    /// that fails to load is a problem and is retried on the next pull.
    pub async fn pull(&self, cache: &mut FeedCache) -> Result<Pull, MispError> {
        let mut pull = Pull::default();
        let (manifest_place, manifest) = self.fetch("manifest.json", cache).await?;
        let (manifest, manifest_validators) = match manifest {
            Fetched::NotModified => {
                pull.manifest_unchanged = true;
                return Ok(pull);
            }
            Fetched::Body(body, validators) => (body, validators),
        };
        let manifest: Map<String, Value> =
            serde_json::from_slice(without_bom(&manifest)).map_err(|e| MispError::Format {
                source_name: manifest_place.clone(),
                what: "manifest",
                reason: e.to_string(),
            })?;
        let mut problems = Problems::new(&manifest_place);
        let mut listed: BTreeMap<String, i64> = BTreeMap::new();
        for (uuid, summary) in manifest.iter().take(MAX_MANIFEST_EVENTS) {
            if !is_uuid(uuid) {
                problems.push(Some(uuid), "event key is not a uuid".to_string());
                continue;
            }
            let timestamp = epoch(summary.get("timestamp")).unwrap_or(0);
            listed.insert(uuid.to_ascii_lowercase(), timestamp);
        }
        pull.events_removed = cache
            .events
            .keys()
            .filter(|uuid| !listed.contains_key(*uuid))
            .cloned()
            .collect();
        for uuid in &pull.events_removed {
            cache.events.remove(uuid);
            pull.withdrawn
                .extend(cache.indicators.remove(uuid).unwrap_or_default());
        }
        let mut changed: Vec<(&String, i64)> = listed
            .iter()
            .filter(|(uuid, ts)| cache.events.get(*uuid) != Some(ts))
            .map(|(uuid, ts)| (uuid, *ts))
            .collect();
        pull.events_unchanged = listed.len() - changed.len();
        // Oldest first, so that a bounded pull and the next one together read in order.
        changed.sort_by_key(|(uuid, ts)| (*ts, (*uuid).clone()));
        pull.more = changed.len() > self.limits.max_events;
        changed.truncate(self.limits.max_events);

        let mut failed = false;
        let galaxy = self.galaxy.as_deref();
        for (uuid, timestamp) in changed {
            let file = format!("{uuid}.json");
            let (place, fetched) = match self.fetch(&file, cache).await {
                Ok(fetched) => fetched,
                Err(e) => {
                    failed = true;
                    problems.push_at(self.place(&file).unwrap_or(file), Some(uuid), e.to_string());
                    continue;
                }
            };
            match fetched {
                Fetched::NotModified => pull.events_not_modified += 1,
                Fetched::Body(body, validators) => {
                    match read_event(&self.name, &place, &body, galaxy) {
                        Ok(event) => {
                            pull.events_read += 1;
                            let now: Vec<String> = event
                                .intel
                                .indicators
                                .iter()
                                .map(|i| i.id.clone())
                                .collect();
                            if let Some(before) = cache.indicators.insert(uuid.clone(), now) {
                                let now: std::collections::HashSet<&String> =
                                    event.intel.indicators.iter().map(|i| &i.id).collect();
                                pull.withdrawn
                                    .extend(before.into_iter().filter(|id| !now.contains(id)));
                            }
                            pull.counts.add(event.counts);
                            pull.withdrawn.extend(event.withdrawn);
                            pull.intel.indicators.extend(event.intel.indicators);
                            for actor in event.intel.actors {
                                if !pull.intel.actors.iter().any(|a| a.id == actor.id) {
                                    pull.intel.actors.push(actor);
                                }
                            }
                            pull.intel.problems.extend(event.intel.problems);
                            if validators != Validators::default() {
                                cache.validators.insert(place, validators);
                            }
                        }
                        Err(e) => {
                            failed = true;
                            problems.push_at(place, Some(uuid), e.to_string());
                            continue;
                        }
                    }
                }
            }
            cache.events.insert(uuid.clone(), timestamp);
        }
        // Keep the manifest's validators only when everything it lists was read: a 304
        // next time must not hide events still waiting.
        if !failed && !pull.more && manifest_validators != Validators::default() {
            cache.validators.insert(manifest_place, manifest_validators);
        }
        pull.intel.problems.extend(problems.finish());
        Ok(pull)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_become_patterns() {
        let cases = [
            ("ip-dst", "192.0.2.1", "[ipv4-addr:value = '192.0.2.1']"),
            (
                "ip-src|port",
                "2001:db8::1|443",
                "[ipv6-addr:value = '2001:db8::1']",
            ),
            (
                "hostname",
                "Mail.Evil.Example",
                "[domain-name:value = 'mail.evil.example']",
            ),
            (
                "domain|ip",
                "evil.example|192.0.2.1",
                "[domain-name:value = 'evil.example' AND domain-name:resolves_to_refs[*].value = '192.0.2.1']",
            ),
            (
                "url",
                "http://evil.example/a?b='c'",
                "[url:value = 'http://evil.example/a?b=%27c%27']",
            ),
            (
                "email-src",
                "HR@Evil.Example",
                "[email-addr:value = 'hr@evil.example']",
            ),
            (
                "email-subject",
                r"Invoice \ 'urgent'",
                r"[email-message:subject = 'Invoice \\ \'urgent\'']",
            ),
            (
                "filename|md5",
                r"C:\it's.exe|D41D8CD98F00B204E9800998ECF8427E",
                r"[file:name = 'C:\\it\'s.exe' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
            ),
        ];
        for (kind, value, pattern) in cases {
            assert_eq!(
                attribute_pattern(kind, value),
                Ok(Some(pattern.to_string())),
                "{kind}"
            );
        }
        assert_eq!(attribute_pattern("regkey|value", "HKLM\\x|y"), Ok(None));
        assert!(attribute_pattern("sha256", "d41d8cd98f00b204e9800998ecf8427e").is_err());
        assert!(attribute_pattern("ip-dst", "not-an-ip").is_err());
    }

    #[test]
    fn technique_ids_come_from_cluster_values() {
        assert_eq!(
            technique_in_name("Spearphishing Link - T1566.002").as_deref(),
            Some("T1566.002")
        );
        assert_eq!(technique_in_name("Spearphishing Link"), None);
        assert!(is_uuid("5a3c2fcd-8328-42bb-a95e-4f4402de0b81"));
        assert!(!is_uuid("../../../etc/passwd-0000-0000-000000000"));
    }
}
