//! The actor catalogue: the groups tocsin knows by name, built in (`actors.toml`, compiled
//! into the binary) and grown by what feeds bring (STIX intrusion sets and threat actors,
//! MISP galaxy clusters). One group has many names — Forest Blizzard, STRONTIUM, APT28,
//! Fancy Bear — and every feed uses its own id for it, so the catalogue keeps one entry per
//! group and answers for any of its names ([`Catalogue::find`]) or ids
//! ([`Catalogue::resolve`]).
//!
//! Also owns the reader for MISP galaxy cluster files ([`from_galaxy`]): the threat-actor
//! galaxy and the MISP feeds that carry clusters share that shape.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use crate::{Actor, Intel, Problem};

/// Most actors one catalogue holds: the built-in ones plus every distinct imported group.
/// The MISP threat-actor galaxy has about 1,000 clusters; a feed claiming far more is not
/// describing groups.
pub const MAX_ACTORS: usize = 4096;
/// Most names one actor keeps. MISP's Lazarus cluster has 41 synonyms.
pub const MAX_ALIASES: usize = 96;
/// Most techniques, lures, infrastructure habits, targets or references one actor keeps.
pub const MAX_FACTS: usize = 64;
/// Most ids of imported objects that resolve to one actor.
pub const MAX_ALIAS_IDS: usize = 64;
/// Longest name, id or fact kept, in characters; longer ones are cut.
pub const MAX_TEXT_CHARS: usize = 512;
/// Longest description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 8192;
/// Largest galaxy cluster file read (the threat-actor galaxy is 1.4 MB).
pub const MAX_GALAXY_BYTES: usize = 32 * 1024 * 1024;
/// Most clusters taken from one galaxy file.
pub const MAX_GALAXY_CLUSTERS: usize = 10_000;

const BUILTIN: &str = include_str!("../actors.toml");

#[derive(Debug, thiserror::Error)]
pub enum ActorsError {
    #[error("{source_name}: {size} bytes is more than the {max} a galaxy file may have")]
    TooLarge {
        source_name: String,
        size: usize,
        max: usize,
    },
    #[error("{source_name}: not a MISP galaxy cluster file: {reason}")]
    NotGalaxy { source_name: String, reason: String },
    #[error("built-in actors.toml: {0}")]
    Builtin(String),
}

/// What [`Catalogue::absorb`] did with an imported actor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Absorbed {
    /// One of its names is a name of this catalogue actor (its id); the names, techniques
    /// and references it brought were added there and its id now resolves there.
    Merged(String),
    /// No catalogue actor has any of its names: it is a new entry under its own id.
    Added(String),
    /// Not kept, and why: nameless, or the catalogue is full.
    Refused(String),
}

/// One spelling per actor name: lower case, letters and digits only, so "Forest Blizzard",
/// "FOREST BLIZZARD", "forest-blizzard" and "APT 28" / "APT28" compare equal.
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .take(MAX_TEXT_CHARS)
        .collect()
}

/// The groups tocsin knows, each under all its names and ids.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    actors: Vec<Actor>,
    /// `name_key` of every name and alias → index in `actors`. A name belongs to one actor
    /// only.
    by_name: HashMap<String, usize>,
    /// Names the built-in catalogue gives: they stay with their actor whatever feeds say.
    settled: HashSet<String>,
    /// Imported names that feeds give to two different groups ("Grizzly Steppe", the US
    /// government's name for both APT28's and APT29's activity): they find no one rather
    /// than whichever group came first.
    ambiguous: HashSet<String>,
    /// Every actor's own id and the ids of the imports merged into it → index.
    by_id: HashMap<String, usize>,
    /// Per actor (same index), the imported ids merged into it.
    alias_ids: Vec<Vec<String>>,
}

#[derive(Deserialize)]
struct CatalogueFile {
    actor: Vec<Actor>,
}

impl Catalogue {
    /// The catalogue shipped with tocsin (`actors.toml`). A test proves the file parses;
    /// were it ever broken the catalogue would be empty — attribution then says
    /// "unattributed" — rather than the service down.
    pub fn builtin() -> Catalogue {
        Catalogue::try_builtin().unwrap_or_default()
    }

    /// The catalogue shipped with tocsin, or why `actors.toml` does not parse.
    pub fn try_builtin() -> Result<Catalogue, ActorsError> {
        let file: CatalogueFile =
            toml::from_str(BUILTIN).map_err(|e| ActorsError::Builtin(e.to_string()))?;
        let mut catalogue = Catalogue::default();
        for actor in file.actor {
            if catalogue.by_id.contains_key(&actor.id) {
                return Err(ActorsError::Builtin(format!("actor id {} twice", actor.id)));
            }
            if let Some(taken) = std::iter::once(&actor.name)
                .chain(&actor.aliases)
                .find(|name| catalogue.by_name.contains_key(&name_key(name)))
            {
                return Err(ActorsError::Builtin(format!(
                    "actor {}: name {taken:?} belongs to another actor",
                    actor.id
                )));
            }
            catalogue.add(actor);
        }
        catalogue.settled = catalogue.by_name.keys().cloned().collect();
        Ok(catalogue)
    }

    /// Every actor, built-in ones first, then imports in the order they came.
    pub fn actors(&self) -> &[Actor] {
        &self.actors
    }

    pub fn len(&self) -> usize {
        self.actors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actors.is_empty()
    }

    /// Whether feeds give this name to two different groups, so that it finds none.
    pub fn is_ambiguous(&self, name: &str) -> bool {
        self.ambiguous.contains(&name_key(name))
    }

    /// The actor with this name or alias, whatever its case, spaces or hyphens. `None` also
    /// for a name feeds give to two different groups ([`Catalogue::is_ambiguous`]).
    pub fn find(&self, name_or_alias: &str) -> Option<&Actor> {
        let key = name_key(name_or_alias);
        self.by_name.get(&key).and_then(|&i| self.actors.get(i))
    }

    /// The actor an indicator's `actors` entry points to: a catalogue id (`apt28`), the id
    /// of an imported intrusion set, threat actor or galaxy cluster (merged or not), or —
    /// since some feeds name groups rather than link them — a name or alias.
    pub fn resolve(&self, id: &str) -> Option<&Actor> {
        self.by_id
            .get(id)
            .or_else(|| self.by_id.get(&id.to_ascii_lowercase()))
            .and_then(|&i| self.actors.get(i))
            .or_else(|| self.find(id))
    }

    /// The ids of imported objects that resolve to the actor with this id.
    pub fn alias_ids(&self, id: &str) -> &[String] {
        self.by_id
            .get(id)
            .and_then(|&i| self.alias_ids.get(i))
            .map_or(&[], Vec::as_slice)
    }

    /// Takes in an actor from a feed. When its name or any alias is a name of a catalogue
    /// actor, it is merged there: new names (those no other actor has), techniques, lures,
    /// infrastructure, targets and references are added, and its id resolves to that actor
    /// from now on. Otherwise it becomes a new actor under its own id.
    ///
    /// When its names point to several catalogue actors (feeds disagree on how groups are
    /// split: MISP's Lazarus cluster lists Andariel and BlueNoroff), its own name decides,
    /// else the actor sharing the most names, else the earliest; names another actor owns
    /// stay with that actor, so every name still finds one actor.
    pub fn absorb(&mut self, imported: Actor) -> Absorbed {
        let imported = clean(imported);
        if name_key(&imported.name).is_empty() {
            return Absorbed::Refused(format!("actor {:?} has no name", imported.id));
        }
        match self.merge_target(&imported) {
            Some(index) => {
                self.merge(index, imported);
                Absorbed::Merged(self.actors[index].id.clone())
            }
            None if self.by_id.contains_key(&imported.id) => {
                // Same id, different names: a newer version of an earlier import.
                let Some(&index) = self.by_id.get(&imported.id) else {
                    return Absorbed::Refused(format!("actor {:?} vanished", imported.id));
                };
                self.merge(index, imported);
                Absorbed::Merged(self.actors[index].id.clone())
            }
            None if self.actors.len() >= MAX_ACTORS => Absorbed::Refused(format!(
                "actor {:?} ({}): the catalogue already holds {MAX_ACTORS} actors",
                imported.id, imported.name
            )),
            None if imported.id.is_empty() => {
                Absorbed::Refused(format!("actor {:?} has no id", imported.name))
            }
            None => {
                let id = imported.id.clone();
                self.add(imported);
                Absorbed::Added(id)
            }
        }
    }

    fn merge_target(&self, imported: &Actor) -> Option<usize> {
        if let Some(&i) = self.by_name.get(&name_key(&imported.name)) {
            return Some(i);
        }
        let mut votes: Vec<(usize, usize)> = Vec::new();
        for alias in &imported.aliases {
            if let Some(&i) = self.by_name.get(&name_key(alias)) {
                match votes.iter_mut().find(|(index, _)| *index == i) {
                    Some((_, count)) => *count += 1,
                    None => votes.push((i, 1)),
                }
            }
        }
        // Most shared names first, the earlier actor on a tie.
        votes
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i)
    }

    /// Gives the name `key` to actor `index`; true when it is newly that actor's. A name
    /// another actor already has becomes ambiguous, unless the built-in catalogue gave it.
    fn claim(&mut self, key: String, index: usize) -> bool {
        if key.is_empty() || self.ambiguous.contains(&key) {
            return false;
        }
        match self.by_name.get(&key) {
            None => {
                self.by_name.insert(key, index);
                true
            }
            Some(&owner) if owner == index || self.settled.contains(&key) => false,
            Some(_) => {
                self.by_name.remove(&key);
                self.ambiguous.insert(key);
                false
            }
        }
    }

    fn add(&mut self, actor: Actor) {
        let index = self.actors.len();
        for name in std::iter::once(&actor.name).chain(&actor.aliases) {
            self.claim(name_key(name), index);
        }
        self.by_id.entry(actor.id.clone()).or_insert(index);
        self.by_id
            .entry(actor.id.to_ascii_lowercase())
            .or_insert(index);
        self.actors.push(actor);
        self.alias_ids.push(Vec::new());
    }

    fn merge(&mut self, index: usize, imported: Actor) {
        let Some(mut room) = self
            .actors
            .get(index)
            .map(|a| MAX_ALIASES.saturating_sub(a.aliases.len()))
        else {
            return;
        };
        let mut new_names = Vec::new();
        for name in std::iter::once(&imported.name).chain(&imported.aliases) {
            if room > 0 && self.claim(name_key(name), index) {
                new_names.push(name.clone());
                room -= 1;
            }
        }
        let Some(target) = self.actors.get_mut(index) else {
            return;
        };
        target.aliases.extend(new_names);
        for (list, new) in [
            (&mut target.techniques, imported.techniques),
            (&mut target.lures, imported.lures),
            (&mut target.infrastructure, imported.infrastructure),
            (&mut target.targets, imported.targets),
            (&mut target.references, imported.references),
        ] {
            for value in new {
                if list.len() < MAX_FACTS && !list.contains(&value) {
                    list.push(value);
                }
            }
        }
        if target.origin.is_none() {
            target.origin = imported.origin;
        }
        if target.description.is_empty() {
            target.description = imported.description;
        }
        if !imported.id.is_empty()
            && !self.by_id.contains_key(&imported.id)
            && let Some(ids) = self.alias_ids.get_mut(index)
            && ids.len() < MAX_ALIAS_IDS
        {
            ids.push(imported.id.clone());
            self.by_id.insert(imported.id.to_ascii_lowercase(), index);
            self.by_id.insert(imported.id, index);
        }
    }
}

/// Cuts an imported actor down to the catalogue's bounds: feeds are written by others.
fn clean(mut actor: Actor) -> Actor {
    actor.id = clip(actor.id.trim(), MAX_TEXT_CHARS);
    actor.name = clip(actor.name.trim(), MAX_TEXT_CHARS);
    actor.description = clip(&actor.description, MAX_DESCRIPTION_CHARS);
    actor.origin = actor
        .origin
        .map(|o| o.trim().to_ascii_uppercase())
        .filter(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_uppercase()));
    for (list, max) in [
        (&mut actor.aliases, MAX_ALIASES),
        (&mut actor.techniques, MAX_FACTS),
        (&mut actor.lures, MAX_FACTS),
        (&mut actor.infrastructure, MAX_FACTS),
        (&mut actor.targets, MAX_FACTS),
        (&mut actor.references, MAX_FACTS),
    ] {
        let mut kept: Vec<String> = Vec::new();
        for value in list.drain(..) {
            let value = clip(value.trim(), MAX_TEXT_CHARS);
            if !value.is_empty() && !kept.contains(&value) && kept.len() < max {
                kept.push(value);
            }
        }
        *list = kept;
    }
    actor.techniques = actor
        .techniques
        .into_iter()
        .map(|t| t.to_ascii_uppercase())
        .collect();
    actor
}

fn clip(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// Reads a MISP galaxy cluster file (the `values` of the threat-actor or
/// microsoft-activity-group galaxy, or a feed's cluster list in the same shape) into
/// actors: the cluster uuid as id, `value` as name, `meta.synonyms` as aliases,
/// `meta.country` as origin, `meta.cfr-target-category` as targets (lower case),
/// `meta.refs` as references. A cluster without a uuid or value is reported in
/// `problems` and skipped; the rest still load.
pub fn from_galaxy(bytes: &[u8], source: &str) -> Result<Intel, ActorsError> {
    if bytes.len() > MAX_GALAXY_BYTES {
        return Err(ActorsError::TooLarge {
            source_name: source.to_owned(),
            size: bytes.len(),
            max: MAX_GALAXY_BYTES,
        });
    }
    let not_galaxy = |reason: String| ActorsError::NotGalaxy {
        source_name: source.to_owned(),
        reason,
    };
    let document: Value = serde_json::from_slice(bytes).map_err(|e| not_galaxy(e.to_string()))?;
    let values = document
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| not_galaxy("no \"values\" array of clusters".to_owned()))?;
    let mut intel = Intel::default();
    for (position, cluster) in values.iter().enumerate() {
        if position >= MAX_GALAXY_CLUSTERS {
            intel.problems.push(Problem {
                source: source.to_owned(),
                object: None,
                reason: format!(
                    "{} clusters after the first {MAX_GALAXY_CLUSTERS} were not read",
                    values.len() - MAX_GALAXY_CLUSTERS
                ),
            });
            break;
        }
        match galaxy_actor(cluster) {
            Ok(actor) => intel.actors.push(actor),
            Err(reason) => intel.problems.push(Problem {
                source: format!("{source}: values[{position}]"),
                object: cluster
                    .get("uuid")
                    .and_then(Value::as_str)
                    .map(|u| clip(u, MAX_TEXT_CHARS)),
                reason,
            }),
        }
    }
    Ok(intel)
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).map(str::trim)
}

fn galaxy_actor(cluster: &Value) -> Result<Actor, String> {
    let uuid = text(cluster.get("uuid"))
        .filter(|u| !u.is_empty())
        .ok_or("cluster without a uuid")?;
    let name = text(cluster.get("value"))
        .filter(|v| !v.is_empty())
        .ok_or("cluster without a value (name)")?;
    let meta = cluster.get("meta");
    let strings = |key: &str| -> Vec<String> {
        meta.and_then(|m| m.get(key))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(clean(Actor {
        id: uuid.to_owned(),
        name: name.to_owned(),
        aliases: strings("synonyms"),
        origin: text(meta.and_then(|m| m.get("country"))).map(str::to_owned),
        techniques: Vec::new(),
        lures: Vec::new(),
        infrastructure: Vec::new(),
        targets: strings("cfr-target-category")
            .into_iter()
            .map(|t| t.to_lowercase())
            .collect(),
        description: text(cluster.get("description"))
            .unwrap_or_default()
            .to_owned(),
        references: strings("refs"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_parses_with_one_owner_per_name() {
        let catalogue = Catalogue::try_builtin().expect("present");
        let ids: Vec<&str> = catalogue.actors().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "apt28",
                "zinc",
                "cerium",
                "apt29",
                "kimsuky",
                "apt35",
                "apt31",
                "wizard-spider"
            ]
        );
        for actor in catalogue.actors() {
            assert!(
                !actor.references.is_empty(),
                "{} has no reference",
                actor.id
            );
            assert!(actor.origin.is_some(), "{} has no origin", actor.id);
            for technique in &actor.techniques {
                assert!(
                    technique.starts_with('T') && technique.len() >= 5,
                    "{}: {technique}",
                    actor.id
                );
            }
            for lure in &actor.lures {
                assert!(
                    [
                        "lure_health",
                        "lure_recruiting",
                        "lure_credentials",
                        "lure_invoice"
                    ]
                    .contains(&lure.as_str()),
                    "{}: {lure}",
                    actor.id
                );
            }
        }
    }

    #[test]
    fn names_are_found_whatever_their_spelling() {
        let catalogue = Catalogue::builtin();
        for name in [
            "Forest Blizzard",
            "FOREST BLIZZARD",
            "forest-blizzard",
            "apt 28",
            "Strontium",
        ] {
            assert_eq!(catalogue.find(name).map(|a| a.id.as_str()), Some("apt28"));
        }
        assert_eq!(
            catalogue.find("zinc").map(|a| a.name.as_str()),
            Some("Diamond Sleet")
        );
        assert_eq!(
            catalogue.find("Cerium").map(|a| a.name.as_str()),
            Some("Ruby Sleet")
        );
        assert_eq!(catalogue.find("ZINC EMERSON"), None);
        assert_eq!(catalogue.find(""), None);
        assert_eq!(
            catalogue.resolve("apt29").map(|a| a.name.as_str()),
            Some("Midnight Blizzard")
        );
    }

    #[test]
    fn an_import_sharing_a_name_merges_and_its_id_resolves() {
        let mut catalogue = Catalogue::builtin();
        let imported = Actor {
            id: "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c".into(),
            name: "APT28".into(),
            aliases: vec!["Fighting Ursa".into(), "Velvet Chollima".into()],
            techniques: vec!["t1110.003".into(), "T1203".into()],
            references: vec!["https://example.org/apt28-report".into()],
            ..Actor::default()
        };
        assert_eq!(catalogue.absorb(imported), Absorbed::Merged("apt28".into()));
        let apt28 = catalogue
            .resolve("intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c")
            .expect("present");
        assert_eq!(apt28.id, "apt28");
        assert!(apt28.aliases.contains(&"Fighting Ursa".to_string()));
        // Velvet Chollima stays Kimsuky's.
        assert!(!apt28.aliases.contains(&"Velvet Chollima".to_string()));
        assert_eq!(
            catalogue.find("velvet chollima").expect("present").id,
            "kimsuky"
        );
        assert_eq!(
            apt28
                .techniques
                .iter()
                .filter(|t| *t == "T1110.003")
                .count(),
            1
        );
        assert!(apt28.techniques.contains(&"T1203".to_string()));
        assert_eq!(
            catalogue.alias_ids("apt28"),
            ["intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c"]
        );
    }

    #[test]
    fn an_unknown_import_is_added_and_a_nameless_one_refused() {
        let mut catalogue = Catalogue::builtin();
        let before = catalogue.len();
        let new = Actor {
            id: "threat-actor--0d3ac1e4-0000-4000-8000-000000000001".into(),
            name: "Storm-9999".into(),
            ..Actor::default()
        };
        assert_eq!(
            catalogue.absorb(new),
            Absorbed::Added("threat-actor--0d3ac1e4-0000-4000-8000-000000000001".into())
        );
        assert_eq!(catalogue.len(), before + 1);
        assert_eq!(
            catalogue.find("storm 9999").expect("present").name,
            "Storm-9999"
        );
        let nameless = Actor {
            id: "x".into(),
            name: " - ".into(),
            ..Actor::default()
        };
        assert!(matches!(catalogue.absorb(nameless), Absorbed::Refused(_)));
        assert_eq!(catalogue.len(), before + 1);
    }

    #[test]
    fn the_catalogue_stops_growing_at_its_bound() {
        let mut catalogue = Catalogue::builtin();
        let builtin = catalogue.len();
        let mut refused = 0;
        for n in 0..MAX_ACTORS + 10 {
            let actor = Actor {
                id: format!("feed-actor-{n}"),
                name: format!("Group {n}"),
                aliases: (0..if n < 3 { 200 } else { 1 })
                    .map(|a| format!("group {n} alias {a}"))
                    .collect(),
                ..Actor::default()
            };
            if let Absorbed::Refused(reason) = catalogue.absorb(actor) {
                refused += 1;
                assert!(reason.ends_with("the catalogue already holds 4096 actors"));
            }
        }
        assert_eq!(catalogue.len(), MAX_ACTORS);
        assert_eq!(refused, builtin + 10);
        let first = catalogue.find("group 0").expect("present");
        assert_eq!(first.aliases.len(), MAX_ALIASES);
    }

    #[test]
    fn galaxy_files_that_are_not_galaxies_are_refused_with_the_source_named() {
        let error = from_galaxy(b"{\"name\": \"x\"}", "upload.json").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "upload.json: not a MISP galaxy cluster file: no \"values\" array of clusters"
        );
        let intel = from_galaxy(
            br#"{"values": [{"value": "No uuid"}, {"uuid": "u1", "value": "Ok", "meta": {"synonyms": ["A", 3], "country": "ru"}}]}"#,
            "feed.json",
        )
        .expect("present");
        assert_eq!(intel.actors.len(), 1);
        assert_eq!(intel.actors[0].aliases, ["A"]);
        assert_eq!(intel.actors[0].origin.as_deref(), Some("RU"));
        assert_eq!(intel.problems.len(), 1);
        assert_eq!(intel.problems[0].source, "feed.json: values[0]");
        assert_eq!(intel.problems[0].reason, "cluster without a uuid");
    }
}
