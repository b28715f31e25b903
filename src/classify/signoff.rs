//! Finds an anonymous sign-off at the end of the new text: "Team Incasso",
//! "Afdeling Debiteuren", "Het hoofd van het kantoor", the firm's name
//! alone, or a team address that signs with a closing phrase and no name.
//!
//! The search is anchored on the closing phrase ("Met vriendelijke groet,",
//! "Kind regards,", "Mit freundlichen Grüßen", "Cordialement"): the name
//! lines right below it are the signature. Without a closing phrase the last
//! paragraph must *start* with an anonymous name, so a sentence such as
//! "Team Incasso belt u morgen" never counts.
//!
//! A signature that names a person is left alone, whatever else it says:
//! any person of the policy anywhere in the signature block, a first line
//! that is not anonymous, or a line that looks like a personal name right
//! below the anonymous one ("Team Incasso\nIneke de Vries"). When in doubt
//! the sign-off is not reported, because replacing a real name would be
//! worse than leaving a team name.

use super::SignOff;
use super::fold::fold;
use crate::policy::{Policy, Sender, TeamIdx};

/// At most this many non-empty lines may follow the closing phrase.
const MAX_BLOCK_LINES: usize = 8;

/// Folded closing phrases, without trailing punctuation.
const CLOSINGS: &[&str] = &[
    "met vriendelijke groet",
    "met vriendelijke groeten",
    "vriendelijke groet",
    "vriendelijke groeten",
    "met hartelijke groet",
    "hartelijke groet",
    "hartelijke groeten",
    "met beleefde groet",
    "met groet",
    "groet",
    "groeten",
    "mvg",
    "hoogachtend",
    "bedankt",
    "alvast bedankt",
    "dank u wel",
    "kind regards",
    "with kind regards",
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
    "mit freundlichen grussen",
    "mit freundlichem gruss",
    "freundliche grusse",
    "mit besten grussen",
    "beste grusse",
    "viele grusse",
    "herzliche grusse",
    "liebe grusse",
    "grusse",
    "gruss",
    "mfg",
    "cordialement",
    "bien cordialement",
    "bien a vous",
    "salutations",
    "meilleures salutations",
    "sinceres salutations",
    "avec mes salutations distinguees",
    "veuillez agreer nos salutations distinguees",
    "merci",
];

/// Words that make a line a department rather than a person.
const TEAM_WORDS: &[&str] =
    &["team", "afdeling", "abteilung", "equipe", "l'equipe", "department", "dept", "service"];

/// Folded name lines that are anonymous on their own.
const ANONYMOUS_LINES: &[&str] = &[
    "het hoofd van het kantoor",
    "hoofd van het kantoor",
    "de directie",
    "directie",
    "het management",
    "de leiding",
    "het secretariaat",
    "secretariaat",
    "de administratie",
    "klantenservice",
    "the management",
    "management",
    "customer service",
    "the office manager",
    "die geschaftsleitung",
    "geschaftsleitung",
    "die geschaftsfuhrung",
    "kundenservice",
    "das sekretariat",
    "la direction",
    "le secretariat",
    "le service client",
    "service client",
];

/// Articles and filler words ignored when comparing a line with a team name.
const FILLERS: &[&str] =
    &["het", "de", "die", "das", "the", "le", "la", "l'", "uw", "your", "ihr", "votre"];

/// Lower-case name particles that may appear inside a personal name.
const PARTICLES: &[&str] = &[
    "de", "van", "der", "den", "ten", "ter", "te", "'t", "von", "zu", "du", "le", "la", "di", "da",
];

/// Finds an anonymous sign-off in `text` (the new text) for `sender`.
pub(crate) fn find(text: &str, sender: &str, policy: &Policy) -> Option<SignOff> {
    let sender_team = match policy.sender(sender) {
        Some(Sender::Team(i)) => Some(i),
        _ => None,
    };
    let lines = trailing_lines(text);
    let closing = lines.iter().rposition(|&(start, end)| is_closing(&text[start..end]));
    let block: &[(usize, usize)] = match closing {
        Some(c) => &lines[c + 1..],
        None => {
            // The last paragraph: lines after the last blank line.
            let from = lines.iter().rposition(|&(s, e)| s == e).map_or(0, |b| b + 1);
            &lines[from..]
        }
    };
    let block: Vec<(usize, usize)> = block.iter().copied().filter(|(s, e)| s != e).collect();
    if block.len() > MAX_BLOCK_LINES || (closing.is_none() && block.len() > 4) {
        return None;
    }
    // Whether the block names a person of the policy is asked last, only
    // when the answer would otherwise be yes: it folds every person's name.
    let names_person = || block.iter().any(|&(s, e)| names_policy_person(&text[s..e], policy));

    let mut run_team: Option<TeamIdx> = None;
    let mut run = 0;
    for &(s, e) in &block {
        match anonymous(&text[s..e], policy) {
            Some(team) => {
                run_team = run_team.or(team);
                run += 1;
            }
            None => break,
        }
    }
    if run == 0 {
        // A team address that signs with a closing phrase and no name at all
        // (only contact lines, or nothing) is anonymous too; the closing line
        // is then the span to extend.
        let c = closing?;
        let team = sender_team?;
        if names_person() || block.iter().any(|&(s, e)| looks_like_person(&text[s..e], policy)) {
            return None;
        }
        let (s, e) = lines[c];
        let line = &text[s..e];
        return Some(SignOff {
            text: line.to_string(),
            team: Some(team),
            closing: Some(line.into()),
        });
    }
    if let Some(&(s, e)) = block.get(run)
        && looks_like_person(&text[s..e], policy)
    {
        return None;
    }
    if names_person() {
        return None;
    }
    let (start, _) = block[0];
    let (_, end) = block[run - 1];
    Some(SignOff {
        text: text[start..end].to_string(),
        team: run_team.or(sender_team),
        closing: closing.map(|c| text[lines[c].0..lines[c].1].to_string()),
    })
}

/// `(start, end)` of each of the last lines of `text`, trimmed, with blank
/// lines as empty spans; trailing blank lines are dropped and at most
/// `MAX_BLOCK_LINES` + 6 lines are kept. Walks back from the end, so a
/// long text costs no more than a short one.
fn trailing_lines(text: &str) -> Vec<(usize, usize)> {
    let keep = MAX_BLOCK_LINES + 6;
    let bytes = text.as_bytes();
    let mut spans = Vec::with_capacity(keep);
    let mut end = text.len();
    while end > 0 && spans.len() < keep {
        let content_end = if bytes[end - 1] == b'\n' { end - 1 } else { end };
        let start = memchr::memrchr(b'\n', &bytes[..content_end]).map_or(0, |i| i + 1);
        let content = text[start..content_end].trim_end();
        let lead = content.len() - content.trim_start().len();
        let (s, e) = (start + lead, start + content.len());
        if s < e {
            spans.push((s, e));
        } else if !spans.is_empty() {
            spans.push((start, start));
        }
        end = start;
    }
    spans.reverse();
    spans
}

fn is_closing(line: &str) -> bool {
    if line.len() > 60 {
        return false;
    }
    let folded = fold(line);
    let folded = folded.trim_end_matches([',', '.', '!', ' ', '-']);
    CLOSINGS.contains(&folded)
}

/// `Some(team)` when the line is an anonymous name, with the policy team it
/// names if any; `None` when it is anything else.
fn anonymous(line: &str, policy: &Policy) -> Option<Option<TeamIdx>> {
    if line.len() > 60 || line.chars().any(|c| c.is_ascii_digit() || c == '@' || c == ':') {
        return None;
    }
    let folded = fold(line);
    let folded = folded.trim_end_matches([',', '.']).trim_end();
    if let Some(i) = policy.teams.iter().position(|t| core(&fold(&t.name)) == core(folded)) {
        return Some(Some(i));
    }
    if is_organisation(folded, policy) || ANONYMOUS_LINES.contains(&folded) {
        return Some(None);
    }
    let words: Vec<&str> = folded.split([' ', '-']).filter(|w| !w.is_empty()).collect();
    if words.len() >= 2 && words.len() <= 5 && words.iter().any(|w| TEAM_WORDS.contains(w)) {
        return Some(None);
    }
    None
}

/// The distinctive words of a team name: "Team Incasso", "Afdeling Incasso"
/// and "Het Incasso-team" all reduce to "incasso".
fn core(folded: &str) -> String {
    folded
        .split([' ', '-'])
        .filter(|w| !w.is_empty() && !TEAM_WORDS.contains(w) && !FILLERS.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_organisation(folded: &str, policy: &Policy) -> bool {
    let name = fold(&policy.organisation.name);
    let name = name.trim_end_matches(['.', ',']);
    !name.is_empty() && (folded == name || strip_legal_form(name) == strip_legal_form(folded))
}

/// "voorbeeld b.v" → "voorbeeld"; both sides have trailing dots removed.
fn strip_legal_form(name: &str) -> &str {
    const FORMS: &[&str] = &[
        " b.v", " bv", " n.v", " nv", " v.o.f", " vof", " gmbh", " ag", " s.a", " sa", " sarl",
        " ltd", " inc", " llc",
    ];
    let name = name.trim_end_matches(['.', ',']);
    FORMS.iter().find_map(|f| name.strip_suffix(f)).unwrap_or(name).trim_end_matches(',')
}

fn names_policy_person(line: &str, policy: &Policy) -> bool {
    if policy.people.is_empty() {
        return false;
    }
    let folded = fold(line);
    policy.people.iter().any(|p| {
        let name = fold(&p.name);
        !name.is_empty() && super::fold::contains_word(&folded, &name)
    }) || lists_first_names(&folded, policy)
}

/// "Ineke, Carina, Bianca en Linda" or "Linda": first names of people in the
/// policy, alone or joined as each language lists them. This is how a named
/// team signs, so it is not anonymous.
fn lists_first_names(folded: &str, policy: &Policy) -> bool {
    let line = folded.trim_end_matches([',', '.', ' ']);
    let names: Vec<&str> = line
        .split([',', '&'])
        .flat_map(|part| part.split(" en ").flat_map(|p| p.split(" and ")))
        .flat_map(|part| part.split(" und ").flat_map(|p| p.split(" et ")))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    !names.is_empty()
        && names.iter().all(|name| policy.people.iter().any(|p| fold(p.first_name()) == *name))
}

/// A line of two to four words that reads like a personal name:
/// "Ineke de Vries", "Jean-Pierre Martin", "M. Hoekstra".
fn looks_like_person(line: &str, policy: &Policy) -> bool {
    if names_policy_person(line, policy) {
        return true;
    }
    let line = line.trim_end_matches([',', '.']);
    if line.len() > 40 || anonymous(line, policy).is_some() {
        return false;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    if !(2..=4).contains(&words.len()) {
        return false;
    }
    words.iter().enumerate().all(|(i, w)| {
        let alphabetic = w.chars().all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '.'));
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        alphabetic && (capital || (i > 0 && PARTICLES.contains(&w.to_lowercase().as_str())))
    })
}

#[cfg(test)]
#[path = "signoff_tests.rs"]
mod tests;
