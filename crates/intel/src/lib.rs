//! Threat intelligence, from the feeds an operator trusts to the words of an attribution.
//!
//! Data flows one way: feed readers (`stix`, `misp`, `lists`, `taxii`) turn what a
//! community publishes into plain [`Indicator`]s, [`Actor`]s and [`BenignList`]s; the
//! `index` compiles live indicators (STIX patterns, `pattern`) into structures that answer
//! for one event's [`Observed`] values in well under a microsecond each; a hit is a
//! [`Match`] naming the indicator and its feed; `attribution` weighs matches, techniques,
//! lures and infrastructure against the actor catalogue; `export` gives an incident back
//! as STIX 2.1 or a MISP event. `source` is a feed as configured (one pull of any kind, or
//! a local path told apart by content); `live` holds what a running service matches
//! against, swapped whole when a feed changes.
//!
//! Nothing here does storage; HTTP only to fetch feeds (`taxii`, `misp`, `source`).

pub mod actors;
pub mod attribution;
pub mod export;
pub mod index;
pub mod lists;
pub mod live;
pub mod misp;
pub mod normal;
pub mod observed;
pub mod pattern;
pub mod source;
pub mod stix;
pub mod taxii;

pub use observed::{Observed, ObservedFile};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One indicator as tocsin keeps it, whatever feed it came from. A MISP attribute or a
/// list entry is expressed as the STIX pattern that says the same, so that one matcher
/// serves every feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// The feed's own id: a STIX `indicator--<uuid>`, a MISP attribute uuid, or
    /// `<list name>:<line>` for a plain list.
    pub id: String,
    /// The feed it came from, as named in the configuration or upload.
    pub feed: String,
    /// A STIX 2.1 pattern.
    pub pattern: String,
    pub name: Option<String>,
    pub valid_from: Option<Timestamp>,
    /// After this instant the indicator no longer matches.
    pub valid_until: Option<Timestamp>,
    /// The version: a newer `modified` replaces an older one of the same id.
    pub modified: Option<Timestamp>,
    /// Actors (`Actor::id`) the feed links this indicator to ("indicates" an intrusion set
    /// or threat actor, or a galaxy cluster on the MISP event).
    pub actors: Vec<String>,
    /// ATT&CK technique ids the feed links it to (`T1566.002`).
    pub techniques: Vec<String>,
    /// Malware families it indicates, by name.
    pub malware: Vec<String>,
    /// The feed's confidence, 0–100 (STIX `confidence`), when given.
    pub confidence: Option<u8>,
    /// Labels and tags, e.g. `tlp:amber`, `anonymization`.
    pub labels: Vec<String>,
}

impl Indicator {
    /// Whether the indicator matches at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.valid_from.is_none_or(|from| from <= now)
            && self.valid_until.is_none_or(|until| now < until)
    }
}

/// A known group: from the built-in catalogue, a STIX `intrusion-set` or `threat-actor`,
/// or a MISP galaxy cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// A stable key: the catalogue's slug (`apt28`), or the STIX id or galaxy uuid of an
    /// imported one that matched no catalogue entry.
    pub id: String,
    /// The name shown first, e.g. "Forest Blizzard (STRONTIUM, APT28)" uses `name` and
    /// `aliases`.
    pub name: String,
    pub aliases: Vec<String>,
    /// Where the group is said to operate from (country, ISO 3166 alpha-2), when known.
    pub origin: Option<String>,
    /// ATT&CK technique ids the group is known to use.
    pub techniques: Vec<String>,
    /// Lure themes it is known for (the mail analyser's lure names: `recruiter`,
    /// `health_authority`, `credential`, ...).
    pub lures: Vec<String>,
    /// Infrastructure habits, as words for people.
    pub infrastructure: Vec<String>,
    /// Sectors it is known to target (`health`, `ngo`, `pharma`, ...).
    pub targets: Vec<String>,
    pub description: String,
    /// Where the description comes from.
    pub references: Vec<String>,
}

/// Values a warning list says are benign: a match on one of them never alerts on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenignList {
    pub name: String,
    pub kind: BenignKind,
    pub values: Vec<String>,
}

/// How a warning list's values are compared (the misp-warninglists `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenignKind {
    /// Addresses and networks.
    Cidr,
    /// Exact values.
    String,
    /// Host names and every name under them.
    Hostname,
    /// Values containing one of these.
    Substring,
    /// Values matching one of these regular expressions.
    Regex,
}

/// Something in a feed tocsin could not use, and why. The rest of the feed still loads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The file, URL or upload, with the line or object where that helps.
    pub source: String,
    /// The object's id (`indicator--...`, an attribute uuid), when it has one.
    pub object: Option<String>,
    pub reason: String,
}

/// Everything one feed load produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intel {
    pub indicators: Vec<Indicator>,
    pub actors: Vec<Actor>,
    pub benign: Vec<BenignList>,
    pub problems: Vec<Problem>,
}

/// One indicator that matched one event: the model's type, since incidents carry them.
pub use model::IndicatorMatch as Match;
