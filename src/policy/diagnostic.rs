//! Errors and warnings about a policy file, in the words of the manager who
//! maintains it: where (`file:line:column`), what is wrong, and how to fix it.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The policy cannot be used.
    Error,
    /// The policy works, but something is probably missing.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding in a policy file.
///
/// `Display` gives `file:line:column: message` and, when there is a hint, a
/// second line `  help: hint`. [`Diagnostic::render`] adds the source line
/// with a caret under the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Path or label of the policy file.
    pub file: String,
    /// 1-based line; 0 when the finding concerns the file as a whole.
    pub line: usize,
    /// 1-based column in characters; 0 when unknown.
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// Shows the finding with the offending source line and a caret under the
    /// column, the way compilers and linters do.
    pub fn render(&self, source: &str) -> String {
        let mut out = format!(
            "{}:{}:{}: {}: {}\n",
            self.file, self.line, self.column, self.severity, self.message
        );
        let line_text = self.line.checked_sub(1).and_then(|i| source.lines().nth(i));
        if let Some(text) = line_text {
            let text = text.trim_end_matches('\r');
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            out.push_str(&format!("{pad} |\n{gutter} | {text}\n"));
            if self.column > 0 {
                let (lead, width) = caret_geometry(text, self.column);
                out.push_str(&format!("{pad} | {lead}{}\n", "^".repeat(width)));
            }
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  help: {hint}\n"));
        }
        out
    }
}

/// The whitespace before the caret (tabs kept so it lines up) and how many
/// characters to underline: the token that starts at the column.
fn caret_geometry(text: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let start = (column - 1).min(chars.len());
    let lead: String = chars[..start].iter().map(|&c| if c == '\t' { '\t' } else { ' ' }).collect();
    let rest = &chars[start..];
    let width = match rest.first() {
        None => 1,
        Some(&q @ ('"' | '\'')) => {
            rest.iter().skip(1).position(|&c| c == q).map_or(rest.len(), |end| end + 2)
        }
        Some(_) => rest
            .iter()
            .position(|&c| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#'))
            .unwrap_or(rest.len())
            .max(1),
    };
    (lead, width)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // About the file as a whole (or the directory's data): no position.
            write!(f, "{}: {}", self.file, self.message)?;
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {hint}")?;
        }
        Ok(())
    }
}

/// Why a policy could not be loaded: every error found in one run, plus the
/// warnings found alongside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors {
    /// The findings, sorted by position; at least one is an error.
    pub diagnostics: Vec<Diagnostic>,
}

impl PolicyErrors {
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    /// Whether the file itself could not be read (as opposed to being invalid).
    pub fn is_unreadable(&self) -> bool {
        self.diagnostics.len() == 1
            && self.diagnostics[0].line == 0
            && self.diagnostics[0].severity == Severity::Error
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(line: usize, column: usize, hint: Option<&str>) -> Diagnostic {
        Diagnostic {
            file: "p.yaml".into(),
            line,
            column,
            severity: Severity::Error,
            message: "unknown person `nadja`".into(),
            hint: hint.map(str::to_owned),
        }
    }

    #[test]
    fn display_is_location_message_and_help_line() {
        let d = diag(3, 17, Some("did you mean `nadia`?"));
        assert_eq!(
            d.to_string(),
            "p.yaml:3:17: unknown person `nadja`\n  help: did you mean `nadia`?"
        );
        assert_eq!(diag(3, 17, None).to_string(), "p.yaml:3:17: unknown person `nadja`");
    }

    #[test]
    fn render_underlines_the_token_at_the_column() {
        let source = "people:\n  - id: x\n    substitute: nadja   # away\n";
        let out = diag(3, 17, Some("did you mean `nadia`?")).render(source);
        assert_eq!(
            out,
            "p.yaml:3:17: error: unknown person `nadja`\n  |\n3 |     substitute: nadja   # away\n  |                 ^^^^^\n  help: did you mean `nadia`?\n"
        );
    }

    #[test]
    fn render_underlines_a_quoted_value_with_its_quotes() {
        let source = "phone: \"+31 30\" # x";
        let out = diag(1, 8, None).render(source);
        assert!(out.contains("\n  |        ^^^^^^^^\n"), "{out}");
    }

    #[test]
    fn display_without_position_names_only_the_file() {
        let mut d = diag(0, 0, None);
        d.severity = Severity::Warning;
        assert_eq!(d.to_string(), "p.yaml: unknown person `nadja`");
        assert!(!PolicyErrors { diagnostics: vec![d] }.is_unreadable());
    }

    #[test]
    fn render_without_position_shows_no_source() {
        let out = diag(0, 0, None).render("a: b\n");
        assert_eq!(out, "p.yaml:0:0: error: unknown person `nadja`\n");
    }

    #[test]
    fn errors_display_lists_all() {
        let e = PolicyErrors { diagnostics: vec![diag(1, 1, None), diag(2, 1, None)] };
        assert_eq!(e.to_string().lines().count(), 2);
        assert_eq!(e.errors().count(), 2);
    }
}
