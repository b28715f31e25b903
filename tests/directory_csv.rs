//! CSV exports as Active Directory (PowerShell) and Entra ID / Microsoft
//! 365 write them: quoted fields, a UTF-8 BOM, `#TYPE` lines, packed proxy
//! addresses, disabled accounts and a missing column.

use std::path::PathBuf;

use courtesy::directory::config::CsvFormat;
use courtesy::directory::csv::read_file;
use courtesy::directory::{DirectoryPerson, SourceError};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/directory")).join(name)
}

fn find<'a>(people: &'a [DirectoryPerson], id: &str) -> &'a DirectoryPerson {
    people.iter().find(|p| p.id == id).unwrap_or_else(|| panic!("{id} missing from {people:?}"))
}

#[test]
fn active_directory_powershell_export() {
    let path = fixture("ad-export.csv");
    let data = read_file(&path, CsvFormat::ActiveDirectory).expect("reads");
    let ids: Vec<&str> = data.people.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, vec!["jdevries", "famrani", "pjansen"]);

    let jan = find(&data.people, "jdevries");
    assert_eq!(jan.name, "Vries, Jan de");
    assert_eq!(jan.email, "jan.devries@firm.test");
    assert_eq!(jan.aliases, vec!["jdv@firm.test"]);
    assert_eq!(jan.phone.as_deref(), Some("+31 20 555 0101"));
    assert_eq!(jan.mobile, None);
    assert_eq!(jan.department.as_deref(), Some("Incasso"));
    assert_eq!(jan.source, format!("directory:csv:{}", path.display()));

    let piet = find(&data.people, "pjansen");
    assert_eq!(piet.name, "Piet \"PJ\" Jansen");
    assert!(
        piet.department
            .as_deref()
            .is_some_and(|d| d.starts_with("Juridische") && d.ends_with("zaken"))
    );

    assert_eq!(find(&data.people, "famrani").mobile.as_deref(), Some("+31 6 5550 0202"));
    assert!(
        data.warnings.iter().any(|w| w.contains("skipped svc-scan: no e-mail address")),
        "{:?}",
        data.warnings
    );
    assert!(data.warnings.iter().any(|w| w.contains("1 disabled")), "{:?}", data.warnings);
}

#[test]
fn entra_admin_centre_download() {
    let data = read_file(&fixture("entra-download.csv"), CsvFormat::Entra).expect("reads");
    let ids: Vec<&str> = data.people.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "jan.devries@firm.test",
            "fatima.elamrani@firm.test",
            "guest_partner.test#EXT#@firm.onmicrosoft.com"
        ]
    );
    let jan = find(&data.people, "jan.devries@firm.test");
    assert_eq!(jan.phone.as_deref(), Some("+31 20 555 0101"));
    // No `mail`: the user principal name is the address.
    let fatima = find(&data.people, "fatima.elamrani@firm.test");
    assert_eq!(fatima.email, "fatima.elamrani@firm.test");
    assert_eq!(fatima.mobile.as_deref(), Some("+31 6 5550 0202"));
    let guest = find(&data.people, "guest_partner.test#EXT#@firm.onmicrosoft.com");
    assert_eq!(guest.email, "adviseur@partner.test");
    assert!(data.warnings.iter().any(|w| w.contains("1 disabled")), "{:?}", data.warnings);
}

#[test]
fn microsoft_365_admin_centre_export() {
    let data = read_file(&fixture("m365-export.csv"), CsvFormat::Entra).expect("reads");
    let ids: Vec<&str> = data.people.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, vec!["jan.devries@firm.test", "piet.jansen@firm.test"]);
    let jan = find(&data.people, "jan.devries@firm.test");
    assert_eq!(jan.name, "Jan de Vries");
    assert_eq!(jan.email, "jan.devries@firm.test");
    assert_eq!(jan.aliases, vec!["jdv@firm.test", "jan+offertes@firm.test"]);
    assert_eq!(jan.phone.as_deref(), Some("+31 20 555 0101"));
    let piet = find(&data.people, "piet.jansen@firm.test");
    assert_eq!(piet.name, "Jansen, Piet");
    assert_eq!(piet.mobile.as_deref(), Some("+31 6 5550 0404"));
    assert_eq!(piet.department.as_deref(), Some("Juridisch"));
}

#[test]
fn missing_column_names_the_column_and_the_file() {
    let path = fixture("ad-missing-column.csv");
    let err = read_file(&path, CsvFormat::ActiveDirectory).expect_err("DisplayName is missing");
    assert!(matches!(err, SourceError::MissingColumn { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("ad-missing-column.csv"), "{message}");
    assert!(message.contains("\"DisplayName\" or \"Name\""), "{message}");
    assert!(message.contains("GivenName"), "the header found is listed: {message}");
}

#[test]
fn missing_file_names_the_file() {
    let err = read_file(&fixture("no-such-export.csv"), CsvFormat::Entra).expect_err("no file");
    assert!(err.to_string().contains("no-such-export.csv"), "{err}");
}
