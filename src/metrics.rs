//! Prometheus metrics of the relay and the milter, in one registry owned by
//! the service (no global state, so tests running side by side do not mix
//! their numbers). Served by [`crate::admin`] at `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Every metric courtesy exports.
pub struct Metrics {
    registry: Registry,
    /// Connections accepted, by result (`accepted`, `refused_network`, `refused_limit`).
    pub connections: Family<Labels, Counter>,
    /// Connections open now.
    pub connections_open: Gauge,
    /// Messages by engine disposition (`untouched`, `rewritten`, `observed`, `skipped`, `failed`).
    pub messages: Family<Labels, Counter>,
    /// Rewrites by policy rule.
    pub rewrites: Family<Labels, Counter>,
    /// Upstream replies by command and class (`2xx`, `4xx`, `5xx`, `none`).
    pub upstream_replies: Family<Labels, Counter>,
    /// Seconds the engine spent per message.
    pub engine_seconds: Histogram,
    /// Seconds from the end of the client's DATA to the final reply.
    pub message_seconds: Histogram,
    /// Policy reloads by result (`ok`, `failed`).
    pub policy_reloads: Family<Labels, Counter>,
    /// Audit records that could not be written.
    pub audit_failures: Counter,
    /// Failed directory refreshes since the last success (0 when healthy).
    pub directory_refresh_failures: Gauge,
    /// Unix time of the last successful directory refresh (0: none yet).
    pub directory_last_success: Gauge,
    /// Records in the directory snapshot in use.
    pub directory_people: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered under `courtesy_`.
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("courtesy");
        let connections = Family::<Labels, Counter>::default();
        let connections_open = Gauge::default();
        let messages = Family::<Labels, Counter>::default();
        let rewrites = Family::<Labels, Counter>::default();
        let upstream_replies = Family::<Labels, Counter>::default();
        // 100 µs .. ~6.5 s: the engine takes about a millisecond on ordinary mail.
        let engine_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 17));
        let message_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 18));
        let policy_reloads = Family::<Labels, Counter>::default();
        let audit_failures = Counter::default();
        let directory_refresh_failures = Gauge::default();
        let directory_last_success = Gauge::default();
        let directory_people = Gauge::default();
        registry.register("connections", "SMTP connections by result", connections.clone());
        registry.register(
            "connections_open",
            "SMTP connections open now",
            connections_open.clone(),
        );
        registry.register("messages", "Messages by disposition", messages.clone());
        registry.register("rewrites", "Rewritten messages by policy rule", rewrites.clone());
        registry.register(
            "upstream_replies",
            "Upstream replies by command and class",
            upstream_replies.clone(),
        );
        registry.register("engine_seconds", "Engine time per message", engine_seconds.clone());
        registry.register(
            "message_seconds",
            "Time from end of DATA to the final reply",
            message_seconds.clone(),
        );
        registry.register("policy_reloads", "Policy reloads by result", policy_reloads.clone());
        registry.register("audit_failures", "Audit records not written", audit_failures.clone());
        registry.register(
            "directory_refresh_failures",
            "Failed directory refreshes since the last success",
            directory_refresh_failures.clone(),
        );
        registry.register(
            "directory_last_success_timestamp_seconds",
            "Unix time of the last successful directory refresh",
            directory_last_success.clone(),
        );
        registry.register(
            "directory_people",
            "Records in the directory snapshot in use",
            directory_people.clone(),
        );
        Arc::new(Metrics {
            registry,
            connections,
            connections_open,
            messages,
            rewrites,
            upstream_replies,
            engine_seconds,
            message_seconds,
            policy_reloads,
            audit_failures,
            directory_refresh_failures,
            directory_last_success,
            directory_people,
        })
    }

    /// Counts a connection result.
    pub fn connection(&self, result: &'static str) {
        self.connections.get_or_create(&vec![("result", result.to_string())]).inc();
    }

    /// Counts a message disposition.
    pub fn message(&self, disposition: &str) {
        self.messages.get_or_create(&vec![("disposition", disposition.to_string())]).inc();
    }

    /// Counts a rewrite rule that fired.
    pub fn rewrite(&self, rule: &str) {
        self.rewrites.get_or_create(&vec![("rule", rule.to_string())]).inc();
    }

    /// Counts an upstream reply (`class` is `2xx`, `4xx`, `5xx` or `none`).
    pub fn upstream(&self, command: &'static str, class: &'static str) {
        self.upstream_replies
            .get_or_create(&vec![("command", command.to_string()), ("class", class.to_string())])
            .inc();
    }

    /// Counts a policy reload.
    pub fn reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.policy_reloads.get_or_create(&vec![("result", result.to_string())]).inc();
    }

    /// Shows the directory refresher's health.
    pub fn directory(&self, status: &crate::directory::RefreshStatus) {
        self.directory_refresh_failures.set(i64::from(status.consecutive_failures));
        self.directory_last_success.set(status.last_ok.map_or(0, |t| t.unix_timestamp()));
        self.directory_people.set(i64::try_from(status.people).unwrap_or(i64::MAX));
    }

    /// Records a duration in a histogram.
    pub fn observe(histogram: &Histogram, d: Duration) {
        histogram.observe(d.as_secs_f64());
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counted_values() {
        let m = Metrics::new();
        m.connection("accepted");
        m.message("rewritten");
        m.message("rewritten");
        m.upstream("data", "5xx");
        m.reload(false);
        Metrics::observe(&m.engine_seconds, Duration::from_millis(2));
        let text = m.render();
        assert!(text.contains("courtesy_messages_total{disposition=\"rewritten\"} 2"), "{text}");
        assert!(text.contains("courtesy_connections_total{result=\"accepted\"} 1"), "{text}");
        assert!(
            text.contains("courtesy_upstream_replies_total{command=\"data\",class=\"5xx\"} 1"),
            "{text}"
        );
        assert!(text.contains("courtesy_policy_reloads_total{result=\"failed\"} 1"), "{text}");
        assert!(text.contains("courtesy_engine_seconds_count 1"), "{text}");
    }
}
