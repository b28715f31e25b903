//! The engine: a pure function from (message bytes, envelope, policy) to an
//! outcome. It does no I/O, so the relay, the milter, the CLI, the tests, the
//! benchmarks and the fuzzers all call exactly the same code.

use crate::classify::{self, Classification, SkipReason};
use crate::envelope::Envelope;
use crate::plan::{self, Plan};
use crate::policy::{Action, Policy, Sender};
use crate::rewrite::{self, Rewritten};

mod elide;

/// The name of the trace header courtesy adds to mail it rewrites.
pub const TRACE_HEADER: &str = "X-Courtesy";

/// How the service runs the engine, independent of the policy.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `observe` forces every rewrite into a record-only decision, whatever the policy says.
    pub observe_only: bool,
    /// Instance name written into the trace header; a message that already
    /// carries this instance's trace header is not processed again.
    pub instance: String,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { observe_only: false, instance: "courtesy".to_string() }
    }
}

/// What the engine decided to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Nothing recognised, or the policy says `pass`: forward unchanged, no audit record.
    Untouched,
    /// Forward the rewritten message.
    Rewritten,
    /// Would have rewritten, but observe mode forwards the original.
    Observed,
    /// Recognised but left alone for a reason (signed, encrypted, failure).
    Skipped,
}

/// The person or team the policy matched to the sender.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SenderInfo {
    /// `person` or `team`.
    pub kind: &'static str,
    /// Policy id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// Everything the engine decided about one message, and why.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The detection verdict with its signals.
    pub classification: Classification,
    /// The person or team from the policy, when the sender is one.
    pub sender: Option<SenderInfo>,
    /// What to do with the message.
    pub disposition: Disposition,
    /// The rules that fired, in order.
    pub rules: Vec<String>,
    /// The new message, when there is one; present in observe mode too so
    /// that previews and the audit log can show what would have changed.
    pub rewritten: Option<Rewritten>,
}

impl Outcome {
    /// The bytes to forward: the rewritten message only when the disposition
    /// is `Rewritten`, otherwise exactly the original.
    pub fn output<'a>(&'a self, original: &'a [u8]) -> &'a [u8] {
        match (&self.disposition, &self.rewritten) {
            (Disposition::Rewritten, Some(r)) => &r.message,
            _ => original,
        }
    }

    /// Why the message was skipped, if it was.
    pub fn skipped(&self) -> Option<&SkipReason> {
        self.classification.skipped.as_ref()
    }

    /// Whether this outcome deserves an audit record.
    pub fn is_auditable(&self) -> bool {
        self.disposition != Disposition::Untouched
    }

    /// An outcome for a message the engine could not process; the caller
    /// forwards the original (or tempfails, as configured) and audits this.
    pub fn failure(policy: &Policy, detail: impl Into<String>) -> Outcome {
        Outcome {
            classification: Classification::untouched(
                policy.default_language,
                Some(SkipReason::EngineFailure(detail.into())),
            ),
            sender: None,
            disposition: Disposition::Skipped,
            rules: Vec::new(),
            rewritten: None,
        }
    }
}

/// Processes one message. Never panics on input; anything the engine cannot
/// handle safely ends as `Skipped` or `Untouched` with the reason recorded.
/// A panic inside (ours or a parser's) becomes an engine failure, so every
/// caller, not only the relay's blocking task, applies `engine_failure`
/// instead of losing the connection or the process.
pub fn process(
    raw: &[u8],
    envelope: &Envelope,
    policy: &Policy,
    options: &EngineOptions,
) -> Outcome {
    // Nothing shared is mutated inside, so observing a half-done state after
    // a panic is impossible: the outcome is built from scratch or discarded.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        process_unguarded(raw, envelope, policy, options)
    }))
    .unwrap_or_else(|_| Outcome::failure(policy, "engine panicked"))
}

fn process_unguarded(
    raw: &[u8],
    envelope: &Envelope,
    policy: &Policy,
    options: &EngineOptions,
) -> Outcome {
    // Classification and planning read headers and text parts only, so a
    // message with large attachments is parsed without their bodies; the
    // original is parsed only if it is really rewritten.
    let elided = elide::elide_attachments(raw, elide::MIN_ELIDED_BYTES);
    let parsed = elided.as_deref().unwrap_or(raw);
    let Some(message) = mail_parser::MessageParser::default().parse(parsed) else {
        return untouched(policy, Some(SkipReason::Unparseable("no header block".into())), None);
    };
    let sender_address = sender_address(envelope, &message);
    let sender = policy.sender(&sender_address).map(|s| describe(policy, s));

    if let Some(trace) = own_trace(&message, &options.instance) {
        return untouched(policy, Some(SkipReason::AlreadyProcessed(trace)), sender);
    }

    let classification = classify::classify(&message, &sender_address, policy);
    let wanted = action_for(&classification, policy);
    if classification.skipped.is_some() {
        let disposition =
            if wanted == Action::Pass { Disposition::Untouched } else { Disposition::Skipped };
        return Outcome { classification, sender, disposition, rules: Vec::new(), rewritten: None };
    }
    if wanted == Action::Pass {
        return Outcome {
            classification,
            sender,
            disposition: Disposition::Untouched,
            rules: Vec::new(),
            rewritten: None,
        };
    }

    let plan = match plan::plan(&classification, &message, envelope, &sender_address, policy) {
        Ok(plan) => plan,
        Err(error) => return failed(classification, sender, error.to_string()),
    };
    if plan.is_empty() {
        return Outcome {
            classification,
            sender,
            disposition: Disposition::Untouched,
            rules: Vec::new(),
            rewritten: None,
        };
    }
    let trace = trace_value(&options.instance, &plan);
    let full;
    let message = if elided.is_some() {
        match mail_parser::MessageParser::default().parse(raw) {
            Some(parsed) => {
                full = parsed;
                &full
            }
            None => return failed(classification, sender, "message does not parse".into()),
        }
    } else {
        &message
    };
    match rewrite::rewrite(raw, message, &plan, &trace) {
        Ok(Some(rewritten)) => {
            let mut rules: Vec<String> = Vec::new();
            for part in &rewritten.parts {
                for rule in &part.rules {
                    if !rules.contains(rule) {
                        rules.push(rule.clone());
                    }
                }
            }
            let observe = options.observe_only || wanted == Action::Observe;
            Outcome {
                classification,
                sender,
                disposition: if observe { Disposition::Observed } else { Disposition::Rewritten },
                rules: order_like(&plan, rules),
                rewritten: Some(rewritten),
            }
        }
        Ok(None) => Outcome {
            classification,
            sender,
            disposition: Disposition::Untouched,
            rules: Vec::new(),
            rewritten: None,
        },
        Err(error) => failed(classification, sender, error.to_string()),
    }
}

fn untouched(policy: &Policy, skipped: Option<SkipReason>, sender: Option<SenderInfo>) -> Outcome {
    let disposition = if skipped.is_some() { Disposition::Skipped } else { Disposition::Untouched };
    Outcome {
        classification: Classification::untouched(policy.default_language, skipped),
        sender,
        disposition,
        rules: Vec::new(),
        rewritten: None,
    }
}

fn failed(
    mut classification: Classification,
    sender: Option<SenderInfo>,
    detail: String,
) -> Outcome {
    classification.skipped = Some(SkipReason::EngineFailure(detail));
    Outcome {
        classification,
        sender,
        disposition: Disposition::Skipped,
        rules: Vec::new(),
        rewritten: None,
    }
}

/// The strictest action among the kinds of mail detected; `Pass` when none.
fn action_for(classification: &Classification, policy: &Policy) -> Action {
    let mut actions = Vec::new();
    if classification.auto_reply {
        actions.push(policy.actions.auto_reply);
    }
    if classification.team_signature {
        actions.push(policy.actions.team_signature);
    }
    if actions.is_empty() {
        // Skipped mail that was not recognised as anything still deserves a
        // record when it came from someone the policy knows.
        return if classification.skipped.is_some() { Action::Observe } else { Action::Pass };
    }
    if actions.contains(&Action::Rewrite) {
        Action::Rewrite
    } else if actions.contains(&Action::Observe) {
        Action::Observe
    } else {
        Action::Pass
    }
}

/// The envelope sender, or the `From:` address for the null sender (`<>`),
/// which is what most auto-responders use.
fn sender_address(envelope: &Envelope, message: &mail_parser::Message<'_>) -> String {
    if !envelope.mail_from.is_empty() {
        return envelope.mail_from.clone();
    }
    message
        .from()
        .and_then(|from| from.first())
        .and_then(|addr| addr.address())
        .unwrap_or_default()
        .to_string()
}

fn describe(policy: &Policy, sender: Sender) -> SenderInfo {
    match sender {
        Sender::Person(i) => {
            let p = &policy.people[i];
            SenderInfo { kind: "person", id: p.id.clone(), name: p.name.clone() }
        }
        Sender::Team(i) => {
            let t = &policy.teams[i];
            SenderInfo { kind: "team", id: t.id.clone(), name: t.name.clone() }
        }
    }
}

/// The trace header value: who rewrote it and which rules fired.
fn trace_value(instance: &str, plan: &Plan) -> String {
    format!("rewritten by {instance}; rules={}", plan.rules.join(","))
}

/// The value of a trace header this instance added earlier, if any.
fn own_trace(message: &mail_parser::Message<'_>, instance: &str) -> Option<String> {
    let prefix = format!("rewritten by {instance};");
    message
        .header_values(TRACE_HEADER)
        .filter_map(|v| v.as_text())
        .find(|v| v.trim_start().starts_with(&prefix))
        .map(|v| v.trim().to_string())
}

fn order_like(plan: &Plan, applied: Vec<String>) -> Vec<String> {
    plan.rules.iter().filter(|r| applied.contains(r)).cloned().collect()
}
