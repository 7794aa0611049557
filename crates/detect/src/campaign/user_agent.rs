//! The user agent as a campaign clue: attack tools (`python-requests/2.25.1`,
//! `BAV2ROPC` legacy-auth scripts, a fixed odd string) send the same one from every
//! address they rotate through, at every organisation they target.
//!
//! Owns the normalisation of a user agent into a bounded key, the campaign key derived
//! from it, and the words that describe such a campaign. What makes one rare enough to
//! matter (almost none of its sign-ins succeed, its accounts show the spray signature,
//! its failures come from several networks) is decided in `config.rs` and the detector.

use model::SignIn;
use sha2::{Digest, Sha256};

use super::{Clue, Seen, organisations, plural};
use crate::config::CampaignConfig;

/// Bytes of a user agent that are kept: beyond this, two strings are the same tool.
pub(crate) const MAX_USER_AGENT_BYTES: usize = 512;

/// Characters of a user agent quoted in a reason.
const QUOTED_CHARS: usize = 120;

/// A user agent as the detector keys it: control characters dropped, runs of white
/// space made one space, trimmed, and cut to [`MAX_USER_AGENT_BYTES`] on a character
/// boundary.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct UserAgent(String);

impl UserAgent {
    /// The normalised user agent, or `None` if nothing is left of it.
    pub(crate) fn normalise(raw: &str) -> Option<UserAgent> {
        let mut out = String::with_capacity(raw.len().min(MAX_USER_AGENT_BYTES));
        let mut space = false;
        for c in raw.chars() {
            if c.is_whitespace() {
                space = !out.is_empty();
                continue;
            }
            if c.is_control() {
                continue;
            }
            let extra = usize::from(space) + c.len_utf8();
            if out.len() + extra > MAX_USER_AGENT_BYTES {
                break;
            }
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
        (!out.is_empty()).then_some(UserAgent(out))
    }

    /// `ua:` and the first 12 hex digits of the SHA-256 of the normalised user agent:
    /// short, stable across versions and restarts, and free of attacker-chosen text.
    pub(crate) fn campaign_key(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        format!("ua:{}", hex::encode(&digest[..6]))
    }

    /// The user agent as a reason quotes it, shortened if long.
    fn quoted(&self) -> String {
        let mut chars = self.0.chars();
        let head: String = chars.by_ref().take(QUOTED_CHARS).collect();
        let more = if chars.next().is_some() { "…" } else { "" };
        format!("\"{head}{more}\"")
    }
}

impl Clue for UserAgent {
    fn of(sign_in: &SignIn) -> Option<Self> {
        sign_in.user_agent.as_deref().and_then(UserAgent::normalise)
    }

    fn campaign_key(&self) -> String {
        UserAgent::campaign_key(self)
    }

    fn min_networks(config: &CampaignConfig) -> u32 {
        config.min_networks_per_user_agent
    }

    fn opening(&self, seen: &Seen) -> String {
        let succeeded = if seen.valid == 0 {
            "no account anywhere signed in successfully with it".to_owned()
        } else {
            format!(
                "only {} of its {} sign-ins anywhere succeeded",
                seen.valid, seen.attempts
            )
        };
        format!(
            "The same client software, {ua}, failed to sign in to accounts of {orgs} \
             {organisations} protected by this service from {all} different addresses in \
             {networks} networks within {all_span:#}; {succeeded}. Here it failed against \
             {n} of your accounts ({f} attempts from {a} within {span:#}). Attack tools \
             send the same user agent from every address they rotate through.",
            ua = self.quoted(),
            orgs = seen.others + 1,
            organisations = organisations(seen.others + 1),
            all = seen.all_sources,
            networks = seen.all_networks,
            all_span = seen.all_span,
            n = seen.accounts,
            f = seen.failures,
            a = plural(seen.sources, "address", "addresses"),
            span = seen.span,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_trims_collapses_and_bounds() {
        let n = |s: &str| UserAgent::normalise(s).map(|u| u.0);
        for (raw, want) in [
            ("python-requests/2.25.1", Some("python-requests/2.25.1")),
            ("  BAV2ROPC \r\n", Some("BAV2ROPC")),
            (
                "Mozilla/5.0  (X11;\tLinux)",
                Some("Mozilla/5.0 (X11; Linux)"),
            ),
            ("a\u{0}b\u{7f}c", Some("abc")),
            ("", None),
            (" \t\n", None),
            ("\u{1}\u{2}", None),
        ] {
            assert_eq!(n(raw).as_deref(), want, "{raw:?}");
        }
        let long = format!(
            "{}é{}",
            "x".repeat(MAX_USER_AGENT_BYTES - 1),
            "y".repeat(100)
        );
        let cut = n(&long).expect("non-empty");
        assert_eq!(cut.len(), MAX_USER_AGENT_BYTES - 1, "é does not fit whole");
        assert_eq!(
            n(&format!("{long}different tail")),
            Some(cut),
            "the same first 512 bytes are the same tool"
        );
    }

    #[test]
    fn campaign_keys_are_short_stable_and_distinct() {
        let key = |s: &str| UserAgent::normalise(s).expect("ua").campaign_key();
        assert_eq!(
            key("python-requests/2.25.1"),
            key(" python-requests/2.25.1 ")
        );
        assert_ne!(key("python-requests/2.25.1"), key("python-requests/2.25.2"));
        let k = key("BAV2ROPC");
        assert!(k.starts_with("ua:") && k.len() == 15, "{k}");
        assert!(k[3..].chars().all(|c| c.is_ascii_hexdigit()), "{k}");
    }

    #[test]
    fn long_user_agents_are_shortened_when_quoted() {
        let ua = UserAgent::normalise(&"z".repeat(300)).expect("ua");
        let q = ua.quoted();
        assert_eq!(q.chars().count(), QUOTED_CHARS + 3, "{q}");
        assert!(q.ends_with("…\""));
        assert_eq!(
            UserAgent::normalise("curl/8.0").expect("ua").quoted(),
            "\"curl/8.0\""
        );
    }
}
