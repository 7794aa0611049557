//! STIX 2.0 and 2.1 bundles: which indicators, actors, techniques and malware families a
//! bundle publishes and how its relationships link them. Patterns are passed through as
//! written (the `index` parses them); this module only decides which version of an object
//! counts. Also the quoting every other reader uses to write a pattern, and the
//! [`IndicatorSet`] that keeps the newest version of each indicator across loads.

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::{Actor, Indicator, Intel, Problem};

/// A bundle larger than this is refused before parsing: the largest public bundle
/// (MITRE ATT&CK Enterprise) is about 35 MB.
pub const MAX_BUNDLE_BYTES: usize = 128 << 20;
/// At most this many objects are read from one bundle.
pub const MAX_OBJECTS: usize = 1_000_000;
/// A pattern longer than this is refused: real ones are a few hundred characters.
pub const MAX_PATTERN_LEN: usize = 64 << 10;
/// At most this many labels, aliases, references or links are kept per object.
const MAX_LIST: usize = 256;
/// At most this many problems are reported per load; the count of the rest is the last.
pub const MAX_PROBLEMS: usize = 1000;

/// The fixed ids of the STIX 2.1 TLP marking definitions (spec section 7.2.1.4).
const TLP_MARKINGS: [(&str, &str); 4] = [
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "tlp:white",
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "tlp:green",
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "tlp:amber",
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        "tlp:red",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum StixError {
    #[error("{source_name}: {size} bytes is more than the {MAX_BUNDLE_BYTES} a bundle may have")]
    TooLarge { source_name: String, size: usize },
    #[error("{source_name}: not JSON: {reason}")]
    NotJson { source_name: String, reason: String },
    #[error("{source_name}: neither a bundle, an array of objects nor one object")]
    NotStix { source_name: String },
}

/// What one bundle (or one TAXII pull) gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    pub intel: Intel,
    /// Ids the bundle revokes: held versions of them must go too.
    pub revoked: Vec<String>,
}

/// Writes `value` as a STIX pattern string literal: in single quotes, with `\` and `'`
/// escaped (STIX 2.1 patterning, section 9.3).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for ch in value.chars() {
        if ch == '\\' || ch == '\'' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('\'');
    out
}

/// Reads a bundle (`{"type":"bundle","objects":[...]}`), a bare array of objects or one
/// object. `feed` names the feed on every indicator; `source_name` (a file or URL) names
/// where problems were found.
pub fn read(feed: &str, source_name: &str, bytes: &[u8]) -> Result<Bundle, StixError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(StixError::TooLarge {
            source_name: source_name.to_string(),
            size: bytes.len(),
        });
    }
    let value: Value =
        serde_json::from_slice(without_bom(bytes)).map_err(|e| StixError::NotJson {
            source_name: source_name.to_string(),
            reason: e.to_string(),
        })?;
    let objects = match value {
        Value::Array(objects) => objects,
        Value::Object(mut object) => {
            if object.get("type").and_then(Value::as_str) == Some("bundle") {
                match object.remove("objects") {
                    Some(Value::Array(objects)) => objects,
                    // A bundle may omit `objects` when it has none.
                    None | Some(Value::Null) => Vec::new(),
                    Some(_) => {
                        return Err(StixError::NotStix {
                            source_name: source_name.to_string(),
                        });
                    }
                }
            } else if object.contains_key("type") {
                vec![Value::Object(object)]
            } else {
                return Err(StixError::NotStix {
                    source_name: source_name.to_string(),
                });
            }
        }
        _ => {
            return Err(StixError::NotStix {
                source_name: source_name.to_string(),
            });
        }
    };
    Ok(read_objects(feed, source_name, objects))
}

/// Reads objects already split out of their envelope (a TAXII page, several bundles).
pub fn read_objects(feed: &str, source_name: &str, objects: Vec<Value>) -> Bundle {
    let mut problems = Problems::new(source_name);
    let total = objects.len();
    if total > MAX_OBJECTS {
        problems.push(
            None,
            format!("{total} objects; only the first {MAX_OBJECTS} are read"),
        );
    }

    // The newest version of each id; any revoked version revokes the id for good
    // (STIX 2.1 section 3.6: revocation cannot be undone).
    let mut newest: HashMap<String, (Option<Timestamp>, Map<String, Value>)> = HashMap::new();
    let mut revoked: BTreeSet<String> = BTreeSet::new();
    for (index, object) in objects.into_iter().take(MAX_OBJECTS).enumerate() {
        let Value::Object(object) = object else {
            problems.push(None, format!("objects[{index}]: not a JSON object"));
            continue;
        };
        let (Some(kind), Some(id)) = (
            object.get("type").and_then(Value::as_str),
            object.get("id").and_then(Value::as_str),
        ) else {
            problems.push(None, format!("objects[{index}]: no `type` or no `id`"));
            continue;
        };
        if !id
            .strip_prefix(kind)
            .is_some_and(|rest| rest.starts_with("--"))
            || id.len() > 256
        {
            problems.push(
                Some(id),
                format!("objects[{index}]: id does not name its type `{kind}`"),
            );
            continue;
        }
        let id = id.to_string();
        let version = match timestamp(&object, "modified") {
            Ok(Some(t)) => Some(t),
            Ok(None) => timestamp(&object, "created").ok().flatten(),
            Err(reason) => {
                problems.push(Some(&id), format!("objects[{index}]: {reason}"));
                continue;
            }
        };
        if object.get("revoked").and_then(Value::as_bool) == Some(true) {
            revoked.insert(id.clone());
        }
        match newest.get(&id) {
            Some((held, _)) if *held >= version => {}
            _ => {
                newest.insert(id, (version, object));
            }
        }
    }
    for id in &revoked {
        newest.remove(id);
    }

    let mut graph = Graph::default();
    let mut indicators: Vec<Indicator> = Vec::new();
    let mut actors: Vec<Actor> = Vec::new();
    let mut ids: Vec<&String> = newest.keys().collect();
    // Output in a stable order whatever the hash map's.
    ids.sort();
    for id in ids {
        let Some((version, object)) = newest.get(id) else {
            continue;
        };
        let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "indicator" => match indicator(feed, id, *version, object) {
                Ok(indicator) => indicators.push(indicator),
                Err(reason) => problems.push(Some(id), reason),
            },
            "intrusion-set" | "threat-actor" => match actor(id, object) {
                Ok(actor) => actors.push(actor),
                Err(reason) => problems.push(Some(id), reason),
            },
            "attack-pattern" => {
                if let Some(technique) = attack_id(object) {
                    graph.techniques.insert(id.clone(), technique);
                }
            }
            "malware" => {
                if let Some(name) = object.get("name").and_then(Value::as_str) {
                    graph.malware.insert(id.clone(), name.to_string());
                }
            }
            "location" => {
                if let Some(country) = object
                    .get("country")
                    .and_then(Value::as_str)
                    .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
                {
                    graph
                        .countries
                        .insert(id.clone(), country.to_ascii_uppercase());
                }
            }
            "relationship" => {
                let source = object.get("source_ref").and_then(Value::as_str);
                let target = object.get("target_ref").and_then(Value::as_str);
                let kind = object.get("relationship_type").and_then(Value::as_str);
                match (source, target, kind) {
                    (Some(source), Some(target), Some(kind)) => graph.links.push(Link {
                        source: source.to_string(),
                        kind: kind.to_string(),
                        target: target.to_string(),
                    }),
                    _ => problems.push(
                        Some(id),
                        "relationship without source_ref, target_ref or relationship_type"
                            .to_string(),
                    ),
                }
            }
            _ => {}
        }
    }
    graph.link(&mut indicators, &mut actors);

    Bundle {
        intel: Intel {
            indicators,
            actors,
            benign: Vec::new(),
            problems: problems.finish(),
        },
        revoked: revoked.into_iter().collect(),
    }
}

/// The bytes after a UTF-8 byte order mark, which editors on Windows write and JSON
/// parsers refuse.
pub(crate) fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Problems of one load, bounded.
pub(crate) struct Problems {
    source: String,
    list: Vec<Problem>,
    dropped: usize,
}

impl Problems {
    pub(crate) fn new(source: &str) -> Problems {
        Problems {
            source: source.to_string(),
            list: Vec::new(),
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, object: Option<&str>, reason: String) {
        self.push_at(self.source.clone(), object, reason);
    }

    pub(crate) fn push_at(&mut self, source: String, object: Option<&str>, reason: String) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                source,
                object: object.map(str::to_string),
                reason,
            });
        } else {
            self.dropped += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Problem> {
        if self.dropped > 0 {
            self.list.push(Problem {
                source: self.source,
                object: None,
                reason: format!("{} more problems not listed", self.dropped),
            });
        }
        self.list
    }
}

fn timestamp(object: &Map<String, Value>, key: &str) -> Result<Option<Timestamp>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => text
            .parse::<Timestamp>()
            .map(Some)
            .map_err(|e| format!("`{key}` is not a timestamp: {e}")),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

fn strings(object: &Map<String, Value>, key: &str) -> Vec<String> {
    let Some(Value::Array(items)) = object.get(key) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 1024)
        .take(MAX_LIST)
        .map(str::to_string)
        .collect()
}

fn indicator(
    feed: &str,
    id: &str,
    modified: Option<Timestamp>,
    object: &Map<String, Value>,
) -> Result<Indicator, String> {
    match object.get("pattern_type") {
        None | Some(Value::Null) => {}
        Some(Value::String(kind)) if kind == "stix" => {}
        Some(Value::String(kind)) => {
            return Err(format!(
                "pattern_type `{kind}` is not supported (only `stix`)"
            ));
        }
        Some(_) => return Err("`pattern_type` is not a string".to_string()),
    }
    let pattern = match object.get("pattern") {
        Some(Value::String(pattern)) if pattern.trim().is_empty() => {
            return Err("`pattern` is empty".to_string());
        }
        Some(Value::String(pattern)) if pattern.len() > MAX_PATTERN_LEN => {
            return Err(format!(
                "`pattern` is {} bytes, more than {MAX_PATTERN_LEN}",
                pattern.len()
            ));
        }
        Some(Value::String(pattern)) => pattern.clone(),
        _ => return Err("no `pattern` string".to_string()),
    };
    let valid_from = timestamp(object, "valid_from")?;
    let valid_until = timestamp(object, "valid_until")?;
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until <= from
    {
        return Err("`valid_until` is not later than `valid_from`".to_string());
    }
    let confidence = match object.get("confidence") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64().filter(|c| *c <= 100) {
            Some(c) => u8::try_from(c).ok(),
            None => return Err("`confidence` is not an integer from 0 to 100".to_string()),
        },
    };
    let mut labels = strings(object, "labels");
    for kind in strings(object, "indicator_types") {
        if !labels.contains(&kind) {
            labels.push(kind);
        }
    }
    for marking in strings(object, "object_marking_refs") {
        if let Some((_, tlp)) = TLP_MARKINGS.iter().find(|(id, _)| *id == marking)
            && !labels.iter().any(|l| l == tlp)
        {
            labels.push((*tlp).to_string());
        }
    }
    labels.truncate(MAX_LIST);
    Ok(Indicator {
        id: id.to_string(),
        feed: feed.to_string(),
        pattern,
        name: object
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string),
        valid_from,
        valid_until,
        modified,
        actors: Vec::new(),
        techniques: Vec::new(),
        malware: Vec::new(),
        confidence,
        labels,
    })
}

fn actor(id: &str, object: &Map<String, Value>) -> Result<Actor, String> {
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or("no `name`")?
        .to_string();
    let aliases = strings(object, "aliases")
        .into_iter()
        .filter(|alias| *alias != name)
        .collect();
    let references = match object.get("external_references") {
        Some(Value::Array(references)) => references
            .iter()
            .filter_map(|r| r.get("url").and_then(Value::as_str))
            .filter(|url| url.len() <= 2048)
            .take(MAX_LIST)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Actor {
        id: id.to_string(),
        name,
        aliases,
        description: object
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        references,
        ..Actor::default()
    })
}

/// The ATT&CK id (`T1566.002`) of an attack pattern, from its `mitre-attack` external
/// reference.
fn attack_id(object: &Map<String, Value>) -> Option<String> {
    let Some(Value::Array(references)) = object.get("external_references") else {
        return None;
    };
    references
        .iter()
        .find(|r| r.get("source_name").and_then(Value::as_str) == Some("mitre-attack"))
        .and_then(|r| r.get("external_id").and_then(Value::as_str))
        .filter(|id| is_technique(id))
        .map(str::to_string)
}

/// `T1234` or `T1234.001`.
pub(crate) fn is_technique(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = rest.split_once('.').unwrap_or((rest, "000"));
    main.len() == 4
        && sub.len() == 3
        && main.bytes().all(|b| b.is_ascii_digit())
        && sub.bytes().all(|b| b.is_ascii_digit())
}

struct Link {
    source: String,
    kind: String,
    target: String,
}

/// What the relationships say about the objects a bundle kept.
#[derive(Default)]
struct Graph {
    /// attack-pattern id → ATT&CK id.
    techniques: HashMap<String, String>,
    /// malware id → name.
    malware: HashMap<String, String>,
    /// location id → ISO country code.
    countries: HashMap<String, String>,
    links: Vec<Link>,
}

fn is_actor(id: &str) -> bool {
    id.starts_with("intrusion-set--") || id.starts_with("threat-actor--")
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if list.len() < MAX_LIST && !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

impl Graph {
    fn link(&self, indicators: &mut [Indicator], actors: &mut [Actor]) {
        // Who is behind a malware family or a campaign: the chains "actor uses malware",
        // "malware authored-by actor" and "campaign attributed-to actor" let an indicator
        // of the malware or campaign name the actor.
        let mut behind: HashMap<&str, Vec<String>> = HashMap::new();
        let actor_ids: HashSet<&str> = actors.iter().map(|a| a.id.as_str()).collect();
        for link in &self.links {
            let (thing, actor) = match link.kind.as_str() {
                "uses" if is_actor(&link.source) && link.target.starts_with("malware--") => {
                    (&link.target, &link.source)
                }
                // `authored-by` is the STIX 2.1 word; some producers write `attributed-to`.
                "authored-by" | "attributed-to"
                    if link.source.starts_with("malware--") && is_actor(&link.target) =>
                {
                    (&link.source, &link.target)
                }
                "attributed-to"
                    if link.source.starts_with("campaign--") && is_actor(&link.target) =>
                {
                    (&link.source, &link.target)
                }
                _ => continue,
            };
            if actor_ids.contains(actor.as_str()) {
                push_unique(behind.entry(thing.as_str()).or_default(), actor);
            }
        }

        let actor_index: HashMap<String, usize> = actors
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        let indicator_index: HashMap<String, usize> = indicators
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        for link in &self.links {
            if let Some(&i) = indicator_index.get(&link.source)
                && link.kind == "indicates"
            {
                let indicator = &mut indicators[i];
                if actor_index.contains_key(&link.target) {
                    push_unique(&mut indicator.actors, &link.target);
                } else if let Some(name) = self.malware.get(&link.target) {
                    push_unique(&mut indicator.malware, name);
                } else if let Some(technique) = self.techniques.get(&link.target) {
                    push_unique(&mut indicator.techniques, technique);
                }
                for actor in behind.get(link.target.as_str()).into_iter().flatten() {
                    push_unique(&mut indicator.actors, actor);
                }
            } else if let Some(&i) = actor_index.get(&link.source) {
                let actor = &mut actors[i];
                match link.kind.as_str() {
                    "uses" => {
                        if let Some(technique) = self.techniques.get(&link.target) {
                            push_unique(&mut actor.techniques, technique);
                        }
                    }
                    "originates-from" if actor.origin.is_none() => {
                        actor.origin = self.countries.get(&link.target).cloned();
                    }
                    _ => {}
                }
            }
        }
        for actor in actors.iter_mut() {
            actor.techniques.sort();
        }
    }
}

/// What merging one load into a [`IndicatorSet`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    pub added: usize,
    pub replaced: usize,
    /// Versions older than (or the same as) the one held, ignored.
    pub stale: usize,
    /// Held indicators removed because the load revoked them.
    pub revoked: usize,
    /// Indicators refused because the catalogue was full, or because their id is revoked.
    pub refused: usize,
}

/// The indicators held across loads: the newest version of each id, never a revoked one.
#[derive(Clone, Debug)]
pub struct IndicatorSet {
    indicators: HashMap<String, Indicator>,
    revoked: HashSet<String>,
    limit: usize,
}

impl Default for IndicatorSet {
    fn default() -> Self {
        IndicatorSet::with_limit(IndicatorSet::DEFAULT_LIMIT)
    }
}

impl IndicatorSet {
    /// Enough for every public feed an organisation subscribes to at once.
    pub const DEFAULT_LIMIT: usize = 10_000_000;

    pub fn with_limit(limit: usize) -> IndicatorSet {
        IndicatorSet {
            indicators: HashMap::new(),
            revoked: HashSet::new(),
            limit,
        }
    }

    /// Takes a load: revoked ids first, then each indicator unless an equal or newer
    /// version is held. A version without `modified` replaces what is held only when the
    /// held one has none either (a list reloaded).
    pub fn merge(
        &mut self,
        indicators: impl IntoIterator<Item = Indicator>,
        revoked: impl IntoIterator<Item = String>,
    ) -> Merged {
        let mut merged = Merged::default();
        for id in revoked {
            if self.indicators.remove(&id).is_some() {
                merged.revoked += 1;
            }
            if self.revoked.len() < self.limit {
                self.revoked.insert(id);
            }
        }
        for indicator in indicators {
            if self.revoked.contains(&indicator.id) {
                merged.refused += 1;
                continue;
            }
            match self.indicators.get(&indicator.id) {
                Some(held) => {
                    let newer = match (held.modified, indicator.modified) {
                        (Some(held), Some(new)) => new > held,
                        (None, None) => true,
                        (Some(_), None) => false,
                        (None, Some(_)) => true,
                    };
                    if newer {
                        self.indicators.insert(indicator.id.clone(), indicator);
                        merged.replaced += 1;
                    } else {
                        merged.stale += 1;
                    }
                }
                None if self.indicators.len() >= self.limit => merged.refused += 1,
                None => {
                    self.indicators.insert(indicator.id.clone(), indicator);
                    merged.added += 1;
                }
            }
        }
        merged
    }

    /// Removes indicators a feed no longer publishes (a MISP attribute deleted or no
    /// longer `to_ids`) without barring them for good as a revocation does.
    pub fn withdraw(&mut self, ids: impl IntoIterator<Item = String>) -> usize {
        ids.into_iter()
            .filter(|id| self.indicators.remove(id).is_some())
            .count()
    }

    /// Drops every indicator of `feed`, e.g. before a plain list is loaded anew.
    pub fn remove_feed(&mut self, feed: &str) -> usize {
        let before = self.indicators.len();
        self.indicators.retain(|_, i| i.feed != feed);
        before - self.indicators.len()
    }

    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.get(id)
    }

    pub fn is_revoked(&self, id: &str) -> bool {
        self.revoked.contains(id)
    }

    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    pub fn indicators(&self) -> impl Iterator<Item = &Indicator> {
        self.indicators.values()
    }

    /// The held indicators, sorted by id.
    pub fn into_indicators(self) -> Vec<Indicator> {
        let mut all: Vec<Indicator> = self.indicators.into_values().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_backslash_and_quote() {
        assert_eq!(quote("evil.example"), "'evil.example'");
        assert_eq!(quote(r"C:\temp\it's.exe"), r"'C:\\temp\\it\'s.exe'");
    }

    #[test]
    fn techniques_are_recognised() {
        assert!(is_technique("T1566"));
        assert!(is_technique("T1566.002"));
        assert!(!is_technique("T15"));
        assert!(!is_technique("TA0001"));
        assert!(!is_technique("T1566.02"));
    }

    fn indicator_json(id: &str, modified: &str, pattern: &str, revoked: bool) -> Value {
        serde_json::json!({
            "type": "indicator", "spec_version": "2.1", "id": id,
            "created": "2020-01-01T00:00:00Z", "modified": modified,
            "pattern": pattern, "pattern_type": "stix",
            "valid_from": "2020-01-01T00:00:00Z", "revoked": revoked,
        })
    }

    #[test]
    fn newest_version_wins_and_revocation_is_final() {
        let a = "indicator--00000000-0000-4000-8000-000000000001";
        let b = "indicator--00000000-0000-4000-8000-000000000002";
        let objects = vec![
            indicator_json(
                a,
                "2020-01-03T00:00:00Z",
                "[ipv4-addr:value = '192.0.2.3']",
                false,
            ),
            indicator_json(
                a,
                "2020-01-02T00:00:00Z",
                "[ipv4-addr:value = '192.0.2.2']",
                false,
            ),
            indicator_json(
                b,
                "2020-01-01T00:00:00Z",
                "[ipv4-addr:value = '192.0.2.9']",
                false,
            ),
            indicator_json(
                b,
                "2020-01-02T00:00:00Z",
                "[ipv4-addr:value = '192.0.2.9']",
                true,
            ),
        ];
        let bundle = read_objects("test", "inline", objects);
        assert_eq!(bundle.intel.indicators.len(), 1);
        assert_eq!(
            bundle.intel.indicators[0].pattern,
            "[ipv4-addr:value = '192.0.2.3']"
        );
        assert_eq!(bundle.revoked, [b]);

        let mut catalogue = IndicatorSet::default();
        let older = read_objects(
            "test",
            "inline",
            vec![
                indicator_json(
                    a,
                    "2020-01-01T00:00:00Z",
                    "[ipv4-addr:value = '192.0.2.1']",
                    false,
                ),
                indicator_json(
                    b,
                    "2020-01-01T00:00:00Z",
                    "[ipv4-addr:value = '192.0.2.9']",
                    false,
                ),
            ],
        );
        let first = catalogue.merge(older.intel.indicators, older.revoked);
        assert_eq!(first.added, 2);
        let second = catalogue.merge(bundle.intel.indicators, bundle.revoked);
        assert_eq!((second.replaced, second.revoked), (1, 1));
        assert!(catalogue.is_revoked(b));
        assert_eq!(
            catalogue.get(a).map(|i| i.pattern.as_str()),
            Some("[ipv4-addr:value = '192.0.2.3']")
        );
        let again = read_objects(
            "test",
            "inline",
            vec![
                indicator_json(
                    a,
                    "2020-01-02T00:00:00Z",
                    "[ipv4-addr:value = '192.0.2.2']",
                    false,
                ),
                indicator_json(
                    b,
                    "2020-01-05T00:00:00Z",
                    "[ipv4-addr:value = '192.0.2.9']",
                    false,
                ),
            ],
        );
        let third = catalogue.merge(again.intel.indicators, again.revoked);
        assert_eq!((third.stale, third.refused), (1, 1));
        assert_eq!(catalogue.len(), 1);
    }

    #[test]
    fn a_byte_order_mark_and_attributed_malware_are_understood() {
        let json = r#"[
            {"type": "malware", "id": "malware--1", "name": "Loader", "is_family": true},
            {"type": "threat-actor", "id": "threat-actor--1", "name": "Crew"},
            {"type": "indicator", "id": "indicator--1", "pattern": "[url:value = 'http://evil.example/']",
             "valid_from": "2020-01-01T00:00:00Z"},
            {"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
             "source_ref": "indicator--1", "target_ref": "malware--1"},
            {"type": "relationship", "id": "relationship--2", "relationship_type": "attributed-to",
             "source_ref": "malware--1", "target_ref": "threat-actor--1"}
        ]"#;
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(json.as_bytes());
        let bundle = read("test", "inline", &bytes).map_err(|e| e.to_string());
        let indicators = bundle.map(|b| b.intel.indicators);
        let Ok([indicator]) = indicators.as_deref() else {
            panic!("{indicators:?}");
        };
        assert_eq!(indicator.malware, ["Loader"]);
        assert_eq!(indicator.actors, ["threat-actor--1"]);
        assert!(matches!(
            read("test", "inline", b"{\"objects\": []}"),
            Err(StixError::NotStix { .. })
        ));
    }

    #[test]
    fn malformed_objects_are_problems_and_the_rest_loads() {
        let good = "indicator--00000000-0000-4000-8000-000000000001";
        let objects = vec![
            serde_json::json!("not an object"),
            serde_json::json!({"type": "indicator"}),
            serde_json::json!({"type": "indicator", "id": "indicator--x", "pattern": "[x:y = 'z']",
                "pattern_type": "sigma"}),
            serde_json::json!({"type": "indicator", "id": "indicator--y", "pattern": "[x:y = 'z']",
                "valid_from": "yesterday"}),
            serde_json::json!({"type": "indicator", "id": "indicator--z", "pattern": "[x:y = 'z']",
                "confidence": 101}),
            indicator_json(
                good,
                "2020-01-03T00:00:00Z",
                "[ipv4-addr:value = '192.0.2.3']",
                false,
            ),
        ];
        let bundle = read_objects("test", "upload.json", objects);
        assert_eq!(bundle.intel.indicators.len(), 1);
        let reasons: Vec<(Option<&str>, &str)> = bundle
            .intel
            .problems
            .iter()
            .map(|p| (p.object.as_deref(), p.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert_eq!(reasons[0], (None, "objects[0]: not a JSON object"));
        assert_eq!(reasons[1], (None, "objects[1]: no `type` or no `id`"));
        assert!(reasons.contains(&(
            Some("indicator--x"),
            "pattern_type `sigma` is not supported (only `stix`)"
        )));
        assert!(
            reasons
                .iter()
                .any(|(id, reason)| *id == Some("indicator--y")
                    && reason.starts_with("`valid_from` is not a timestamp"))
        );
        assert!(reasons.contains(&(
            Some("indicator--z"),
            "`confidence` is not an integer from 0 to 100"
        )));
        assert!(
            bundle
                .intel
                .problems
                .iter()
                .all(|p| p.source == "upload.json")
        );
    }
}
