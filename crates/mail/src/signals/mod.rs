//! The individual checks, one module each. Each takes a decoded [`model::Mail`] (and
//! the analyser's context) and returns [`crate::Finding`]s; none of them decides a verdict.

pub mod attachments;
pub mod links;
