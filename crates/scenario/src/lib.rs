//! Deterministic generators of realistic sign-in traffic and attacks, shared by tests,
//! the `tocsin demo` command and benchmarks.
//!
//! This crate owns synthetic data: attack and background generators that produce
//! [`model::SignIn`] values (including low-and-slow sprays from many addresses and
//! campaigns across organisations, from one network or from rotating addresses with one
//! tool's user agent), renderers that turn them into the raw lines tocsin parses
//! (Microsoft Graph `signIn` JSON and OpenSSH syslog), and the [`demo`] scenario with its
//! ground truth. Everything is a pure function of its parameters and seed: the same input
//! gives the same output byte for byte. It reads no clock, does no I/O and uses only
//! documentation addresses (RFC 5737, RFC 3849) and `.example` domains.

mod attack;
mod benign;
mod bulk_auth;
mod bulk_mail;
mod demo;
mod distributed;
mod event;
mod mail;
mod names;
mod render;

pub use attack::{BruteForce, PasswordSpray, brute_force, password_spray};
pub use benign::{Benign, benign};
pub use bulk_auth::{
    AUTH_LOG_YEAR, AuthDataset, AuthLog, AuthTally, AuthTruth, TruthAttack, TypoBurst,
    auth_log_start, write_auth_log,
};
pub use bulk_mail::{
    BULK_ORGANISATION, BULK_OWN_DOMAINS, BulkMail, BulkMessage, MailKind, MboxWriter, bulk_mail,
};
pub use demo::{Demo, DemoOrg, ExpectedDetection, SPRAY_SOURCE, demo};
pub use distributed::{
    CrossOrgCampaign, DistributedSpray, RotatingCampaign, cross_org_campaign, distributed_spray,
    rotating_campaign, spray_address,
};
pub use mail::{
    CORPUS_AUTHSERV_ID, CORPUS_OWN_DOMAIN, DEMO_MAIL, MailCase, journal_report, mail_corpus, mbox,
    readdressed,
};
pub use names::{staff_accounts, staff_names};
pub use render::{
    render_dovecot, render_okta, render_okta_event, render_postfix, render_signin_logs,
};
pub use render::{render_graph, render_sshd};

/// The file name generated sign-ins name in their [`model::Origin`].
pub const ORIGIN_FILE: &str = "scenario";

/// Sorts sign-ins by time (keeping generation order among equal times) and numbers them
/// `FileRecord { file: "scenario", record: i }` from 0 in that order.
pub fn sort_and_number(sign_ins: &mut [model::SignIn]) {
    sign_ins.sort_by_key(|s| s.time);
    for (i, s) in sign_ins.iter_mut().enumerate() {
        s.origin = model::Origin::FileRecord {
            file: ORIGIN_FILE.into(),
            record: i as u64,
        };
    }
}
