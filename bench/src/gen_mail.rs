//! The mbox input.

use crate::GenArgs;

pub fn write(_args: &GenArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet written")
}
