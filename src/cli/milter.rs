//! `courtesy milter`.

use std::process::ExitCode;

/// Arguments of `courtesy milter`.
#[derive(Debug, clap::Args)]
pub struct MilterArgs {}

/// Runs `courtesy milter`.
pub fn run(args: MilterArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("courtesy milter is not available in this build")
}
