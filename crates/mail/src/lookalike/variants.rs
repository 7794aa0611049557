//! The misspellings of a protected name, worked out once when the index is built.
//!
//! These are the typosquatting families dnstwist generates (addition, bitsquatting,
//! homoglyph, hyphenation, insertion, omission, plural, repetition, replacement,
//! transposition, vowel swap), each tagged with its family so a finding can say which
//! mistake the name imitates. Keyboard neighbours come from the QWERTY, QWERTZ and
//! AZERTY layouts, since the targets type on all three.

use super::LookalikeKind;

/// Characters a host label may hold (after lower-casing), in the order edits try them.
const LABEL_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789-";
const VOWELS: &str = "aeiou";

/// Rows of a keyboard, each shifted half a key right of the one above.
const LAYOUTS: [[&str; 4]; 3] = [
    ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"],
    ["1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm"],
    ["1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn"],
];

/// Characters and pairs a reader takes for one another (the ASCII part of homoglyphs;
/// non-ASCII ones are caught by folding, see `glyph`).
const ASCII_GLYPHS: &[(&str, &[&str])] = &[
    ("0", &["o"]),
    ("1", &["l", "i"]),
    ("3", &["8"]),
    ("6", &["9"]),
    ("8", &["3"]),
    ("9", &["6"]),
    ("b", &["d", "lb"]),
    ("c", &["e"]),
    ("d", &["b", "cl", "dl"]),
    ("e", &["c"]),
    ("g", &["q"]),
    ("h", &["lh"]),
    ("i", &["1", "l"]),
    ("k", &["lc"]),
    ("l", &["1", "i"]),
    ("m", &["n", "nn", "rn"]),
    ("n", &["m", "r"]),
    ("o", &["0"]),
    ("q", &["g"]),
    ("u", &["v"]),
    ("v", &["u"]),
    ("w", &["vv"]),
    ("rn", &["m"]),
    ("cl", &["d"]),
];

/// Keys next to `key` on any of the layouts.
fn neighbours(key: char) -> Vec<char> {
    let mut found = Vec::new();
    for rows in LAYOUTS {
        let grid: Vec<Vec<char>> = rows.iter().map(|r| r.chars().collect()).collect();
        for (r, row) in grid.iter().enumerate() {
            let Some(c) = row.iter().position(|&k| k == key) else {
                continue;
            };
            let mut near = |row: Option<&Vec<char>>, col: Option<usize>| {
                if let Some(k) = row.zip(col).and_then(|(row, col)| row.get(col)) {
                    found.push(*k);
                }
            };
            near(Some(row), c.checked_sub(1));
            near(Some(row), Some(c + 1));
            near(r.checked_sub(1).and_then(|r| grid.get(r)), Some(c));
            near(r.checked_sub(1).and_then(|r| grid.get(r)), Some(c + 1));
            near(grid.get(r + 1), c.checked_sub(1));
            near(grid.get(r + 1), Some(c));
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// Every misspelling of `label` with its family, first family first when one string
/// arises several ways. `thorough` adds every other single-character edit (any
/// insertion, deletion or substitution), which only long names can afford: on a
/// three-letter name most of those are other people's real domains.
pub fn misspellings(label: &str, thorough: bool) -> Vec<(String, LookalikeKind)> {
    use LookalikeKind::*;
    let chars: Vec<char> = label.chars().collect();
    let n = chars.len();
    let mut out: Vec<(String, LookalikeKind)> = Vec::new();
    let join = |v: &[char]| v.iter().collect::<String>();
    let with = |i: usize, c: char| {
        let mut v = chars.clone();
        v.insert(i, c);
        join(&v)
    };
    let replaced = |i: usize, c: char| {
        let mut v = chars.clone();
        v[i] = c;
        join(&v)
    };

    let once = homoglyph_swaps(label);
    for i in 0..n.saturating_sub(1) {
        if chars[i] != chars[i + 1] {
            let mut v = chars.clone();
            v.swap(i, i + 1);
            out.push((join(&v), Transposition));
        }
    }
    for i in 0..n {
        let mut v = chars.clone();
        v.remove(i);
        out.push((join(&v), Omission));
    }
    for (i, &c) in chars.iter().enumerate() {
        out.push((with(i, c), Repetition));
    }
    out.extend(once.iter().map(|o| (o.clone(), Homoglyph)));
    for (i, &c) in chars.iter().enumerate() {
        if VOWELS.contains(c) {
            for v in VOWELS.chars().filter(|&v| v != c) {
                out.push((replaced(i, v), VowelSwap));
            }
        }
    }
    for i in 1..n {
        out.push((with(i, '-'), Hyphenation));
    }
    for (i, &c) in chars.iter().enumerate() {
        for k in neighbours(c) {
            out.push((replaced(i, k), Replacement));
        }
    }
    for (i, &c) in chars.iter().enumerate().take(n.saturating_sub(1)) {
        for k in neighbours(c) {
            out.push((with(i, k), Insertion));
            out.push((with(i + 1, k), Insertion));
        }
    }
    for c in LABEL_CHARS.chars().filter(|&c| c != '-') {
        out.push((with(n, c), Addition));
    }
    for (i, &c) in chars.iter().enumerate() {
        for bit in 0..8 {
            let flipped = char::from_u32(u32::from(c) ^ (1 << bit));
            if let Some(f) = flipped.filter(|f| LABEL_CHARS.contains(*f)) {
                out.push((replaced(i, f), Bitsquatting));
            }
        }
    }
    // dnstwist's plural: "s" (or "es" after s, x, z) after any letter but the first
    // two and the last two.
    for (i, &c) in chars.iter().enumerate().take(n.saturating_sub(2)).skip(2) {
        let ending = if matches!(c, 's' | 'x' | 'z') {
            "es"
        } else {
            "s"
        };
        let head: String = chars[..=i].iter().collect();
        let tail: String = chars[i + 1..].iter().collect();
        out.push((format!("{head}{ending}{tail}"), Plural));
    }
    for twice in once.iter().flat_map(|o| homoglyph_swaps(o)) {
        out.push((twice, Homoglyph));
    }
    if thorough {
        for i in 0..=n {
            for c in LABEL_CHARS.chars() {
                let kind = if i == n { Addition } else { Insertion };
                out.push((with(i, c), kind));
            }
        }
        for (i, &own) in chars.iter().enumerate() {
            for c in LABEL_CHARS.chars().filter(|&c| c != own) {
                out.push((replaced(i, c), Replacement));
            }
        }
    }
    out.retain(|(v, _)| v != label && is_label(v));
    out
}

/// `label` with one character or pair replaced by a look-alike, every way it can be.
/// Within a two-character window both copies of a letter may be swapped at once
/// (`vv` → `uu`), as dnstwist does.
fn homoglyph_swaps(label: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (from, tos) in ASCII_GLYPHS {
        for (at, _) in label.match_indices(from) {
            for to in *tos {
                out.push(format!("{}{to}{}", &label[..at], &label[at + from.len()..]));
            }
        }
    }
    let bytes = label.as_bytes();
    for at in 0..bytes.len().saturating_sub(1) {
        if bytes[at] == bytes[at + 1] && bytes[at].is_ascii() {
            let from = &label[at..at + 1];
            for (_, tos) in ASCII_GLYPHS.iter().filter(|(f, _)| *f == from) {
                for to in *tos {
                    out.push(format!("{}{to}{to}{}", &label[..at], &label[at + 2..]));
                }
            }
        }
    }
    out
}

/// Whether `s` can be a DNS label (LDH, no hyphen at either end).
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use LookalikeKind::*;

    #[test]
    fn neighbours_follow_the_staggered_rows() {
        assert_eq!(neighbours('h'), vec!['b', 'g', 'j', 'n', 'u', 'y', 'z']);
        assert_eq!(neighbours('q'), vec!['1', '2', 'a', 's', 'w', 'z']);
        assert!(neighbours('m').contains(&'l'), "AZERTY puts m beside l");
    }

    #[test]
    fn each_family_yields_its_classic_example() {
        let all = misspellings("microsoft", false);
        let kind_of = |v: &str| all.iter().find(|(s, _)| s == v).map(|(_, k)| *k);
        let table = [
            ("micorsoft", Transposition),
            ("micosoft", Omission),
            ("miccrosoft", Repetition),
            ("micrasoft", VowelSwap),
            ("micro-soft", Hyphenation),
            ("micrisoft", VowelSwap),
            ("jicrosoft", Replacement),
            ("microsofts", Addition),
            ("micrpsoft", Replacement),
            ("mixrosoft", Replacement),
            ("microsoftt", Repetition),
            ("eicrosoft", Bitsquatting),
            ("rnicrosoft", Homoglyph),
            ("rnicr0soft", Homoglyph),
            ("micrsosoft", Plural),
        ];
        for (v, kind) in table {
            assert_eq!(kind_of(v), Some(kind), "{v}");
        }
        assert_eq!(
            kind_of("microsoft"),
            None,
            "the name itself is no misspelling"
        );
    }

    #[test]
    fn thorough_adds_any_single_edit() {
        let quick = misspellings("linkedin", false);
        let all = misspellings("linkedin", true);
        assert!(!quick.iter().any(|(v, _)| v == "linkedqin"));
        assert!(all.iter().any(|(v, _)| v == "linkedqin"));
        assert!(all.iter().all(|(v, _)| is_label(v)));
    }
}
