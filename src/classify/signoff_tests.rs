use super::*;
use crate::classify::testing::policy;

fn sign_off(text: &str, sender: &str) -> Option<SignOff> {
    find(text, sender, &policy())
}

#[test]
fn team_name_after_closing_in_four_languages() {
    for (text, want) in [
        ("Uw betaling is ontvangen.\n\nMet vriendelijke groet,\n\nTeam Incasso\n", "Team Incasso"),
        ("Payment received.\n\nKind regards,\nTeam Incasso", "Team Incasso"),
        (
            "Zahlung erhalten.\n\nMit freundlichen Grüßen\nAbteilung Buchhaltung",
            "Abteilung Buchhaltung",
        ),
        ("Paiement reçu.\n\nCordialement,\nÉquipe Recouvrement", "Équipe Recouvrement"),
        (
            "Dank u.\n\nMet vriendelijke groet,\nHet hoofd van het kantoor",
            "Het hoofd van het kantoor",
        ),
        ("Dank u.\n\nGroet,\nDe directie", "De directie"),
        ("Thanks.\n\nRegards,\nThe management", "The management"),
    ] {
        let found = sign_off(text, "ineke@voorbeeld.nl").unwrap_or_else(|| panic!("{text}"));
        assert_eq!(found.text, want);
        assert!(text.contains(&found.text));
    }
}

#[test]
fn names_the_policy_team() {
    let found = sign_off("Betaald.\n\nGroet,\nAfdeling Incasso\n", "ineke@voorbeeld.nl").unwrap();
    assert_eq!(found.team, Some(0));
    assert_eq!(found.closing.as_deref(), Some("Groet,"));
    // A team address lends its team when the line does not name one.
    let found = sign_off("Betaald.\n\nGroet,\nDe directie\n", "support@voorbeeld.nl").unwrap();
    assert_eq!(found.team, Some(1));
}

#[test]
fn organisation_line_joins_the_team_line() {
    let text =
        "Betaald.\n\nMet vriendelijke groet,\nTeam Incasso\nVoorbeeld B.V.\nTel. 020 123 4567\n";
    let found = sign_off(text, "incasso@voorbeeld.nl").unwrap();
    assert_eq!(found.text, "Team Incasso\nVoorbeeld B.V.");
    let found =
        sign_off("Betaald.\n\nMet vriendelijke groet,\nVoorbeeld\n", "x@voorbeeld.nl").unwrap();
    assert_eq!(found.text, "Voorbeeld");
}

#[test]
fn named_signatures_are_left_alone() {
    for text in [
        "Betaald.\n\nMet vriendelijke groet,\nIneke de Vries\n",
        "Betaald.\n\nMet vriendelijke groet,\nIneke de Vries\nTeam Incasso\n",
        "Betaald.\n\nMet vriendelijke groet,\nTeam Incasso\nIneke de Vries\n",
        "Betaald.\n\nMet vriendelijke groet,\nTeam Incasso\nJan Jansen\n",
        "Betaald.\n\nMet vriendelijke groet,\nTeam Incasso, Maarten Hoekstra\n",
        "Payé.\n\nCordialement,\nJean-Pierre Martin\n",
    ] {
        assert_eq!(sign_off(text, "incasso@voorbeeld.nl"), None, "{text}");
    }
}

#[test]
fn sentences_about_a_team_are_not_sign_offs() {
    assert_eq!(sign_off("Team Incasso belt u morgen over de factuur.", "x@voorbeeld.nl"), None);
    assert_eq!(sign_off("Hallo,\n\nIk stuur het door naar het team.", "x@voorbeeld.nl"), None);
}

#[test]
fn last_paragraph_without_closing() {
    let found = sign_off("Uw factuur is betaald.\n\nTeam Incasso", "x@voorbeeld.nl").unwrap();
    assert_eq!(found.text, "Team Incasso");
    assert_eq!(found.closing, None);
}

#[test]
fn team_address_with_closing_and_no_name() {
    let text = "Uw factuur is betaald.\n\nMet vriendelijke groet,\nTel. 020 123 4567";
    let found = sign_off(text, "incasso@voorbeeld.nl").unwrap();
    assert_eq!(found.text, "Met vriendelijke groet,");
    assert_eq!(found.team, Some(0));
    // The same from a person is not anonymous: they simply did not sign.
    assert_eq!(sign_off(text, "ineke@voorbeeld.nl"), None);
}

/// The line spans as the forward split computes them, for comparison.
fn trailing_lines_forward(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end();
        let lead = content.len() - content.trim_start().len();
        let (s, e) = (offset + lead, offset + content.len());
        spans.push(if s >= e { (s, s) } else { (s, e) });
        offset += line.len();
    }
    while spans.last().is_some_and(|(s, e)| s == e) {
        spans.pop();
    }
    let keep = MAX_BLOCK_LINES + 6;
    if spans.len() > keep {
        spans.drain(..spans.len() - keep);
    }
    spans
}

#[test]
fn trailing_lines_walked_backwards_match_a_forward_split() {
    let long: String = (0..40).map(|i| format!("  regel {i}  \r\n\r\n")).collect();
    for text in [
        "",
        "\n",
        "een",
        "een\n",
        "een\n\n\n",
        "een\r\ntwee\r\n  \r\n drie \r\n",
        "Groet,\n\n   \n\tTeam Incasso\t\n \n",
        long.as_str(),
    ] {
        assert_eq!(trailing_lines(text), trailing_lines_forward(text), "{text:?}");
    }
}
