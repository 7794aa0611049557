//! Deterministic generators of realistic sign-in traffic and attacks, shared by tests, the demo and benchmarks.
