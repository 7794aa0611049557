//! Settings of correlation and delivery, with their documented defaults.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// How detections become incidents and how the organisation is told.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// A detection joins the incident of the same attack (same organisation and campaign
    /// key) if that incident was last active less than this long before; otherwise it
    /// opens a new incident.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub reopen_after: SignedDuration,
    pub webhook: WebhookConfig,
    pub email: EmailConfig,
    /// When the organisation is told: batching, digest, quiet hours.
    pub policy: crate::policy::PolicyConfig,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            reopen_after: SignedDuration::from_hours(24),
            webhook: WebhookConfig::default(),
            email: EmailConfig::default(),
            policy: crate::policy::PolicyConfig::default(),
        }
    }
}

/// How the SMTP connection to the relay is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (submission, 587).
    Starttls,
    /// TLS from the first byte (submissions, 465).
    Tls,
    /// No encryption: only for a relay on the same host or a test server.
    None,
}

/// E-mail notifications through an SMTP relay. Off while `smtp_host` is unset.
/// Retries use the backoff and attempt limit of `[notify.webhook]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// The relay that accepts tocsin's mail; unset turns e-mail off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_host: Option<String>,
    pub port: u16,
    pub tls: SmtpTls,
    /// The user name to authenticate with; unset sends without authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The name of the environment variable holding the password, so that the password
    /// itself is never in the configuration file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The From header, e.g. `tocsin <alerts@cert.example>`; its domain also ends every
    /// Message-ID.
    pub from: String,
    /// How long one delivery attempt may take, connection included.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub timeout: SignedDuration,
    /// A PEM file with the certificate of the authority that signed a private relay's
    /// certificate, trusted besides the public roots; unset trusts the public roots only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            smtp_host: None,
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password_env: None,
            from: "tocsin <tocsin@localhost>".into(),
            timeout: SignedDuration::from_secs(30),
            ca_file: None,
        }
    }
}

impl EmailConfig {
    /// Whether e-mail notifications are on.
    pub fn enabled(&self) -> bool {
        self.smtp_host
            .as_deref()
            .is_some_and(|h| !h.trim().is_empty())
    }

    /// The domain of the From address, which ends every Message-ID.
    pub fn from_domain(&self) -> &str {
        let address = self
            .from
            .rsplit_once('<')
            .map_or(self.from.as_str(), |(_, rest)| rest.trim_end_matches('>'));
        address
            .rsplit_once('@')
            .map_or("localhost", |(_, domain)| domain.trim())
    }
}

/// Delivery of signed webhooks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// How long one delivery attempt may take, connection included.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub timeout: SignedDuration,
    /// Attempts before a notification is given up on and marked dead.
    pub max_attempts: u32,
    /// Wait before the first retry; each further retry waits twice as long, with jitter.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub initial_backoff: SignedDuration,
    /// The longest wait between two attempts.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub max_backoff: SignedDuration,
    /// Allow webhook URLs on loopback, private and link-local networks. Off by default so
    /// that an organisation cannot make the service probe the network it runs in.
    pub allow_private_targets: bool,
    /// After a secret is rotated, webhooks carry a signature with the previous secret too
    /// for this long, so that receivers can switch without losing a notification.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub rotation_overlap: SignedDuration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout: SignedDuration::from_secs(10),
            max_attempts: 12,
            initial_backoff: SignedDuration::from_secs(5),
            max_backoff: SignedDuration::from_hours(1),
            allow_private_targets: false,
            rotation_overlap: SignedDuration::from_hours(24),
        }
    }
}

impl NotifyConfig {
    /// Checks values serde cannot: durations must be positive, attempts at least one.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("notify.reopen_after", self.reopen_after),
            ("notify.webhook.timeout", self.webhook.timeout),
            (
                "notify.webhook.initial_backoff",
                self.webhook.initial_backoff,
            ),
            ("notify.webhook.max_backoff", self.webhook.max_backoff),
            ("notify.email.timeout", self.email.timeout),
        ];
        for (name, value) in positive {
            if !value.is_positive() {
                return Err(format!("{name} must be longer than zero, not {value:#}"));
            }
        }
        if self.webhook.rotation_overlap.is_negative() {
            return Err("notify.webhook.rotation_overlap must not be negative".into());
        }
        if self.email.enabled() && !self.email.from.contains('@') {
            return Err(format!(
                "notify.email.from must hold an address, such as \"tocsin <alerts@cert.example>\", not {:?}",
                self.email.from
            ));
        }
        if self.email.username.is_some() != self.email.password_env.is_some() {
            return Err(
                "notify.email.username and notify.email.password_env go together: set both to \
                 authenticate, neither to send without authentication"
                    .into(),
            );
        }
        if self.webhook.max_attempts == 0 {
            return Err("notify.webhook.max_attempts must be at least 1".into());
        }
        self.policy.validate()
    }
}

impl WebhookConfig {
    /// How long to wait after `attempts` failed attempts: exponential from
    /// `initial_backoff`, capped at `max_backoff`, with up to 20% taken off at random so
    /// that many queued notifications do not retry in lockstep. `jitter` is in [0, 1).
    pub fn backoff(&self, attempts: u32, jitter: f64) -> SignedDuration {
        let exponent = attempts.saturating_sub(1).min(30);
        let base = self.initial_backoff.as_secs_f64() * f64::from(1u32 << exponent);
        let capped = base.min(self.max_backoff.as_secs_f64());
        SignedDuration::from_secs_f64(capped * (1.0 - 0.2 * jitter.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_is_off_until_a_relay_is_named_and_credentials_come_in_pairs() {
        let mut config = NotifyConfig::default();
        assert!(!config.email.enabled());
        assert_eq!(config.email.from_domain(), "localhost");
        config.email.smtp_host = Some("smtp.cert.example".into());
        config.email.from = "CERT alerts <alerts@cert.example>".into();
        assert!(config.email.enabled());
        assert_eq!(config.email.from_domain(), "cert.example");
        assert_eq!(config.validate(), Ok(()));
        config.email.username = Some("tocsin".into());
        assert!(config.validate().is_err());
        config.email.password_env = Some("TOCSIN_SMTP_PASSWORD".into());
        assert_eq!(config.validate(), Ok(()));
        config.email.from = "alerts".into();
        assert!(config.validate().is_err());
    }

    #[test]
    fn backoff_doubles_then_caps() {
        let config = WebhookConfig::default();
        let secs = |attempts| config.backoff(attempts, 0.0).as_secs();
        assert_eq!([secs(1), secs(2), secs(3), secs(4)], [5, 10, 20, 40]);
        assert_eq!(secs(20), 3600);
        assert_eq!(config.backoff(1, 0.5).as_secs_f64(), 4.5);
    }

    #[test]
    fn durations_read_friendly_and_write_back_the_same() {
        let config: NotifyConfig = toml::from_str(
            "reopen_after = \"12h\"\n[webhook]\ntimeout = \"3s\"\nmax_attempts = 4\n",
        )
        .expect("parse");
        assert_eq!(config.reopen_after, SignedDuration::from_hours(12));
        assert_eq!(config.webhook.timeout, SignedDuration::from_secs(3));
        assert_eq!(config.webhook.max_attempts, 4);
        assert_eq!(config.webhook.max_backoff, SignedDuration::from_hours(1));
        let written = toml::to_string(&config).expect("serialise");
        assert!(written.contains("reopen_after = \"12h\""), "{written}");
        let again: NotifyConfig = toml::from_str(&written).expect("reparse");
        assert_eq!(again, config);
        let unknown = toml::from_str::<NotifyConfig>("reopen = \"1h\"").expect_err("unknown key");
        assert!(
            unknown.to_string().contains("unknown field `reopen`"),
            "{unknown}"
        );
    }
}
