//! Lays the policy's own `people` entries over the directory's people.
//!
//! The rules, as `docs/DIRECTORY.md` explains them to managers:
//! 1. The directory provides people: id, name, addresses, phones.
//! 2. When several sources (or records) describe the same person (same id
//!    or same primary address, case-insensitive), the earlier source in
//!    the configuration wins each field it has; later ones only fill gaps.
//!    Such duplicates are reported.
//! 3. A policy entry matches a directory person by id, else by address, and
//!    every field it sets wins. A policy entry that matches nobody adds a
//!    person, which then needs a name and an e-mail address; without them
//!    it is reported as missing from the directory.
//! 4. The policy's id becomes the person's id; the directory id still
//!    resolves, so substitutes, team members and dossier handlers may name
//!    a person by either.
//!
//! Every field carries where it came from ([`Provenance`]).

use std::collections::HashMap;
use std::fmt;

use super::{DirectoryPerson, Snapshot, non_empty, normalise_address};
use crate::policy::{Person, PersonIdx};

/// A `people:` entry of the policy as written, before any validation: only
/// `id` is required, because an entry may just override one field of a
/// directory person.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyPersonInput {
    /// The id the policy uses (may equal the directory id).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Primary address.
    #[serde(default)]
    pub email: Option<String>,
    /// Further addresses.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Direct phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Mobile.
    #[serde(default)]
    pub mobile: Option<String>,
    /// Id of the substitute (policy or directory id).
    #[serde(default)]
    pub substitute: Option<String>,
}

/// Where a field's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// A directory source, by label (`directory:ldap`, `directory:csv:FILE`).
    Directory(String),
    /// The policy's `people` entry.
    Policy,
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::Directory(label) => f.write_str(label),
            Provenance::Policy => f.write_str("policy"),
        }
    }
}

impl serde::Serialize for Provenance {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A value with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub from: Provenance,
}

impl<T> Sourced<T> {
    fn new(value: T, from: Provenance) -> Sourced<T> {
        Sourced { value, from }
    }
}

/// One person after the merge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MergedPerson {
    /// The id references use: the policy's if a policy entry matched, else the directory's.
    pub id: String,
    /// Other ids that name the same person (the directory id when the policy uses another).
    pub other_ids: Vec<String>,
    /// Display name.
    pub name: Sourced<String>,
    /// Primary address, lower-case.
    pub email: Sourced<String>,
    /// Further addresses, lower-case.
    pub aliases: Vec<Sourced<String>>,
    /// Direct phone.
    pub phone: Option<Sourced<String>>,
    /// Mobile.
    pub mobile: Option<Sourced<String>>,
    /// Department (directory only, for display).
    pub department: Option<Sourced<String>>,
    /// Substitute id as the policy wrote it (policy only).
    pub substitute: Option<Sourced<String>>,
}

impl MergedPerson {
    fn from_directory(p: &DirectoryPerson) -> MergedPerson {
        let from = || Provenance::Directory(p.source.clone());
        MergedPerson {
            id: p.id.clone(),
            other_ids: Vec::new(),
            name: Sourced::new(p.name.clone(), from()),
            email: Sourced::new(p.email.clone(), from()),
            aliases: Vec::new(),
            phone: p.phone.clone().map(|v| Sourced::new(v, from())),
            mobile: p.mobile.clone().map(|v| Sourced::new(v, from())),
            department: p.department.clone().map(|v| Sourced::new(v, from())),
            substitute: None,
        }
    }

    /// The policy model's person; the caller resolves the substitute id to an index.
    pub fn to_person(&self, substitute: Option<PersonIdx>) -> Person {
        Person {
            id: self.id.clone(),
            name: self.name.value.clone(),
            email: self.email.value.clone(),
            aliases: self.aliases.iter().map(|a| a.value.clone()).collect(),
            phone: self.phone.as_ref().map(|p| p.value.clone()),
            mobile: self.mobile.as_ref().map(|p| p.value.clone()),
            substitute,
        }
    }

    /// The id references use, then the other ids that name the same person.
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.other_ids.iter().map(String::as_str))
    }
}

/// Something a manager or admin should know about the merge. None of
/// these stops the merge; the policy loader decides which to show as
/// warnings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MergeIssue {
    /// The same person came from more than one source or record.
    DuplicateInDirectory {
        /// The person's id.
        id: String,
        /// The source whose fields won.
        kept: String,
        /// The source that only filled gaps.
        also_in: String,
    },
    /// An address belongs to two different people; the first keeps it.
    AddressClaimedTwice {
        /// The address.
        address: String,
        /// Who keeps it.
        kept_by: String,
        /// Who lost it.
        dropped_from: String,
    },
    /// A policy entry changes a person the directory does not have (any
    /// more) and does not give both a name and an address.
    MissingFromDirectory {
        /// The policy entry's id.
        id: String,
    },
    /// A policy entry's id names one directory person and its address another.
    AmbiguousPolicyEntry {
        /// The policy entry's id.
        id: String,
        /// The person its id matched (this one is used).
        by_id: String,
        /// The person its address matched.
        by_address: String,
    },
    /// Two policy entries match the same person; the later is ignored.
    DuplicatePolicyEntry {
        /// The later entry's id.
        id: String,
        /// The person both match.
        person: String,
    },
    /// Neither a direct nor a mobile phone: replies can only name the
    /// organisation's number.
    NoPhone {
        /// The person.
        id: String,
    },
}

impl fmt::Display for MergeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeIssue::DuplicateInDirectory { id, kept, also_in } => write!(
                f,
                "{id} is in {kept} and {also_in}; {kept} wins, {also_in} only fills missing fields"
            ),
            MergeIssue::AddressClaimedTwice { address, kept_by, dropped_from } => {
                write!(
                    f,
                    "{address} belongs to both {kept_by} and {dropped_from}; kept for {kept_by}"
                )
            }
            MergeIssue::MissingFromDirectory { id } => write!(
                f,
                "people: {id} is not in the directory (left, or renamed?); give it a name and email, or remove the entry"
            ),
            MergeIssue::AmbiguousPolicyEntry { id, by_id, by_address } => write!(
                f,
                "people: {id} matches {by_id} by id but {by_address} by address; used {by_id}"
            ),
            MergeIssue::DuplicatePolicyEntry { id, person } => {
                write!(f, "people: {id} is a second entry for {person}; ignored")
            }
            MergeIssue::NoPhone { id } => write!(f, "{id} has no phone or mobile number"),
        }
    }
}

/// The people after the merge, with lookups by any id or address.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MergedPeople {
    /// Directory people in source order, then people only the policy has.
    pub people: Vec<MergedPerson>,
    /// What a manager or admin should know.
    pub issues: Vec<MergeIssue>,
    #[serde(skip)]
    by_id: HashMap<String, usize>,
    #[serde(skip)]
    by_address: HashMap<String, usize>,
}

impl MergedPeople {
    /// The person an id (policy or directory id, case-insensitive) names.
    pub fn resolve(&self, id: &str) -> Option<usize> {
        self.by_id.get(&id.to_lowercase()).copied()
    }

    /// The person an address belongs to (case-insensitive).
    pub fn by_address(&self, address: &str) -> Option<usize> {
        normalise_address(address).and_then(|a| self.by_address.get(&a).copied())
    }

    /// The policy model's people, substitutes resolved; the second list
    /// holds `(person id, substitute id)` pairs that name nobody.
    pub fn to_people(&self) -> (Vec<Person>, Vec<(String, String)>) {
        let mut dangling = Vec::new();
        let people = self
            .people
            .iter()
            .map(|p| {
                let substitute = p.substitute.as_ref().and_then(|s| {
                    let found = self.resolve(&s.value);
                    if found.is_none() {
                        dangling.push((p.id.clone(), s.value.clone()));
                    }
                    found
                });
                p.to_person(substitute)
            })
            .collect();
        (people, dangling)
    }

    fn claim(&mut self, person: usize, address: String, from: Provenance) {
        match self.by_address.get(&address) {
            Some(&owner) if owner == person => {}
            Some(&owner) => self.issues.push(MergeIssue::AddressClaimedTwice {
                address,
                kept_by: self.people[owner].id.clone(),
                dropped_from: self.people[person].id.clone(),
            }),
            None => {
                self.by_address.insert(address.clone(), person);
                if self.people[person].email.value != address {
                    self.people[person].aliases.push(Sourced::new(address, from));
                }
            }
        }
    }

    fn index_ids(&mut self, person: usize) {
        let ids: Vec<String> = self.people[person].all_ids().map(str::to_lowercase).collect();
        for id in ids {
            self.by_id.entry(id).or_insert(person);
        }
    }
}

/// Merges the directory's snapshot with the policy's `people` entries.
pub fn merge(directory: &Snapshot, policy_people: &[PolicyPersonInput]) -> MergedPeople {
    let mut merged = MergedPeople::default();
    for record in &directory.people {
        add_directory_record(&mut merged, record);
    }
    let mut overridden: HashMap<usize, String> = HashMap::new();
    for entry in policy_people {
        apply_policy_entry(&mut merged, entry, &mut overridden);
    }
    let no_phone: Vec<MergeIssue> = merged
        .people
        .iter()
        .filter(|p| p.phone.is_none() && p.mobile.is_none())
        .map(|p| MergeIssue::NoPhone { id: p.id.clone() })
        .collect();
    merged.issues.extend(no_phone);
    merged
}

fn add_directory_record(merged: &mut MergedPeople, record: &DirectoryPerson) {
    let from = Provenance::Directory(record.source.clone());
    let existing =
        merged.resolve(&record.id).or_else(|| merged.by_address.get(&record.email).copied());
    let Some(index) = existing else {
        merged.people.push(MergedPerson::from_directory(record));
        let index = merged.people.len() - 1;
        merged.index_ids(index);
        merged.claim(index, record.email.clone(), from.clone());
        for alias in &record.aliases {
            merged.claim(index, alias.clone(), from.clone());
        }
        return;
    };
    let person = &mut merged.people[index];
    merged.issues.push(MergeIssue::DuplicateInDirectory {
        id: person.id.clone(),
        kept: person.name.from.to_string(),
        also_in: record.source.clone(),
    });
    if !person.all_ids().any(|id| id.eq_ignore_ascii_case(&record.id)) {
        person.other_ids.push(record.id.clone());
    }
    let fill = |slot: &mut Option<Sourced<String>>, value: &Option<String>| {
        if slot.is_none() {
            *slot = value.clone().map(|v| Sourced::new(v, from.clone()));
        }
    };
    fill(&mut person.phone, &record.phone);
    fill(&mut person.mobile, &record.mobile);
    fill(&mut person.department, &record.department);
    merged.index_ids(index);
    merged.claim(index, record.email.clone(), from.clone());
    for alias in &record.aliases {
        merged.claim(index, alias.clone(), from.clone());
    }
}

fn apply_policy_entry(
    merged: &mut MergedPeople,
    entry: &PolicyPersonInput,
    overridden: &mut HashMap<usize, String>,
) {
    let addresses: Vec<String> =
        entry.email.iter().chain(&entry.aliases).filter_map(|a| normalise_address(a)).collect();
    let by_id = merged.resolve(&entry.id);
    let by_address = addresses.iter().find_map(|a| merged.by_address.get(a).copied());
    if let (Some(i), Some(a)) = (by_id, by_address)
        && i != a
    {
        merged.issues.push(MergeIssue::AmbiguousPolicyEntry {
            id: entry.id.clone(),
            by_id: merged.people[i].id.clone(),
            by_address: merged.people[a].id.clone(),
        });
    }
    let index = match by_id.or(by_address) {
        Some(index) => index,
        None => {
            let (Some(name), Some(email)) = (
                entry.name.as_deref().and_then(non_empty),
                entry.email.as_deref().and_then(normalise_address),
            ) else {
                merged.issues.push(MergeIssue::MissingFromDirectory { id: entry.id.clone() });
                return;
            };
            merged.people.push(MergedPerson {
                id: entry.id.clone(),
                other_ids: Vec::new(),
                name: Sourced::new(name, Provenance::Policy),
                email: Sourced::new(email, Provenance::Policy),
                aliases: Vec::new(),
                phone: None,
                mobile: None,
                department: None,
                substitute: None,
            });
            merged.people.len() - 1
        }
    };
    if let Some(first) = overridden.get(&index) {
        merged
            .issues
            .push(MergeIssue::DuplicatePolicyEntry { id: entry.id.clone(), person: first.clone() });
        return;
    }
    overridden.insert(index, entry.id.clone());

    let person = &mut merged.people[index];
    if person.id != entry.id {
        let directory_id = std::mem::replace(&mut person.id, entry.id.clone());
        if !person.other_ids.iter().any(|i| i.eq_ignore_ascii_case(&directory_id)) {
            person.other_ids.push(directory_id);
        }
    }
    let set = |slot: &mut Option<Sourced<String>>, value: &Option<String>| {
        if let Some(v) = value.as_deref().and_then(non_empty) {
            *slot = Some(Sourced::new(v, Provenance::Policy));
        }
    };
    set(&mut person.phone, &entry.phone);
    set(&mut person.mobile, &entry.mobile);
    set(&mut person.substitute, &entry.substitute);
    if let Some(name) = entry.name.as_deref().and_then(non_empty) {
        person.name = Sourced::new(name, Provenance::Policy);
    }
    if let Some(email) = entry.email.as_deref().and_then(normalise_address) {
        // The directory's primary address stays the person's, as an alias.
        let old =
            std::mem::replace(&mut person.email, Sourced::new(email.clone(), Provenance::Policy));
        person.aliases.retain(|a| a.value != email);
        if old.value != email {
            person.aliases.push(old);
        }
    }
    merged.index_ids(index);
    for address in addresses {
        merged.claim(index, address, Provenance::Policy);
    }
}

#[cfg(test)]
mod tests;
