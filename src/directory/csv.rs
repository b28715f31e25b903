//! People from a CSV export of Active Directory or Entra ID.
//!
//! Two exports are understood out of the box (see `docs/DIRECTORY.md` for
//! the exact steps): PowerShell's `Get-ADUser | Export-Csv` and the Entra /
//! Microsoft 365 admin centres' user downloads. Column names are matched
//! case-insensitively, because PowerShell property names are, and admins
//! re-save exports in Excel. The `csv` crate does the quoting; this module
//! only maps columns to fields.

use std::path::Path;

use super::config::{CsvConfig, CsvFormat, FieldMap};
use super::{
    DirectoryPerson, Source, SourceData, SourceError, non_empty, normalise_address,
    split_proxy_addresses,
};

/// A CSV export, read afresh at every fetch.
#[derive(Debug, Clone)]
pub struct CsvSource {
    config: CsvConfig,
    label: String,
}

impl CsvSource {
    /// A source for one export.
    pub fn new(config: CsvConfig) -> CsvSource {
        let label = config.label();
        CsvSource { config, label }
    }

    /// Reads and maps the file.
    pub fn read(&self) -> Result<SourceData, SourceError> {
        let bytes = std::fs::read(&self.config.file).map_err(|source| SourceError::Read {
            path: self.config.file.display().to_string(),
            source,
        })?;
        parse(&bytes, &self.config, &self.label)
    }
}

#[async_trait::async_trait]
impl Source for CsvSource {
    fn label(&self) -> &str {
        &self.label
    }

    async fn fetch(&self) -> Result<SourceData, SourceError> {
        let this = self.clone();
        // Large exports are parsed off the async worker threads.
        tokio::task::spawn_blocking(move || this.read()).await.unwrap_or_else(|join| {
            Err(SourceError::Csv {
                file: self.file_name(),
                message: format!("reader failed: {join}"),
            })
        })
    }
}

impl CsvSource {
    fn file_name(&self) -> String {
        self.config.file.display().to_string()
    }
}

/// Column names tried in order for each field, and whether the column must exist.
struct Wanted {
    names: Vec<String>,
    /// Named explicitly in the configuration: it must be there.
    explicit: bool,
}

struct Layout {
    id: Wanted,
    name: Wanted,
    email: Wanted,
    aliases: Wanted,
    phone: Wanted,
    mobile: Wanted,
    department: Wanted,
    /// (column, value meaning "disabled"), compared case-insensitively.
    disabled: &'static [(&'static str, &'static str)],
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn layout(format: CsvFormat, overrides: &FieldMap) -> Layout {
    let pick = |o: &Option<super::config::Names>, default: &[&str]| match o {
        Some(n) => Wanted { names: n.to_vec(), explicit: true },
        None => Wanted { names: names(default), explicit: false },
    };
    match format {
        CsvFormat::ActiveDirectory => Layout {
            id: pick(&overrides.id, &["SamAccountName", "sAMAccountName"]),
            name: pick(&overrides.name, &["DisplayName", "Name"]),
            email: pick(&overrides.email, &["EmailAddress", "mail"]),
            aliases: pick(&overrides.aliases, &["ProxyAddresses"]),
            phone: pick(&overrides.phone, &["OfficePhone", "telephoneNumber"]),
            mobile: pick(&overrides.mobile, &["MobilePhone", "mobile"]),
            department: pick(&overrides.department, &["Department"]),
            disabled: &[("Enabled", "False")],
        },
        CsvFormat::Entra => Layout {
            id: pick(&overrides.id, &["userPrincipalName", "User principal name"]),
            name: pick(&overrides.name, &["displayName", "Display name"]),
            email: pick(&overrides.email, &["mail", "Email", "Primary email"]),
            aliases: pick(&overrides.aliases, &["proxyAddresses", "Proxy addresses"]),
            phone: pick(
                &overrides.phone,
                &["telephoneNumber", "Phone number", "Office phone", "businessPhones"],
            ),
            mobile: pick(&overrides.mobile, &["mobile", "mobilePhone", "Mobile Phone"]),
            department: pick(&overrides.department, &["department"]),
            disabled: &[("accountEnabled", "False"), ("Block credential", "True")],
        },
    }
}

/// Column positions of one field, in preference order.
struct Found(Vec<usize>);

impl Found {
    fn first<'r>(&self, row: &'r csv::StringRecord) -> Option<&'r str> {
        self.0.iter().filter_map(|&i| row.get(i)).map(str::trim).find(|v| !v.is_empty())
    }
}

fn locate(
    headers: &[String],
    wanted: &Wanted,
    required: bool,
    file: &str,
) -> Result<Found, SourceError> {
    let positions: Vec<usize> = wanted
        .names
        .iter()
        .filter_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n.trim())))
        .collect();
    let missing_explicit = wanted.explicit
        && wanted.names.iter().any(|n| !headers.iter().any(|h| h.eq_ignore_ascii_case(n.trim())));
    if (required && positions.is_empty()) || missing_explicit {
        let column = if missing_explicit {
            wanted
                .names
                .iter()
                .find(|n| !headers.iter().any(|h| h.eq_ignore_ascii_case(n.trim())))
                .cloned()
                .unwrap_or_default()
        } else {
            wanted.names.join("\" or \"")
        };
        return Err(SourceError::MissingColumn {
            file: file.to_string(),
            column,
            found: headers.join(", "),
        });
    }
    Ok(Found(positions))
}

/// Maps the bytes of an export to people. `label` is the provenance label.
pub fn parse(bytes: &[u8], config: &CsvConfig, label: &str) -> Result<SourceData, SourceError> {
    let file = config.file.display().to_string();
    let csv_error = |e: csv::Error| SourceError::Csv { file: file.clone(), message: describe(&e) };
    let mut builder = csv::ReaderBuilder::new();
    builder.delimiter(u8::try_from(config.delimiter).unwrap_or(b','));
    if config.format == CsvFormat::ActiveDirectory {
        // Windows PowerShell writes `#TYPE Microsoft.ActiveDirectory…` first
        // unless told -NoTypeInformation; data rows are always quoted.
        builder.comment(Some(b'#'));
    }
    // Excel and `Export-Csv -Encoding UTF8` start the file with a BOM, which
    // would otherwise hide the `#TYPE` line or stick to the first column name.
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = builder.from_reader(bytes);
    let headers: Vec<String> =
        reader.headers().map_err(csv_error)?.iter().map(|h| h.trim().to_string()).collect();

    let layout = layout(config.format, &config.columns);
    let id = locate(&headers, &layout.id, true, &file)?;
    let name = locate(&headers, &layout.name, true, &file)?;
    let aliases = locate(&headers, &layout.aliases, false, &file)?;
    let email = locate(&headers, &layout.email, aliases.0.is_empty(), &file)?;
    let phone = locate(&headers, &layout.phone, false, &file)?;
    let mobile = locate(&headers, &layout.mobile, false, &file)?;
    let department = locate(&headers, &layout.department, false, &file)?;
    let disabled: Vec<(usize, &str)> = layout
        .disabled
        .iter()
        .filter_map(|(col, value)| {
            headers.iter().position(|h| h.eq_ignore_ascii_case(col)).map(|i| (i, *value))
        })
        .collect();

    let mut data = SourceData::default();
    let mut disabled_count = 0usize;
    for row in reader.records() {
        let row = row.map_err(csv_error)?;
        let line = row.position().map_or(0, |p| p.line());
        if disabled
            .iter()
            .any(|(i, v)| row.get(*i).is_some_and(|x| x.trim().eq_ignore_ascii_case(v)))
        {
            disabled_count += 1;
            continue;
        }
        let Some(person_id) = id.first(&row).map(str::to_string) else {
            data.warnings.push(format!("{file}:{line}: skipped: no id"));
            continue;
        };
        let (primary, mut extra) = split_proxy_addresses(aliases.first(&row));
        let address = email
            .first(&row)
            .and_then(normalise_address)
            .or(primary)
            // Entra exports without `mail`: the UPN is the sign-in address,
            // usually the mail address too.
            .or_else(|| {
                if config.format == CsvFormat::Entra { normalise_address(&person_id) } else { None }
            });
        let Some(address) = address else {
            data.warnings.push(format!("{file}:{line}: skipped {person_id}: no e-mail address"));
            continue;
        };
        let Some(display) = name.first(&row).map(str::to_string) else {
            data.warnings.push(format!("{file}:{line}: skipped {person_id}: no name"));
            continue;
        };
        extra.retain(|a| *a != address);
        extra.dedup();
        data.people.push(DirectoryPerson {
            id: person_id,
            name: display,
            email: address,
            aliases: extra,
            phone: phone.first(&row).and_then(non_empty),
            mobile: mobile.first(&row).and_then(non_empty),
            department: department.first(&row).and_then(non_empty),
            source: label.to_string(),
        });
    }
    if disabled_count > 0 {
        data.warnings.push(format!("{file}: skipped {disabled_count} disabled account(s)"));
    }
    Ok(data)
}

fn describe(error: &csv::Error) -> String {
    match error.position() {
        Some(p) => format!("line {}: {error}", p.line()),
        None => error.to_string(),
    }
}

/// Reads an export from a path with the default mapping of `format`; for
/// tools and tests.
pub fn read_file(path: &Path, format: CsvFormat) -> Result<SourceData, SourceError> {
    CsvSource::new(CsvConfig {
        file: path.to_path_buf(),
        format,
        columns: FieldMap::default(),
        delimiter: ',',
    })
    .read()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(format: CsvFormat) -> CsvConfig {
        CsvConfig {
            file: "people.csv".into(),
            format,
            columns: FieldMap::default(),
            delimiter: ',',
        }
    }

    #[test]
    fn powershell_export_with_type_line_and_bom() {
        let text = "\u{feff}#TYPE Microsoft.ActiveDirectory.Management.ADUser\r\n\"SamAccountName\",\"DisplayName\",\"EmailAddress\",\"OfficePhone\",\"MobilePhone\",\"Department\",\"ProxyAddresses\",\"Enabled\"\r\n\"jdevries\",\"Vries, Jan de\",\"Jan.deVries@firm.nl\",\"+31 20 555 0101\",\"\",\"Incasso\",\"SMTP:jan.devries@firm.nl;smtp:jdv@firm.nl\",\"True\"\r\n\"old\",\"Old Account\",\"old@firm.nl\",\"\",\"\",\"\",\"\",\"False\"\r\n";
        let data = parse(text.as_bytes(), &config(CsvFormat::ActiveDirectory), "directory:csv:x")
            .expect("parses");
        assert_eq!(data.people.len(), 1);
        let p = &data.people[0];
        assert_eq!(p.id, "jdevries");
        assert_eq!(p.name, "Vries, Jan de");
        assert_eq!(p.email, "jan.devries@firm.nl");
        assert_eq!(p.aliases, vec!["jdv@firm.nl"]);
        assert_eq!(p.phone.as_deref(), Some("+31 20 555 0101"));
        assert_eq!(p.mobile, None);
        assert!(data.warnings.iter().any(|w| w.contains("1 disabled")), "{:?}", data.warnings);
    }

    #[test]
    fn missing_required_column_names_column_and_file() {
        let text = "SamAccountName,EmailAddress\njdv,j@firm.nl\n";
        let err = parse(text.as_bytes(), &config(CsvFormat::ActiveDirectory), "l")
            .expect_err("no name column");
        let message = err.to_string();
        assert!(message.contains("people.csv"), "{message}");
        assert!(message.contains("DisplayName"), "{message}");
    }

    #[test]
    fn explicitly_mapped_column_must_exist() {
        let mut c = config(CsvFormat::ActiveDirectory);
        c.columns.phone = Some(super::super::config::Names::One("Telefoon".into()));
        let text = "SamAccountName,DisplayName,EmailAddress\njdv,Jan,j@firm.nl\n";
        let err = parse(text.as_bytes(), &c, "l").expect_err("Telefoon missing").to_string();
        assert!(err.contains("\"Telefoon\""), "{err}");
    }

    #[test]
    fn rows_without_address_are_skipped_with_a_warning() {
        let text =
            "SamAccountName,DisplayName,EmailAddress\nsvc,Backup Service,\njdv,Jan,j@firm.nl\n";
        let data =
            parse(text.as_bytes(), &config(CsvFormat::ActiveDirectory), "l").expect("parses");
        assert_eq!(data.people.len(), 1);
        assert!(data.warnings[0].contains("people.csv:2: skipped svc"), "{:?}", data.warnings);
    }

    #[test]
    fn semicolon_delimiter() {
        let mut c = config(CsvFormat::ActiveDirectory);
        c.delimiter = ';';
        let text = "SamAccountName;DisplayName;EmailAddress\njdv;\"Jan; de Vries\";j@firm.nl\n";
        let data = parse(text.as_bytes(), &c, "l").expect("parses");
        assert_eq!(data.people[0].name, "Jan; de Vries");
    }
}
