//! The HTTP API: organisations, sign-in intake, incidents; authentication and tenancy.
