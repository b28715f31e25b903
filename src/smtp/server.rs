//! The relay as a whole: shared state, the accept loop with its connection
//! permits, reloads, and the draining shutdown.
//!
//! Shutdown: when `shutdown` completes the listeners close at once and
//! `/healthz` turns 503; idle sessions get `421 4.3.0` at their next read,
//! sessions in a mail transaction finish it first. Whatever still runs
//! after `shutdown_grace` is aborted (its client never got a 250 for a
//! message the upstream did not take, so nothing is lost).
//!
//! Reload: [`Relay::reload`] builds a complete new policy (and, when the
//! relay was started from a file, the reloadable parts of the
//! configuration), and swaps it in only if everything validates; sessions
//! already open keep the settings they started with.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use super::auth::{Users, UsersError};
use super::connection;
use super::tls::{self, TlsError};
use super::upstream::{UpstreamError, UpstreamSettings};
use crate::audit::{AuditError, AuditSink};
use crate::config::{ConfigError, Mode, ServiceConfig};
use crate::directory::{Refresher, Snapshot};
use crate::engine::EngineOptions;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::policy::{self, Policy};

/// Errors starting or reloading the relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The service configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The policy file; the text lists every problem with file:line:column.
    #[error("policy {path}:\n{errors}")]
    Policy {
        /// The policy file.
        path: String,
        /// All errors found.
        errors: String,
    },
    /// The TLS certificate or key.
    #[error("smtp.tls: {0}")]
    Tls(#[from] TlsError),
    /// The AUTH users file.
    #[error("smtp.auth.users_file: {0}")]
    Users(#[from] UsersError),
    /// The upstream configuration.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The audit log.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// Binding or accepting.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A DKIM key or the `dkim:` section.
    #[error("dkim: {0}")]
    Dkim(#[from] crate::dkim::DkimError),
}

/// The settings one session runs with from start to end.
pub struct Settings {
    /// The configuration.
    pub config: ServiceConfig,
    /// The policy.
    pub policy: Arc<Policy>,
    /// Where mail goes.
    pub upstream: Arc<UpstreamSettings>,
    /// Engine options derived from the configuration.
    pub engine: EngineOptions,
    /// STARTTLS acceptor, if configured.
    pub tls: Option<TlsAcceptor>,
    /// AUTH users, if configured.
    pub users: Option<Arc<Users>>,
    /// DKIM decisions and keys.
    pub dkim: Arc<crate::dkim::Signer>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("policy", &self.policy.source.path)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// The running relay's shared state.
pub struct Relay {
    settings: Live<Settings>,
    config_path: Option<PathBuf>,
    metrics: Arc<Metrics>,
    audit: Option<Arc<dyn AuditSink>>,
    healthy: Arc<AtomicBool>,
    pub(super) auth_limiter: super::auth_limit::AuthLimiter,
    /// Keeps the directory's people fresh when the configuration has `directory:`.
    directory: Option<Arc<Refresher>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("config_path", &self.config_path).finish_non_exhaustive()
    }
}

/// Loads the policy the configuration names, or the built-in example; with
/// a `directory:` section, over the directory snapshot saved on disk.
pub fn load_policy(config: &ServiceConfig) -> Result<Policy, RelayError> {
    match &config.directory {
        Some(directory) => {
            load_policy_with(config, Some(&crate::directory::service::saved_or_empty(directory)))
        }
        None => load_policy_with(config, None),
    }
}

/// Loads the policy over the given directory snapshot.
pub fn load_policy_with(
    config: &ServiceConfig,
    directory: Option<&Snapshot>,
) -> Result<Policy, RelayError> {
    let loaded = match &config.policy {
        Some(path) => policy::load_file_with(path, directory).map_err(|e| RelayError::Policy {
            path: path.display().to_string(),
            errors: e.to_string(),
        })?,
        None => policy::example(),
    };
    for warning in &loaded.warnings {
        tracing::warn!(policy = %loaded.policy.source.path, "{warning}");
    }
    Ok(loaded.policy)
}

fn build_settings(
    config: ServiceConfig,
    directory: Option<&Refresher>,
) -> Result<Settings, RelayError> {
    let policy = Arc::new(match (directory.and_then(Refresher::current), &config.directory) {
        (Some(snapshot), Some(_)) => load_policy_with(&config, Some(&snapshot))?,
        _ => load_policy(&config)?,
    });
    let limits = &config.smtp.limits;
    let upstream = Arc::new(UpstreamSettings::new(
        &config.smtp.upstream,
        config.hostname(),
        limits.upstream_timeout,
        limits.upstream_data_timeout,
    )?);
    let tls = match &config.smtp.tls {
        Some(files) => Some(tls::acceptor(&files.cert, &files.key)?),
        None => None,
    };
    let users = match &config.smtp.auth {
        Some(auth) => Some(Arc::new(Users::load(&auth.users_file)?)),
        None => None,
    };
    let engine = EngineOptions {
        observe_only: config.mode == Mode::Observe,
        instance: config.instance.clone(),
    };
    let dkim = crate::pipeline::build_signer(&config)?;
    Ok(Settings { config, policy, upstream, engine, tls, users, dkim })
}

impl Relay {
    /// Builds the relay: policy, TLS, users, upstream and audit log.
    /// `config_path` is re-read on [`Relay::reload`]; without it only the policy reloads.
    pub fn new(
        config: ServiceConfig,
        config_path: Option<PathBuf>,
    ) -> Result<Arc<Relay>, RelayError> {
        let audit = match &config.audit {
            Some(audit) => Some(crate::audit::open(audit, &config.instance)?),
            None => None,
        };
        Relay::with_audit(config, config_path, audit)
    }

    /// Like [`Relay::new`] with a given audit sink (tests use an in-memory one).
    pub fn with_audit(
        config: ServiceConfig,
        config_path: Option<PathBuf>,
        audit: Option<Arc<dyn AuditSink>>,
    ) -> Result<Arc<Relay>, RelayError> {
        let directory = config.directory.as_ref().map(crate::directory::service::attach);
        let settings = build_settings(config, directory.as_deref())?;
        Ok(Arc::new(Relay {
            settings: Live::new(settings),
            config_path,
            metrics: Metrics::new(),
            audit,
            healthy: Arc::new(AtomicBool::new(true)),
            auth_limiter: Default::default(),
            directory,
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

    /// The settings new sessions start with.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.get()
    }

    pub(super) fn audit(&self) -> Option<Arc<dyn AuditSink>> {
        self.audit.clone()
    }

    /// Re-reads the configuration file (if any) and the policy; on any error
    /// keeps the current settings and returns the error.
    pub fn reload(&self) -> Result<(), RelayError> {
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
            build_settings(config, self.directory.as_deref())
        })();
        self.settings.replace(result, "configuration and policy reload", &self.metrics)
    }
}

impl Relay {
    /// The directory refresher, when the configuration has `directory:`.
    pub fn directory(&self) -> Option<Arc<Refresher>> {
        self.directory.clone()
    }

    /// Rebuilds the policy over a new directory snapshot and swaps it in;
    /// when the result does not validate (someone a reference names has
    /// left the directory), the running policy stays and the findings are logged.
    pub fn rebuild_with_directory(&self, snapshot: &Snapshot) -> Result<(), RelayError> {
        let current = self.settings();
        let rebuilt = load_policy_with(&current.config, Some(snapshot)).map(|policy| Settings {
            config: current.config.clone(),
            policy: Arc::new(policy),
            upstream: Arc::clone(&current.upstream),
            engine: current.engine.clone(),
            tls: current.tls.clone(),
            users: current.users.clone(),
            dkim: Arc::clone(&current.dkim),
        });
        let what =
            format!("policy rebuild over a directory snapshot of {} people", snapshot.people.len());
        self.settings.replace(rebuilt, &what, &self.metrics)
    }
}

fn warn_restart_needed(old: &ServiceConfig, new: &ServiceConfig) {
    if old.smtp.listen != new.smtp.listen {
        tracing::warn!("smtp.listen changed: takes effect after a restart");
    }
    if old.admin != new.admin {
        tracing::warn!("admin changed: takes effect after a restart");
    }
    if old.audit != new.audit {
        tracing::warn!("audit changed: takes effect after a restart");
    }
    if old.directory.is_some() != new.directory.is_some() {
        tracing::warn!("directory added or removed: takes effect after a restart");
    }
    if old.instance != new.instance {
        tracing::warn!("instance changed: the audit chain keeps the old name until a restart");
    }
}

/// Builds the relay from `config` and serves `listeners` until `shutdown`.
pub async fn run(
    config: ServiceConfig,
    listeners: Vec<TcpListener>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RelayError> {
    let relay = Relay::new(config, None)?;
    serve(relay, listeners, shutdown).await
}

/// Serves `listeners` with an existing relay until `shutdown`, then drains.
pub async fn serve(
    relay: Arc<Relay>,
    listeners: Vec<TcpListener>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RelayError> {
    // The language models load on first use (a few hundred milliseconds);
    // load them now, off the runtime, rather than inside the first rewrite.
    tokio::task::spawn_blocking(crate::classify::warm_up);
    let (drain_tx, drain_rx) = watch::channel(false);
    let tracker = TaskTracker::new();
    let permits = Arc::new(Semaphore::new(relay.settings().config.smtp.limits.max_connections));
    for listener in listeners {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "listening");
        }
        tracker.spawn(accept_loop(
            Arc::clone(&relay),
            listener,
            Arc::clone(&permits),
            drain_rx.clone(),
            tracker.clone(),
        ));
    }
    let poller = tokio::spawn(poll_policy(Arc::clone(&relay)));
    let directory_stop = tokio_util::sync::CancellationToken::new();
    if let Some(refresher) = relay.directory() {
        let r = Arc::clone(&relay);
        tokio::spawn(crate::directory::service::run(
            refresher,
            relay.metrics(),
            directory_stop.clone(),
            move |snapshot| {
                // The error is logged by the rebuild itself.
                let _ = r.rebuild_with_directory(&snapshot);
            },
        ));
    }
    shutdown.await;
    directory_stop.cancel();
    tracing::info!("shutting down: no new connections, draining sessions");
    relay.healthy.store(false, Ordering::Relaxed);
    let _ = drain_tx.send(true);
    poller.abort();
    tracker.close();
    let grace = relay.settings().config.shutdown_grace;
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(?grace, "grace period over, closing the remaining sessions");
    }
    Ok(())
}

async fn accept_loop(
    relay: Arc<Relay>,
    listener: TcpListener,
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
        let _ = stream.set_nodelay(true);
        let settings = relay.settings();
        let permit = Arc::clone(&permits).try_acquire_owned().ok();
        let allowed = is_allowed(&settings, peer.ip());
        let relay = Arc::clone(&relay);
        let drain = drain.clone();
        tracker.spawn(async move {
            let Some(permit) = permit else {
                relay.metrics.connection("refused_limit");
                tracing::warn!(%peer, "connection limit reached");
                connection::refuse(stream, "421 4.7.0 Too many connections, try again later\r\n")
                    .await;
                return;
            };
            if !allowed && settings.users.is_none() {
                relay.metrics.connection("refused_network");
                tracing::warn!(%peer, "client not in smtp.allowed_networks, refused");
                connection::refuse(stream, "554 5.7.1 Relay access denied\r\n").await;
                return;
            }
            relay.metrics.connection("accepted");
            relay.metrics.connections_open.inc();
            connection::handle(relay.clone(), settings, stream, peer, !allowed, drain)
                .instrument(tracing::info_span!("smtp", %peer))
                .await;
            relay.metrics.connections_open.dec();
            drop(permit);
        });
    }
}

fn is_allowed(settings: &Settings, ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    settings.config.smtp.allowed_networks.iter().any(|net| net.contains(&ip))
}

/// Reloads when the policy file's modification time changes.
async fn poll_policy(relay: Arc<Relay>) {
    let settings = || {
        let s = relay.settings();
        (s.config.policy.clone(), s.config.policy_poll)
    };
    crate::pipeline::poll_policy_file(settings, || {
        // The error is logged by reload itself.
        let _ = relay.reload();
    })
    .await;
}
