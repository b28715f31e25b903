//! Scores the auto-reply evidence and applies the vetoes.
//!
//! # Scoring rule
//! Every auto-reply signal has a weight; a message is an auto-reply when
//! the weights add up to [`THRESHOLD`] (3) and no veto fired.
//!
//! | weight | signals |
//! |---|---|
//! | 3 (decides alone) | `auto_submitted_header` (any value but `no`, `auto-generated`, `auto-notified`), `sieve_vacation`, `zimbra_autoreply`, `x_autoreply_header`, `gmail_vacation`, `x_autorespond_header`, `precedence_auto_reply`, `x_apple_action_vacation`, `exchange_auto_reply_header` (rules loop together with X-Auto-Response-Suppress), `notes_auto_reply` (`AUTO:` plus an absence phrase), `subject_auto_reply_phrase` (explicit phrase in first position) |
//! | 2 | `subject_auto_reply_phrase` (ambiguous word such as "Out of office", "Afwezig"), `notes_auto_reply` (`AUTO:` alone), `exchange_rules_loop_header` alone |
//! | 1 | `auto_generated_header`, `bulk_precedence`, `auto_response_suppress_header`, `subject_auto_reply_phrase` (acknowledgement as the whole subject), `body_auto_reply_phrase` |
//!
//! `Auto-Submitted: auto-generated` is only weight 1: RFC 3834 reserves it
//! for messages that are *not* a response to a message (notifications,
//! reports, calendar mail), so on its own it is no auto-reply; together with
//! an ambiguous subject phrase it is.
//!
//! # Vetoes
//! A veto makes `auto_reply` false whatever the score:
//! `delivery_report` (multipart/report, message/delivery-status),
//! `read_receipt` (message/disposition-notification, or a "Read:" TNEF
//! report), `delivery_failure` (X-Failed-Recipients, a MAILER-DAEMON or
//! postmaster sender, a `From:` without address, a bounce subject),
//! `calendar_reply` / `calendar_message` (any text/calendar part), and
//! `mailing_list` (List-Id, List-Unsubscribe, List-Post, Precedence: list).
//! `Precedence: bulk`/`junk` is different: Gmail's vacation responder and
//! many autoresponders set it next to their own header, so it vetoes
//! (`bulk_mail`) only when the score stays below the threshold.
//!
//! # Rejected signals
//! `X-Auto-Response-Suppress` is set on Exchange OOFs but also on
//! newsletters and notifications (Facebook, GitHub), so alone it weighs
//! one point. `Content-Class: urn:content-classes:message` is on all Exchange mail,
//! not only OOFs, so it is not a signal at all.

use super::body;
use super::headers::{HeaderFacts, is_affirmative};
use super::structure::StructureFacts;
use super::subject::{self, Strength, SubjectMatch};
use super::{Effect, Signal};

/// Score at which a message is an auto-reply.
pub(crate) const THRESHOLD: u8 = 3;

/// Evidence with its weight.
#[derive(Debug)]
pub(crate) struct Scored {
    pub signal: Signal,
    pub weight: u8,
}

/// The auto-reply side of a verdict.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    /// Positive evidence with weights, in the order found.
    pub positives: Vec<Scored>,
    /// Vetoes, in the order found.
    pub vetoes: Vec<Signal>,
    /// The subject phrase, kept for the language fallback.
    pub subject: Option<SubjectMatch>,
}

impl Verdict {
    /// The sum of the weights.
    pub(crate) fn score(&self) -> u8 {
        self.positives.iter().map(|s| s.weight).fold(0u8, u8::saturating_add)
    }

    /// Whether the evidence makes an auto-reply.
    pub(crate) fn is_auto_reply(&self) -> bool {
        self.vetoes.is_empty() && self.score() >= THRESHOLD
    }

    fn positive(&mut self, name: &str, evidence: String, weight: u8) {
        self.positives.push(Scored { signal: signal(name, evidence, Effect::AutoReply), weight });
    }

    fn veto(&mut self, name: &str, evidence: String) {
        self.vetoes.push(signal(name, evidence, Effect::NotAutoReply));
    }

    /// Adds a body phrase when the headers alone left the verdict open.
    pub(crate) fn consider_body(&mut self, new_text: &str) {
        if let Some(phrase) = body::auto_reply_phrase(new_text) {
            self.positive("body_auto_reply_phrase", format!("\"{phrase}\""), 1);
        }
    }

    /// Adds the `Precedence: bulk` veto when the score stayed too low.
    pub(crate) fn finish(&mut self, headers: &HeaderFacts) {
        if self.score() < THRESHOLD
            && let Some(p @ ("bulk" | "junk")) = headers.precedence_keyword()
        {
            self.veto("bulk_mail", format!("Precedence: {p} without an auto-reply signal"));
        }
    }
}

fn signal(name: &str, evidence: String, effect: Effect) -> Signal {
    Signal { name: name.to_string(), evidence, effect }
}

/// What is known about the sender, for the bounce vetoes.
pub(crate) struct FromFacts<'a> {
    /// The `From:` address, `None` when the header names no address.
    pub address: Option<&'a str>,
}

/// Scores headers, structure and subject (no body yet).
pub(crate) fn assess(
    headers: &HeaderFacts,
    structure: &StructureFacts,
    subject: Option<&str>,
    from: &FromFacts<'_>,
) -> Verdict {
    let mut v = Verdict::default();
    header_positives(&mut v, headers);
    subject_positives(&mut v, subject);
    vetoes(&mut v, headers, structure, subject, from);
    v
}

fn header_positives(v: &mut Verdict, h: &HeaderFacts) {
    if let (Some(raw), Some(keyword)) = (&h.auto_submitted, h.auto_submitted_keyword()) {
        let evidence = format!("Auto-Submitted: {raw}");
        match keyword.as_str() {
            "no" | "" => {}
            "auto-generated" | "auto-notified" => v.positive("auto_generated_header", evidence, 1),
            _ => {
                let lower = raw.to_ascii_lowercase();
                if lower.contains("zimbra") || h.zimbra {
                    v.positive("zimbra_autoreply", evidence.clone(), 3);
                } else if lower.contains("vacation") {
                    v.positive("sieve_vacation", evidence.clone(), 3);
                }
                v.positive("auto_submitted_header", evidence, 3);
            }
        }
    }
    if let Some(value) = h.x_autoreply.as_deref().filter(|x| is_affirmative(x)) {
        if h.precedence_keyword() == Some("bulk") {
            v.positive(
                "gmail_vacation",
                format!("X-Autoreply: {value} with Precedence: bulk (Gmail vacation responder)"),
                3,
            );
        }
        v.positive("x_autoreply_header", format!("X-Autoreply: {value}"), 3);
    }
    if let Some(value) = h.x_autorespond.as_deref().filter(|x| is_affirmative(x)) {
        v.positive("x_autorespond_header", format!("X-Autorespond: {value}"), 3);
    }
    match h.precedence_keyword() {
        Some(p @ ("auto_reply" | "auto-reply" | "autoreply")) => {
            v.positive("precedence_auto_reply", format!("Precedence: {p}"), 3)
        }
        Some(p @ ("bulk" | "junk")) => v.positive("bulk_precedence", format!("Precedence: {p}"), 1),
        _ => {}
    }
    if let Some(action) = &h.apple_action
        && action.to_ascii_lowercase().contains("vacation")
    {
        v.positive("x_apple_action_vacation", format!("X-Apple-Action: {action}"), 3);
    }
    match (&h.rules_loop, &h.auto_response_suppress) {
        (Some(rules), Some(suppress)) => v.positive(
            "exchange_auto_reply_header",
            format!(
                "X-MS-Exchange-Inbox-Rules-Loop: {rules} with X-Auto-Response-Suppress: {suppress}"
            ),
            3,
        ),
        (Some(rules), None) => v.positive(
            "exchange_rules_loop_header",
            format!("X-MS-Exchange-Inbox-Rules-Loop: {rules}"),
            2,
        ),
        (None, Some(suppress)) => v.positive(
            "auto_response_suppress_header",
            format!("X-Auto-Response-Suppress: {suppress}"),
            1,
        ),
        (None, None) => {}
    }
}

fn subject_positives(v: &mut Verdict, subject: Option<&str>) {
    let Some(subject) = subject else { return };
    if subject::notes_auto_prefix(subject) {
        match subject::mentions_absence(subject) {
            Some(phrase) => v.positive(
                "notes_auto_reply",
                format!("Subject: \"AUTO:\" prefix with \"{phrase}\" (Lotus Notes)"),
                3,
            ),
            None => {
                v.positive("notes_auto_reply", "Subject: \"AUTO:\" prefix (Lotus Notes)".into(), 2)
            }
        }
        return;
    }
    let Some(found) = subject::auto_reply_phrase(subject) else { return };
    let weight = match found.strength {
        Strength::Explicit => 3,
        Strength::Ambiguous => 2,
        Strength::Acknowledgement => 1,
    };
    v.positive(
        "subject_auto_reply_phrase",
        format!("\"{}\" ({}, subject \"{subject}\")", found.phrase, found.form),
        weight,
    );
    v.subject = Some(found);
}

/// Local parts that only mail systems send from.
const SYSTEM_SENDERS: &[&str] = &["mailer-daemon", "mailer_daemon", "postmaster", "mail-daemon"];

/// Folded subject starts of bounces and read receipts.
const BOUNCE_SUBJECTS: &[&str] = &[
    "mail delivery failed",
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "delivery failure",
    "delivery notification",
    "returned mail",
    "failure notice",
    "mail system error",
    "non remis",
    "non recapitabile",
    "unzustellbar",
    "nicht zustellbar",
    "onbestelbaar",
    "niet bezorgd",
    "message non delivre",
    "warning: could not send message",
];

fn vetoes(
    v: &mut Verdict,
    h: &HeaderFacts,
    s: &StructureFacts,
    subject: Option<&str>,
    from: &FromFacts<'_>,
) {
    if s.delivery_status
        || s.report.as_deref().is_some_and(|r| r.eq_ignore_ascii_case("delivery-status"))
    {
        v.veto("delivery_report", "multipart/report with message/delivery-status".into());
    } else if s.disposition_notification
        || s.report.as_deref().is_some_and(|r| r.eq_ignore_ascii_case("disposition-notification"))
    {
        v.veto("read_receipt", "message/disposition-notification report".into());
    } else if let Some(report) = &s.report {
        v.veto("delivery_report", format!("multipart/report; report-type={report}"));
    }
    if let Some(failed) = &h.failed_recipients {
        v.veto("delivery_failure", format!("X-Failed-Recipients: {failed}"));
    }
    match from.address {
        None => v.veto("delivery_failure", "From: names no address (mail system notice)".into()),
        Some(address) => {
            let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
            if SYSTEM_SENDERS.iter().any(|s| local.eq_ignore_ascii_case(s)) {
                v.veto("delivery_failure", format!("From: {address}"));
            }
        }
    }
    if let Some(subject) = subject {
        let folded = super::fold::fold(subject);
        if let Some(bounce) = BOUNCE_SUBJECTS.iter().find(|b| folded.starts_with(*b)) {
            v.veto("delivery_failure", format!("subject starts with \"{bounce}\""));
        }
        for receipt in ["read:", "gelesen:", "gelezen:", "lu :", "lu:", "read receipt"] {
            if folded.starts_with(receipt) && s.tnef {
                v.veto("read_receipt", format!("subject \"{subject}\" with a TNEF report"));
            }
        }
    }
    if let Some(method) = &s.calendar_method {
        if method == "REPLY" {
            v.veto("calendar_reply", "text/calendar METHOD:REPLY".into());
        } else if method.is_empty() {
            v.veto("calendar_message", "text/calendar part".into());
        } else {
            v.veto("calendar_message", format!("text/calendar METHOD:{method}"));
        }
    }
    if let Some((name, value)) = &h.list_header {
        v.veto("mailing_list", format!("{name}: {value}"));
    }
    if h.precedence_keyword() == Some("list") {
        v.veto("mailing_list", "Precedence: list".into());
    }
}
