//! Sign-in log inputs: syslog and the vendors' JSON exports.

use crate::{Dataset, GenArgs};

pub fn write(_dataset: Dataset, _args: &GenArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet written")
}
