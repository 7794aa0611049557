//! Adding findings up into a verdict.
