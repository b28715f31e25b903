//! Auto-reply phrases in the subject line.
//!
//! Precision comes from *where* a phrase stands, not only from the phrase:
//! auto-responders put their phrase first ("Automatic reply: <subject>"),
//! alone ("Auto reply"), in a leading bracket ("[Automatyczna odpowiedź]")
//! or as a parenthesised suffix ("Re: x (Automatic Response)"). A person who
//! writes "Re: out of office policy" puts it behind a reply prefix, so only
//! the first label of the subject is looked at.
//!
//! Phrases come in three strengths:
//! - explicit ("automatic reply", "abwesenheitsnotiz"): no person titles a
//!   mail like that, so the phrase alone decides;
//! - ambiguous ("out of office", "afwezig", "absence"): a person may announce
//!   an absence with it, so it needs one more weak signal;
//! - acknowledgement ("thank you for your e-mail"): only as the whole subject,
//!   and it needs two more weak signals.

use super::fold::{contains_word, fold};
use crate::policy::Language;

/// How much a subject phrase says on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strength {
    /// Decides alone.
    Explicit,
    /// Needs one more weak signal.
    Ambiguous,
    /// Needs two more weak signals.
    Acknowledgement,
}

/// A phrase found in the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubjectMatch {
    /// The folded table phrase that matched.
    pub phrase: &'static str,
    /// Where it stood: `prefix`, `whole`, `bracket` or `suffix`.
    pub form: &'static str,
    /// How much it says.
    pub strength: Strength,
    /// The language the phrase is written in, when it is one we support.
    pub language: Option<Language>,
}

type Entry = (&'static str, Strength, Option<Language>);

use Strength::{Acknowledgement as Ack, Ambiguous as Amb, Explicit as Exp};

/// Folded phrases; longer phrases first where one contains another.
/// Besides nl/en/de/fr this lists the prefixes Exchange, Gmail and common
/// web mailers localise to, because a recipient abroad answers in theirs.
const PHRASES: &[Entry] = &[
    ("out of office autoreply", Exp, Some(Language::En)),
    ("out of office auto reply", Exp, Some(Language::En)),
    ("out of office reply", Exp, Some(Language::En)),
    ("automatic reply", Exp, Some(Language::En)),
    ("automatic response", Exp, Some(Language::En)),
    ("automated reply", Exp, Some(Language::En)),
    ("automated response", Exp, Some(Language::En)),
    ("auto reply", Exp, Some(Language::En)),
    ("auto-reply", Exp, Some(Language::En)),
    ("autoreply", Exp, Some(Language::En)),
    ("auto response", Exp, Some(Language::En)),
    ("auto-response", Exp, Some(Language::En)),
    ("autoresponse", Exp, Some(Language::En)),
    ("autorespons", Exp, None),
    ("autoresponder", Exp, None),
    ("automatisch antwoord", Exp, Some(Language::Nl)),
    ("automatisch beantwoord", Exp, Some(Language::Nl)),
    ("automatisch bericht", Exp, Some(Language::Nl)),
    ("afwezigheidsmelding", Exp, Some(Language::Nl)),
    ("afwezigheidsbericht", Exp, Some(Language::Nl)),
    ("automatische antwort", Exp, Some(Language::De)),
    ("automatische ruckantwort", Exp, Some(Language::De)),
    ("abwesenheitsnotiz", Exp, Some(Language::De)),
    ("abwesenheitsmeldung", Exp, Some(Language::De)),
    ("abwesenheitsnachricht", Exp, Some(Language::De)),
    ("reponse automatique", Exp, Some(Language::Fr)),
    ("reponse automatique d'absence", Exp, Some(Language::Fr)),
    ("message d'absence", Exp, Some(Language::Fr)),
    ("respuesta automatica", Exp, None),
    ("risposta automatica", Exp, None),
    ("resposta automatica", Exp, None),
    ("automatyczna odpowiedz", Exp, None),
    ("automatiska atbilde", Exp, None),
    ("automaattinen vastaus", Exp, None),
    ("automatisk svar", Exp, None),
    ("automatiskt svar", Exp, None),
    ("automaticka odpoved", Exp, None),
    ("automatikus valasz", Exp, None),
    ("out of the office", Amb, Some(Language::En)),
    ("out of office", Amb, Some(Language::En)),
    ("away from the office", Amb, Some(Language::En)),
    ("on vacation", Amb, Some(Language::En)),
    ("afwezig", Amb, Some(Language::Nl)),
    ("afwezigheid", Amb, Some(Language::Nl)),
    ("niet aanwezig", Amb, Some(Language::Nl)),
    ("abwesend", Amb, Some(Language::De)),
    ("abwesenheit", Amb, Some(Language::De)),
    ("nicht im buro", Amb, Some(Language::De)),
    ("absent du bureau", Amb, Some(Language::Fr)),
    ("absence", Amb, Some(Language::Fr)),
    ("absent", Amb, Some(Language::Fr)),
    ("thank you for your e-mail", Ack, Some(Language::En)),
    ("thank you for your email", Ack, Some(Language::En)),
    ("thank you for your message", Ack, Some(Language::En)),
    ("bedankt voor uw e-mail", Ack, Some(Language::Nl)),
    ("bedankt voor uw bericht", Ack, Some(Language::Nl)),
    ("vielen dank fur ihre e-mail", Ack, Some(Language::De)),
    ("vielen dank fur ihre nachricht", Ack, Some(Language::De)),
    ("merci pour votre message", Ack, Some(Language::Fr)),
    ("merci pour votre e-mail", Ack, Some(Language::Fr)),
];

/// Reply and forward prefixes a person's client adds; a label like this
/// means the subject belongs to someone else's thread.
const REPLY_LABELS: &[&str] =
    &["re", "aw", "antw", "sv", "vs", "ref", "fw", "fwd", "wg", "tr", "doorst", "rv", "enc"];

/// Finds an auto-reply phrase in a subject, or `None`.
pub(crate) fn auto_reply_phrase(subject: &str) -> Option<SubjectMatch> {
    let folded = fold(subject);
    let mut rest = folded.as_str();
    // Leading tags: "[Automatyczna odpowiedź] test" or a ticket tag
    // "[support #33575] AutoReply: ..." before the real label.
    while let Some(tag) = rest.strip_prefix('[') {
        let Some(end) = tag.find(']') else { break };
        if let Some(found) = whole(&tag[..end], "bracket") {
            return Some(found);
        }
        rest = tag[end + 1..].trim_start();
    }
    if let Some(found) = whole(rest, "whole") {
        return Some(found);
    }
    if let Some((label, _)) = rest.split_once(':') {
        let label = label.trim();
        if label.len() <= 60
            && !REPLY_LABELS.contains(&label)
            && let Some(found) = label_phrase(label)
        {
            return Some(found);
        }
    }
    suffix(rest)
}

/// Whether the subject carries the Lotus Notes out-of-office prefix `AUTO:`
/// (upper case exactly, as Domino writes it).
pub(crate) fn notes_auto_prefix(subject: &str) -> bool {
    subject.trim_start().starts_with("AUTO:")
}

/// Whether the text contains an ambiguous absence phrase anywhere.
pub(crate) fn mentions_absence(subject: &str) -> Option<&'static str> {
    let folded = fold(subject);
    PHRASES
        .iter()
        .filter(|(_, s, _)| *s == Amb)
        .find(|(p, _, _)| contains_word(&folded, p))
        .map(|(p, _, _)| *p)
}

fn whole(text: &str, form: &'static str) -> Option<SubjectMatch> {
    let text = text.trim().trim_end_matches(['.', '!', ':', '-']).trim_end();
    PHRASES.iter().find(|(p, _, _)| *p == text).map(|&(phrase, strength, language)| SubjectMatch {
        phrase,
        form,
        strength,
        language,
    })
}

/// A label ending in a phrase: "Out of Office AutoReply", or a localised
/// Exchange prefix such as "Arpus biroja atrasanas automatiska atbilde".
/// Acknowledgements only count as the whole subject.
fn label_phrase(label: &str) -> Option<SubjectMatch> {
    PHRASES
        .iter()
        .filter(|(_, s, _)| *s != Ack)
        .find(|(p, _, _)| {
            label == *p
                || label.strip_suffix(p).is_some_and(|head| head.ends_with(' ') && head.len() <= 40)
        })
        .map(|&(phrase, strength, language)| SubjectMatch {
            phrase,
            form: "prefix",
            strength,
            language,
        })
}

/// "Re: blah (Automatic Response)": AOL and some web mailers append it.
fn suffix(text: &str) -> Option<SubjectMatch> {
    let inner = text.trim_end().strip_suffix(')')?;
    let open = inner.rfind('(')?;
    whole(&inner[open + 1..], "suffix").filter(|m| m.strength == Exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(subject: &str) -> Option<(&'static str, &'static str, Strength)> {
        auto_reply_phrase(subject).map(|m| (m.phrase, m.form, m.strength))
    }

    #[test]
    fn explicit_prefixes_in_four_languages() {
        for (subject, want) in [
            ("Automatisch antwoord: Factuur 2024-001", "automatisch antwoord"),
            ("Automatisch beantwoord: vraag", "automatisch beantwoord"),
            ("Automatic reply: Invoice", "automatic reply"),
            ("Automatische Antwort: Rechnung", "automatische antwort"),
            ("Abwesenheitsnotiz: Rechnung", "abwesenheitsnotiz"),
            ("Réponse automatique : Facture", "reponse automatique"),
            ("Out of Office AutoReply: Invoice", "out of office autoreply"),
        ] {
            assert_eq!(phrase(subject).map(|p| p.0), Some(want), "{subject}");
            assert_eq!(phrase(subject).map(|p| p.2), Some(Exp), "{subject}");
        }
    }

    #[test]
    fn whole_bracket_suffix_and_ticket_tag_forms() {
        assert_eq!(phrase("Auto reply"), Some(("auto reply", "whole", Exp)));
        assert_eq!(
            phrase("[Automatyczna odpowiedź] test"),
            Some(("automatyczna odpowiedz", "bracket", Exp))
        );
        assert_eq!(
            phrase("Re:   blah (Automatic Response)"),
            Some(("automatic response", "suffix", Exp))
        );
        assert_eq!(
            phrase("[support.example #33575] AutoReply: FYI"),
            Some(("autoreply", "prefix", Exp))
        );
        assert_eq!(
            phrase("Arpus biroja atrasanas automatiska atbilde: subjecting"),
            Some(("automatiska atbilde", "prefix", Exp))
        );
    }

    #[test]
    fn ambiguous_and_acknowledgement_phrases_are_weaker() {
        assert_eq!(phrase("Afwezig: 3 t/m 7 mei"), Some(("afwezig", "prefix", Amb)));
        assert_eq!(phrase("Out of Office"), Some(("out of office", "whole", Amb)));
        assert_eq!(phrase("Absence"), Some(("absence", "whole", Amb)));
        assert_eq!(
            phrase("Thank you for your e-mail"),
            Some(("thank you for your e-mail", "whole", Ack))
        );
    }

    #[test]
    fn human_subjects_do_not_match() {
        for subject in [
            "Re: out of office policy",
            "Out of office policy",
            "Re: Automatic reply: Invoice",
            "AW: Abwesenheitsnotiz: Rechnung",
            "Thank you for your e-mail about the invoice",
            "Question about automatic replies",
            "Re: blah (see attachment)",
            "",
        ] {
            assert_eq!(phrase(subject), None, "{subject}");
        }
    }

    #[test]
    fn lotus_prefix_is_case_sensitive() {
        assert!(notes_auto_prefix("AUTO: Smith, John is out of the office."));
        assert!(!notes_auto_prefix("Auto: lease contract"));
        assert_eq!(mentions_absence("Smith is out of the office."), Some("out of the office"));
    }
}
