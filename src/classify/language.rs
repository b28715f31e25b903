//! Tells the language of the new text, among the four courtesy has
//! templates for.
//!
//! lingua is accurate on short greetings and away notes but slow to build
//! (it loads its n-gram models), so one detector lives for the whole process
//! in a `LazyLock`, and it is only asked about mail that will be rewritten.
//! A minimum relative distance makes it answer `None` for texts too short or
//! too mixed to tell; the caller then falls back to the subject phrase, and
//! finally to the policy's default language.

use std::sync::LazyLock;

use lingua::{LanguageDetector, LanguageDetectorBuilder};

use crate::policy::Language;

/// Texts shorter than this many letters are not worth asking about.
const MIN_LETTERS: usize = 12;

/// Only the first part of a long text is looked at; the language of an
/// away note is clear after a few sentences.
const MAX_BYTES: usize = 2000;

static DETECTOR: LazyLock<LanguageDetector> = LazyLock::new(|| {
    LanguageDetectorBuilder::from_languages(&[
        lingua::Language::Dutch,
        lingua::Language::English,
        lingua::Language::German,
        lingua::Language::French,
    ])
    .with_minimum_relative_distance(0.1)
    .build()
});

/// Loads the language models now instead of at the first detection.
pub(crate) fn warm_up() {
    LazyLock::force(&DETECTOR);
}

/// The language of `text`, or `None` when it cannot be told with confidence.
pub(crate) fn detect(text: &str) -> Option<Language> {
    let mut end = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    if text.chars().filter(|c| c.is_alphabetic()).take(MIN_LETTERS).count() < MIN_LETTERS {
        return None;
    }
    DETECTOR.detect_language_of(text).map(|language| match language {
        lingua::Language::Dutch => Language::Nl,
        lingua::Language::German => Language::De,
        lingua::Language::French => Language::Fr,
        _ => Language::En,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_four_languages_apart() {
        for (text, want) in [
            (
                "Ik ben afwezig tot en met maandag en heb beperkt toegang tot mijn e-mail.",
                Language::Nl,
            ),
            ("I am out of the office until Monday with limited access to my e-mail.", Language::En),
            (
                "Ich bin bis Montag nicht im Büro und habe nur eingeschränkt Zugriff auf E-Mails.",
                Language::De,
            ),
            (
                "Je suis absent du bureau jusqu'à lundi et je n'ai qu'un accès limité à mes e-mails.",
                Language::Fr,
            ),
        ] {
            assert_eq!(detect(text), Some(want), "{text}");
        }
    }

    #[test]
    fn too_short_to_tell() {
        assert_eq!(detect("Ok"), None);
        assert_eq!(detect(""), None);
    }
}
