//! What happens after detection: incidents, notifications and their delivery.
//!
//! This crate owns correlation ([`correlate`]), the intake pipeline that joins storage,
//! detection and correlation in one transaction ([`intake`]), what a notification says
//! ([`payload`]) and what to do about it ([`playbook`]), when the organisation is told
//! ([`policy`], applied by [`lifecycle`]), the webhook signature scheme and a client
//! that refuses internal targets ([`webhook`]), e-mail rendering and sending
//! ([`email`]), the worker that drains the outbox ([`outbox`]), and the threat
//! intelligence in the pipeline: indicator hits as detections and incident evidence
//! ([`indicators`]), feeds pulled and stored ([`feeds`]) and retro-hunts ([`retro_hunt`]).
//! It uses tokio; it knows nothing of HTTP servers or of log formats.

pub mod config;
pub mod correlate;
pub mod email;
pub mod feeds;
pub mod indicators;
pub mod intake;
pub mod lifecycle;
pub mod mail_intake;
pub mod notice;
pub mod outbox;
pub mod payload;
pub mod playbook;
pub mod policy;
pub mod retro_hunt;
pub mod webhook;

pub use config::{EmailConfig, NotifyConfig, SmtpTls, WebhookConfig};
pub use intake::{Accepted, ForwardTo, Progress, Publish, SignInIntake, replay, replay_horizon};
pub use mail_intake::{Disposition, MailIntake, MailIntakeError, MailReport};
