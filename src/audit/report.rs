//! The compliance report: one self-contained HTML page (inline CSS, no
//! scripts, no external assets, every text escaped by the template engine)
//! and a CSV export for spreadsheets.

use std::collections::BTreeMap;

use serde::Serialize;

use super::query::MessageView;
use super::sidebyside::{self, Row};

/// The page template; the `.html` name turns on minijinja's autoescape.
const TEMPLATE: &str = include_str!("report.html");
const TEMPLATE_NAME: &str = "report.html";

/// Errors producing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The template failed (a bug in the template, not in the data).
    #[error("report template: {0}")]
    Template(#[from] minijinja::Error),
    /// Writing the CSV failed.
    #[error("CSV export: {0}")]
    Csv(#[from] csv::Error),
}

/// Counts per disposition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All messages.
    pub total: u64,
    /// Rewritten and forwarded.
    pub rewritten: u64,
    /// Would have been rewritten (observe mode).
    pub observed: u64,
    /// Recognised but left alone.
    pub skipped: u64,
}

impl Counts {
    fn add(&mut self, disposition: &str) {
        self.total += 1;
        match disposition {
            "rewritten" => self.rewritten += 1,
            "observed" => self.observed += 1,
            _ => self.skipped += 1,
        }
    }
}

/// The report's figures and items, as the template sees them.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Human-readable period covered.
    pub period: String,
    /// When the report was made.
    pub generated: String,
    /// All messages.
    pub totals: Counts,
    /// Per rule id.
    pub per_rule: Vec<(String, Counts)>,
    /// Per person or team (`name (kind id)`, or the envelope sender).
    pub per_sender: Vec<(String, Counts)>,
    /// Per UTC day.
    pub per_day: Vec<(String, Counts)>,
    /// Every message, in order.
    pub items: Vec<Item>,
}

/// One message in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// Anchor id.
    pub anchor: String,
    /// Record time.
    pub time: String,
    /// Instance and seq, for finding the record.
    pub instance: String,
    /// Sequence number.
    pub seq: u64,
    /// Message-ID.
    pub message_id: String,
    /// Envelope sender.
    pub mail_from: String,
    /// Recipients, comma-separated.
    pub rcpt_to: String,
    /// Person or team.
    pub sender: String,
    /// Rules that fired.
    pub rules: Vec<String>,
    /// Disposition.
    pub disposition: String,
    /// Skip reason with detail.
    pub skip: String,
    /// Signal names with evidence.
    pub signals: Vec<String>,
    /// Upstream verdict.
    pub verdict: String,
    /// Per text part.
    pub parts: Vec<PartView>,
}

/// One text part of a message in the report.
#[derive(Debug, Clone, Serialize)]
pub struct PartView {
    /// Content type.
    pub content_type: String,
    /// Rules applied to it.
    pub rules: Vec<String>,
    /// `unified`, `fragments` or `none`.
    pub mode: String,
    /// Side-by-side rows (unified mode).
    pub rows: Vec<Row>,
    /// Removed fragments (fragments mode).
    pub removed: Vec<String>,
    /// Inserted fragments (fragments mode).
    pub inserted: Vec<String>,
}

/// Builds the report data from the selected messages.
pub fn build(messages: &[MessageView], period: &str, generated: &str) -> Report {
    let mut totals = Counts::default();
    let mut per_rule: BTreeMap<String, Counts> = BTreeMap::new();
    let mut per_sender: BTreeMap<String, Counts> = BTreeMap::new();
    let mut per_day: BTreeMap<String, Counts> = BTreeMap::new();
    for view in messages {
        let m = &view.message;
        totals.add(&m.disposition);
        for rule in &m.rules {
            per_rule.entry(rule.clone()).or_default().add(&m.disposition);
        }
        per_sender.entry(sender_label(view)).or_default().add(&m.disposition);
        let day = view.time.date().to_string();
        per_day.entry(day).or_default().add(&m.disposition);
    }
    Report {
        period: period.to_string(),
        generated: generated.to_string(),
        totals,
        per_rule: per_rule.into_iter().collect(),
        per_sender: per_sender.into_iter().collect(),
        per_day: per_day.into_iter().collect(),
        items: messages.iter().map(item).collect(),
    }
}

fn sender_label(view: &MessageView) -> String {
    match &view.message.sender {
        Some(s) => format!("{} ({} {})", s.name, s.kind, s.id),
        None if view.message.mail_from.is_empty() => "<> (not in policy)".to_string(),
        None => format!("{} (not in policy)", view.message.mail_from),
    }
}

fn item(view: &MessageView) -> Item {
    let m = &view.message;
    Item {
        anchor: format!("{}-{}", view.instance, view.seq),
        time: view.time_text.clone(),
        instance: view.instance.clone(),
        seq: view.seq,
        message_id: m.message_id.clone().unwrap_or_default(),
        mail_from: if m.mail_from.is_empty() { "<>".into() } else { m.mail_from.clone() },
        rcpt_to: m.rcpt_to.join(", "),
        sender: sender_label(view),
        rules: m.rules.clone(),
        disposition: m.disposition.clone(),
        skip: m.skip.as_ref().map_or_else(String::new, |s| match &s.detail {
            Some(detail) => format!("{}: {detail}", s.reason),
            None => s.reason.clone(),
        }),
        signals: m
            .classification
            .signals
            .iter()
            .map(|s| format!("{} ({})", s.name, s.evidence))
            .collect(),
        verdict: view
            .verdict
            .as_ref()
            .map_or_else(|| "no verdict recorded".into(), |(code, text)| format!("{code} {text}")),
        parts: m
            .changes
            .iter()
            .map(|c| PartView {
                content_type: c.content_type.clone(),
                rules: c.rules.clone(),
                mode: match (&c.diff, &c.inserted) {
                    (Some(_), _) => "unified",
                    (None, Some(_)) => "fragments",
                    (None, None) => "none",
                }
                .to_string(),
                rows: c.diff.as_deref().map(sidebyside::rows).unwrap_or_default(),
                removed: c.removed.clone().unwrap_or_default(),
                inserted: c.inserted.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

/// Renders the HTML page.
pub fn render_html(report: &Report) -> Result<String, ReportError> {
    let mut env = minijinja::Environment::new();
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    let context = template_value(serde_json::to_value(report).unwrap_or_default());
    Ok(env.get_template(TEMPLATE_NAME)?.render(context)?)
}

/// minijinja is built without its serde feature, so the report goes in
/// through JSON values, which it knows how to take.
fn template_value(value: serde_json::Value) -> minijinja::Value {
    use minijinja::Value;
    match value {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(b),
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(i)) => Value::from(i),
            (None, None) => Value::from(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(items) => {
            Value::from(items.into_iter().map(template_value).collect::<Vec<_>>())
        }
        serde_json::Value::Object(map) => Value::from(
            map.into_iter().map(|(k, v)| (k, template_value(v))).collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// Writes one CSV row per message.
pub fn write_csv<W: std::io::Write>(messages: &[MessageView], out: W) -> Result<(), ReportError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "time",
        "instance",
        "seq",
        "message_id",
        "mail_from",
        "rcpt_to",
        "sender_kind",
        "sender_id",
        "sender_name",
        "auto_reply",
        "team_signature",
        "language",
        "rules",
        "disposition",
        "skip_reason",
        "verdict_code",
        "verdict_text",
        "sha256_before",
        "sha256_after",
        "policy_revision",
        "policy_sha256",
    ])?;
    for view in messages {
        let m = &view.message;
        let sender = m.sender.as_ref();
        let (code, text) = view
            .verdict
            .as_ref()
            .map_or((String::new(), String::new()), |(c, t)| (c.to_string(), t.clone()));
        let row = [
            view.time_text.as_str(),
            &view.instance,
            &view.seq.to_string(),
            m.message_id.as_deref().unwrap_or(""),
            &m.mail_from,
            &m.rcpt_to.join(";"),
            sender.map_or("", |s| s.kind.as_str()),
            sender.map_or("", |s| s.id.as_str()),
            sender.map_or("", |s| s.name.as_str()),
            &m.classification.auto_reply.to_string(),
            &m.classification.team_signature.to_string(),
            &m.classification.language,
            &m.rules.join(";"),
            &m.disposition,
            m.skip.as_ref().map_or("", |s| s.reason.as_str()),
            &code,
            &text,
            &m.sha256_before,
            &m.sha256_after,
            m.policy.revision.as_deref().unwrap_or(""),
            &m.policy.sha256,
        ];
        writer.write_record(row.map(csv_safe))?;
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(())
}

/// Spreadsheets run cells starting with `=`, `+`, `-` or `@` as formulas;
/// addresses, ids and reply texts come from outside, so they are defused.
fn csv_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() }
}
