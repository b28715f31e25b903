//! `courtesy serve`.

use std::process::ExitCode;

/// Arguments of `courtesy serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

/// Runs `courtesy serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("courtesy serve is not available in this build")
}
