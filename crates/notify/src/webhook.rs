//! Signed webhooks: the signature scheme, per-organisation signing secrets, and an HTTP
//! client that will not be turned against the network it runs in.
//!
//! The scheme follows Stripe's: the `Tocsin-Signature` header carries
//! `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. Signing the timestamp with
//! the body lets a receiver refuse replays of an old delivery; docs/webhooks.md shows
//! how to verify.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use model::OrgId;
use store::MasterKey;

type HmacSha256 = Hmac<Sha256>;

/// Header carrying the timestamp and signature.
pub const SIGNATURE_HEADER: &str = "Tocsin-Signature";
/// Header carrying the delivery's idempotency id, the same on every retry.
pub const DELIVERY_HEADER: &str = "Tocsin-Delivery";
/// Header naming the event (`incident.opened`, `incident.escalated`).
pub const EVENT_HEADER: &str = "Tocsin-Event";

/// The secret an organisation verifies its webhooks with before its first rotation
/// (generation 0). Derived from the master key so that it is never stored: a copy of the
/// database alone cannot forge notifications. After a rotation use [`generation_secret`].
pub fn signing_secret(master: &MasterKey, org: OrgId) -> String {
    generation_secret(master, org, 0)
}

/// The signing secret of one generation: `HMAC(master key, org, generation)`. Generation
/// 0 keeps the derivation of the secrets handed out before rotation existed, so those
/// stay valid.
pub fn generation_secret(master: &MasterKey, org: OrgId, generation: u32) -> String {
    let mut mac =
        HmacSha256::new_from_slice(master.as_bytes()).expect("HMAC takes keys of any length");
    let label = if generation == 0 {
        format!(
            "tocsin webhook signing secret v1 for organisation {}",
            org.0
        )
    } else {
        format!(
            "tocsin webhook signing secret v1 for organisation {} generation {generation}",
            org.0
        )
    };
    mac.update(label.as_bytes());
    format!("whsec_{}", hex::encode(mac.finalize().into_bytes()))
}

/// The secrets a webhook is signed with now: the current generation's, and while the
/// last rotation is younger than `overlap`, the previous generation's too.
pub fn active_secrets(
    master: &MasterKey,
    org: OrgId,
    generation: u32,
    rotated_at: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
    overlap: jiff::SignedDuration,
) -> Vec<String> {
    let mut secrets = vec![generation_secret(master, org, generation)];
    let overlapping = rotated_at.is_some_and(|at| now.duration_since(at) < overlap);
    if generation > 0 && overlapping {
        secrets.push(generation_secret(master, org, generation - 1));
    }
    secrets
}

/// The `Tocsin-Signature` header value for `body` sent at `unix_seconds`, with one `v1`
/// entry per secret, the current secret first.
pub fn sign_all(secrets: &[String], unix_seconds: i64, body: &[u8]) -> String {
    let mut header = format!("t={unix_seconds}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&hex::encode(mac_of(secret, unix_seconds, body)));
    }
    header
}

fn mac_of(secret: &str, unix_seconds: i64, body: &[u8]) -> Vec<u8> {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The `Tocsin-Signature` header value for `body` sent at `unix_seconds`.
pub fn sign(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    sign_all(&[secret.to_owned()], unix_seconds, body)
}

/// Why a received webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("signature header is not of the form t=<seconds>,v1=<hex>")]
    Malformed,
    #[error("signature timestamp is {0} s away from now, outside the tolerance")]
    Stale(i64),
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// Checks a `Tocsin-Signature` header against the body, in constant time, accepting any
/// of several `v1` values (several are sent while a secret is being rotated).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => {
                signatures.push(hex::decode(sig).map_err(|_| VerifyError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if signatures.is_empty() {
        return Err(VerifyError::Malformed);
    }
    let skew = (now_unix - timestamp).abs();
    if skew > tolerance_secs {
        return Err(VerifyError::Stale(skew));
    }
    let matches = signatures.iter().any(|sig| {
        let mut mac =
            HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(sig).is_ok()
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// Why a webhook target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("{0:?} is not a valid URL")]
    NotAUrl(String),
    #[error("webhook URLs must be http or https, not {0}")]
    Scheme(String),
    #[error(
        "{0} is a loopback, private, link-local or otherwise internal address; \
         set notify.webhook.allow_private_targets = true to allow it"
    )]
    Internal(IpAddr),
}

/// Checks what can be checked of a webhook URL without resolving it.
pub fn check_target(url: &str, allow_private: bool) -> Result<url::Url, TargetError> {
    let parsed = url::Url::parse(url).map_err(|_| TargetError::NotAUrl(url.to_owned()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetError::Scheme(parsed.scheme().to_owned()));
    }
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(TargetError::NotAUrl(url.to_owned())),
    };
    match ip {
        Some(ip) if !allow_private && is_internal(ip) => Err(TargetError::Internal(ip)),
        _ => Ok(parsed),
    }
}

/// Addresses a webhook must not reach unless the operator allows it: the host itself,
/// private networks, link-local (cloud metadata at 169.254.169.254), shared address
/// space, and anything not globally routable.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
        }
    }
}

/// Resolves host names with the system resolver and drops internal addresses, so a
/// public name that resolves to an internal address (DNS rebinding) is not followed.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| !is_internal(addr.ip()))
                .collect();
            if addrs.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves only to internal addresses").into();
                return Err(error);
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Makes ring the process's TLS crypto provider. reqwest is built without a default
/// one, so every process that builds a reqwest client calls this first; a second call,
/// or a provider installed by someone else, is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client that posts webhooks.
pub(crate) fn client(
    timeout: Duration,
    allow_private: bool,
) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        // A redirect could lead anywhere, including inside; receivers must answer 2xx.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tocsin/", env!("CARGO_PKG_VERSION")));
    let builder = if allow_private {
        builder
    } else {
        builder.dns_resolver(Arc::new(PublicOnlyResolver))
    };
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_and_rejects_tampering_and_replay() {
        let secret = "whsec_test";
        let body = br#"{"event":"incident.opened"}"#;
        let header = sign(secret, 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(verify(secret, &header, body, 1_700_000_100, 300), Ok(()));
        assert_eq!(
            verify(secret, &header, b"{}", 1_700_000_100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", &header, body, 1_700_000_100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(secret, &header, body, 1_700_001_000, 300),
            Err(VerifyError::Stale(1000))
        );
        assert_eq!(
            verify(secret, "v1=00", body, 1_700_000_000, 300),
            Err(VerifyError::Malformed)
        );
        let rotated = format!("{header},v1=00ff");
        assert_eq!(verify(secret, &rotated, body, 1_700_000_000, 300), Ok(()));
    }

    #[tokio::test]
    async fn a_rotation_signs_with_both_secrets_during_the_overlap_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store::Store::open_for_tests(dir.path())
            .await
            .expect("store");
        let master = store.master_key();
        let org = OrgId(7);
        let old = generation_secret(master, org, 0);
        assert_eq!(old, signing_secret(master, org));
        let new = generation_secret(master, org, 1);
        assert_ne!(old, new);
        assert_ne!(new, generation_secret(master, OrgId(8), 1));
        let rotated: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let day = jiff::SignedDuration::from_hours(24);
        let during = rotated
            .checked_add(jiff::SignedDuration::from_hours(1))
            .expect("add");
        let after = rotated
            .checked_add(jiff::SignedDuration::from_hours(25))
            .expect("add");
        let both = active_secrets(master, org, 1, Some(rotated), during, day);
        assert_eq!(both, vec![new.clone(), old.clone()]);
        let header = sign_all(&both, 1_700_000_000, b"{}");
        assert_eq!(header.matches("v1=").count(), 2);
        assert_eq!(verify(&old, &header, b"{}", 1_700_000_000, 300), Ok(()));
        assert_eq!(verify(&new, &header, b"{}", 1_700_000_000, 300), Ok(()));
        let only_new = active_secrets(master, org, 1, Some(rotated), after, day);
        let header = sign_all(&only_new, 1_700_000_000, b"{}");
        assert_eq!(
            verify(&old, &header, b"{}", 1_700_000_000, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(verify(&new, &header, b"{}", 1_700_000_000, 300), Ok(()));
    }

    #[test]
    fn known_answer_matches_an_independent_hmac() {
        // HMAC-SHA256(key="key", "1.{}") computed with Python's hmac module.
        let header = sign("key", 1, b"{}");
        assert_eq!(
            header,
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn internal_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[::ffff:192.168.1.1]/",
            "http://100.64.0.1/",
        ] {
            assert!(
                matches!(check_target(url, false), Err(TargetError::Internal(_))),
                "{url}"
            );
            assert!(check_target(url, true).is_ok(), "{url}");
        }
        assert!(check_target("https://hooks.example.net/tocsin", false).is_ok());
        assert!(check_target("http://8.8.8.8/", false).is_ok());
        assert_eq!(
            check_target("ftp://example.net/", false),
            Err(TargetError::Scheme("ftp".into()))
        );
        assert!(matches!(
            check_target("not a url", false),
            Err(TargetError::NotAUrl(_))
        ));
    }
}
