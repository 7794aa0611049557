//! Settings of the HTTP server.

use std::net::SocketAddr;

use jiff::SignedDuration;

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
    /// The address people reach the service at, as written in links sent by mail
    /// (confirmation of a personal address). Session cookies are marked `Secure` when it
    /// starts with `https://`: set it to the TLS proxy's address in production.
    pub public_url: String,
    /// Dashboard sign-in, sessions and personal-address confirmation.
    pub accounts: AccountsConfig,
}

/// Sign-in, sessions and personal addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsConfig {
    /// How long a session lasts after sign-in, however active.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub session_lifetime: SignedDuration,
    /// A session unused for this long ends.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub session_idle: SignedDuration,
    /// How long the link mailed to a personal address stays valid.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub personal_confirm_ttl: SignedDuration,
    /// Invitations of personal addresses one organisation may have waiting at once.
    pub max_pending_personal: u32,
    /// Failed sign-ins, from one address or for one account, before sign-in is refused
    /// for the rest of `login_window`.
    pub login_max_failures: u32,
    /// The window failed sign-ins are counted over.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub login_window: SignedDuration,
    /// Client addresses and accounts whose failures are remembered at most; the oldest
    /// are forgotten first.
    pub login_max_tracked: usize,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            session_lifetime: SignedDuration::from_hours(12),
            session_idle: SignedDuration::from_hours(1),
            personal_confirm_ttl: SignedDuration::from_hours(48),
            max_pending_personal: 1000,
            login_max_failures: 5,
            login_window: SignedDuration::from_mins(15),
            login_max_tracked: 10_000,
        }
    }
}

impl HttpConfig {
    /// Checks values serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(format!(
                "http.public_url {:?} must start with http:// or https://",
                self.public_url
            ));
        }
        self.accounts.validate()
    }

    /// Whether people reach the service over TLS, so cookies may only travel over it.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// `public_url` without a trailing slash, to append paths to.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

impl AccountsConfig {
    /// Checks values serde cannot: durations must be positive.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("http.accounts.session_lifetime", self.session_lifetime),
            ("http.accounts.session_idle", self.session_idle),
            (
                "http.accounts.personal_confirm_ttl",
                self.personal_confirm_ttl,
            ),
            ("http.accounts.login_window", self.login_window),
        ] {
            if !value.is_positive() {
                return Err(format!("{name} must be positive"));
            }
        }
        // A session's last use is written at most once a minute.
        if self.session_idle < SignedDuration::from_mins(1) {
            return Err("http.accounts.session_idle must be at least 1m".into());
        }
        if self.login_max_failures == 0 {
            return Err("http.accounts.login_max_failures must be at least 1".into());
        }
        Ok(())
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 16 * 1024 * 1024,
            max_line_bytes: 64 * 1024,
            max_reported_errors: 100,
            public_url: "http://127.0.0.1:8080".into(),
            accounts: AccountsConfig::default(),
        }
    }
}
