//! Who connects when: the staff (their first sign-ins, their ordinary day, the mornings
//! they all mistype at one office) and each planned attack, as a stream of connections.
//!
//! Owns the behaviour over time only. A connection here is format-free (who, from where,
//! to which service, which accounts and passwords, how it ended); [`super::lines`] decides
//! what each format writes for it. Every actor draws from its own random stream, so that
//! what one does never shifts what another does.

use std::net::IpAddr;

use fastrand::Rng;
use model::Protocol;

use super::AuthDataset;
use super::world::{
    AttackPlan, BurstPlan, DIURNAL_MAX, Door, HOUR, Kind, LOCKOUT_AFTER, MINUTE, WARM_UP, World,
    campaign_address, diurnal,
};
// Browsers staff sign in with (the cloud formats log them): the demo's.
use crate::benign::BROWSERS;

/// Who a connection belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Owner {
    /// Staff; the connection comes from `World::places[place]`.
    Staff { place: u32 },
    /// Attack number `n` of `World::attacks`.
    Attack(u32),
}

/// What one password try achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Success,
    /// A wrong password for an account that exists, or any guess where the service does
    /// not say whether the account exists.
    BadPassword,
    UnknownAccount,
    /// The identity provider has locked the account.
    Locked,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Try {
    pub account: u32,
    pub outcome: Outcome,
    /// This try locked the account (cloud providers log a lockout event after it).
    pub locks: bool,
}

/// One connection: tries in turn, `gap` apart, and, after a success, a session of
/// `session` milliseconds.
#[derive(Clone, Debug)]
pub(super) struct Conn {
    pub at: i64,
    pub owner: Owner,
    pub ip: IpAddr,
    pub door: Door,
    pub tries: Vec<Try>,
    pub gap: i64,
    pub session: i64,
    /// An sshd success with a key rather than a password.
    pub key: bool,
    pub agent: &'static str,
    pub country: &'static str,
    pub asn: u32,
}

/// Office and mail clients staff use.
const CLIENTS: [&str; 3] = [
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)",
    "Outlook-iOS/723.4027091.prod.iphone (4.2447.0)",
    "Outlook-Android/2.0",
];

/// Phones syncing mail over Exchange ActiveSync.
const PHONES: [&str; 2] = ["Apple-iPhone15C2/2107.100", "Android-Mail/2024.11.03"];

/// Something that wakes at a time, connects, and says when it wakes next.
pub(super) enum Actor {
    WarmUp(WarmUp),
    Staff(Staff),
    Burst(Burst),
    Attack(Box<Attack>),
    /// Has nothing more to do; what it held is freed.
    Done,
}

impl Actor {
    /// All actors of `world`, each with the time it first wakes.
    pub(super) fn cast(world: &World, seed: u64) -> Vec<(i64, Actor)> {
        let mut cast = vec![
            (
                0,
                Actor::WarmUp(WarmUp {
                    rng: Rng::with_seed(seed ^ 0x3a71),
                    person: 0,
                    place: 0,
                    done: 0,
                    total: world.people.iter().map(|p| p.places.len()).sum(),
                }),
            ),
            (
                0,
                Actor::Staff(Staff {
                    rng: Rng::with_seed(seed ^ 0x57af),
                }),
            ),
        ];
        for (n, burst) in world.bursts.iter().enumerate() {
            cast.push((
                burst.at,
                Actor::Burst(Burst {
                    rng: Rng::with_seed(seed ^ (0xb0_0000 + n as u64)),
                    burst: burst.clone(),
                    next: 0,
                    offsets: Vec::new(),
                }),
            ));
        }
        for (n, plan) in world.attacks.iter().enumerate() {
            cast.push((
                plan.start,
                Actor::Attack(Box::new(Attack {
                    n: n as u32,
                    rng: Rng::with_seed(plan.seed),
                    plan: plan.clone(),
                    done: 0,
                    targets: Vec::new(),
                    schedule: Vec::new(),
                    failures: Vec::new(),
                })),
            ));
        }
        cast
    }

    /// Wakes at `now`: appends the connections that start now to `out` and returns when
    /// to wake next, or `None` when the actor has nothing more to do.
    pub(super) fn wake(&mut self, now: i64, world: &World, out: &mut Vec<Conn>) -> Option<i64> {
        match self {
            Actor::WarmUp(a) => a.wake(now, world, out),
            Actor::Staff(a) => a.wake(now, world, out),
            Actor::Burst(a) => a.wake(now, world, out),
            Actor::Attack(a) => a.wake(now, world, out),
            Actor::Done => None,
        }
    }
}

/// How a member of staff signs in: to which service, with which client, and for how long.
fn staff_conn(rng: &mut Rng, world: &World, at: i64, person: u32, place: u32, typos: u32) -> Conn {
    let p = &world.people[person as usize];
    let door = match world.dataset {
        AuthDataset::Sshd => Door::Ssh,
        AuthDataset::AuthSyslog => {
            // Shares of sessions that give about half the lines to sshd, three tenths
            // to Dovecot and a fifth to Postfix.
            let x = rng.f64();
            if x < 0.36 {
                Door::Ssh
            } else if x < 0.83 {
                Door::Imap
            } else if x < 0.89 {
                Door::Pop3
            } else {
                Door::Submission
            }
        }
        AuthDataset::Graph | AuthDataset::SigninLogs | AuthDataset::Okta => {
            let x = rng.f64();
            Door::Cloud(if x < 0.55 {
                Protocol::Browser
            } else if x < 0.95 || world.dataset == AuthDataset::Okta {
                Protocol::ModernClient
            } else {
                Protocol::ExchangeActiveSync
            })
        }
    };
    let key = door == Door::Ssh && p.ssh_key && typos == 0;
    let mut tries: Vec<Try> = (0..typos)
        .map(|_| Try {
            account: person,
            outcome: Outcome::BadPassword,
            locks: false,
        })
        .collect();
    tries.push(Try {
        account: person,
        outcome: Outcome::Success,
        locks: false,
    });
    let session = match door {
        Door::Ssh => (-(1.0 - rng.f64()).ln() * 25.0 * MINUTE as f64) as i64 + 10_000,
        Door::Imap => rng.i64(2 * MINUTE..90 * MINUTE),
        Door::Pop3 => rng.i64(2_000..20_000),
        Door::Submission => rng.i64(1_000..4_000),
        Door::Cloud(_) => rng.i64(HOUR..8 * HOUR),
    }
    .min(6 * HOUR);
    let agent = match door {
        Door::Cloud(Protocol::Browser) => BROWSERS[p.agent % BROWSERS.len()],
        Door::Cloud(Protocol::ExchangeActiveSync) => PHONES[p.agent % PHONES.len()],
        _ => CLIENTS[p.agent % CLIENTS.len()],
    };
    let ip = world.places[place as usize];
    Conn {
        at,
        owner: Owner::Staff { place },
        ip,
        door,
        tries,
        gap: rng.i64(3_000..12_000),
        session,
        key,
        agent,
        country: "IE",
        // Offices sit behind one provider, homes behind three.
        asn: if place < world.offices {
            64_496
        } else {
            64_497 + place % 3
        },
    }
}

/// How many passwords a member of staff mistypes before getting it right: usually none.
fn typos(rng: &mut Rng) -> u32 {
    let x = rng.f64();
    if x < 0.96 {
        0
    } else if x < 0.988 {
        1
    } else if x < 0.997 {
        2
    } else {
        3
    }
}

/// The first half hour: every member of staff signs in once from each of their places,
/// evenly spread, without typos.
pub(super) struct WarmUp {
    rng: Rng,
    person: usize,
    place: usize,
    done: usize,
    total: usize,
}

impl WarmUp {
    fn wake(&mut self, now: i64, world: &World, out: &mut Vec<Conn>) -> Option<i64> {
        let p = world.people.get(self.person)?;
        let place = p.places[self.place];
        out.push(staff_conn(
            &mut self.rng,
            world,
            now,
            self.person as u32,
            place,
            0,
        ));
        self.place += 1;
        if self.place == p.places.len() {
            self.place = 0;
            self.person += 1;
        }
        self.done += 1;
        (self.done < self.total).then(|| WARM_UP * self.done as i64 / self.total as i64)
    }
}

/// The ordinary day: sessions as a Poisson process whose rate follows the hour of day,
/// each by a member of staff drawn by how busy they are, from one of their places.
pub(super) struct Staff {
    rng: Rng,
}

impl Staff {
    fn wake(&mut self, now: i64, world: &World, out: &mut Vec<Conn>) -> Option<i64> {
        if now > 0 {
            let person = world.draw_person(&mut self.rng);
            let places = &world.people[person as usize].places;
            // Staff with an office and a home work from the office two days in three.
            let place = if places.len() > 1 && self.rng.f64() < 0.35 {
                places[1]
            } else {
                places[0]
            };
            let typos = typos(&mut self.rng);
            out.push(staff_conn(&mut self.rng, world, now, person, place, typos));
        }
        // Thinning: draw at the busiest rate, keep a draw as often as the hour allows.
        let peak = world.session_rate * DIURNAL_MAX;
        let mut at = now;
        loop {
            let gap = -(1.0 - self.rng.f64()).ln() / peak;
            at += (gap as i64).max(1);
            if self.rng.f64() * DIURNAL_MAX < diurnal(at) {
                return Some(at);
            }
        }
    }
}

/// A typo burst: within nine minutes, each of its people mistypes one to three times at
/// the same office, then gets it right.
pub(super) struct Burst {
    rng: Rng,
    burst: BurstPlan,
    next: usize,
    offsets: Vec<i64>,
}

impl Burst {
    fn wake(&mut self, now: i64, world: &World, out: &mut Vec<Conn>) -> Option<i64> {
        if self.offsets.is_empty() {
            self.offsets = (0..self.burst.people.len())
                .map(|_| self.rng.i64(0..9 * MINUTE))
                .collect();
            self.offsets.sort_unstable();
            self.offsets.dedup();
        }
        let person = *self.burst.people.get(self.next)?;
        let typos = self.rng.u32(1..=3);
        let mut conn = staff_conn(&mut self.rng, world, now, person, self.burst.office, typos);
        // A password change: mail clients and browsers try the old one.
        conn.door = match world.dataset {
            AuthDataset::Sshd => Door::Ssh,
            AuthDataset::AuthSyslog => Door::Imap,
            _ => Door::Cloud(Protocol::Browser),
        };
        conn.key = false;
        out.push(conn);
        self.next += 1;
        let next = self.offsets.get(self.next)?;
        Some(self.burst.at + next)
    }
}

/// One attack under way.
pub(super) struct Attack {
    n: u32,
    rng: Rng,
    plan: AttackPlan,
    /// Attempts made so far.
    done: u32,
    /// The accounts it goes for, in order.
    targets: Vec<u32>,
    /// Distributed spray: which of its addresses makes each attempt.
    schedule: Vec<u32>,
    /// Failures so far per target (brute force: for lockouts).
    failures: Vec<u32>,
}

impl Attack {
    fn wake(&mut self, now: i64, world: &World, out: &mut Vec<Conn>) -> Option<i64> {
        if self.done == 0 && self.targets.is_empty() {
            self.prepare(world);
        }
        let plan = &self.plan;
        let cloud = matches!(plan.door, Door::Cloud(_));
        let mut conn = Conn {
            at: now,
            owner: Owner::Attack(self.n),
            ip: plan.source,
            door: plan.door,
            tries: Vec::new(),
            gap: self.rng.i64(800..3_000),
            session: 0,
            key: false,
            agent: plan.agent,
            country: plan.country,
            asn: plan.asn,
        };
        let result = |account: u32| {
            if world.exists(account) {
                Outcome::BadPassword
            } else {
                Outcome::UnknownAccount
            }
        };
        let jitter = |rng: &mut Rng, pace: i64| (pace as f64 * (0.5 + rng.f64())) as i64;
        match plan.kind {
            Kind::BruteForce => {
                let target = (self.done as usize / 7) % self.targets.len();
                let account = self.targets[target];
                // sshd lets a client try a few passwords per connection.
                let per_conn = if plan.door == Door::Ssh {
                    self.rng.u32(1..=3)
                } else {
                    1
                };
                for _ in 0..per_conn.min(plan.size - self.done) {
                    let failures = &mut self.failures[target];
                    *failures += 1;
                    // Cloud providers lock an existing account after ten wrong passwords
                    // and refuse every later try with a lockout.
                    let lockable = cloud && world.exists(account);
                    let outcome = if lockable && *failures > LOCKOUT_AFTER {
                        Outcome::Locked
                    } else {
                        result(account)
                    };
                    conn.tries.push(Try {
                        account,
                        outcome,
                        locks: lockable && *failures == LOCKOUT_AFTER,
                    });
                    self.done += 1;
                }
                out.push(conn);
                let next = now + jitter(&mut self.rng, plan.pace) * i64::from(per_conn);
                (self.done < plan.size).then_some(next)
            }
            Kind::PasswordSpray | Kind::LegacyProtocolSpray | Kind::Compromise => {
                let total = self.targets.len() as u32 * plan.breadth;
                if self.done < total {
                    let account = self.targets[(self.done as usize) % self.targets.len()];
                    conn.tries.push(Try {
                        account,
                        outcome: result(account),
                        locks: false,
                    });
                } else {
                    // The compromise: one of the sprayed staff had that password.
                    let victim = self.victim(world);
                    conn.tries.push(Try {
                        account: victim,
                        outcome: Outcome::Success,
                        locks: false,
                    });
                    conn.session = self.rng.i64(5 * MINUTE..40 * MINUTE);
                }
                out.push(conn);
                self.done += 1;
                let end = total + u32::from(plan.kind == Kind::Compromise);
                (self.done < end).then(|| now + jitter(&mut self.rng, plan.pace))
            }
            Kind::DistributedSpray => {
                let k = self.done as usize;
                conn.ip = campaign_address(plan.number, self.schedule[k]);
                // The campaign's proxies are all over the world.
                conn.country = ["US", "NL", "DE", "KE", ""][self.schedule[k] as usize % 5];
                let account = self.targets[k % self.targets.len()];
                conn.tries.push(Try {
                    account,
                    outcome: result(account),
                    locks: false,
                });
                out.push(conn);
                self.done += 1;
                let m = self.schedule.len() as i64;
                let k = i64::from(self.done);
                (k < m).then(|| {
                    // Attempt k falls in the k-th of m equal slices of the duration.
                    let slice = plan.duration / m;
                    plan.start + plan.duration * k / m + self.rng.i64(0..slice.max(1))
                })
            }
            Kind::LowAndSlow => {
                let account = self.targets[0];
                conn.tries.push(Try {
                    account,
                    outcome: result(account),
                    locks: false,
                });
                out.push(conn);
                self.done += 1;
                (self.done < plan.size).then(|| now + self.rng.i64(11 * MINUTE..=20 * MINUTE))
            }
        }
    }

    /// The staff account a compromise gets into: the first member of staff it sprayed,
    /// whose second password (a season and a year) was the right one.
    fn victim(&self, world: &World) -> u32 {
        self.targets
            .iter()
            .copied()
            .find(|&a| a < world.staff)
            .unwrap_or(0)
    }

    /// Chooses the targets (and a distributed spray's schedule) on the first wake, so
    /// that only attacks under way hold them.
    fn prepare(&mut self, world: &World) {
        let plan = &self.plan;
        let rng = &mut self.rng;
        let staff = world.staff;
        let guesses = world.guesses();
        let unix = world.dataset.is_syslog() && plan.door == Door::Ssh;
        match plan.kind {
            Kind::BruteForce => {
                let x = rng.f64();
                self.targets = if !world.dataset.is_syslog() {
                    // In the cloud, the staff whose names are public.
                    let mut t = vec![rng.u32(..staff)];
                    if x < 0.3 {
                        t.push(rng.u32(..staff));
                        t.dedup();
                    }
                    t
                } else if unix && x < 0.45 {
                    vec![world.root]
                } else if x < 0.7 {
                    // A few likely names; on sshd root among them.
                    let mut t: Vec<u32> = Vec::new();
                    if unix {
                        t.push(world.root);
                    }
                    while t.len() < 3 {
                        let g = rng.u32(guesses.start..guesses.start + 6);
                        if !t.contains(&g) {
                            t.push(g);
                        }
                    }
                    t
                } else {
                    vec![rng.u32(..staff)]
                };
                self.failures = vec![0; self.targets.len()];
            }
            Kind::PasswordSpray | Kind::LegacyProtocolSpray | Kind::Compromise => {
                let want = plan.size as usize;
                // Mostly real staff (harvested from the web site and earlier breaches),
                // some names nobody has.
                let real = (want * 85 / 100).clamp(1, staff as usize);
                let mut t: Vec<u32> = rng.choose_multiple(0..staff, real);
                let invented = (want - real.min(want)).min(guesses.len());
                t.extend(rng.choose_multiple(guesses, invented));
                rng.shuffle(&mut t);
                self.targets = t;
            }
            Kind::DistributedSpray => {
                let accounts = (plan.breadth as usize).clamp(1, staff as usize);
                self.targets = rng.choose_multiple(0..staff, accounts);
                rng.shuffle(&mut self.targets);
                let mut schedule = Vec::with_capacity(plan.size as usize * 2);
                for source in 0..plan.size {
                    let x = rng.f64();
                    let attempts = if x < 0.5 {
                        1
                    } else if x < 0.8 {
                        2
                    } else {
                        3
                    };
                    schedule.extend(std::iter::repeat_n(source, attempts));
                }
                rng.shuffle(&mut schedule);
                self.schedule = schedule;
            }
            Kind::LowAndSlow => {
                self.targets = if unix && rng.f64() < 0.4 {
                    vec![world.root]
                } else {
                    vec![rng.u32(..staff)]
                };
            }
        }
    }
}
