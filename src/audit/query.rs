//! Reads message records back with their verdicts, and filters them for
//! `courtesy audit show` and the report. Reading does not verify the chain;
//! `courtesy audit verify` does that, and the compliance workflow runs it
//! first.

use std::collections::HashMap;
use std::path::PathBuf;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use super::read::{self, LogFile};
use super::record::{MessageRecord, Record, RecordBody};

/// A message record with the verdict that followed it.
#[derive(Debug, Clone)]
pub struct MessageView {
    /// The instance that wrote it.
    pub instance: String,
    /// Its sequence number.
    pub seq: u64,
    /// When it was written.
    pub time: OffsetDateTime,
    /// The record as stored (RFC 3339 text).
    pub time_text: String,
    /// The decision.
    pub message: MessageRecord,
    /// The upstream's reply code and text, when a verdict record follows.
    pub verdict: Option<(u16, String)>,
    /// The message line and its verdict line exactly as stored.
    pub lines: Vec<String>,
}

/// What `load` read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Message records, per instance in chain order, instances by name.
    pub messages: Vec<MessageView>,
    /// Lines that are not records (run `verify` to find out why).
    pub unreadable: Vec<(PathBuf, usize)>,
}

/// Reads every message record (and verdict) from grouped log files.
pub fn load(groups: &[(String, Vec<LogFile>)]) -> std::io::Result<Loaded> {
    let mut loaded = Loaded::default();
    for (_, files) in groups {
        let mut by_seq: HashMap<u64, usize> = HashMap::new();
        for file in files {
            let data = std::fs::read(&file.path)?;
            let (lines, torn) = read::lines(&data);
            if torn.is_some() {
                loaded.unreadable.push((file.path.clone(), lines.len() + 1));
            }
            for line in lines {
                let Ok((record, _)) = read::parse_record(line.bytes) else {
                    loaded.unreadable.push((file.path.clone(), line.number));
                    continue;
                };
                let text = String::from_utf8_lossy(line.bytes).into_owned();
                add(&mut loaded.messages, &mut by_seq, record, text);
            }
        }
    }
    Ok(loaded)
}

fn add(messages: &mut Vec<MessageView>, by_seq: &mut HashMap<u64, usize>, r: Record, text: String) {
    match r.body {
        RecordBody::Message(message) => {
            let Ok(time) = OffsetDateTime::parse(&r.time, &Rfc3339) else {
                return;
            };
            by_seq.insert(r.seq, messages.len());
            messages.push(MessageView {
                instance: r.instance,
                seq: r.seq,
                time,
                time_text: r.time,
                message: *message,
                verdict: None,
                lines: vec![text],
            });
        }
        RecordBody::Verdict { message_seq, code, text: reply } => {
            if let Some(view) = by_seq.get(&message_seq).and_then(|i| messages.get_mut(*i)) {
                view.verdict = Some((code, reply));
                view.lines.push(text);
            }
        }
        RecordBody::Start { .. } | RecordBody::Recovery { .. } => {}
    }
}

/// Which messages to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only records at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only records before this time.
    pub until: Option<OffsetDateTime>,
    /// Case-insensitive substring of the envelope sender or of the policy
    /// person/team id or name.
    pub sender: Option<String>,
    /// Exact rule id that must have fired.
    pub rule: Option<String>,
}

impl Filter {
    /// Whether a message passes the filter.
    pub fn matches(&self, view: &MessageView) -> bool {
        if self.since.is_some_and(|since| view.time < since)
            || self.until.is_some_and(|until| view.time >= until)
        {
            return false;
        }
        if let Some(rule) = &self.rule
            && !view.message.rules.iter().any(|r| r == rule)
        {
            return false;
        }
        if let Some(wanted) = &self.sender {
            let wanted = wanted.to_lowercase();
            let sender = view.message.sender.as_ref();
            let haystacks = [
                Some(view.message.mail_from.as_str()),
                sender.map(|s| s.id.as_str()),
                sender.map(|s| s.name.as_str()),
            ];
            if !haystacks.into_iter().flatten().any(|h| h.to_lowercase().contains(&wanted)) {
                return false;
            }
        }
        true
    }
}

/// Parses a `--since`/`--until` bound: RFC 3339, or a date `YYYY-MM-DD`
/// meaning the start of that day (UTC) for `--since` and the end of it for
/// `--until`, so `--since D --until D` is the whole day.
pub fn parse_bound(text: &str, until: bool) -> Result<OffsetDateTime, String> {
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(time);
    }
    let date = Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| format!("{text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"))?;
    let day = if until { date.next_day().unwrap_or(date) } else { date };
    Ok(day.with_time(Time::MIDNIGHT).assume_utc())
}

/// One readable line for a terminal: time, sender, person/team, rules,
/// disposition, verdict.
pub fn summary_line(view: &MessageView) -> String {
    let m = &view.message;
    let who = m.sender.as_ref().map_or_else(|| "-".to_string(), |s| format!("{}:{}", s.kind, s.id));
    let rules = if m.rules.is_empty() { "-".to_string() } else { m.rules.join(",") };
    let mut disposition = m.disposition.clone();
    if let Some(skip) = &m.skip {
        disposition = format!("{disposition}({})", skip.reason);
    }
    let verdict = view.verdict.as_ref().map_or_else(
        || "no verdict".to_string(),
        |(code, text)| format!("{code} {}", first_line(text)),
    );
    let from = if m.mail_from.is_empty() { "<>" } else { &m.mail_from };
    format!("{}  {from}  {who}  {rules}  {disposition}  {verdict}", view.time_text)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_bounds_cover_whole_days() {
        let since = parse_bound("2026-11-23", false).unwrap();
        let until = parse_bound("2026-11-23", true).unwrap();
        assert_eq!((until - since).whole_hours(), 24);
        let exact = parse_bound("2026-11-23T10:00:00+01:00", false).unwrap();
        assert_eq!(exact.unix_timestamp() - since.unix_timestamp(), 9 * 3600);
        assert!(parse_bound("yesterday", false).is_err());
    }
}
