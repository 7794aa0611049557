//! Who is probably behind an incident, in the words of an estimative scale: the plain
//! data an incident carries. `intel::attribution` decides it and documents the scale
//! (ICD 203 likelihood words, with low, moderate and high confidence apart).

use serde::{Deserialize, Serialize};

pub const ALMOST_CERTAINLY: &str = "almost certainly";
pub const VERY_LIKELY: &str = "very likely";
pub const LIKELY: &str = "likely";
pub const ROUGHLY_EVEN_CHANCE: &str = "roughly even chance";
pub const UNATTRIBUTED: &str = "unattributed";

/// Every phrase [`Attribution::words`] may hold.
pub const WORDS: [&str; 5] = [
    ALMOST_CERTAINLY,
    VERY_LIKELY,
    LIKELY,
    ROUGHLY_EVEN_CHANCE,
    UNATTRIBUTED,
];

/// ICD 203's analytic confidence levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Moderate,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Moderate => "moderate",
            Confidence::High => "high",
        }
    }

    /// The 0–100 value for a STIX `confidence` property, per the STIX 2.1 Appendix A
    /// "Low/Med/High" mapping (15, 50, 85).
    pub fn stix(self) -> u8 {
        match self {
            Confidence::Low => 15,
            Confidence::Moderate => 50,
            Confidence::High => 85,
        }
    }
}

/// An actor as an attribution names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorRef {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
}

/// Another actor the clues fit, less well or equally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    pub id: String,
    pub name: String,
    pub confidence: Confidence,
}

/// Who is behind an incident, as far as tocsin can tell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attribution {
    /// `None`: unattributed — `evidence` says why.
    pub actor: Option<ActorRef>,
    pub confidence: Confidence,
    /// The ICD 203 likelihood phrase, or "unattributed": one of [`WORDS`].
    pub words: &'static str,
    /// One sentence per fact weighed: the indicator and its feed, the technique, lure,
    /// infrastructure or sector that fits, or why nothing does.
    pub evidence: Vec<String>,
    /// Indicators link the incident to more than one actor.
    pub conflict: bool,
    pub alternatives: Vec<Alternative>,
}

/// An [`Attribution`] as read back (from the store or an API client): `words` must be
/// one of [`WORDS`].
#[derive(Deserialize)]
struct StoredAttribution {
    actor: Option<ActorRef>,
    confidence: Confidence,
    words: String,
    evidence: Vec<String>,
    #[serde(default)]
    conflict: bool,
    alternatives: Vec<Alternative>,
}

impl<'de> Deserialize<'de> for Attribution {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredAttribution::deserialize(deserializer)?;
        Attribution::try_from(stored).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<StoredAttribution> for Attribution {
    type Error = String;

    fn try_from(stored: StoredAttribution) -> Result<Self, Self::Error> {
        let words = WORDS
            .into_iter()
            .find(|w| *w == stored.words)
            .ok_or_else(|| format!("unknown estimative words {:?}", stored.words))?;
        Ok(Attribution {
            actor: stored.actor,
            confidence: stored.confidence,
            words,
            evidence: stored.evidence,
            conflict: stored.conflict,
            alternatives: stored.alternatives,
        })
    }
}

impl Attribution {
    /// "Forest Blizzard (STRONTIUM, APT28): very likely, high confidence", or
    /// "unattributed".
    pub fn headline(&self) -> String {
        match &self.actor {
            Some(actor) => {
                let aliases: Vec<&str> = actor.aliases.iter().take(2).map(String::as_str).collect();
                let name = if aliases.is_empty() {
                    actor.name.clone()
                } else {
                    format!("{} ({})", actor.name, aliases.join(", "))
                };
                format!(
                    "{name}: {}, {} confidence",
                    self.words,
                    self.confidence.as_str()
                )
            }
            None if self.conflict => format!(
                "unattributed: conflicting indicators, {} between the alternatives",
                self.words
            ),
            None => UNATTRIBUTED.to_owned(),
        }
    }
}
