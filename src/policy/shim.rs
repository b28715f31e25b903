//! TEMPORARY stand-in for the policy loader so the relay compiles on its own.
//! Delete this file (and its `mod`/`pub use` lines in `policy/mod.rs`) when the
//! real loader with the same signatures lands.

use std::fmt;
use std::path::Path;

use super::model::*;

/// A loaded policy and the warnings found while loading it.
#[derive(Debug)]
pub struct Loaded {
    /// The validated policy.
    pub policy: Policy,
    /// Non-fatal findings.
    pub warnings: Vec<String>,
}

/// Every error found in a policy file.
#[derive(Debug)]
pub struct PolicyErrors(pub Vec<String>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for PolicyErrors {}

fn empty(path: &str) -> Policy {
    Policy {
        version: 1,
        revision: None,
        source: PolicySource { path: path.to_string(), sha256: String::new() },
        organisation: Organisation::default(),
        default_language: Language::En,
        response_time: Default::default(),
        max_response_days: 2,
        people: Vec::new(),
        teams: Vec::new(),
        dossiers: Vec::new(),
        phrase_rules: Vec::new(),
        actions: Actions::default(),
        templates: minijinja::Environment::new(),
        by_address: Default::default(),
    }
}

/// Reads a policy file (stand-in: checks only that it is readable YAML).
pub fn load_file(path: &Path) -> Result<Loaded, PolicyErrors> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| PolicyErrors(vec![format!("{}: {e}", path.display())]))?;
    serde_saphyr::from_str::<serde_json::Value>(&text)
        .map_err(|e| PolicyErrors(vec![format!("{}: {e}", path.display())]))?;
    Ok(Loaded { policy: empty(&path.display().to_string()), warnings: Vec::new() })
}

/// The built-in example policy.
pub fn example() -> Loaded {
    Loaded { policy: empty("<example>"), warnings: Vec::new() }
}
