//! Shared fixtures for the audit tests: a minimal policy, outcomes of each
//! auditable kind, and a clock the test moves by hand.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use courtesy::audit::{AuditConfig, AuditLog, AuditSink, Clock, DiffMode, MessageEntry, Verdict};
use courtesy::classify::{Classification, Effect, SignOff, Signal, SkipReason};
use courtesy::engine::{Disposition, Outcome, SenderInfo};
use courtesy::envelope::Envelope;
use courtesy::policy::{Actions, Language, Organisation, Policy, PolicySource};
use courtesy::rewrite::{PartChange, Rewritten};
use time::OffsetDateTime;
use time::macros::datetime;

pub const ORIGINAL: &[u8] = b"From: incasso@firm.example\r\nSubject: Re: invoice\r\nMessage-ID: <m1@firm.example>\r\n\r\nHello,\r\nWe received your payment.\r\nTeam Incasso\r\n";

pub fn policy() -> Policy {
    Policy {
        version: 1,
        revision: Some("2026-11 rev 3".into()),
        source: PolicySource { path: "/etc/courtesy/policy.yaml".into(), sha256: "ab".repeat(32) },
        organisation: Organisation {
            name: "Firm".into(),
            domains: vec!["firm.example".into()],
            ..Organisation::default()
        },
        default_language: Language::En,
        response_time: BTreeMap::new(),
        max_response_days: 2,
        people: Vec::new(),
        teams: Vec::new(),
        dossiers: Vec::new(),
        phrase_rules: Vec::new(),
        actions: Actions::default(),
        templates: minijinja::Environment::new(),
        by_address: HashMap::new(),
    }
}

pub fn envelope() -> Envelope {
    Envelope::new("incasso@firm.example", ["client@customer.example"])
}

fn classification(skipped: Option<SkipReason>) -> Classification {
    let mut c = Classification::untouched(Language::En, skipped);
    c.team_signature = true;
    c.signals.push(Signal {
        name: "anonymous_sign_off".into(),
        evidence: "Team Incasso".into(),
        effect: Effect::TeamSignature,
    });
    c.sign_off = Some(SignOff { text: "Team Incasso".into(), team: None, closing: None });
    c
}

pub fn rewritten_message() -> Rewritten {
    let before = "Hello,\nWe received your payment.\nTeam Incasso\n";
    let after = "Dear Ms Jansen,\nHello,\nWe received your payment.\nAnna de Vries and Bram Smit, Team Incasso\n";
    Rewritten {
        message: b"X-Courtesy: rewritten by test\r\nFrom: incasso@firm.example\r\n\r\nDear Ms Jansen,\r\n"
            .to_vec(),
        body_start: 0,
        header_changes: Vec::new(),
        parts: vec![PartChange {
            part: 0,
            content_type: "text/plain".into(),
            charset_before: "us-ascii".into(),
            charset_after: "utf-8".into(),
            transfer_encoding: "quoted-printable".into(),
            before: before.into(),
            after: after.into(),
            rules: vec!["salutation".into(), "team_signature".into()],
            unapplied: Vec::new(),
        }],
    }
}

pub fn outcome(disposition: Disposition) -> Outcome {
    let skipped = (disposition == Disposition::Skipped)
        .then(|| SkipReason::Signed("multipart/signed".into()));
    let changes = matches!(disposition, Disposition::Rewritten | Disposition::Observed);
    Outcome {
        classification: classification(skipped),
        sender: Some(SenderInfo {
            kind: "team",
            id: "incasso".into(),
            name: "Team Incasso".into(),
        }),
        disposition,
        rules: if changes {
            vec!["salutation".into(), "team_signature".into()]
        } else {
            Vec::new()
        },
        rewritten: changes.then(rewritten_message),
    }
}

pub fn config(dir: &Path) -> AuditConfig {
    AuditConfig { diff: DiffMode::Unified, ..AuditConfig::in_dir(dir.to_path_buf()) }
}

/// A clock that stays where the test puts it.
#[derive(Clone)]
pub struct ManualClock(pub Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    pub fn new() -> Self {
        ManualClock(Arc::new(Mutex::new(datetime!(2026-11-23 09:30:00 UTC))))
    }

    pub fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// Writes a message record and its verdict.
pub fn record(log: &AuditLog, disposition: Disposition, policy: &Policy) -> u64 {
    let outcome = outcome(disposition);
    let envelope = envelope();
    let entry = MessageEntry {
        message_id: Some("<m1@firm.example>"),
        envelope: &envelope,
        outcome: &outcome,
        original: ORIGINAL,
        policy,
        dkim: None,
    };
    let seq = log.record_message(&entry).expect("record message");
    log.record_verdict(seq, &Verdict { code: 250, text: "2.0.0 Ok: queued as 4XyZ".into() })
        .expect("record verdict");
    seq
}

/// A log in `dir` with the three auditable kinds, each with a verdict.
pub fn sample_log(dir: &Path, clock: &ManualClock) {
    let log = AuditLog::open_with_clock(&config(dir), "relay", Box::new(clock.clone())).unwrap();
    let policy = policy();
    for disposition in [Disposition::Rewritten, Disposition::Observed, Disposition::Skipped] {
        record(&log, disposition, &policy);
        clock.advance(time::Duration::minutes(7));
    }
}

/// The log files of a directory, in name order.
pub fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}
