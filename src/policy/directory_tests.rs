//! Loading a policy over a directory snapshot: positions, hints and which
//! value wins.

use time::OffsetDateTime;

use crate::directory::{DirectoryPerson, Snapshot};
use crate::policy::{Loaded, PolicyErrors, Sender, Severity, load_str, load_str_with};

fn person(id: &str, name: &str, email: &str, phone: Option<&str>, source: &str) -> DirectoryPerson {
    DirectoryPerson {
        id: id.into(),
        name: name.into(),
        email: email.into(),
        aliases: vec![],
        phone: phone.map(str::to_owned),
        mobile: None,
        department: None,
        source: source.into(),
    }
}

fn snapshot() -> Snapshot {
    let mut famrani =
        person("famrani", "Fatima el Amrani", "fatima.elamrani@firm.nl", None, "directory:ldap");
    famrani.mobile = Some("+31 6 5550 0202".into());
    let mut jdevries = person(
        "jdevries",
        "Jan de Vries",
        "jan.devries@firm.nl",
        Some("+31 20 555 0101"),
        "directory:ldap",
    );
    jdevries.aliases = vec!["jdv@firm.nl".into()];
    Snapshot {
        taken_at: OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("valid time"),
        people: vec![
            jdevries,
            famrani,
            person(
                "ejansen",
                "Ellen Jansen",
                "e.jansen@firm.nl",
                Some("+31 20 555 0104"),
                "directory:ldap",
            ),
            person(
                "kbakker",
                "Kees Bakker",
                "kees.bakker@firm.nl",
                Some("+31 20 555 0303"),
                "directory:ldap",
            ),
        ],
    }
}

const HEAD: &str = "\
version: 1
organisation:
  name: Firm
  domains: [firm.nl]
  phone: \"+31 20 555 0100\"
";

const POLICY: &str = "\
people:
  - id: jdevries
    mobile: \"+31 6 1234 5678\"
    substitute: famrani
  - id: ellen
    email: e.jansen@firm.nl
    phone: \"+31 20 555 0150\"
  - id: adviseur
    name: Mr. R. Visser
    email: r.visser@firm.nl
    phone: \"+31 30 555 0400\"
    substitute: JDevries
teams:
  - id: incasso
    name: Team Incasso
    addresses: [incasso@firm.nl]
    members: [jdevries, famrani, ellen]
dossiers:
  - customers: [\"@grootklant.nl\"]
    handler: kbakker
";

fn load(policy: &str, snapshot: &Snapshot) -> Result<Loaded, PolicyErrors> {
    load_str_with(&format!("{HEAD}{policy}"), "p.yaml", Some(snapshot))
}

/// Every finding as `line:col: severity: message`.
fn findings(diagnostics: &[crate::policy::Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}: {}", d.line, d.column, d.severity, d.message))
        .collect()
}

fn errors(policy: &str, snapshot: &Snapshot) -> PolicyErrors {
    match load(policy, snapshot) {
        Ok(l) => panic!("unexpectedly valid, warnings: {:?}", findings(&l.warnings)),
        Err(e) => e,
    }
}

#[test]
fn entries_with_only_an_id_take_the_rest_from_the_directory() {
    let loaded = load(POLICY, &snapshot()).expect("valid");
    assert!(loaded.warnings.is_empty(), "{:?}", findings(&loaded.warnings));
    let p = &loaded.policy;
    let jan = &p.people[p.person_by_id("jdevries").expect("jan")];
    assert_eq!(jan.name, "Jan de Vries");
    assert_eq!(jan.email, "jan.devries@firm.nl");
    assert_eq!(jan.phone.as_deref(), Some("+31 20 555 0101"));
    assert_eq!(jan.mobile.as_deref(), Some("+31 6 1234 5678"), "the policy's field wins");
    let fatima = jan.substitute.map(|s| &p.people[s]).expect("substitute");
    assert_eq!(fatima.name, "Fatima el Amrani");
    assert_eq!(fatima.best_phone(), Some("+31 6 5550 0202"));
    // Matched by address: the policy's id and phone, the directory's name.
    let ellen = &p.people[p.person_by_id("ellen").expect("ellen")];
    assert_eq!(ellen.name, "Ellen Jansen");
    assert_eq!(ellen.phone.as_deref(), Some("+31 20 555 0150"));
    // The directory id of a renamed entry, and a reference in another case.
    let team = &p.teams[0];
    assert_eq!(
        team.members,
        vec![
            p.person_by_id("jdevries").expect("jan"),
            jan.substitute.expect("fatima"),
            p.person_by_id("ellen").expect("ellen")
        ]
    );
    let adviser = &p.people[p.person_by_id("adviseur").expect("adviser")];
    assert_eq!(adviser.substitute, p.person_by_id("jdevries"));
    assert_eq!(p.people[p.dossiers[0].handler].name, "Kees Bakker");
    assert_eq!(p.sender("JDV@firm.nl"), p.person_by_id("jdevries").map(Sender::Person));
    assert_eq!(p.sender("incasso@firm.nl"), Some(Sender::Team(0)));
}

#[test]
fn a_member_listed_by_both_ids_is_listed_twice() {
    // `ellen` and `ejansen` are one person: that is the duplicate-member error.
    let e = errors(
        &POLICY.replace("members: [jdevries, famrani, ellen]", "members: [ellen, ejansen]"),
        &snapshot(),
    );
    let f = findings(&e.diagnostics);
    assert_eq!(f, vec!["22:22: error: member `ejansen` is listed twice in team `incasso`"]);
}

#[test]
fn someone_who_left_is_an_error_at_every_reference() {
    let mut snap = snapshot();
    snap.people.retain(|p| p.id != "kbakker" && p.id != "famrani");
    let e = errors(POLICY, &snap);
    let f = findings(&e.diagnostics);
    assert_eq!(
        f,
        vec![
            "9:17: error: substitute `famrani` is neither in this file nor in the directory",
            "22:25: error: member `famrani` is neither in this file nor in the directory",
            "25:14: error: handler `kbakker` is neither in this file nor in the directory",
        ]
    );
    let hint = e.diagnostics[2].hint.as_deref().unwrap_or_default();
    assert!(hint.contains("if they left"), "{hint}");
}

#[test]
fn a_typo_gets_the_nearest_id_from_either_source() {
    let e = errors(&POLICY.replace("handler: kbakker", "handler: kbaker"), &snapshot());
    let d = e.errors().next().expect("an error");
    assert_eq!((d.line, d.column), (25, 14));
    assert_eq!(d.hint.as_deref(), Some("did you mean `kbakker`?"));
    let e = errors(&POLICY.replace("substitute: JDevries", "substitute: advsieur"), &snapshot());
    assert_eq!(e.errors().next().and_then(|d| d.hint.as_deref()), Some("did you mean `adviseur`?"));
}

#[test]
fn an_entry_for_someone_not_in_the_directory_needs_name_and_email() {
    let e = errors(&POLICY.replace("  - id: jdevries\n", "  - id: jdevrie\n"), &snapshot());
    let d = e.errors().next().expect("an error");
    assert_eq!(
        format!("{}:{}: {}", d.line, d.column, d.message),
        "7:9: person `jdevrie` is not in the directory"
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("did you mean `jdevries`? ids are the directory's (`courtesy directory show`)")
    );
}

#[test]
fn an_address_of_another_directory_person_is_an_error_at_the_address() {
    // `ellen` is Ellen Jansen by her address; the alias is Kees Bakker's.
    let policy = POLICY.replace(
        "    phone: \"+31 20 555 0150\"\n",
        "    phone: \"+31 20 555 0150\"\n    aliases: [kees.bakker@firm.nl]\n",
    );
    let f = findings(&errors(&policy, &snapshot()).diagnostics);
    assert_eq!(
        f,
        vec!["13:15: error: address `kees.bakker@firm.nl` is already used by person `kbakker`"]
    );
    // Matched by id, but an address names someone else: one error, at that address.
    let policy = POLICY.replace(
        "    substitute: famrani\n",
        "    substitute: famrani\n    aliases: [kees.bakker@firm.nl]\n",
    );
    let f = findings(&errors(&policy, &snapshot()).diagnostics);
    assert_eq!(
        f,
        vec![
            "10:15: error: person `jdevries` is `jdevries` in the directory by id, but this address belongs to `kbakker`"
        ]
    );
}

#[test]
fn two_entries_for_one_person_are_an_error() {
    let policy =
        POLICY.replace("people:\n", "people:\n  - id: jan\n    email: jan.devries@firm.nl\n");
    let f = findings(&errors(&policy, &snapshot()).diagnostics);
    assert_eq!(f, vec!["9:9: error: person `jdevries` is the same person as `jan`"]);
}

#[test]
fn directory_findings_are_warnings_about_the_file() {
    let mut snap = snapshot();
    snap.people.push(person(
        "kbakker",
        "Kees Bakker",
        "kees.bakker@firm.nl",
        None,
        "directory:csv:hr.csv",
    ));
    snap.people.push(person("mw017", "Medewerker 17", "mw017@firm.nl", None, "directory:ldap"));
    snap.people.push(person("mw018", "Medewerker\n18", "mw018@firm.nl", None, "directory:ldap"));
    let mut odd =
        person("mw019", "Medewerker 19", "mw019@firm.nl", Some("ext. 19"), "directory:ldap");
    odd.mobile = Some("+31 6 5550 0019".into());
    snap.people.push(odd);
    let loaded = load(POLICY, &snap).expect("valid");
    let f = findings(&loaded.warnings);
    assert!(f.iter().all(|w| w.starts_with("0:0: warning: directory: ")), "{f:?}");
    assert!(
        f.iter().any(|w| w.contains("kbakker is in directory:ldap and directory:csv:hr.csv")),
        "{f:?}"
    );
    assert!(
        f.iter().any(|w| w.contains("1 person without a phone or mobile number: mw017")),
        "{f:?}"
    );
    assert!(f.iter().any(|w| w.contains("person `mw018`: name contains a line break")), "{f:?}");
    assert!(
        f.iter().any(|w| w.contains("person `mw019`: phone `ext. 19` is not a valid phone")),
        "{f:?}"
    );
    let p = &loaded.policy;
    assert_eq!(p.person_by_id("mw018"), None, "a name with a line break never reaches a reply");
    let mw019 = &p.people[p.person_by_id("mw019").expect("kept")];
    assert_eq!((mw019.phone.as_deref(), mw019.mobile.as_deref()), (None, Some("+31 6 5550 0019")));
}

#[test]
fn a_team_address_that_the_directory_gives_a_person_goes_to_the_team() {
    let mut snap = snapshot();
    snap.people[0].aliases.push("incasso@firm.nl".into());
    let loaded = load(POLICY, &snap).expect("valid");
    let f = findings(&loaded.warnings);
    assert_eq!(
        f,
        vec![
            "21:17: warning: address `incasso@firm.nl` is also an address of person `jdevries` in the directory"
        ]
    );
    assert_eq!(loaded.policy.sender("incasso@firm.nl"), Some(Sender::Team(0)));
}

#[test]
fn without_a_snapshot_an_id_only_entry_is_still_incomplete() {
    let e =
        load_str(&format!("{HEAD}{POLICY}"), "p.yaml").expect_err("name and email are required");
    assert_eq!(e.diagnostics.len(), 1);
    assert_eq!(e.diagnostics[0].severity, Severity::Error);
    assert!(
        e.diagnostics[0].message.contains("missing required key"),
        "{}",
        e.diagnostics[0].message
    );
}

#[test]
fn an_added_person_without_substitute_is_warned_about() {
    let loaded =
        load(&POLICY.replace("    substitute: JDevries\n", ""), &snapshot()).expect("valid");
    assert_eq!(
        findings(&loaded.warnings),
        vec!["13:9: warning: person `adviseur` has no `substitute`"]
    );
}
