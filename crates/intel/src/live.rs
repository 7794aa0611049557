//! The intelligence a running service matches against, swapped whole when a feed
//! changes: readers take the current [`Loaded`] and keep it for their batch, so a reload
//! never stalls intake and a batch never sees half of an update.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use model::{Incident, Sector};

use crate::actors::Catalogue;
use crate::attribution::{Attribution, Clues, attribute};
use crate::index::Index;
use crate::{Actor, BenignList, Indicator, Match, Observed, Problem};

/// Compiled indicators and the actor catalogue they point to.
#[derive(Debug)]
pub struct Loaded {
    pub index: Index,
    pub actors: Catalogue,
    /// Indicators compiled.
    pub indicators: usize,
    /// Indicators refused (patterns tocsin cannot evaluate), each with the reason.
    pub problems: Vec<Problem>,
    pub built: Timestamp,
}

impl Loaded {
    /// No indicators; the built-in actor catalogue.
    pub fn empty() -> Loaded {
        Loaded::build(Vec::new(), &[], Vec::new(), Timestamp::now())
    }

    /// Compiles `indicators` (those that expired before `expired_before` are left out)
    /// with the warning lists, and merges imported actors into the built-in catalogue.
    pub fn build(
        indicators: Vec<Indicator>,
        benign: &[BenignList],
        imported: Vec<Actor>,
        expired_before: Timestamp,
    ) -> Loaded {
        let mut actors = Catalogue::builtin();
        for actor in imported {
            let _ = actors.absorb(actor);
        }
        let (index, problems) = Index::build(indicators, benign, expired_before);
        Loaded {
            indicators: index.len(),
            index,
            actors,
            problems,
            built: Timestamp::now(),
        }
    }

    /// The live indicators `seen` matches at `at` (the event's time), warning-listed
    /// values left out.
    pub fn matches(&self, seen: &Observed, at: Timestamp) -> Vec<Match> {
        if self.index.is_empty() {
            return Vec::new();
        }
        self.index.matches(seen, at)
    }

    /// Who is probably behind `incident`, from its indicator matches, its technique, the
    /// lures its reasons name and the labels of the infrastructure it came from.
    pub fn attribute(&self, incident: &Incident, sector: Option<Sector>) -> Attribution {
        let techniques = vec![incident.technique.id().to_string()];
        let lures: Vec<String> = incident
            .reasons
            .iter()
            .filter_map(|r| r.split([' ', '(']).next())
            .filter(|code| code.starts_with("lure_"))
            .map(str::to_owned)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let infrastructure: Vec<String> = incident
            .indicators
            .iter()
            .flat_map(|m| m.labels.iter().cloned())
            .filter(|label| !label.starts_with("tlp:"))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        attribute(
            &self.actors,
            &Clues {
                matches: &incident.indicators,
                techniques: &techniques,
                lures: &lures,
                infrastructure: &infrastructure,
                sector,
            },
        )
    }
}

/// The current [`Loaded`], replaced whole.
#[derive(Debug)]
pub struct Live {
    current: RwLock<Arc<Loaded>>,
}

impl Default for Live {
    fn default() -> Self {
        Live::new(Loaded::empty())
    }
}

impl Live {
    pub fn new(loaded: Loaded) -> Live {
        Live {
            current: RwLock::new(Arc::new(loaded)),
        }
    }

    /// What to match a batch against.
    pub fn current(&self) -> Arc<Loaded> {
        // A writer that panicked left a whole Arc behind; it is still usable.
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&guard)
    }

    /// Makes `loaded` what every later batch matches against.
    pub fn install(&self, loaded: Loaded) {
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(loaded);
    }
}
