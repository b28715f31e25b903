//! Entry point for the `html_scan` fuzz target and its regression replay:
//! wherever the direct HTML reader accepts a document, it must record what
//! lol_html records.

/// Reads `data` (when it is UTF-8) both ways and panics when they differ.
pub fn html_scan(data: &[u8]) {
    let Ok(html) = std::str::from_utf8(data) else { return };
    if let Err(difference) = super::html::compare_readings(html) {
        panic!("the direct HTML reader disagrees with lol_html: {difference}");
    }
}
