//! The indicator index: every live, evaluable indicator compiled into structures that
//! answer for one event's [`Observed`] values in well under a microsecond each, and the
//! warning lists that keep benign values from alerting.
//!
//! Lookups: addresses by one hash map per prefix length present (a handful in practice);
//! exact values (hosts with the walk up to the registrable domain, URLs, mail addresses,
//! hashes, names, subjects, accounts) by hashed sets; LIKE patterns by Aho–Corasick over
//! their longest literal run, then verification; MATCHES by regex sets per field. A
//! single-observation pattern of positive equalities joined by OR is matched by the hit
//! itself; any other pattern is only a candidate when one of its positive comparisons
//! hits, and is then evaluated whole on the event ([`crate::pattern::Evaluable`]).
//!
//! One event's work is bounded whatever the feeds hold: at most [`MAX_MATCHES`]
//! matches, [`MAX_CANDIDATES`] candidate patterns and [`MAX_COMPARISONS_PER_EVENT`]
//! comparisons; past a bound the scan says it was truncated.
//!
//! Validity is checked at match time (`valid_from`, `valid_until`), so indicators expire
//! without a rebuild; ones already expired at build time are left out.
//!
//! Warning lists never alert on their own: a match whose observed value is benign is
//! dropped and counted ([`Scan::suppressed`]). `cidr` lists apply to addresses, `hostname`
//! lists to host names and every name under them, `string` lists (without case),
//! `substring` (without ASCII case) and `regex` lists to any field's value. A URL or mail
//! address indicator is more specific than its host, so a hostname list does not
//! silence it: phishing on shared hosting still alerts.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use ipnet::IpNet;
use jiff::Timestamp;
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::pattern::eval::{Atom, REGEX_SIZE_LIMIT, Test, network};
use crate::pattern::{Evaluable, Field, Witness, compile, parse};
use crate::{BenignKind, BenignList, Indicator, Match, Observed, Problem};

/// At most this many matches are reported for one event; the rest are counted.
pub const MAX_MATCHES: usize = 64;
/// At most this many complex patterns are evaluated whole for one event.
pub const MAX_CANDIDATES: usize = 4096;
/// Indicators one index holds; posting lists use the top bit of a `u32`.
pub const MAX_INDICATORS: usize = 1 << 30;
/// Comparisons evaluated for one event's candidate patterns, all together.
pub const MAX_COMPARISONS_PER_EVENT: usize = 1_000_000;
/// MATCHES expressions per compiled regex set.
const REGEX_SET_CHUNK: usize = 32;

type Fast = foldhash::fast::RandomState;

/// Map from a key to the indicators registered under it. One indicator (the common case)
/// is stored inline; more spill into a side table, flagged by the top bit.
#[derive(Debug)]
struct Postings<K> {
    map: HashMap<K, u32, Fast>,
    lists: Vec<Vec<u32>>,
}

const SPILLED: u32 = 1 << 31;

impl<K: Hash + Eq> Postings<K> {
    fn new() -> Self {
        Postings {
            map: HashMap::with_hasher(Fast::default()),
            lists: Vec::new(),
        }
    }

    fn insert(&mut self, key: K, id: u32) {
        match self.map.get_mut(&key) {
            None => {
                self.map.insert(key, id);
            }
            Some(slot) if *slot & SPILLED == 0 => {
                if *slot != id {
                    self.lists.push(vec![*slot, id]);
                    *slot = SPILLED | (self.lists.len() - 1) as u32;
                }
            }
            Some(slot) => {
                if let Some(list) = self.lists.get_mut((*slot & !SPILLED) as usize)
                    && list.last() != Some(&id)
                {
                    list.push(id);
                }
            }
        }
    }

    fn get<Q>(&self, key: &Q) -> &[u32]
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.map.get(key) {
            None => &[],
            Some(slot) if *slot & SPILLED == 0 => std::slice::from_ref(slot),
            Some(slot) => self
                .lists
                .get((*slot & !SPILLED) as usize)
                .map_or(&[], Vec::as_slice),
        }
    }

    fn memory(&self, key_heap: usize) -> usize {
        self.map.capacity() * (size_of::<K>() + size_of::<u32>() + 1)
            + key_heap
            + self
                .lists
                .iter()
                .map(|l| size_of::<Vec<u32>>() + l.capacity() * 4)
                .sum::<usize>()
    }
}

/// Networks of one family: a posting map per prefix length present, longest first.
#[derive(Debug)]
struct Networks<K> {
    by_length: Vec<(u8, Postings<K>)>,
}

impl<K: Hash + Eq + Copy> Networks<K> {
    fn new() -> Self {
        Networks {
            by_length: Vec::new(),
        }
    }

    fn insert(&mut self, length: u8, key: K, id: u32) {
        let at = match self.by_length.iter().position(|(l, _)| *l == length) {
            Some(at) => at,
            None => {
                self.by_length.push((length, Postings::new()));
                self.by_length
                    .sort_by_key(|(length, _)| std::cmp::Reverse(*length));
                self.by_length
                    .iter()
                    .position(|(l, _)| *l == length)
                    .unwrap_or(0)
            }
        };
        if let Some((_, postings)) = self.by_length.get_mut(at) {
            postings.insert(key, id);
        }
    }
}

fn mask_v4(address: u32, length: u8) -> u32 {
    if length == 0 {
        0
    } else {
        address & (u32::MAX << (32 - u32::from(length.min(32))))
    }
}

fn mask_v6(address: u128, length: u8) -> u128 {
    if length == 0 {
        0
    } else {
        address & (u128::MAX << (128 - u32::from(length.min(128))))
    }
}

/// LIKE patterns of one field: the automaton finds literal runs, each naming indicators.
#[derive(Debug, Default)]
struct Likes {
    fragments: Vec<String>,
    by_fragment: HashMap<String, usize>,
    ids: Vec<Vec<u32>>,
    automaton: Option<AhoCorasick>,
}

#[derive(Debug, Default)]
struct Expressions {
    pending: Vec<(Regex, u32)>,
    sets: Vec<(RegexSet, Vec<u32>)>,
}

#[derive(Debug)]
struct Entry {
    id: Box<str>,
    feed: Arc<str>,
    pattern: Box<str>,
    actors: Box<[String]>,
    /// Shared: a list's million entries carry the same one or two labels.
    labels: Arc<[String]>,
    valid_from: Option<Timestamp>,
    valid_until: Option<Timestamp>,
    /// `None` for a simple pattern: a hit in the index is a match.
    compiled: Option<Box<Evaluable>>,
}

impl Entry {
    fn is_live(&self, now: Timestamp) -> bool {
        self.valid_from.is_none_or(|from| from <= now)
            && self.valid_until.is_none_or(|until| now < until)
    }
}

/// Values the warning lists say are benign.
#[derive(Debug)]
struct Benign {
    v4: Networks<u32>,
    v6: Networks<u128>,
    strings: std::collections::HashSet<String, Fast>,
    hostnames: std::collections::HashSet<String, Fast>,
    substrings: Option<AhoCorasick>,
    expressions: Vec<RegexSet>,
}

/// The compiled indicators and warning lists.
#[derive(Debug)]
pub struct Index {
    entries: Vec<Entry>,
    exact: Vec<Postings<Box<str>>>,
    v4: Networks<u32>,
    v6: Networks<u128>,
    likes: Vec<Likes>,
    expressions: Vec<Expressions>,
    benign: Benign,
    memory: usize,
}

/// What one event matched, with what the warning lists held back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Deduplicated: at most one per indicator, at most [`MAX_MATCHES`].
    pub matches: Vec<Match>,
    /// Matches whose observed value a warning list says is benign.
    pub suppressed: usize,
    /// Whether matches or candidates beyond the bounds were dropped.
    pub truncated: bool,
}

fn field_slot(field: Field) -> usize {
    Field::ALL.iter().position(|f| *f == field).unwrap_or(0)
}

impl Index {
    /// Compiles the indicators live at `now` or later; refused and invalid patterns come
    /// back as problems naming the indicator and the reason.
    pub fn build(
        indicators: impl IntoIterator<Item = Indicator>,
        benign: &[BenignList],
        now: Timestamp,
    ) -> (Index, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut index = Index {
            entries: Vec::new(),
            exact: Field::ALL.iter().map(|_| Postings::new()).collect(),
            v4: Networks::new(),
            v6: Networks::new(),
            likes: Field::ALL.iter().map(|_| Likes::default()).collect(),
            expressions: Field::ALL.iter().map(|_| Expressions::default()).collect(),
            benign: Benign::build(benign, &mut problems),
            memory: 0,
        };
        let mut feeds: HashMap<String, Arc<str>> = HashMap::new();
        let mut label_sets: HashMap<Vec<String>, Arc<[String]>> = HashMap::new();
        for indicator in indicators {
            if indicator.valid_until.is_some_and(|until| until <= now) {
                continue;
            }
            let problem = |reason: String| Problem {
                source: indicator.feed.clone(),
                object: Some(indicator.id.clone()),
                reason,
            };
            if index.entries.len() >= MAX_INDICATORS {
                problems.push(problem(format!(
                    "the index holds at most {MAX_INDICATORS} indicators"
                )));
                break;
            }
            let compiled = match parse(&indicator.pattern) {
                Err(e) => {
                    problems.push(problem(e.to_string()));
                    continue;
                }
                Ok(parsed) => match compile(&parsed) {
                    Err(refusal) => {
                        problems.push(problem(format!("pattern not evaluated: {refusal}")));
                        continue;
                    }
                    Ok(compiled) => compiled,
                },
            };
            let id = index.entries.len() as u32;
            for atom in compiled.atoms().iter().filter(|a| !a.negated) {
                index.register(atom, id);
            }
            let feed = feeds
                .entry(indicator.feed)
                .or_insert_with_key(|name| Arc::from(name.as_str()))
                .clone();
            let labels = label_sets
                .entry(indicator.labels)
                .or_insert_with_key(|labels| Arc::from(labels.as_slice()))
                .clone();
            index.entries.push(Entry {
                labels,
                id: indicator.id.into_boxed_str(),
                feed,
                pattern: indicator.pattern.into_boxed_str(),
                actors: indicator.actors.into_boxed_slice(),
                valid_from: indicator.valid_from,
                valid_until: indicator.valid_until,
                compiled: (!compiled.is_simple()).then(|| Box::new(compiled)),
            });
        }
        index.finish(&mut problems);
        (index, problems)
    }

    fn register(&mut self, atom: &Atom, id: u32) {
        let slot = field_slot(atom.field);
        match &atom.test {
            Test::Networks(networks) => {
                for net in networks {
                    match net {
                        IpNet::V4(v4) => self.v4.insert(
                            v4.prefix_len(),
                            mask_v4(u32::from(v4.network()), v4.prefix_len()),
                            id,
                        ),
                        IpNet::V6(v6) => self.v6.insert(
                            v6.prefix_len(),
                            mask_v6(u128::from(v6.network()), v6.prefix_len()),
                            id,
                        ),
                    }
                }
            }
            Test::Values(values) => {
                if let Some(postings) = self.exact.get_mut(slot) {
                    for value in values {
                        postings.insert(value.as_str().into(), id);
                    }
                }
            }
            Test::Like(like) => {
                if let Some(likes) = self.likes.get_mut(slot) {
                    let next = likes.fragments.len();
                    let at = *likes
                        .by_fragment
                        .entry(like.fragment.clone())
                        .or_insert(next);
                    if at == next {
                        likes.fragments.push(like.fragment.clone());
                        likes.ids.push(Vec::new());
                    }
                    if let Some(ids) = likes.ids.get_mut(at)
                        && ids.last() != Some(&id)
                    {
                        ids.push(id);
                    }
                }
            }
            Test::Matches(regex) => {
                if let Some(expressions) = self.expressions.get_mut(slot) {
                    expressions.pending.push((regex.clone(), id));
                }
            }
        }
    }

    fn finish(&mut self, problems: &mut Vec<Problem>) {
        for (field, likes) in Field::ALL.iter().zip(&mut self.likes) {
            likes.by_fragment = HashMap::new();
            if likes.fragments.is_empty() {
                continue;
            }
            match AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&likes.fragments)
            {
                Ok(automaton) => likes.automaton = Some(automaton),
                Err(e) => problems.push(Problem {
                    source: "index".into(),
                    object: None,
                    reason: format!(
                        "LIKE patterns on {} could not be indexed: {e}",
                        field.path()
                    ),
                }),
            }
        }
        for (field, expressions) in Field::ALL.iter().zip(&mut self.expressions) {
            let pending = std::mem::take(&mut expressions.pending);
            for chunk in pending.chunks(REGEX_SET_CHUNK) {
                let set = RegexSetBuilder::new(chunk.iter().map(|(r, _)| r.as_str()))
                    .case_insensitive(field.case_insensitive())
                    .size_limit(REGEX_SIZE_LIMIT * 4)
                    .dfa_size_limit(REGEX_SIZE_LIMIT * 4)
                    .build();
                match set {
                    Ok(set) => expressions
                        .sets
                        .push((set, chunk.iter().map(|(_, id)| *id).collect())),
                    // Too large together: one set per expression, each already compiled
                    // alone under the same limit.
                    Err(_) => {
                        for (regex, id) in chunk {
                            match RegexSetBuilder::new([regex.as_str()])
                                .case_insensitive(field.case_insensitive())
                                .size_limit(REGEX_SIZE_LIMIT)
                                .dfa_size_limit(REGEX_SIZE_LIMIT)
                                .build()
                            {
                                Ok(set) => expressions.sets.push((set, vec![*id])),
                                Err(e) => {
                                    let entry = self.entries.get(*id as usize);
                                    problems.push(Problem {
                                        source: entry.map_or_else(String::new, |e| e.feed.to_string()),
                                        object: entry.map(|e| e.id.to_string()),
                                        reason: format!(
                                            "MATCHES on {} could not be indexed, so it will not match: {e}",
                                            field.path()
                                        ),
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        self.memory = self.estimate();
    }

    fn estimate(&self) -> usize {
        let entries: usize = self
            .entries
            .iter()
            .map(|e| {
                size_of::<Entry>()
                    + e.id.len()
                    + e.pattern.len()
                    + e.actors
                        .iter()
                        .map(|a| size_of::<String>() + a.len())
                        .sum::<usize>()
                    + e.compiled
                        .as_ref()
                        .map_or(0, |c| 256 + 64 * c.atoms().len())
            })
            .sum();
        let exact: usize = self
            .exact
            .iter()
            .map(|p| p.memory(p.map.keys().map(|k| k.len()).sum()))
            .sum();
        let v4: usize = self.v4.by_length.iter().map(|(_, p)| p.memory(0)).sum();
        let v6: usize = self.v6.by_length.iter().map(|(_, p)| p.memory(0)).sum();
        let likes: usize = self
            .likes
            .iter()
            .map(|l| {
                l.automaton.as_ref().map_or(0, AhoCorasick::memory_usage)
                    + l.fragments.iter().map(|f| f.len() + 24).sum::<usize>()
                    + l.ids.iter().map(|i| 24 + 4 * i.capacity()).sum::<usize>()
            })
            .sum();
        entries + exact + v4 + v6 + likes
    }

    /// Indicators held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Approximate heap bytes of the index, computed once at build.
    pub fn memory_estimate(&self) -> usize {
        self.memory
    }

    /// Whether a warning list says `value` (as observed in `field`) is benign.
    pub fn is_benign(&self, field: Field, value: &str) -> bool {
        self.benign.contains(field, value)
    }

    /// The indicators live at `now` that the event matches, without benign values.
    pub fn matches(&self, seen: &Observed, now: Timestamp) -> Vec<Match> {
        self.scan(seen, now).matches
    }

    /// [`Index::matches`] with the counts of what was held back.
    pub fn scan(&self, seen: &Observed, now: Timestamp) -> Scan {
        let mut run = Run {
            index: self,
            now,
            scan: Scan::default(),
            done: Vec::new(),
            candidates: Vec::new(),
            budget: std::cell::Cell::new(MAX_COMPARISONS_PER_EVENT),
        };
        for ip in seen.ips.iter().map(|ip| ip.to_canonical()) {
            match ip {
                IpAddr::V4(v4) => {
                    let address = u32::from(v4);
                    for (length, postings) in &self.v4.by_length {
                        for &id in postings.get(&mask_v4(address, *length)) {
                            run.hit(id, Field::Ipv4, || ip.to_string());
                        }
                    }
                }
                IpAddr::V6(v6) => {
                    let address = u128::from(v6);
                    for (length, postings) in &self.v6.by_length {
                        for &id in postings.get(&mask_v6(address, *length)) {
                            run.hit(id, Field::Ipv6, || ip.to_string());
                        }
                    }
                }
            }
        }
        if let Some(domains) = self.exact.get(field_slot(Field::Domain))
            && !domains.map.is_empty()
        {
            for (name, host) in seen.domain_candidates() {
                for &id in domains.get(name) {
                    run.hit(id, Field::Domain, || host.to_string());
                }
            }
        }
        for (&field, postings) in Field::ALL.iter().zip(&self.exact) {
            if field.is_address() || field == Field::Domain || postings.map.is_empty() {
                continue;
            }
            for value in field.values(seen) {
                for &id in postings.get(value.as_ref()) {
                    run.hit(id, field, || value.to_string());
                }
            }
        }
        for ((&field, likes), expressions) in
            Field::ALL.iter().zip(&self.likes).zip(&self.expressions)
        {
            if likes.automaton.is_none() && expressions.sets.is_empty() {
                continue;
            }
            for value in field.values(seen) {
                if let Some(automaton) = &likes.automaton {
                    for found in automaton.find_overlapping_iter(value.as_ref()) {
                        for &id in likes
                            .ids
                            .get(found.pattern().as_usize())
                            .map_or(&[][..], Vec::as_slice)
                        {
                            run.candidate(id);
                        }
                    }
                }
                for (set, ids) in &expressions.sets {
                    for i in set.matches(value.as_ref()).iter() {
                        if let Some(&id) = ids.get(i) {
                            run.candidate(id);
                        }
                    }
                }
            }
        }
        run.evaluate_candidates(seen);
        run.scan
    }
}

struct Run<'a> {
    index: &'a Index,
    now: Timestamp,
    scan: Scan,
    /// Indicators already reported or suppressed for this event, sorted.
    done: Vec<u32>,
    candidates: Vec<u32>,
    /// Comparisons left for whole-pattern evaluation.
    budget: std::cell::Cell<usize>,
}

impl Run<'_> {
    fn hit(&mut self, id: u32, field: Field, observed: impl FnOnce() -> String) {
        // One value shared by very many indicators must not make the event's work
        // unbounded: past the limits, the rest is only counted as truncated.
        if self.scan.matches.len() >= MAX_MATCHES || self.done.len() >= MAX_CANDIDATES {
            self.scan.truncated = true;
            return;
        }
        let Some(entry) = self.index.entries.get(id as usize) else {
            return;
        };
        if entry.compiled.is_some() {
            self.candidate(id);
            return;
        }
        if !entry.is_live(self.now) {
            return;
        }
        self.report(
            id,
            Witness {
                field,
                observed: observed(),
            },
        );
    }

    fn candidate(&mut self, id: u32) {
        if self.candidates.len() >= MAX_CANDIDATES {
            self.scan.truncated = true;
            return;
        }
        self.candidates.push(id);
    }

    fn report(&mut self, id: u32, witness: Witness) {
        let Err(at) = self.done.binary_search(&id) else {
            return;
        };
        self.done.insert(at, id);
        if self.index.benign.contains(witness.field, &witness.observed) {
            self.scan.suppressed += 1;
            return;
        }
        if self.scan.matches.len() >= MAX_MATCHES {
            self.scan.truncated = true;
            return;
        }
        let Some(entry) = self.index.entries.get(id as usize) else {
            return;
        };
        // The same indicator loaded twice (a feed listed twice) is one match.
        if self
            .scan
            .matches
            .iter()
            .any(|m| *m.indicator == *entry.id && *m.feed == *entry.feed)
        {
            return;
        }
        self.scan.matches.push(Match {
            indicator: entry.id.to_string(),
            feed: entry.feed.to_string(),
            field: witness.field.path().to_string(),
            observed: witness.observed,
            pattern: entry.pattern.to_string(),
            actors: entry.actors.to_vec(),
            labels: entry.labels.to_vec(),
        });
    }

    fn evaluate_candidates(&mut self, seen: &Observed) {
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.sort_unstable();
        candidates.dedup();
        for id in candidates {
            if self.done.binary_search(&id).is_ok() {
                continue;
            }
            let Some(entry) = self.index.entries.get(id as usize) else {
                continue;
            };
            if !entry.is_live(self.now) {
                continue;
            }
            if let Some(compiled) = &entry.compiled
                && let Some(witness) = compiled.evaluate_within(seen, &self.budget)
            {
                self.report(id, witness);
            }
            if self.budget.get() == 0 {
                self.scan.truncated = true;
                return;
            }
        }
    }
}

impl Benign {
    fn build(lists: &[BenignList], problems: &mut Vec<Problem>) -> Benign {
        let mut benign = Benign {
            v4: Networks::new(),
            v6: Networks::new(),
            strings: Default::default(),
            hostnames: Default::default(),
            substrings: None,
            expressions: Vec::new(),
        };
        let mut substrings = Vec::new();
        let mut expressions = Vec::new();
        for list in lists {
            let problem = |value: &str, reason: &str| Problem {
                source: list.name.clone(),
                object: None,
                reason: format!("warning-list value '{value}' skipped: {reason}"),
            };
            for value in &list.values {
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                match list.kind {
                    BenignKind::Cidr => {
                        let field = if value.contains(':') {
                            Field::Ipv6
                        } else {
                            Field::Ipv4
                        };
                        // A /0 in a warning list would silence every address: refused
                        // like in patterns.
                        match network(field, value) {
                            Ok(IpNet::V4(v4)) => benign.v4.insert(
                                v4.prefix_len(),
                                mask_v4(u32::from(v4.network()), v4.prefix_len()),
                                0,
                            ),
                            Ok(IpNet::V6(v6)) => benign.v6.insert(
                                v6.prefix_len(),
                                mask_v6(u128::from(v6.network()), v6.prefix_len()),
                                0,
                            ),
                            Err(refusal) => problems.push(problem(value, &refusal.reason)),
                        }
                    }
                    BenignKind::String => {
                        benign.strings.insert(value.to_lowercase());
                    }
                    BenignKind::Hostname => match crate::normal::domain(value) {
                        Some(host) => {
                            benign.hostnames.insert(host);
                        }
                        None => problems.push(problem(value, "not a host name")),
                    },
                    BenignKind::Substring => substrings.push(value.to_lowercase()),
                    BenignKind::Regex => {
                        match RegexBuilder::new(value)
                            .size_limit(REGEX_SIZE_LIMIT)
                            .dfa_size_limit(REGEX_SIZE_LIMIT)
                            .build()
                        {
                            Ok(_) => expressions.push(value.to_string()),
                            Err(e) => problems.push(problem(
                                value,
                                e.to_string()
                                    .lines()
                                    .last()
                                    .unwrap_or("not a regular expression"),
                            )),
                        }
                    }
                }
            }
        }
        if !substrings.is_empty() {
            match AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&substrings)
            {
                Ok(automaton) => benign.substrings = Some(automaton),
                Err(e) => problems.push(Problem {
                    source: "warning lists".into(),
                    object: None,
                    reason: format!("substring values could not be indexed: {e}"),
                }),
            }
        }
        for chunk in expressions.chunks(REGEX_SET_CHUNK) {
            if let Ok(set) = RegexSetBuilder::new(chunk)
                .size_limit(REGEX_SIZE_LIMIT * 4)
                .dfa_size_limit(REGEX_SIZE_LIMIT * 4)
                .build()
            {
                benign.expressions.push(set);
            } else {
                for one in chunk {
                    if let Ok(set) = RegexSetBuilder::new([one])
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                    {
                        benign.expressions.push(set);
                    }
                }
            }
        }
        benign
    }

    fn contains(&self, field: Field, value: &str) -> bool {
        if field.is_address()
            && let Ok(ip) = value.parse::<IpAddr>()
        {
            let inside = match ip.to_canonical() {
                IpAddr::V4(v4) => self
                    .v4
                    .by_length
                    .iter()
                    .any(|(length, p)| !p.get(&mask_v4(u32::from(v4), *length)).is_empty()),
                IpAddr::V6(v6) => self
                    .v6
                    .by_length
                    .iter()
                    .any(|(length, p)| !p.get(&mask_v6(u128::from(v6), *length)).is_empty()),
            };
            if inside {
                return true;
            }
        }
        if !self.strings.is_empty() && self.strings.contains(&value.to_lowercase()) {
            return true;
        }
        if field == Field::Domain && !self.hostnames.is_empty() {
            // Every name above, up to the top-level label: a list of hostnames covers the
            // names under each.
            let mut name = value;
            loop {
                if self.hostnames.contains(name) {
                    return true;
                }
                match name.split_once('.') {
                    Some((_, rest)) if !rest.is_empty() => name = rest,
                    _ => break,
                }
            }
        }
        if let Some(automaton) = &self.substrings
            && automaton.is_match(value)
        {
            return true;
        }
        self.expressions.iter().any(|set| set.is_match(value))
    }
}

#[cfg(test)]
mod tests;
