//! What the relay and the milter do identically once a whole message is in
//! hand: run the engine (off the async threads and with a time limit,
//! unless the message is small), count the outcome, write the audit record
//! and its verdict, and watch the policy file for changes.
//!
//! The front ends differ only in how they receive the message and how they
//! hand back the result (an upstream `DATA` for the relay, modification
//! actions for the milter), so that part stays in `smtp` and `milter`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::audit::record::DkimRecord;
use crate::audit::{AuditSink, MessageEntry, Verdict};
use crate::classify::SkipReason;
use crate::config::ServiceConfig;
use crate::dkim::apply::{self, Applied};
use crate::dkim::{DkimConfig, DkimError, Signer};
use crate::engine::{self, Disposition, EngineOptions, Outcome};
use crate::envelope::Envelope;
use crate::metrics::Metrics;
use crate::policy::Policy;

/// What one message is processed with; taken once per message so a reload
/// in the middle of it does not mix two policies.
#[derive(Debug, Clone)]
pub struct EngineContext {
    /// The policy in force.
    pub policy: Arc<Policy>,
    /// Engine options derived from the configuration.
    pub options: EngineOptions,
    /// Longest the engine may work on the message.
    pub timeout: Duration,
    /// What to do with DKIM-signed mail, with the keys loaded.
    pub dkim: Arc<Signer>,
}

/// Builds the signer from the `dkim:` section (an empty one when absent:
/// signed mail is then never rewritten) and logs what it will do, so the
/// startup log says plainly when signed mail is skipped for want of a key.
pub fn build_signer(config: &ServiceConfig) -> Result<Arc<Signer>, DkimError> {
    let signer = Signer::from_config(config.dkim.as_ref().unwrap_or(&DkimConfig::default()))?;
    if config.dkim.is_none() {
        tracing::info!(
            "no dkim section: DKIM-signed mail is NOT rewritten (no key configured); see docs/DKIM.md"
        );
    }
    for notice in signer.notices() {
        if notice.warning {
            tracing::warn!("dkim: {}", notice.text);
        } else {
            tracing::info!("dkim: {}", notice.text);
        }
    }
    Ok(Arc::new(signer))
}

/// The engine's result for one message.
#[derive(Debug)]
pub struct EngineRun {
    /// What the engine decided (a failure outcome when it failed).
    pub outcome: Outcome,
    /// Whether the engine failed, panicked or timed out; the caller then
    /// applies the configured `engine_failure` action.
    pub failed: bool,
    /// What the DKIM step did; for a rewrite, `outcome.rewritten.message`
    /// is already the finished (re-signed, sealed) message.
    pub dkim: Applied,
}

/// Messages up to this size are processed on the task's own thread. Every
/// step of the engine is linear in the input (the regexes run on automata,
/// HTML is streamed), so at this size it takes well under a millisecond,
/// less than the two thread hand-offs of the blocking pool cost a small
/// message. Larger messages, and the DKIM signing of a rewrite, go to the
/// blocking pool under the time limit.
const INLINE_LIMIT: usize = 32 * 1024;

/// Runs the engine with a time limit. A panic or a timeout becomes a
/// failure outcome; the original bytes stay available because the
/// blocking task only holds a clone of the `Arc`. A timed-out engine thread
/// runs on to its end, but its result is dropped.
pub async fn run_engine(
    context: &EngineContext,
    envelope: &Envelope,
    original: &Arc<Vec<u8>>,
) -> EngineRun {
    // A zero budget is spent before the engine starts; checking it here keeps
    // the outcome independent of how fast the blocking pool happens to be.
    if context.timeout.is_zero() {
        tracing::error!("engine timed out (no time allowed)");
        return failed_run(context, "engine timed out");
    }
    let result = if original.len() <= INLINE_LIMIT {
        // engine::process turns its own panics into a failure outcome.
        let outcome = engine::process(original, envelope, &context.policy, &context.options);
        if outcome.disposition == Disposition::Rewritten {
            let context = context.clone();
            let original = Arc::clone(original);
            bounded(context.timeout, move || sign(&context, &original, outcome)).await
        } else {
            Ok((outcome, Applied::default()))
        }
    } else {
        let context = context.clone();
        let envelope = envelope.clone();
        let original = Arc::clone(original);
        bounded(context.timeout, move || {
            let outcome = engine::process(&original, &envelope, &context.policy, &context.options);
            sign(&context, &original, outcome)
        })
        .await
    };
    match result {
        Ok((outcome, dkim)) => {
            let failed = matches!(outcome.skipped(), Some(SkipReason::EngineFailure(_)));
            EngineRun { outcome, failed, dkim }
        }
        Err(why) => failed_run(context, why),
    }
}

/// Runs `work` on the blocking pool; the error says why there is no result.
async fn bounded<T: Send + 'static>(
    timeout: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, &'static str> {
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(join)) => {
            tracing::error!(error = %join, "engine panicked");
            Err("engine panicked")
        }
        Err(_) => {
            tracing::error!(?timeout, "engine timed out");
            Err("engine timed out")
        }
    }
}

/// The DKIM step after the engine; a failure forwards the original.
fn sign(context: &EngineContext, original: &[u8], mut outcome: Outcome) -> (Outcome, Applied) {
    match apply::apply(&context.dkim, original, &mut outcome) {
        Ok(applied) => (outcome, applied),
        Err(e) => {
            tracing::error!(error = %e, "DKIM step failed; the original is forwarded");
            (Outcome::failure(&context.policy, format!("dkim: {e}")), Applied::default())
        }
    }
}

fn failed_run(context: &EngineContext, why: &str) -> EngineRun {
    EngineRun {
        outcome: Outcome::failure(&context.policy, why),
        failed: true,
        dkim: Applied::default(),
    }
}

/// Counts a processed message: its disposition (`failed` for engine
/// failures), the engine time, and the rules of a rewrite that goes out.
pub fn count(metrics: &Metrics, run: &EngineRun, engine_time: Duration) {
    Metrics::observe(&metrics.engine_seconds, engine_time);
    metrics.message(if run.failed { "failed" } else { disposition_label(run.outcome.disposition) });
    if run.outcome.disposition == Disposition::Rewritten {
        for rule in &run.outcome.rules {
            metrics.rewrite(rule);
        }
    }
}

/// Writes the decision record on a blocking thread; returns its sequence number.
pub async fn record_message(
    sink: &Arc<dyn AuditSink>,
    policy: &Arc<Policy>,
    envelope: &Envelope,
    original: &Arc<Vec<u8>>,
    outcome: &Arc<Outcome>,
    dkim: Option<DkimRecord>,
) -> Result<u64, String> {
    let sink = Arc::clone(sink);
    let policy = Arc::clone(policy);
    let envelope = envelope.clone();
    let original = Arc::clone(original);
    let outcome = Arc::clone(outcome);
    tokio::task::spawn_blocking(move || {
        let message_id = message_id(&original);
        let entry = MessageEntry {
            message_id: message_id.as_deref(),
            envelope: &envelope,
            outcome: &outcome,
            original: &original,
            policy: &policy,
            dkim: dkim.as_ref(),
        };
        sink.record_message(&entry).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("audit task failed: {e}"))?
}

/// Writes the verdict for record `seq`; a failure is logged and counted,
/// because the message itself has already gone its way.
pub async fn record_verdict(
    sink: Arc<dyn AuditSink>,
    metrics: &Metrics,
    seq: u64,
    verdict: Verdict,
) {
    let written = tokio::task::spawn_blocking(move || sink.record_verdict(seq, &verdict)).await;
    if !matches!(written, Ok(Ok(_))) {
        metrics.audit_failures.inc();
        tracing::error!(seq, "audit verdict not written");
    }
}

/// The metrics label of a disposition.
pub fn disposition_label(d: Disposition) -> &'static str {
    match d {
        Disposition::Untouched => "untouched",
        Disposition::Rewritten => "rewritten",
        Disposition::Observed => "observed",
        Disposition::Skipped => "skipped",
    }
}

/// Calls `reload` whenever the modification time of the policy file
/// changes. `watch` says which file and how often to look, and is asked
/// again each round so a reload that names another file or interval takes
/// effect; an interval of zero ends the watch.
pub async fn poll_policy_file(watch: impl Fn() -> (Option<PathBuf>, Duration), reload: impl Fn()) {
    let mtime = |path: Option<PathBuf>| -> Option<SystemTime> {
        std::fs::metadata(path?).and_then(|m| m.modified()).ok()
    };
    let mut seen = mtime(watch().0);
    loop {
        let (path, every) = watch();
        if every.is_zero() {
            return;
        }
        tokio::time::sleep(every).await;
        let now = mtime(path);
        if now != seen {
            seen = now;
            tracing::info!("policy file changed, reloading");
            reload();
        }
    }
}

/// The `Message-ID` header value, found without a full parse.
pub fn message_id(message: &[u8]) -> Option<String> {
    let header_end =
        find(message, b"\r\n\r\n").or_else(|| find(message, b"\n\n")).unwrap_or(message.len());
    let headers = &message[..header_end];
    let mut lines = headers.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        if !line[..colon].eq_ignore_ascii_case(b"message-id") {
            continue;
        }
        let mut value = String::from_utf8_lossy(&line[colon + 1..]).trim().to_string();
        // Folded continuation lines.
        while let Some(next) =
            lines.peek().filter(|l| l.first().is_some_and(|b| *b == b' ' || *b == b'\t'))
        {
            value.push_str(String::from_utf8_lossy(next).trim());
            lines.next();
        }
        return Some(value);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_message_id_folded_or_not() {
        assert_eq!(
            message_id(b"From: a\r\nMessage-ID: <x@y>\r\n\r\nbody").as_deref(),
            Some("<x@y>")
        );
        assert_eq!(message_id(b"message-id:\r\n <x@y>\r\nTo: b\r\n\r\n").as_deref(), Some("<x@y>"));
        assert_eq!(message_id(b"From: a\r\n\r\nMessage-ID: <in-body>\r\n"), None);
    }

    #[tokio::test]
    async fn a_zero_timeout_is_an_engine_failure() {
        let policy = Arc::new(crate::policy::example().policy);
        let dkim = build_signer(&ServiceConfig::default()).expect("empty dkim section");
        let context = EngineContext {
            policy,
            options: EngineOptions::default(),
            timeout: Duration::ZERO,
            dkim,
        };
        let original = Arc::new(b"From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n".to_vec());
        let run =
            run_engine(&context, &Envelope::new("a@b.example", ["c@d.example"]), &original).await;
        assert!(run.failed);
        assert_eq!(run.outcome.disposition, Disposition::Skipped);
    }
}
