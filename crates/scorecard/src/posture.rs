//! Mail-domain authentication posture: what an enrolled domain publishes in DNS so that
//! others can refuse mail forged in its name. SPF (RFC 7208) at the domain, DMARC
//! (RFC 7489) at `_dmarc.<domain>`, DKIM keys (RFC 6376) at `<selector>._domainkey.<domain>`.
//! This module reads record texts; the lookups are the caller's.

use serde::{Deserialize, Serialize};

/// DKIM selectors tried when none is known from received mail: those the large mail
/// providers and common servers publish by default.
pub const COMMON_DKIM_SELECTORS: &[&str] = &[
    "selector1",
    "selector2",
    "google",
    "default",
    "dkim",
    "mail",
    "k1",
    "s1",
    "s2",
    "mxvault",
];

/// What one domain publishes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DomainPosture {
    pub domain: String,
    pub spf: Option<Spf>,
    pub dmarc: Option<Dmarc>,
    /// Selectors with a DKIM key published.
    pub dkim: Vec<Dkim>,
    /// Why the lookup could not be completed; a domain with an error is left out of the
    /// metric rather than scored as having nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spf {
    pub record: String,
    pub all: SpfAll,
}

/// What an SPF record says of every sender it did not list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpfAll {
    /// `-all`: refuse.
    Fail,
    /// `~all`: accept but mark.
    SoftFail,
    /// `?all`, or no `all` at all: no statement.
    Neutral,
    /// `+all` or `all`: anyone may send as the domain.
    Pass,
    /// `redirect=`: another domain's record decides; not followed.
    Redirect,
    /// More than one SPF record: a permanent error for every receiver (RFC 7208 §4.5).
    Invalid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dmarc {
    pub record: String,
    pub policy: DmarcPolicy,
    /// `pct=`: the share of failing mail the policy applies to.
    pub percent: u8,
    /// Whether aggregate reports are asked for (`rua=`).
    pub reports: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmarcPolicy {
    /// Several DMARC records, or one without a valid `p=`: receivers apply none.
    Invalid,
    None,
    Quarantine,
    Reject,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dkim {
    pub selector: String,
    /// The key type (`k=`, RSA when absent).
    pub key_type: String,
}

impl DmarcPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcPolicy::Invalid => "invalid",
            DmarcPolicy::None => "none",
            DmarcPolicy::Quarantine => "quarantine",
            DmarcPolicy::Reject => "reject",
        }
    }
}

impl SpfAll {
    pub fn as_str(self) -> &'static str {
        match self {
            SpfAll::Fail => "-all",
            SpfAll::SoftFail => "~all",
            SpfAll::Neutral => "?all",
            SpfAll::Pass => "+all",
            SpfAll::Redirect => "redirect",
            SpfAll::Invalid => "several records",
        }
    }
}

/// The SPF record among the TXT texts at a domain. Texts that are not SPF (site
/// verifications) are ignored; two SPF records are [`SpfAll::Invalid`].
pub fn spf(texts: &[String]) -> Option<Spf> {
    let records: Vec<&String> = texts.iter().filter(|t| has_version(t, "v=spf1")).collect();
    let record = records.first()?;
    if records.len() > 1 {
        return Some(Spf {
            record: (*record).clone(),
            all: SpfAll::Invalid,
        });
    }
    let mut all = None;
    let mut redirect = false;
    for term in record.split_ascii_whitespace().skip(1) {
        let lower = term.to_ascii_lowercase();
        let (qualifier, mechanism) = match lower.as_bytes().first() {
            Some(b'-') => (SpfAll::Fail, &lower[1..]),
            Some(b'~') => (SpfAll::SoftFail, &lower[1..]),
            Some(b'?') => (SpfAll::Neutral, &lower[1..]),
            Some(b'+') => (SpfAll::Pass, &lower[1..]),
            _ => (SpfAll::Pass, &lower[..]),
        };
        if mechanism == "all" && all.is_none() {
            all = Some(qualifier);
        }
        if lower.starts_with("redirect=") {
            redirect = true;
        }
    }
    // RFC 7208 §6.1: redirect is ignored when the record has an `all`.
    let all = all.unwrap_or(if redirect {
        SpfAll::Redirect
    } else {
        SpfAll::Neutral
    });
    Some(Spf {
        record: (*record).clone(),
        all,
    })
}

/// The DMARC record among the TXT texts at `_dmarc.<domain>`.
pub fn dmarc(texts: &[String]) -> Option<Dmarc> {
    let records: Vec<&String> = texts
        .iter()
        .filter(|t| has_version(t, "v=dmarc1"))
        .collect();
    let record = records.first()?;
    let mut policy = None;
    let mut percent = 100u8;
    let mut reports = false;
    for tag in record.split(';') {
        let Some((name, value)) = tag.split_once('=') else {
            continue;
        };
        let value = value.trim().to_ascii_lowercase();
        match name.trim().to_ascii_lowercase().as_str() {
            "p" => {
                policy = match value.as_str() {
                    "none" => Some(DmarcPolicy::None),
                    "quarantine" => Some(DmarcPolicy::Quarantine),
                    "reject" => Some(DmarcPolicy::Reject),
                    _ => None,
                }
            }
            "pct" => percent = value.parse::<u8>().map_or(100, |p| p.min(100)),
            "rua" => reports = !value.is_empty(),
            _ => {}
        }
    }
    // RFC 7489 §6.6.3: several records, or a policy that cannot be read, and receivers
    // act as if there were no DMARC at all.
    let policy = if records.len() > 1 {
        DmarcPolicy::Invalid
    } else {
        policy.unwrap_or(DmarcPolicy::Invalid)
    };
    Some(Dmarc {
        record: (*record).clone(),
        policy,
        percent,
        reports,
    })
}

/// The DKIM key among the TXT texts at `<selector>._domainkey.<domain>`; a record with
/// an empty `p=` is a revoked key and counts as none.
pub fn dkim(selector: &str, texts: &[String]) -> Option<Dkim> {
    texts.iter().find_map(|text| {
        let mut key = None;
        let mut key_type = "rsa".to_owned();
        for tag in text.split(';') {
            let Some((name, value)) = tag.split_once('=') else {
                continue;
            };
            match name.trim() {
                "p" => key = Some(value.trim().to_owned()),
                "k" => key_type = value.trim().to_ascii_lowercase(),
                _ => {}
            }
        }
        key.filter(|k| !k.is_empty()).map(|_| Dkim {
            selector: selector.to_owned(),
            key_type,
        })
    })
}

fn has_version(text: &str, version: &str) -> bool {
    // Bytes, not `str` slices: a record may put a multi-byte character where the version
    // ends, and slicing there would panic.
    let text = text.trim_start().as_bytes();
    text.len() >= version.len()
        && text[..version.len()].eq_ignore_ascii_case(version.as_bytes())
        && text
            .get(version.len())
            .is_none_or(|&c| c == b' ' || c == b';')
}

impl DomainPosture {
    /// 0–100: half DMARC, a quarter SPF, a quarter DKIM (docs/metrics.md). `None` when
    /// the lookup failed.
    pub fn points(&self) -> Option<f64> {
        if self.error.is_some() {
            return None;
        }
        let dmarc = self.dmarc.as_ref().map_or(0.0, |d| {
            let full = match d.policy {
                DmarcPolicy::Invalid => 0.0,
                DmarcPolicy::None => 30.0,
                DmarcPolicy::Quarantine => 75.0,
                DmarcPolicy::Reject => 100.0,
            };
            // pct below 100 enforces on only part of the failing mail; the rest is
            // treated as p=none.
            let share = f64::from(d.percent) / 100.0;
            if d.policy > DmarcPolicy::None {
                30.0 + (full - 30.0) * share
            } else {
                full
            }
        });
        let spf = self.spf.as_ref().map_or(0.0, |s| match s.all {
            SpfAll::Fail => 100.0,
            SpfAll::SoftFail => 75.0,
            SpfAll::Redirect => 50.0,
            SpfAll::Neutral => 25.0,
            SpfAll::Pass | SpfAll::Invalid => 0.0,
        });
        let dkim = if self.dkim.is_empty() { 0.0 } else { 100.0 };
        Some(0.5 * dmarc + 0.25 * spf + 0.25 * dkim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn spf_reads_the_all_qualifier_of_the_one_spf_record() {
        let cases = [
            (
                "v=spf1 include:spf.protection.outlook.com -all",
                SpfAll::Fail,
            ),
            ("v=spf1 ip4:192.0.2.0/24 ~all", SpfAll::SoftFail),
            ("v=spf1 mx ?all", SpfAll::Neutral),
            ("v=spf1 mx", SpfAll::Neutral),
            ("v=spf1 +all", SpfAll::Pass),
            ("V=SPF1 a all", SpfAll::Pass),
            ("v=spf1 redirect=_spf.example.net", SpfAll::Redirect),
            ("v=spf1 -all redirect=_spf.example.net", SpfAll::Fail),
        ];
        for (record, all) in cases {
            let found = spf(&texts(&["google-site-verification=abc", record]));
            assert_eq!(found.map(|s| s.all), Some(all), "{record}");
        }
        assert_eq!(spf(&texts(&["v=spf10 -all", "hello"])), None);
        // A multi-byte character where the version ends is not a version, nor a panic.
        assert_eq!(spf(&texts(&["v=spf\u{e9} -all", "v=sp\u{e9}"])), None);
        assert_eq!(dmarc(&texts(&["v=DMARC\u{e9}; p=reject"])), None);
        let two = spf(&texts(&["v=spf1 -all", "v=spf1 ~all"])).expect("spf");
        assert_eq!(two.all, SpfAll::Invalid);
    }

    #[test]
    fn dmarc_reads_policy_percent_and_reports() {
        let d = dmarc(&texts(&["v=DMARC1; p=reject; rua=mailto:d@example.org"])).expect("dmarc");
        assert_eq!(
            (d.policy, d.percent, d.reports),
            (DmarcPolicy::Reject, 100, true)
        );
        let d = dmarc(&texts(&["v=DMARC1;p=quarantine;pct=25"])).expect("dmarc");
        assert_eq!(
            (d.policy, d.percent, d.reports),
            (DmarcPolicy::Quarantine, 25, false)
        );
        let d = dmarc(&texts(&["v=DMARC1; p=none"])).expect("dmarc");
        assert_eq!(d.policy, DmarcPolicy::None);
        let d = dmarc(&texts(&["v=DMARC1; rua=mailto:x@example.org"])).expect("dmarc");
        assert_eq!(d.policy, DmarcPolicy::Invalid);
        let d = dmarc(&texts(&["v=DMARC1; p=reject", "v=DMARC1; p=none"])).expect("dmarc");
        assert_eq!(d.policy, DmarcPolicy::Invalid);
        assert_eq!(dmarc(&texts(&["v=spf1 -all"])), None);
    }

    #[test]
    fn dkim_keys_count_unless_revoked() {
        let key = dkim("selector1", &texts(&["v=DKIM1; k=rsa; p=MIIBIjANBgkq"])).expect("key");
        assert_eq!(key.key_type, "rsa");
        assert_eq!(
            dkim("s", &texts(&["v=DKIM1; k=ed25519; p=11qY"])).map(|k| k.key_type),
            Some("ed25519".into())
        );
        assert_eq!(dkim("old", &texts(&["v=DKIM1; p="])), None);
        assert_eq!(dkim("x", &texts(&[])), None);
    }

    #[test]
    fn posture_points_follow_the_documented_weights() {
        let best = DomainPosture {
            domain: "a.example".into(),
            spf: spf(&texts(&["v=spf1 -all"])),
            dmarc: dmarc(&texts(&["v=DMARC1; p=reject"])),
            dkim: vec![Dkim {
                selector: "s1".into(),
                key_type: "rsa".into(),
            }],
            error: None,
        };
        assert_eq!(best.points(), Some(100.0));
        let weak = DomainPosture {
            domain: "b.example".into(),
            spf: spf(&texts(&["v=spf1 ~all"])),
            dmarc: dmarc(&texts(&["v=DMARC1; p=quarantine; pct=50"])),
            dkim: vec![],
            error: None,
        };
        // DMARC 30 + (75-30)·0.5 = 52.5 → 26.25; SPF 75 → 18.75; DKIM 0.
        assert_eq!(weak.points(), Some(45.0));
        assert_eq!(
            DomainPosture {
                domain: "c.example".into(),
                ..DomainPosture::default()
            }
            .points(),
            Some(0.0)
        );
        let failed = DomainPosture {
            error: Some("timeout".into()),
            ..DomainPosture::default()
        };
        assert_eq!(failed.points(), None);
    }
}
