//! Attribution: who is likely behind an incident, how sure tocsin is, and why — in words
//! an organisation admin can act on and an analyst can check.
//!
//! # The scale
//!
//! Likelihood is said with the estimative language of the US Intelligence Community
//! Directive 203, *Analytic Standards* (ODNI, 2015, section D.6.b(2)(a)), and confidence in the
//! sources and reasoning is said apart from it, as ICD 203 asks, with its three levels
//! (low, moderate, high):
//!
//! | words (ICD 203)        | probability | used when                                                  | confidence |
//! |------------------------|-------------|------------------------------------------------------------|------------|
//! | almost certainly       | 95–99 %     | indicators linked to one actor, from two or more feeds     | high       |
//! | very likely            | 80–95 %     | indicators linked to one actor, from one feed              | high       |
//! | likely                 | 55–80 %     | indicators conflict; one actor has more independent feeds  | moderate   |
//! | roughly even chance    | 45–55 %     | indicators conflict evenly (no actor named), or behaviour only: two of technique, lure, infrastructure fit one actor best | low; moderate when the targeted sector fits too |
//! | unattributed           | —           | nothing fits well enough to name anyone                    | low        |
//!
//! The lower ICD 203 terms (unlikely, very unlikely, almost no chance) are never said of a
//! named actor: tocsin names an actor only when it is at least an even chance, and lists
//! the others as alternatives with their own confidence.
//!
//! Behaviour alone — a technique, a lure theme, anonymising infrastructure, a sector — is
//! shared by many groups and copied on purpose, so it never gives high confidence; one
//! kind of behaviour alone never names anyone. An indicator a feed links to an actor is
//! the feed's attribution, which tocsin repeats with the feed's name in the evidence.

use crate::Match;
use crate::actors::Catalogue;
use model::Sector;

/// Most matches weighed; an incident with more has said what it has to say.
pub const MAX_MATCHES: usize = 1024;
/// Most evidence sentences given.
pub const MAX_EVIDENCE: usize = 32;
/// Most alternatives listed.
pub const MAX_ALTERNATIVES: usize = 4;
/// Most distinct actors, and feeds or indicators per actor, counted from the matches: a
/// feed linking one indicator to hundreds of groups says nothing more with the last ones.
const MAX_LINKED: usize = 64;
/// Most actor links read from one match.
const MAX_LINKS_PER_MATCH: usize = 16;

pub use model::attribution::{
    ALMOST_CERTAINLY, ActorRef, Alternative, Attribution, Confidence, LIKELY, ROUGHLY_EVEN_CHANCE,
    UNATTRIBUTED, VERY_LIKELY, WORDS,
};

/// What an incident shows, to be weighed against the catalogue.
#[derive(Clone, Copy, Debug, Default)]
pub struct Clues<'a> {
    /// Indicator hits, each with the actor ids its feed links it to.
    pub matches: &'a [Match],
    /// ATT&CK technique ids of the incident (`T1110.003`, `T1566`).
    pub techniques: &'a [String],
    /// Lure themes the mail analyser found (`lure_recruiting`, or `recruiting`).
    pub lures: &'a [String],
    /// Labels of the intel lists the source addresses are on (`tor-exit`,
    /// `anonymising-vpn`, `residential-proxy`).
    pub infrastructure: &'a [String],
    /// The targeted organisation's sector.
    pub sector: Option<Sector>,
}

/// The actor an indicator points to: the catalogue's, or the bare id when the catalogue
/// does not know it (the feed still said so, and the evidence repeats it).
#[derive(Clone, Debug)]
struct Linked {
    actor: ActorRef,
    feeds: Vec<String>,
    indicators: Vec<String>,
}

/// How well one catalogue actor fits the behaviour.
struct Fit {
    index: usize,
    kinds: usize,
    sector: bool,
    score: u32,
    evidence: Vec<String>,
}

/// Weighs the clues against the catalogue.
pub fn attribute(catalogue: &Catalogue, clues: &Clues<'_>) -> Attribution {
    let linked = linked_actors(catalogue, clues.matches);
    let unlinked: Vec<&Match> = clues
        .matches
        .iter()
        .take(MAX_MATCHES)
        .filter(|m| m.actors.is_empty())
        .collect();
    let fits = behaviour_fits(catalogue, clues);
    let mut evidence = Vec::new();

    let mut attribution = if linked.is_empty() {
        from_behaviour(catalogue, clues, &fits, &mut evidence)
    } else {
        from_indicators(catalogue, &linked, &fits, &mut evidence)
    };
    for m in unlinked.iter().take(4) {
        evidence.push(format!(
            "Indicator {} ({}) matched {} = {} but its feed links it to no actor.",
            m.indicator, m.feed, m.field, m.observed
        ));
    }
    evidence.truncate(MAX_EVIDENCE);
    attribution.evidence = evidence;
    attribution
}

fn linked_actors(catalogue: &Catalogue, matches: &[Match]) -> Vec<Linked> {
    let mut linked: Vec<Linked> = Vec::new();
    for m in matches.iter().take(MAX_MATCHES) {
        for raw in m.actors.iter().take(MAX_LINKS_PER_MATCH) {
            let actor = match catalogue.resolve(raw) {
                Some(actor) => ActorRef {
                    id: actor.id.clone(),
                    name: actor.name.clone(),
                    aliases: actor.aliases.clone(),
                },
                None => {
                    let raw: String = raw.chars().take(256).collect();
                    ActorRef {
                        id: raw.clone(),
                        name: raw,
                        aliases: Vec::new(),
                    }
                }
            };
            let entry = match linked.iter_mut().position(|l| l.actor.id == actor.id) {
                Some(i) => &mut linked[i],
                None if linked.len() >= MAX_LINKED => continue,
                None => {
                    linked.push(Linked {
                        actor,
                        feeds: Vec::new(),
                        indicators: Vec::new(),
                    });
                    let last = linked.len() - 1;
                    &mut linked[last]
                }
            };
            if entry.feeds.len() < MAX_LINKED && !entry.feeds.contains(&m.feed) {
                entry.feeds.push(m.feed.clone());
            }
            if entry.indicators.len() < MAX_LINKED && !entry.indicators.contains(&m.indicator) {
                entry.indicators.push(m.indicator.clone());
            }
        }
    }
    // Most independent feeds first, then most indicators; first seen on a tie.
    linked.sort_by(|a, b| {
        b.feeds
            .len()
            .cmp(&a.feeds.len())
            .then(b.indicators.len().cmp(&a.indicators.len()))
    });
    linked
}

fn from_indicators(
    catalogue: &Catalogue,
    linked: &[Linked],
    fits: &[Fit],
    evidence: &mut Vec<String>,
) -> Attribution {
    let Some(first) = linked.first() else {
        return unattributed(Vec::new());
    };
    for l in linked {
        evidence.push(indicator_sentence(l));
    }
    let alternatives_of = |named: Option<&str>, confidence: Confidence| -> Vec<Alternative> {
        linked
            .iter()
            .filter(|l| Some(l.actor.id.as_str()) != named)
            .take(MAX_ALTERNATIVES)
            .map(|l| Alternative {
                id: l.actor.id.clone(),
                name: l.actor.name.clone(),
                confidence,
            })
            .collect()
    };
    if linked.len() == 1 {
        behaviour_evidence_for(catalogue, &first.actor.id, fits, evidence);
        let (words, confidence) = if first.feeds.len() >= 2 {
            (ALMOST_CERTAINLY, Confidence::High)
        } else {
            (VERY_LIKELY, Confidence::High)
        };
        return Attribution {
            actor: Some(first.actor.clone()),
            confidence,
            words,
            evidence: Vec::new(),
            conflict: false,
            alternatives: Vec::new(),
        };
    }
    let mut names: Vec<String> = linked
        .iter()
        .take(MAX_ALTERNATIVES)
        .map(|l| label(&l.actor))
        .collect();
    if linked.len() > MAX_ALTERNATIVES {
        names.push(format!("{} other actors", linked.len() - MAX_ALTERNATIVES));
    }
    let second = &linked[1];
    if first.feeds.len() > second.feeds.len() {
        evidence.insert(
            0,
            format!(
                "Conflicting intelligence: indicators link this incident to {}. {} is named because more independent feeds ({} against {}) point to it.",
                names.join(" and "),
                first.actor.name,
                first.feeds.len(),
                second.feeds.len()
            ),
        );
        behaviour_evidence_for(catalogue, &first.actor.id, fits, evidence);
        Attribution {
            actor: Some(first.actor.clone()),
            confidence: Confidence::Moderate,
            words: LIKELY,
            evidence: Vec::new(),
            conflict: true,
            alternatives: alternatives_of(Some(&first.actor.id), Confidence::Low),
        }
    } else {
        evidence.insert(
            0,
            format!(
                "Conflicting intelligence: indicators link this incident to {} with equal support; no single actor is named.",
                names.join(" and ")
            ),
        );
        Attribution {
            actor: None,
            confidence: Confidence::Low,
            words: ROUGHLY_EVEN_CHANCE,
            evidence: Vec::new(),
            conflict: true,
            alternatives: alternatives_of(None, Confidence::Low),
        }
    }
}

fn indicator_sentence(l: &Linked) -> String {
    let indicators: Vec<&str> = l.indicators.iter().take(4).map(String::as_str).collect();
    let more = l.indicators.len().saturating_sub(indicators.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let feeds: Vec<&str> = l.feeds.iter().take(4).map(String::as_str).collect();
    let more_feeds = match l.feeds.len().saturating_sub(feeds.len()) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!(
        "Indicator{} {}{more} from feed{} {}{more_feeds} link{} this incident to {}.",
        if l.indicators.len() == 1 { "" } else { "s" },
        indicators.join(", "),
        if l.feeds.len() == 1 { "" } else { "s" },
        feeds.join(", "),
        if l.indicators.len() == 1 { "s" } else { "" },
        label(&l.actor),
    )
}

/// "Forest Blizzard (apt28)"; the bare id of an actor the catalogue does not know.
fn label(actor: &ActorRef) -> String {
    if actor.name == actor.id {
        actor.id.clone()
    } else {
        format!("{} ({})", actor.name, actor.id)
    }
}

fn behaviour_evidence_for(
    catalogue: &Catalogue,
    id: &str,
    fits: &[Fit],
    evidence: &mut Vec<String>,
) {
    if let Some(fit) = fits
        .iter()
        .find(|f| catalogue.actors().get(f.index).is_some_and(|a| a.id == id))
    {
        evidence.extend(fit.evidence.iter().cloned());
    }
}

fn from_behaviour(
    catalogue: &Catalogue,
    clues: &Clues<'_>,
    fits: &[Fit],
    evidence: &mut Vec<String>,
) -> Attribution {
    let alternative = |fit: &Fit| -> Option<Alternative> {
        catalogue.actors().get(fit.index).map(|a| Alternative {
            id: a.id.clone(),
            name: a.name.clone(),
            confidence: Confidence::Low,
        })
    };
    let leader = fits.first();
    let clear = match (fits.first(), fits.get(1)) {
        (Some(a), Some(b)) => a.score > b.score,
        (Some(_), None) => true,
        _ => false,
    };
    match leader {
        Some(fit) if fit.kinds >= 2 && clear => {
            let Some(actor) = catalogue.actors().get(fit.index) else {
                return unattributed(Vec::new());
            };
            evidence.push(format!(
                "No indicator linked to an actor matched; the behaviour below fits {} ({}) best, and behaviour is shared and imitated, so this is never more than {} confidence.",
                actor.name,
                actor.id,
                if fit.sector { "moderate" } else { "low" }
            ));
            evidence.extend(fit.evidence.iter().cloned());
            Attribution {
                actor: Some(ActorRef {
                    id: actor.id.clone(),
                    name: actor.name.clone(),
                    aliases: actor.aliases.clone(),
                }),
                confidence: if fit.sector {
                    Confidence::Moderate
                } else {
                    Confidence::Low
                },
                words: ROUGHLY_EVEN_CHANCE,
                evidence: Vec::new(),
                conflict: false,
                alternatives: fits
                    .iter()
                    .skip(1)
                    .take(MAX_ALTERNATIVES)
                    .filter_map(alternative)
                    .collect(),
            }
        }
        Some(fit) => {
            let names: Vec<String> = fits
                .iter()
                .take(MAX_ALTERNATIVES)
                .filter_map(|f| catalogue.actors().get(f.index))
                .map(|a| a.name.clone())
                .collect();
            evidence.push(if fit.kinds < 2 {
                format!(
                    "No indicator linked to an actor matched, and only one kind of behaviour fits a known actor ({}): too common to name anyone.",
                    names.join(", ")
                )
            } else {
                format!(
                    "No indicator linked to an actor matched, and the behaviour fits {} equally well: not enough to tell them apart.",
                    names.join(" and ")
                )
            });
            evidence.extend(fit.evidence.iter().cloned());
            unattributed(
                fits.iter()
                    .take(MAX_ALTERNATIVES)
                    .filter_map(alternative)
                    .collect(),
            )
        }
        None => {
            let nothing = clues.matches.is_empty()
                && clues.techniques.is_empty()
                && clues.lures.is_empty()
                && clues.infrastructure.is_empty();
            evidence.push(if nothing {
                "No indicator matched, and the incident shows no technique, lure or infrastructure to compare with the actor catalogue.".to_owned()
            } else {
                format!(
                    "No indicator linked to an actor matched, and no catalogued actor is known for {}.",
                    described(clues)
                )
            });
            unattributed(Vec::new())
        }
    }
}

fn described(clues: &Clues<'_>) -> String {
    let mut parts = Vec::new();
    if !clues.techniques.is_empty() {
        parts.push(format!("technique {}", list(clues.techniques)));
    }
    if !clues.lures.is_empty() {
        parts.push(format!("lure {}", list(clues.lures)));
    }
    if !clues.infrastructure.is_empty() {
        parts.push(format!("infrastructure {}", list(clues.infrastructure)));
    }
    if parts.is_empty() {
        "what this incident shows".to_owned()
    } else {
        parts.join(", ")
    }
}

fn list(values: &[String]) -> String {
    values
        .iter()
        .take(8)
        .map(|v| v.chars().take(64).collect::<String>())
        .collect::<Vec<_>>()
        .join(", ")
}

fn unattributed(alternatives: Vec<Alternative>) -> Attribution {
    Attribution {
        actor: None,
        confidence: Confidence::Low,
        words: UNATTRIBUTED,
        evidence: Vec::new(),
        conflict: false,
        alternatives,
    }
}

/// Scores every catalogue actor against the behaviour: 2 points per kind of behaviour
/// (technique, lure, infrastructure) that fits, 1 when the sector is one it targets. Only
/// actors fitting at least one kind of behaviour are returned, best first.
fn behaviour_fits(catalogue: &Catalogue, clues: &Clues<'_>) -> Vec<Fit> {
    let techniques: Vec<String> = clues
        .techniques
        .iter()
        .take(64)
        .map(|t| t.trim().to_ascii_uppercase())
        .collect();
    let lures: Vec<String> = clues.lures.iter().take(16).map(|l| lure_key(l)).collect();
    let labels: Vec<&String> = clues.infrastructure.iter().take(16).collect();
    let mut fits = Vec::new();
    for (index, actor) in catalogue.actors().iter().enumerate() {
        let mut evidence = Vec::new();
        let mut kinds = 0;
        let exact = techniques
            .iter()
            .find_map(|t| actor.techniques.iter().find(|k| *k == t).map(|k| (t, k)));
        let fitting = exact.or_else(|| {
            techniques.iter().find_map(|t| {
                actor
                    .techniques
                    .iter()
                    .find(|k| same_technique(t, k))
                    .map(|k| (t, k))
            })
        });
        if let Some((seen, known)) = fitting {
            kinds += 1;
            evidence.push(if seen == known {
                format!("Technique {seen} is one {} is reported to use.", actor.name)
            } else {
                format!(
                    "Technique {seen} fits {}, reported to use {known}.",
                    actor.name
                )
            });
        }
        if let Some(lure) = lures
            .iter()
            .find(|l| actor.lures.iter().any(|k| lure_key(k) == **l))
        {
            kinds += 1;
            evidence.push(format!(
                "The mail uses a {} lure, a theme {} is known for.",
                lure.replace('_', " "),
                actor.name
            ));
        }
        if let Some((label, habit)) = labels.iter().find_map(|label| {
            actor
                .infrastructure
                .iter()
                .find(|habit| infrastructure_fits(label, habit))
                .map(|habit| (label, habit))
        }) {
            kinds += 1;
            evidence.push(format!(
                "Source addresses are on a {label} list; {} is reported to use: {habit}.",
                actor.name
            ));
        }
        if kinds == 0 {
            continue;
        }
        let sector = clues
            .sector
            .is_some_and(|s| actor.targets.iter().any(|t| t == s.as_str()));
        if let (true, Some(s)) = (sector, clues.sector) {
            evidence.push(format!(
                "{} is reported to target the {} sector, the targeted organisation's.",
                actor.name,
                s.as_str().replace('_', " ")
            ));
        }
        fits.push(Fit {
            index,
            kinds,
            sector,
            score: 2 * kinds as u32 + u32::from(sector),
            evidence,
        });
    }
    // Best first; the catalogue's order (built-in first) on a tie.
    fits.sort_by(|a, b| b.score.cmp(&a.score).then(a.index.cmp(&b.index)));
    fits
}

/// `T1566` fits `T1566.002` both ways: a parent technique in the incident or the
/// catalogue covers its sub-techniques.
fn same_technique(seen: &str, known: &str) -> bool {
    let parent = |t: &str| t.split('.').next().unwrap_or(t).to_owned();
    let known = known.to_ascii_uppercase();
    seen == known
        || ((!seen.contains('.') || !known.contains('.')) && parent(seen) == parent(&known))
}

fn lure_key(lure: &str) -> String {
    let lure = lure.trim().to_ascii_lowercase();
    lure.strip_prefix("lure_").unwrap_or(&lure).to_owned()
}

/// Words of an intel list's label and the words of an infrastructure habit that mean the
/// same kind of infrastructure.
const INFRASTRUCTURE_WORDS: &[(&[&str], &[&str])] = &[
    (&["tor"], &["tor"]),
    (&["vpn", "vpns"], &["vpn", "vpns"]),
    (&["proxy", "proxies", "residential"], &["proxy", "proxies"]),
    (&["vps", "hosting"], &["vps", "hosting"]),
];

fn infrastructure_fits(label: &str, habit: &str) -> bool {
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let label_words = words(label);
    let habit_words = words(habit);
    INFRASTRUCTURE_WORDS.iter().any(|(in_label, in_habit)| {
        label_words.iter().any(|w| in_label.contains(&w.as_str()))
            && habit_words.iter().any(|w| in_habit.contains(&w.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_fit_their_parents_but_not_their_siblings() {
        assert!(same_technique("T1566", "T1566.001"));
        assert!(same_technique("T1566.002", "T1566"));
        assert!(same_technique("T1110.003", "T1110.003"));
        assert!(!same_technique("T1110.003", "T1110.001"));
        assert!(!same_technique("T1078", "T1566"));
    }

    #[test]
    fn infrastructure_labels_fit_habits_by_kind() {
        let habit = "Tor and anonymising VPN egress for password spray";
        assert!(infrastructure_fits("tor-exit", habit));
        assert!(infrastructure_fits("anonymising-vpn", habit));
        assert!(!infrastructure_fits("residential-proxy", habit));
        assert!(!infrastructure_fits("torrent", habit));
    }

    #[test]
    fn words_round_trip_and_unknown_words_are_refused() {
        let attribution = unattributed(Vec::new());
        let json = serde_json::to_string(&attribution).expect("present");
        let back: Attribution = serde_json::from_str(&json).expect("present");
        assert_eq!(back, attribution);
        let bad = json.replace("\"unattributed\"", "\"probably\"");
        assert!(serde_json::from_str::<Attribution>(&bad).is_err());
    }
}
