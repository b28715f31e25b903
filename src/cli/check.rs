//! `courtesy check FILE...`: validates house policy files the way a linter
//! does, so a manager can fix every problem in one go.
//!
//! Everything goes to standard output: each finding with its source line and
//! a caret, then one summary line per file. Exit status: 0 when every file is
//! valid (warnings allowed), 1 when any file has errors, 2 when a file cannot
//! be read at all.
//!
//! When the people come from the directory, the policy is checked against
//! a directory snapshot: the one the service saved (`--config`, read from
//! its `directory.state_dir`; `--refresh` reads the sources now instead),
//! or a snapshot file (`--directory-snapshot`). Nothing is contacted unless
//! `--refresh` is given, so a check never depends on the directory being up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::ServiceConfig;
use crate::directory::refresh::fetch_all;
use crate::directory::{Snapshot, sources_from_config};
use crate::policy::{self, Diagnostic, Loaded, PolicyErrors, Severity};

use super::{EXIT_FINDINGS, EXIT_USAGE};

/// Arguments of `courtesy check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files to validate. With `--config` and no FILE: the policy
    /// the configuration names.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Service configuration; when it has a `directory:` section, the
    /// policy is checked against the directory snapshot the service saved.
    #[arg(long, value_name = "FILE", conflicts_with = "directory_snapshot")]
    pub config: Option<PathBuf>,
    /// Check against this directory snapshot file (JSON, as the service
    /// saves it as `directory-snapshot.json` in its state directory).
    #[arg(long, value_name = "FILE")]
    pub directory_snapshot: Option<PathBuf>,
    /// With `--config`: read the directory's sources now instead of using
    /// the saved snapshot. Nothing is saved.
    #[arg(long, requires = "config")]
    pub refresh: bool,
}

/// What became of one file.
enum Verdict {
    Valid,
    Invalid,
    Unreadable,
}

/// Runs `courtesy check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let (files, snapshot) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(e) => {
            eprintln!("courtesy: {e:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some((snapshot, label)) = &snapshot {
        let taken = snapshot
            .taken_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        writeln!(
            out,
            "directory: {label}, taken {taken}, {}",
            plural(snapshot.people.len(), "record")
        )?;
    }
    let directory = snapshot.as_ref().map(|(s, _)| s);
    let mut worst = 0u8;
    if let Some(config_path) = &args.config
        && !check_dkim(config_path, &mut out)?
    {
        worst = EXIT_FINDINGS;
    }
    for path in &files {
        let verdict = check_file(path, directory, &mut out)?;
        worst = worst.max(match verdict {
            Verdict::Valid => 0,
            Verdict::Invalid => EXIT_FINDINGS,
            Verdict::Unreadable => EXIT_USAGE,
        });
    }
    out.flush()?;
    Ok(ExitCode::from(worst))
}

/// A directory snapshot with a label saying where it came from.
type LabelledSnapshot = (Snapshot, String);

/// The files to check and the directory snapshot, from the arguments.
fn prepare(args: &CheckArgs) -> anyhow::Result<(Vec<PathBuf>, Option<LabelledSnapshot>)> {
    let mut files = args.files.clone();
    if let Some(path) = &args.directory_snapshot {
        let snapshot = Snapshot::read(path)?;
        return non_empty(files)
            .map(|f| (f, Some((snapshot, format!("snapshot {}", path.display())))));
    }
    let Some(config_path) = &args.config else {
        return non_empty(files).map(|f| (f, None));
    };
    let config = ServiceConfig::load(config_path)?;
    if files.is_empty() {
        files.extend(config.policy.clone());
    }
    let Some(directory) = &config.directory else {
        return non_empty(files).map(|f| (f, None));
    };
    let snapshot = if args.refresh {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let (people, _) =
            runtime.block_on(fetch_all(&sources_from_config(directory), directory.timeout))?;
        let snapshot = Snapshot { taken_at: time::OffsetDateTime::now_utc(), people };
        (snapshot, "read now from the sources".to_owned())
    } else {
        let path = Snapshot::path_in(&directory.state_dir);
        let snapshot = Snapshot::load(&directory.state_dir)?.with_context(|| {
            format!(
                "no directory snapshot at {} yet: start the service once, or check with --refresh",
                path.display()
            )
        })?;
        (snapshot, format!("snapshot {}", path.display()))
    };
    non_empty(files).map(|f| (f, Some(snapshot)))
}

fn non_empty(files: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    if files.is_empty() {
        anyhow::bail!("give the policy FILE to check, or a --config FILE whose `policy` names it");
    }
    Ok(files)
}

/// Checks one file and writes its findings and summary line.
fn check_file(
    path: &Path,
    directory: Option<&Snapshot>,
    out: &mut impl Write,
) -> anyhow::Result<Verdict> {
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
    match policy::load_str_with(&text, &origin, directory) {
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
            let incomplete_people = diagnostics.iter().any(|d| {
                d.message == "missing required key `name`"
                    || d.message == "missing required key `email`"
            });
            if directory.is_none() && incomplete_people {
                writeln!(
                    out,
                    "{origin}: note: if its people come from the directory, check it against the directory's people: --config FILE or --directory-snapshot FILE"
                )?;
            }
            Ok(Verdict::Invalid)
        }
    }
}

/// Loads the `dkim:` section's keys as the service would and says what
/// happens to signed mail; `false` when the service would refuse to start.
fn check_dkim(config_path: &Path, out: &mut impl Write) -> anyhow::Result<bool> {
    let origin = config_path.display();
    let config = ServiceConfig::load(config_path)?;
    let section = config.dkim.clone().unwrap_or_default();
    match crate::dkim::Signer::from_config(&section) {
        Ok(signer) => {
            if config.dkim.is_none() {
                writeln!(
                    out,
                    "{origin}: dkim: no dkim section: DKIM-signed mail is NOT rewritten, \
                     because no key is configured (see docs/DKIM.md)"
                )?;
            }
            for notice in signer.notices() {
                let level = if notice.warning { "warning" } else { "note" };
                writeln!(out, "{origin}: dkim: {level}: {}", notice.text)?;
            }
            Ok(true)
        }
        Err(e) => {
            writeln!(out, "{origin}: dkim: error: {e}")?;
            Ok(false)
        }
    }
}

fn write_all(out: &mut impl Write, diagnostics: &[Diagnostic], text: &str) -> std::io::Result<()> {
    for d in diagnostics {
        if d.line == 0 {
            // Findings in the directory's data: no line of the file to show.
            writeln!(out, "{}: {}: {}", d.file, d.severity, d.message)?;
            if let Some(hint) = &d.hint {
                writeln!(out, "  help: {hint}")?;
            }
            writeln!(out)?;
        } else {
            writeln!(out, "{}", d.render(text))?;
        }
    }
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
