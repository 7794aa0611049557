//! Settings of the HTTP server.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// The HTTP listener and its limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address and port to listen on. Keep it on loopback behind a TLS-terminating proxy
    /// unless the network in between is trusted.
    pub listen: SocketAddr,
    /// The largest request body accepted, in bytes; a larger intake request is refused
    /// with 413 and should be split.
    pub max_body_bytes: usize,
    /// The longest line of an intake request, in bytes; a longer line is rejected on its
    /// own and the rest of the request still goes through.
    pub max_line_bytes: usize,
    /// How many rejected lines an intake response lists; the count covers all of them.
    pub max_reported_errors: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 16 * 1024 * 1024,
            max_line_bytes: 64 * 1024,
            max_reported_errors: 100,
        }
    }
}
