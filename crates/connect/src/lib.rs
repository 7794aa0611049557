//! Telemetry that arrives by itself, for organisations that will not write a log shipper.
//!
//! Each connector reads what it is given (a syslog stream, a growing file), parses it with
//! `ingest`, and commits the sign-ins through `notify::SignInIntake::accept_up_to` with
//! its position in the same transaction (`store`'s `connector_checkpoints`): after a
//! crash it resumes exactly after what was committed, without a gap or a duplicate.

pub mod pull;
pub mod syslog;
pub mod tail;
