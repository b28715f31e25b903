//! `courtesy milter`: the milter for Postfix and Sendmail.
//!
//! Signals: SIGTERM and SIGINT drain (stop accepting, close idle MTA
//! connections, let messages in progress finish within `shutdown_grace`);
//! SIGHUP reloads the configuration file and the policy, keeping the
//! running ones if the new ones do not validate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::ServiceConfig;
use crate::milter::{Listener, Milter};

/// Arguments of `courtesy milter`.
#[derive(Debug, clap::Args)]
pub struct MilterArgs {
    /// Service configuration (YAML), the same file as the relay's; the
    /// `milter:` section applies. Without it: listen on
    /// inet:127.0.0.1:8891 and use policies/example.yaml.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs `courtesy milter`.
pub fn run(args: MilterArgs) -> anyhow::Result<ExitCode> {
    let config = match super::service_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(exit) => return Ok(exit),
    };
    super::serve::init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config, args.config))
}

async fn serve(config: ServiceConfig, config_path: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let milter = match Milter::new(config.clone(), config_path) {
        Ok(milter) => milter,
        Err(e) => {
            eprintln!("courtesy: {e}");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    let listener = Listener::bind(&config.milter()).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if let Some(addr) = config.admin {
        let listener = crate::admin::bind(addr)
            .await
            .with_context(|| format!("cannot listen on admin {addr}"))?;
        tracing::info!(%addr, "admin endpoint (/metrics, /healthz)");
        let state =
            crate::admin::AdminState { metrics: milter.metrics(), healthy: milter.healthy() };
        let live = milter.clone();
        let reader: crate::console::source::PolicyReader = std::sync::Arc::new(move || {
            let mut status =
                crate::console::source::PolicyStatus::live(live.settings().engine.policy.clone());
            status.errors = live.last_reload_error();
            status
        });
        let console = super::console::for_admin(&config, addr, reader)?;
        if console.is_some() {
            tracing::info!(%addr, "management console at /console");
        }
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = crate::admin::serve(listener, state, console, shutdown).await {
                tracing::error!(error = %e, "admin endpoint failed");
            }
        });
    }
    spawn_reload_on_hangup(milter.clone())?;
    crate::milter::serve(milter, listener, super::serve::wait_for_termination()).await;
    let _ = stop_tx.send(true);
    Ok(ExitCode::SUCCESS)
}

fn spawn_reload_on_hangup(milter: std::sync::Arc<Milter>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup()).context("cannot install the SIGHUP handler")?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading");
            // The error is logged by reload itself.
            let _ = milter.reload();
        }
    });
    Ok(())
}
