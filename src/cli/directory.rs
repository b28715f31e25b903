//! `courtesy directory show`: the people the gateway knows, merged from the
//! directory and the policy, with where every field comes from — so a
//! manager can see why a reply names the phone number it does.
//!
//! It reads the sources live without saving anything; if they cannot be
//! read it falls back to the snapshot the service saved, and says so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use crate::directory::refresh::fetch_all;
use crate::directory::{
    DirectoryConfig, MergedPeople, MergedPerson, PolicyPersonInput, Snapshot, Sourced, merge,
    sources_from_config,
};

/// Default service configuration file.
pub const DEFAULT_CONFIG: &str = "/etc/courtesy/courtesy.yaml";

/// Arguments of `courtesy directory`.
#[derive(Debug, clap::Args)]
pub struct DirectoryArgs {
    #[command(subcommand)]
    command: DirectoryCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DirectoryCommand {
    /// Print the merged people and where each field came from.
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// Service configuration with the `directory:` section.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_CONFIG)]
    config: PathBuf,
    /// House policy whose `people` entries are laid over the directory.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Use the snapshot the service saved; do not contact the sources.
    #[arg(long)]
    cached: bool,
}

/// The part of the service configuration this command reads; the rest is
/// the service's business.
#[derive(serde::Deserialize)]
struct ServiceView {
    directory: Option<DirectoryConfig>,
}

/// The part of the policy this command reads, as written: validation is
/// `courtesy check`'s job.
#[derive(serde::Deserialize)]
struct PolicyView {
    #[serde(default)]
    people: Vec<PolicyPersonInput>,
}

/// Runs `courtesy directory`.
pub fn run(args: DirectoryArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DirectoryCommand::Show(show) => run_show(show),
    }
}

fn read_yaml<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_saphyr::from_str(&text).with_context(|| format!("{}", path.display()))
}

fn run_show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let service: ServiceView = read_yaml(&args.config)?;
    let config = service
        .directory
        .with_context(|| format!("{} has no `directory:` section", args.config.display()))?;
    config.validate()?;
    let policy_people = match &args.policy {
        Some(path) => read_yaml::<PolicyView>(path)?.people,
        None => Vec::new(),
    };

    let (snapshot, live, warnings, notice) = if args.cached {
        let saved = Snapshot::load(&config.state_dir)?
            .with_context(|| format!("no saved snapshot in {}", config.state_dir.display()))?;
        (saved, false, Vec::new(), None)
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let sources = sources_from_config(&config);
        match runtime.block_on(fetch_all(&sources, config.timeout)) {
            Ok((people, warnings)) => {
                let snapshot = Snapshot { taken_at: time::OffsetDateTime::now_utc(), people };
                (snapshot, true, warnings, None)
            }
            Err(error) => {
                let saved = Snapshot::load(&config.state_dir)?.with_context(|| {
                    format!(
                        "{error}, and there is no saved snapshot in {}",
                        config.state_dir.display()
                    )
                })?;
                (saved, false, Vec::new(), Some(format!("{error}; showing the saved snapshot")))
            }
        }
    };
    let merged = merge(&snapshot, &policy_people);

    let mut out = std::io::stdout().lock();
    if let Some(notice) = &notice {
        eprintln!("courtesy: {notice}");
    }
    if args.json {
        let value = json!({
            "taken_at": snapshot.taken_at.format(&time::format_description::well_known::Rfc3339)?,
            "live": live,
            "people": merged.people,
            "issues": merged.issues.iter().map(|i| {
                let mut v = serde_json::to_value(i).unwrap_or_default();
                if let Some(map) = v.as_object_mut() {
                    map.insert("message".into(), i.to_string().into());
                }
                v
            }).collect::<Vec<_>>(),
            "source_warnings": warnings,
        });
        writeln!(out, "{value}")?;
    } else {
        print_text(&mut out, &snapshot, live, &merged, &warnings)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(
    out: &mut impl Write,
    snapshot: &Snapshot,
    live: bool,
    merged: &MergedPeople,
    warnings: &[String],
) -> anyhow::Result<()> {
    let when = snapshot.taken_at.format(&time::format_description::well_known::Rfc3339)?;
    let how = if live { "read now" } else { "saved snapshot" };
    writeln!(out, "{} people ({how}, taken {when})", merged.people.len())?;
    for person in &merged.people {
        print_person(out, person)?;
    }
    if !merged.issues.is_empty() {
        writeln!(out, "\nTo look at:")?;
        for issue in &merged.issues {
            writeln!(out, "  - {issue}")?;
        }
    }
    if !warnings.is_empty() {
        writeln!(out, "\nLeft out by the sources:")?;
        for warning in warnings {
            writeln!(out, "  - {warning}")?;
        }
    }
    Ok(())
}

fn print_person(out: &mut impl Write, p: &MergedPerson) -> std::io::Result<()> {
    let ids = if p.other_ids.is_empty() {
        p.id.clone()
    } else {
        format!("{} (also {})", p.id, p.other_ids.join(", "))
    };
    writeln!(out, "\n{ids}")?;
    let mut row = |label: &str, field: &Sourced<String>| {
        writeln!(out, "  {label:<11} {:<40} {}", field.value, field.from)
    };
    row("name", &p.name)?;
    row("email", &p.email)?;
    for alias in &p.aliases {
        row("alias", alias)?;
    }
    for (label, field) in [
        ("phone", &p.phone),
        ("mobile", &p.mobile),
        ("department", &p.department),
        ("substitute", &p.substitute),
    ] {
        if let Some(field) = field {
            row(label, field)?;
        }
    }
    Ok(())
}
