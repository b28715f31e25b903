//! Loads, validates and indexes the house policy that management maintains.
//!
//! Loading goes in stages: the YAML is read into raw serde structs (unknown
//! keys are errors, so a typo cannot silently disable a rule), validated as a
//! whole (all errors in one run, each with `file:line:column`, what is wrong
//! and how to fix it), and finally indexed into an immutable [`Policy`].
//!
//! One limit of the first stage: when the YAML itself cannot be read into the
//! schema (a syntax error, an unknown key, a wrong type), the parser stops at
//! that point and only that error is reported. All checks after it (ids,
//! references, addresses, patterns, templates) report every problem at once.

mod build;
mod builtin;
mod diagnostic;
mod directory;
mod hints;
mod model;
mod phrases;
mod raw;
mod templates;
mod values;
mod yaml;

#[cfg(test)]
mod tests;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::directory::Snapshot;

pub use build::DEFAULT_MAX_RESPONSE_DAYS;
pub use diagnostic::{Diagnostic, PolicyErrors, Severity};
pub use model::*;
pub use templates::sample_context;
pub use yaml::MAX_POLICY_BYTES;

/// The built-in example policy, used when no policy file is given.
const EXAMPLE: &str = include_str!("../../policies/example.yaml");

/// A policy that passed validation, with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The validated policy.
    pub policy: Policy,
    /// Findings that do not stop the policy from working.
    pub warnings: Vec<Diagnostic>,
}

/// Reads and validates a policy file.
///
/// A file that cannot be read, is not UTF-8 or is larger than
/// [`MAX_POLICY_BYTES`] gives a single diagnostic at line 0
/// ([`PolicyErrors::is_unreadable`]).
pub fn load_file(path: &Path) -> Result<Loaded, PolicyErrors> {
    let text = read_file(path)?;
    load_str(&text, &path.display().to_string())
}

/// Reads a policy file's text without validating it, with the same limits
/// as [`load_file`]; for callers that also want to show source lines.
pub fn read_file(path: &Path) -> Result<String, PolicyErrors> {
    let origin = path.display().to_string();
    let unreadable = |message: String| PolicyErrors {
        diagnostics: vec![Diagnostic {
            file: origin.clone(),
            line: 0,
            column: 0,
            severity: Severity::Error,
            message,
            hint: None,
        }],
    };
    let metadata =
        std::fs::metadata(path).map_err(|e| unreadable(format!("cannot read file: {e}")))?;
    if metadata.len() > MAX_POLICY_BYTES as u64 {
        return Err(unreadable(format!(
            "file is {} bytes, more than the limit of {MAX_POLICY_BYTES} bytes",
            metadata.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(format!("cannot read file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Reads and validates a policy file whose people may come from the
/// directory: with a snapshot, a `people:` entry may give only an `id` and
/// the fields it corrects, and substitutes, team members and dossier
/// handlers may name anyone in the file or the snapshot (merge rules in
/// `docs/DIRECTORY.md`). Without one this is [`load_file`].
pub fn load_file_with(path: &Path, directory: Option<&Snapshot>) -> Result<Loaded, PolicyErrors> {
    let text = read_file(path)?;
    load_str_with(&text, &path.display().to_string(), directory)
}

/// Validates policy text; `origin` names it in diagnostics (a path or `<stdin>`).
pub fn load_str(text: &str, origin: &str) -> Result<Loaded, PolicyErrors> {
    load_str_with(text, origin, None)
}

/// [`load_str`] with the directory's people, as [`load_file_with`].
pub fn load_str_with(
    text: &str,
    origin: &str,
    directory: Option<&Snapshot>,
) -> Result<Loaded, PolicyErrors> {
    let source = PolicySource {
        path: origin.to_owned(),
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
    };
    let mut checker = values::Checker::new(origin);
    let policy = match directory {
        None => {
            let raw =
                yaml::parse(text, origin).map_err(|d| PolicyErrors { diagnostics: vec![*d] })?;
            build::build(&raw, text, source, &mut checker)
        }
        Some(snapshot) => {
            let raw = yaml::parse::<raw::RawDirectoryPerson>(text, origin)
                .map_err(|d| PolicyErrors { diagnostics: vec![*d] })?;
            build::build_with(
                &raw,
                text,
                source,
                &mut checker,
                |checker, entries, org, addresses| {
                    directory::people(checker, entries, org, addresses, snapshot)
                },
            )
        }
    };
    let failed = checker.has_errors();
    let mut diagnostics = checker.diagnostics;
    diagnostics.sort_by_key(|d| (d.line, d.column));
    if failed {
        Err(PolicyErrors { diagnostics })
    } else {
        Ok(Loaded { policy, warnings: diagnostics })
    }
}

/// The built-in example policy (`policies/example.yaml`).
pub fn example() -> Loaded {
    match load_str(EXAMPLE, "policies/example.yaml") {
        Ok(loaded) => loaded,
        // The example is validated by the test suite; failing here means the
        // binary was built from a broken tree.
        Err(e) => panic!("the built-in example policy is invalid:\n{e}"),
    }
}
