//! The words courtesy looks for in the new text, per language: greetings,
//! closings, "urgent only" help, anonymous colleagues, response-time promises
//! and part-time notices.
//!
//! All patterns run on every language's text, because a Dutch office often
//! writes its out-of-office in English too; the message's language only
//! decides which templates are rendered.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

fn build(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .unwrap_or_else(|e| panic!("built-in pattern does not compile: {e}"))
}

/// First words of a line that already greets the reader.
const GREETINGS: &[&str] = &[
    "beste",
    "geachte",
    "hallo",
    "hoi",
    "goedemorgen",
    "goedemiddag",
    "goedenavond",
    "goedendag",
    "dear",
    "hello",
    "hi",
    "good morning",
    "good afternoon",
    "good evening",
    "greetings",
    "sehr geehrte",
    "sehr geehrter",
    "liebe",
    "lieber",
    "guten tag",
    "guten morgen",
    "moin",
    "bonjour",
    "bonsoir",
    "madame",
    "monsieur",
    "cher",
    "chère",
    "chers",
];

/// Closing phrases that end the body and precede the sender's name.
const CLOSINGS: &[&str] = &[
    "met vriendelijke groet",
    "met vriendelijke groeten",
    "vriendelijke groet",
    "vriendelijke groeten",
    "met hartelijke groet",
    "hartelijke groet",
    "hartelijke groeten",
    "groet",
    "groeten",
    "mvg",
    "kind regards",
    "best regards",
    "warm regards",
    "regards",
    "best wishes",
    "sincerely",
    "yours sincerely",
    "yours faithfully",
    "many thanks",
    "thanks",
    "thank you",
    "best",
    "mit freundlichen grüßen",
    "mit freundlichen grüssen",
    "freundliche grüße",
    "viele grüße",
    "beste grüße",
    "herzliche grüße",
    "mfg",
    "gruß",
    "grüße",
    "cordialement",
    "bien cordialement",
    "bien à vous",
    "salutations",
    "meilleures salutations",
    "sincères salutations",
    "salutations distinguées",
];

/// Whether a line greets the reader ("Beste Jan,", "Dear Sir or Madam,").
pub fn is_greeting(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    lower.chars().count() <= 80
        && GREETINGS.iter().any(|g| {
            lower
                .strip_prefix(g)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', ',', '!', '\u{a0}']))
        })
}

/// Greetings that address nobody by name.
const GENERIC_GREETINGS: &[&str] = &[
    "geachte heer/mevrouw",
    "geachte heer, mevrouw",
    "geachte mevrouw/heer",
    "geachte relatie",
    "beste relatie",
    "geachte klant",
    "beste klant",
    "geachte heer of mevrouw",
    "geachte dames en heren",
    "dear sir or madam",
    "dear sir/madam",
    "dear sirs",
    "dear customer",
    "dear client",
    "hello",
    "hi",
    "good morning",
    "good afternoon",
    "dear all",
    "hallo",
    "goedendag",
    "goedemorgen",
    "goedemiddag",
    "sehr geehrte damen und herren",
    "guten tag",
    "hallo zusammen",
    "madame, monsieur",
    "madame, messieurs",
    "madame/monsieur",
    "bonjour",
    "mesdames, messieurs",
];

/// Whether a greeting line greets nobody by name ("Dear Sir or Madam,").
pub fn is_generic_greeting(line: &str) -> bool {
    let lower = line.trim().trim_end_matches([',', '!', '.', ' ']).to_lowercase();
    GENERIC_GREETINGS.contains(&lower.as_str())
}

/// Whether a line is a closing phrase ("Met vriendelijke groet,").
pub fn is_closing(line: &str) -> bool {
    let lower = line.trim().trim_end_matches([',', '.', '!', ' ']).to_lowercase();
    !lower.is_empty() && CLOSINGS.iter().any(|c| lower == *c)
}

/// Help offered for urgent matters only.
pub static URGENT_ONLY: LazyLock<Regex> = LazyLock::new(|| {
    build(concat!(
        r"\b(?:(?:voor|bij|in)\s+(?:dringende|spoedeisende)\s+(?:zaken|vragen|gevallen|kwesties)",
        r"|in\s+dringende\s+gevallen|bij\s+spoed|indien\s+dringend|als\s+het\s+dringend\s+is",
        r"|(?:for|in|with)\s+(?:urgent|pressing)\s+(?:matters|questions|enquiries|inquiries|issues|cases|requests)",
        r"|if\s+(?:it\s+is\s+|it's\s+|your\s+\w+\s+is\s+)?urgent|in\s+(?:case\s+of\s+)?(?:an\s+)?(?:urgency|emergency|emergencies)",
        r"|urgent\s+(?:matters|questions|enquiries|inquiries)",
        r"|in\s+dringenden\s+f(?:ä|ae)llen|(?:für|bei)\s+dringenden?\s+(?:anfragen|angelegenheiten|fragen|fällen)",
        r"|in\s+eiligen\s+fällen|wenn\s+es\s+dringend\s+ist",
        r"|(?:pour|en\s+cas\s+d')\s*(?:toute\s+)?(?:demande|question|affaire)s?\s+urgentes?",
        r"|en\s+cas\s+d'urgence|pour\s+les\s+(?:questions|demandes|affaires)\s+urgentes)\b"
    ))
});

/// A referral to colleagues nobody is named for.
pub static ANONYMOUS_COLLEAGUE: LazyLock<Regex> = LazyLock::new(|| {
    build(concat!(
        r"\b(?:(?:een\s+van\s+)?mijn\s+collega'?s|een\s+(?:van\s+mijn\s+)?collega|mijn\s+collega",
        r"|(?:one\s+of\s+)?my\s+colleagues?|a\s+colleague|another\s+colleague",
        r"|(?:meine|einen?|eine)\s+(?:kollegen|kollegin(?:nen)?|kollege)",
        r"|(?:mes|un\s+de\s+mes|une\s+de\s+mes|un|une)\s+collègues?)\b"
    ))
});

const NUMBER: &str = r"(?P<n>\d{1,3}|een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|veertien|one|two|three|four|five|six|seven|eight|nine|ten|fourteen|ein|einem|einer|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|vierzehn|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quinze)";

/// A response-time promise such as "within 10 days" or "binnen twee weken".
pub static PROMISE: LazyLock<Regex> = LazyLock::new(|| {
    build(&format!(
        concat!(
            r"\b(?:binnen|within|innerhalb(?:\s+von)?|sous|dans\s+un\s+délai\s+de|d'ici)\s+{n}\s+",
            r"(?P<unit>werkdagen|werkdag|dagen|dag|weken|week",
            r"|(?:working|business)\s+days?|days?|weeks?",
            r"|arbeitstagen|arbeitstage|arbeitstag|werktagen|werktage|werktag|tagen|tage|tag|wochen|woche",
            r"|jours?\s+ouvr(?:é|a)s|jours?\s+ouvrables|jours?|semaines?)\b"
        ),
        n = NUMBER
    ))
});

/// Working days a promise stands for (calendar days count five in seven).
pub fn promised_working_days(count: &str, unit: &str) -> Option<u32> {
    let n = word_number(count)?;
    let unit = unit.to_lowercase();
    let weeks = ["week", "weken", "weeks", "woche", "wochen", "semaine", "semaines"];
    let days = if weeks.contains(&unit.as_str()) {
        n * 5
    } else if unit.starts_with("werk")
        || unit.starts_with("working")
        || unit.starts_with("business")
        || unit.starts_with("arbeit")
        || unit.contains("ouvr")
    {
        n
    } else {
        (n * 5).div_ceil(7)
    };
    Some(days)
}

fn word_number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse() {
        return Some(n);
    }
    let n = match word.to_lowercase().as_str() {
        "een" | "één" | "one" | "ein" | "einem" | "einer" | "un" | "une" => 1,
        "twee" | "two" | "zwei" | "deux" => 2,
        "drie" | "three" | "drei" | "trois" => 3,
        "vier" | "four" | "quatre" => 4,
        "vijf" | "five" | "fünf" | "cinq" => 5,
        "zes" | "six" | "sechs" => 6,
        "zeven" | "seven" | "sieben" | "sept" => 7,
        "acht" | "eight" | "huit" => 8,
        "negen" | "nine" | "neun" | "neuf" => 9,
        "tien" | "ten" | "zehn" | "dix" => 10,
        "veertien" | "fourteen" | "vierzehn" => 14,
        "quinze" => 15,
        _ => return None,
    };
    Some(n)
}

const DAY: &str = concat!(
    r"(?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)(?:en|s)?",
    r"|(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?",
    r"|(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)s?",
    r"|(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)s?"
);

/// A part-time notice: "afwezig op dinsdag en donderdag in de oneven weken".
pub static PART_TIME: LazyLock<Regex> = LazyLock::new(|| {
    build(&format!(
        concat!(
            r"\b(?:afwezig|niet\s+aanwezig|niet\s+op\s+kantoor|niet\s+werkzaam|werk\s+ik\s+niet|ben\s+ik\s+(?:vrij|afwezig|niet\s+aanwezig)|vrij",
            r"|absent|not\s+in(?:\s+the\s+office)?|out\s+of\s+(?:the\s+)?office|off|do\s+not\s+work|don't\s+work|not\s+working",
            r"|abwesend|nicht\s+im\s+büro|nicht\s+erreichbar|arbeite\s+ich\s+nicht|nicht\s+anwesend",
            r"|absente?|ne\s+travaille\s+pas|pas\s+au\s+bureau)\b",
            r"[^.!?\n]{{0,40}}?\b(?:op|on|am|an|le|les)\s+",
            r"(?P<days>(?:{day})(?:(?:\s*,\s*|\s+(?:en|and|und|et|&)\s+)(?:{day}))*",
            r"(?:\s+(?:in\s+de\s+(?:on)?even\s+weken|in\s+(?:odd|even|alternate)\s+weeks|in\s+(?:un)?geraden\s+wochen|(?:des|les)\s+semaines\s+(?:im)?paires|every\s+other\s+week|om\s+de\s+week))?)"
        ),
        day = DAY
    ))
});

/// The same notice with the days first: "op dinsdag ben ik afwezig",
/// "am Mittwoch bin ich nicht im Büro".
pub static PART_TIME_DAYS_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    build(&format!(
        concat!(
            r"\b(?:op|on|am|an|le|les)\s+(?P<days>(?:{day})(?:(?:\s*,\s*|\s+(?:en|and|und|et|&)\s+)(?:{day}))*",
            r"(?:\s+(?:in\s+de\s+(?:on)?even\s+weken|in\s+(?:odd|even|alternate)\s+weeks|in\s+(?:un)?geraden\s+wochen))?)",
            r"\s*,?\s+(?:ben\s+ik|bin\s+ich|i\s+am|i'm|je\s+suis)\s+(?:niet\s+aanwezig|afwezig|vrij|niet\s+op\s+kantoor",
            r"|nicht\s+im\s+büro|nicht\s+erreichbar|abwesend|nicht\s+anwesend|not\s+in(?:\s+the\s+office)?|out\s+of\s+(?:the\s+)?office|off",
            r"|absente?|pas\s+au\s+bureau)\b"
        ),
        day = DAY
    ))
});

/// A quick test that `regex` cannot match: the same pattern with ASCII word
/// boundaries.
///
/// A Unicode `\b` makes the regex crate's DFA give up at the first
/// non-ASCII character (a dash, an accent, a curly quote: most away notes
/// have one), after which it falls back to a backtracker that is many
/// times slower. Every `\b` in these patterns sits next to an ASCII letter
/// of the pattern, and next to one the ASCII boundary holds wherever the
/// Unicode one does (it also holds before an accented letter), so a text
/// the ASCII version rejects is rejected by the exact one too.
fn ascii_boundaries(regex: &Regex) -> Regex {
    build(&regex.as_str().replace(r"\b", r"(?-u:\b)"))
}

static URGENT_ONLY_QUICK: LazyLock<Regex> = LazyLock::new(|| ascii_boundaries(&URGENT_ONLY));
static ANONYMOUS_COLLEAGUE_QUICK: LazyLock<Regex> =
    LazyLock::new(|| ascii_boundaries(&ANONYMOUS_COLLEAGUE));

/// Spans of [`URGENT_ONLY`] in `text`, as `find_iter` gives them.
pub fn urgent_only(text: &str) -> Vec<std::ops::Range<usize>> {
    spans(&URGENT_ONLY, &URGENT_ONLY_QUICK, text)
}

/// Spans of [`ANONYMOUS_COLLEAGUE`] in `text`, as `find_iter` gives them.
pub fn anonymous_colleague(text: &str) -> Vec<std::ops::Range<usize>> {
    spans(&ANONYMOUS_COLLEAGUE, &ANONYMOUS_COLLEAGUE_QUICK, text)
}

/// The matches of `exact`, found by starting it only where `quick` (its
/// ASCII-boundary copy) matches. No exact match can start before the
/// leftmost quick one, so starting there gives the same leftmost match as
/// `find_iter`, and the slow engine only runs from a place where a match
/// almost certainly starts instead of over the whole text.
fn spans(exact: &Regex, quick: &Regex, text: &str) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(candidate) = quick.find_at(text, at) {
        let Some(m) = exact.find_at(text, candidate.start()) else { break };
        found.push(m.range());
        // These patterns never match the empty string; step past one anyway.
        at = if m.is_empty() { next_char(text, m.end()) } else { m.end() };
        if at > text.len() {
            break;
        }
    }
    found
}

fn next_char(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(text.len() + 1, |c| at + c.len_utf8())
}

static PART_TIME_QUICK: LazyLock<Regex> = LazyLock::new(|| ascii_boundaries(&PART_TIME));
static PART_TIME_DAYS_FIRST_QUICK: LazyLock<Regex> =
    LazyLock::new(|| ascii_boundaries(&PART_TIME_DAYS_FIRST));

/// The part-time notice in `text`: the matched span and the days as written.
pub fn part_time(text: &str) -> Option<(std::ops::Range<usize>, String)> {
    [(&*PART_TIME, &*PART_TIME_QUICK), (&*PART_TIME_DAYS_FIRST, &*PART_TIME_DAYS_FIRST_QUICK)]
        .into_iter()
        .filter(|(_, quick)| quick.is_match(text))
        .find_map(|(re, _)| {
            re.captures(text).map(|c| (c.get(0).map_or(0..0, |m| m.range()), c["days"].to_string()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_and_closings() {
        assert!(is_greeting("Beste Jan,"));
        assert!(is_greeting("Dear Sir or Madam,"));
        assert!(is_greeting("Sehr geehrte Damen und Herren,"));
        assert!(!is_greeting("Bestellingen worden morgen verzonden."));
        assert!(is_generic_greeting("Geachte heer/mevrouw,"));
        assert!(is_generic_greeting("Dear Sir or Madam,"));
        assert!(!is_generic_greeting("Beste Jan,"));
        assert!(is_closing("Met vriendelijke groet,"));
        assert!(is_closing("Kind regards"));
        assert!(is_closing("Cordialement,"));
        assert!(!is_closing("Groeten uit Utrecht en tot snel"));
    }

    #[test]
    fn urgent_only_in_four_languages() {
        for text in [
            "Voor dringende zaken kunt u contact opnemen met een collega.",
            "For urgent questions please contact one of my colleagues.",
            "In dringenden Fällen wenden Sie sich an meine Kollegen.",
            "Pour toute demande urgente, contactez mes collègues.",
        ] {
            assert!(URGENT_ONLY.is_match(text), "{text}");
            assert!(ANONYMOUS_COLLEAGUE.is_match(text), "{text}");
        }
        assert!(!URGENT_ONLY.is_match("I will answer all questions when I am back."));
    }

    #[test]
    fn promises_are_counted_in_working_days() {
        let m = PROMISE.captures("Ik reageer binnen 10 dagen op uw mail.").unwrap();
        assert_eq!(&m[0], "binnen 10 dagen");
        assert_eq!(promised_working_days(&m["n"], &m["unit"]), Some(8));
        let m = PROMISE.captures("U krijgt binnen twee weken antwoord.").unwrap();
        assert_eq!(promised_working_days(&m["n"], &m["unit"]), Some(10));
        let m = PROMISE.captures("I will reply within two weeks.").unwrap();
        assert_eq!(promised_working_days(&m["n"], &m["unit"]), Some(10));
        let m = PROMISE.captures("Antwort innerhalb von 3 Arbeitstagen").unwrap();
        assert_eq!(promised_working_days(&m["n"], &m["unit"]), Some(3));
        let m = PROMISE.captures("réponse sous 5 jours ouvrés").unwrap();
        assert_eq!(promised_working_days(&m["n"], &m["unit"]), Some(5));
    }

    #[test]
    fn part_time_notices() {
        let m = PART_TIME
            .captures("Ik ben afwezig op dinsdag en donderdag in de oneven weken.")
            .unwrap();
        assert_eq!(&m["days"], "dinsdag en donderdag in de oneven weken");
        let m = PART_TIME.captures("I am not in the office on Mondays and Fridays.").unwrap();
        assert_eq!(&m["days"], "Mondays and Fridays");
        let (_, days) = part_time("Am Mittwoch bin ich nicht im Büro.").unwrap();
        assert_eq!(days, "Mittwoch");
        let (_, days) = part_time("Op maandag en vrijdag ben ik afwezig.").unwrap();
        assert_eq!(days, "maandag en vrijdag");
        let m = PART_TIME.captures("Je suis absente le mercredi.").unwrap();
        assert_eq!(&m["days"], "mercredi");
    }

    #[test]
    fn the_quick_test_never_rejects_a_notice() {
        for text in [
            "Ik ben afwezig op dinsdag – en donderdag.",
            "Je suis absente le mercredi – merci.",
            "Café: ik ben vrij op woensdag.",
            "Ik ben afwezig tot en met maandag 10 november.",
            "Op maandag en vrijdag ben ik afwezig – Utrecht.",
            "«Am Mittwoch bin ich nicht im Büro»",
            "Ébij spoed: ik ben afwezig op maandag.",
            "Opmaandag ben ik afwezig.",
        ] {
            for (exact, quick) in [
                (&*PART_TIME, &*PART_TIME_QUICK),
                (&*PART_TIME_DAYS_FIRST, &*PART_TIME_DAYS_FIRST_QUICK),
            ] {
                assert!(!exact.is_match(text) || quick.is_match(text), "{text}");
            }
        }
        assert_eq!(part_time("Ik ben afwezig tot en met maandag 10 november."), None);
        for text in [
            "Voor dringende zaken – of bij spoed – kunt u één van mijn collega's bellen.",
            "For urgent matters, contact a colleague. In case of emergency, call my colleagues.",
            "Ébij spoed: mijn collega’s. Pour toute demande urgente, voyez mes collègues – merci.",
            "Geen enkele treffer hier, alleen tekst met accenten: café, één, Grüße.",
        ] {
            let all = |re: &Regex| re.find_iter(text).map(|m| m.range()).collect::<Vec<_>>();
            assert_eq!(urgent_only(text), all(&URGENT_ONLY), "{text}");
            assert_eq!(anonymous_colleague(text), all(&ANONYMOUS_COLLEAGUE), "{text}");
        }
        let (_, days) = part_time("Ik ben afwezig op dinsdag – en donderdag.").unwrap();
        assert_eq!(days, "dinsdag");
    }
}
