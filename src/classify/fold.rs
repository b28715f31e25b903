//! Case and accent folding for phrase matching.
//!
//! Auto-reply subjects arrive in many spellings: "Réponse automatique",
//! "Reponse automatique", "RÉPONSE AUTOMATIQUE", "Automatyczna odpowiedź".
//! Folding to lower-case ASCII-ish text with single spaces lets one table
//! entry match all of them without a regex per spelling.

/// Lower-cases, strips common Latin diacritics and collapses runs of
/// whitespace into one space; leading and trailing whitespace is dropped.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        push_folded(&mut out, ch);
    }
    out
}

fn push_folded(out: &mut String, ch: char) {
    if ch.is_ascii() {
        out.push(ch.to_ascii_lowercase());
        return;
    }
    let base = match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā'
        | 'Ą' => 'a',
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => {
            'e'
        }
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' => 'i',
        'ñ' | 'ń' | 'ņ' | 'ň' | 'Ñ' | 'Ń' | 'Ņ' | 'Ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ő' => {
            'o'
        }
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ű' | 'ů' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ű' | 'Ů' => {
            'u'
        }
        'ý' | 'ÿ' | 'Ý' => 'y',
        'š' | 'ś' | 'Š' | 'Ś' => 's',
        'ž' | 'ź' | 'ż' | 'Ž' | 'Ź' | 'Ż' => 'z',
        'ł' | 'Ł' | 'ļ' | 'Ļ' => 'l',
        'ķ' | 'Ķ' => 'k',
        'ģ' | 'Ģ' => 'g',
        'ř' | 'Ř' => 'r',
        'ď' | 'Ď' => 'd',
        'ť' | 'Ť' => 't',
        'ß' => {
            out.push_str("ss");
            return;
        }
        // Typographic quotes and dashes that mail clients substitute.
        '\u{2018}' | '\u{2019}' => '\'',
        '\u{2013}' | '\u{2014}' => '-',
        '\u{a0}' => ' ',
        other => {
            out.extend(other.to_lowercase());
            return;
        }
    };
    out.push(base);
}

/// Whether `haystack` contains `needle` starting and ending at word
/// boundaries (both already folded).
pub(crate) fn contains_word(haystack: &str, needle: &str) -> bool {
    let bytes = haystack.as_bytes();
    haystack.match_indices(needle).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + needle.len()).copied();
        !before.is_some_and(|b| b.is_ascii_alphanumeric())
            && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    })
}

/// Case-insensitive `starts_with` that does not allocate; `prefix` must be
/// lower-case.
pub(crate) fn starts_with_ci(text: &str, prefix: &str) -> bool {
    let mut chars = text.chars().flat_map(char::to_lowercase);
    prefix.chars().all(|p| chars.next() == Some(p))
}

/// Case-insensitive `ends_with` that does not allocate; `suffix` must be
/// lower-case ASCII.
pub(crate) fn ends_with_ci(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.is_char_boundary(text.len() - suffix.len())
        && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_spaces() {
        assert_eq!(fold("  Réponse   AUTOMATIQUE "), "reponse automatique");
        assert_eq!(fold("Automatyczna odpowiedź"), "automatyczna odpowiedz");
        assert_eq!(fold("Abwesenheitsnotiz: Grüße"), "abwesenheitsnotiz: grusse");
    }

    #[test]
    fn word_boundaries() {
        assert!(contains_word("is out of office today", "out of office"));
        assert!(!contains_word("autoreplying", "autoreply"));
        assert!(contains_word("autoreply", "autoreply"));
    }

    #[test]
    fn case_insensitive_affixes() {
        assert!(starts_with_ci("-----Ursprüngliche Nachricht-----", "-----ursprüngliche"));
        assert!(!starts_with_ci("On", "on "));
        assert!(ends_with_ci("Ann wrote:", "wrote:"));
        assert!(!ends_with_ci("é", "xx"));
    }
}
