//! The DKIM step of the pipeline, run right after the engine on the same
//! blocking thread: turns a rewrite of signed mail into a skip, or finishes
//! it (broken signatures replaced, ARC seal), and says what it did for the
//! audit record.
//!
//! Only a `Rewritten` outcome is looked at. Everything else forwards the
//! original bytes, whose signatures are intact; recording every signed
//! message as skipped would fill the audit log with ordinary mail.

use super::{DkimError, HeaderEdit, SignedDecision, Signer};
use crate::audit::record::{DkimRecord, SignedByRecord};
use crate::classify::{Effect, Signal, SkipReason};
use crate::engine::{Disposition, Outcome};

/// What the DKIM step did to one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// For the audit record; `None` when there was nothing to say.
    pub record: Option<DkimRecord>,
    /// The header edits the milter sends on top of the rewrite's own
    /// changes; the relay forwards `outcome.rewritten.message`, which
    /// already contains them.
    pub edits: Vec<HeaderEdit>,
}

/// Applies the signing configuration to the engine's `outcome` for `original`.
///
/// A signature whose setting is `skip` turns the outcome into `Skipped` with
/// the reason. Otherwise the rewritten message is replaced by the finished
/// one (same body, edited header block). An error means the message could
/// not be signed as configured; the caller treats it as an engine failure,
/// so the original goes out unchanged (or is deferred).
pub fn apply(
    signer: &Signer,
    original: &[u8],
    outcome: &mut Outcome,
) -> Result<Applied, DkimError> {
    if outcome.disposition != Disposition::Rewritten {
        return Ok(Applied::default());
    }
    let Some(rewritten) = outcome.rewritten.as_mut() else {
        return Ok(Applied::default());
    };
    if let SignedDecision::Skip { reason, .. } = signer.decide(original) {
        return Ok(skip(outcome, reason));
    }
    let (finish, message) = match signer.finish_both(&rewritten.message, original) {
        Ok(done) => done,
        Err(DkimError::MustSkip(reason)) => return Ok(skip(outcome, reason)),
        Err(e) => return Err(e),
    };
    // The edits touch the header block only, so the body keeps its length.
    let body_len = rewritten.message.len() - rewritten.body_start;
    rewritten.body_start = message.len() - body_len;
    rewritten.message = message;
    let action = if !finish.resigned.is_empty() {
        "resigned"
    } else if !finish.kept.is_empty() {
        "kept"
    } else {
        "unsigned"
    };
    let record = (action != "unsigned" || !finish.notes.is_empty()).then(|| DkimRecord {
        action: action.to_string(),
        signed: finish
            .resigned
            .iter()
            .map(|(domain, selector)| SignedByRecord {
                domain: domain.clone(),
                selector: selector.clone(),
            })
            .collect(),
        notes: finish.notes.clone(),
    });
    Ok(Applied { record, edits: finish.edits })
}

fn skip(outcome: &mut Outcome, reason: String) -> Applied {
    outcome.disposition = Disposition::Skipped;
    outcome.rewritten = None;
    outcome.rules.clear();
    outcome.classification.signals.push(Signal {
        name: "dkim_signed".to_string(),
        evidence: reason.clone(),
        effect: Effect::Skip,
    });
    outcome.classification.skipped = Some(SkipReason::Signed(reason.clone()));
    Applied {
        record: Some(DkimRecord {
            action: "skipped".to_string(),
            signed: Vec::new(),
            notes: vec![reason],
        }),
        edits: Vec::new(),
    }
}
