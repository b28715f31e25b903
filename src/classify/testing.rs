//! A small house policy for the classifier's unit tests.

use std::collections::{BTreeMap, HashMap};

use crate::policy::{Actions, Language, Organisation, Person, Policy, PolicySource, Sender, Team};

/// Voorbeeld B.V. with two people and two teams:
/// `ineke@voorbeeld.nl` (Ineke de Vries), `maarten@voorbeeld.nl` (Maarten
/// Hoekstra), `incasso@voorbeeld.nl` (Team Incasso), `support@voorbeeld.nl`
/// (Team Support).
pub(crate) fn policy() -> Policy {
    let person = |id: &str, name: &str, email: &str| Person {
        id: id.into(),
        name: name.into(),
        email: email.into(),
        ..Person::default()
    };
    let people = vec![
        person("ineke", "Ineke de Vries", "ineke@voorbeeld.nl"),
        person("maarten", "Maarten Hoekstra", "maarten@voorbeeld.nl"),
    ];
    let teams = vec![
        Team {
            id: "incasso".into(),
            name: "Team Incasso".into(),
            addresses: vec!["incasso@voorbeeld.nl".into()],
            members: vec![0, 1],
            ..Team::default()
        },
        Team {
            id: "support".into(),
            name: "Team Support".into(),
            addresses: vec!["support@voorbeeld.nl".into()],
            members: vec![1],
            ..Team::default()
        },
    ];
    let mut by_address = HashMap::new();
    for (i, p) in people.iter().enumerate() {
        by_address.insert(p.email.clone(), Sender::Person(i));
    }
    for (i, t) in teams.iter().enumerate() {
        for a in &t.addresses {
            by_address.insert(a.clone(), Sender::Team(i));
        }
    }
    Policy {
        version: 1,
        revision: None,
        source: PolicySource::default(),
        organisation: Organisation {
            name: "Voorbeeld B.V.".into(),
            domains: vec!["voorbeeld.nl".into()],
            phone: None,
            email: None,
        },
        default_language: Language::Nl,
        response_time: BTreeMap::new(),
        max_response_days: 2,
        people,
        teams,
        dossiers: Vec::new(),
        phrase_rules: Vec::new(),
        actions: Actions::default(),
        templates: minijinja::Environment::new(),
        by_address,
    }
}
