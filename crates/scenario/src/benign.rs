//! Realistic background traffic: what an organisation's sign-in log looks like when
//! nobody attacks it.
//!
//! Owns the habits of ordinary users — working hours, a NAT'd office address shared by
//! everyone, homes, typos, a forgotten phone with an old password, a new laptop — and
//! must stay below every default detection threshold (no 10 failures in 10 minutes for an
//! account; no address failing against many accounts).

use std::net::IpAddr;

use fastrand::Rng;
use jiff::{SignedDuration, Timestamp};
use model::{FailureKind, Format, Protocol, SignIn};

use crate::event::{Spec, SshMethod};

/// Parameters of [`benign`].
#[derive(Clone, Debug)]
pub struct Benign {
    /// Seeds every choice the generator makes.
    pub seed: u64,
    /// The organisation's accounts.
    pub users: Vec<String>,
    /// Start of the period (inclusive).
    pub start: Timestamp,
    /// Length of the period; nothing is generated at or after `start + duration`.
    pub duration: SignedDuration,
    /// The office's NAT address, which every user signs in from at work.
    pub office: IpAddr,
    /// Home addresses; user `i` lives at `homes[i % homes.len()]`. Empty: everyone works
    /// from the office.
    pub homes: Vec<IpAddr>,
    /// Addresses new devices show up from (a hotel, a mobile network).
    pub travel: Vec<IpAddr>,
    /// Probability that a sign-in is preceded by one or two mistyped passwords.
    pub typo_rate: f64,
    /// How many users have a stale client: a phone (or a script, for sshd) with an old
    /// password that fails every 15 to 30 minutes, all period long, from their home.
    pub stale_clients: usize,
    /// Probability per user and day of a sign-in from a new device at a travel address.
    pub new_device_rate: f64,
    pub format: Format,
    /// Country the organisation's addresses are located in (Entra `location`).
    pub country: Option<String>,
}

impl Benign {
    /// Background for `users` over `duration` from `start`, with typical rates: 5 % of
    /// sign-ins after a typo, two stale clients, a new device now and then.
    pub fn new(
        seed: u64,
        users: Vec<String>,
        start: Timestamp,
        duration: SignedDuration,
        office: IpAddr,
        homes: Vec<IpAddr>,
    ) -> Self {
        Benign {
            seed,
            users,
            start,
            duration,
            office,
            homes,
            travel: vec![IpAddr::from([192, 0, 2, 222])],
            typo_rate: 0.05,
            stale_clients: 2,
            new_device_rate: 0.05,
            format: Format::EntraGraph,
            country: None,
        }
    }
}

const DAY: i64 = 86_400;

/// Browsers people sign in with; user `i` uses `BROWSERS[i % 4]` at work and home and the
/// next one on a new device. The same strings at every organisation, as in real logs.
pub(crate) const BROWSERS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like \
     Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
];

/// Mail and Office clients: user `i` uses `MAIL_CLIENTS[i % 2]`.
const MAIL_CLIENTS: [&str; 2] = [
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)",
    "Outlook-iOS/723.4027091.prod.iphone (4.2447.0)",
];

/// The clients stale devices retry an old password with. Nobody signs in successfully
/// with them in the generated traffic, which makes them the hardest case for detection
/// by user agent: only their retrying tells them from an attack tool.
fn stale_client(protocol: Protocol) -> &'static str {
    if protocol == Protocol::Imap {
        "iOS/16.7.10 (20H350) dataaccessd/1.0"
    } else {
        "Apple-iPhone13C2/2006.350"
    }
}

/// The user agent user `i` signs in with over `protocol`.
fn user_agent(i: usize, protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Browser => BROWSERS[i % BROWSERS.len()],
        _ => MAIL_CLIENTS[i % MAIL_CLIENTS.len()],
    }
}

/// Background traffic for [`Benign`]: each user signs in one to four times a day between
/// 07:00 and 19:00 UTC, from the office (seven times in ten) or home, with occasional
/// typos (one or two bad passwords seconds before the success, same address and client),
/// stale clients and new devices. Every sign-in carries a common browser or mail client's
/// user agent (in the formats that log one), shared across organisations. In time order and numbered as by
/// [`crate::sort_and_number`].
pub fn benign(p: &Benign) -> Vec<SignIn> {
    let mut rng = Rng::with_seed(p.seed);
    let mut out = Vec::new();
    let end = p.start + p.duration;
    let first_day = p.start.as_second().div_euclid(DAY);
    let last_day = end.as_second().div_euclid(DAY);
    let mut stale: Vec<usize> = (0..p.users.len()).collect();
    rng.shuffle(&mut stale);
    stale.truncate(p.stale_clients);

    for (i, user) in p.users.iter().enumerate() {
        let home = if p.homes.is_empty() {
            p.office
        } else {
            p.homes[i % p.homes.len()]
        };
        for day in first_day..=last_day {
            let sessions = rng.u32(1..=4);
            for _ in 0..sessions {
                let second = day * DAY + rng.i64(7 * 3600..19 * 3600);
                let at_office = rng.f64() < 0.7;
                let ip = if at_office { p.office } else { home };
                let protocol = if rng.bool() {
                    Protocol::Browser
                } else {
                    Protocol::ModernClient
                };
                let typos = if rng.f64() < p.typo_rate {
                    rng.u32(1..=2)
                } else {
                    0
                };
                let Ok(time) = Timestamp::from_second(second) else {
                    continue;
                };
                for t in (1..=typos).rev() {
                    let typo_time =
                        time - SignedDuration::from_secs(i64::from(t) * rng.i64(5..=20));
                    push(
                        p,
                        &mut out,
                        &mut rng,
                        typo_time,
                        end,
                        user,
                        ip,
                        Some(FailureKind::BadPassword),
                        protocol,
                        user_agent(i, protocol),
                    );
                }
                push(
                    p,
                    &mut out,
                    &mut rng,
                    time,
                    end,
                    user,
                    ip,
                    None,
                    protocol,
                    user_agent(i, protocol),
                );
            }
            if !p.travel.is_empty() && rng.f64() < p.new_device_rate {
                let second = day * DAY + rng.i64(6 * 3600..22 * 3600);
                let ip = p.travel[rng.usize(..p.travel.len())];
                if let Ok(time) = Timestamp::from_second(second) {
                    push(
                        p,
                        &mut out,
                        &mut rng,
                        time,
                        end,
                        user,
                        ip,
                        None,
                        Protocol::Browser,
                        user_agent(i + 1, Protocol::Browser),
                    );
                }
            }
        }
        if stale.contains(&i) {
            let protocol = if rng.bool() {
                Protocol::Imap
            } else {
                Protocol::ExchangeActiveSync
            };
            let mut time = p.start + SignedDuration::from_secs(rng.i64(0..900));
            while time < end {
                push(
                    p,
                    &mut out,
                    &mut rng,
                    time,
                    end,
                    user,
                    home,
                    Some(FailureKind::BadPassword),
                    protocol,
                    stale_client(protocol),
                );
                time += SignedDuration::from_secs(rng.i64(15 * 60..=30 * 60));
            }
        }
    }
    crate::sort_and_number(&mut out);
    out
}

#[allow(clippy::too_many_arguments)]
fn push(
    p: &Benign,
    out: &mut Vec<SignIn>,
    rng: &mut Rng,
    time: Timestamp,
    end: Timestamp,
    account: &str,
    ip: IpAddr,
    kind: Option<FailureKind>,
    protocol: Protocol,
    user_agent: &str,
) {
    // The choice is drawn before the bounds check so that widening the period does not
    // change what is generated inside it.
    let ssh_method = if rng.f64() < 0.8 {
        SshMethod::PublicKey
    } else {
        SshMethod::Password
    };
    if time < p.start || time >= end {
        return;
    }
    let spec = Spec {
        time,
        account,
        ip: Some(ip),
        kind,
        protocol,
        format: p.format,
        country: p.country.as_deref(),
        ssh_method,
        user_agent: Some(user_agent),
    };
    out.push(spec.build(rng));
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use model::Outcome;

    use super::*;

    fn sample(seed: u64) -> Vec<SignIn> {
        let users = crate::staff_accounts(seed, 50, Some("x.example"));
        let mut p = Benign::new(
            seed,
            users,
            "2024-11-25T00:00:00Z".parse().expect("ts"),
            SignedDuration::from_hours(48),
            IpAddr::from([192, 0, 2, 10]),
            vec![
                IpAddr::from([192, 0, 2, 100]),
                IpAddr::from([192, 0, 2, 101]),
            ],
        );
        p.typo_rate = 0.1;
        benign(&p)
    }

    #[test]
    fn is_deterministic_and_sorted() {
        let a = sample(3);
        assert_eq!(a, sample(3));
        assert_ne!(a, sample(4));
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
    }

    #[test]
    fn has_typos_stale_clients_and_a_shared_office() {
        let events = sample(3);
        let failures = events
            .iter()
            .filter(|e| e.outcome == Outcome::Failure)
            .count();
        assert!(failures > 100, "stale clients fail all day: {failures}");
        let mut office_users = BTreeMap::new();
        for e in &events {
            if e.source_ip == Some(IpAddr::from([192, 0, 2, 10])) {
                *office_users.entry(e.account.clone()).or_insert(0) += 1;
            }
        }
        assert_eq!(office_users.len(), 50);
        // Everyone's clients are the common ones, the same at every organisation.
        let agents: BTreeMap<&str, usize> = events.iter().fold(BTreeMap::new(), |mut m, e| {
            *m.entry(e.user_agent.as_deref().unwrap_or("none"))
                .or_insert(0) += 1;
            m
        });
        let known: Vec<&str> = BROWSERS
            .iter()
            .chain(&MAIL_CLIENTS)
            .copied()
            .chain([
                stale_client(Protocol::Imap),
                stale_client(Protocol::ExchangeActiveSync),
            ])
            .collect();
        assert!(agents.keys().all(|a| known.contains(a)), "{agents:?}");
        assert!(agents.len() >= 6, "{agents:?}");
        // No account fails ten times in ten minutes.
        let mut by_account: BTreeMap<&str, Vec<Timestamp>> = BTreeMap::new();
        for e in events.iter().filter(|e| e.outcome == Outcome::Failure) {
            by_account.entry(&e.account).or_default().push(e.time);
        }
        for times in by_account.values() {
            for w in times.windows(5) {
                assert!(
                    w[4].duration_since(w[0]) > SignedDuration::from_mins(10),
                    "{w:?}"
                );
            }
        }
    }
}
