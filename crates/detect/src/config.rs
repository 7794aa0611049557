//! The detectors' settings as users write them in the configuration file.
//!
//! Owns the config structs, their documented defaults and their validation. The doc
//! comments on fields are user documentation: they end up in the sample config. Nothing
//! here reads files or the environment.

use std::net::IpAddr;

use ipnet::IpNet;
use jiff::SignedDuration;
use model::OrgId;
use serde::{Deserialize, Serialize};

/// Events a key retains as evidence at most. Counting goes on past it.
pub const MAX_RETAINED_EVENTS: usize = 10_000;

/// Settings of the sign-in detectors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Many failed sign-ins against one account.
    pub brute_force: BruteForceConfig,
    /// One source failing against many accounts, a few attempts each.
    pub password_spray: PasswordSprayConfig,
    /// How many keys (accounts for brute force, source networks for password spray)
    /// each detector tracks at most. When more appear, the tenth that was seen least
    /// recently is forgotten, so that a flood of distinct addresses cannot exhaust memory.
    pub max_tracked_keys: usize,
    /// Source networks that need care: shared egress and organisations' own offices.
    pub sources: SourcePolicy,
    /// How long after an attack on an account a sign-in to it from an address the
    /// account has not used before is reported as a likely compromise, whatever address
    /// the attack came from (attackers rotate addresses).
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub compromise_window: SignedDuration,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            brute_force: BruteForceConfig::default(),
            password_spray: PasswordSprayConfig::default(),
            max_tracked_keys: 100_000,
            sources: SourcePolicy::default(),
            compromise_window: SignedDuration::from_hours(3),
        }
    }
}

/// Networks where a plain count would mislead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcePolicy {
    /// Networks whose addresses many unrelated people share: carrier-grade NAT
    /// (100.64.0.0/10), iCloud Private Relay and large VPN exits (add their published
    /// ranges). A spray from them needs `shared_egress_factor` times as many accounts:
    /// the threshold is raised, never removed, because attackers use them too.
    pub shared_egress: Vec<IpNet>,
    /// How many times the spray threshold is raised for shared egress.
    pub shared_egress_factor: u32,
    /// Each organisation's own egress networks (its offices' NAT addresses). Failures
    /// from them are not counted as a spray against that organisation; a brute force
    /// against one account from them still is.
    pub trusted: Vec<TrustedEgress>,
}

impl Default for SourcePolicy {
    fn default() -> Self {
        SourcePolicy {
            shared_egress: vec![IpNet::V4(
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(100, 64, 0, 0), 10).unwrap_or_default(),
            )],
            shared_egress_factor: 3,
            trusted: Vec::new(),
        }
    }
}

/// One organisation's declared egress networks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedEgress {
    /// The organisation's id (as `tocsin org list` shows it).
    pub org: i64,
    pub networks: Vec<IpNet>,
}

impl SourcePolicy {
    /// Whether `ip` is one of `org`'s own declared egress addresses.
    pub fn is_trusted(&self, org: OrgId, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted
            .iter()
            .filter(|t| t.org == org.0)
            .any(|t| t.networks.iter().any(|n| n.contains(&ip)))
    }

    /// How many times a count threshold is multiplied for addresses in `ip`'s place.
    pub fn threshold_factor(&self, ip: IpAddr) -> u32 {
        let ip = ip.to_canonical();
        if self.shared_egress.iter().any(|n| n.contains(&ip)) {
            self.shared_egress_factor.max(1)
        } else {
            1
        }
    }
}

impl DetectConfig {
    /// Checks every setting, naming the first one that is out of range.
    pub fn validate(&self) -> Result<(), String> {
        self.brute_force
            .validate()
            .map_err(|e| format!("brute_force.{e}"))?;
        self.password_spray
            .validate()
            .map_err(|e| format!("password_spray.{e}"))?;
        if self.max_tracked_keys < 1 {
            return Err("max_tracked_keys must be at least 1".to_owned());
        }
        if self.sources.shared_egress_factor < 1 {
            return Err("sources.shared_egress_factor must be at least 1".to_owned());
        }
        check_window(self.compromise_window).map_err(|e| format!("compromise_{e}"))?;
        Ok(())
    }
}

/// Settings of the brute-force detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BruteForceConfig {
    /// How close together failed sign-ins against one account must be to count together,
    /// such as "10m" or "90s". An attack also ends once this long passes without a failure,
    /// and a success from an attacking address within this long after its last failure is
    /// reported as a likely compromise.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub window: SignedDuration,
    /// How many failed sign-ins against one account within `window` make a brute force
    /// (wrong passwords, unknown accounts, lockouts; not failures that prove the password
    /// was right, such as a second factor being asked for).
    pub min_failures: u32,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            window: SignedDuration::from_mins(10),
            min_failures: 10,
        }
    }
}

impl BruteForceConfig {
    /// Checks that the window is positive and the threshold between 1 and
    /// [`MAX_RETAINED_EVENTS`].
    pub fn validate(&self) -> Result<(), String> {
        check_window(self.window)?;
        if self.min_failures < 1 || self.min_failures as usize > MAX_RETAINED_EVENTS {
            return Err(format!(
                "min_failures must be between 1 and {MAX_RETAINED_EVENTS}, not {}",
                self.min_failures
            ));
        }
        Ok(())
    }
}

/// Settings of the password-spray detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordSprayConfig {
    /// How long a look back the detector takes at one source address, such as "1h". An
    /// attack also ends once this long passes without a failure from the source, and a
    /// success from it within this long after its last failure is reported as a likely
    /// compromise.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub window: SignedDuration,
    /// How many distinct accounts one address must fail against within `window` (each
    /// with at most `max_attempts_per_account` failures) to be a spray. Five times this
    /// many raises the severity to high.
    pub min_accounts: u32,
    /// Accounts with more failures than this from the address are not counted towards
    /// `min_accounts`: that looks like a brute force or a stale client, not a spray.
    pub max_attempts_per_account: u32,
    /// Share of the network's attempts within `window` that must have failed, from 0 to 1.
    /// Keeps a busy office behind one NAT address, where many people type their password
    /// and a few mistype it, from looking like a spray.
    pub min_failure_ratio: f64,
    /// A spray whose failures are at least this share of unknown accounts, with at most
    /// two attempts per account, is reported as credential stuffing (a leaked list of
    /// user names and passwords being replayed), from 0 to 1.
    pub stuffing_min_unknown_ratio: f64,
}

impl Default for PasswordSprayConfig {
    fn default() -> Self {
        PasswordSprayConfig {
            window: SignedDuration::from_hours(1),
            min_accounts: 10,
            max_attempts_per_account: 6,
            min_failure_ratio: 0.8,
            stuffing_min_unknown_ratio: 0.7,
        }
    }
}

impl PasswordSprayConfig {
    /// Checks that the window is positive, the thresholds at least 1 and the ratio
    /// between 0 and 1.
    pub fn validate(&self) -> Result<(), String> {
        check_window(self.window)?;
        if self.min_accounts < 1 || self.min_accounts as usize > MAX_RETAINED_EVENTS {
            return Err(format!(
                "min_accounts must be between 1 and {MAX_RETAINED_EVENTS}, not {}",
                self.min_accounts
            ));
        }
        if self.max_attempts_per_account < 1 {
            return Err("max_attempts_per_account must be at least 1".to_owned());
        }
        if !(0.0..=1.0).contains(&self.min_failure_ratio) {
            return Err(format!(
                "min_failure_ratio must be between 0 and 1, not {}",
                self.min_failure_ratio
            ));
        }
        if !(0.0..=1.0).contains(&self.stuffing_min_unknown_ratio) {
            return Err(format!(
                "stuffing_min_unknown_ratio must be between 0 and 1, not {}",
                self.stuffing_min_unknown_ratio
            ));
        }
        Ok(())
    }
}

fn check_window(window: SignedDuration) -> Result<(), String> {
    if window <= SignedDuration::ZERO {
        return Err(format!("window must be longer than zero, not {window:#}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let c = DetectConfig::default();
        assert_eq!(c.brute_force.window, SignedDuration::from_mins(10));
        assert_eq!(c.brute_force.min_failures, 10);
        assert_eq!(c.password_spray.window, SignedDuration::from_hours(1));
        assert_eq!(c.password_spray.min_accounts, 10);
        assert_eq!(c.password_spray.max_attempts_per_account, 6);
        assert_eq!(c.password_spray.min_failure_ratio, 0.8);
        assert_eq!(c.max_tracked_keys, 100_000);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn durations_read_from_friendly_toml_strings() {
        let c: DetectConfig = toml::from_str(
            "max_tracked_keys = 5\n\
             [brute_force]\nwindow = \"90s\"\nmin_failures = 3\n\
             [password_spray]\nwindow = \"1h\"\n",
        )
        .expect("parse");
        assert_eq!(c.brute_force.window, SignedDuration::from_secs(90));
        assert_eq!(c.brute_force.min_failures, 3);
        assert_eq!(c.password_spray.window, SignedDuration::from_hours(1));
        assert_eq!(c.password_spray.min_accounts, 10);
        let c: BruteForceConfig = toml::from_str("window = \"10m\"").expect("parse");
        assert_eq!(c.window, SignedDuration::from_mins(10));
        let c: BruteForceConfig = toml::from_str("window = \"PT2M\"").expect("iso");
        assert_eq!(c.window, SignedDuration::from_mins(2));
    }

    #[test]
    fn the_serialised_default_round_trips_in_friendly_form() {
        let text = toml::to_string(&DetectConfig::default()).expect("serialise");
        assert!(text.contains("window = \"10m\""), "{text}");
        assert!(text.contains("window = \"1h\""), "{text}");
        let back: DetectConfig = toml::from_str(&text).expect("parse");
        assert_eq!(back, DetectConfig::default());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<DetectConfig>("[brute_force]\nthreshold = 3\n")
            .expect_err("unknown key");
        assert!(err.to_string().contains("threshold"), "{err}");
    }

    #[test]
    fn out_of_range_settings_are_named() {
        let check = |edit: fn(&mut DetectConfig), wanted: &str| {
            let mut c = DetectConfig::default();
            edit(&mut c);
            let err = c.validate().expect_err("invalid");
            assert!(err.starts_with(wanted), "{err} should start with {wanted}");
        };
        check(
            |c| c.brute_force.min_failures = 0,
            "brute_force.min_failures",
        );
        check(
            |c| c.brute_force.window = SignedDuration::ZERO,
            "brute_force.window",
        );
        check(
            |c| c.password_spray.window = SignedDuration::from_secs(-1),
            "password_spray.window",
        );
        check(
            |c| c.password_spray.min_accounts = 0,
            "password_spray.min_accounts",
        );
        check(
            |c| c.password_spray.max_attempts_per_account = 0,
            "password_spray.max_attempts_per_account",
        );
        check(
            |c| c.password_spray.min_failure_ratio = 1.5,
            "password_spray.min_failure_ratio",
        );
        check(
            |c| c.password_spray.min_failure_ratio = f64::NAN,
            "password_spray.min_failure_ratio",
        );
        check(|c| c.max_tracked_keys = 0, "max_tracked_keys");
    }
}
