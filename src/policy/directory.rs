//! The people stage when the directory provides the people.
//!
//! The policy's `people:` entries are checked at their own positions first
//! (ids, addresses, phone numbers), then laid over the directory snapshot
//! with [`crate::directory::merge`]. What the merge reports is turned into
//! findings: at the entry it concerns when there is one, otherwise as a
//! finding about the file as a whole (line 0), because directory data has
//! no position in the file. Values that come from the directory pass the
//! same checks as values in the file; one that fails is left out with a
//! warning, so a stray line break in a directory name can never reach a
//! mail header.

use std::collections::{HashMap, HashSet};

use serde_saphyr::{Location, Spanned};

use super::build::{Addresses, Owner, PeopleStage, PersonIds, person_ref, unique_id, warn_foreign};
use super::hints;
use super::raw::{RawDirectoryPerson, Text};
use super::values::{Checker, check_email, position};
use super::{Organisation, Person};
use crate::directory::{
    MergeIssue, MergedPeople, MergedPerson, PolicyPersonInput, Provenance, Snapshot, merge,
};

/// Most ids listed in one summary warning before "and N more".
const LISTED_IDS: usize = 10;

/// Builds the people from the snapshot and the file's entries.
pub(crate) fn people(
    checker: &mut Checker,
    raw: &[Spanned<RawDirectoryPerson>],
    org: &Organisation,
    addresses: &mut Addresses,
    snapshot: &Snapshot,
) -> PeopleStage {
    let entries = Entries::check(checker, raw, org);
    let merged = merge(snapshot, &entries.inputs);

    // Merged index → index in the policy's people (None: left out).
    let mut kept: Vec<Option<usize>> = Vec::with_capacity(merged.people.len());
    let mut people = Vec::with_capacity(merged.people.len());
    let mut left_out = HashSet::new();
    for m in &merged.people {
        match directory_values(checker, m) {
            Some(person) => {
                kept.push(Some(people.len()));
                people.push(person);
            }
            None => {
                kept.push(None);
                left_out.insert(m.id.as_str());
            }
        }
    }
    report_issues(checker, &entries, &merged, snapshot, &left_out);
    for (m, person) in merged.people.iter().zip(&kept) {
        let Some(i) = *person else { continue };
        let entry_line = entries.find(&m.id).map(|e| position(&e.value.id.referenced).0);
        let mut claim = |address: &str, from: &Provenance| {
            let line = match from {
                Provenance::Policy => entry_line,
                Provenance::Directory(_) => None,
            };
            // A second claim is a merge issue, reported above.
            addresses
                .entry(address.to_owned())
                .or_insert_with(|| Owner { what: format!("person `{}`", people[i].id), line });
        };
        claim(&m.email.value, &m.email.from);
        for alias in &m.aliases {
            if people[i].aliases.contains(&alias.value) {
                claim(&alias.value, &alias.from);
            }
        }
    }

    let ids = PersonIds::folded(merged.people.iter().zip(&kept).flat_map(|(m, i)| {
        let ids: Vec<(String, usize)> = match i {
            Some(i) => m.all_ids().map(|id| (id.to_owned(), *i)).collect(),
            None => Vec::new(),
        };
        ids
    }));
    substitutes(checker, raw, &merged, &kept, &ids, &mut people);
    PeopleStage { people, ids }
}

/// The file's entries after their own checks, as the merge takes them.
struct Entries<'a> {
    raw: &'a [Spanned<RawDirectoryPerson>],
    inputs: Vec<PolicyPersonInput>,
    /// Ids of entries with a value that failed its check, so the merge's
    /// "not in the directory" is not reported on top of that error.
    flawed: HashSet<String>,
}

impl<'a> Entries<'a> {
    fn check(
        checker: &mut Checker,
        raw: &'a [Spanned<RawDirectoryPerson>],
        org: &Organisation,
    ) -> Entries<'a> {
        let mut seen = HashMap::new();
        let mut inputs = Vec::with_capacity(raw.len());
        let mut flawed = HashSet::new();
        for entry in raw {
            let p = &entry.value;
            let Some(id) = checker.id(&p.id, "person `id`") else { continue };
            unique_id(checker, &mut seen, &id, &p.id, "person");
            let errors_before = checker.diagnostics.len();
            let name = p.name.as_ref().and_then(|t| checker.line(t, "`name`"));
            let mut email = None;
            let mut aliases = Vec::new();
            for (t, what) in
                p.email.iter().map(|t| (t, "`email`")).chain(p.aliases.iter().map(|a| (a, "alias")))
            {
                if let Some(address) = checker.email(t, what) {
                    warn_foreign(checker, org, &address, &t.referenced);
                    if what == "`email`" {
                        email = Some(address);
                    } else {
                        aliases.push(address);
                    }
                }
            }
            let phone = p.phone.as_ref().and_then(|t| checker.phone(t, "`phone`"));
            let mobile = p.mobile.as_ref().and_then(|t| checker.phone(t, "`mobile`"));
            if checker.diagnostics[errors_before..].iter().any(|d| d.line > 0) {
                flawed.insert(id.clone());
            }
            inputs.push(PolicyPersonInput {
                id,
                name,
                email,
                aliases,
                phone,
                mobile,
                substitute: p.substitute.as_ref().map(|s| s.value.trim().to_owned()),
            });
        }
        Entries { raw, inputs, flawed }
    }

    /// The last entry with this id (the later of two is the one the merge
    /// reports), compared the way the merge compares ids.
    fn find(&self, id: &str) -> Option<&'a Spanned<RawDirectoryPerson>> {
        self.raw.iter().rev().find(|e| e.value.id.value.trim().eq_ignore_ascii_case(id))
    }

    /// Whether two entries use this very id (already an error of its own).
    fn repeated(&self, id: &str) -> bool {
        self.raw.iter().filter(|e| e.value.id.value.trim().eq_ignore_ascii_case(id)).count() > 1
    }
}

fn report_issues(
    checker: &mut Checker,
    entries: &Entries<'_>,
    merged: &MergedPeople,
    snapshot: &Snapshot,
    left_out: &HashSet<&str>,
) {
    let mut no_phone = Vec::new();
    let mut ambiguous = HashSet::new();
    for issue in &merged.issues {
        match issue {
            MergeIssue::MissingFromDirectory { id } => {
                let Some(entry) = entries.find(id) else { continue };
                if entries.flawed.contains(id) {
                    continue;
                }
                missing_from_directory(checker, &entry.value, id, snapshot);
            }
            MergeIssue::DuplicatePolicyEntry { id, person } => {
                if entries.repeated(id) {
                    continue;
                }
                let Some(entry) = entries.find(id) else { continue };
                let first = entries.find(person).map(|e| position(&e.value.id.referenced).0);
                checker.error(
                    &entry.value.id.referenced,
                    format!("person `{id}` is the same person as `{person}`"),
                    Some(match first {
                        Some(line) => format!(
                            "both entries match one directory person; merge this entry into the one on line {line}"
                        ),
                        None => "both entries match one directory person; merge them".to_owned(),
                    }),
                );
            }
            MergeIssue::AmbiguousPolicyEntry { id, by_id, by_address } => {
                let Some(entry) = entries.find(id) else { continue };
                ambiguous.insert(id.clone());
                let theirs = merged.resolve(by_address);
                let at = entry
                    .value
                    .email
                    .iter()
                    .chain(&entry.value.aliases)
                    .find(|t| theirs.is_some() && merged.by_address(&t.value) == theirs)
                    .unwrap_or(&entry.value.id);
                checker.error(
                    &at.referenced,
                    format!(
                        "person `{id}` is `{by_id}` in the directory by id, but this address belongs to `{by_address}`"
                    ),
                    Some("correct the id or the address so both name the same person".into()),
                );
            }
            MergeIssue::AddressClaimedTwice { address, kept_by, dropped_from } => {
                let entry =
                    entries.find(dropped_from).filter(|_| !ambiguous.contains(dropped_from));
                let written = entry.and_then(|e| address_in_entry(&e.value, address));
                match written {
                    Some(t) => checker.error(
                        &t.referenced,
                        format!("address `{address}` is already used by person `{kept_by}`"),
                        Some("the directory gives it to them; each address may belong to one person or team".into()),
                    ),
                    None if entry.is_some() || ambiguous.contains(dropped_from) => {}
                    None => checker.warn_file(
                        format!("directory: {issue}"),
                        Some("correct the address in the directory".into()),
                    ),
                }
            }
            MergeIssue::DuplicateInDirectory { .. } => checker.warn_file(
                format!("directory: {issue}"),
                Some(
                    "remove the person from one source, or accept that the first source wins"
                        .into(),
                ),
            ),
            MergeIssue::NoPhone { id } => match entries.find(id) {
                Some(entry) => checker.warn(
                    &entry.value.id.referenced,
                    format!("person `{id}` has no `phone` or `mobile`, here or in the directory"),
                    Some(
                        "customers are given the organisation's number instead; add `phone:`"
                            .into(),
                    ),
                ),
                None if left_out.contains(id.as_str()) => {}
                None => no_phone.push(id.as_str()),
            },
        }
    }
    if !no_phone.is_empty() {
        checker.warn_file(
            format!(
                "directory: {} without a phone or mobile number: {}",
                if no_phone.len() == 1 { "1 person".to_owned() } else { format!("{} people", no_phone.len()) },
                listing(&no_phone)
            ),
            Some(
                "replies can only give the organisation's number for them; add the numbers in the directory, or `phone:` in a `people:` entry"
                    .into(),
            ),
        );
    }
}

fn missing_from_directory(
    checker: &mut Checker,
    entry: &RawDirectoryPerson,
    id: &str,
    snapshot: &Snapshot,
) {
    let lacking: Vec<&str> = [("`name`", entry.name.is_none()), ("`email`", entry.email.is_none())]
        .into_iter()
        .filter_map(|(key, missing)| missing.then_some(key))
        .collect();
    let message = if lacking.len() == 2 {
        format!("person `{id}` is not in the directory")
    } else {
        format!("person `{id}` is not in the directory and has no {}", lacking.join(" or "))
    };
    let known = snapshot.people.iter().map(|p| p.id.as_str());
    let hint = match hints::nearest(id, known) {
        Some(k) => format!("did you mean `{k}`? ids are the directory's (`courtesy directory show`)"),
        None => "if they left or were renamed, remove the entry; someone outside the directory needs `name` and `email`".to_owned(),
    };
    checker.error(&entry.id.referenced, message, Some(hint));
}

/// Where an entry writes an address (e-mail or alias), compared lower-case.
fn address_in_entry<'e>(entry: &'e RawDirectoryPerson, address: &str) -> Option<&'e Text> {
    entry
        .email
        .iter()
        .chain(&entry.aliases)
        .find(|t| check_email(t.value.trim()).is_ok_and(|a| a == address))
}

/// Ids joined with commas, the first few only.
fn listing(ids: &[&str]) -> String {
    let mut text = ids.iter().take(LISTED_IDS).copied().collect::<Vec<_>>().join(", ");
    if ids.len() > LISTED_IDS {
        text.push_str(&format!(" and {} more", ids.len() - LISTED_IDS));
    }
    text
}

/// One of [`Checker`]'s value checks.
type ValueCheck = fn(&mut Checker, &Text, &str) -> Option<String>;

/// The policy's person for a merged person, with every value that came
/// from the directory held to the file's rules. `None` (with a warning)
/// when the name or primary address is unusable.
fn directory_values(checker: &mut Checker, m: &MergedPerson) -> Option<Person> {
    let mut scratch = Checker::new("");
    // Runs a value check outside the file: the value, or why it fails.
    let mut check = |value: &str, what: &str, f: ValueCheck| {
        let text = Spanned::new(value.to_owned(), Location::UNKNOWN, Location::UNKNOWN);
        let before = scratch.diagnostics.len();
        let checked = f(&mut scratch, &text, what);
        let reason = scratch.diagnostics.get(before).map(|d| d.message.clone());
        checked.ok_or_else(|| reason.unwrap_or_else(|| format!("{what} `{value}` is not usable")))
    };
    let from_directory = |from: &Provenance| matches!(from, Provenance::Directory(_));
    let mut left_out = |reason: String, from: &Provenance| {
        checker.warn_file(
            format!("directory: person `{}`: {reason}; it is left out", m.id),
            Some(format!("correct it in {from}")),
        );
    };

    let mut field = |value: &crate::directory::Sourced<String>, what: &str, f: ValueCheck| {
        if !from_directory(&value.from) {
            return Some(value.value.clone());
        }
        check(&value.value, what, f).map_err(|reason| left_out(reason, &value.from)).ok()
    };
    let name = field(&m.name, "name", Checker::line)?;
    let email = field(&m.email, "address", Checker::email)?;
    let aliases = m.aliases.iter().filter_map(|a| field(a, "alias", Checker::email)).collect();
    let mut number = |value: &Option<crate::directory::Sourced<String>>, what: &str| {
        value.as_ref().and_then(|v| field(v, what, Checker::phone))
    };
    let phone = number(&m.phone, "phone");
    let mobile = number(&m.mobile, "mobile");
    Some(Person { id: m.id.clone(), name, email, aliases, phone, mobile, substitute: None })
}

/// Resolves each entry's `substitute` at its position, by policy or directory id.
fn substitutes(
    checker: &mut Checker,
    raw: &[Spanned<RawDirectoryPerson>],
    merged: &MergedPeople,
    kept: &[Option<usize>],
    ids: &PersonIds,
    people: &mut [Person],
) {
    for entry in raw {
        let id = entry.value.id.value.trim();
        let Some(t) = &entry.value.substitute else {
            // Directory people need no substitute (most will not have one),
            // but someone the file adds is a person the manager chose to list.
            let added = merged.resolve(id).map(|m| &merged.people[m]).is_some_and(|m| {
                m.id.eq_ignore_ascii_case(id)
                    && m.email.from == Provenance::Policy
                    && m.name.from == Provenance::Policy
                    && m.other_ids.is_empty()
            });
            if added {
                checker.warn(
                    &entry.value.id.referenced,
                    format!("person `{id}` has no `substitute`"),
                    Some("their away replies cannot name anyone; add `substitute: <id>`".into()),
                );
            }
            continue;
        };
        let Some(s) = person_ref(checker, ids, t, "substitute") else { continue };
        // Only the entry the merge used for this person sets its substitute;
        // a second entry for the same person is an error already.
        let Some(i) = merged
            .resolve(id)
            .filter(|&m| merged.people[m].id.eq_ignore_ascii_case(id))
            .and_then(|m| kept[m])
        else {
            continue;
        };
        if s == i {
            checker.error(
                &t.referenced,
                format!("person `{}` is their own substitute", people[i].id),
                Some("name a colleague who handles their mail while they are away".into()),
            );
        } else {
            people[i].substitute = Some(s);
        }
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
