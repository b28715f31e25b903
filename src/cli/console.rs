//! `courtesy console`: serves the management console on its own, so a
//! manager can run it on a laptop next to the policy file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::ServiceConfig;
use crate::console::{self, ConsoleOptions, ConsoleState, config::ConsoleConfig, source};
use crate::engine::EngineOptions;
use crate::smtp::auth::Users;

/// Arguments of `courtesy console`.
#[derive(Debug, clap::Args)]
pub struct ConsoleArgs {
    /// Service configuration: its policy, audit log and `console:` section are used.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The house policy (default: the configuration's, else the built-in example policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Address to listen on; anything but loopback requires a users file.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8025")]
    pub listen: SocketAddr,
    /// Users file (`user:argon2-hash` lines); default: `console.users_file` of the configuration.
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// Mark cookies `Secure` (when a TLS proxy fronts the console).
    #[arg(long)]
    pub secure_cookies: bool,
}

/// Runs `courtesy console` until Ctrl-C or SIGTERM.
pub fn run(args: ConsoleArgs) -> anyhow::Result<ExitCode> {
    let (service, section) = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read configuration {}", path.display()))?;
            let section = console::config::from_service_config(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            (Some(ServiceConfig::parse(&text, path)?), section.unwrap_or_default())
        }
        None => (None, ConsoleConfig::default()),
    };
    let section = ConsoleConfig {
        users_file: args.users.clone().or(section.users_file),
        secure_cookies: args.secure_cookies || section.secure_cookies,
        ..section
    };
    section.check_listen(args.listen).map_err(anyhow::Error::msg)?;
    let users = match &section.users_file {
        Some(path) => Some(Users::load(path)?),
        None => None,
    };
    let policy_path =
        args.policy.clone().or_else(|| service.as_ref().and_then(|s| s.policy.clone()));
    let reader = match &policy_path {
        Some(path) => source::file_reader(path.clone()),
        None => source::example_reader(),
    };
    let engine = service.as_ref().map_or_else(EngineOptions::default, |s| EngineOptions {
        observe_only: s.mode == crate::config::Mode::Observe,
        instance: s.instance.clone(),
    });
    let options = ConsoleOptions {
        audit: service.as_ref().and_then(|s| s.audit.clone()),
        users,
        secure_cookies: section.secure_cookies,
        base_path: String::new(),
        rewrites_shown: section.rewrites_shown,
        engine,
    };
    let state = ConsoleState::new(reader, options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let shown =
            policy_path.map_or_else(|| "built-in example".to_string(), |p| p.display().to_string());
        eprintln!("courtesy console on http://{}/ (policy: {shown})", listener.local_addr()?);
        console::serve(listener, state, shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The console for a running relay or milter, mounted on its admin address
/// when the service configuration enables it; `None` when it does not.
pub(crate) fn for_admin(
    config: &ServiceConfig,
    admin: SocketAddr,
    reader: source::PolicyReader,
) -> anyhow::Result<Option<ConsoleState>> {
    let Some(section) = config.console.clone().filter(|c| c.enabled) else {
        return Ok(None);
    };
    section.check_listen(admin).map_err(anyhow::Error::msg)?;
    let users = match &section.users_file {
        Some(path) => Some(Users::load(path)?),
        None => None,
    };
    let options = ConsoleOptions {
        audit: config.audit.clone(),
        users,
        secure_cookies: section.secure_cookies,
        base_path: "/console".to_string(),
        rewrites_shown: section.rewrites_shown,
        engine: EngineOptions {
            observe_only: config.mode == crate::config::Mode::Observe,
            instance: config.instance.clone(),
        },
    };
    Ok(Some(ConsoleState::new(reader, options)?))
}
