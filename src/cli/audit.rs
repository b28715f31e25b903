//! `courtesy audit`.

use std::process::ExitCode;

/// Arguments of `courtesy audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {}

/// Runs `courtesy audit`.
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("courtesy audit is not available in this build")
}
