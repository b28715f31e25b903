//! Where the console gets the policy: a closure the host provides. The
//! relay hands over its live policy and the last reload error; the
//! standalone console re-reads the file when it changes, so a manager who
//! saves the YAML sees the result on the next page load.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::policy::{self, Diagnostic, Policy};

/// The policy in force and what is wrong with the file, if anything.
#[derive(Debug, Clone)]
pub struct PolicyStatus {
    /// The policy in force: the last valid one.
    pub policy: Option<Arc<Policy>>,
    /// Warnings found when it was loaded.
    pub warnings: Vec<Diagnostic>,
    /// The errors of the last load or reload that failed, as `courtesy
    /// check` prints them (`file:line:column: what, help: how`).
    pub errors: Option<String>,
}

impl PolicyStatus {
    /// A policy in force with no reload problem.
    pub fn live(policy: Arc<Policy>) -> PolicyStatus {
        PolicyStatus { policy: Some(policy), warnings: Vec::new(), errors: None }
    }
}

/// Reads the current status; called once per request.
pub type PolicyReader = Arc<dyn Fn() -> PolicyStatus + Send + Sync>;

/// A reader for the built-in example policy.
pub fn example_reader() -> PolicyReader {
    let loaded = policy::example();
    let status = PolicyStatus {
        policy: Some(Arc::new(loaded.policy)),
        warnings: loaded.warnings,
        errors: None,
    };
    Arc::new(move || status.clone())
}

/// A reader for a policy file: re-validates it whenever its text changes and
/// keeps the last valid version in force while the file has errors, as the
/// relay does on reload.
pub fn file_reader(path: PathBuf) -> PolicyReader {
    let cache: Mutex<Option<(String, PolicyStatus)>> = Mutex::new(None);
    Arc::new(move || {
        let origin = path.display().to_string();
        let text = match policy::read_file(&path) {
            Ok(text) => text,
            Err(e) => {
                let guard = cache.lock().unwrap_or_else(|p| p.into_inner());
                let mut status = guard.as_ref().map(|(_, s)| s.clone()).unwrap_or(PolicyStatus {
                    policy: None,
                    warnings: Vec::new(),
                    errors: None,
                });
                let lines: Vec<String> = e
                    .diagnostics
                    .iter()
                    .map(|d| format!("{origin}: error: {}", d.message))
                    .collect();
                status.errors = Some(lines.join("\n"));
                // Not cached: the next request reads the file again.
                return status;
            }
        };
        let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((cached, status)) = guard.as_ref()
            && *cached == text
        {
            return status.clone();
        }
        let status = match policy::load_str(&text, &origin) {
            Ok(loaded) => PolicyStatus {
                policy: Some(Arc::new(loaded.policy)),
                warnings: loaded.warnings,
                errors: None,
            },
            Err(errors) => {
                let rendered: Vec<String> =
                    errors.diagnostics.iter().map(|d| d.render(&text)).collect();
                let last_good = guard.as_ref().and_then(|(_, s)| s.policy.clone());
                let warnings = guard.as_ref().map(|(_, s)| s.warnings.clone()).unwrap_or_default();
                PolicyStatus { policy: last_good, warnings, errors: Some(rendered.join("\n")) }
            }
        };
        *guard = Some((text, status.clone()));
        status
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_reader_keeps_the_last_valid_policy_and_reports_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        let example = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/example.yaml"),
        )
        .unwrap();
        std::fs::write(&path, &example).unwrap();
        let reader = file_reader(path.clone());
        let first = reader();
        assert!(first.errors.is_none());
        assert_eq!(first.policy.as_ref().unwrap().people.len(), 12);

        std::fs::write(&path, example.replace("substitute: nadia", "substitute: nadja")).unwrap();
        let broken = reader();
        let errors = broken.errors.expect("errors reported");
        assert!(errors.contains("p.yaml:"), "{errors}");
        assert!(errors.contains("nadja"), "{errors}");
        assert!(broken.policy.is_some(), "last valid policy stays in force");

        std::fs::remove_file(&path).unwrap();
        let gone = reader();
        assert!(gone.errors.unwrap().contains("cannot read file"));
    }
}
