//! The `courtesy` command: parses arguments and hands over to the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use courtesy::cli;

/// courtesy: an outbound mail gateway that makes auto-replies and team signatures courteous.
#[derive(Debug, Parser)]
#[command(name = "courtesy", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate house policy files.
    Check(cli::check::CheckArgs),
    /// Show what the gateway would do with one message.
    Preview(cli::preview::PreviewArgs),
    /// Run the before-queue SMTP relay.
    Serve(cli::serve::ServeArgs),
    /// Run the milter for Postfix or Sendmail.
    Milter(cli::milter::MilterArgs),
    /// Verify, list and report the audit log.
    Audit(cli::audit::AuditArgs),
    /// People from the directory (LDAP, CSV) merged with the policy.
    Directory(cli::directory::DirectoryArgs),
    /// Manage DKIM keys for re-signing rewritten mail.
    Dkim(cli::dkim::DkimArgs),
    /// Serve the management console in the browser.
    Console(cli::console::ConsoleArgs),
}

fn main() -> ExitCode {
    let args = Cli::parse();
    let result = match args.command {
        Command::Check(a) => cli::check::run(a),
        Command::Preview(a) => cli::preview::run(a),
        Command::Serve(a) => cli::serve::run(a),
        Command::Milter(a) => cli::milter::run(a),
        Command::Audit(a) => cli::audit::run(a),
        Command::Directory(a) => cli::directory::run(a),
        Command::Dkim(a) => cli::dkim::run(a),
        Command::Console(a) => cli::console::run(a),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("courtesy: {error:#}");
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}
