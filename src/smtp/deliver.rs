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
use crate::audit::record::DkimRecord;
use crate::audit::{OnAuditFailure, Verdict};
use crate::config::EngineFailureAction;
use crate::engine::Outcome;
use crate::envelope::Envelope;
use crate::metrics::Metrics;
use crate::pipeline::{self, EngineContext};

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
    let context = EngineContext {
        policy: Arc::clone(&settings.policy),
        options: settings.engine.clone(),
        timeout: settings.config.engine_timeout,
        dkim: Arc::clone(&settings.dkim),
    };
    let run = pipeline::run_engine(&context, envelope, &original).await;
    pipeline::count(&metrics, &run, started.elapsed());
    let (outcome, engine_failed, dkim) = (run.outcome, run.failed, run.dkim.record);

    let reply = if engine_failed && settings.config.engine_failure == EngineFailureAction::Tempfail
    {
        upstream.rset().await;
        Failure::EngineTempfail.reply()
    } else {
        forward(relay, settings, upstream, envelope, &original, outcome, dkim).await
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
    dkim: Option<DkimRecord>,
) -> Reply {
    let metrics = relay.metrics();
    let audit = relay.audit().filter(|_| outcome.is_auditable());
    let on_failure = settings.config.audit.as_ref().map(|a| a.on_failure).unwrap_or_default();
    let outcome = Arc::new(outcome);
    let mut seq = None;
    if let Some(sink) = &audit {
        let recorded =
            pipeline::record_message(sink, &settings.policy, envelope, original, &outcome, dkim);
        match recorded.await {
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
        pipeline::record_verdict(sink, &metrics, seq, verdict).await;
    }
    reply
}
