//! Tells the language of the new text, among the four courtesy has
//! templates for.
//!
//! Cheap evidence comes first: the function words of the text ("ik", "het",
//! "the", "und", "vous") name a language when one of the four clearly leads,
//! and that answer is taken when another signal says the same: the
//! message's `Content-Language` header, the language of its subject phrase,
//! or the language the house usually writes in. Two signals that agree are
//! as reliable as the model on away notes, at a hundredth of the cost.
//!
//! Otherwise lingua decides. It is accurate on short greetings and away
//! notes but slow to build (it loads its n-gram models) and its cost grows
//! with the length of the text, so one detector lives for the whole process
//! in a `LazyLock` and it sees only the start of the text. A minimum relative
//! distance makes it answer `None` for texts too short or too mixed to tell;
//! the caller then falls back to the subject phrase, and finally to the
//! policy's default language.

use std::sync::LazyLock;

use lingua::{LanguageDetector, LanguageDetectorBuilder};

use crate::policy::Language;

/// Texts shorter than this many letters are not worth asking about.
const MIN_LETTERS: usize = 12;

/// Only the first part of a long text is looked at; the language of an
/// away note is clear after a few sentences.
const MAX_BYTES: usize = 800;

/// Function words looked for in this many bytes of the text.
const WORD_BYTES: usize = 600;

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

/// What the message says about its own language, besides its text.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Hints {
    /// The first tag of `Content-Language`, when it is one of the four.
    pub declared: Option<Language>,
    /// The language of the auto-reply phrase in the subject.
    pub subject: Option<Language>,
    /// The language the house writes in (the policy's default), or the
    /// message's language when one sentence of it is asked about.
    pub usual: Option<Language>,
}

/// The language of `text`, from the function words when the message's own
/// hints agree with them, otherwise from lingua.
pub(crate) fn detect_with_hints(text: &str, hints: Hints) -> Option<Language> {
    if let Some(language) = function_word_language(text)
        && [hints.declared, hints.subject, hints.usual].contains(&Some(language))
    {
        return Some(language);
    }
    detect(text)
}

/// The language a `Content-Language` value names first, if it is one of the four.
pub(crate) fn declared(value: &str) -> Option<Language> {
    let tag = value.split([',', ';']).next()?.trim();
    let primary = tag.split(['-', '_']).next()?;
    [("nl", Language::Nl), ("en", Language::En), ("de", Language::De), ("fr", Language::Fr)]
        .into_iter()
        .find(|(code, _)| primary.eq_ignore_ascii_case(code))
        .map(|(_, language)| language)
}

/// The language of `text`, or `None` when it cannot be told with confidence.
pub(crate) fn detect(text: &str) -> Option<Language> {
    let text = prefix(text, MAX_BYTES);
    if text.chars().filter(|c| c.is_alphabetic()).take(MIN_LETTERS).count() < MIN_LETTERS {
        return None;
    }
    DETECTOR.detect_language_of(text).map(ours)
}

fn ours(language: lingua::Language) -> Language {
    match language {
        lingua::Language::Dutch => Language::Nl,
        lingua::Language::German => Language::De,
        lingua::Language::French => Language::Fr,
        _ => Language::En,
    }
}

fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Frequent words that belong to one of the four languages only (words
/// shared by two, such as "de", "en", "die" or "is", are left out).
const FUNCTION_WORDS: &[(Language, &[&str])] = &[
    (
        Language::Nl,
        &[
            "het",
            "een",
            "ik",
            "ben",
            "van",
            "niet",
            "met",
            "voor",
            "tot",
            "uw",
            "mijn",
            "zijn",
            "naar",
            "dat",
            "bij",
            "kunt",
            "wij",
            "heb",
            "op",
            "ook",
            "om",
            "deze",
            "wordt",
            "graag",
            "maar",
            "over",
            "zal",
            "weer",
            "groet",
            "groeten",
            "vriendelijke",
            "heer",
            "mevrouw",
            "bedankt",
        ],
    ),
    (
        Language::En,
        &[
            "the", "and", "am", "of", "to", "will", "with", "my", "you", "your", "be", "for",
            "until", "not", "please", "have", "this", "back", "out", "are", "on", "during",
            "regards", "dear", "kind", "thanks", "thank",
        ],
    ),
    (
        Language::De,
        &[
            "der",
            "das",
            "und",
            "ich",
            "bin",
            "nicht",
            "mit",
            "für",
            "bis",
            "sie",
            "ihre",
            "ist",
            "zu",
            "von",
            "im",
            "ein",
            "eine",
            "werde",
            "auf",
            "wieder",
            "bitte",
            "mich",
            "dem",
            "grüßen",
            "grüße",
            "freundlichen",
            "herr",
            "frau",
            "sehr",
            "geehrte",
            "geehrter",
        ],
    ),
    (
        Language::Fr,
        &[
            "le",
            "la",
            "les",
            "et",
            "je",
            "suis",
            "du",
            "pas",
            "avec",
            "pour",
            "vous",
            "votre",
            "est",
            "au",
            "une",
            "jusqu",
            "mon",
            "mes",
            "sur",
            "dans",
            "serai",
            "merci",
            "nous",
            "cordialement",
            "madame",
            "monsieur",
            "bonjour",
        ],
    ),
];

/// Every function word with the languages whose lists hold it (one bit
/// per entry of [`FUNCTION_WORDS`]), sorted for binary search: a word is
/// looked up once instead of being compared with every list.
static WORD_INDEX: LazyLock<Vec<(&'static str, u8)>> = LazyLock::new(|| {
    let mut index: Vec<(&'static str, u8)> = Vec::new();
    for (i, (_, words)) in FUNCTION_WORDS.iter().enumerate() {
        for word in *words {
            index.push((word, 1 << i));
        }
    }
    index.sort_unstable();
    index.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 |= next.1;
        }
        same
    });
    index
});

/// The language whose function words clearly lead in the start of `text`:
/// at least four of them, and three times as many as any other language's.
fn function_word_language(text: &str) -> Option<Language> {
    let mut counts = [0usize; 4];
    let mut lower = String::new();
    for word in prefix(text, WORD_BYTES).split(|c: char| !c.is_alphabetic()) {
        if word.is_empty() || word.len() > 13 {
            continue;
        }
        let word = if word.bytes().all(|b| b.is_ascii_lowercase()) {
            word
        } else {
            lower.clear();
            lower.extend(word.chars().flat_map(char::to_lowercase));
            lower.as_str()
        };
        if let Ok(at) = WORD_INDEX.binary_search_by(|(w, _)| (*w).cmp(word)) {
            let languages = WORD_INDEX[at].1;
            for (i, count) in counts.iter_mut().enumerate() {
                *count += usize::from(languages >> i & 1);
            }
        }
    }
    let (best, &top) = counts.iter().enumerate().max_by_key(|&(_, c)| *c)?;
    let runner_up = counts.iter().enumerate().filter(|&(i, _)| i != best).map(|(_, c)| *c).max()?;
    (top >= 4 && top >= 3 * runner_up).then_some(FUNCTION_WORDS[best].0)
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
    fn the_word_index_holds_exactly_the_lists() {
        let mut words: Vec<&str> =
            FUNCTION_WORDS.iter().flat_map(|(_, w)| w.iter().copied()).collect();
        words.push("geenfunctiewoord");
        for word in words {
            let listed: u8 = FUNCTION_WORDS
                .iter()
                .enumerate()
                .filter(|(_, (_, list))| list.contains(&word))
                .map(|(i, _)| 1 << i)
                .sum();
            let indexed = WORD_INDEX
                .binary_search_by(|(w, _)| (*w).cmp(word))
                .map_or(0, |at| WORD_INDEX[at].1);
            assert_eq!(indexed, listed, "{word}");
        }
    }

    #[test]
    fn too_short_to_tell() {
        assert_eq!(detect("Ok"), None);
        assert_eq!(detect(""), None);
    }

    #[test]
    fn function_words_decide_only_with_a_clear_lead() {
        let nl = "Ik ben afwezig tot en met maandag. Voor dringende zaken kunt u contact opnemen met een collega.";
        assert_eq!(function_word_language(nl), Some(Language::Nl));
        assert_eq!(
            function_word_language(
                "Je suis absent jusqu'au 5 mai et je lirai vos messages à mon retour."
            ),
            Some(Language::Fr)
        );
        // Two languages mixed, or too few words: no answer.
        assert_eq!(
            function_word_language("Ik ben out of the office until Monday, tot maandag."),
            None
        );
        assert_eq!(function_word_language("Tot maandag"), None);
    }

    #[test]
    fn hints_must_agree_with_the_words() {
        let en =
            "I am out of the office until Monday and will reply to your message when I am back.";
        let nl = Hints { declared: Some(Language::Nl), subject: Some(Language::Nl), usual: None };
        // The words say English and the hints say Dutch: lingua decides.
        assert_eq!(detect_with_hints(en, nl), Some(Language::En));
        let agreeing = Hints { declared: None, subject: None, usual: Some(Language::En) };
        assert_eq!(detect_with_hints(en, agreeing), Some(Language::En));
        assert_eq!(declared("nl-NL"), Some(Language::Nl));
        assert_eq!(declared("de-DE, en-US"), Some(Language::De));
        assert_eq!(declared("es-ES"), None);
    }

    /// The shortcut never contradicts the model on the stored auto-replies
    /// and human mail, in whatever direction the hints point.
    #[test]
    fn function_words_agree_with_lingua_on_the_corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let mut checked = 0;
        for label in ["autoreply", "not-autoreply"] {
            for entry in std::fs::read_dir(root.join(label)).unwrap().flatten() {
                let raw = std::fs::read(entry.path()).unwrap();
                let Some(message) = mail_parser::MessageParser::default().parse(&raw) else {
                    continue;
                };
                let Some(text) = message.body_text(0) else { continue };
                let text = super::super::newtext::from_plain(&text).text;
                // The shorter prefix lingua now reads tells the same as the
                // longer one it read before.
                let long = DETECTOR.detect_language_of(prefix(&text, 2000)).map(ours);
                if text.chars().filter(|c| c.is_alphabetic()).count() >= MIN_LETTERS {
                    assert_eq!(detect(&text), long, "{}", entry.path().display());
                }
                if let Some(words) = function_word_language(&text) {
                    assert!(
                        long.is_none() || long == Some(words),
                        "{}: words say {words:?}, lingua {long:?}",
                        entry.path().display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 5, "{checked}");
    }
}
