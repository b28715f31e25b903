//! `courtesy preview`: shows management what the gateway would do with one
//! message — the verdict with its signals, the rules that fired and a diff.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use anyhow::Context;
use serde_json::json;

use crate::engine::{self, Disposition, EngineOptions, Outcome};
use crate::envelope::Envelope;
use crate::policy;

/// Arguments of `courtesy preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// The house policy (default: the built-in example policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Print one JSON object as the last line of standard output.
    #[arg(long)]
    pub json: bool,
    /// Write the resulting message here (byte-identical when nothing changes).
    #[arg(long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Envelope sender (default: the From: address).
    #[arg(long, value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// Envelope recipient, repeatable (default: the To: addresses).
    #[arg(long = "rcpt-to", value_name = "ADDRESS")]
    pub rcpt_to: Vec<String>,
    /// The message file, or `-` for standard input.
    #[arg(value_name = "MESSAGE")]
    pub message: PathBuf,
}

/// Runs `courtesy preview`.
pub fn run(args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let loaded = match &args.policy {
        Some(path) => match policy::load_file(path) {
            Ok(loaded) => loaded,
            Err(errors) => {
                eprintln!("{errors}");
                anyhow::bail!(
                    "the policy {} has errors; run `courtesy check` on it",
                    path.display()
                );
            }
        },
        None => policy::example(),
    };
    let raw = read_message(&args.message)?;
    let envelope = envelope_for(&raw, &args);
    let outcome = engine::process(&raw, &envelope, &loaded.policy, &EngineOptions::default());

    let mut stdout = anstream::stdout();
    if !args.json {
        print_human(&mut stdout, &outcome)?;
    } else {
        writeln!(stdout, "{}", summary(&outcome))?;
    }
    if let Some(out) = &args.output {
        std::fs::write(out, outcome.output(&raw))
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_message(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut raw = Vec::new();
        std::io::stdin().read_to_end(&mut raw).context("cannot read the message from stdin")?;
        return Ok(raw);
    }
    std::fs::read(path).with_context(|| format!("cannot read the message {}", path.display()))
}

/// The envelope a relay would have seen: explicit flags, else the headers.
fn envelope_for(raw: &[u8], args: &PreviewArgs) -> Envelope {
    let parsed = mail_parser::MessageParser::default().parse_headers(raw);
    let mail_from = args.mail_from.clone().unwrap_or_else(|| {
        parsed
            .as_ref()
            .and_then(|m| m.from())
            .and_then(|f| f.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string()
    });
    let rcpt_to = if args.rcpt_to.is_empty() {
        parsed
            .as_ref()
            .and_then(|m| m.to())
            .map(|to| to.iter().filter_map(|a| a.address()).map(str::to_string).collect())
            .unwrap_or_default()
    } else {
        args.rcpt_to.clone()
    };
    Envelope { mail_from, rcpt_to }
}

/// The machine-readable summary; field names are a stable interface.
pub fn summary(outcome: &Outcome) -> serde_json::Value {
    let c = &outcome.classification;
    json!({
        "auto_reply": c.auto_reply,
        "team_signature": c.team_signature,
        "rewritten": outcome.disposition == Disposition::Rewritten,
        "disposition": outcome.disposition,
        "language": c.language,
        "rules": outcome.rules,
        "signals": c.signals,
        "skipped": c.skipped.as_ref().map(|s| s.to_string()),
        "sender": outcome.sender,
        "parts": outcome.rewritten.as_ref().map(|r| &r.parts),
    })
}

fn print_human(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    let bold = Style::new().bold();
    let c = &outcome.classification;
    let kind = match (c.auto_reply, c.team_signature) {
        (true, true) => "auto-reply with an anonymous team signature",
        (true, false) => "auto-reply",
        (false, true) => "anonymous team signature",
        (false, false) => "ordinary mail",
    };
    writeln!(out, "{bold}classification:{bold:#} {kind} (language {})", c.language)?;
    for signal in &c.signals {
        writeln!(out, "  because {}: {} ({:?})", signal.name, signal.evidence, signal.effect)?;
    }
    if let Some(sender) = &outcome.sender {
        writeln!(out, "{bold}sender:{bold:#} {} {} ({})", sender.kind, sender.id, sender.name)?;
    }
    if let Some(reason) = &c.skipped {
        writeln!(out, "{bold}skipped:{bold:#} {reason}")?;
    }
    let decision = match outcome.disposition {
        Disposition::Untouched => "forwarded unchanged",
        Disposition::Rewritten => "rewritten",
        Disposition::Observed => "observed (would be rewritten; forwarded unchanged)",
        Disposition::Skipped => "skipped (forwarded unchanged)",
    };
    writeln!(out, "{bold}decision:{bold:#} {decision}")?;
    if !outcome.rules.is_empty() {
        writeln!(out, "{bold}rules:{bold:#} {}", outcome.rules.join(", "))?;
    }
    for part in outcome.rewritten.iter().flat_map(|r| &r.parts) {
        writeln!(
            out,
            "{bold}--- part {} {} ({} -> {}, {}){bold:#}",
            part.part,
            part.content_type,
            part.charset_before,
            part.charset_after,
            part.transfer_encoding
        )?;
        write_diff(out, &part.before, &part.after)?;
    }
    Ok(())
}

/// A coloured unified diff; colours are dropped when stdout is not a terminal.
pub fn write_diff(out: &mut impl Write, before: &str, after: &str) -> std::io::Result<()> {
    let added = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let removed = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let hunk = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let diff = similar::TextDiff::from_lines(before, after);
    for line in diff.unified_diff().context_radius(2).to_string().lines() {
        let style = if line.starts_with("@@") {
            hunk
        } else if line.starts_with('+') {
            added
        } else if line.starts_with('-') {
            removed
        } else {
            Style::new()
        };
        writeln!(out, "{style}{line}{style:#}")?;
    }
    Ok(())
}
