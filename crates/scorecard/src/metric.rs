//! The published metrics: each one's name, unit, direction, weight in the score, the
//! formula over [`WeekCounts`], and the points (0–100) its value earns. docs/metrics.md
//! is the same table in prose; a test keeps the two in step.

use serde::{Deserialize, Serialize};

use crate::counts::WeekCounts;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    MfaSignIns,
    MfaAccounts,
    PhishingResistant,
    LegacyProtocols,
    AttackSuccess,
    TargetedAccounts,
    Lockouts,
    #[serde(rename = "phishing_per_1000_mailboxes")]
    PhishingPerThousand,
    LookalikeDomains,
    MailAuthentication,
    OwnDomainSpoofs,
    OwnDomainDmarcPass,
    TimeToAcknowledge,
    TimeToResolve,
    TelemetryCoverage,
    StaffOptIn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Percent,
    Count,
    PerThousandMailboxes,
    Hours,
    Points,
}

/// Which way is better, for ranks among peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

impl Metric {
    pub const ALL: [Metric; 16] = [
        Metric::MfaSignIns,
        Metric::MfaAccounts,
        Metric::PhishingResistant,
        Metric::LegacyProtocols,
        Metric::AttackSuccess,
        Metric::TargetedAccounts,
        Metric::Lockouts,
        Metric::PhishingPerThousand,
        Metric::LookalikeDomains,
        Metric::MailAuthentication,
        Metric::OwnDomainSpoofs,
        Metric::OwnDomainDmarcPass,
        Metric::TimeToAcknowledge,
        Metric::TimeToResolve,
        Metric::TelemetryCoverage,
        Metric::StaffOptIn,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Metric::MfaSignIns => "mfa_sign_ins",
            Metric::MfaAccounts => "mfa_accounts",
            Metric::PhishingResistant => "phishing_resistant",
            Metric::LegacyProtocols => "legacy_protocols",
            Metric::AttackSuccess => "attack_success",
            Metric::TargetedAccounts => "targeted_accounts",
            Metric::Lockouts => "lockouts",
            Metric::PhishingPerThousand => "phishing_per_1000_mailboxes",
            Metric::LookalikeDomains => "lookalike_domains",
            Metric::MailAuthentication => "mail_authentication",
            Metric::OwnDomainSpoofs => "own_domain_spoofs",
            Metric::OwnDomainDmarcPass => "own_domain_dmarc_pass",
            Metric::TimeToAcknowledge => "time_to_acknowledge",
            Metric::TimeToResolve => "time_to_resolve",
            Metric::TelemetryCoverage => "telemetry_coverage",
            Metric::StaffOptIn => "staff_opt_in",
        }
    }

    pub fn parse(id: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::MfaSignIns => "Sign-ins with MFA",
            Metric::MfaAccounts => "Accounts always using MFA",
            Metric::PhishingResistant => "MFA that is phishing-resistant",
            Metric::LegacyProtocols => "Sign-ins over legacy protocols",
            Metric::AttackSuccess => "Password attacks that succeeded",
            Metric::TargetedAccounts => "Accounts targeted by password attacks",
            Metric::Lockouts => "Account lockouts",
            Metric::PhishingPerThousand => "Phishing per 1,000 mailboxes",
            Metric::LookalikeDomains => "Lookalike domains seen in mail",
            Metric::MailAuthentication => "Mail-domain authentication (SPF, DKIM, DMARC)",
            Metric::OwnDomainSpoofs => "Mail spoofing your own domains",
            Metric::OwnDomainDmarcPass => "Your own mail passing DMARC",
            Metric::TimeToAcknowledge => "Time to acknowledge",
            Metric::TimeToResolve => "Time to resolve",
            Metric::TelemetryCoverage => "Telemetry flowing",
            Metric::StaffOptIn => "Staff with personal accounts watched",
        }
    }

    /// The control or guidance the metric follows.
    pub fn anchor(self) -> &'static str {
        match self {
            Metric::MfaSignIns | Metric::MfaAccounts => "CIS Controls v8 6.3, 6.5; CISA CPG 2.H",
            Metric::PhishingResistant => "CISA CPG 2.H (phishing-resistant MFA); OMB M-22-09",
            Metric::LegacyProtocols => "CIS Controls v8 4.8; Microsoft blockLegacyAuthentication",
            Metric::AttackSuccess | Metric::TargetedAccounts => {
                "CIS Controls v8 5.2; MITRE ATT&CK T1110"
            }
            Metric::Lockouts => "CIS Controls v8 6.1; Entra 50053, Okta user.account.lock",
            Metric::PhishingPerThousand | Metric::LookalikeDomains => {
                "CIS Controls v8 9; MITRE ATT&CK T1566"
            }
            Metric::MailAuthentication | Metric::OwnDomainSpoofs | Metric::OwnDomainDmarcPass => {
                "CISA CPG 2.M; BOD 18-01; RFC 7208, 6376, 7489"
            }
            Metric::TimeToAcknowledge | Metric::TimeToResolve => "CIS Controls v8 17; CISA CPG 5.A",
            Metric::TelemetryCoverage => "CIS Controls v8 8.2, 8.9; CISA CPG 2.T",
            Metric::StaffOptIn => "CIS Controls v8 14; Microsoft AccountGuard (personal accounts)",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::MfaSignIns
            | Metric::MfaAccounts
            | Metric::PhishingResistant
            | Metric::LegacyProtocols
            | Metric::AttackSuccess
            | Metric::OwnDomainDmarcPass
            | Metric::TelemetryCoverage
            | Metric::StaffOptIn => Unit::Percent,
            Metric::TargetedAccounts
            | Metric::Lockouts
            | Metric::LookalikeDomains
            | Metric::OwnDomainSpoofs => Unit::Count,
            Metric::PhishingPerThousand => Unit::PerThousandMailboxes,
            Metric::MailAuthentication => Unit::Points,
            Metric::TimeToAcknowledge | Metric::TimeToResolve => Unit::Hours,
        }
    }

    pub fn better(self) -> Better {
        match self {
            Metric::MfaSignIns
            | Metric::MfaAccounts
            | Metric::PhishingResistant
            | Metric::MailAuthentication
            | Metric::OwnDomainDmarcPass
            | Metric::TelemetryCoverage
            | Metric::StaffOptIn => Better::Higher,
            _ => Better::Lower,
        }
    }

    /// Weight in the 0–100 score. Metrics of what attackers do (pressure, exposure) weigh
    /// nothing: an organisation cannot govern how often it is attacked, only how it is
    /// defended. MFA per sign-in weighs nothing either: MFA per account already scores
    /// it, and busy accounts would otherwise count many times. The weights add up to 100.
    pub fn weight(self) -> u32 {
        match self {
            Metric::MfaAccounts => 20,
            Metric::PhishingResistant => 10,
            Metric::LegacyProtocols => 15,
            Metric::AttackSuccess => 10,
            Metric::MailAuthentication => 15,
            Metric::TimeToAcknowledge => 10,
            Metric::TimeToResolve => 5,
            Metric::TelemetryCoverage => 10,
            Metric::StaffOptIn => 5,
            Metric::MfaSignIns
            | Metric::TargetedAccounts
            | Metric::Lockouts
            | Metric::PhishingPerThousand
            | Metric::LookalikeDomains
            | Metric::OwnDomainSpoofs
            | Metric::OwnDomainDmarcPass => 0,
        }
    }

    /// The metric's value for a week, or `None` when the week gives nothing to measure
    /// it by (no successful sign-in with a recorded strength, no attack, no mail…).
    pub fn value(self, c: &WeekCounts) -> Option<f64> {
        match self {
            Metric::MfaSignIns => percent(c.successes_multi_factor, c.successes_with_strength),
            Metric::MfaAccounts => percent(c.active_accounts_multi_factor, c.active_accounts),
            Metric::PhishingResistant => {
                percent(c.successes_phishing_resistant, c.successes_multi_factor)
            }
            Metric::LegacyProtocols => percent(c.legacy_successes, c.successes),
            Metric::AttackSuccess => percent(c.attacks_succeeded, c.attacks),
            Metric::TargetedAccounts => Some(c.targeted_accounts as f64),
            Metric::Lockouts => Some(c.lockouts as f64),
            Metric::PhishingPerThousand => {
                (c.mailboxes > 0).then(|| c.phishing_messages as f64 * 1000.0 / c.mailboxes as f64)
            }
            Metric::LookalikeDomains => Some(c.lookalike_domains.len() as f64),
            Metric::MailAuthentication => {
                let points: Vec<f64> = c.domains.iter().filter_map(|d| d.points()).collect();
                (!points.is_empty()).then(|| points.iter().sum::<f64>() / points.len() as f64)
            }
            Metric::OwnDomainSpoofs => {
                (!c.domains.is_empty()).then_some(c.own_domain_spoofs as f64)
            }
            Metric::OwnDomainDmarcPass => percent(c.own_domain_dmarc_pass, c.own_domain_messages),
            Metric::TimeToAcknowledge => c.acknowledge_seconds.map(|s| s as f64 / 3600.0),
            Metric::TimeToResolve => c.resolve_seconds.map(|s| s as f64 / 3600.0),
            Metric::TelemetryCoverage => {
                // Two kinds of telemetry, sign-ins and mail, each half; a failing
                // connector takes its share of the sign-in half away.
                let sign_ins = if c.sign_ins > 0 { 50.0 } else { 0.0 };
                let failing = if c.connectors > 0 {
                    c.connectors_failing as f64 / c.connectors as f64
                } else {
                    0.0
                };
                let mail = if c.messages > 0 { 50.0 } else { 0.0 };
                Some(sign_ins * (1.0 - failing) + mail)
            }
            Metric::StaffOptIn => (c.staff > 0)
                .then(|| (c.staff_opted_in.min(c.staff) as f64) * 100.0 / c.staff as f64),
        }
    }

    /// The points (0–100) a value earns in the score; `None` for unweighted metrics.
    pub fn points(self, value: f64) -> Option<f64> {
        let points = match self {
            Metric::MfaAccounts
            | Metric::PhishingResistant
            | Metric::MailAuthentication
            | Metric::TelemetryCoverage
            | Metric::StaffOptIn => value,
            // 20 % of sign-ins over protocols without MFA is as bad as it gets.
            Metric::LegacyProtocols => 100.0 - 5.0 * value,
            Metric::AttackSuccess => 100.0 - value,
            // Within the hour is full marks, a day or more none, falling with the
            // logarithm in between (the first hours matter most).
            Metric::TimeToAcknowledge => log_scale(value, 1.0, 24.0),
            // Within a day full marks, two weeks or more none.
            Metric::TimeToResolve => log_scale(value, 24.0, 336.0),
            _ => return None,
        };
        Some(points.clamp(0.0, 100.0))
    }

    /// What the organisation can do to raise this metric, in a sentence with the week's
    /// numbers in it.
    pub fn action(self, c: &WeekCounts) -> String {
        match self {
            Metric::MfaAccounts => format!(
                "Require multi-factor authentication for every account: {} of {} accounts signed in with a password alone this week.",
                c.active_accounts - c.active_accounts_multi_factor.min(c.active_accounts),
                c.active_accounts
            ),
            Metric::PhishingResistant => format!(
                "Move staff to phishing-resistant MFA (FIDO2 security keys, passkeys, Windows Hello): {} of {} MFA sign-ins used a factor a phishing site can relay.",
                c.successes_multi_factor - c.successes_phishing_resistant.min(c.successes_multi_factor),
                c.successes_multi_factor
            ),
            Metric::LegacyProtocols => format!(
                "Block legacy authentication (IMAP, POP, SMTP AUTH, ActiveSync basic auth): {} successful sign-ins used it this week.",
                c.legacy_successes
            ),
            Metric::AttackSuccess => format!(
                "Reset the passwords and sessions of accounts that password attacks reached, and add lockout or MFA to the targeted services: {} of {} attacks this week got a valid password.",
                c.attacks_succeeded, c.attacks
            ),
            Metric::MailAuthentication => {
                let weak: Vec<&str> = c
                    .domains
                    .iter()
                    .filter(|d| d.points().is_some_and(|p| p < 100.0))
                    .map(|d| d.domain.as_str())
                    .collect();
                format!(
                    "Publish DMARC p=reject with SPF -all and a DKIM key for {}.",
                    if weak.is_empty() { "every domain".to_owned() } else { weak.join(", ") }
                )
            }
            Metric::TimeToAcknowledge => "Name who acknowledges tocsin's notifications and add a second recipient for out-of-hours alerts.".to_owned(),
            Metric::TimeToResolve => "Close incidents once the affected accounts are secured, noting what was done.".to_owned(),
            Metric::TelemetryCoverage => {
                let mut missing = Vec::new();
                if c.sign_ins == 0 {
                    missing.push("sign-in logs");
                }
                if c.messages == 0 {
                    missing.push("inbound mail");
                }
                if c.connectors_failing > 0 {
                    missing.push("the connectors in error");
                }
                format!("Connect {} so that tocsin can see attacks on them.", missing.join(" and "))
            }
            Metric::StaffOptIn => format!(
                "Invite staff to have their personal accounts watched: {} of {} have opted in.",
                c.staff_opted_in.min(c.staff),
                c.staff
            ),
            other => format!("Review {}.", other.name().to_lowercase()),
        }
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part.min(whole) as f64 * 100.0 / whole as f64)
}

fn log_scale(value: f64, full: f64, none: f64) -> f64 {
    if value <= full {
        100.0
    } else if value >= none {
        0.0
    } else {
        100.0 * (1.0 - (value / full).ln() / (none / full).ln())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_add_up_to_one_hundred_and_ids_round_trip() {
        assert_eq!(Metric::ALL.iter().map(|m| m.weight()).sum::<u32>(), 100);
        for metric in Metric::ALL {
            assert_eq!(Metric::parse(metric.id()), Some(metric));
            let json = serde_json::to_string(&metric).expect("json");
            assert_eq!(json, format!("\"{}\"", metric.id()));
        }
    }

    #[test]
    fn values_follow_the_formulas() {
        let c = WeekCounts {
            successes: 200,
            successes_with_strength: 160,
            successes_multi_factor: 120,
            successes_phishing_resistant: 30,
            active_accounts: 40,
            active_accounts_multi_factor: 30,
            legacy_successes: 10,
            attacks: 4,
            attacks_succeeded: 1,
            mailboxes: 250,
            phishing_messages: 5,
            acknowledge_seconds: Some(2 * 3600),
            ..WeekCounts::default()
        };
        assert_eq!(Metric::MfaSignIns.value(&c), Some(75.0));
        assert_eq!(Metric::MfaAccounts.value(&c), Some(75.0));
        assert_eq!(Metric::PhishingResistant.value(&c), Some(25.0));
        assert_eq!(Metric::LegacyProtocols.value(&c), Some(5.0));
        assert_eq!(Metric::LegacyProtocols.points(5.0), Some(75.0));
        assert_eq!(Metric::AttackSuccess.value(&c), Some(25.0));
        assert_eq!(Metric::PhishingPerThousand.value(&c), Some(20.0));
        assert_eq!(Metric::TimeToAcknowledge.value(&c), Some(2.0));
        assert_eq!(Metric::TimeToResolve.value(&c), None);
        assert_eq!(Metric::MailAuthentication.value(&c), None);
        // Two hours: 100·(1 − ln 2 / ln 24) = 78.19…
        let points = Metric::TimeToAcknowledge.points(2.0).expect("points");
        assert!((points - 78.19).abs() < 0.01, "{points}");
        assert_eq!(Metric::TimeToAcknowledge.points(0.5), Some(100.0));
        assert_eq!(Metric::TimeToAcknowledge.points(30.0), Some(0.0));
        assert_eq!(Metric::Lockouts.points(3.0), None);
        assert_eq!(
            Metric::TelemetryCoverage.value(&WeekCounts::default()),
            Some(0.0)
        );
        let empty = WeekCounts::default();
        assert_eq!(Metric::MfaAccounts.value(&empty), None);
        assert_eq!(Metric::AttackSuccess.value(&empty), None);
    }
}
