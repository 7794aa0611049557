//! Mail in, verdict out.
//!
//! This crate owns everything tocsin does with a message before it becomes a detection:
//! decoding it within limits ([`parse`]), reading `.eml` files, mbox files and Maildir
//! folders ([`mailbox`]), recognising domains made to look like protected ones
//! ([`lookalike`]), the individual signals ([`signals`]: authentication results, display
//! names, lure themes, links, attachments) and adding them up into a verdict
//! ([`analyse`]). Like `ingest` and `detect` it never reads the clock, and does no I/O
//! beyond the reader it is given, except [`mailbox::read_path`], which opens the files and
//! walks the directories it is pointed at (for `tocsin scan`).
//!
//! Mail has its own crate because its dependencies (MIME, the Public Suffix List,
//! Unicode confusables, archives) are heavy and nothing on the sign-in path needs them.

pub mod analyse;
pub mod identity;
pub mod lookalike;
pub mod mailbox;
pub mod parse;
mod reason;
pub mod signals;

pub use reason::{Code, Finding};
