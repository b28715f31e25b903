//! "Did you mean" suggestions for misspelt keys and ids.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn nearest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word, &c.to_lowercase()), c))
        // Allow about one edit per three characters: `nadja` → `nadia`, but
        // not `bob` → `linda`.
        .filter(|(d, c)| *d <= (c.chars().count().max(word.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Hint for an unknown key: the nearest allowed key, then all allowed keys.
pub(crate) fn unknown_key(field: &str, expected: &[&str]) -> String {
    let allowed = expected.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    match nearest(field, expected.iter().copied()) {
        Some(k) => format!("did you mean `{k}`? allowed keys here: {allowed}"),
        None if expected.is_empty() => "remove this key".to_owned(),
        None => format!("allowed keys here: {allowed}"),
    }
}

/// Hint for an id that does not exist.
pub(crate) fn unknown_id<'a, I>(id: &str, known: I, what: &str) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match nearest(id, known) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!("use the `id` of one of the {what} in this file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_but_not_strangers() {
        let ids = ["maarten", "nadia", "ineke", "linda"];
        assert_eq!(nearest("nadja", ids), Some("nadia"));
        assert_eq!(nearest("Maarte", ids), Some("maarten"));
        assert_eq!(nearest("bob", ids), None);
    }

    #[test]
    fn unknown_key_lists_allowed_keys() {
        let hint = unknown_key("phon", &["id", "phone"]);
        assert_eq!(hint, "did you mean `phone`? allowed keys here: `id`, `phone`");
        assert_eq!(unknown_key("zzzzzz", &["id"]), "allowed keys here: `id`");
    }
}
