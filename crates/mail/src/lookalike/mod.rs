//! Domains made to look like protected ones.
//!
//! A [`LookalikeIndex`] is built once from the protected domains (the built-in
//! identities and an organisation's own) and answers, for any host seen in a message,
//! whether its registrable domain imitates one of them and how: a typo family as
//! dnstwist names them, a swapped or glued-on suffix, the protected name inside a
//! subdomain or next to a lure word, or characters that are drawn alike (UTS #39
//! confusables, punycode homographs).
//!
//! Every misspelling worth recognising is worked out when the index is built, so a
//! check is a handful of hash look-ups and one Aho–Corasick pass, whatever the number
//! of protected domains.
//!
//! Short names are where false positives live: most one-letter edits of `who` or `cdc`
//! are other organisations' real domains (`wmo.int`, `wto.int`). How far a name is
//! fuzzed therefore depends on its length ([`Reach`]): short names only within their own
//! suffix and only by the typing mistakes dnstwist models, long names by any single
//! edit under any suffix.

mod glyph;
mod host;
mod variants;
mod words;

use std::collections::{HashMap, HashSet};
use std::fmt;

use aho_corasick::AhoCorasick;

use crate::identity::BUILTIN;
use host::Host;

/// The lure words the index looks for next to a protected name (`microsoft-login`).
pub use words::WORDS as LURE_WORDS;

/// A domain whose look-alikes are suspicious, and who really owns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectedDomain {
    /// Usually a registrable domain (`who.int`); a public suffix run by one authority
    /// (`gov.uk`) or a subdomain (`ecdc.europa.eu`) also works.
    pub domain: String,
    /// Who the domain belongs to, for the reason text ("World Health Organization").
    pub owner: String,
}

/// How a host imitates a protected domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LookalikeKind {
    Homoglyph,
    Addition,
    Omission,
    Repetition,
    Replacement,
    Transposition,
    Insertion,
    Hyphenation,
    Bitsquatting,
    VowelSwap,
    Plural,
    Subdomain,
    TldSwap,
    Dictionary,
    Various,
    Confusable,
    IdnHomograph,
}

impl LookalikeKind {
    pub const ALL: [LookalikeKind; 17] = [
        Self::Homoglyph,
        Self::Addition,
        Self::Omission,
        Self::Repetition,
        Self::Replacement,
        Self::Transposition,
        Self::Insertion,
        Self::Hyphenation,
        Self::Bitsquatting,
        Self::VowelSwap,
        Self::Plural,
        Self::Subdomain,
        Self::TldSwap,
        Self::Dictionary,
        Self::Various,
        Self::Confusable,
        Self::IdnHomograph,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Homoglyph => "homoglyph",
            Self::Addition => "addition",
            Self::Omission => "omission",
            Self::Repetition => "repetition",
            Self::Replacement => "replacement",
            Self::Transposition => "transposition",
            Self::Insertion => "insertion",
            Self::Hyphenation => "hyphenation",
            Self::Bitsquatting => "bitsquatting",
            Self::VowelSwap => "vowel_swap",
            Self::Plural => "plural",
            Self::Subdomain => "subdomain",
            Self::TldSwap => "tld_swap",
            Self::Dictionary => "dictionary",
            Self::Various => "various",
            Self::Confusable => "confusable",
            Self::IdnHomograph => "idn_homograph",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Homoglyph => "look-alike characters (rn for m, 0 for o, l for i)",
            Self::Addition => "a character added at the end of the name",
            Self::Omission => "a character left out of the name",
            Self::Repetition => "a character of the name typed twice",
            Self::Replacement => "a character replaced, often by a neighbouring key",
            Self::Transposition => "two neighbouring characters swapped",
            Self::Insertion => "a character inserted, often a neighbouring key",
            Self::Hyphenation => "a hyphen inserted into the name",
            Self::Bitsquatting => "one bit flipped in a character",
            Self::VowelSwap => "a vowel replaced by another",
            Self::Plural => "the name made plural",
            Self::Subdomain => "the protected name placed in a subdomain of another domain",
            Self::TldSwap => "the protected name under another suffix",
            Self::Dictionary => "the protected name with words added (as in microsoft-login)",
            Self::Various => "the protected name glued to its own suffix",
            Self::Confusable => "Unicode characters confusable with the name (UTS #39 skeleton)",
            Self::IdnHomograph => {
                "an internationalised (punycode) name drawn like the protected one"
            }
        }
    }
}

impl fmt::Display for LookalikeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A host found imitating a protected domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookalike {
    /// The host checked, lower-case, punycode form.
    pub host: String,
    /// The host as a reader sees it (`xn--` labels decoded).
    pub unicode: String,
    /// Its registrable domain by the Public Suffix List.
    pub registrable: String,
    /// The protected domain imitated.
    pub protected: String,
    pub owner: String,
    pub kind: LookalikeKind,
}

impl fmt::Display for Lookalike {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.host)?;
        if self.unicode != self.host {
            write!(f, " (shown as {})", self.unicode)?;
        }
        write!(
            f,
            " imitates {} ({}): {}",
            self.protected,
            self.owner,
            self.kind.description()
        )
    }
}

/// Sizes of an index, to keep an eye on memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexStats {
    pub protected: usize,
    /// Distinct misspelt labels held.
    pub misspellings: usize,
    /// Distinct folded looks held.
    pub looks: usize,
    /// Rough heap size of the tables, in bytes.
    pub approx_bytes: usize,
}

/// How far a protected name is fuzzed, by its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    /// One or two letters (`go.kr`, `gc.ca`): only the whole domain reused elsewhere.
    Tiny,
    /// Three or four letters (`who`, `live`): dnstwist's typing mistakes, same suffix.
    Short,
    /// Five or six (`google`, `indeed`): also look-alike characters under any suffix.
    Medium,
    /// Seven and more (`linkedin`): any single edit or containment, any suffix.
    Long,
}

impl Reach {
    fn of(label: &str) -> Reach {
        match label.chars().count() {
            0..=2 => Reach::Tiny,
            3..=4 => Reach::Short,
            5..=6 => Reach::Medium,
            _ => Reach::Long,
        }
    }
}

/// Brands that own their name under country codes and send from there (Hotmail, Live
/// and Outlook mailboxes are national: `hotmail.fr`, `live.ca`; Google's sites are
/// `google.<cc>`): a swap to a country-code suffix is the brand itself.
const NATIONAL_BRANDS: &[&str] = &[
    "google",
    "gmail",
    "googlemail",
    "hotmail",
    "live",
    "outlook",
    "msn",
];

/// Widely used domains one slip away from a protected name that belong to someone else:
/// they would otherwise be flagged on every message from their users.
const KNOWN_NEIGHBOURS: &[&str] = &[
    "mail.com",  // mail.com free mailboxes (gmail.com minus g)
    "email.com", // ditto (gmail.com, one bit off)
    "ymail.com", // Yahoo Mail (gmail.com, neighbouring key)
    "qmail.com", // Tencent's mail (gmail.com, g drawn like q)
    "qmail.org", // the qmail mail server's site
    "neh.gov",   // National Endowment for the Humanities (nih.gov, vowel swap)
];

struct Protected {
    domain: String,
    owner: String,
    label: String,
    suffix: String,
    /// `suffix` without dots (`europaeu`) and with hyphens (`europa-eu`).
    flat_suffix: String,
    hyphen_suffix: String,
    reach: Reach,
    /// The domain is itself a public suffix (`gov.uk`): its name is a generic word
    /// other countries use too, so other suffixes prove nothing.
    is_public_suffix: bool,
}

impl Protected {
    fn new(domain: ProtectedDomain) -> Option<Protected> {
        let name = domain.domain.trim().trim_end_matches('.').to_lowercase();
        let ascii = idna::domain_to_ascii(&name).ok()?;
        let (label, rest) = ascii.split_once('.')?;
        if label.is_empty() || rest.is_empty() {
            return None;
        }
        let is_public_suffix =
            psl::suffix(ascii.as_bytes()).is_some_and(|s| s.as_bytes() == ascii.as_bytes());
        Some(Protected {
            label: label.to_owned(),
            suffix: rest.to_owned(),
            flat_suffix: rest.replace('.', ""),
            hyphen_suffix: rest.replace('.', "-"),
            reach: Reach::of(label),
            is_public_suffix,
            owner: domain.owner,
            domain: ascii,
        })
    }

    /// Whether this name under `suffix` (not its own) claims to be it.
    fn swappable_to(&self, suffix: &str) -> bool {
        if self.is_public_suffix || self.reach == Reach::Tiny {
            return false;
        }
        let country_code = suffix
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() == 2 && tld.bytes().all(|b| b.is_ascii_lowercase()));
        !(country_code && NATIONAL_BRANDS.contains(&self.label.as_str()))
    }

    /// Whether a misspelling of the name under `suffix` is still aimed at it.
    fn misspelt_under(&self, suffix: &str, reach_any_suffix: Reach) -> bool {
        suffix == self.suffix || self.reach >= reach_any_suffix
    }
}

/// Which protected domains each misspelling, look and name points at.
pub struct LookalikeIndex {
    protected: Vec<Protected>,
    domains: HashSet<String>,
    by_label: HashMap<String, Vec<u32>>,
    misspelt: HashMap<String, Vec<(u32, LookalikeKind)>>,
    looks: HashMap<String, Vec<u32>>,
    /// Protected names of three letters or more, to find them inside a label.
    names: Option<AhoCorasick>,
    name_owners: Vec<Vec<u32>>,
    /// `.who.int.` and the like, to find a protected domain inside a longer host.
    embedded: Option<AhoCorasick>,
    /// Suffixes of protected subdomains that the Public Suffix List does not know
    /// (`europa.eu` for `ecdc.europa.eu`), to split hosts there too.
    own_suffixes: Vec<String>,
    words: HashSet<&'static str>,
}

impl LookalikeIndex {
    pub fn new(protected: impl IntoIterator<Item = ProtectedDomain>) -> Self {
        let mut list: Vec<Protected> = Vec::new();
        for p in protected.into_iter().filter_map(Protected::new) {
            if !list.iter().any(|q| q.domain == p.domain) {
                list.push(p);
            }
        }
        let mut by_label: HashMap<String, Vec<u32>> = HashMap::new();
        let mut misspelt: HashMap<String, Vec<(u32, LookalikeKind)>> = HashMap::new();
        let mut looks: HashMap<String, Vec<u32>> = HashMap::new();
        let mut name_list: Vec<String> = Vec::new();
        let mut name_owners: Vec<Vec<u32>> = Vec::new();
        let mut own_suffixes = Vec::new();
        for (i, p) in list.iter().enumerate() {
            let i = i as u32;
            by_label.entry(p.label.clone()).or_default().push(i);
            if p.reach >= Reach::Short {
                for (variant, kind) in variants::misspellings(&p.label, p.reach == Reach::Long) {
                    let entry = misspelt.entry(variant.clone()).or_default();
                    if !entry.iter().any(|(q, _)| *q == i) {
                        entry.push((i, kind));
                    }
                    if kind == LookalikeKind::Homoglyph {
                        push_once(looks.entry(glyph::fold(&variant)).or_default(), i);
                    }
                }
                push_once(looks.entry(glyph::fold(&p.label)).or_default(), i);
                match name_list.iter().position(|n| *n == p.label) {
                    Some(at) => name_owners[at].push(i),
                    None => {
                        name_list.push(p.label.clone());
                        name_owners.push(vec![i]);
                    }
                }
            }
            let suffix_known = psl::suffix(p.domain.as_bytes()).is_some_and(|s| {
                s.as_bytes() == p.suffix.as_bytes() || s.as_bytes() == p.domain.as_bytes()
            });
            if !suffix_known && !own_suffixes.contains(&p.suffix) {
                own_suffixes.push(p.suffix.clone());
            }
        }
        for v in misspelt.values_mut() {
            v.shrink_to_fit();
        }
        let embedded_patterns: Vec<String> =
            list.iter().map(|p| format!(".{}.", p.domain)).collect();
        LookalikeIndex {
            domains: list.iter().map(|p| p.domain.clone()).collect(),
            names: build_automaton(&name_list),
            embedded: build_automaton(&embedded_patterns),
            protected: list,
            by_label,
            misspelt,
            looks,
            name_owners,
            own_suffixes,
            words: words::WORDS.iter().copied().collect(),
        }
    }

    /// The built-in identities' domains (`identity::BUILTIN`).
    pub fn builtin() -> Self {
        Self::new(builtin_domains())
    }

    /// Whether `host` imitates a protected domain. `None` when it is a protected domain
    /// or inside one, when it is unrelated, or when it is not a host name at all.
    pub fn check(&self, host: &str) -> Option<Lookalike> {
        let host = Host::parse(host)?;
        if self.is_protected(&host) {
            return None;
        }
        let psl_split = host.subdomain().len();
        let found = self.judge(&host, psl_split, &host.suffix()).or_else(|| {
            self.own_suffixes.iter().find_map(|suffix| {
                let dotted = host
                    .ascii
                    .strip_suffix(suffix.as_str())?
                    .strip_suffix('.')?;
                let at = dotted.split('.').count().checked_sub(1)?;
                self.judge(&host, at, suffix)
            })
        })?;
        let (index, kind) = found;
        let p = &self.protected[index as usize];
        Some(Lookalike {
            registrable: host.registrable(),
            unicode: host.unicode.clone(),
            host: host.ascii,
            protected: p.domain.clone(),
            owner: p.owner.clone(),
            kind,
        })
    }

    pub fn stats(&self) -> IndexStats {
        let string = std::mem::size_of::<String>();
        let mut bytes = 0;
        for (k, v) in &self.misspelt {
            bytes += string + k.capacity() + std::mem::size_of::<Vec<(u32, LookalikeKind)>>();
            bytes += v.capacity() * std::mem::size_of::<(u32, LookalikeKind)>() + 1;
        }
        for (k, v) in self.looks.iter().chain(&self.by_label) {
            bytes += string + k.capacity() + std::mem::size_of::<Vec<u32>>() + v.capacity() * 4 + 1;
        }
        bytes += [&self.names, &self.embedded]
            .iter()
            .filter_map(|a| a.as_ref())
            .map(AhoCorasick::memory_usage)
            .sum::<usize>();
        IndexStats {
            protected: self.protected.len(),
            misspellings: self.misspelt.len(),
            looks: self.looks.len(),
            approx_bytes: bytes,
        }
    }

    /// Whether the host is, or is inside, a protected domain or a known neighbour.
    fn is_protected(&self, host: &Host) -> bool {
        let mut rest = host.ascii.as_str();
        loop {
            if self.domains.contains(rest) || KNOWN_NEIGHBOURS.contains(&rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, tail)) => rest = tail,
                None => return false,
            }
        }
    }

    /// The first protected domain the host imitates, taking `labels[at]` as its name
    /// and what follows as its suffix.
    fn judge(&self, host: &Host, at: usize, suffix: &str) -> Option<(u32, LookalikeKind)> {
        use LookalikeKind::*;
        let label = host.labels.get(at)?.as_str();
        let subdomain = &host.labels[..at];

        if let Some(ps) = self.by_label.get(label) {
            for &i in ps {
                let p = &self.protected[i as usize];
                if p.suffix != suffix
                    && glyph::fold(&Host::unicode_label(suffix)) == glyph::fold(&p.suffix)
                {
                    return Some((i, IdnHomograph));
                }
                if p.suffix != suffix && p.swappable_to(suffix) {
                    return Some((i, TldSwap));
                }
            }
        }

        // dnstwist's "subdomain": a dot put inside the name (`m.icrosoft.com`).
        for k in 1..=subdomain.len().min(3) {
            let mut joined: String = subdomain[subdomain.len() - k..].concat();
            joined.push_str(label);
            if let Some(ps) = self.by_label.get(&joined) {
                for &i in ps {
                    if self.protected[i as usize].misspelt_under(suffix, Reach::Long) {
                        return Some((i, Subdomain));
                    }
                }
            }
        }

        if let Some(ps) = self.misspelt.get(label) {
            for &(i, kind) in ps {
                if self.protected[i as usize].misspelt_under(suffix, Reach::Long) {
                    return Some((i, kind));
                }
            }
        }

        let shown = Host::unicode_label(label);
        if let Some(ps) = self.looks.get(&glyph::fold(&shown)) {
            for &i in ps {
                let p = &self.protected[i as usize];
                if shown != p.label && p.misspelt_under(suffix, Reach::Medium) {
                    let kind = if shown.is_ascii() {
                        Homoglyph
                    } else if unicode_security::skeleton(&shown)
                        .eq(unicode_security::skeleton(&p.label))
                    {
                        Confusable
                    } else {
                        IdnHomograph
                    };
                    return Some((i, kind));
                }
            }
        }

        let mut contains = None;
        for m in self
            .names
            .iter()
            .flat_map(|a| a.find_overlapping_iter(label))
        {
            let (before, after) = (&label[..m.start()], &label[m.end()..]);
            if before.is_empty() && after.is_empty() {
                // The bare name: handled above as a suffix swap, or the brand's own.
                continue;
            }
            for &i in &self.name_owners[m.pattern().as_usize()] {
                let p = &self.protected[i as usize];
                if before.is_empty() && glued_suffix(after, p) {
                    return Some((i, Various));
                }
                let word = match (before.is_empty(), after.is_empty()) {
                    (true, false) => Some(after),
                    (false, true) => Some(before),
                    _ => None,
                };
                if let Some(word) = word {
                    let hyphenated = word.starts_with('-') || word.ends_with('-');
                    let bare = word.trim_matches('-');
                    if self.words.contains(bare)
                        && (p.reach >= Reach::Medium || hyphenated || suffix == p.suffix)
                    {
                        return Some((i, Dictionary));
                    }
                }
                if p.reach == Reach::Long && contains.is_none() {
                    contains = Some(i);
                }
            }
        }
        // A long name anywhere in the label, once no name-plus-word reading was found
        // (`confirmationmicrosoft` is `confirmation` + `microsoft`, not `onmicrosoft`).
        if let Some(i) = contains {
            return Some((i, Dictionary));
        }

        // The whole protected domain left of the registrable label: `who.int.evil.com`.
        // (Followed by a suffix instead, as in `google.com.br`, it is a suffix swap.)
        let name_starts: usize = subdomain.iter().map(|l| l.len() + 1).sum();
        let dotted = format!(".{}.", host.ascii);
        let mut embedded = self
            .embedded
            .iter()
            .flat_map(|a| a.find_overlapping_iter(&dotted));
        if let Some(m) = embedded.find(|m| m.end() - 1 <= name_starts) {
            return Some((m.pattern().as_u32(), Subdomain));
        }
        for part in subdomain {
            for m in self
                .names
                .iter()
                .flat_map(|a| a.find_overlapping_iter(part.as_str()))
            {
                for &i in &self.name_owners[m.pattern().as_usize()] {
                    let p = &self.protected[i as usize];
                    let after = &part[m.end()..];
                    if p.reach == Reach::Long || (m.start() == 0 && glued_suffix(after, p)) {
                        return Some((i, Subdomain));
                    }
                }
            }
        }
        None
    }
}

/// Whether `after` (what follows the name in a label) is the name's own suffix glued
/// on: `whoint`, `who-int`, `gov-uk`.
fn glued_suffix(after: &str, p: &Protected) -> bool {
    after == p.flat_suffix
        || after
            .strip_prefix('-')
            .is_some_and(|s| s == p.hyphen_suffix)
}

fn push_once(v: &mut Vec<u32>, i: u32) {
    if !v.contains(&i) {
        v.push(i);
    }
}

/// `None` only if the patterns outgrow the automaton's limits, which a list of domain
/// names cannot; the index then simply finds no names inside labels.
fn build_automaton(patterns: &[String]) -> Option<AhoCorasick> {
    AhoCorasick::new(patterns).ok()
}

/// The protected domains of `identity::BUILTIN`, each with its identity's name.
pub fn builtin_domains() -> Vec<ProtectedDomain> {
    BUILTIN
        .iter()
        .flat_map(|id| {
            id.domains.iter().map(|d| ProtectedDomain {
                domain: (*d).to_owned(),
                owner: id.name.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
