//! Checks of single values (names, ids, addresses, domains, phone numbers)
//! and the collector that gathers every finding of one load.

use serde_saphyr::Location;

use super::diagnostic::{Diagnostic, Severity};
use super::raw::Text;

/// Longest single-line value (names, phone numbers, promises), in characters.
const MAX_LINE_CHARS: usize = 200;

/// Collects findings so that one run reports all of them.
pub(crate) struct Checker {
    file: String,
    /// Everything found so far, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

/// A 1-based line and column from a parser location.
pub(crate) fn position(at: &Location) -> (usize, usize) {
    (usize::try_from(at.line()).unwrap_or(0), usize::try_from(at.column()).unwrap_or(0))
}

impl Checker {
    /// A collector for findings in `file`.
    pub fn new(file: &str) -> Checker {
        Checker { file: file.to_owned(), diagnostics: Vec::new() }
    }

    /// Records an error at a position.
    pub fn error_at(&mut self, line: usize, column: usize, message: String, hint: Option<String>) {
        self.push(line, column, Severity::Error, message, hint);
    }

    /// Records an error at a parser location.
    pub fn error(&mut self, at: &Location, message: String, hint: Option<String>) {
        let (line, column) = position(at);
        self.push(line, column, Severity::Error, message, hint);
    }

    /// Records a warning at a parser location.
    pub fn warn(&mut self, at: &Location, message: String, hint: Option<String>) {
        let (line, column) = position(at);
        self.push(line, column, Severity::Warning, message, hint);
    }

    /// Records a warning about the file as a whole (line 0): for findings
    /// in the directory's data, which has no position in the file.
    pub fn warn_file(&mut self, message: String, hint: Option<String>) {
        self.push(0, 0, Severity::Warning, message, hint);
    }

    fn push(
        &mut self,
        line: usize,
        column: usize,
        severity: Severity,
        message: String,
        hint: Option<String>,
    ) {
        let file = self.file.clone();
        self.diagnostics.push(Diagnostic { file, line, column, severity, message, hint });
    }

    /// Whether any error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    /// A value that must fit on one line: trimmed, not empty, no control
    /// characters. Line breaks are refused because values end up in mail
    /// text and headers, where a CR or LF could inject content.
    pub fn line(&mut self, t: &Text, what: &str) -> Option<String> {
        let value = t.value.trim();
        if value.chars().any(|c| c == '\r' || c == '\n') {
            self.error(
                &t.referenced,
                format!("{what} contains a line break"),
                Some("write it on one line; in YAML use a plain or quoted value, not `|`".into()),
            );
            return None;
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            self.error(
                &t.referenced,
                format!("{what} contains the control character {:?}", c),
                Some("remove it; only printable characters are allowed".into()),
            );
            return None;
        }
        if value.is_empty() {
            self.error(
                &t.referenced,
                format!("{what} is empty"),
                Some("fill it in, or leave the key out if it is optional".into()),
            );
            return None;
        }
        if value.chars().count() > MAX_LINE_CHARS {
            self.error(
                &t.referenced,
                format!("{what} is longer than {MAX_LINE_CHARS} characters"),
                Some("shorten it".into()),
            );
            return None;
        }
        Some(value.to_owned())
    }

    /// An id: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
    pub fn id(&mut self, t: &Text, what: &str) -> Option<String> {
        let value = self.line(t, what)?;
        let mut chars = value.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            self.error(
                &t.referenced,
                format!("{what} `{value}` is not a valid id"),
                Some(
                    "use letters, digits, `-`, `_` or `.`, e.g. `maarten` or `team-incasso`".into(),
                ),
            );
            return None;
        }
        Some(value)
    }

    /// An e-mail address, lower-cased.
    pub fn email(&mut self, t: &Text, what: &str) -> Option<String> {
        let value = self.line(t, what)?;
        match check_email(&value) {
            Ok(address) => Some(address),
            Err(reason) => {
                self.error(
                    &t.referenced,
                    format!("{what} `{value}` is not a valid e-mail address: {reason}"),
                    Some(
                        "write a plain address like `naam@voorbeeld.nl`, without name or <>".into(),
                    ),
                );
                None
            }
        }
    }

    /// A mail domain, lower-cased.
    pub fn domain(&mut self, t: &Text, what: &str) -> Option<String> {
        let value = self.line(t, what)?;
        let bare = value.strip_prefix('@').unwrap_or(&value);
        match check_domain(bare) {
            Ok(domain) => Some(domain),
            Err(reason) => {
                self.error(
                    &t.referenced,
                    format!("{what} `{value}` is not a valid domain: {reason}"),
                    Some(
                        "write a domain like `voorbeeld.nl` (international names in xn-- form)"
                            .into(),
                    ),
                );
                None
            }
        }
    }

    /// A phone number as people write it: digits, spaces and `+ - ( ) . /`.
    pub fn phone(&mut self, t: &Text, what: &str) -> Option<String> {
        let value = self.line(t, what)?;
        let allowed =
            |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '/');
        let body = value.strip_prefix('+').unwrap_or(&value);
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let problem = if !body.chars().all(allowed) {
            Some("it may only contain digits, spaces and `+ - ( ) . /`")
        } else if !(6..=20).contains(&digits) {
            Some("it should have between 6 and 20 digits")
        } else {
            None
        };
        match problem {
            None => Some(value),
            Some(reason) => {
                self.error(
                    &t.referenced,
                    format!("{what} `{value}` is not a valid phone number: {reason}"),
                    Some(
                        "write it as callers should dial it, e.g. \"+31 30 555 0100\" (in quotes)"
                            .into(),
                    ),
                );
                None
            }
        }
    }
}

/// Checks an address (`local@domain`) and lower-cases it.
pub(crate) fn check_email(address: &str) -> Result<String, &'static str> {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err("it has no `@`");
    };
    if local.is_empty() {
        return Err("nothing before the `@`");
    }
    if local.len() > 64 {
        return Err("the part before the `@` is longer than 64 characters");
    }
    let local_ok = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
    if !local.chars().all(local_ok)
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err("the part before the `@` has characters that are not allowed");
    }
    let domain = check_domain(domain)?;
    Ok(format!("{}@{domain}", local.to_ascii_lowercase()))
}

/// Checks a DNS domain name (at least two labels) and lower-cases it.
pub(crate) fn check_domain(domain: &str) -> Result<String, &'static str> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return Err("it is empty");
    }
    if domain.len() > 253 {
        return Err("it is longer than 253 characters");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("it needs at least one dot, e.g. `voorbeeld.nl`");
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err("each part between dots must be 1 to 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err("it may only contain letters, digits, `-` and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a part may not start or end with `-`");
        }
    }
    if labels.last().is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit())) {
        return Err("the last part may not be a number");
    }
    Ok(domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            check_email("Maarten@Hoekstra-Advies.NL"),
            Ok("maarten@hoekstra-advies.nl".into())
        );
        assert_eq!(
            check_email("first.last+tag@mail.example.co.uk").as_deref(),
            Ok("first.last+tag@mail.example.co.uk")
        );
        assert_eq!(check_email("maarten.hoekstra-advies.nl"), Err("it has no `@`"));
        assert_eq!(check_email("@x.nl"), Err("nothing before the `@`"));
        assert!(check_email("Maarten <m@x.nl>").is_err());
        assert!(check_email("m@x").is_err());
        assert!(check_email("a..b@x.nl").is_err());
    }

    #[test]
    fn domains() {
        assert_eq!(check_domain("Hoekstra-Advies.nl."), Ok("hoekstra-advies.nl".into()));
        assert_eq!(check_domain("xn--bcher-kva.de").as_deref(), Ok("xn--bcher-kva.de"));
        assert!(check_domain("-a.nl").is_err());
        assert!(check_domain("a..nl").is_err());
        assert!(check_domain("bücher.de").is_err());
        assert!(check_domain("10.0.0.1").is_err());
    }
}
