//! `courtesy audit`: verify, show and report the audit log.
//!
//! The compliance workflow is verify → show → report: `verify` proves the
//! log is complete and unaltered, `show` finds the messages in question,
//! `report` produces the page and the spreadsheet to hand on.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{EXIT_FINDINGS, EXIT_USAGE};
use crate::audit::chain::Algorithm;
use crate::audit::query::{self, Filter, MessageView};
use crate::audit::read::{self, CollectError, LogFile};
use crate::audit::report;
use crate::audit::verify::{self, BreakKind, VerifyOptions};

/// Where the log is when no path is given.
const DEFAULT_DIR: &str = "audit";

/// Arguments of `courtesy audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Check the hash chains; exit 0 when intact, 1 when broken, 2 on bad arguments.
    Verify(VerifyArgs),
    /// List message records, one line each (or as JSON lines).
    Show(ShowArgs),
    /// Write the compliance report as HTML and/or CSV.
    Report(ReportArgs),
}

/// Log files or directories (default: ./audit).
#[derive(Debug, clap::Args)]
struct Paths {
    /// Log files or directories holding them (default: ./audit).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

impl Paths {
    fn collect(&self) -> Result<Vec<(String, Vec<LogFile>)>, CollectError> {
        if self.paths.is_empty() {
            read::collect(&[PathBuf::from(DEFAULT_DIR)])
        } else {
            read::collect(&self.paths)
        }
    }
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// Key file of an HMAC chain (the audit `key_file`).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Accept chains whose first files were archived: start at the first record present.
    #[arg(long)]
    partial: bool,
    #[command(flatten)]
    paths: Paths,
}

/// Time and content filters shared by `show` and `report`.
#[derive(Debug, clap::Args)]
struct Period {
    /// Only records at or after this time (RFC 3339, or YYYY-MM-DD in UTC).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only records before this time (RFC 3339), or up to the end of this day (YYYY-MM-DD).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    #[command(flatten)]
    period: Period,
    /// Only messages whose envelope sender, person or team contains this text.
    #[arg(long, value_name = "TEXT")]
    sender: Option<String>,
    /// Only messages where this rule fired.
    #[arg(long, value_name = "RULE")]
    rule: Option<String>,
    /// Print the records (message and verdict) as stored, one JSON object per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    paths: Paths,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("out").required(true).multiple(true)))]
struct ReportArgs {
    /// Write the HTML report here.
    #[arg(long, value_name = "OUT.html", group = "out")]
    html: Option<PathBuf>,
    /// Write the CSV export here.
    #[arg(long, value_name = "OUT.csv", group = "out")]
    csv: Option<PathBuf>,
    #[command(flatten)]
    period: Period,
    #[command(flatten)]
    paths: Paths,
}

/// Runs `courtesy audit`.
pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::Verify(a) => run_verify(a),
        AuditCommand::Show(a) => run_show(a),
        AuditCommand::Report(a) => run_report(a),
    }
}

fn usage(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("courtesy audit: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

fn run_verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let groups = match args.paths.collect() {
        Ok(groups) => groups,
        Err(error) => return usage(error),
    };
    let key = match &args.key {
        Some(path) => match Algorithm::from_key_file(path) {
            Ok(alg) => Some(alg),
            Err(error) => return usage(error),
        },
        None => None,
    };
    let options = VerifyOptions { key, partial: args.partial };
    let mut out = std::io::stdout().lock();
    let (mut broken, mut key_needed) = (false, false);
    for (instance, files) in &groups {
        let report = verify::verify_chain(instance, files, &options)
            .with_context(|| format!("reading the log of instance {instance}"))?;
        for note in &report.notes {
            writeln!(out, "{instance}: note: {note}")?;
        }
        match &report.problem {
            None => {
                let range = report
                    .seq_range
                    .map_or_else(|| "no records".into(), |(a, b)| format!("seq {a}..{b}"));
                writeln!(
                    out,
                    "{instance}: intact: {} records ({range}) in {} file(s), {}",
                    report.records, report.files, report.alg
                )?;
            }
            Some(problem) => {
                broken = true;
                key_needed |= problem.kind == BreakKind::KeyNeeded;
                writeln!(
                    out,
                    "{instance}: BROKEN at {}:{}: {}: {}",
                    problem.file.display(),
                    problem.line,
                    problem.kind.label(),
                    problem.detail
                )?;
                if report.records > 0 {
                    writeln!(
                        out,
                        "{instance}: {} records verified before the break",
                        report.records
                    )?;
                }
            }
        }
    }
    Ok(match (key_needed, broken) {
        (true, _) => ExitCode::from(EXIT_USAGE),
        (false, true) => ExitCode::from(EXIT_FINDINGS),
        (false, false) => ExitCode::SUCCESS,
    })
}

fn period_filter(period: &Period) -> Result<Filter, String> {
    Ok(Filter {
        since: period.since.as_deref().map(|s| query::parse_bound(s, false)).transpose()?,
        until: period.until.as_deref().map(|s| query::parse_bound(s, true)).transpose()?,
        sender: None,
        rule: None,
    })
}

/// Loads the messages that pass the filter, warning about unreadable lines.
fn select(groups: &[(String, Vec<LogFile>)], filter: &Filter) -> anyhow::Result<Vec<MessageView>> {
    let loaded = query::load(groups).context("reading the audit log")?;
    if let Some((file, line)) = loaded.unreadable.first() {
        eprintln!(
            "courtesy audit: warning: {} unreadable line(s), first at {}:{line}; run `courtesy audit verify`",
            loaded.unreadable.len(),
            file.display()
        );
    }
    Ok(loaded.messages.into_iter().filter(|m| filter.matches(m)).collect())
}

fn run_show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let mut filter = match period_filter(&args.period) {
        Ok(filter) => filter,
        Err(error) => return usage(error),
    };
    filter.sender = args.sender;
    filter.rule = args.rule;
    let groups = match args.paths.collect() {
        Ok(groups) => groups,
        Err(error) => return usage(error),
    };
    let messages = select(&groups, &filter)?;
    let mut out = std::io::stdout().lock();
    for view in &messages {
        if args.json {
            for line in &view.lines {
                writeln!(out, "{line}")?;
            }
        } else {
            writeln!(out, "{}", query::summary_line(view))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let filter = match period_filter(&args.period) {
        Ok(filter) => filter,
        Err(error) => return usage(error),
    };
    let groups = match args.paths.collect() {
        Ok(groups) => groups,
        Err(error) => return usage(error),
    };
    let messages = select(&groups, &filter)?;
    if let Some(path) = &args.html {
        let period = match (&args.period.since, &args.period.until) {
            (None, None) => "all records".to_string(),
            (since, until) => format!(
                "{} to {}",
                since.as_deref().unwrap_or("start"),
                until.as_deref().unwrap_or("end")
            ),
        };
        let generated = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
        let html = report::render_html(&report::build(&messages, &period, &generated))?;
        std::fs::write(path, html).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.csv {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        report::write_csv(&messages, std::io::BufWriter::new(file))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("courtesy audit: {} message(s) in the report", messages.len());
    Ok(ExitCode::SUCCESS)
}
