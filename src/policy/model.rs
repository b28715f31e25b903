//! The validated, indexed house policy that the engine reads.
//!
//! A `Policy` is immutable once built: the relay and the milter share it
//! behind an `Arc` and swap in a new one on reload. Every cross-reference
//! (substitute, team member, dossier handler) is already resolved to an
//! index, so the engine never meets a dangling id.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// A language courtesy has templates and detection rules for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Dutch.
    Nl,
    /// English.
    En,
    /// German.
    De,
    /// French.
    Fr,
}

impl Language {
    /// Every supported language, in the order templates are listed.
    pub const ALL: [Language; 4] = [Language::Nl, Language::En, Language::De, Language::Fr];

    /// The ISO 639-1 code used in policy files and reports.
    pub fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
        }
    }

    /// Parses an ISO 639-1 code (case-insensitive).
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What courtesy does with a kind of mail it recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Change the message as the plan says.
    #[default]
    Rewrite,
    /// Decide and record what would change, but forward the original bytes.
    Observe,
    /// Neither change nor record: leave this kind of mail alone.
    Pass,
}

/// The firm itself: shown where no person fits.
#[derive(Debug, Clone, Default)]
pub struct Organisation {
    /// Display name of the firm.
    pub name: String,
    /// Lower-case mail domains; mail from these is ours.
    pub domains: Vec<String>,
    /// Main phone number.
    pub phone: Option<String>,
    /// General e-mail address.
    pub email: Option<String>,
}

/// Index of a person in [`Policy::people`].
pub type PersonIdx = usize;
/// Index of a team in [`Policy::teams`].
pub type TeamIdx = usize;

/// One employee.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// Stable id used for references in the policy file.
    pub id: String,
    /// Full display name ("Maarten Hoekstra").
    pub name: String,
    /// Primary e-mail address.
    pub email: String,
    /// Further addresses that belong to this person (aliases), lower-case.
    pub aliases: Vec<String>,
    /// Direct phone number.
    pub phone: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// Who handles this person's mail while they are away.
    pub substitute: Option<PersonIdx>,
}

impl Person {
    /// The first word of the name, used where templates greet or list people.
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or(&self.name)
    }

    /// The number customers should call: the direct line, else the mobile.
    pub fn best_phone(&self) -> Option<&str> {
        self.phone.as_deref().or(self.mobile.as_deref())
    }
}

/// A team or department with a shared address.
#[derive(Debug, Clone, Default)]
pub struct Team {
    /// Stable id.
    pub id: String,
    /// Display name ("Team Incasso").
    pub name: String,
    /// Lower-case addresses the team sends from.
    pub addresses: Vec<String>,
    /// Members, in the order they should be named.
    pub members: Vec<PersonIdx>,
    /// Team phone number (falls back to the organisation's).
    pub phone: Option<String>,
    /// Team e-mail address shown in the signature (falls back to the first address).
    pub email: Option<String>,
}

/// Which customers a dossier covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerPattern {
    /// One exact address, lower-case.
    Address(String),
    /// Every address at a domain (written `@domain` in the policy), lower-case, without the `@`.
    Domain(String),
}

impl CustomerPattern {
    /// Whether a recipient address falls under this pattern (case-insensitive).
    pub fn matches(&self, address: &str) -> bool {
        let address = address.trim().to_ascii_lowercase();
        match self {
            CustomerPattern::Address(a) => *a == address,
            CustomerPattern::Domain(d) => {
                address.rsplit_once('@').is_some_and(|(_, domain)| domain == d)
            }
        }
    }
}

/// Who takes over a customer's dossier while the usual contact is away.
#[derive(Debug, Clone)]
pub struct Dossier {
    /// The customers it covers.
    pub customers: Vec<CustomerPattern>,
    /// The person who handles them.
    pub handler: PersonIdx,
}

/// Which kind of mail a phrase rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// Automatic replies (out-of-office and the like).
    AutoReply,
    /// Mail whose new text ends in an anonymous team signature.
    TeamSignature,
}

/// A management-defined find/replace on the new text of a message.
#[derive(Debug, Clone)]
pub struct PhraseRule {
    /// Rule id, shown in previews and the audit log.
    pub id: String,
    /// Languages it applies to; empty means all.
    pub languages: Vec<Language>,
    /// Kinds of mail it applies to; empty means all that are rewritten.
    pub applies_to: Vec<MailKind>,
    /// The pattern (linear-time engine, size-limited).
    pub find: regex::Regex,
    /// Replacement; `$1`, `${name}` refer to groups. Template variables are
    /// not expanded here, so a rule cannot smuggle markup into HTML.
    pub replace: String,
}

/// The action per kind of mail.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actions {
    /// What to do with auto-replies.
    pub auto_reply: Action,
    /// What to do with anonymous team signatures.
    pub team_signature: Action,
}

/// Where a policy came from, for logs, audit records and reload messages.
#[derive(Debug, Clone, Default)]
pub struct PolicySource {
    /// Path the policy was read from (or a label such as `<stdin>`).
    pub path: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// A sender the policy knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A person, by index.
    Person(PersonIdx),
    /// A team, by index.
    Team(TeamIdx),
}

/// The names under which templates are registered in [`Policy::templates`].
///
/// Each is registered twice per language: `"{lang}/{name}.txt"` (no escaping)
/// and `"{lang}/{name}.html"` (policy values HTML-escaped).
pub const TEMPLATE_NAMES: [&str; 7] = [
    "salutation",
    "salutation_generic",
    "substitute",
    "all_questions",
    "response_time",
    "part_time",
    "team_signature",
];

/// The validated house policy.
#[derive(Debug)]
pub struct Policy {
    /// Schema version (1).
    pub version: u32,
    /// Free-text version label managers may set (`revision:` in the file).
    pub revision: Option<String>,
    /// Where it was loaded from.
    pub source: PolicySource,
    /// The firm.
    pub organisation: Organisation,
    /// Language used when a message's language cannot be told.
    pub default_language: Language,
    /// The promised response time per language.
    pub response_time: BTreeMap<Language, String>,
    /// Longest response time, in working days, that an auto-reply may
    /// promise before it is replaced by the policy's promise.
    pub max_response_days: u32,
    /// Employees.
    pub people: Vec<Person>,
    /// Teams.
    pub teams: Vec<Team>,
    /// Dossier handlers, first match wins.
    pub dossiers: Vec<Dossier>,
    /// Phrase rules in file order.
    pub phrase_rules: Vec<PhraseRule>,
    /// Action per kind of mail.
    pub actions: Actions,
    /// Compiled templates, see [`TEMPLATE_NAMES`].
    pub templates: minijinja::Environment<'static>,
    /// Lower-case address → sender.
    pub by_address: HashMap<String, Sender>,
}

impl Policy {
    /// The person or team that sends from `address` (case-insensitive).
    pub fn sender(&self, address: &str) -> Option<Sender> {
        self.by_address.get(&address.trim().to_ascii_lowercase()).copied()
    }

    /// Whether `address` is at one of the organisation's domains.
    pub fn is_our_address(&self, address: &str) -> bool {
        address.rsplit_once('@').is_some_and(|(_, domain)| {
            let domain = domain.trim().trim_end_matches('>').to_ascii_lowercase();
            self.organisation.domains.contains(&domain)
        })
    }

    /// The dossier handler for a recipient, if a dossier names them.
    pub fn dossier_handler(&self, recipient: &str) -> Option<PersonIdx> {
        self.dossiers
            .iter()
            .find(|d| d.customers.iter().any(|c| c.matches(recipient)))
            .map(|d| d.handler)
    }

    /// The promise for a language, falling back to the default language and then to any.
    pub fn response_time_for(&self, language: Language) -> Option<&str> {
        self.response_time
            .get(&language)
            .or_else(|| self.response_time.get(&self.default_language))
            .map(String::as_str)
    }

    /// Finds a person by id.
    pub fn person_by_id(&self, id: &str) -> Option<PersonIdx> {
        self.people.iter().position(|p| p.id == id)
    }
}
