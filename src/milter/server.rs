//! The milter as a whole: shared state, the listener (TCP or Unix socket),
//! the accept loop with its connection permits, reloads and the draining
//! shutdown. Mirrors the relay (`smtp::server`), and shares its engine,
//! audit and policy-watch code through [`crate::pipeline`].
//!
//! Shutdown: when `shutdown` completes the listener closes and `/healthz`
//! turns 503; idle MTA connections are closed at their next read, and a
//! connection in the middle of a message finishes it. Whatever still runs
//! after `shutdown_grace` is dropped; the MTA then applies its
//! `milter_default_action` (`accept` in the shipped snippet), so no mail is
//! lost or held up.
//!
//! Reload: [`Milter::reload`] builds the new policy (and, when started from
//! a file, the reloadable parts of the configuration) and swaps it in only
//! if everything validates; open connections keep the settings they
//! started with.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{Semaphore, watch};
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use super::connection;
use crate::audit::{AuditError, AuditSink};
use crate::config::{ConfigError, MilterConfig, MilterSocket, Mode, ServiceConfig};
use crate::engine::EngineOptions;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::pipeline::EngineContext;

/// Errors starting or reloading the milter.
#[derive(Debug, thiserror::Error)]
pub enum MilterError {
    /// The service configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The policy file; the text lists every problem with file:line:column.
    #[error("{0}")]
    Policy(String),
    /// The audit log.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// A DKIM key or the `dkim:` section.
    #[error("dkim: {0}")]
    Dkim(#[from] crate::dkim::DkimError),
    /// Binding the socket.
    #[error("cannot listen on {socket}: {source}")]
    Bind {
        /// `milter.listen` as configured.
        socket: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The settings one MTA connection runs with from start to end.
#[derive(Debug)]
pub struct MilterSettings {
    /// The whole configuration.
    pub config: ServiceConfig,
    /// Its `milter:` section (defaults when absent).
    pub milter: MilterConfig,
    /// Policy, engine options and time limit.
    pub engine: EngineContext,
}

fn build_settings(config: ServiceConfig) -> Result<MilterSettings, MilterError> {
    let policy = crate::smtp::server::load_policy(&config)
        .map_err(|e| MilterError::Policy(e.to_string()))?;
    let options = EngineOptions {
        observe_only: config.mode == Mode::Observe,
        instance: config.instance.clone(),
    };
    let dkim = crate::pipeline::build_signer(&config)?;
    let engine =
        EngineContext { policy: Arc::new(policy), options, timeout: config.engine_timeout, dkim };
    Ok(MilterSettings { milter: config.milter(), config, engine })
}

/// The running milter's shared state.
pub struct Milter {
    settings: Live<MilterSettings>,
    config_path: Option<PathBuf>,
    metrics: Arc<Metrics>,
    audit: Option<Arc<dyn AuditSink>>,
    healthy: Arc<AtomicBool>,
}

impl std::fmt::Debug for Milter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Milter").field("config_path", &self.config_path).finish_non_exhaustive()
    }
}

impl Milter {
    /// Builds the milter: policy and audit log. `config_path` is re-read on
    /// [`Milter::reload`]; without it only the policy reloads.
    pub fn new(
        config: ServiceConfig,
        config_path: Option<PathBuf>,
    ) -> Result<Arc<Milter>, MilterError> {
        let audit = match &config.audit {
            Some(audit) => Some(crate::audit::open(audit, &config.instance)?),
            None => None,
        };
        Milter::with_audit(config, config_path, audit)
    }

    /// Like [`Milter::new`] with a given audit sink (tests use an in-memory one).
    pub fn with_audit(
        config: ServiceConfig,
        config_path: Option<PathBuf>,
        audit: Option<Arc<dyn AuditSink>>,
    ) -> Result<Arc<Milter>, MilterError> {
        let settings = build_settings(config)?;
        Ok(Arc::new(Milter {
            settings: Live::new(settings),
            config_path,
            metrics: Metrics::new(),
            audit,
            healthy: Arc::new(AtomicBool::new(true)),
        }))
    }

    /// Why the last reload (or directory rebuild) failed, as it was logged;
    /// `None` once a later one succeeded. The running policy is unaffected.
    pub fn last_reload_error(&self) -> Option<String> {
        self.settings.last_error()
    }

    /// The metrics registry.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Cleared while draining; for `/healthz`.
    pub fn healthy(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.healthy)
    }

    /// The settings new connections start with.
    pub fn settings(&self) -> Arc<MilterSettings> {
        self.settings.get()
    }

    pub(super) fn audit(&self) -> Option<Arc<dyn AuditSink>> {
        self.audit.clone()
    }

    /// Re-reads the configuration file (if any) and the policy; on any error
    /// keeps the current settings and returns the error.
    pub fn reload(&self) -> Result<(), MilterError> {
        let current = self.settings();
        let result = (|| {
            let config = match &self.config_path {
                Some(path) => {
                    let new = ServiceConfig::load(path)?;
                    warn_restart_needed(&current.config, &new);
                    new
                }
                None => current.config.clone(),
            };
            build_settings(config)
        })();
        self.settings.replace(result, "configuration and policy reload", &self.metrics)
    }
}

fn warn_restart_needed(old: &ServiceConfig, new: &ServiceConfig) {
    let (o, n) = (old.milter(), new.milter());
    if o.listen != n.listen {
        tracing::warn!("milter.listen changed: takes effect after a restart");
    }
    if o.max_connections != n.max_connections {
        tracing::warn!("milter.max_connections changed: takes effect after a restart");
    }
    if old.admin != new.admin {
        tracing::warn!("admin changed: takes effect after a restart");
    }
    if old.audit != new.audit {
        tracing::warn!("audit changed: takes effect after a restart");
    }
    if old.instance != new.instance {
        tracing::warn!("instance changed: the audit chain keeps the old name until a restart");
    }
}

/// A bound milter socket.
#[derive(Debug)]
pub enum Listener {
    /// `inet:HOST:PORT`.
    Tcp(TcpListener),
    /// `unix:/path`; the socket file is removed when the listener is dropped.
    Unix(UnixListener, PathBuf),
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Listener {
    /// Binds `milter.listen`. A Unix socket file left by a previous run is
    /// replaced; anything else at that path is an error.
    pub async fn bind(config: &MilterConfig) -> Result<Listener, MilterError> {
        let bind_error = |source| MilterError::Bind { socket: config.listen.clone(), source };
        let socket = config
            .socket()
            .map_err(|m| bind_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, m)))?;
        match socket {
            MilterSocket::Inet(addr) => {
                // Every SMTP session of the MTA opens its own milter connection;
                // a burst must queue, not overflow tokio's default backlog of 128.
                crate::listen::bind(addr).map(Listener::Tcp).map_err(bind_error)
            }
            MilterSocket::Unix(path) => {
                use std::os::unix::fs::FileTypeExt as _;
                if let Ok(meta) = std::fs::symlink_metadata(&path)
                    && meta.file_type().is_socket()
                {
                    std::fs::remove_file(&path).map_err(bind_error)?;
                }
                let listener = UnixListener::bind(&path).map_err(bind_error)?;
                Ok(Listener::Unix(listener, path))
            }
        }
    }

    /// The TCP address, for `inet:` listeners (tests bind port 0).
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok(),
            Listener::Unix(..) => None,
        }
    }

    /// What the listener is bound to, for logs and tests.
    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(l) => {
                l.local_addr().map_or_else(|_| "inet:?".into(), |a| format!("inet:{a}"))
            }
            Listener::Unix(_, path) => format!("unix:{}", path.display()),
        }
    }

    async fn accept(&self) -> std::io::Result<(connection::Stream, String)> {
        match self {
            Listener::Tcp(l) => {
                let (stream, peer) = l.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok((connection::Stream::Tcp(stream), peer.to_string()))
            }
            Listener::Unix(l, path) => {
                let (stream, _) = l.accept().await?;
                Ok((connection::Stream::Unix(stream), path.display().to_string()))
            }
        }
    }
}

/// Serves `listener` until `shutdown` completes, then drains.
pub async fn serve(
    milter: Arc<Milter>,
    listener: Listener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let (drain_tx, drain_rx) = watch::channel(false);
    let tracker = TaskTracker::new();
    let settings = milter.settings();
    let permits = Arc::new(Semaphore::new(settings.milter.max_connections));
    tracing::info!(socket = %listener.describe(), mode = ?settings.config.mode, "milter listening");
    tracker.spawn(accept_loop(Arc::clone(&milter), listener, permits, drain_rx, tracker.clone()));
    let poller = {
        let milter = Arc::clone(&milter);
        tokio::spawn(async move {
            let watch = || {
                let s = milter.settings();
                (s.config.policy.clone(), s.config.policy_poll)
            };
            // The error is logged by reload itself.
            crate::pipeline::poll_policy_file(watch, || drop(milter.reload())).await;
        })
    };
    shutdown.await;
    tracing::info!("shutting down: no new connections, draining");
    milter.healthy.store(false, Ordering::Relaxed);
    let _ = drain_tx.send(true);
    poller.abort();
    tracker.close();
    let grace = milter.settings().config.shutdown_grace;
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(?grace, "grace period over, closing the remaining connections");
    }
}

async fn accept_loop(
    milter: Arc<Milter>,
    listener: Listener,
    permits: Arc<Semaphore>,
    mut drain: watch::Receiver<bool>,
    tracker: TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = drain.wait_for(|d| *d) => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            milter.metrics.connection("refused_limit");
            tracing::warn!(%peer, "milter.max_connections reached, closing the connection");
            // Dropping the stream closes it; the MTA applies its default action.
            continue;
        };
        let settings = milter.settings();
        let milter = Arc::clone(&milter);
        let drain = drain.clone();
        tracker.spawn(async move {
            milter.metrics.connection("accepted");
            milter.metrics.connections_open.inc();
            connection::handle(&milter, settings, stream, drain)
                .instrument(tracing::info_span!("milter", %peer))
                .await;
            milter.metrics.connections_open.dec();
            drop(permit);
        });
    }
}
