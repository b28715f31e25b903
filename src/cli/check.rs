//! `courtesy check FILE...`: validates house policy files the way a linter
//! does, so a manager can fix every problem in one go.
//!
//! Everything goes to standard output: each finding with its source line and
//! a caret, then one summary line per file. Exit status: 0 when every file is
//! valid (warnings allowed), 1 when any file has errors, 2 when a file cannot
//! be read at all.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::policy::{self, Diagnostic, Loaded, PolicyErrors, Severity};

use super::{EXIT_FINDINGS, EXIT_USAGE};

/// Arguments of `courtesy check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files to validate.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// What became of one file.
enum Verdict {
    Valid,
    Invalid,
    Unreadable,
}

/// Runs `courtesy check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut worst = 0u8;
    for path in &args.files {
        let verdict = check_file(path, &mut out)?;
        worst = worst.max(match verdict {
            Verdict::Valid => 0,
            Verdict::Invalid => EXIT_FINDINGS,
            Verdict::Unreadable => EXIT_USAGE,
        });
    }
    out.flush()?;
    Ok(ExitCode::from(worst))
}

/// Checks one file and writes its findings and summary line.
fn check_file(path: &std::path::Path, out: &mut impl Write) -> anyhow::Result<Verdict> {
    let origin = path.display().to_string();
    let text = match policy::read_file(path) {
        Ok(text) => text,
        Err(e) => {
            for d in &e.diagnostics {
                writeln!(out, "{origin}: error: {}", d.message)?;
            }
            return Ok(Verdict::Unreadable);
        }
    };
    match policy::load_str(&text, &origin) {
        Ok(Loaded { policy, warnings }) => {
            write_all(out, &warnings, &text)?;
            let people = match policy.people.len() {
                1 => "1 person".to_owned(),
                n => format!("{n} people"),
            };
            let counts = format!(
                "{people}, {}, {}",
                plural(policy.teams.len(), "team"),
                plural(policy.dossiers.len(), "dossier")
            );
            match warnings.len() {
                0 => writeln!(out, "{origin}: ok ({counts})")?,
                n => writeln!(out, "{origin}: ok with {} ({counts})", plural(n, "warning"))?,
            }
            Ok(Verdict::Valid)
        }
        Err(PolicyErrors { diagnostics }) => {
            write_all(out, &diagnostics, &text)?;
            let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
            let warnings = diagnostics.len() - errors;
            let mut summary = plural(errors, "error");
            if warnings > 0 {
                summary.push_str(&format!(", {}", plural(warnings, "warning")));
            }
            writeln!(out, "{origin}: invalid ({summary})")?;
            Ok(Verdict::Invalid)
        }
    }
}

fn write_all(out: &mut impl Write, diagnostics: &[Diagnostic], text: &str) -> std::io::Result<()> {
    for d in diagnostics {
        writeln!(out, "{}", d.render(text))?;
    }
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
