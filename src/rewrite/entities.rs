//! Decodes HTML character references in text nodes, keeping for every
//! decoded character the source bytes it came from.
//!
//! Only references that can appear in the text a person typed are known by
//! name: the markup-significant ones, `&nbsp;`, typographic punctuation and
//! the Latin-1 letters of the languages the policy supports. An unknown name
//! stays literal, which can only make a match fail, never corrupt markup.

use super::matcher::Folded;

const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("hellip", '…'),
    ("bull", '•'),
    ("middot", '·'),
    ("euro", '€'),
    ("copy", '©'),
    ("reg", '®'),
    ("trade", '™'),
    ("deg", '°'),
    ("sect", '§'),
    ("laquo", '«'),
    ("raquo", '»'),
    ("iexcl", '¡'),
    ("iquest", '¿'),
    ("szlig", 'ß'),
    ("agrave", 'à'),
    ("aacute", 'á'),
    ("acirc", 'â'),
    ("atilde", 'ã'),
    ("auml", 'ä'),
    ("aring", 'å'),
    ("aelig", 'æ'),
    ("ccedil", 'ç'),
    ("egrave", 'è'),
    ("eacute", 'é'),
    ("ecirc", 'ê'),
    ("euml", 'ë'),
    ("igrave", 'ì'),
    ("iacute", 'í'),
    ("icirc", 'î'),
    ("iuml", 'ï'),
    ("ntilde", 'ñ'),
    ("ograve", 'ò'),
    ("oacute", 'ó'),
    ("ocirc", 'ô'),
    ("otilde", 'õ'),
    ("ouml", 'ö'),
    ("oslash", 'ø'),
    ("ugrave", 'ù'),
    ("uacute", 'ú'),
    ("ucirc", 'û'),
    ("uuml", 'ü'),
    ("yacute", 'ý'),
    ("yuml", 'ÿ'),
    ("Agrave", 'À'),
    ("Aacute", 'Á'),
    ("Acirc", 'Â'),
    ("Auml", 'Ä'),
    ("Ccedil", 'Ç'),
    ("Egrave", 'È'),
    ("Eacute", 'É'),
    ("Ecirc", 'Ê'),
    ("Euml", 'Ë'),
    ("Iuml", 'Ï'),
    ("Ouml", 'Ö'),
    ("Uuml", 'Ü'),
    ("Ntilde", 'Ñ'),
    ("oelig", 'œ'),
    ("OElig", 'Œ'),
];

/// Pushes the decoded characters of `raw` (found at `base` in the source).
pub(crate) fn decode_into(raw: &str, base: usize, out: &mut Folded) {
    let mut rest = raw.char_indices().peekable();
    while let Some((i, c)) = rest.next() {
        if c == '&'
            && let Some((decoded, len)) = reference(&raw[i..])
        {
            out.push(decoded, (base + i, base + i + len));
            while rest.peek().is_some_and(|(j, _)| *j < i + len) {
                rest.next();
            }
            continue;
        }
        out.push(c, (base + i, base + i + c.len_utf8()));
    }
}

/// The character a reference at the start of `s` stands for, and its length.
fn reference(s: &str) -> Option<(char, usize)> {
    // Named and numeric references we know are short; `;` is required.
    let semi = s.bytes().take(34).position(|b| b == b';')?;
    let body = s.get(1..semi)?;
    let decoded = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        char::from_u32(code).filter(|c| *c != '\0')?
    } else {
        NAMED.iter().find(|(name, _)| *name == body)?.1
    };
    Some((decoded, semi + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_keep_their_source_span() {
        let raw = "a&nbsp;caf&eacute;&#8217;s &amp; &unknown; &#x41;";
        let mut folded = Folded::default();
        decode_into(raw, 10, &mut folded);
        let (s, e) = folded.find("a café’s & &unknown; A").unwrap();
        assert_eq!((s, e), (10, 10 + raw.len()));
        let (s, e) = folded.find("café").unwrap();
        assert_eq!(&raw[s - 10..e - 10], "caf&eacute;");
    }
}
