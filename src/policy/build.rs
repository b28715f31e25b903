//! Validates the raw policy section by section and indexes it into a
//! [`Policy`]. Every check records its finding and carries on, so one run
//! reports everything that is wrong.

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::{Location, Spanned};

use super::hints;
use super::phrases;
use super::raw::{RawDefaults, RawDossier, RawOrganisation, RawPerson, RawPolicy, RawTeam, Text};
use super::values::{Checker, position};
use super::{
    CustomerPattern, Dossier, Language, Organisation, Person, Policy, PolicySource, Sender, Team,
    builtin, templates,
};

/// Default for `defaults.max_response_days`.
pub const DEFAULT_MAX_RESPONSE_DAYS: u32 = 2;
/// Highest accepted `defaults.max_response_days`.
const MAX_RESPONSE_DAYS_LIMIT: i64 = 365;

/// Who already uses an address, for "used twice" errors.
pub(crate) struct Owner {
    /// `person `x`` or `team `y``.
    pub what: String,
    /// Where the owner claimed it; `None` for an address from the directory.
    pub line: Option<usize>,
}

/// Every address claimed so far, lower-case.
pub(crate) type Addresses = HashMap<String, Owner>;

/// The people stage's result.
pub(crate) struct PeopleStage {
    /// The people, in the order [`Policy::people`] keeps them.
    pub people: Vec<Person>,
    /// How substitutes, members and handlers find them.
    pub ids: PersonIds,
}

/// Looks up people by the ids references may use.
pub(crate) struct PersonIds {
    index: HashMap<String, usize>,
    /// Directory ids are matched without regard to case, as directories do.
    fold_case: bool,
    /// Every id, in order, for "did you mean" hints.
    names: Vec<String>,
}

impl PersonIds {
    /// Ids exactly as written in the file; the i-th id names the i-th person.
    fn exact<'a>(ids: impl Iterator<Item = &'a str>) -> PersonIds {
        let mut index = HashMap::new();
        let mut names = Vec::new();
        for (i, id) in ids.enumerate() {
            index.insert(id.to_owned(), i);
            names.push(id.to_owned());
        }
        PersonIds { index, fold_case: false, names }
    }

    /// Ids from the file and the directory, matched without regard to case.
    pub(crate) fn folded(ids: impl IntoIterator<Item = (String, usize)>) -> PersonIds {
        let mut index = HashMap::new();
        let mut names = Vec::new();
        for (id, i) in ids {
            index.entry(id.to_lowercase()).or_insert(i);
            names.push(id);
        }
        PersonIds { index, fold_case: true, names }
    }

    fn get(&self, id: &str) -> Option<usize> {
        if self.fold_case {
            self.index.get(&id.to_lowercase()).copied()
        } else {
            self.index.get(id).copied()
        }
    }
}

/// Builds a policy whose people all come from the file itself.
pub(crate) fn build(
    raw: &RawPolicy,
    text: &str,
    source: PolicySource,
    checker: &mut Checker,
) -> Policy {
    build_with(raw, text, source, checker, |checker, entries, organisation, addresses| {
        let people = people(checker, entries, organisation, addresses);
        let ids = PersonIds::exact(entries.iter().map(|p| p.value.id.value.trim()));
        PeopleStage { people, ids }
    })
}

/// Builds the policy; findings go to `checker`. The result is only
/// meaningful when `checker` has no errors. `people` is the stage that turns
/// the `people:` entries into people (on their own, or laid over the
/// directory); every other section is checked the same way either way.
pub(crate) fn build_with<P>(
    raw: &RawPolicy<P>,
    text: &str,
    source: PolicySource,
    checker: &mut Checker,
    people: impl FnOnce(&mut Checker, &[Spanned<P>], &Organisation, &mut Addresses) -> PeopleStage,
) -> Policy {
    if raw.version.value != 1 {
        checker.error(
            &raw.version.referenced,
            format!("unsupported policy version {}", raw.version.value),
            Some("this version of courtesy reads `version: 1`".into()),
        );
    }
    let revision = raw.revision.as_ref().and_then(|r| checker.line(r, "`revision`"));
    let organisation = organisation(checker, &raw.organisation);
    let (default_language, response_time, max_response_days) =
        defaults(checker, raw.defaults.as_ref());

    let mut addresses: Addresses = HashMap::new();
    let PeopleStage { people, ids: person_ids } =
        people(checker, &raw.people, &organisation, &mut addresses);
    let teams = teams(checker, &raw.teams, &person_ids, &organisation, &mut addresses);
    let dossiers = dossiers(checker, &raw.dossiers, &person_ids);
    let phrase_rules = phrases::phrase_rules(checker, &raw.phrases);
    let actions = phrases::actions(checker, raw.actions.as_ref());
    let templates = templates::compile(raw.templates.as_ref(), text, checker);

    let mut by_address = HashMap::new();
    for (i, p) in people.iter().enumerate() {
        for a in std::iter::once(&p.email).chain(&p.aliases) {
            // The first claim wins, as the directory merge decides; within
            // the file an address used twice is an error anyway.
            by_address.entry(a.clone()).or_insert(Sender::Person(i));
        }
    }
    for (i, t) in teams.iter().enumerate() {
        for a in &t.addresses {
            by_address.insert(a.clone(), Sender::Team(i));
        }
    }
    Policy {
        version: 1,
        revision,
        source,
        organisation,
        default_language,
        response_time,
        max_response_days,
        people,
        teams,
        dossiers,
        phrase_rules,
        actions,
        templates,
        by_address,
    }
}

fn organisation(checker: &mut Checker, raw: &Spanned<RawOrganisation>) -> Organisation {
    let o = &raw.value;
    let name = checker.line(&o.name, "organisation `name`").unwrap_or_default();
    let mut domains: Vec<String> = Vec::new();
    for d in &o.domains.value {
        if let Some(domain) = checker.domain(d, "organisation domain") {
            if domains.contains(&domain) {
                checker.error(
                    &d.referenced,
                    format!("domain `{domain}` is listed twice"),
                    Some("remove one of them".into()),
                );
            } else {
                domains.push(domain);
            }
        }
    }
    if o.domains.value.is_empty() {
        checker.error(
            &o.domains.referenced,
            "`domains` is empty".into(),
            Some("list the firm's mail domains, e.g. `domains: [voorbeeld.nl]`".into()),
        );
    }
    let phone = o.phone.as_ref().and_then(|p| checker.phone(p, "organisation `phone`"));
    if o.phone.is_none() {
        checker.warn(
            &raw.referenced,
            "the organisation has no `phone`".into(),
            Some("add `phone:`; texts fall back to it when a person has no number".into()),
        );
    }
    let email = o.email.as_ref().and_then(|e| checker.email(e, "organisation `email`"));
    Organisation { name, domains, phone, email }
}

fn defaults(
    checker: &mut Checker,
    raw: Option<&Spanned<RawDefaults>>,
) -> (Language, BTreeMap<Language, String>, u32) {
    let raw = raw.map(|r| &r.value);
    let language = raw
        .and_then(|d| d.language.as_ref())
        .and_then(|l| phrases::language(checker, l, "`language`"))
        .unwrap_or(Language::Nl);
    let mut promises: BTreeMap<Language, String> =
        Language::ALL.into_iter().map(|l| (l, builtin::response_time(l).to_owned())).collect();
    if let Some(given) = raw.and_then(|d| d.response_time.as_ref()) {
        for (l, t) in given.entries() {
            if let Some(v) = checker.line(t, &format!("`response_time.{l}`")) {
                promises.insert(l, v);
            }
        }
    }
    let days = match raw.and_then(|d| d.max_response_days.as_ref()) {
        None => DEFAULT_MAX_RESPONSE_DAYS,
        Some(d) => match u32::try_from(d.value) {
            Ok(n) if (1..=MAX_RESPONSE_DAYS_LIMIT).contains(&d.value) => n,
            _ => {
                checker.error(
                    &d.referenced,
                    format!(
                        "`max_response_days` is {}, outside 1 to {MAX_RESPONSE_DAYS_LIMIT}",
                        d.value
                    ),
                    Some(format!("the usual value is {DEFAULT_MAX_RESPONSE_DAYS} working days")),
                );
                DEFAULT_MAX_RESPONSE_DAYS
            }
        },
    };
    (language, promises, days)
}

/// Registers an address; reports it if someone already uses it.
pub(crate) fn claim(
    checker: &mut Checker,
    addresses: &mut Addresses,
    address: &str,
    at: &Location,
    what: String,
) {
    let line = position(at).0;
    match addresses.get(address) {
        Some(Owner { what: owner, line: Some(first) }) => checker.error(
            at,
            format!("address `{address}` is already used by {owner}"),
            Some(format!("see line {first}; each address may belong to one person or team")),
        ),
        // The manager cannot change the directory, so its claim gives way
        // (a shared mailbox listed as someone's alias is common).
        Some(Owner { what: owner, line: None }) => {
            checker.warn(
                at,
                format!("address `{address}` is also an address of {owner} in the directory"),
                Some(format!("mail from it is treated as {what}'s; remove it from {owner} in the directory if that is wrong")),
            );
            addresses.insert(address.to_owned(), Owner { what, line: Some(line) });
        }
        None => {
            addresses.insert(address.to_owned(), Owner { what, line: Some(line) });
        }
    }
}

pub(crate) fn warn_foreign(
    checker: &mut Checker,
    org: &Organisation,
    address: &str,
    at: &Location,
) {
    let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
    if !org.domains.is_empty() && !org.domains.iter().any(|d| d == domain) {
        checker.warn(
            at,
            format!("address `{address}` is not at one of the organisation's domains"),
            Some("mail from it is not treated as the firm's; add its domain to `organisation.domains`".into()),
        );
    }
}

/// Reports an id that an earlier entry already uses.
pub(crate) fn unique_id(
    checker: &mut Checker,
    seen: &mut HashMap<String, usize>,
    id: &str,
    t: &Text,
    what: &str,
) {
    let line = position(&t.referenced).0;
    if let Some(first) = seen.get(id) {
        checker.error(
            &t.referenced,
            format!("{what} id `{id}` is used twice"),
            Some(format!("it is first used on line {first}; ids must be unique")),
        );
    } else {
        seen.insert(id.to_owned(), line);
    }
}

/// Resolves a reference to a person id, with a "did you mean" on failure.
pub(crate) fn person_ref(
    checker: &mut Checker,
    ids: &PersonIds,
    t: &Text,
    role: &str,
) -> Option<usize> {
    let id = checker.line(t, role)?;
    if let Some(i) = ids.get(&id) {
        return Some(i);
    }
    let names = ids.names.iter().map(String::as_str);
    if ids.fold_case {
        let hint = match hints::nearest(&id, names) {
            Some(k) => format!("did you mean `{k}`?"),
            None => "nobody has this id in this file or in the directory; if they left, name \
                     someone else (`courtesy directory show` lists everyone)"
                .to_owned(),
        };
        checker.error(
            &t.referenced,
            format!("{role} `{id}` is neither in this file nor in the directory"),
            Some(hint),
        );
    } else {
        let hint = hints::unknown_id(&id, names, "people");
        checker.error(
            &t.referenced,
            format!("{role} `{id}` is not the id of a person"),
            Some(hint),
        );
    }
    None
}

fn people(
    checker: &mut Checker,
    raw: &[Spanned<RawPerson>],
    org: &Organisation,
    addresses: &mut Addresses,
) -> Vec<Person> {
    let mut seen = HashMap::new();
    let mut people = Vec::with_capacity(raw.len());
    for entry in raw {
        let p = &entry.value;
        let id = checker.id(&p.id, "person `id`").unwrap_or_default();
        if !id.is_empty() {
            unique_id(checker, &mut seen, &id, &p.id, "person");
        }
        let name = checker.line(&p.name, "`name`").unwrap_or_default();
        let mut emails = Vec::new();
        for (t, what) in
            std::iter::once((&p.email, "`email`")).chain(p.aliases.iter().map(|a| (a, "alias")))
        {
            if let Some(address) = checker.email(t, what) {
                claim(checker, addresses, &address, &t.referenced, format!("person `{id}`"));
                warn_foreign(checker, org, &address, &t.referenced);
                emails.push(address);
            }
        }
        let phone = p.phone.as_ref().and_then(|t| checker.phone(t, "`phone`"));
        let mobile = p.mobile.as_ref().and_then(|t| checker.phone(t, "`mobile`"));
        if p.phone.is_none() && p.mobile.is_none() {
            checker.warn(
                &p.id.referenced,
                format!("person `{id}` has no `phone` or `mobile`"),
                Some("customers are given the organisation's number instead; add `phone:`".into()),
            );
        }
        if p.substitute.is_none() {
            checker.warn(
                &p.id.referenced,
                format!("person `{id}` has no `substitute`"),
                Some("their away replies cannot name anyone; add `substitute: <id>`".into()),
            );
        }
        let mut emails = emails.into_iter();
        people.push(Person {
            id,
            name,
            email: emails.next().unwrap_or_default(),
            aliases: emails.collect(),
            phone,
            mobile,
            substitute: None,
        });
    }
    // Substitutes may refer forwards, so they are resolved once all ids are known.
    let ids = PersonIds::exact(raw.iter().map(|p| p.value.id.value.trim()));
    for (i, entry) in raw.iter().enumerate() {
        let Some(t) = &entry.value.substitute else { continue };
        let Some(s) = person_ref(checker, &ids, t, "substitute") else { continue };
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
    people
}

fn teams(
    checker: &mut Checker,
    raw: &[Spanned<RawTeam>],
    person_ids: &PersonIds,
    org: &Organisation,
    addresses: &mut Addresses,
) -> Vec<Team> {
    let mut seen = HashMap::new();
    let mut teams = Vec::with_capacity(raw.len());
    for entry in raw {
        let t = &entry.value;
        let id = checker.id(&t.id, "team `id`").unwrap_or_default();
        if !id.is_empty() {
            unique_id(checker, &mut seen, &id, &t.id, "team");
        }
        let name = checker.line(&t.name, "team `name`").unwrap_or_default();
        let mut team_addresses = Vec::new();
        for a in &t.addresses {
            if let Some(address) = checker.email(a, "team address") {
                claim(checker, addresses, &address, &a.referenced, format!("team `{id}`"));
                warn_foreign(checker, org, &address, &a.referenced);
                team_addresses.push(address);
            }
        }
        if t.addresses.is_empty() {
            checker.warn(
                &t.id.referenced,
                format!("team `{id}` has no `addresses`"),
                Some("its mail is only recognised by the team name; add `addresses: [...]`".into()),
            );
        }
        let mut members = Vec::new();
        for m in &t.members {
            if let Some(p) = person_ref(checker, person_ids, m, "member") {
                if members.contains(&p) {
                    checker.error(
                        &m.referenced,
                        format!("member `{}` is listed twice in team `{id}`", m.value.trim()),
                        Some("remove one of them".into()),
                    );
                } else {
                    members.push(p);
                }
            }
        }
        if t.members.is_empty() {
            checker.warn(
                &t.id.referenced,
                format!("team `{id}` has no `members`"),
                Some("its signature cannot name anyone; add `members: [<id>, ...]`".into()),
            );
        }
        let phone = t.phone.as_ref().and_then(|p| checker.phone(p, "team `phone`"));
        let email = t.email.as_ref().and_then(|e| checker.email(e, "team `email`"));
        teams.push(Team { id, name, addresses: team_addresses, members, phone, email });
    }
    teams
}

fn dossiers(
    checker: &mut Checker,
    raw: &[Spanned<RawDossier>],
    person_ids: &PersonIds,
) -> Vec<Dossier> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut dossiers = Vec::with_capacity(raw.len());
    for entry in raw {
        let d = &entry.value;
        let mut customers = Vec::new();
        for c in &d.customers.value {
            let pattern = if c.value.trim_start().starts_with('@') {
                checker.domain(c, "customer domain").map(CustomerPattern::Domain)
            } else {
                checker.email(c, "customer address").map(CustomerPattern::Address)
            };
            let Some(pattern) = pattern else { continue };
            let key = match &pattern {
                CustomerPattern::Address(a) => a.clone(),
                CustomerPattern::Domain(dm) => format!("@{dm}"),
            };
            let line = position(&c.referenced).0;
            if let Some(first) = seen.get(&key) {
                checker.error(
                    &c.referenced,
                    format!("customer `{key}` is already in the dossier on line {first}"),
                    Some(
                        "the first match wins, so this entry would never be used; remove one"
                            .into(),
                    ),
                );
            } else {
                seen.insert(key, line);
                customers.push(pattern);
            }
        }
        if d.customers.value.is_empty() {
            checker.error(
                &d.customers.referenced,
                "`customers` is empty".into(),
                Some("list addresses or `@domain` entries, e.g. `[\"@klant.nl\"]`".into()),
            );
        }
        if let Some(handler) = person_ref(checker, person_ids, &d.handler, "handler") {
            dossiers.push(Dossier { customers, handler });
        }
    }
    dossiers
}
