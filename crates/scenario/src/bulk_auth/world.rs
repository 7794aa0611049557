//! The generated organisation and the plan of its attacks: who works there, where they
//! sign in from, which addresses attack it, and when and how hard each attack comes.
//!
//! Owns every size and rate of the bulk sign-in logs (per million records, scaled with the
//! count) and the address plan. Everything here is decided once, from the seed, before
//! the first line is written; what happens minute by minute is [`super::actors`]'.
//!
//! Address plan (documentation ranges only, RFC 5737 and RFC 3849):
//!
//! | who | addresses |
//! |---|---|
//! | offices (NAT, shared by many staff) | 192.0.2.10 – 192.0.2.69 |
//! | homes (one or a few staff each) | 2001:db8:100::/40, one /64 each |
//! | brute force | 203.0.113.10 – .209, then 2001:db8:a00::/40 |
//! | legacy-protocol spray | 203.0.113.210 – .249, then 2001:db8:f00::/40 |
//! | password spray | 198.51.100.10 – .149, then 2001:db8:b00::/40 |
//! | compromise (a spray that gets in) | 198.51.100.150 – .249, then 2001:db8:e00::/40 |
//! | distributed spray, campaign `c` | 2001:db8:c00+c::/48, one /64 per address |
//! | low and slow | 2001:db8:d00::/40, one /64 each |
//!
//! Benign and attacking addresses never share a /24 or a /64, because tocsin (and other
//! tools) key sprays by network: a shared network would make the ground truth wrong, not
//! the tool. Attackers of one kind may share a /24, as real ones renting from one host do.

use std::net::{IpAddr, Ipv6Addr};

use fastrand::Rng;
use model::Protocol;

use super::AuthDataset;
use crate::names::FIRST;
use crate::render::fnv1a;

/// Milliseconds in an hour and a minute.
pub(super) const HOUR: i64 = 3_600_000;
pub(super) const MINUTE: i64 = 60_000;

/// The first instant of every file, 2026-11-02T00:00:00Z (a Monday), in Unix seconds.
pub(super) const START_SECOND: i64 = 1_793_577_600;

/// How long the first, quiet part of every file lasts, in which every member of staff
/// signs in once from each of their places before any attack starts. It stands for the
/// history a running service would already have: detectors that learn each account's
/// usual networks (tocsin's compromise watch) would otherwise see a first sign-in from
/// home, hours into the file, as new.
pub(super) const WARM_UP: i64 = 30 * MINUTE;

/// The domain of the organisation's cloud accounts.
pub(super) const ORG_DOMAIN: &str = "harbourview-health.example";

/// Failed passwords after which the cloud identity providers lock an account.
pub(super) const LOCKOUT_AFTER: u32 = 10;

/// Relative sign-in activity per hour of the day (UTC): a working day, quieter nights.
const DIURNAL: [f64; 24] = [
    0.35, 0.3, 0.3, 0.3, 0.35, 0.5, 0.8, 1.2, 1.6, 1.7, 1.7, 1.6, 1.5, 1.6, 1.7, 1.6, 1.5, 1.3,
    1.0, 0.8, 0.7, 0.6, 0.5, 0.4,
];
pub(super) const DIURNAL_MAX: f64 = 1.7;

/// The activity weight at `at` (milliseconds after the start).
pub(super) fn diurnal(at: i64) -> f64 {
    DIURNAL[(at.div_euclid(HOUR) % 24) as usize]
}

/// Service accounts and names that attackers guess on Unix hosts; none exists here.
const UNIX_GUESSES: &[&str] = &[
    "admin",
    "test",
    "user",
    "oracle",
    "postgres",
    "ubuntu",
    "git",
    "ftpuser",
    "pi",
    "guest",
    "support",
    "deploy",
    "jenkins",
    "hadoop",
    "mysql",
    "tomcat",
    "nagios",
    "backup",
    "ansible",
    "minecraft",
    "steam",
    "teamspeak",
    "docker",
    "vagrant",
    "centos",
    "debian",
    "ec2-user",
    "administrator",
    "webmaster",
    "sales",
    "office",
    "test1",
    "user1",
    "ftp",
    "apache",
    "dev",
    "demo",
    "elasticsearch",
    "zabbix",
    "gitlab-runner",
];

/// Mailboxes that attackers guess at an organisation; none exists here.
const MAIL_GUESSES: &[&str] = &[
    "admin",
    "info",
    "it.support",
    "reception",
    "hr",
    "finance",
    "sales",
    "office",
    "helpdesk",
    "test",
    "contact",
    "billing",
    "accounts",
    "noreply",
    "marketing",
    "careers",
    "scanner",
    "printer",
    "board",
    "director",
];

/// Which service a connection knocks on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Door {
    Ssh,
    Imap,
    Pop3,
    /// Postfix's submission service (SMTP AUTH).
    Submission,
    /// A cloud identity provider, over the protocol Entra records.
    Cloud(Protocol),
}

/// The attack kinds, as the ground truth names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    BruteForce,
    PasswordSpray,
    DistributedSpray,
    LowAndSlow,
    Compromise,
    LegacyProtocolSpray,
}

impl Kind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Kind::BruteForce => "brute_force",
            Kind::PasswordSpray => "password_spray",
            Kind::DistributedSpray => "distributed_spray",
            Kind::LowAndSlow => "low_and_slow",
            Kind::Compromise => "compromise",
            Kind::LegacyProtocolSpray => "legacy_protocol_spray",
        }
    }
}

/// One member of staff.
#[derive(Clone, Debug)]
pub(super) struct Person {
    /// Indexes into [`World::places`]: an office, a home, or both.
    pub places: Vec<u32>,
    /// How likely a sign-in is to be theirs, relative to others.
    pub weight: f64,
    /// Signs in to sshd with a key (never mistyped) rather than a password.
    pub ssh_key: bool,
    /// Which browser and which mail client they use.
    pub agent: usize,
}

/// One attack, as planned.
#[derive(Clone, Debug)]
pub(super) struct AttackPlan {
    pub kind: Kind,
    /// The attack's number among those of its kind, which picks its addresses.
    pub number: u32,
    pub seed: u64,
    /// When the first attempt comes (milliseconds after the start).
    pub start: i64,
    pub door: Door,
    /// Attempts (brute force, low and slow), accounts (sprays) or addresses (distributed).
    pub size: u32,
    /// Passwords tried per account (sprays); accounts (distributed spray).
    pub breadth: u32,
    /// Time between connections, before jitter.
    pub pace: i64,
    /// How long the attack lasts (distributed spray, low and slow).
    pub duration: i64,
    /// The one address of every kind but the distributed spray.
    pub source: IpAddr,
    /// The client it sends, in the formats that log one.
    pub agent: &'static str,
    pub country: &'static str,
    pub asn: u32,
}

/// A morning when several staff mistype their passwords at one office within ten
/// minutes (after a password change): many failures from one address that are no attack.
#[derive(Clone, Debug)]
pub(super) struct BurstPlan {
    pub at: i64,
    pub office: u32,
    pub people: Vec<u32>,
}

/// Everything decided before the first line.
pub(super) struct World {
    pub dataset: AuthDataset,
    /// Nominal length of the file; the count of lines decides where it really ends.
    pub span: i64,
    /// Account names: staff first, then `root`, then names nobody has.
    pub names: Vec<String>,
    pub staff: u32,
    /// `names[..existing]` exist (staff and `root`).
    pub existing: u32,
    pub root: u32,
    pub people: Vec<Person>,
    /// Running sum of the people's weights, to draw who signs in next.
    pub cumulative: Vec<f64>,
    /// Offices first, then homes.
    pub places: Vec<IpAddr>,
    pub offices: u32,
    pub attacks: Vec<AttackPlan>,
    pub bursts: Vec<BurstPlan>,
    /// Benign sessions per millisecond at activity weight 1.
    pub session_rate: f64,
}

impl World {
    pub(super) fn new(dataset: AuthDataset, count: u64, seed: u64) -> World {
        let mut rng = Rng::with_seed(seed ^ 0x5ce7_a510_b01d_a001);
        let millions = count as f64 / 1e6;
        // About a day per million records, but never less than six hours, so that even a
        // small file has room for a low-and-slow attack and a distributed spray.
        let span = ((86_400_000.0 * millions) as i64).max(6 * HOUR);
        let staff = (count / 100).clamp(500, 10_000) as u32;
        let cloud = !dataset.is_syslog();

        let domain = cloud.then_some(ORG_DOMAIN);
        let mut names: Vec<String> = crate::staff_names(seed, staff as usize)
            .into_iter()
            .map(|(first, last)| match domain {
                Some(domain) => format!("{first}.{last}@{domain}"),
                None => format!("{first}.{last}"),
            })
            .collect();
        let root = names.len() as u32;
        names.push(match domain {
            Some(domain) => format!("root@{domain}"),
            None => "root".to_owned(),
        });
        let existing = names.len() as u32;
        let guesses = if cloud { MAIL_GUESSES } else { UNIX_GUESSES };
        // First names on their own, as if they were user names: the staff's own first names.
        for guess in guesses.iter().chain(FIRST) {
            names.push(match domain {
                Some(domain) => format!("{guess}@{domain}"),
                None => (*guess).to_owned(),
            });
        }

        let (places, offices, people) = population(&mut rng, staff);
        let mut cumulative = Vec::with_capacity(people.len());
        let mut sum = 0.0;
        for p in &people {
            sum += p.weight;
            cumulative.push(sum);
        }

        let mut world = World {
            dataset,
            span,
            names,
            staff,
            existing,
            root,
            people,
            cumulative,
            places,
            offices,
            attacks: Vec::new(),
            bursts: Vec::new(),
            session_rate: 0.0,
        };
        world.attacks = plan_attacks(&mut rng, dataset, millions, span);
        world.bursts = plan_bursts(&mut rng, &world);
        world.session_rate = world.calibrate(count);
        world
    }

    /// The benign session rate that makes `count` lines last about `span`: what the
    /// attacks will not write, over the lines a session writes, spread over the day's
    /// activity curve.
    fn calibrate(&self, count: u64) -> f64 {
        let lines_per_try = match self.dataset {
            // A failed sshd connection writes an `Invalid user` line for a name nobody
            // has and a close; Dovecot writes one line a try, Postfix three.
            AuthDataset::Sshd => 2.0,
            AuthDataset::AuthSyslog => 1.8,
            AuthDataset::Graph | AuthDataset::SigninLogs | AuthDataset::Okta => 1.0,
        };
        let attack_lines: f64 = self
            .attacks
            .iter()
            .map(|a| a.expected_tries() * lines_per_try)
            .sum::<f64>()
            + self
                .bursts
                .iter()
                .map(|b| b.people.len() as f64 * 3.0 * self.dataset.lines_per_session())
                .sum::<f64>();
        let benign_lines = (count as f64 - attack_lines).max(count as f64 * 0.3);
        let sessions = benign_lines / self.dataset.lines_per_session();
        let warm_up = self.people.iter().map(|p| p.places.len()).sum::<usize>() as f64;
        let mut activity = 0.0;
        let mut at = 0;
        while at < self.span {
            let step = HOUR.min(self.span - at);
            activity += diurnal(at) * step as f64;
            at += step;
        }
        ((sessions - warm_up).max(sessions * 0.5)) / activity
    }

    /// Whether account `i` exists (staff and `root`).
    pub(super) fn exists(&self, account: u32) -> bool {
        account < self.existing
    }

    /// Draws a member of staff, the busier ones more often.
    pub(super) fn draw_person(&self, rng: &mut Rng) -> u32 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.f64() * total;
        let i = self.cumulative.partition_point(|&c| c <= x);
        i.min(self.people.len().saturating_sub(1)) as u32
    }

    /// Indexes of the names attackers guess that nobody has.
    pub(super) fn guesses(&self) -> std::ops::Range<u32> {
        self.existing..self.names.len() as u32
    }
}

impl AttackPlan {
    /// How many attempts the attack is expected to make, for calibration.
    fn expected_tries(&self) -> f64 {
        match self.kind {
            Kind::BruteForce | Kind::LowAndSlow => f64::from(self.size),
            Kind::PasswordSpray | Kind::LegacyProtocolSpray => {
                f64::from(self.size) * f64::from(self.breadth)
            }
            Kind::Compromise => f64::from(self.size) + 1.0,
            // One to three attempts per address, 1.7 on average.
            Kind::DistributedSpray => f64::from(self.size) * 1.7,
        }
    }
}

impl AuthDataset {
    /// Lines an ordinary session writes on average, for calibration.
    fn lines_per_session(self) -> f64 {
        match self {
            // Accepted, session opened, and two or three lines when it ends.
            AuthDataset::Sshd => 4.7,
            // sshd's, Dovecot's login and logout, Postfix's five.
            AuthDataset::AuthSyslog => 3.3,
            AuthDataset::Graph | AuthDataset::SigninLogs => 1.06,
            // The factor, the session, the policy, an app half the time, a logout now
            // and then.
            AuthDataset::Okta => 3.8,
        }
    }
}

/// Offices, homes and the staff living between them.
fn population(rng: &mut Rng, staff: u32) -> (Vec<IpAddr>, u32, Vec<Person>) {
    let offices = (staff / 800).clamp(3, 60);
    let mut places: Vec<IpAddr> = (0..offices)
        .map(|i| IpAddr::from([192, 0, 2, 10 + i as u8]))
        .collect();
    // Households of about two working adults (some alone, some flat-shares).
    let homes = (staff * 3 / 8).max(1);
    places.extend((0..homes).map(home_address));
    let people = (0..staff)
        .map(|_| {
            // Offices differ in size: the first is the headquarters.
            let office = {
                let x = rng.f64();
                ((x * x) * f64::from(offices)) as u32
            };
            let home = offices + rng.u32(..homes);
            let places = match rng.u32(..20) {
                0..=10 => vec![office, home],
                11..=15 => vec![office],
                _ => vec![home],
            };
            Person {
                places,
                weight: 0.5 + rng.f64() * 1.5,
                ssh_key: rng.f64() < 0.6,
                agent: rng.usize(..64),
            }
        })
        .collect();
    (places, offices, people)
}

/// Home `h`: an address of its own /64 in 2001:db8:100::/40, with privacy-extension
/// looking interface bits.
fn home_address(h: u32) -> IpAddr {
    v6(
        0x0100 + (h >> 16) as u16,
        h as u16,
        &[b"home", &h.to_le_bytes()],
    )
}

/// An address in 2001:db8:`third`:`fourth`::/64 with interface bits from `parts`.
pub(super) fn v6(third: u16, fourth: u16, parts: &[&[u8]]) -> IpAddr {
    let bits = fnv1a(parts);
    IpAddr::V6(Ipv6Addr::new(
        0x2001,
        0xdb8,
        third,
        fourth,
        (bits >> 48) as u16,
        (bits >> 32) as u16,
        (bits >> 16) as u16,
        (bits as u16).max(1),
    ))
}

/// The address of attacker `number` of `kind`: from the kind's IPv4 pool while it
/// lasts (in a scrambled order, as rented servers are), then from its IPv6 block.
fn attack_address(kind: Kind, number: u32) -> IpAddr {
    let (prefix, first, len, block) = match kind {
        Kind::BruteForce => ([203, 0, 113], 10, 200, 0x0a00),
        Kind::LegacyProtocolSpray => ([203, 0, 113], 210, 40, 0x0f00),
        Kind::PasswordSpray => ([198, 51, 100], 10, 140, 0x0b00),
        Kind::Compromise => ([198, 51, 100], 150, 100, 0x0e00),
        Kind::LowAndSlow => ([0, 0, 0], 0, 0, 0x0d00),
        Kind::DistributedSpray => ([0, 0, 0], 0, 0, 0x0c00),
    };
    if number < len {
        // 97 is prime and divides none of the pool sizes, so this is a permutation.
        let host = first + (number * 97 + 13) % len;
        let [a, b, c] = prefix;
        return IpAddr::from([a, b, c, host as u8]);
    }
    let n = number - len;
    v6(
        block + (n >> 16) as u16,
        n as u16,
        &[kind.as_str().as_bytes(), &n.to_le_bytes()],
    )
}

/// Address `i` of distributed-spray campaign `campaign`: a /64 of its own.
pub(super) fn campaign_address(campaign: u32, i: u32) -> IpAddr {
    v6(
        0x0c00 + campaign as u16,
        i as u16,
        &[b"campaign", &campaign.to_le_bytes(), &i.to_le_bytes()],
    )
}

/// `lo..hi` scaled by `factor`, never below `floor`.
fn scaled(rng: &mut Rng, lo: f64, hi: f64, factor: f64, floor: u32) -> u32 {
    // Log-uniform: most attacks are small, a few are large.
    let x = (lo.ln() + rng.f64() * (hi.ln() - lo.ln())).exp();
    ((x * factor) as u32).max(floor)
}

/// Attacks per million records of each kind, and at least one of each in every file.
fn plan_attacks(rng: &mut Rng, dataset: AuthDataset, millions: f64, span: i64) -> Vec<AttackPlan> {
    let per_million: &[(Kind, f64)] = if dataset == AuthDataset::Okta {
        // Okta records no protocol, so a legacy-protocol spray is a plain one there.
        &[
            (Kind::BruteForce, 20.0),
            (Kind::PasswordSpray, 10.0),
            (Kind::DistributedSpray, 1.0),
            (Kind::LowAndSlow, 20.0),
            (Kind::Compromise, 2.0),
        ]
    } else if !dataset.is_syslog() {
        &[
            (Kind::BruteForce, 20.0),
            (Kind::PasswordSpray, 10.0),
            (Kind::DistributedSpray, 1.0),
            (Kind::LowAndSlow, 20.0),
            (Kind::Compromise, 2.0),
            (Kind::LegacyProtocolSpray, 5.0),
        ]
    } else {
        &[
            (Kind::BruteForce, 40.0),
            (Kind::PasswordSpray, 10.0),
            (Kind::DistributedSpray, 1.0),
            (Kind::LowAndSlow, 20.0),
            (Kind::Compromise, 2.0),
        ]
    };
    // Small files get smaller attacks, so that they stay a minority of the lines.
    let factor = millions.clamp(0.05, 1.0);
    let earliest = WARM_UP + 5 * MINUTE;
    let latest_end = span * 9 / 10;
    let mut plans = Vec::new();
    for &(kind, rate) in per_million {
        let n = ((rate * millions).round() as u32).max(1);
        for number in 0..n {
            let seed = rng.u64(..);
            let mut plan = AttackPlan {
                kind,
                number,
                seed,
                start: 0,
                door: door(rng, dataset, kind),
                size: 0,
                breadth: 1,
                pace: 0,
                duration: 0,
                source: attack_address(kind, number),
                agent: "",
                country: "",
                asn: 64_500 + rng.u32(..12),
            };
            match kind {
                Kind::BruteForce => {
                    plan.size = scaled(rng, 200.0, 3000.0, factor, 30);
                    plan.pace = rng.i64(1_500..6_000);
                    plan.duration = i64::from(plan.size) * plan.pace;
                    plan.agent = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 \
                                  Firefox/115.0";
                    plan.country = "NL";
                }
                Kind::PasswordSpray | Kind::LegacyProtocolSpray => {
                    plan.size = scaled(rng, 200.0, 2000.0, factor, 30);
                    plan.breadth = if rng.f64() < 0.3 { 2 } else { 1 };
                    plan.pace = rng.i64(3_000..15_000);
                    plan.duration = i64::from(plan.size * plan.breadth) * plan.pace;
                    plan.agent = if kind == Kind::LegacyProtocolSpray {
                        "BAV2ROPC"
                    } else {
                        "python-requests/2.31.0"
                    };
                    plan.country = "US";
                }
                Kind::Compromise => {
                    plan.size = scaled(rng, 100.0, 400.0, factor, 25);
                    plan.pace = rng.i64(4_000..12_000);
                    plan.duration = i64::from(plan.size + 1) * plan.pace;
                    plan.agent = "python-requests/2.28.2";
                    plan.country = "NL";
                }
                Kind::DistributedSpray => {
                    plan.size = scaled(rng, 2000.0, 4000.0, factor, 40);
                    plan.breadth = scaled(rng, 300.0, 1500.0, factor, 40);
                    plan.duration = rng.i64(6 * HOUR..12 * HOUR).min(span * 55 / 100);
                    plan.agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                                  (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
                    plan.country = "";
                }
                Kind::LowAndSlow => {
                    plan.duration = rng.i64(8 * HOUR..16 * HOUR).min(span * 6 / 10);
                    // One attempt every 11 to 20 minutes.
                    plan.size = (plan.duration / (15 * MINUTE + 30_000)).max(3) as u32;
                    plan.pace = 15 * MINUTE + 30_000;
                    plan.agent = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook \
                                  16.0.17328; Pro)";
                    plan.country = "DE";
                }
            }
            let last_start = (latest_end - plan.duration).max(earliest);
            plan.start = rng.i64(earliest..=last_start);
            plans.push(plan);
        }
    }
    plans.sort_by_key(|p| p.start);
    plans
}

/// The service an attack of `kind` goes for in `dataset`.
fn door(rng: &mut Rng, dataset: AuthDataset, kind: Kind) -> Door {
    match dataset {
        AuthDataset::Sshd => Door::Ssh,
        AuthDataset::AuthSyslog => {
            let x = rng.f64();
            match kind {
                Kind::BruteForce if x < 0.55 => Door::Ssh,
                Kind::BruteForce if x < 0.8 => Door::Imap,
                Kind::BruteForce => Door::Submission,
                Kind::LowAndSlow if x < 0.5 => Door::Ssh,
                Kind::LowAndSlow => Door::Imap,
                _ if x < 0.2 => Door::Ssh,
                _ if x < 0.65 => Door::Imap,
                _ if x < 0.75 => Door::Pop3,
                _ => Door::Submission,
            }
        }
        AuthDataset::Graph | AuthDataset::SigninLogs | AuthDataset::Okta => match kind {
            Kind::BruteForce => Door::Cloud(Protocol::Browser),
            Kind::DistributedSpray => Door::Cloud(Protocol::Browser),
            Kind::LegacyProtocolSpray | Kind::Compromise => {
                let legacy = [
                    Protocol::Imap,
                    Protocol::Smtp,
                    Protocol::ExchangeActiveSync,
                    Protocol::Pop3,
                ];
                Door::Cloud(legacy[rng.usize(..legacy.len())])
            }
            Kind::PasswordSpray | Kind::LowAndSlow => Door::Cloud(Protocol::ModernClient),
        },
    }
}

/// One typo burst at an office each working morning (09:00 UTC), or one at two fifths of
/// a file shorter than a morning.
fn plan_bursts(rng: &mut Rng, world: &World) -> Vec<BurstPlan> {
    let days = world.span / (24 * HOUR);
    let mut times: Vec<i64> = (0..days)
        .map(|d| d * 24 * HOUR + 9 * HOUR)
        .filter(|&t| t + 15 * MINUTE < world.span)
        .collect();
    if times.is_empty() {
        times.push((world.span * 2 / 5).max(WARM_UP + 5 * MINUTE));
    }
    times
        .into_iter()
        .enumerate()
        .map(|(day, at)| {
            let office = (day as u32) % world.offices.min(2);
            let mut staff: Vec<u32> = (0..world.staff)
                .filter(|&p| world.people[p as usize].places.contains(&office))
                .collect();
            rng.shuffle(&mut staff);
            staff.truncate(rng.usize(8..=12));
            BurstPlan {
                at,
                office,
                people: staff,
            }
        })
        .collect()
}
