//! The policy file exactly as written: serde structs that mirror the YAML.
//!
//! Every struct refuses unknown keys, so a typo (`substitue:`) is an error
//! instead of a rule that silently does nothing. Values that a later check may
//! complain about are `Spanned`, so that complaint can point at the value.
//! Names, defaults and meaning of each key are documented here and in
//! `docs/POLICY.md`; keep the two in step.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A string value together with where it stands in the file.
pub(crate) type Text = Spanned<String>;

/// The top level of a policy file. `P` is the shape of a `people:` entry:
/// [`RawPerson`] on its own, [`RawDirectoryPerson`] when the directory
/// provides the people and an entry may only name one by id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "P: Deserialize<'de>"))]
pub(crate) struct RawPolicy<P = RawPerson> {
    /// Schema version. Required; must be `1`.
    pub version: Spanned<i64>,
    /// Free label for the policy's own version, e.g. `"2025-03 tax season"`.
    /// Shown in logs and audit records. Default: none.
    #[serde(default)]
    pub revision: Option<Text>,
    /// The firm. Required.
    pub organisation: Spanned<RawOrganisation>,
    /// Defaults for every message. Default: language `nl`, built-in promises.
    #[serde(default)]
    pub defaults: Option<Spanned<RawDefaults>>,
    /// Employees. Default: none.
    #[serde(default)]
    pub people: Vec<Spanned<P>>,
    /// Teams with shared addresses. Default: none.
    #[serde(default)]
    pub teams: Vec<Spanned<RawTeam>>,
    /// Who takes over a customer's dossier; first match wins. Default: none.
    #[serde(default)]
    pub dossiers: Vec<Spanned<RawDossier>>,
    /// Template overrides per language and name. Default: built-in texts.
    #[serde(default)]
    pub templates: Option<PerLanguage<RawTemplates>>,
    /// Find/replace rules on the new text of a message. Default: none.
    #[serde(default)]
    pub phrases: Vec<Spanned<RawPhrase>>,
    /// What to do per kind of mail. Default: `rewrite` for both.
    #[serde(default)]
    pub actions: Option<RawActions>,
}

/// `organisation:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrganisation {
    /// Display name, shown where no person fits. Required.
    pub name: Text,
    /// Mail domains of the firm; mail from these is ours. Required, at least one.
    pub domains: Spanned<Vec<Text>>,
    /// Main phone number. Default: none (a warning).
    #[serde(default)]
    pub phone: Option<Text>,
    /// General e-mail address. Default: none.
    #[serde(default)]
    pub email: Option<Text>,
}

/// `defaults:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    /// Language used when a message's language cannot be told. Default: `nl`.
    #[serde(default)]
    pub language: Option<Text>,
    /// The promised response time per language. Languages left out get the
    /// built-in promise ("binnen één werkdag", "within one working day", ...).
    #[serde(default)]
    pub response_time: Option<PerLanguage<Text>>,
    /// Longest response time, in working days, that an auto-reply may promise
    /// before it is replaced by `response_time`. Default: 2. Range 1 to 365.
    #[serde(default)]
    pub max_response_days: Option<Spanned<i64>>,
}

/// A value per supported language. Unknown language codes are refused by
/// serde with the list of supported ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PerLanguage<T> {
    /// Dutch.
    pub nl: Option<T>,
    /// English.
    pub en: Option<T>,
    /// German.
    pub de: Option<T>,
    /// French.
    pub fr: Option<T>,
}

impl<T> PerLanguage<T> {
    /// The entries that are present, with their language.
    pub fn entries(&self) -> impl Iterator<Item = (crate::policy::Language, &T)> {
        use crate::policy::Language;
        [
            (Language::Nl, self.nl.as_ref()),
            (Language::En, self.en.as_ref()),
            (Language::De, self.de.as_ref()),
            (Language::Fr, self.fr.as_ref()),
        ]
        .into_iter()
        .filter_map(|(l, v)| v.map(|v| (l, v)))
    }
}

/// One entry of `people:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPerson {
    /// Stable id that other entries refer to. Required; letters, digits, `-`, `_`, `.`.
    pub id: Text,
    /// Full name as customers should read it. Required.
    pub name: Text,
    /// Primary e-mail address. Required.
    pub email: Text,
    /// Further addresses of this person. Default: none.
    #[serde(default)]
    pub aliases: Vec<Text>,
    /// Direct phone number. Default: none (a warning unless `mobile` is set).
    #[serde(default)]
    pub phone: Option<Text>,
    /// Mobile number, used where there is no direct line. Default: none.
    #[serde(default)]
    pub mobile: Option<Text>,
    /// Id of the person who handles this person's mail while they are away.
    /// Default: none (a warning).
    #[serde(default)]
    pub substitute: Option<Text>,
}

/// One entry of `people:` when the directory provides the people: the same
/// keys as [`RawPerson`], but only `id` is required, because an entry may
/// just correct one field of a directory person (see `docs/DIRECTORY.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDirectoryPerson {
    /// The policy's id, or the directory id of the person it corrects.
    pub id: Text,
    /// Full name. Default: the directory's; required for someone not in it.
    #[serde(default)]
    pub name: Option<Text>,
    /// Primary address. Default: the directory's; required for someone not in it.
    #[serde(default)]
    pub email: Option<Text>,
    /// Further addresses, added to the directory's. Default: none.
    #[serde(default)]
    pub aliases: Vec<Text>,
    /// Direct phone number. Default: the directory's.
    #[serde(default)]
    pub phone: Option<Text>,
    /// Mobile number. Default: the directory's.
    #[serde(default)]
    pub mobile: Option<Text>,
    /// Id (policy or directory) of the person who handles their mail while
    /// they are away. Default: none.
    #[serde(default)]
    pub substitute: Option<Text>,
}

/// One entry of `teams:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTeam {
    /// Stable id. Required.
    pub id: Text,
    /// Name as it appears in signatures ("Team Incasso"). Required.
    pub name: Text,
    /// Addresses the team sends from. Default: none (a warning).
    #[serde(default)]
    pub addresses: Vec<Text>,
    /// Ids of the members, in the order they are named. Default: none (a warning).
    #[serde(default)]
    pub members: Vec<Text>,
    /// Team phone number. Default: the organisation's.
    #[serde(default)]
    pub phone: Option<Text>,
    /// Address shown in the signature. Default: the first of `addresses`.
    #[serde(default)]
    pub email: Option<Text>,
}

/// One entry of `dossiers:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDossier {
    /// Customer addresses, or `@domain` for everyone at a domain. Required, at least one.
    pub customers: Spanned<Vec<Text>>,
    /// Id of the person who takes over. Required.
    pub handler: Text,
}

/// `templates.<lang>:`: one optional override per template name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTemplates {
    /// Greeting when the recipient's name is known.
    #[serde(default)]
    pub salutation: Option<Text>,
    /// Greeting when no name is known.
    #[serde(default)]
    pub salutation_generic: Option<Text>,
    /// Sentence naming the substitute, added when the away text names nobody.
    #[serde(default)]
    pub substitute: Option<Text>,
    /// Replaces "for urgent questions contact a colleague".
    #[serde(default)]
    pub all_questions: Option<Text>,
    /// Replaces a too-long response-time promise.
    #[serde(default)]
    pub response_time: Option<Text>,
    /// Sentence added after a part-time notice.
    #[serde(default)]
    pub part_time: Option<Text>,
    /// Replaces an anonymous team signature.
    #[serde(default)]
    pub team_signature: Option<Text>,
}

impl RawTemplates {
    /// The override for a template name from `TEMPLATE_NAMES`.
    pub fn get(&self, name: &str) -> Option<&Text> {
        match name {
            "salutation" => self.salutation.as_ref(),
            "salutation_generic" => self.salutation_generic.as_ref(),
            "substitute" => self.substitute.as_ref(),
            "all_questions" => self.all_questions.as_ref(),
            "response_time" => self.response_time.as_ref(),
            "part_time" => self.part_time.as_ref(),
            "team_signature" => self.team_signature.as_ref(),
            _ => None,
        }
    }
}

/// One entry of `phrases:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhrase {
    /// Rule id, shown in previews and the audit log. Required, unique.
    pub id: Text,
    /// Regular expression (Rust `regex` syntax). Required.
    pub find: Text,
    /// Replacement; `$1` and `${name}` refer to groups. Required.
    pub replace: Text,
    /// Languages the rule applies to. Default: all.
    #[serde(default)]
    pub languages: Vec<Text>,
    /// `auto_reply` and/or `team_signature`. Default: both.
    #[serde(default)]
    pub applies_to: Vec<Text>,
}

/// `actions:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawActions {
    /// `rewrite`, `observe` or `pass` for auto-replies. Default: `rewrite`.
    #[serde(default)]
    pub auto_reply: Option<Text>,
    /// `rewrite`, `observe` or `pass` for team signatures. Default: `rewrite`.
    #[serde(default)]
    pub team_signature: Option<Text>,
}
