//! `courtesy serve`: the before-queue SMTP relay.
//!
//! Signals: SIGTERM and SIGINT drain (stop accepting, let transactions in
//! flight finish within `shutdown_grace`, send 421 to idle sessions);
//! SIGHUP reloads the configuration file and the policy, keeping the
//! running ones if the new ones do not validate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::{LogFormat, ServiceConfig};
use crate::smtp::Relay;

/// Arguments of `courtesy serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Service configuration (YAML). Without it: listen on 127.0.0.1:2525,
    /// use policies/example.yaml, deliver into ./outbox.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs `courtesy serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = match super::service_config(args.config.as_deref()) {
        Ok(config) => config,
        Err(exit) => return Ok(exit),
    };
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config, args.config))
}

pub(super) fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COURTESY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

async fn serve(config: ServiceConfig, config_path: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    if let Some(directory) = &config.directory {
        crate::directory::service::prepare(directory).await;
    }
    let relay = match Relay::new(config.clone(), config_path) {
        Ok(relay) => relay,
        Err(e) => {
            eprintln!("courtesy: {e}");
            return Ok(ExitCode::from(super::EXIT_USAGE));
        }
    };
    let mut listeners = Vec::new();
    for addr in &config.smtp.listen {
        let listener =
            crate::listen::bind(*addr).with_context(|| format!("cannot listen on {addr}"))?;
        listeners.push(listener);
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if let Some(addr) = config.admin {
        let listener = crate::admin::bind(addr)
            .await
            .with_context(|| format!("cannot listen on admin {addr}"))?;
        tracing::info!(%addr, "admin endpoint (/metrics, /healthz)");
        let state = crate::admin::AdminState { metrics: relay.metrics(), healthy: relay.healthy() };
        let live = relay.clone();
        let reader: crate::console::source::PolicyReader = std::sync::Arc::new(move || {
            let mut status =
                crate::console::source::PolicyStatus::live(live.settings().policy.clone());
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
    spawn_reload_on_hangup(relay.clone())?;
    let shutdown = async {
        wait_for_termination().await;
    };
    crate::smtp::serve(relay, listeners, shutdown).await?;
    let _ = stop_tx.send(true);
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
fn spawn_reload_on_hangup(relay: std::sync::Arc<Relay>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup()).context("cannot install the SIGHUP handler")?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading");
            // The error is logged by reload itself.
            let _ = relay.reload();
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn spawn_reload_on_hangup(_relay: std::sync::Arc<Relay>) -> anyhow::Result<()> {
    Ok(())
}

pub(super) async fn wait_for_termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT"),
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
