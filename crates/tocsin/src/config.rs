//! The configuration file: one TOML document whose sections belong to the crates that
//! use them. Unknown keys are refused so that a typo does not silently keep a default.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The documented sample configuration, which is also the list of defaults.
pub const EXAMPLE: &str = include_str!("../tocsin.example.toml");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the embedded database and the master key live.
    pub data_dir: PathBuf,
    pub store: store::StoreConfig,
    pub pipeline: pipeline::PipelineConfig,
    pub http: server::HttpConfig,
    pub detect: detect::DetectConfig,
    pub notify: notify::NotifyConfig,
    pub enrich: enrich::EnrichConfig,
    pub mail: mail::analyse::MailConfig,
    pub smtp: crate::journal::SmtpConfig,
    pub enrolment: server::EnrolmentConfig,
    pub intel: notify::feeds::IntelConfig,
    pub syslog: connect::syslog::SyslogConfig,
    pub tail: connect::tail::TailConfig,
    pub connectors: connect::pull::PullConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./tocsin-data"),
            store: store::StoreConfig::default(),
            pipeline: pipeline::PipelineConfig::default(),
            http: server::HttpConfig::default(),
            detect: detect::DetectConfig::default(),
            notify: notify::NotifyConfig::default(),
            enrich: enrich::EnrichConfig::default(),
            mail: mail::analyse::MailConfig::default(),
            smtp: crate::journal::SmtpConfig::default(),
            enrolment: server::EnrolmentConfig::default(),
            intel: notify::feeds::IntelConfig::default(),
            syslog: connect::syslog::SyslogConfig::default(),
            tail: connect::tail::TailConfig::default(),
            connectors: connect::pull::PullConfig::default(),
        }
    }
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let config: Config = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid tocsin configuration", path.display()))?;
        config
            .validate()
            .with_context(|| format!("{}", path.display()))?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.detect.validate().map_err(anyhow::Error::msg)?;
        self.notify.validate().map_err(anyhow::Error::msg)?;
        self.http.validate().map_err(anyhow::Error::msg)?;
        mail::analyse::Analyser::new(&self.mail)?;
        self.enrolment.validate().map_err(anyhow::Error::msg)?;
        self.intel.validate().map_err(anyhow::Error::msg)?;
        self.pipeline.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_exactly_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).expect("example parses");
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn a_typo_is_refused_with_its_name() {
        let error =
            toml::from_str::<Config>("[detect.brute_force]\nmin_failure = 3\n").expect_err("typo");
        assert!(
            error.to_string().contains("unknown field `min_failure`"),
            "{error}"
        );
    }
}
