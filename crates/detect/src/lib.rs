//! Streaming sign-in detectors over event time with bounded memory: brute force and password spray. No I/O, no clock.
