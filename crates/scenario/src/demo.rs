//! The demo scenario: three organisations, a day of ordinary sign-ins, and one campaign
//! against all of them, with the ground truth a detector should report.
//!
//! Owns the story told by `tocsin demo`; the detector that must find it lives in
//! `detect`, and the campaign keys here must match the ones it emits
//! (`brute_force:<account>`, `password_spray:<address>`).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv6Addr};

use fastrand::Rng;
use jiff::{SignedDuration, Timestamp};
use model::{DetectionKind, FailureKind, Format, Origin, Protocol, Sector, Severity, SignIn};

use crate::event::{Spec, SshMethod};
use crate::{Benign, BruteForce, benign, brute_force, render_graph, render_sshd, staff_accounts};

/// One organisation of the demo with its log.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOrg {
    pub name: String,
    pub sector: Sector,
    /// ISO 3166 country code.
    pub country: String,
    /// Mail domains the organisation enrols.
    pub domains: Vec<String>,
    /// The format of `lines`.
    pub format: Format,
    /// A file name for the log, for commands that write it out.
    pub file_name: String,
    /// The raw log, one record per line, in time order.
    pub lines: Vec<String>,
    /// What each line says, in the same order: `sign_ins[i]` is rendered as `lines[i]` and
    /// its origin is `FileLine { file: file_name, line: i + 1 }`.
    pub sign_ins: Vec<SignIn>,
}

/// One attack the demo contains, as a detector keys it: all detections with this `org`,
/// `kind` and `campaign_key` together make up the attack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedDetection {
    pub kind: DetectionKind,
    /// The organisation's [`DemoOrg::name`].
    pub org: String,
    pub campaign_key: String,
    /// The highest severity among the attack's detections.
    pub severity: Severity,
    /// Every targeted account, sorted.
    pub accounts: Vec<String>,
    /// Every source address, sorted.
    pub sources: Vec<IpAddr>,
    /// Accounts the attacker got into, sorted.
    pub compromised: Vec<String>,
}

/// The demo: organisations with their logs, and the attacks hidden in them.
#[derive(Clone, Debug, PartialEq)]
pub struct Demo {
    pub orgs: Vec<DemoOrg>,
    /// The ground truth, sorted by organisation (in `orgs` order), kind and key.
    pub expected: Vec<ExpectedDetection>,
}

/// The address the password spray comes from.
pub const SPRAY_SOURCE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 66));
/// The address the brute force comes from.
pub const BRUTE_FORCE_SOURCE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 23));

struct OrgPlan {
    name: &'static str,
    sector: Sector,
    country: &'static str,
    domain: &'static str,
    format: Format,
    users: usize,
    office: IpAddr,
    first_home: u8,
    guesses: &'static [&'static str],
}

const PLANS: [OrgPlan; 3] = [
    OrgPlan {
        name: "St. Brigid's Hospital",
        sector: Sector::Hospital,
        country: "IE",
        domain: "stbrigids-hospital.example",
        format: Format::EntraGraph,
        users: 60,
        office: IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10)),
        first_home: 100,
        guesses: &["admin", "info", "it.support", "reception"],
    },
    OrgPlan {
        name: "Northwind Vaccines",
        sector: Sector::Pharmaceutical,
        country: "DE",
        domain: "northwind-vaccines.example",
        format: Format::EntraGraph,
        users: 50,
        office: IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 20)),
        first_home: 130,
        guesses: &["admin", "hr", "research", "labor"],
    },
    OrgPlan {
        name: "Open Witness",
        sector: Sector::HumanRights,
        country: "KE",
        domain: "openwitness.example",
        format: Format::Sshd,
        users: 16,
        office: IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 30)),
        first_home: 160,
        guesses: &["admin", "test", "oracle", "ubuntu", "postgres", "git"],
    },
];

/// Accounts sprayed per organisation.
const SPRAYED_PER_ORG: usize = 18;
/// When the spray starts, after `start`.
const SPRAY_AT: SignedDuration = SignedDuration::from_hours(10);
const SPRAY_SPACING: SignedDuration = SignedDuration::from_secs(35);
/// When the brute force starts, after `start`.
const BRUTE_FORCE_AT: SignedDuration = SignedDuration::from_hours(13);
const BRUTE_FORCE_FAILURES: u32 = 40;
const BRUTE_FORCE_SPACING: SignedDuration = SignedDuration::from_secs(6);

/// Builds the demo: 24 hours of sign-ins from `start` for three organisations (a hospital
/// and a vaccine maker on Entra ID, a human-rights NGO with an ssh gateway), containing
///
/// - a password spray from 203.0.113.66 against 18 accounts of each organisation, one or
///   two attempts per account, all within an hour from `start + 10h`;
/// - a brute force of 40 bad passwords 6 s apart from 198.51.100.23 against one hospital
///   account at `start + 13h`, ending in a successful sign-in from the same address;
/// - ordinary traffic of a few hundred sign-ins per organisation with typos, stale clients,
///   new devices and a NAT'd office address each.
///
/// The same `seed` and `start` give the same demo, byte for byte.
pub fn demo(seed: u64, start: Timestamp) -> Demo {
    let mut rng = Rng::with_seed(seed);
    let mut logs: Vec<Vec<SignIn>> = Vec::new();
    let mut sprayed: Vec<Vec<(String, bool)>> = Vec::new();
    let mut staff: Vec<Vec<String>> = Vec::new();

    for (i, plan) in PLANS.iter().enumerate() {
        let domain = (plan.format == Format::EntraGraph).then_some(plan.domain);
        let users = staff_accounts(seed.wrapping_add(i as u64), plan.users, domain);
        let homes: Vec<IpAddr> = (0..20u8)
            .map(|h| IpAddr::from([192, 0, 2, plan.first_home + h]))
            .chain((0..4u16).map(|h| {
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0x100 + i as u16,
                    0,
                    0,
                    0,
                    0,
                    0x10 + h,
                ))
            }))
            .collect();
        let mut p = Benign::new(
            rng.u64(..),
            users.clone(),
            start,
            SignedDuration::from_hours(24),
            plan.office,
            homes,
        );
        p.format = plan.format;
        p.country = Some(plan.country.to_owned());
        p.travel = vec![
            IpAddr::from([192, 0, 2, 222]),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 7)),
        ];
        logs.push(benign(&p));

        let mut targets: Vec<(String, bool)> = rng
            .choose_multiple(users.iter(), SPRAYED_PER_ORG - plan.guesses.len())
            .into_iter()
            .map(|u| (u.clone(), true))
            .collect();
        targets.extend(plan.guesses.iter().map(|g| {
            let account = match domain {
                Some(domain) => format!("{g}@{domain}"),
                None => (*g).to_owned(),
            };
            (account, false)
        }));
        rng.shuffle(&mut targets);
        sprayed.push(targets);
        staff.push(users);
    }

    // The spray: round one against every target of every organisation in turn, round two
    // against about half of them.
    let second_round: Vec<Vec<bool>> = sprayed
        .iter()
        .map(|t| t.iter().map(|_| rng.bool()).collect())
        .collect();
    let mut time = start + SPRAY_AT;
    for round in 0..2 {
        for slot in 0..SPRAYED_PER_ORG {
            for (org, targets) in sprayed.iter().enumerate() {
                if round == 1 && !second_round[org][slot] {
                    continue;
                }
                let (account, exists) = &targets[slot];
                let kind = if *exists {
                    FailureKind::BadPassword
                } else {
                    FailureKind::UnknownAccount
                };
                let spec = Spec {
                    time,
                    account,
                    ip: Some(SPRAY_SOURCE),
                    kind: Some(kind),
                    protocol: Protocol::Imap,
                    format: PLANS[org].format,
                    country: Some("NL"),
                    ssh_method: SshMethod::Password,
                    user_agent: None,
                };
                logs[org].push(spec.build(&mut rng));
                time += SPRAY_SPACING;
            }
        }
    }

    // The brute force, against a hospital account that is not among the sprayed ones.
    let victim = staff[0]
        .iter()
        .find(|u| !sprayed[0].iter().any(|(s, _)| s == *u))
        .cloned()
        .unwrap_or_else(|| staff[0][0].clone());
    let attack_start = start + BRUTE_FORCE_AT;
    let mut bf = BruteForce::new(
        &victim,
        BRUTE_FORCE_SOURCE,
        attack_start,
        BRUTE_FORCE_FAILURES,
        BRUTE_FORCE_SPACING,
    );
    bf.seed = rng.u64(..);
    bf.then_success = true;
    bf.country = Some("US".to_owned());
    let attack = brute_force(&bf);
    // The victim's own sign-ins around the attack would join it (a typo from the office
    // during the episode would make the office a source of the attack); the story is
    // clearer without them.
    let quiet_from = attack_start - SignedDuration::from_mins(30);
    let quiet_to = attack_start + SignedDuration::from_mins(40);
    logs[0].retain(|s| s.account != victim || s.time < quiet_from || s.time > quiet_to);
    logs[0].extend(attack);

    let mut orgs = Vec::new();
    for (plan, mut log) in PLANS.iter().zip(logs) {
        log.sort_by_key(|s| s.time);
        let file_name = match plan.format {
            Format::EntraGraph => format!(
                "{}-signins.ndjson",
                plan.domain.trim_end_matches(".example")
            ),
            // The demo's plans use only these two formats.
            _ => "openwitness-auth.log".to_owned(),
        };
        let mut lines = Vec::with_capacity(log.len());
        for (i, s) in log.iter_mut().enumerate() {
            s.origin = Origin::FileLine {
                file: file_name.clone(),
                line: i as u64 + 1,
            };
            lines.push(match plan.format {
                Format::EntraGraph => render_graph(s),
                _ => render_sshd(s, "gw"),
            });
        }
        orgs.push(DemoOrg {
            name: plan.name.to_owned(),
            sector: plan.sector,
            country: plan.country.to_owned(),
            domains: vec![plan.domain.to_owned()],
            format: plan.format,
            file_name,
            lines,
            sign_ins: log,
        });
    }

    let mut expected = Vec::new();
    for (plan, targets) in PLANS.iter().zip(&sprayed) {
        if plan.name == PLANS[0].name {
            expected.push(ExpectedDetection {
                kind: DetectionKind::BruteForce,
                org: plan.name.to_owned(),
                campaign_key: format!("brute_force:{victim}"),
                severity: Severity::Critical,
                accounts: vec![victim.clone()],
                sources: vec![BRUTE_FORCE_SOURCE],
                compromised: vec![victim.clone()],
            });
        }
        let accounts: BTreeSet<String> = targets.iter().map(|(a, _)| a.clone()).collect();
        // The same address sprays every organisation: the service sees one campaign, and
        // tells each organisation about its own accounts.
        expected.push(ExpectedDetection {
            kind: DetectionKind::CrossOrgCampaign,
            org: plan.name.to_owned(),
            campaign_key: format!("campaign:{}", model::Network::of(SPRAY_SOURCE)),
            severity: Severity::High,
            accounts: accounts.iter().cloned().collect(),
            sources: vec![SPRAY_SOURCE],
            compromised: Vec::new(),
        });
        expected.push(ExpectedDetection {
            kind: DetectionKind::PasswordSpray,
            org: plan.name.to_owned(),
            campaign_key: format!("password_spray:{}", model::Network::of(SPRAY_SOURCE)),
            severity: Severity::Medium,
            accounts: accounts.into_iter().collect(),
            sources: vec![SPRAY_SOURCE],
            compromised: Vec::new(),
        });
    }
    // Within an organisation, attacks are in the order of their kinds' names.
    Demo { orgs, expected }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Timestamp {
        "2024-11-25T00:00:00Z".parse().expect("ts")
    }

    #[test]
    fn is_deterministic() {
        assert_eq!(demo(42, start()), demo(42, start()));
        assert_ne!(
            demo(42, start()).orgs[0].lines,
            demo(43, start()).orgs[0].lines
        );
    }

    #[test]
    fn logs_are_in_time_order_and_match_their_lines() {
        let d = demo(42, start());
        assert_eq!(d.orgs.len(), 3);
        for org in &d.orgs {
            assert_eq!(org.lines.len(), org.sign_ins.len());
            assert!(org.sign_ins.windows(2).all(|w| w[0].time <= w[1].time));
            assert!(
                org.sign_ins.len() > 150,
                "{}: {}",
                org.name,
                org.sign_ins.len()
            );
        }
        assert!(d.orgs[2].lines.iter().all(|l| l.contains(" gw sshd[")));
        assert!(d.orgs[0].lines.iter().all(|l| l.starts_with('{')));
    }

    #[test]
    fn the_spray_covers_every_org_within_an_hour() {
        let d = demo(42, start());
        for org in &d.orgs {
            let spray: Vec<&SignIn> = org
                .sign_ins
                .iter()
                .filter(|s| s.source_ip == Some(SPRAY_SOURCE))
                .collect();
            assert!(spray.len() >= SPRAYED_PER_ORG, "{}", org.name);
            let span = spray[spray.len() - 1].time.duration_since(spray[0].time);
            assert!(span < SignedDuration::from_hours(1), "{span:?}");
        }
        assert_eq!(d.expected.len(), 7);
        assert!(
            d.expected
                .iter()
                .all(|e| e.accounts.len() == 1 || e.accounts.len() == 18)
        );
    }

    #[test]
    fn uses_only_documentation_addresses() {
        let d = demo(42, start());
        for s in d.orgs.iter().flat_map(|o| &o.sign_ins) {
            let ok = match s.source_ip {
                Some(IpAddr::V4(ip)) => {
                    let o = ip.octets();
                    matches!(
                        (o[0], o[1], o[2]),
                        (192, 0, 2) | (198, 51, 100) | (203, 0, 113)
                    )
                }
                Some(IpAddr::V6(ip)) => ip.segments()[0] == 0x2001 && ip.segments()[1] == 0xdb8,
                None => false,
            };
            assert!(ok, "{:?}", s.source_ip);
        }
    }
}
