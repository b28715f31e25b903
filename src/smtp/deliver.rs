//! The end of DATA: run the engine, write the audit record, forward, and
//! choose the final reply, which is always the upstream's own verdict or a
//! temporary failure, never a 250 of our own.
//!
//! Order matters: the audit record is written before forwarding so that a
//! rewrite that reached a customer is never missing from the log; the
//! upstream's verdict is recorded afterwards against that record.

use std::sync::Arc;
use std::time::Instant;

use super::data::DataError;
use super::reply::{Failure, Reply};
use super::server::{Relay, Settings};
use super::upstream::Upstream;
use crate::audit::{AuditSink, MessageEntry, OnAuditFailure, Verdict};
use crate::config::EngineFailureAction;
use crate::engine::{self, Disposition, Outcome};
use crate::envelope::Envelope;
use crate::metrics::Metrics;

/// Processes and forwards one received message; returns the client's reply.
pub(super) async fn deliver(
    relay: &Relay,
    settings: &Arc<Settings>,
    upstream: &mut Upstream,
    envelope: &Envelope,
    message: &mut Vec<u8>,
    error: Option<DataError>,
) -> Reply {
    let started = Instant::now();
    let metrics = relay.metrics();
    match error {
        Some(DataError::TooBig) => {
            upstream.rset().await;
            tracing::info!(from = %envelope.mail_from, "message over the size limit");
            return Failure::TooBig.reply();
        }
        Some(DataError::LineTooLong) => {
            upstream.rset().await;
            tracing::info!(from = %envelope.mail_from, "message line over the line limit");
            return Reply::new(500, "5.5.2 Line too long");
        }
        None => {}
    }

    let original = Arc::new(std::mem::take(message));
    let (outcome, engine_failed) = run_engine(settings, envelope, &original).await;
    Metrics::observe(&metrics.engine_seconds, started.elapsed());
    metrics.message(if engine_failed { "failed" } else { disposition_label(outcome.disposition) });
    for rule in &outcome.rules {
        if outcome.disposition == Disposition::Rewritten {
            metrics.rewrite(rule);
        }
    }

    let reply = if engine_failed && settings.config.engine_failure == EngineFailureAction::Tempfail
    {
        upstream.rset().await;
        Failure::EngineTempfail.reply()
    } else {
        forward(relay, settings, upstream, envelope, &original, outcome).await
    };
    Metrics::observe(&metrics.message_seconds, started.elapsed());
    tracing::info!(
        from = %envelope.mail_from,
        rcpts = envelope.rcpt_to.len(),
        size = original.len(),
        code = reply.code,
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "message"
    );
    // Give the buffer back for the next message when nothing else holds it.
    if let Ok(mut buffer) = Arc::try_unwrap(original) {
        buffer.clear();
        *message = buffer;
    }
    reply
}

async fn forward(
    relay: &Relay,
    settings: &Arc<Settings>,
    upstream: &mut Upstream,
    envelope: &Envelope,
    original: &Arc<Vec<u8>>,
    outcome: Outcome,
) -> Reply {
    let metrics = relay.metrics();
    let audit = relay.audit().filter(|_| outcome.is_auditable());
    let on_failure = settings.config.audit.as_ref().map(|a| a.on_failure).unwrap_or_default();
    let outcome = Arc::new(outcome);
    let mut seq = None;
    if let Some(sink) = &audit {
        match record_message(sink, settings, envelope, original, &outcome).await {
            Ok(s) => seq = Some(s),
            Err(e) => {
                metrics.audit_failures.inc();
                tracing::error!(error = %e, "audit record not written");
                if on_failure == OnAuditFailure::Tempfail {
                    upstream.rset().await;
                    return Failure::AuditFailed.reply();
                }
            }
        }
    }

    let result = upstream.data(outcome.output(original)).await;
    let (reply, verdict) = match result {
        Ok(reply) if (200..300).contains(&reply.code) => {
            metrics.upstream("data", "2xx");
            let verdict = Verdict { code: reply.code, text: reply.text() };
            (reply, verdict)
        }
        Ok(reply) => {
            metrics.upstream("data", reply.class().label());
            let verdict = Verdict { code: reply.code, text: reply.text() };
            tracing::info!(code = reply.code, text = %reply.text(), "upstream refused the message");
            (Failure::Upstream(reply).reply(), verdict)
        }
        Err(failure) => {
            metrics.upstream("data", "none");
            tracing::warn!(?failure, "upstream failed during DATA");
            (failure.reply(), Verdict { code: 0, text: format!("{failure:?}") })
        }
    };
    if let (Some(sink), Some(seq)) = (audit, seq) {
        let written = tokio::task::spawn_blocking(move || sink.record_verdict(seq, &verdict)).await;
        if !matches!(written, Ok(Ok(_))) {
            metrics.audit_failures.inc();
            tracing::error!(seq, "audit verdict not written");
        }
    }
    reply
}

async fn record_message(
    sink: &Arc<dyn AuditSink>,
    settings: &Arc<Settings>,
    envelope: &Envelope,
    original: &Arc<Vec<u8>>,
    outcome: &Arc<Outcome>,
) -> Result<u64, String> {
    let sink = Arc::clone(sink);
    let settings = Arc::clone(settings);
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
            policy: &settings.policy,
        };
        sink.record_message(&entry).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("audit task failed: {e}"))?
}

/// Runs the engine on a blocking thread with a time limit. A panic or a
/// timeout becomes a failure outcome (`true` in the second field); the
/// original bytes stay available because the task only holds a clone of
/// the `Arc`.
async fn run_engine(
    settings: &Arc<Settings>,
    envelope: &Envelope,
    original: &Arc<Vec<u8>>,
) -> (Outcome, bool) {
    let task = {
        let settings = Arc::clone(settings);
        let envelope = envelope.clone();
        let original = Arc::clone(original);
        tokio::task::spawn_blocking(move || {
            engine::process(&original, &envelope, &settings.policy, &settings.engine)
        })
    };
    match tokio::time::timeout(settings.config.engine_timeout, task).await {
        Ok(Ok(outcome)) => {
            let failed =
                matches!(outcome.skipped(), Some(crate::classify::SkipReason::EngineFailure(_)));
            (outcome, failed)
        }
        Ok(Err(join)) => {
            tracing::error!(error = %join, "engine panicked");
            (Outcome::failure(&settings.policy, "engine panicked"), true)
        }
        Err(_) => {
            tracing::error!(timeout = ?settings.config.engine_timeout, "engine timed out");
            (Outcome::failure(&settings.policy, "engine timed out"), true)
        }
    }
}

fn disposition_label(d: Disposition) -> &'static str {
    match d {
        Disposition::Untouched => "untouched",
        Disposition::Rewritten => "rewritten",
        Disposition::Observed => "observed",
        Disposition::Skipped => "skipped",
    }
}

/// The `Message-ID` header value, found without a full parse.
fn message_id(message: &[u8]) -> Option<String> {
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
}
