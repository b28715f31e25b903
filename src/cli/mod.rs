//! The `courtesy` subcommands; `main.rs` only parses arguments and calls these.

pub mod audit;
pub mod check;
pub mod console;
pub mod directory;
pub mod dkim;
pub mod milter;
pub mod preview;
pub mod serve;

/// Exit code of a checking command that found problems in what it checked.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for bad arguments or a bad configuration of courtesy itself.
pub const EXIT_USAGE: u8 = 2;

/// The policy the services use when no configuration file is given.
const DEFAULT_POLICY: &str = "policies/example.yaml";

/// The service configuration of `serve` and `milter`: the file when one is
/// given, else the defaults with the example policy (when run from a
/// checkout) so a first try needs no file at all. A file that does not load
/// is reported on stderr and ends the command with the usage exit code.
fn service_config(
    path: Option<&std::path::Path>,
) -> Result<crate::config::ServiceConfig, std::process::ExitCode> {
    use crate::config::ServiceConfig;
    match path {
        Some(path) => ServiceConfig::load(path).map_err(|e| {
            eprintln!("courtesy: {e}");
            std::process::ExitCode::from(EXIT_USAGE)
        }),
        None => {
            let mut config = ServiceConfig::default();
            if std::path::Path::new(DEFAULT_POLICY).exists() {
                config.policy = Some(DEFAULT_POLICY.into());
            }
            Ok(config)
        }
    }
}
