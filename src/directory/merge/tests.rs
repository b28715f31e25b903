use time::OffsetDateTime;

use super::*;

fn dir(id: &str, source: &str) -> DirectoryPerson {
    DirectoryPerson {
        id: id.into(),
        name: format!("Name {id}"),
        email: format!("{id}@firm.nl"),
        aliases: vec![],
        phone: Some(format!("+31 20 {id}")),
        mobile: None,
        department: None,
        source: source.into(),
    }
}

fn snapshot(people: Vec<DirectoryPerson>) -> Snapshot {
    Snapshot { taken_at: OffsetDateTime::UNIX_EPOCH, people }
}

fn entry(id: &str) -> PolicyPersonInput {
    PolicyPersonInput { id: id.into(), ..PolicyPersonInput::default() }
}

#[test]
fn directory_people_carry_their_source() {
    let merged = merge(&snapshot(vec![dir("jan", "directory:ldap")]), &[]);
    let jan = &merged.people[0];
    assert_eq!(jan.name.from, Provenance::Directory("directory:ldap".into()));
    assert_eq!(jan.phone.as_ref().map(|p| p.from.to_string()).as_deref(), Some("directory:ldap"));
    assert!(merged.issues.is_empty(), "{:?}", merged.issues);
}

#[test]
fn policy_overrides_by_id_and_keeps_other_fields() {
    let mut e = entry("JAN");
    e.phone = Some("+31 6 1234 5678".into());
    e.substitute = Some("piet".into());
    let merged =
        merge(&snapshot(vec![dir("jan", "directory:ldap"), dir("piet", "directory:ldap")]), &[e]);
    let jan = &merged.people[merged.resolve("jan").expect("jan")];
    assert_eq!(jan.id, "JAN");
    assert_eq!(
        jan.phone.as_ref().map(|p| (p.value.as_str(), p.from.clone())),
        Some(("+31 6 1234 5678", Provenance::Policy))
    );
    assert_eq!(jan.name.from, Provenance::Directory("directory:ldap".into()));
    let (people, dangling) = merged.to_people();
    assert!(dangling.is_empty());
    let idx = merged.resolve("JAN").expect("resolves");
    assert_eq!(people[idx].substitute, merged.resolve("piet"));
}

#[test]
fn policy_overrides_by_address_and_both_ids_resolve() {
    let mut e = entry("jan.devries");
    e.email = Some("JAN@firm.nl".into());
    e.name = Some("Jan de Vries".into());
    let merged = merge(&snapshot(vec![dir("jan", "directory:ldap")]), &[e]);
    assert_eq!(merged.people.len(), 1);
    let p = &merged.people[0];
    assert_eq!(p.id, "jan.devries");
    assert_eq!(p.other_ids, vec!["jan"]);
    assert_eq!(p.name.value, "Jan de Vries");
    assert_eq!(merged.resolve("jan"), Some(0));
    assert_eq!(merged.resolve("jan.devries"), Some(0));
}

#[test]
fn policy_email_demotes_directory_address_to_alias() {
    let mut e = entry("jan");
    e.email = Some("j.devries@firm.nl".into());
    let merged = merge(&snapshot(vec![dir("jan", "directory:ldap")]), &[e]);
    let p = &merged.people[0];
    assert_eq!(p.email.value, "j.devries@firm.nl");
    assert_eq!(p.aliases.iter().map(|a| a.value.as_str()).collect::<Vec<_>>(), vec!["jan@firm.nl"]);
    assert_eq!(merged.by_address("Jan@Firm.nl"), Some(0));
    assert_eq!(merged.by_address("j.devries@firm.nl"), Some(0));
}

#[test]
fn earlier_source_wins_later_fills_gaps_and_duplicate_is_reported() {
    let ldap = dir("jan", "directory:ldap");
    let mut csv = dir("jan", "directory:csv:people.csv");
    csv.phone = Some("+31 99".into());
    csv.mobile = Some("+31 6 0000".into());
    csv.aliases = vec!["jdv@firm.nl".into()];
    let merged = merge(&snapshot(vec![ldap, csv]), &[]);
    assert_eq!(merged.people.len(), 1);
    let p = &merged.people[0];
    assert_eq!(p.phone.as_ref().map(|x| x.value.as_str()), Some("+31 20 jan"));
    assert_eq!(
        p.mobile.as_ref().map(|x| x.from.to_string()).as_deref(),
        Some("directory:csv:people.csv")
    );
    assert_eq!(p.aliases[0].value, "jdv@firm.nl");
    assert_eq!(
        merged.issues,
        vec![MergeIssue::DuplicateInDirectory {
            id: "jan".into(),
            kept: "directory:ldap".into(),
            also_in: "directory:csv:people.csv".into(),
        }]
    );
}

#[test]
fn partial_entry_for_unknown_person_is_missing_and_complete_one_is_added() {
    let mut gone = entry("kees");
    gone.phone = Some("+31 1".into());
    let mut added = entry("extern");
    added.name = Some("Extern Adviseur".into());
    added.email = Some("adviseur@partner.nl".into());
    let merged = merge(&snapshot(vec![dir("jan", "directory:ldap")]), &[gone, added]);
    assert!(merged.issues.contains(&MergeIssue::MissingFromDirectory { id: "kees".into() }));
    assert!(merged.resolve("kees").is_none());
    let extern_ = &merged.people[merged.resolve("extern").expect("added")];
    assert_eq!(extern_.email.from, Provenance::Policy);
    assert!(merged.issues.contains(&MergeIssue::NoPhone { id: "extern".into() }));
}

#[test]
fn address_claimed_by_two_people_stays_with_the_first() {
    let a = dir("a", "directory:ldap");
    let mut b = dir("b", "directory:ldap");
    b.aliases = vec!["a@firm.nl".into()];
    let merged = merge(&snapshot(vec![a, b]), &[]);
    assert_eq!(merged.by_address("a@firm.nl"), merged.resolve("a"));
    assert!(merged.people[1].aliases.is_empty());
    assert!(
        matches!(&merged.issues[0], MergeIssue::AddressClaimedTwice { kept_by, .. } if kept_by == "a")
    );
}

#[test]
fn ambiguous_and_duplicate_policy_entries_are_reported() {
    let mut ambiguous = entry("a");
    ambiguous.email = Some("b@firm.nl".into());
    let second = entry("A");
    let merged = merge(&snapshot(vec![dir("a", "l"), dir("b", "l")]), &[ambiguous, second]);
    assert!(
        merged
            .issues
            .iter()
            .any(|i| matches!(i, MergeIssue::AmbiguousPolicyEntry { by_id, .. } if by_id == "a"))
    );
    assert!(
        merged
            .issues
            .iter()
            .any(|i| matches!(i, MergeIssue::DuplicatePolicyEntry { id, .. } if id == "A"))
    );
}

#[test]
fn dangling_substitute_is_returned_not_dropped_silently() {
    let mut e = entry("a");
    e.substitute = Some("nobody".into());
    let merged = merge(&snapshot(vec![dir("a", "l")]), &[e]);
    let (_, dangling) = merged.to_people();
    assert_eq!(dangling, vec![("a".to_string(), "nobody".to_string())]);
}
