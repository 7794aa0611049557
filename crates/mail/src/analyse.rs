//! Adding findings up into a verdict.
//!
//! The analyser runs every signal module over a decoded message, weighs each finding
//! from the [`Code`] table (or the configured overrides) and sums them: a code counts
//! once however many times it fired (forty links to one shortener are one sign, not
//! forty), while every finding stays in the reasons as evidence. The verdict follows from
//! the score and two thresholds.
//!
//! An organisation's own domains are protected like the built-in identities; they differ
//! per organisation, so they come in as an [`OwnDomains`] built once per organisation.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::lookalike::{Lookalike, LookalikeIndex, LookalikeKind, ProtectedDomain};
use crate::parse::Limits;
use crate::signals::impersonation::OwnIdentity;
use crate::signals::{attachments, auth, impersonation, links, lure};
use crate::{Code, Finding};
use model::{Mail, MailAnalysis, Reason, Verdict};

/// Reasons listed per message; the score counts them all.
pub const MAX_REASONS: usize = 50;

/// Score boundaries between verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// A message scoring at least this is `suspicious`.
    pub suspicious: i32,
    /// A message scoring at least this is `phishing`: it opens an incident and notifies.
    pub phishing: i32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            suspicious: 25,
            phishing: 50,
        }
    }
}

/// The `[mail]` section of the configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `authserv-id`s of the receiving hosts whose `Authentication-Results` headers to
    /// trust (e.g. your Microsoft 365 tenant's `*.prod.outlook.com` host names, or
    /// `mx.google.com`). Empty: SPF, DKIM and DMARC results are ignored, because any
    /// sender can write those headers.
    pub trusted_authserv_ids: Vec<String>,
    /// Domains protected like the organisation's own when `scan` runs offline; the
    /// service uses each organisation's enrolled domains instead.
    pub protected_domains: Vec<String>,
    pub thresholds: Thresholds,
    /// Weight overrides by reason code, e.g. `{ lure_health = 0 }`.
    pub weights: BTreeMap<String, i32>,
    pub limits: Limits,
}

/// A configuration the analyser cannot work with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("mail.weights: `{0}` is not a reason code; the codes are listed in docs/output.md")]
    UnknownCode(String),
    #[error("mail.thresholds: suspicious ({suspicious}) must be below phishing ({phishing})")]
    Thresholds { suspicious: i32, phishing: i32 },
}

/// One organisation's own identity: its name and enrolled domains, protected against
/// lookalikes and display-name impersonation.
pub struct OwnDomains {
    identity: Vec<OwnIdentity>,
    domains: Vec<String>,
    lookalikes: LookalikeIndex,
}

impl OwnDomains {
    pub fn new(name: &str, domains: &[String]) -> OwnDomains {
        let domains: Vec<String> = domains
            .iter()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        let lookalikes = LookalikeIndex::new(domains.iter().map(|d| ProtectedDomain {
            domain: d.clone(),
            owner: name.to_owned(),
        }));
        let identity = if name.trim().is_empty() || domains.is_empty() {
            Vec::new()
        } else {
            vec![OwnIdentity {
                name: name.to_owned(),
                domains: domains.clone(),
            }]
        };
        OwnDomains {
            identity,
            domains,
            lookalikes,
        }
    }

    /// No own domains: only the built-in identities are protected.
    pub fn none() -> OwnDomains {
        OwnDomains::new("", &[])
    }

    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// Whether `address` is at one of these domains (or a subdomain).
    pub fn contains_address(&self, address: &str) -> bool {
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        let domain = domain.trim_end_matches('>').to_ascii_lowercase();
        self.domains
            .iter()
            .any(|d| crate::identity::is_within(&domain, d))
    }
}

/// Where a lookalike host was seen.
#[derive(Clone, Copy)]
enum Seen {
    /// From, Sender, Reply-To or Return-Path.
    Sender,
    Link,
}

/// The reason code for a lookalike of `kind` seen in `seen`, by how strongly the kind
/// suggests deceit (see [`Code::default_weight`]): a misspelling or homograph is made to
/// be mistaken for the protected name; the protected name inside another domain or
/// beside other words often is; the name under another public suffix weighs least.
/// `Various` is the whole protected domain folded into a label (`who-int.org`,
/// `microsoftcom.com`): made to be read as the real one.
fn lookalike_code(kind: LookalikeKind, seen: Seen) -> Code {
    use LookalikeKind::{Dictionary, Subdomain, TldSwap};
    match (kind, seen) {
        (Subdomain | Dictionary, Seen::Sender) => Code::BrandInSenderDomain,
        (Subdomain | Dictionary, Seen::Link) => Code::BrandInLinkHost,
        (TldSwap, Seen::Sender) => Code::SuffixSwapSender,
        (TldSwap, Seen::Link) => Code::SuffixSwapLink,
        (_, Seen::Sender) => Code::LookalikeSender,
        (_, Seen::Link) => Code::LookalikeLink,
    }
}

/// The mail analyser; built once, shared by every intake path.
pub struct Analyser {
    builtin: LookalikeIndex,
    weights: HashMap<Code, i32>,
    thresholds: Thresholds,
    trusted_authserv_ids: Vec<String>,
}

impl Analyser {
    pub fn new(config: &MailConfig) -> Result<Analyser, ConfigError> {
        let t = config.thresholds;
        if t.suspicious >= t.phishing {
            return Err(ConfigError::Thresholds {
                suspicious: t.suspicious,
                phishing: t.phishing,
            });
        }
        let mut weights: HashMap<Code, i32> =
            Code::ALL.iter().map(|c| (*c, c.default_weight())).collect();
        for (name, weight) in &config.weights {
            let code = Code::ALL
                .iter()
                .find(|c| c.as_str() == name)
                .ok_or_else(|| ConfigError::UnknownCode(name.clone()))?;
            weights.insert(*code, *weight);
        }
        Ok(Analyser {
            builtin: LookalikeIndex::builtin(),
            weights,
            thresholds: t,
            trusted_authserv_ids: config
                .trusted_authserv_ids
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
        })
    }

    /// Every finding of every signal module on `mail`, in a stable order.
    pub fn findings(&self, mail: &Mail, own: &OwnDomains) -> Vec<Finding> {
        self.findings_with_links(mail, own, &links::extract(mail))
    }

    /// [`Analyser::findings`] with the message's links already extracted, for callers that
    /// match the links against other things too (threat intelligence): extracted once.
    pub fn findings_with_links(
        &self,
        mail: &Mail,
        own: &OwnDomains,
        extracted: &links::Extracted,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        findings.extend(self.sender_lookalikes(mail, own));
        findings.extend(impersonation::check(mail, &own.identity));
        findings.extend(auth::check(mail, &self.trusted_authserv_ids));
        findings.extend(lure::check(mail));
        for host in links::hosts(&extracted.links) {
            if let Some(l) = self.lookalike(own, &host) {
                findings.push(Finding::new(
                    lookalike_code(l.kind, Seen::Link),
                    l.to_string(),
                ));
            }
        }
        findings.extend(links::check(&extracted.links));
        let inspection = attachments::check(mail);
        findings.extend(inspection.findings);
        let warnings = mail
            .warnings
            .iter()
            .chain(&extracted.warnings)
            .chain(&inspection.warnings);
        for warning in warnings {
            findings.push(Finding::new(Code::ParseLimit, warning.clone()));
        }
        findings
    }

    /// The protected domain `host` imitates: the organisation's own first, then the
    /// built-in identities.
    fn lookalike(&self, own: &OwnDomains, host: &str) -> Option<Lookalike> {
        own.lookalikes
            .check(host)
            .or_else(|| self.builtin.check(host))
    }

    /// Lookalike domains in the headers that name the sender.
    fn sender_lookalikes(&self, mail: &Mail, own: &OwnDomains) -> Vec<Finding> {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        headers.extend(mail.from.iter().map(|m| ("From", m.address.as_str())));
        headers.extend(mail.sender.iter().map(|m| ("Sender", m.address.as_str())));
        headers.extend(
            mail.reply_to
                .iter()
                .map(|m| ("Reply-To", m.address.as_str())),
        );
        headers.extend(mail.return_path.iter().map(|a| ("Return-Path", a.as_str())));
        let mut out: Vec<Finding> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for (header, address) in headers {
            let Some((_, domain)) = address.rsplit_once('@') else {
                continue;
            };
            let domain = domain.trim_end_matches('>').to_ascii_lowercase();
            if seen.contains(&domain) {
                continue;
            }
            if let Some(l) = self.lookalike(own, &domain) {
                out.push(Finding::new(
                    lookalike_code(l.kind, Seen::Sender),
                    format!("{header}: {address}: {l}"),
                ));
            }
            seen.push(domain);
        }
        out
    }

    /// Weighs the findings on `mail` and gives the verdict.
    pub fn analyse(&self, mail: &Mail, own: &OwnDomains) -> MailAnalysis {
        self.verdict(self.findings(mail, own))
    }

    /// The verdict on a set of findings.
    pub fn verdict(&self, findings: Vec<Finding>) -> MailAnalysis {
        let weight = |c: Code| self.weights.get(&c).copied().unwrap_or(0);
        // Each code counts once: its strongest finding carries the weight.
        let mut counted: Vec<Code> = Vec::new();
        let mut score = 0i32;
        for f in &findings {
            if !counted.contains(&f.code) {
                counted.push(f.code);
                score = score.saturating_add(weight(f.code));
            }
        }
        let mut reasons: Vec<Reason> = findings
            .into_iter()
            .filter(|f| weight(f.code) != 0)
            .map(|f| Reason {
                code: f.code.as_str().to_owned(),
                weight: weight(f.code),
                evidence: f.evidence,
            })
            .collect();
        // Strongest first; ties in code order, then as found, so output is stable.
        reasons.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.code.cmp(&b.code)));
        reasons.truncate(MAX_REASONS);
        let verdict = if score >= self.thresholds.phishing {
            Verdict::Phishing
        } else if score >= self.thresholds.suspicious {
            Verdict::Suspicious
        } else {
            Verdict::Clean
        };
        MailAnalysis {
            verdict,
            score,
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyser() -> Analyser {
        Analyser::new(&MailConfig::default()).expect("default config is valid")
    }

    #[test]
    fn a_code_counts_once_but_every_finding_is_listed() {
        let a = analyser();
        let findings = vec![
            Finding::new(Code::LinkShortener, "hxxps://bit[.]ly/a"),
            Finding::new(Code::LinkShortener, "hxxps://bit[.]ly/b"),
            Finding::new(Code::LureInvoice, "subject: \"invoice\""),
        ];
        let analysis = a.verdict(findings);
        assert_eq!(analysis.score, 10 + 8);
        assert_eq!(analysis.reasons.len(), 3);
        assert_eq!(analysis.reasons[0].code, "link_shortener");
        assert_eq!(analysis.verdict, Verdict::Clean);
    }

    #[test]
    fn thresholds_divide_the_verdicts() {
        let a = analyser();
        let one = |c: Code| a.verdict(vec![Finding::new(c, "e")]);
        assert_eq!(one(Code::LureHealth).verdict, Verdict::Clean);
        assert_eq!(one(Code::HtmlPasswordForm).verdict, Verdict::Suspicious);
        assert_eq!(one(Code::LookalikeSender).verdict, Verdict::Phishing);
    }

    #[test]
    fn a_vouching_signal_lowers_the_score() {
        let a = analyser();
        let analysis = a.verdict(vec![
            Finding::new(Code::DmarcPass, "dmarc=pass header.from=who.int"),
            Finding::new(Code::LureHealth, "subject: \"COVID-19\""),
        ]);
        assert_eq!(analysis.score, -10);
        assert_eq!(analysis.verdict, Verdict::Clean);
        assert_eq!(analysis.reasons.last().map(|r| r.weight), Some(-20));
    }

    #[test]
    fn weights_can_be_overridden_and_unknown_codes_are_refused() {
        let mut config = MailConfig::default();
        config.weights.insert("lure_health".into(), 0);
        let a = Analyser::new(&config).expect("valid");
        let analysis = a.verdict(vec![Finding::new(Code::LureHealth, "e")]);
        assert_eq!(analysis.score, 0);
        assert!(analysis.reasons.is_empty(), "a zero weight is not a reason");

        config.weights.insert("lure_heath".into(), 5);
        assert_eq!(
            Analyser::new(&config).err(),
            Some(ConfigError::UnknownCode("lure_heath".into()))
        );
    }

    #[test]
    fn thresholds_must_be_ordered() {
        let config = MailConfig {
            thresholds: Thresholds {
                suspicious: 60,
                phishing: 50,
            },
            ..MailConfig::default()
        };
        assert!(matches!(
            Analyser::new(&config),
            Err(ConfigError::Thresholds { .. })
        ));
    }

    #[test]
    fn own_domains_recognise_their_addresses() {
        let own = OwnDomains::new("Clinic", &["Clinic.Example.".into()]);
        assert!(own.contains_address("ana@clinic.example"));
        assert!(own.contains_address("ana@mail.clinic.example"));
        assert!(!own.contains_address("ana@clinic.example.evil"));
    }
}
