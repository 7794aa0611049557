//! What each format writes for a connection: the sshd, Dovecot and Postfix syslog lines
//! (with the session and connection lines around the sign-ins), and the Graph, Log
//! Analytics and Okta records.
//!
//! Owns the lines of a connection and what tocsin will read each as (a sign-in with its
//! outcome, or not), which is how the generator knows how many sign-ins it wrote. The
//! message texts come from [`crate::render`] and [`crate::event`], shared with the
//! single-sign-in renderers. Syslog lines are assembled by hand: ten million of them must
//! take seconds, not minutes.

use std::fmt::Write as _;
use std::net::IpAddr;

use fastrand::Rng;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use model::{FailureKind, Format, Origin, Outcome as SignInOutcome, Protocol, SignIn};

use super::AuthDataset;
use super::actors::{Conn, Outcome, Owner};
use super::world::{Door, ORG_DOMAIN, START_SECOND, World};
use crate::event::{fingerprint, strength, uuid};
use crate::render::{
    dovecot_login_message, dovecot_session, mail_server_address, postfix_auth_message,
    postfix_queue_id, render_graph, render_okta_event, render_signin_logs,
};

/// What tocsin reads a line as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    /// A line that is no sign-in event (a session opening, a queue manager's note).
    Noise,
    /// A record of a known format that is no sign-in (an Okta logout).
    Other,
    Success,
    Failure,
    /// A client that left before trying a password.
    PreAuth,
}

/// A password try a line reports, for the ground truth.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tried {
    pub owner: Owner,
    pub account: u32,
    pub ip: IpAddr,
}

/// One line, before it is written.
#[derive(Debug)]
pub(super) struct Line {
    pub text: Text,
    pub class: Class,
    pub tried: Option<Tried>,
}

/// A line's text, or what it will be rendered from when it is written: an Okta event is
/// a few kilobytes of JSON, and logouts wait hours in the queue.
#[derive(Debug)]
pub(super) enum Text {
    Ready(String),
    Okta(Box<SignIn>, &'static str),
}

impl Text {
    pub(super) fn write_into(&self, out: &mut String) {
        match self {
            Text::Ready(text) => out.push_str(text),
            Text::Okta(sign_in, event_type) => {
                out.push_str(&render_okta_event(sign_in, event_type));
            }
        }
    }
}

const SSHD_HOST: &str = "gw";
const MAIL_HOST: &str = "mail";
/// Dovecot's master process and Postfix's queue manager live as long as the file.
const DOVECOT_PID: u32 = 812;
const QMGR_PID: u32 = 1187;
/// Linux's default `pid_max` on 64-bit systems.
const PID_MAX: u32 = 4_194_304;

/// Renders connections, holding what lines of one file share: process ids, the random
/// stream for ports and session ids, and the current day's syslog date.
pub(super) struct Lines {
    dataset: AuthDataset,
    rng: Rng,
    sshd_pid: u32,
    mail_pid: u32,
    day: i64,
    date: String,
}

impl Lines {
    pub(super) fn new(dataset: AuthDataset, seed: u64) -> Lines {
        let mut rng = Rng::with_seed(seed ^ 0x11e5);
        Lines {
            dataset,
            sshd_pid: rng.u32(2_000..3_000),
            mail_pid: rng.u32(3_000..4_000),
            rng,
            day: i64::MIN,
            date: String::new(),
        }
    }

    /// Appends the lines of `conn`, each with the time it is written at (milliseconds
    /// after the start), to `out`. Times never go below `conn.at`.
    pub(super) fn render(&mut self, conn: &Conn, world: &World, out: &mut Vec<(i64, Line)>) {
        match conn.door {
            Door::Ssh => self.sshd(conn, world, out),
            Door::Imap | Door::Pop3 => self.dovecot(conn, world, out),
            Door::Submission => self.postfix(conn, world, out),
            Door::Cloud(protocol) => self.cloud(conn, protocol, world, out),
        }
    }

    /// The `Nov  2 09:14:02 host program[pid]: message` line at `at`.
    fn syslog(&mut self, at: i64, host: &str, program: &str, pid: u32, message: &str) -> String {
        let second = START_SECOND + at.div_euclid(1000);
        let day = second.div_euclid(86_400);
        if day != self.day {
            self.day = day;
            self.date = Timestamp::from_second(day * 86_400)
                .map(|t| t.to_zoned(TimeZone::UTC).strftime("%b %e").to_string())
                .unwrap_or_default();
        }
        let in_day = second.rem_euclid(86_400);
        let mut line = String::with_capacity(32 + host.len() + program.len() + message.len());
        let _ = write!(
            line,
            "{} {:02}:{:02}:{:02} {host} {program}[{pid}]: {message}",
            self.date,
            in_day / 3600,
            in_day / 60 % 60,
            in_day % 60
        );
        line
    }

    fn next_pid(pid: &mut u32, rng: &mut Rng) -> u32 {
        *pid += rng.u32(1..=4);
        if *pid >= PID_MAX {
            *pid = 1_000;
        }
        *pid
    }

    /// One sshd connection: `Invalid user` first for a name that does not exist, the
    /// tries, then either the session (opened, and closed when it ends) or the
    /// pre-authentication close that a failed client leaves.
    fn sshd(&mut self, conn: &Conn, world: &World, out: &mut Vec<(i64, Line)>) {
        let Some(first) = conn.tries.first() else {
            return;
        };
        let pid = Self::next_pid(&mut self.sshd_pid, &mut self.rng);
        let port = self.rng.u16(1024..=65535);
        let ip = conn.ip;
        let user = world.names[first.account as usize].as_str();
        let exists = world.exists(first.account);
        let mut at = conn.at;
        let mut push = |this: &mut Self, at: i64, message: &str, class: Class, tried: bool| {
            let text = this.syslog(at, SSHD_HOST, "sshd", pid, message);
            let tried = tried.then_some(Tried {
                owner: conn.owner,
                account: first.account,
                ip,
            });
            out.push((
                at,
                Line {
                    text: Text::Ready(text),
                    class,
                    tried,
                },
            ));
        };
        if !exists {
            push(
                self,
                at,
                &format!("Invalid user {user} from {ip} port {port}"),
                Class::Failure,
                false,
            );
            at += 400;
        }
        let mut succeeded = false;
        for (i, t) in conn.tries.iter().enumerate() {
            if i > 0 {
                at += conn.gap;
            }
            let message = if t.outcome == Outcome::Success {
                succeeded = true;
                if conn.key {
                    let key = fingerprint(&mut Rng::with_seed(crate::render::fnv1a(&[
                        b"ssh-key",
                        user.as_bytes(),
                    ])));
                    format!(
                        "Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 \
                         SHA256:{key}"
                    )
                } else {
                    format!("Accepted password for {user} from {ip} port {port} ssh2")
                }
            } else if exists {
                format!("Failed password for {user} from {ip} port {port} ssh2")
            } else {
                format!("Failed password for invalid user {user} from {ip} port {port} ssh2")
            };
            let class = if succeeded {
                Class::Success
            } else {
                Class::Failure
            };
            push(self, at, &message, class, true);
        }
        if succeeded {
            let uid = if first.account == world.root {
                0
            } else {
                1000 + first.account
            };
            push(
                self,
                at,
                &format!(
                    "pam_unix(sshd:session): session opened for user {user}(uid={uid}) by \
                     (uid=0)"
                ),
                Class::Noise,
                false,
            );
            let end = at + conn.session.max(1000);
            if self.rng.f64() < 0.75 {
                push(
                    self,
                    end,
                    &format!("Received disconnect from {ip} port {port}:11: disconnected by user"),
                    Class::Noise,
                    false,
                );
                push(
                    self,
                    end,
                    &format!("Disconnected from user {user} {ip} port {port}"),
                    Class::Noise,
                    false,
                );
            } else {
                push(
                    self,
                    end,
                    &format!("Connection closed by {ip} port {port}"),
                    Class::Noise,
                    false,
                );
            }
            push(
                self,
                end,
                &format!("pam_unix(sshd:session): session closed for user {user}"),
                Class::Noise,
                false,
            );
        } else {
            let who = if exists {
                "authenticating user"
            } else {
                "invalid user"
            };
            let verb = if self.rng.bool() {
                "Connection closed by"
            } else {
                "Disconnected from"
            };
            let end = at + self.rng.i64(50..1_500);
            push(
                self,
                end,
                &format!("{verb} {who} {user} {ip} port {port} [preauth]"),
                Class::PreAuth,
                false,
            );
        }
    }

    /// Dovecot: one login line per try (each its own connection), and the logout when a
    /// session ends.
    fn dovecot(&mut self, conn: &Conn, world: &World, out: &mut Vec<(i64, Line)>) {
        let service = if conn.door == Door::Pop3 {
            "pop3"
        } else {
            "imap"
        };
        let lip = mail_server_address(conn.ip);
        let mut at = conn.at;
        for (i, t) in conn.tries.iter().enumerate() {
            if i > 0 {
                at += conn.gap;
            }
            let user = world.names[t.account as usize].as_str();
            let session = dovecot_session(self.rng.u64(..));
            let success = t.outcome == Outcome::Success;
            let mpid = if success {
                Self::next_pid(&mut self.mail_pid, &mut self.rng)
            } else {
                0
            };
            let mut message = String::with_capacity(160);
            dovecot_login_message(
                &mut message,
                service,
                if success {
                    SignInOutcome::Success
                } else {
                    SignInOutcome::Failure
                },
                user,
                conn.ip,
                lip,
                mpid,
                &session,
                self.rng.u32(1..=4),
            );
            let text = self.syslog(at, MAIL_HOST, "dovecot", DOVECOT_PID, &message);
            out.push((
                at,
                Line {
                    text: Text::Ready(text),
                    class: if success {
                        Class::Success
                    } else {
                        Class::Failure
                    },
                    tried: Some(Tried {
                        owner: conn.owner,
                        account: t.account,
                        ip: conn.ip,
                    }),
                },
            ));
            if success && conn.session > 0 {
                let end = at + conn.session;
                let sent = self.rng.u32(200..200_000);
                let message = if service == "pop3" {
                    format!(
                        "pop3({user})<{mpid}><{session}>: Disconnected: Logged out top=0/0, \
                         retr=1/{sent}, del=0/1, size={sent}"
                    )
                } else {
                    format!(
                        "imap({user})<{mpid}><{session}>: Logged out in={} out={sent} \
                         deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 \
                         body_count=0 body_bytes=0",
                        self.rng.u32(60..4_000)
                    )
                };
                let text = self.syslog(end, MAIL_HOST, "dovecot", DOVECOT_PID, &message);
                out.push((
                    end,
                    Line {
                        text: Text::Ready(text),
                        class: Class::Noise,
                        tried: None,
                    },
                ));
            }
        }
    }

    /// Postfix submission: connect, the SASL tries, the queued message after a success,
    /// and the disconnect with its command counts (`auth=0/N` when every try failed,
    /// which tocsin reads as a client that never signed in).
    fn postfix(&mut self, conn: &Conn, world: &World, out: &mut Vec<(i64, Line)>) {
        let pid = Self::next_pid(&mut self.mail_pid, &mut self.rng);
        let ip = conn.ip;
        let client = match conn.owner {
            Owner::Staff { place } if place < world.offices => {
                format!("nat{}.{ORG_DOMAIN}", place + 1)
            }
            _ => "unknown".to_owned(),
        };
        let program = "postfix/submission/smtpd";
        // Assembled first: the disconnect's counts depend on how the tries went.
        struct Pending {
            at: i64,
            program: &'static str,
            pid: u32,
            message: String,
            class: Class,
            tried: Option<Tried>,
        }
        let mut lines: Vec<Pending> = Vec::new();
        lines.push(Pending {
            at: conn.at,
            program,
            pid,
            message: format!("connect from {client}[{ip}]"),
            class: Class::Noise,
            tried: None,
        });
        let mut at = conn.at + 300;
        let mut succeeded = None;
        for (i, t) in conn.tries.iter().enumerate() {
            if i > 0 {
                at += conn.gap;
            }
            let user = world.names[t.account as usize].as_str();
            let success = t.outcome == Outcome::Success;
            let queue_id = postfix_queue_id(self.rng.u64(..));
            let mut message = String::with_capacity(120);
            postfix_auth_message(
                &mut message,
                if success {
                    SignInOutcome::Success
                } else {
                    SignInOutcome::Failure
                },
                user,
                &client,
                ip,
                &queue_id,
            );
            let tried = Some(Tried {
                owner: conn.owner,
                account: t.account,
                ip,
            });
            let class = if success {
                succeeded = Some((queue_id, user));
                Class::Success
            } else {
                Class::Failure
            };
            lines.push(Pending {
                at,
                program,
                pid,
                message,
                class,
                tried,
            });
        }
        let tries = conn.tries.len();
        let end = at + conn.session.max(200);
        let disconnect = match &succeeded {
            Some((queue_id, user)) => {
                let cleanup = 1_500 + (pid % 97);
                lines.push(Pending {
                    at: at + 200,
                    program: "postfix/cleanup",
                    pid: cleanup,
                    message: format!(
                        "{queue_id}: message-id=<{:016x}@{ORG_DOMAIN}>",
                        self.rng.u64(..)
                    ),
                    class: Class::Noise,
                    tried: None,
                });
                let recipients = self.rng.u32(1..=3);
                lines.push(Pending {
                    at: at + 400,
                    program: "postfix/qmgr",
                    pid: QMGR_PID,
                    message: format!(
                        "{queue_id}: from=<{user}@{ORG_DOMAIN}>, size={}, nrcpt={recipients} \
                         (queue active)",
                        self.rng.u32(900..250_000)
                    ),
                    class: Class::Noise,
                    tried: None,
                });
                let ok = 7 + recipients as usize;
                let auth = if tries == 1 {
                    "auth=1".to_owned()
                } else {
                    format!("auth=1/{tries}")
                };
                let commands = if tries == 1 {
                    format!("commands={ok}")
                } else {
                    format!("commands={ok}/{}", ok + tries - 1)
                };
                (
                    format!(
                        "disconnect from {client}[{ip}] ehlo=2 starttls=1 {auth} mail=1 \
                         rcpt={recipients} data=1 quit=1 {commands}"
                    ),
                    Class::Noise,
                )
            }
            None => (
                format!(
                    "disconnect from {client}[{ip}] ehlo=1 auth=0/{tries} quit=1 \
                     commands=2/{}",
                    2 + tries
                ),
                Class::PreAuth,
            ),
        };
        lines.push(Pending {
            at: end,
            program,
            pid,
            message: disconnect.0,
            class: disconnect.1,
            tried: None,
        });
        for p in lines {
            let text = self.syslog(p.at, MAIL_HOST, p.program, p.pid, &p.message);
            out.push((
                p.at,
                Line {
                    text: Text::Ready(text),
                    class: p.class,
                    tried: p.tried,
                },
            ));
        }
    }

    /// Cloud records: one per try for Entra, and for Okta the steps around it (the
    /// factor, the policy, an application, the logout, a lockout).
    fn cloud(
        &mut self,
        conn: &Conn,
        protocol: Protocol,
        world: &World,
        out: &mut Vec<(i64, Line)>,
    ) {
        let format = match self.dataset {
            AuthDataset::SigninLogs => Format::EntraLogAnalytics,
            AuthDataset::Okta => Format::Okta,
            _ => Format::EntraGraph,
        };
        let mut at = conn.at;
        for (i, t) in conn.tries.iter().enumerate() {
            if i > 0 {
                at += conn.gap;
            }
            let account = world.names[t.account as usize].as_str();
            let failure_kind = match t.outcome {
                Outcome::Success => None,
                Outcome::BadPassword => Some(FailureKind::BadPassword),
                Outcome::UnknownAccount => Some(FailureKind::UnknownAccount),
                Outcome::Locked => Some(FailureKind::Locked),
            };
            let outcome = if failure_kind.is_some() {
                SignInOutcome::Failure
            } else {
                SignInOutcome::Success
            };
            let sign_in = |at: i64, rng: &mut Rng| SignIn {
                time: time(at),
                account: account.to_owned(),
                source_ip: Some(conn.ip),
                outcome,
                failure_kind,
                protocol,
                app: None,
                result_code: None,
                reason: None,
                record_id: Some(uuid(rng)),
                country: (!conn.country.is_empty()).then(|| conn.country.to_owned()),
                asn: Some(conn.asn),
                user_agent: Some(conn.agent.to_owned()),
                format,
                origin: Origin::FileRecord {
                    file: crate::ORIGIN_FILE.into(),
                    record: 0,
                },
                authentication: (outcome == SignInOutcome::Success)
                    .then(|| strength(account, protocol)),
            };
            let tried = Some(Tried {
                owner: conn.owner,
                account: t.account,
                ip: conn.ip,
            });
            let class = if outcome == SignInOutcome::Success {
                Class::Success
            } else {
                Class::Failure
            };
            let mut push = |at: i64, text: Text, class: Class, tried: Option<Tried>| {
                out.push((at, Line { text, class, tried }));
            };
            let okta = |s: SignIn, event_type: &'static str| Text::Okta(Box::new(s), event_type);
            match self.dataset {
                AuthDataset::SigninLogs => {
                    let s = sign_in(at, &mut self.rng);
                    push(at, Text::Ready(render_signin_logs(&s)), class, tried);
                }
                AuthDataset::Okta => {
                    let s = sign_in(at, &mut self.rng);
                    let mfa = s.authentication.is_some_and(|a| a.is_multi_factor());
                    let mut step = at;
                    if mfa {
                        push(
                            step,
                            okta(s.clone(), "user.authentication.auth_via_mfa"),
                            Class::Success,
                            None,
                        );
                        step += self.rng.i64(1_000..6_000);
                    }
                    let start = SignIn {
                        time: time(step),
                        record_id: Some(uuid(&mut self.rng)),
                        authentication: None,
                        ..s.clone()
                    };
                    push(step, okta(start, "user.session.start"), class, tried);
                    if t.locks {
                        let lock = SignIn {
                            time: time(step + 150),
                            record_id: Some(uuid(&mut self.rng)),
                            failure_kind: Some(FailureKind::Locked),
                            ..s.clone()
                        };
                        push(
                            step + 150,
                            okta(lock, "user.account.lock"),
                            Class::Failure,
                            None,
                        );
                    }
                    if outcome == SignInOutcome::Success {
                        let policy = SignIn {
                            time: time(step + 80),
                            record_id: Some(uuid(&mut self.rng)),
                            ..s.clone()
                        };
                        push(
                            step + 80,
                            okta(policy, "policy.evaluate_sign_on"),
                            Class::Other,
                            None,
                        );
                        if matches!(conn.owner, Owner::Staff { .. }) && self.rng.bool() {
                            let apps = ["Microsoft Office 365", "Slack", "Zoom", "Workday"];
                            let app_at = step + self.rng.i64(2_000..20_000);
                            let sso = SignIn {
                                time: time(app_at),
                                record_id: Some(uuid(&mut self.rng)),
                                app: Some(apps[self.rng.usize(..apps.len())].to_owned()),
                                authentication: None,
                                ..s.clone()
                            };
                            push(
                                app_at,
                                okta(sso, "user.authentication.sso"),
                                Class::Success,
                                None,
                            );
                        }
                        // Most Okta sessions expire unseen; some are ended by the user.
                        if conn.session > 0 && self.rng.f64() < 0.4 {
                            let end = step + conn.session;
                            let logout = SignIn {
                                time: time(end),
                                record_id: Some(uuid(&mut self.rng)),
                                authentication: None,
                                ..s
                            };
                            push(end, okta(logout, "user.session.end"), Class::Other, None);
                        }
                    }
                }
                _ => {
                    let s = sign_in(at, &mut self.rng);
                    push(at, Text::Ready(render_graph(&s)), class, tried);
                }
            }
        }
    }
}

/// The instant `at` milliseconds after the start.
pub(super) fn time(at: i64) -> Timestamp {
    Timestamp::from_millisecond(START_SECOND * 1000 + at).unwrap_or(Timestamp::UNIX_EPOCH)
}
