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
    /// Many addresses, each used once or twice, failing against many accounts of one
    /// organisation over hours or days.
    pub distributed_spray: DistributedSprayConfig,
    /// One network, or one rare user agent from many networks, failing against accounts
    /// of several organisations.
    pub campaign: CampaignConfig,
    /// How many keys (accounts for brute force, source networks for password spray)
    /// each detector tracks at most. When more appear, the tenth that was seen least
    /// recently is forgotten, so that a flood of distinct addresses cannot exhaust memory.
    pub max_tracked_keys: usize,
    /// Source networks that need care: shared egress and organisations' own offices.
    pub sources: SourcePolicy,
    /// Organisations with thresholds of their own (a large hospital group, a small
    /// clinic). Each entry replaces the named detectors' settings for that organisation;
    /// detectors it does not name keep the settings above.
    pub organisations: Vec<OrgDetectConfig>,
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
            distributed_spray: DistributedSprayConfig::default(),
            campaign: CampaignConfig::default(),
            max_tracked_keys: 100_000,
            sources: SourcePolicy::default(),
            organisations: Vec::new(),
            compromise_window: SignedDuration::from_hours(3),
        }
    }
}

/// One organisation's own detector settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgDetectConfig {
    /// The organisation's id (as `tocsin org list` shows it).
    pub org: i64,
    /// Replaces `[detect.brute_force]` for this organisation; keys left out take their
    /// built-in defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brute_force: Option<BruteForceConfig>,
    /// Replaces `[detect.password_spray]` for this organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_spray: Option<PasswordSprayConfig>,
    /// Replaces `[detect.distributed_spray]` for this organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed_spray: Option<DistributedSprayConfig>,
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
        self.distributed_spray
            .validate()
            .map_err(|e| format!("distributed_spray.{e}"))?;
        self.campaign
            .validate()
            .map_err(|e| format!("campaign.{e}"))?;
        if self.max_tracked_keys < 1 {
            return Err("max_tracked_keys must be at least 1".to_owned());
        }
        for o in &self.organisations {
            let prefix =
                |e: String, part: &str| format!("organisations (org {}).{part}.{e}", o.org);
            if let Some(c) = &o.brute_force {
                c.validate().map_err(|e| prefix(e, "brute_force"))?;
            }
            if let Some(c) = &o.password_spray {
                c.validate().map_err(|e| prefix(e, "password_spray"))?;
            }
            if let Some(c) = &o.distributed_spray {
                c.validate().map_err(|e| prefix(e, "distributed_spray"))?;
            }
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
        check_threshold("min_failures", self.min_failures)?;
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
        check_threshold("min_accounts", self.min_accounts)?;
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

/// Settings of the distributed (low-and-slow) spray detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DistributedSprayConfig {
    /// How long a look back the detector takes at one organisation, such as "24h". An
    /// attack also ends once this long passes without a failure that counts.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub window: SignedDuration,
    /// How many distinct accounts must fail to sign in from suspect addresses within
    /// `window`. An address is suspect while it has failed and never proved a valid
    /// password (for any account of the organisation) within `window`: a user who
    /// mistypes and then signs in from the same address is not suspect.
    pub min_accounts: u32,
    /// How many suspect addresses must take part within `window`.
    pub min_sources: u32,
    /// Suspect addresses with more sign-in attempts than this within `window` do not
    /// count: they are the per-address spray and brute-force detectors' business, and a
    /// stale client retrying an old password is one of them.
    pub max_attempts_per_source: u32,
    /// How many addresses the detector tracks per organisation at most. When more
    /// appear, the tenth seen least recently is forgotten (and counted as evicted), so
    /// that a spray from millions of addresses cannot exhaust memory.
    pub max_sources: usize,
}

impl Default for DistributedSprayConfig {
    fn default() -> Self {
        DistributedSprayConfig {
            window: SignedDuration::from_hours(24),
            min_accounts: 20,
            min_sources: 10,
            max_attempts_per_source: 2,
            max_sources: 50_000,
        }
    }
}

impl DistributedSprayConfig {
    /// Checks that the window is positive and the thresholds and cap at least 1.
    pub fn validate(&self) -> Result<(), String> {
        check_window(self.window)?;
        check_threshold("min_accounts", self.min_accounts)?;
        if self.min_sources < 1 {
            return Err("min_sources must be at least 1".to_owned());
        }
        if self.max_attempts_per_source < 1 || self.max_attempts_per_source > 100 {
            return Err(format!(
                "max_attempts_per_source must be between 1 and 100, not {}",
                self.max_attempts_per_source
            ));
        }
        if self.max_sources < self.min_sources as usize {
            return Err(format!(
                "max_sources must be at least min_sources ({}), not {}",
                self.min_sources, self.max_sources
            ));
        }
        Ok(())
    }
}

/// Settings of the cross-organisation campaign detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignConfig {
    /// How long a look back the detector takes at one source network (the /24 of an IPv4
    /// address, the /64 of an IPv6 one), such as "6h". A campaign also ends once this
    /// long passes without a failure from the network.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub window: SignedDuration,
    /// How many organisations the network must fail against within `window`.
    pub min_organisations: u32,
    /// How many accounts, all organisations together, the network must fail against
    /// within `window` (each with at most `max_attempts_per_account` failures).
    pub min_accounts: u32,
    /// Accounts with more failures than this from the network within `window` are not
    /// counted towards `min_accounts`: a phone retrying an old password every few minutes
    /// is a stale client, not a campaign, and a brute force is reported on its own.
    pub max_attempts_per_account: u32,
    /// How long after its first failure an account starts to count, such as "1h": long
    /// enough for a stale client (which retries every 15 to 30 minutes) to show itself
    /// by failing more than `max_attempts_per_account` times. A campaign is therefore
    /// reported this long after the failures that make it.
    #[serde(serialize_with = "jiff::fmt::serde::duration::friendly::compact::required")]
    pub settle: SignedDuration,
    /// Share of the network's (or user agent's) attempts within `window`, all
    /// organisations together, that must have failed, from 0 to 1. Keeps a shared network
    /// where people really sign in (a provider's NAT, a shared office building) from
    /// looking like a campaign. For a user agent this is what makes it *rare*: a common
    /// browser or mail client (Chrome, Outlook, iOS Mail) signs in successfully far more
    /// often than it fails, all day, so it never reaches this share while people use it;
    /// an attack tool almost never succeeds. Counting successes in the window needs no
    /// list of "known good" user agents, which would go stale and which attackers copy.
    pub min_failure_ratio: f64,
    /// Also look for campaigns tied together by the user agent: one client software
    /// string failing against accounts of `min_organisations` organisations from
    /// addresses in at least `min_networks_per_user_agent` networks — an attack tool
    /// rotating its addresses, which the network key misses. The other thresholds above
    /// apply to it as to a network; sign-ins without a user agent (sshd, Graph v1.0)
    /// cannot show it.
    pub by_user_agent: bool,
    /// How many distinct /24 or /64 networks a user agent's counted failures must come
    /// from. A campaign from one network is the network key's business; a stale client
    /// or an office fails from one or two.
    pub min_networks_per_user_agent: u32,
    /// How many user agents the detector tracks at most (each cut to 512 bytes). When
    /// more appear, the tenth seen least recently is forgotten (and counted as evicted),
    /// so that a tool sending a random user agent each time cannot exhaust memory.
    pub max_user_agents: usize,
}

impl Default for CampaignConfig {
    fn default() -> Self {
        CampaignConfig {
            window: SignedDuration::from_hours(6),
            min_organisations: 2,
            min_accounts: 10,
            max_attempts_per_account: 2,
            settle: SignedDuration::from_hours(1),
            min_failure_ratio: 0.9,
            by_user_agent: true,
            min_networks_per_user_agent: 5,
            max_user_agents: 10_000,
        }
    }
}

impl CampaignConfig {
    /// Checks that the window is positive, at least two organisations are asked for, the
    /// account and network thresholds and the cap are at least 1 and the ratio between 0
    /// and 1.
    pub fn validate(&self) -> Result<(), String> {
        check_window(self.window)?;
        if self.min_organisations < 2 {
            return Err(format!(
                "min_organisations must be at least 2, not {}",
                self.min_organisations
            ));
        }
        if self.min_accounts < 1 {
            return Err("min_accounts must be at least 1".to_owned());
        }
        if self.max_attempts_per_account < 1 {
            return Err("max_attempts_per_account must be at least 1".to_owned());
        }
        if self.settle < SignedDuration::ZERO || self.settle >= self.window {
            return Err(format!(
                "settle must be between 0 and window ({:#}), not {:#}",
                self.window, self.settle
            ));
        }
        if !(0.0..=1.0).contains(&self.min_failure_ratio) {
            return Err(format!(
                "min_failure_ratio must be between 0 and 1, not {}",
                self.min_failure_ratio
            ));
        }
        check_threshold(
            "min_networks_per_user_agent",
            self.min_networks_per_user_agent,
        )?;
        if self.max_user_agents < 1 {
            return Err("max_user_agents must be at least 1".to_owned());
        }
        Ok(())
    }
}

/// A count threshold: at least one, and no more than a key's window can hold.
fn check_threshold(name: &str, value: u32) -> Result<(), String> {
    if value < 1 || value as usize > MAX_RETAINED_EVENTS {
        return Err(format!(
            "{name} must be between 1 and {MAX_RETAINED_EVENTS}, not {value}"
        ));
    }
    Ok(())
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
        check(
            |c| c.distributed_spray.min_accounts = 0,
            "distributed_spray.min_accounts",
        );
        check(
            |c| c.distributed_spray.max_attempts_per_source = 0,
            "distributed_spray.max_attempts_per_source",
        );
        check(
            |c| c.distributed_spray.max_sources = 5,
            "distributed_spray.max_sources",
        );
        check(
            |c| c.campaign.min_organisations = 1,
            "campaign.min_organisations",
        );
        check(
            |c| c.campaign.min_failure_ratio = -0.1,
            "campaign.min_failure_ratio",
        );
        check(
            |c| c.campaign.window = SignedDuration::ZERO,
            "campaign.window",
        );
        check(
            |c| c.campaign.min_networks_per_user_agent = 0,
            "campaign.min_networks_per_user_agent",
        );
        check(
            |c| c.campaign.max_user_agents = 0,
            "campaign.max_user_agents",
        );
    }

    #[test]
    fn distributed_spray_and_campaign_defaults_are_the_documented_ones() {
        let c = DetectConfig::default();
        assert_eq!(c.distributed_spray.window, SignedDuration::from_hours(24));
        assert_eq!(c.distributed_spray.min_accounts, 20);
        assert_eq!(c.distributed_spray.min_sources, 10);
        assert_eq!(c.distributed_spray.max_attempts_per_source, 2);
        assert_eq!(c.distributed_spray.max_sources, 50_000);
        assert_eq!(c.campaign.window, SignedDuration::from_hours(6));
        assert_eq!(c.campaign.min_organisations, 2);
        assert_eq!(c.campaign.min_accounts, 10);
        assert_eq!(c.campaign.max_attempts_per_account, 2);
        assert_eq!(c.campaign.settle, SignedDuration::from_hours(1));
        assert_eq!(c.campaign.min_failure_ratio, 0.9);
        assert!(c.campaign.by_user_agent);
        assert_eq!(c.campaign.min_networks_per_user_agent, 5);
        assert_eq!(c.campaign.max_user_agents, 10_000);
        let text = toml::to_string(&c).expect("serialise");
        assert!(text.contains("window = \"24h\""), "{text}");
        assert!(text.contains("window = \"6h\""), "{text}");
    }
}
