//! Domains made to look like protected ones.
