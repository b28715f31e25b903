//! `courtesy check`.

use std::process::ExitCode;

/// Arguments of `courtesy check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

/// Runs `courtesy check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("courtesy check is not available in this build")
}
