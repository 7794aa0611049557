//! Playbooks: what an organisation should do about each technique, in its language.
//!
//! The advice is data, not code: one reviewed, versioned TOML file per technique in
//! `crates/notify/playbooks/`, compiled in and parsed once. This module owns the files'
//! shape and which playbook answers which incident (by detector, and for phishing by the
//! strongest reasons of the verdict: a lookalike sender, an impersonated authority, a
//! recruiting lure).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use model::{DetectionKind, Incident};

/// The languages playbooks are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Fr,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Fr];

    /// `en`, `fr`; a regional tag (`fr-CA`) counts as its language.
    pub fn parse(tag: &str) -> Option<Language> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Language::En),
            "fr" => Some(Language::Fr),
            _ => None,
        }
    }
}

/// One playbook as its file says it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub id: String,
    pub version: u32,
    /// When people last checked the advice against current practice.
    pub reviewed: jiff::civil::Date,
    en: Text,
    fr: Text,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Text {
    title: String,
    actions: Vec<String>,
}

impl Playbook {
    fn text(&self, language: Language) -> &Text {
        match language {
            Language::En => &self.en,
            Language::Fr => &self.fr,
        }
    }

    /// The playbook in one language, as a notification carries it.
    pub fn in_language(&'static self, language: Language) -> PlaybookText {
        let text = self.text(language);
        PlaybookText {
            id: &self.id,
            version: self.version,
            title: &text.title,
            actions: &text.actions,
        }
    }
}

/// A playbook in one language: the `playbook` object of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PlaybookText {
    pub id: &'static str,
    pub version: u32,
    pub title: &'static str,
    /// Ordered: most urgent first.
    pub actions: &'static [String],
}

/// The files, compiled in.
const FILES: &[(&str, &str)] = &[
    (
        "password_spray",
        include_str!("../playbooks/password_spray.toml"),
    ),
    ("brute_force", include_str!("../playbooks/brute_force.toml")),
    (
        "account_compromise",
        include_str!("../playbooks/account_compromise.toml"),
    ),
    ("phishing", include_str!("../playbooks/phishing.toml")),
    (
        "lookalike_domain",
        include_str!("../playbooks/lookalike_domain.toml"),
    ),
    (
        "impersonation",
        include_str!("../playbooks/impersonation.toml"),
    ),
    (
        "fake_recruiter",
        include_str!("../playbooks/fake_recruiter.toml"),
    ),
    (
        "known_indicator",
        include_str!("../playbooks/known_indicator.toml"),
    ),
];

/// Why a playbook file is not usable.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("playbook {file}: {source}")]
    Syntax {
        file: &'static str,
        #[source]
        source: toml::de::Error,
    },
    #[error("playbook {file}: {problem}")]
    Shape { file: &'static str, problem: String },
}

fn parse(file: &'static str, text: &str) -> Result<Playbook, PlaybookError> {
    let playbook: Playbook =
        toml::from_str(text).map_err(|source| PlaybookError::Syntax { file, source })?;
    let shape = |problem: String| PlaybookError::Shape { file, problem };
    if playbook.id != file {
        return Err(shape(format!(
            "id {:?} is not the file's name",
            playbook.id
        )));
    }
    if playbook.en.actions.is_empty() {
        return Err(shape("no actions".into()));
    }
    // A translation that drops or adds a step is out of date, not a variant.
    if playbook.en.actions.len() != playbook.fr.actions.len() {
        return Err(shape(format!(
            "{} actions in English but {} in French",
            playbook.en.actions.len(),
            playbook.fr.actions.len()
        )));
    }
    Ok(playbook)
}

static PLAYBOOKS: LazyLock<Vec<Playbook>> = LazyLock::new(|| {
    FILES
        .iter()
        .filter_map(|(file, text)| match parse(file, text) {
            Ok(playbook) => Some(playbook),
            Err(error) => {
                // A unit test keeps this from shipping; at run time a broken playbook
                // costs its advice, not the notification.
                tracing::error!(%error, "A playbook is unusable.");
                None
            }
        })
        .collect()
});

/// Every playbook.
pub fn all() -> &'static [Playbook] {
    &PLAYBOOKS
}

/// The playbook with this id.
pub fn by_id(id: &str) -> Option<&'static Playbook> {
    PLAYBOOKS.iter().find(|p| p.id == id)
}

/// Which playbook answers an incident: by detector, and for phishing by the reasons of
/// the verdict, the most specific lure first.
pub fn id_for(incident: &Incident) -> &'static str {
    match incident.kind {
        DetectionKind::BruteForce => "brute_force",
        // A leaked-list replay calls for the same steps as a spray: reset what is exposed,
        // enforce MFA, block legacy authentication.
        DetectionKind::PasswordSpray
        | DetectionKind::CredentialStuffing
        | DetectionKind::DistributedSpray
        | DetectionKind::CrossOrgCampaign => "password_spray",
        DetectionKind::Phishing => phishing_id(&incident.reasons),
        DetectionKind::KnownIndicator => "known_indicator",
    }
}

/// Phishing reasons read `code (+weight): evidence`; the code says which lure it was.
fn phishing_id(reasons: &[String]) -> &'static str {
    let has = |codes: &[&str]| {
        reasons.iter().any(|r| {
            let code = r.split([' ', '(']).next().unwrap_or_default();
            codes.contains(&code)
        })
    };
    if has(&["lure_recruiting"]) {
        "fake_recruiter"
    } else if has(&[
        "lure_health",
        "display_name_impersonation",
        "freemail_official_title",
    ]) {
        "impersonation"
    } else if has(&[
        "lookalike_sender",
        "brand_in_sender_domain",
        "suffix_swap_sender",
    ]) {
        "lookalike_domain"
    } else {
        "phishing"
    }
}

/// The playbook for an incident, in `language`.
pub fn for_incident(incident: &Incident, language: Language) -> Option<PlaybookText> {
    by_id(id_for(incident)).map(|p| p.in_language(language))
}

/// The account-compromise playbook when an account of the incident is believed in the
/// attacker's hands: it comes before the technique's own advice.
pub fn compromise_for(incident: &Incident, language: Language) -> Option<PlaybookText> {
    if incident.compromised_accounts.is_empty() {
        return None;
    }
    by_id("account_compromise").map(|p| p.in_language(language))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{IncidentState, OrgId, Severity};

    fn incident(kind: DetectionKind, reasons: &[&str]) -> Incident {
        let t = jiff::Timestamp::UNIX_EPOCH;
        Incident {
            id: "i".into(),
            org: OrgId(1),
            kind,
            technique: kind.technique(),
            severity: Severity::High,
            state: IncidentState::New,
            campaign_key: "k".into(),
            accounts: vec![],
            sources: vec![],
            compromised_accounts: vec![],
            first_seen: t,
            last_seen: t,
            evidence_count: 1,
            summary: String::new(),
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            indicators: vec![],
            attribution: None,
        }
    }

    #[test]
    fn every_playbook_parses_in_both_languages_with_the_same_steps() {
        for (file, text) in FILES {
            let playbook = parse(file, text).unwrap_or_else(|e| panic!("{e}"));
            for language in Language::ALL {
                let text = playbook.text(language);
                assert!(!text.title.is_empty(), "{file} {language:?}");
                assert!(text.actions.len() >= 3, "{file} {language:?}");
            }
        }
        assert_eq!(all().len(), FILES.len());
    }

    #[test]
    fn every_detector_and_phishing_lure_has_a_playbook() {
        let kinds = [
            DetectionKind::BruteForce,
            DetectionKind::PasswordSpray,
            DetectionKind::CredentialStuffing,
            DetectionKind::DistributedSpray,
            DetectionKind::CrossOrgCampaign,
            DetectionKind::Phishing,
            DetectionKind::KnownIndicator,
        ];
        for kind in kinds {
            let id = id_for(&incident(kind, &[]));
            assert!(by_id(id).is_some(), "{kind} maps to {id}");
        }
        let cases = [
            ("lure_recruiting (+25): job offer", "fake_recruiter"),
            ("lure_health (+25): covid-19", "impersonation"),
            (
                "display_name_impersonation (+40): \"WHO\" from gmail.com",
                "impersonation",
            ),
            (
                "lookalike_sender (+50): examp1e.org imitates example.org",
                "lookalike_domain",
            ),
            ("link_ip_literal (+20): http://192.0.2.1/", "phishing"),
        ];
        for (reason, expected) in cases {
            let phishing = incident(DetectionKind::Phishing, &["A message …", reason]);
            assert_eq!(id_for(&phishing), expected, "{reason}");
        }
        // Every file is reachable from some incident, or it is dead advice.
        let reachable = [
            "password_spray",
            "brute_force",
            "account_compromise",
            "phishing",
            "lookalike_domain",
            "impersonation",
            "fake_recruiter",
            "known_indicator",
        ];
        for playbook in all() {
            assert!(reachable.contains(&playbook.id.as_str()), "{}", playbook.id);
        }
    }

    #[test]
    fn french_is_french_and_compromise_comes_with_compromised_accounts() {
        let mut spray = incident(DetectionKind::PasswordSpray, &[]);
        let en = for_incident(&spray, Language::En).expect("en");
        let fr = for_incident(&spray, Language::Fr).expect("fr");
        assert_eq!(en.id, "password_spray");
        assert!(en.actions[0].starts_with("Reset"), "{}", en.actions[0]);
        assert!(
            fr.actions[0].starts_with("Réinitialisez"),
            "{}",
            fr.actions[0]
        );
        assert_eq!(compromise_for(&spray, Language::En), None);
        spray.compromised_accounts = vec!["alice@example.org".into()];
        let compromise = compromise_for(&spray, Language::En).expect("compromise");
        assert_eq!(compromise.id, "account_compromise");
        assert!(compromise.actions[0].starts_with("Revoke all sessions"));
        assert_eq!(Language::parse("fr-CA"), Some(Language::Fr));
        assert_eq!(Language::parse("de"), None);
    }
}
