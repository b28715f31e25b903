//! The end of a message: run the engine, write the audit record, and turn
//! the outcome into the end-of-message replies.
//!
//! Order matters as in the relay: the audit record is written before the
//! modifications go back to the MTA, so a rewrite that reached a customer
//! is never missing from the log. The milter cannot know whether the MTA
//! finally delivers the message, so the verdict recorded is the milter's
//! own answer: `250 milter: continue` or `451 milter: tempfail`.
//!
//! Every way out ends in `continue` or `tempfail`; `accept` is never sent
//! (it would skip milters after this one), and `tempfail` only when the
//! configuration asks for it.

use std::sync::Arc;
use std::time::Instant;

use miltr_common::actions::{Action, Continue, Tempfail};
use miltr_common::encoding::ServerMessage;

use super::message;
use super::negotiate::{self, Agreement};
use super::server::{Milter, MilterSettings};
use super::session::Collected;
use crate::audit::{OnAuditFailure, Verdict};
use crate::config::EngineFailureAction;
use crate::dkim::HeaderEdit;
use crate::engine::{Disposition, Outcome};
use crate::pipeline;

/// The replies to the MTA's end-of-message for `collected`.
pub(super) async fn end_of_message(
    milter: &Milter,
    settings: &Arc<MilterSettings>,
    agreement: Option<Agreement>,
    collected: Collected,
) -> Vec<ServerMessage> {
    let started = Instant::now();
    let metrics = milter.metrics();
    let queue_id = collected.queue_id.as_deref().unwrap_or("-");
    let envelope = collected.envelope;
    let Some(original) = collected.message else {
        metrics.message("too_big");
        tracing::info!(
            queue_id,
            from = %envelope.mail_from,
            size = collected.size,
            limit = settings.milter.max_message_size,
            "message over milter.max_message_size, left unchanged"
        );
        return vec![continue_()];
    };
    let original = Arc::new(original);
    let run = pipeline::run_engine(&settings.engine, &envelope, &original).await;
    pipeline::count(&metrics, &run, started.elapsed());
    let failed = run.failed;
    let outcome = Arc::new(run.outcome);
    let dkim = run.dkim;

    let tempfail_on_failure = settings.config.engine_failure == EngineFailureAction::Tempfail;
    let mut replies = if failed && tempfail_on_failure {
        vec![ServerMessage::Action(Action::Tempfail(Tempfail))]
    } else {
        changes(&outcome, &dkim.edits, agreement, settings)
    };

    let audit = milter.audit().filter(|_| outcome.is_auditable());
    if let Some(sink) = audit {
        let on_failure = settings.config.audit.as_ref().map(|a| a.on_failure).unwrap_or_default();
        match pipeline::record_message(
            &sink,
            &settings.engine.policy,
            &envelope,
            &original,
            &outcome,
            dkim.record.clone(),
        )
        .await
        {
            Ok(seq) => {
                let verdict = verdict_of(&replies);
                pipeline::record_verdict(sink, &metrics, seq, verdict).await;
            }
            Err(e) => {
                metrics.audit_failures.inc();
                tracing::error!(queue_id, error = %e, "audit record not written");
                if on_failure == OnAuditFailure::Tempfail {
                    replies = vec![ServerMessage::Action(Action::Tempfail(Tempfail))];
                }
            }
        }
    }
    crate::metrics::Metrics::observe(&metrics.message_seconds, started.elapsed());
    tracing::info!(
        queue_id,
        from = %envelope.mail_from,
        rcpts = envelope.rcpt_to.len(),
        size = original.len(),
        disposition = pipeline::disposition_label(outcome.disposition),
        engine_failed = failed,
        reply = verdict_of(&replies).text,
        modifications = replies.len() - 1,
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "message"
    );
    replies
}

/// The modifications for a rewritten outcome, then `continue`; only
/// `continue` for anything else, and when the MTA did not grant the rights
/// (observe mode asks for none).
fn changes(
    outcome: &Outcome,
    dkim_edits: &[HeaderEdit],
    agreement: Option<Agreement>,
    settings: &MilterSettings,
) -> Vec<ServerMessage> {
    let mut replies = Vec::new();
    let granted = agreement.is_some_and(|a| a.actions.contains(negotiate::needed_actions(false)));
    if let (Disposition::Rewritten, Some(rewritten), true) =
        (outcome.disposition, &outcome.rewritten, granted)
        && !settings.engine.options.observe_only
    {
        let leading_space = agreement.is_some_and(|a| a.leading_space());
        replies.extend(
            message::modifications(rewritten, leading_space)
                .into_iter()
                .map(ServerMessage::ModificationAction),
        );
        replies.extend(
            message::header_edits(dkim_edits, leading_space)
                .into_iter()
                .map(ServerMessage::ModificationAction),
        );
    }
    replies.push(continue_());
    replies
}

fn continue_() -> ServerMessage {
    ServerMessage::Action(Action::Continue(Continue))
}

/// What the audit log records as the verdict of a milter answer.
fn verdict_of(replies: &[ServerMessage]) -> Verdict {
    let rewritten = replies.len() > 1;
    match replies.last() {
        Some(ServerMessage::Action(Action::Tempfail(_))) => {
            Verdict { code: 451, text: "milter: tempfail".into() }
        }
        _ if rewritten => Verdict { code: 250, text: "milter: continue with changes".into() },
        _ => Verdict { code: 250, text: "milter: continue unchanged".into() },
    }
}
