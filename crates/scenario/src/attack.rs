//! Attack generators: a brute force against one account and a password spray from one
//! source.
//!
//! Owns the shape of the attacks only; whether they are detected is the detector's
//! business, and the ground truth for a whole scenario lives in [`crate::demo`].

use std::net::IpAddr;

use fastrand::Rng;
use jiff::{SignedDuration, Timestamp};
use model::{FailureKind, Format, Protocol, SignIn};

use crate::event::{Spec, SshMethod};

/// Parameters of [`brute_force`].
#[derive(Clone, Debug)]
pub struct BruteForce {
    /// Seeds the record ids, ports and keys of the generated sign-ins.
    pub seed: u64,
    /// The attacked account.
    pub account: String,
    /// Where every attempt comes from.
    pub source: IpAddr,
    /// Time of the first failure.
    pub start: Timestamp,
    /// How many failed attempts.
    pub failures: u32,
    /// Time between consecutive attempts (and before the final success).
    pub spacing: SignedDuration,
    /// Whether the attack ends in a successful sign-in from the same source.
    pub then_success: bool,
    /// Why each attempt fails (`BadPassword` for an existing account).
    pub failure_kind: FailureKind,
    pub protocol: Protocol,
    pub format: Format,
    /// Country the source is located in (Entra `location`).
    pub country: Option<String>,
}

impl BruteForce {
    /// A brute force of `failures` bad passwords `spacing` apart over Authenticated SMTP,
    /// as an Entra log shows it, from a source located in the Netherlands.
    pub fn new(
        account: &str,
        source: IpAddr,
        start: Timestamp,
        failures: u32,
        spacing: SignedDuration,
    ) -> Self {
        BruteForce {
            seed: 1,
            account: account.to_owned(),
            source,
            start,
            failures,
            spacing,
            then_success: false,
            failure_kind: FailureKind::BadPassword,
            protocol: Protocol::Smtp,
            format: Format::EntraGraph,
            country: Some("NL".to_owned()),
        }
    }
}

/// `failures` failed sign-ins against one account from one source, `spacing` apart from
/// `start`, optionally followed `spacing` later by a success from the same source. In time
/// order and numbered as by [`crate::sort_and_number`].
pub fn brute_force(p: &BruteForce) -> Vec<SignIn> {
    let mut rng = Rng::with_seed(p.seed);
    let mut out = Vec::with_capacity(p.failures as usize + 1);
    let total = p.failures + u32::from(p.then_success);
    for i in 0..total {
        let kind = if i < p.failures {
            Some(p.failure_kind)
        } else {
            None
        };
        let spec = Spec {
            time: p.start + p.spacing * i as i32,
            account: &p.account,
            ip: Some(p.source),
            kind,
            protocol: p.protocol,
            format: p.format,
            country: p.country.as_deref(),
            ssh_method: SshMethod::Password,
            user_agent: None,
        };
        out.push(spec.build(&mut rng));
    }
    crate::sort_and_number(&mut out);
    out
}

/// Parameters of [`password_spray`].
#[derive(Clone, Debug)]
pub struct PasswordSpray {
    /// Seeds the record ids, ports and keys of the generated sign-ins.
    pub seed: u64,
    /// Where every attempt comes from.
    pub source: IpAddr,
    /// The sprayed accounts, with whether each exists (a guess that does not fails as
    /// `UnknownAccount`, one that does as `BadPassword`).
    pub accounts: Vec<(String, bool)>,
    /// Attempts per account (a few: one per password tried).
    pub attempts_per_account: u32,
    /// Time of the first attempt.
    pub start: Timestamp,
    /// Time between consecutive attempts, whichever account they target.
    pub spacing: SignedDuration,
    /// An account the spray finally gets into, `spacing` after its last failure.
    pub success: Option<String>,
    pub protocol: Protocol,
    pub format: Format,
    /// Country the source is located in (Entra `location`).
    pub country: Option<String>,
}

impl PasswordSpray {
    /// A spray of existing accounts over IMAP as an Entra log shows it, from a source
    /// located in the Netherlands.
    pub fn new(
        source: IpAddr,
        accounts: &[String],
        attempts_per_account: u32,
        start: Timestamp,
        spacing: SignedDuration,
    ) -> Self {
        PasswordSpray {
            seed: 2,
            source,
            accounts: accounts.iter().map(|a| (a.clone(), true)).collect(),
            attempts_per_account,
            start,
            spacing,
            success: None,
            protocol: Protocol::Imap,
            format: Format::EntraGraph,
            country: Some("NL".to_owned()),
        }
    }
}

/// A password spray: round after round, one password tried against every account in turn
/// (`attempts_per_account` rounds), each attempt `spacing` after the previous one,
/// optionally ending in one success. In time order and numbered as by
/// [`crate::sort_and_number`].
pub fn password_spray(p: &PasswordSpray) -> Vec<SignIn> {
    let mut rng = Rng::with_seed(p.seed);
    let mut out = Vec::new();
    let mut time = p.start;
    for _round in 0..p.attempts_per_account {
        for (account, exists) in &p.accounts {
            let kind = if *exists {
                FailureKind::BadPassword
            } else {
                FailureKind::UnknownAccount
            };
            out.push(attempt(p, account, Some(kind), time, &mut rng));
            time += p.spacing;
        }
    }
    if let Some(account) = &p.success {
        out.push(attempt(p, account, None, time, &mut rng));
    }
    crate::sort_and_number(&mut out);
    out
}

fn attempt(
    p: &PasswordSpray,
    account: &str,
    kind: Option<FailureKind>,
    time: Timestamp,
    rng: &mut Rng,
) -> SignIn {
    Spec {
        time,
        account,
        ip: Some(p.source),
        kind,
        protocol: p.protocol,
        format: p.format,
        country: p.country.as_deref(),
        ssh_method: SshMethod::Password,
        user_agent: None,
    }
    .build(rng)
}

#[cfg(test)]
mod tests {
    use model::Outcome;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn brute_force_is_spaced_and_ends_in_success() {
        let mut p = BruteForce::new(
            "Aoife.Byrne@x.example",
            "198.51.100.23".parse().expect("ip"),
            ts("2024-11-23T09:00:00Z"),
            12,
            SignedDuration::from_secs(5),
        );
        p.then_success = true;
        let events = brute_force(&p);
        assert_eq!(events.len(), 13);
        assert!(
            events[..12]
                .iter()
                .all(|e| e.failure_kind == Some(FailureKind::BadPassword))
        );
        assert_eq!(events[12].outcome, Outcome::Success);
        assert_eq!(events[12].time, ts("2024-11-23T09:01:00Z"));
        assert_eq!(events[0].account, "aoife.byrne@x.example");
        assert_eq!(events, brute_force(&p));
    }

    #[test]
    fn spray_goes_round_by_round() {
        let accounts: Vec<String> = (0..4).map(|i| format!("u{i}@x.example")).collect();
        let p = PasswordSpray::new(
            "203.0.113.7".parse().expect("ip"),
            &accounts,
            2,
            ts("2024-11-23T09:00:00Z"),
            SignedDuration::from_secs(30),
        );
        let events = password_spray(&p);
        let order: Vec<&str> = events.iter().map(|e| e.account.as_str()).collect();
        assert_eq!(
            order,
            [
                "u0@x.example",
                "u1@x.example",
                "u2@x.example",
                "u3@x.example",
                "u0@x.example",
                "u1@x.example",
                "u2@x.example",
                "u3@x.example"
            ]
        );
        assert_eq!(events[7].time, ts("2024-11-23T09:03:30Z"));
    }
}
