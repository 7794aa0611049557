//! Streaming sign-in detectors over event time with bounded memory: brute force,
//! password spray, distributed (low-and-slow) spray and cross-organisation campaigns
//! (from one network, or with one rare user agent from many).
//!
//! This crate owns the decision that a run of sign-ins is an attack, and the evidence and
//! reasons for it. Feed it [`Observation`]s with [`Detectors::observe`]; it returns the
//! [`Detection`]s they complete. It does no I/O and never reads the clock: all windows
//! are measured in event time, so replaying the same events gives the same detections.
//! Every piece of state is keyed by organisation, so one organisation's events never
//! appear in another's detection; the campaign detector, which alone looks across
//! organisations, keeps each organisation's events apart and reports to each only its own.
//!
//! Campaign keys, which tie detections of one attack together, are
//! `brute_force:<account>` ([`brute_force_key`]), `password_spray:<network>`
//! ([`password_spray_key`]), `distributed_spray:<organisation>`
//! ([`distributed_spray_key`]), `campaign:<network>` ([`campaign_key`], the same in
//! every organisation the campaign hits) and `ua:<hash>` ([`user_agent_campaign_key`],
//! likewise).

mod brute_force;
mod campaign;
mod compromise;
mod config;
mod distributed;
mod password_spray;
mod window;

use jiff::Timestamp;

/// The detectors' hash maps. Their keys (accounts, addresses) come from attackers, so the
/// hash is seeded at random per process; foldhash rather than the standard SipHash,
/// which was a sixth of the instructions of a scan. Every map is bounded by
/// `max_tracked_keys` or its window, so even a collision flood only slows one process.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::quality::RandomState>;

use model::{Detection, Network, Observation, OrgId, Outcome, SignIn};

pub use config::{
    BruteForceConfig, CampaignConfig, DetectConfig, DistributedSprayConfig, MAX_RETAINED_EVENTS,
    OrgDetectConfig, PasswordSprayConfig, SourcePolicy, TrustedEgress,
};

use campaign::{CampaignDetector, UserAgent};
use distributed::DistributedSprayDetector;

use brute_force::BruteForceDetector;
use compromise::CompromiseWatch;
use password_spray::PasswordSprayDetector;

/// The campaign key of a brute force against `account`.
pub fn brute_force_key(account: &str) -> String {
    format!("brute_force:{account}")
}

/// The campaign key of a password spray (or credential stuffing) from `network`, the /24
/// or /64 its addresses belong to: an attacker rotating through neighbouring addresses
/// is still one attack.
pub fn password_spray_key(network: Network) -> String {
    format!("password_spray:{network}")
}

/// The campaign key of a distributed spray against `org`: one per organisation, split into
/// episodes by the correlator's reopen horizon.
pub fn distributed_spray_key(org: OrgId) -> String {
    format!("distributed_spray:{org}")
}

/// The campaign key of a cross-organisation campaign from `network`, the same in every
/// organisation it hits, so that the service can count the victims.
pub fn campaign_key(network: Network) -> String {
    format!("campaign:{network}")
}

/// The campaign key of a cross-organisation campaign tied together by `user_agent`:
/// `ua:` and 12 hex digits of a hash of the user agent normalised as the detector keys it
/// (trimmed, white space collapsed, control characters dropped, first 512 bytes), or
/// `None` if nothing is left of it.
pub fn user_agent_campaign_key(user_agent: &str) -> Option<String> {
    UserAgent::normalise(user_agent).map(|ua| ua.campaign_key())
}

/// A detection resting on one sign-in: a further failure of an attack already reported,
/// or the sign-in that shows it succeeded. Its source is the sign-in's address.
pub(crate) fn one_sign_in(
    obs: &Observation,
    kind: model::DetectionKind,
    campaign_key: String,
    severity: model::Severity,
    reasons: Vec<String>,
) -> Detection {
    let s = &obs.sign_in;
    Detection {
        kind,
        org: obs.org,
        campaign_key,
        severity,
        first_seen: s.time,
        last_seen: s.time,
        accounts: vec![s.account.clone()],
        sources: s
            .source_ip
            .map(|ip| ip.to_canonical())
            .into_iter()
            .collect(),
        compromised: Vec::new(),
        evidence: vec![obs.id],
        reasons,
    }
}

/// What a sign-in means to the detectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// A failure that is not proof of a valid password: a wrong guess.
    CredentialFailure,
    /// A success, or a failure after the password was accepted (second factor asked for,
    /// password expired): for an attacker as good as a success.
    ValidPassword,
    /// No credential was tried (a scanner that disconnected before authenticating):
    /// neither a guess nor a success.
    Context,
}

pub(crate) fn classify(s: &SignIn) -> Class {
    match (s.outcome, s.failure_kind) {
        (Outcome::Success, _) => Class::ValidPassword,
        (Outcome::Failure, Some(kind)) if kind.password_was_valid() => Class::ValidPassword,
        (Outcome::Failure, _) => Class::CredentialFailure,
        (Outcome::PreAuth, _) => Class::Context,
    }
}

/// The sign-in detectors, fed one observation at a time.
#[derive(Debug)]
pub struct Detectors {
    /// The per-organisation detectors of every organisation without its own settings.
    shared: OrgDetectors,
    /// Organisations with their own thresholds get detectors of their own. All state is
    /// keyed by organisation anyway, so this changes nothing but the thresholds.
    own: HashMap<OrgId, OrgDetectors>,
    compromise: CompromiseWatch,
    campaign: CampaignDetector<Network>,
    /// `None` when `campaign.by_user_agent` is off.
    campaign_by_user_agent: Option<CampaignDetector<UserAgent>>,
    /// Which detectors run: all of them in one process, one stage's in a worker.
    stage: Stage,
    observed: u64,
}

/// The detectors a process runs. One process runs them all; the scaled-out pipeline
/// splits them where their state's keys split: everything keyed inside one
/// organisation (accounts, its networks, the organisation itself, and the compromise
/// watch that needs their detections) in one stage partitioned by organisation, and the
/// cross-organisation campaigns in stages re-keyed by network and by user agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    All,
    Organisation,
    NetworkCampaign,
    UserAgentCampaign,
}

/// The detectors whose state never spans organisations.
#[derive(Debug)]
struct OrgDetectors {
    brute_force: BruteForceDetector,
    password_spray: PasswordSprayDetector,
    distributed_spray: DistributedSprayDetector,
}

impl OrgDetectors {
    fn new(
        brute_force: BruteForceConfig,
        password_spray: PasswordSprayConfig,
        distributed_spray: DistributedSprayConfig,
        config: &DetectConfig,
    ) -> Self {
        OrgDetectors {
            brute_force: BruteForceDetector::new(brute_force, config.max_tracked_keys),
            password_spray: PasswordSprayDetector::new(
                password_spray,
                config.sources.clone(),
                config.max_tracked_keys,
            ),
            distributed_spray: DistributedSprayDetector::new(distributed_spray),
        }
    }
}

impl Detectors {
    /// Detectors with `config`, which should have passed [`DetectConfig::validate`];
    /// an invalid config does not panic but detects nonsense (a zero threshold alerts on
    /// every failure).
    pub fn new(config: DetectConfig) -> Self {
        Detectors::for_stage(config, Stage::All)
    }

    /// Detectors running only `stage`'s share.
    pub fn for_stage(config: DetectConfig, stage: Stage) -> Self {
        let own = config
            .organisations
            .iter()
            .map(|o| {
                let detectors = OrgDetectors::new(
                    o.brute_force
                        .clone()
                        .unwrap_or_else(|| config.brute_force.clone()),
                    o.password_spray
                        .clone()
                        .unwrap_or_else(|| config.password_spray.clone()),
                    o.distributed_spray
                        .clone()
                        .unwrap_or_else(|| config.distributed_spray.clone()),
                    &config,
                );
                (OrgId(o.org), detectors)
            })
            .collect();
        Detectors {
            shared: OrgDetectors::new(
                config.brute_force.clone(),
                config.password_spray.clone(),
                config.distributed_spray.clone(),
                &config,
            ),
            own,
            compromise: CompromiseWatch::new(config.compromise_window, config.max_tracked_keys),
            campaign_by_user_agent: config.campaign.by_user_agent.then(|| {
                CampaignDetector::new(config.campaign.clone(), config.campaign.max_user_agents)
            }),
            campaign: CampaignDetector::new(config.campaign, config.max_tracked_keys),
            stage,
            observed: 0,
        }
    }

    /// Feeds one observation to every detector and returns what it completes: brute-force
    /// detections first, then password-spray, distributed-spray and campaign ones (by
    /// network, then by user agent), then a
    /// compromise of an attacked account from a network it does not use. Observations may
    /// arrive somewhat out of time order; each is placed where its time says within its
    /// key's window.
    pub fn observe(&mut self, obs: &Observation) -> Vec<Detection> {
        self.observed += 1;
        let mut out = Vec::new();
        let (organisation, network, user_agent) = match self.stage {
            Stage::All => (true, true, true),
            Stage::Organisation => (true, false, false),
            Stage::NetworkCampaign => (false, true, false),
            Stage::UserAgentCampaign => (false, false, true),
        };
        if organisation {
            let org = match self.own.get_mut(&obs.org) {
                Some(own) => own,
                None => &mut self.shared,
            };
            org.brute_force.observe(obs, &mut out);
            org.password_spray.observe(obs, &mut out);
            org.distributed_spray.observe(obs, &mut out);
        }
        if network {
            self.campaign.observe(obs, &mut out);
        }
        if user_agent && let Some(by_user_agent) = &mut self.campaign_by_user_agent {
            by_user_agent.observe(obs, &mut out);
        }
        if organisation {
            if let Some(compromise) = self.compromise.observe(obs, &out) {
                out.push(compromise);
            }
            self.compromise.note(&out);
        }
        out
    }

    /// Moves the campaign detectors' clocks to `time` (when newer) and returns what comes
    /// due: a partitioned campaign stage hears only its own networks' events, so the
    /// pipeline tells it how far the whole stream has got, as one process's detectors
    /// learn from every event.
    pub fn advance_to(&mut self, time: Timestamp) -> Vec<Detection> {
        let mut out = Vec::new();
        if matches!(self.stage, Stage::All | Stage::NetworkCampaign) {
            self.campaign.advance_to(time, &mut out);
        }
        if matches!(self.stage, Stage::All | Stage::UserAgentCampaign)
            && let Some(by_user_agent) = &mut self.campaign_by_user_agent
        {
            by_user_agent.advance_to(time, &mut out);
        }
        out
    }

    /// The newest event time seen so far (the watermark), if any.
    pub fn watermark(&self) -> Option<Timestamp> {
        std::iter::once(&self.shared)
            .chain(self.own.values())
            .filter_map(|d| d.brute_force.watermark())
            .max()
    }

    /// Counters that show what the detectors hold and what they had to forget, over
    /// every organisation.
    pub fn stats(&self) -> DetectorStats {
        let mut stats = DetectorStats {
            observed: self.observed,
            compromise: self.compromise.stats(),
            campaign: self.campaign.stats(),
            campaign_by_user_agent: self
                .campaign_by_user_agent
                .as_ref()
                .map(CampaignDetector::stats)
                .unwrap_or_default(),
            ..DetectorStats::default()
        };
        for d in std::iter::once(&self.shared).chain(self.own.values()) {
            stats.brute_force.add(d.brute_force.stats());
            stats.password_spray.add(d.password_spray.stats());
            stats.distributed_spray.add(d.distributed_spray.stats());
            stats.spray_skipped_without_source += d.password_spray.skipped_without_source();
        }
        stats
    }
}

/// A snapshot of the detectors' bookkeeping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetectorStats {
    /// Observations fed so far.
    pub observed: u64,
    pub brute_force: KeyStats,
    pub password_spray: KeyStats,
    /// Attacked accounts and accounts' usual networks remembered for compromise checks.
    pub compromise: KeyStats,
    /// Sign-ins without a source address, which password-spray detection cannot key.
    pub spray_skipped_without_source: u64,
    /// Keys are source addresses per organisation; `max_sources` caps them per
    /// organisation.
    pub distributed_spray: KeyStats,
    /// Keys are source networks, all organisations together.
    pub campaign: KeyStats,
    /// Keys are user agents, all organisations together; `campaign.max_user_agents`
    /// caps them.
    pub campaign_by_user_agent: KeyStats,
}

/// The bookkeeping of one detector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyStats {
    /// Keys (accounts or source addresses, per organisation) currently tracked.
    pub tracked_keys: usize,
    /// Keys forgotten because `max_tracked_keys` was reached.
    pub evicted_keys: u64,
    /// Keys forgotten because their window had passed.
    pub expired_keys: u64,
    /// Events forgotten because a key's window held [`MAX_RETAINED_EVENTS`] already.
    pub dropped_evidence: u64,
}

impl KeyStats {
    fn add(&mut self, other: KeyStats) {
        self.tracked_keys += other.tracked_keys;
        self.evicted_keys += other.evicted_keys;
        self.expired_keys += other.expired_keys;
        self.dropped_evidence += other.dropped_evidence;
    }
}

#[cfg(test)]
mod tests {
    use model::{FailureKind, Format, Origin, Protocol};

    use super::*;

    fn sign_in(outcome: Outcome, kind: Option<FailureKind>) -> SignIn {
        SignIn {
            time: Timestamp::UNIX_EPOCH,
            account: "a".into(),
            source_ip: None,
            outcome,
            failure_kind: kind,
            protocol: Protocol::Ssh,
            app: None,
            result_code: None,
            reason: None,
            record_id: None,
            country: None,
            asn: None,
            user_agent: None,
            format: Format::Sshd,
            origin: Origin::FileLine {
                file: "t".into(),
                line: 1,
            },
            authentication: None,
        }
    }

    #[test]
    fn failures_that_prove_the_password_count_as_valid_passwords() {
        let check = |outcome, kind, class| assert_eq!(classify(&sign_in(outcome, kind)), class);
        check(Outcome::Success, None, Class::ValidPassword);
        check(
            Outcome::Failure,
            Some(FailureKind::MfaRequired),
            Class::ValidPassword,
        );
        check(
            Outcome::Failure,
            Some(FailureKind::ExpiredPassword),
            Class::ValidPassword,
        );
        check(
            Outcome::Failure,
            Some(FailureKind::BadPassword),
            Class::CredentialFailure,
        );
        check(
            Outcome::Failure,
            Some(FailureKind::Locked),
            Class::CredentialFailure,
        );
        check(Outcome::Failure, None, Class::CredentialFailure);
    }

    #[test]
    fn campaign_keys_name_the_account_or_the_address() {
        assert_eq!(brute_force_key("a@x.example"), "brute_force:a@x.example");
        assert_eq!(
            password_spray_key(Network::of("2001:db8::1".parse().expect("ip"))),
            "password_spray:2001:db8::/64"
        );
        assert_eq!(distributed_spray_key(OrgId(7)), "distributed_spray:7");
        assert_eq!(
            campaign_key(Network::of("203.0.113.9".parse().expect("ip"))),
            "campaign:203.0.113.0/24"
        );
        let tool = user_agent_campaign_key(" python-requests/2.25.1\n").expect("non-empty");
        assert_eq!(
            Some(tool.as_str()),
            user_agent_campaign_key("python-requests/2.25.1").as_deref()
        );
        assert!(tool.starts_with("ua:") && tool.len() == 15, "{tool}");
        assert_eq!(user_agent_campaign_key(" \t"), None);
    }
}
