//! `courtesy preview`.

use std::process::ExitCode;

/// Arguments of `courtesy preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {}

/// Runs `courtesy preview`.
pub fn run(args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("courtesy preview is not available in this build")
}
