//! Measures auto-reply detection on a labelled corpus.
//!
//! ```text
//! cargo run --example corpus -- DIR
//! ```
//!
//! `DIR` holds `autoreply/` (positives) and `not-autoreply/` (negatives),
//! one raw message per file. A leading mbox `From ` line is stripped, as a
//! message never carries it over SMTP. Prints one verdict per file with its
//! signals, then precision, recall, false positives and misses. Exits with 1
//! when there is a false positive or a miss, so it can gate a build.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use courtesy::classify::{Classification, classify};
use courtesy::policy::{Actions, Language, Organisation, Policy, PolicySource};

fn main() -> Result<()> {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        bail!("usage: corpus DIR (with DIR/autoreply and DIR/not-autoreply)");
    };
    let policy = empty_policy();
    let mut tally = Tally::default();
    for (label, positive) in [("autoreply", true), ("not-autoreply", false)] {
        for path in files(&dir.join(label))? {
            let raw =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let verdict = run(&raw, &policy);
            let name =
                format!("{label}/{}", path.file_name().unwrap_or_default().to_string_lossy());
            tally.record(&name, positive, verdict.as_ref());
        }
    }
    tally.report();
    if tally.false_positives.is_empty() && tally.misses.is_empty() {
        Ok(())
    } else {
        std::process::exit(1)
    }
}

/// Classifies one raw message; `None` when it does not parse.
fn run(raw: &[u8], policy: &Policy) -> Option<Classification> {
    let raw = strip_mbox_from(raw);
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let sender = message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_string();
    Some(classify(&message, &sender, policy))
}

fn strip_mbox_from(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        let end = raw.iter().position(|&b| b == b'\n').map_or(raw.len(), |i| i + 1);
        &raw[end..]
    } else {
        raw
    }
}

fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

#[derive(Default)]
struct Tally {
    true_positives: usize,
    true_negatives: usize,
    false_positives: Vec<String>,
    misses: Vec<String>,
    signal_counts: BTreeMap<String, usize>,
}

impl Tally {
    fn record(&mut self, name: &str, positive: bool, verdict: Option<&Classification>) {
        let detected = verdict.is_some_and(|c| c.auto_reply);
        let mark = match (positive, detected) {
            (true, true) => {
                self.true_positives += 1;
                "ok  "
            }
            (false, false) => {
                self.true_negatives += 1;
                "ok  "
            }
            (false, true) => {
                self.false_positives.push(name.to_string());
                "FP  "
            }
            (true, false) => {
                self.misses.push(name.to_string());
                "MISS"
            }
        };
        let Some(c) = verdict else {
            println!("{mark} {name}: unparseable");
            return;
        };
        let signals: Vec<String> =
            c.signals.iter().map(|s| format!("{} [{}]", s.name, s.evidence)).collect();
        for s in &c.signals {
            *self.signal_counts.entry(s.name.clone()).or_default() += 1;
        }
        let skipped = c.skipped.as_ref().map(|s| format!(" skipped: {s};")).unwrap_or_default();
        println!(
            "{mark} {name}: auto_reply={} lang={}{skipped} because {}",
            c.auto_reply,
            c.language,
            if signals.is_empty() { "nothing".to_string() } else { signals.join("; ") }
        );
    }

    fn report(&self) {
        let tp = self.true_positives as f64;
        let fp = self.false_positives.len() as f64;
        let misses = self.misses.len() as f64;
        let precision = if tp + fp == 0.0 { 1.0 } else { tp / (tp + fp) };
        let recall = if tp + misses == 0.0 { 1.0 } else { tp / (tp + misses) };
        println!();
        println!(
            "positives: {} detected of {}; negatives: {} clean of {}",
            self.true_positives,
            self.true_positives + self.misses.len(),
            self.true_negatives,
            self.true_negatives + self.false_positives.len()
        );
        println!("precision: {:.1}%  recall: {:.1}%", precision * 100.0, recall * 100.0);
        println!(
            "false positives ({}): {}",
            self.false_positives.len(),
            self.false_positives.join(", ")
        );
        println!("misses ({}): {}", self.misses.len(), self.misses.join(", "));
        let counts: Vec<String> =
            self.signal_counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("signals seen: {}", counts.join(" "));
    }
}

/// A policy with no people, teams or domains: detection of auto-replies
/// does not depend on who the firm is.
fn empty_policy() -> Policy {
    Policy {
        version: 1,
        revision: None,
        source: PolicySource::default(),
        organisation: Organisation::default(),
        default_language: Language::En,
        response_time: Default::default(),
        max_response_days: 2,
        people: Vec::new(),
        teams: Vec::new(),
        dossiers: Vec::new(),
        phrase_rules: Vec::new(),
        actions: Actions::default(),
        templates: minijinja::Environment::new(),
        by_address: Default::default(),
    }
}
