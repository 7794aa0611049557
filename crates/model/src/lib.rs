//! The vocabulary every other tocsin crate speaks.
//!
//! This crate owns the plain data types that cross crate boundaries: organisations and
//! their sectors, the normalised [`SignIn`] event and where it came from ([`Origin`]),
//! the [`Detection`] a detector emits and the [`Incident`] that detections are correlated
//! into. It does no I/O, reads no clock and knows no storage or wire protocol beyond the
//! serde shape of its types, which is the documented output format (docs/output.md).

pub mod attribution;
mod detection;
mod mail;
mod org;
mod signin;

pub use detection::{
    Detection, DetectionKind, Incident, IncidentState, IndicatorMatch, Severity, Technique,
};
pub use mail::{
    Attachment, AttachmentRecord, AuthHeader, Mail, MailAnalysis, MailOrigin, MailRecord, Mailbox,
    Reason, Verdict,
};
pub use org::{OrgId, Sector, UnknownSector};
pub use signin::{
    Authentication, EventId, FailureKind, Format, Network, Observation, Origin, Outcome, Printed,
    Protocol, SignIn,
};

/// A point in time, always UTC. Re-exported so that crates above agree on one type.
pub use jiff::Timestamp;
