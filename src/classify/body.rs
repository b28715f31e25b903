//! Auto-reply phrases in the new text.
//!
//! A body phrase is weak evidence (people write "I am out of the office
//! next week" too), so it only tips a message that already has another
//! signal, and it is only looked for in that case.

use super::fold::{contains_word, fold};

/// Only the start of the text is searched; away notes say it early.
const MAX_BYTES: usize = 1500;

const PHRASES: &[&str] = &[
    "this is an automated response",
    "this is an automatic reply",
    "this is an automatic response",
    "this is an automated message",
    "automatic reply",
    "i am out of the office",
    "i am out of office",
    "i'm out of the office",
    "i will be out of the office",
    "i am currently out of the office",
    "i am away",
    "i am on vacation",
    "i am on holiday",
    "reply as soon as possible",
    "respond as soon as possible",
    "limited access to e-mail",
    "limited access to email",
    "thank you for your e-mail",
    "thank you for your email",
    "dit is een automatisch antwoord",
    "dit is een automatisch bericht",
    "ik ben afwezig",
    "ben ik afwezig",
    "ben ik niet aanwezig",
    "niet op kantoor",
    "zo snel mogelijk",
    "bedankt voor uw e-mail",
    "dies ist eine automatische antwort",
    "automatische antwort",
    "bin ich nicht im buro",
    "ich bin nicht im buro",
    "bin ich abwesend",
    "ich bin abwesend",
    "so bald wie moglich",
    "schnellstmoglich",
    "vielen dank fur ihre e-mail",
    "vielen dank fur ihre nachricht",
    "ceci est une reponse automatique",
    "reponse automatique",
    "je suis absent",
    "je suis absente",
    "absent du bureau",
    "des que possible",
    "dans les meilleurs delais",
    "merci pour votre message",
];

/// The first auto-reply phrase in `text`, or `None`.
pub(crate) fn auto_reply_phrase(text: &str) -> Option<&'static str> {
    let mut end = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let folded = fold(&text[..end]);
    PHRASES.iter().copied().find(|p| contains_word(&folded, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_phrases_in_four_languages() {
        assert_eq!(
            auto_reply_phrase(
                "Thank you for you e-mail.\nI will endeavour to reply as soon as possible."
            ),
            Some("reply as soon as possible")
        );
        assert_eq!(auto_reply_phrase("Beste,\nIk ben afwezig tot 5 mei."), Some("ik ben afwezig"));
        assert_eq!(auto_reply_phrase("Ich bin nicht im Büro."), Some("ich bin nicht im buro"));
        assert_eq!(auto_reply_phrase("Je suis absente jusqu'au 5 mai."), Some("je suis absente"));
        assert_eq!(auto_reply_phrase("See you tomorrow."), None);
    }
}
