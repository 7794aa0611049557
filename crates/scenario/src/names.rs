//! Made-up staff names and the account names built from them.
//!
//! Owns the name lists only; which accounts an organisation has is the caller's choice.

use std::collections::BTreeSet;

use fastrand::Rng;

pub(crate) const FIRST: &[&str] = &[
    "aoife", "sean", "niamh", "ciaran", "siobhan", "declan", "maeve", "eoin", "grainne", "padraig",
    "lena", "jonas", "mia", "lukas", "hannah", "felix", "katrin", "matthias", "sabine", "tobias",
    "amani", "baraka", "wanjiru", "otieno", "akinyi", "kamau", "njeri", "mwangi", "zawadi", "juma",
    "sofia", "mateo", "ines", "omar", "leila", "yusuf", "priya", "arjun", "mei", "hiro", "anna",
    "peter", "maria", "david", "sarah", "james", "laura", "daniel", "emma", "samuel",
];

const LAST: &[&str] = &[
    "byrne",
    "murphy",
    "kelly",
    "walsh",
    "obrien",
    "ryan",
    "doyle",
    "mccarthy",
    "gallagher",
    "nolan",
    "muller",
    "schmidt",
    "weber",
    "fischer",
    "wagner",
    "becker",
    "hoffmann",
    "koch",
    "richter",
    "wolf",
    "odhiambo",
    "wanjiku",
    "kiprono",
    "mutua",
    "achieng",
    "njoroge",
    "chebet",
    "karanja",
    "omondi",
    "wafula",
    "garcia",
    "santos",
    "haddad",
    "rahman",
    "patel",
    "tanaka",
    "chen",
    "novak",
    "horvat",
    "lindqvist",
];

/// `n` distinct (first, last) name pairs, deterministically from `seed`.
pub fn staff_names(seed: u64, n: usize) -> Vec<(String, String)> {
    let mut rng = Rng::with_seed(seed);
    let mut seen = BTreeSet::new();
    let mut names = Vec::with_capacity(n);
    // There are 2000 pairs; beyond that a number keeps them distinct.
    let mut attempts = 0usize;
    while names.len() < n {
        let first = FIRST[rng.usize(..FIRST.len())];
        let mut last = LAST[rng.usize(..LAST.len())].to_owned();
        attempts += 1;
        if attempts > 4 * FIRST.len() * LAST.len() {
            last = format!("{last}{}", names.len());
        }
        if seen.insert((first, last.clone())) {
            names.push((first.to_owned(), last));
        }
    }
    names
}

/// `n` distinct account names from `seed`: `first.last@domain` (Entra user principal names)
/// with a domain, or a local user name such as `aoifeb` (sshd) without one.
pub fn staff_accounts(seed: u64, n: usize, domain: Option<&str>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    staff_names(seed, n)
        .into_iter()
        .map(|(first, last)| {
            let base = match domain {
                Some(domain) => format!("{first}.{last}@{domain}"),
                None => format!("{first}{}", &last[..1]),
            };
            let mut name = base.clone();
            let mut i = 2;
            while !seen.insert(name.clone()) {
                name = match domain {
                    Some(domain) => format!("{first}.{last}{i}@{domain}"),
                    None => format!("{base}{i}"),
                };
                i += 1;
            }
            name
        })
        .collect()
}

/// A display name for an account: `aoife.byrne@x` → `Aoife Byrne`, `aoifeb` → `Aoifeb`.
pub(crate) fn display_name(account: &str) -> String {
    let local = account.split('@').next().unwrap_or(account);
    local
        .split(['.', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_distinct_and_deterministic() {
        let a = staff_accounts(7, 300, Some("x.example"));
        assert_eq!(a, staff_accounts(7, 300, Some("x.example")));
        assert_eq!(a.iter().collect::<BTreeSet<_>>().len(), 300);
        let local = staff_accounts(7, 60, None);
        assert_eq!(local.iter().collect::<BTreeSet<_>>().len(), 60);
        assert!(local.iter().all(|n| !n.contains('@')));
    }

    #[test]
    fn display_names_capitalise_parts() {
        assert_eq!(display_name("aoife.byrne@x.example"), "Aoife Byrne");
        assert_eq!(display_name("root"), "Root");
    }
}
