//! Interface text in Dutch and English. Templates read it as `t.key`; the
//! template environment is strict about undefined values, so a key missing
//! here fails the page tests instead of rendering as an empty string.

use std::collections::BTreeMap;

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Dutch (the default: the firms that use courtesy write Dutch mail).
    Nl,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>` and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The language the switch link offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    /// Parses `nl` or `en` (case-insensitive, region ignored).
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("nl") {
            Some(Lang::Nl)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first supported language in an `Accept-Language` header, by
    /// quality; Dutch when none is supported.
    pub fn negotiate(accept: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else { continue };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Nl, |(_, l)| l)
    }
}

/// (key, Dutch, English).
const TEXT: &[(&str, &str, &str)] = &[
    ("title", "courtesy-console", "courtesy console"),
    ("skip", "Naar de inhoud", "Skip to content"),
    ("nav", "Hoofdmenu", "Main menu"),
    ("nav_policy", "Beleid", "Policy"),
    ("nav_preview", "Voorbeeld", "Preview"),
    ("nav_rewrites", "Herschrijvingen", "Rewrites"),
    ("switch_lang", "English", "Nederlands"),
    ("logout", "Afmelden", "Log out"),
    ("signed_in_as", "Aangemeld als", "Signed in as"),
    // Policy page.
    ("policy_title", "Huisbeleid", "House policy"),
    ("policy_file", "Bestand", "File"),
    ("policy_revision", "Versie", "Revision"),
    ("policy_errors", "Het beleidsbestand bevat fouten", "The policy file has errors"),
    (
        "policy_errors_help",
        "Dit is dezelfde tekst als van `courtesy check`. Zolang het bestand fouten bevat, geldt de laatste geldige versie.",
        "This is the same text `courtesy check` prints. While the file has errors, the last valid version stays in force.",
    ),
    (
        "policy_shown_last_good",
        "Hieronder staat de laatste geldige versie.",
        "Below is the last valid version.",
    ),
    (
        "policy_none",
        "Er is nog geen geldige versie van het beleid.",
        "There is no valid version of the policy yet.",
    ),
    ("findings", "Aandachtspunten", "Things to look at"),
    ("findings_none", "Geen aandachtspunten.", "Nothing to look at."),
    (
        "absence_note",
        "Het beleid kent geen afwezigheden, dus de console kan niet zien of een vervanger zelf ook afwezig is.",
        "The policy does not record absences, so the console cannot tell whether a substitute is away too.",
    ),
    ("no_substitute", "heeft geen vervanger", "has no substitute"),
    ("no_phone", "heeft geen telefoonnummer", "has no phone number"),
    ("team_no_members", "heeft een teamadres maar geen leden", "has a team address but no members"),
    ("loader_warnings", "Waarschuwingen bij het laden", "Warnings from loading"),
    ("people", "Medewerkers", "People"),
    ("name", "Naam", "Name"),
    ("email", "E-mail", "E-mail"),
    ("phone", "Telefoon", "Phone"),
    ("substitute", "Vervanger", "Substitute"),
    ("none", "geen", "none"),
    ("dossiers", "Dossiers", "Dossiers"),
    ("customers", "Klanten", "Customers"),
    ("handler", "Behandelaar", "Handler"),
    ("teams", "Teams", "Teams"),
    ("addresses", "Adressen", "Addresses"),
    ("members", "Leden", "Members"),
    ("templates", "Sjablonen", "Templates"),
    ("language", "Taal", "Language"),
    ("template", "Sjabloon", "Template"),
    ("phrases", "Zinsregels", "Phrase rules"),
    ("find", "Zoek", "Find"),
    ("replace", "Vervang door", "Replace with"),
    ("languages", "Talen", "Languages"),
    ("applies_to", "Geldt voor", "Applies to"),
    ("all", "alle", "all"),
    ("response_time", "Beloofde reactietijd", "Promised response time"),
    ("actions", "Acties", "Actions"),
    ("auto_reply", "Automatische antwoorden", "Automatic replies"),
    ("team_signature", "Anonieme teamondertekening", "Anonymous team signatures"),
    // Preview page.
    ("preview_title", "Voorbeeld", "Preview"),
    (
        "preview_intro",
        "Plak de tekst van een afwezigheidsbericht of een antwoord, of kies een .eml-bestand, en zie wat courtesy ervan maakt. Er wordt niets bewaard.",
        "Paste the text of an out-of-office or a reply, or choose an .eml file, and see what courtesy makes of it. Nothing is stored.",
    ),
    ("mode", "Soort bericht", "Kind of message"),
    ("mode_ooo", "Afwezigheidsbericht (automatisch antwoord)", "Out-of-office (automatic reply)"),
    ("mode_reply", "Gewoon antwoord", "Ordinary reply"),
    ("sender", "Afzender", "Sender"),
    ("sender_from_file", "zoals in het bestand", "as in the file"),
    ("recipient_name", "Naam van de ontvanger", "Recipient name"),
    ("recipient_address", "Adres van de ontvanger", "Recipient address"),
    ("subject", "Onderwerp", "Subject"),
    (
        "subject_help",
        "Leeg laten voor een standaardonderwerp.",
        "Leave empty for a default subject.",
    ),
    ("text", "Tekst van het bericht", "Text of the message"),
    ("eml", "Of een .eml-bestand (max. 2 MiB)", "Or an .eml file (max. 2 MiB)"),
    ("submit_preview", "Toon voorbeeld", "Show preview"),
    ("result", "Resultaat", "Result"),
    ("classification", "Herkend als", "Recognised as"),
    (
        "kind_both",
        "automatisch antwoord met anonieme teamondertekening",
        "automatic reply with an anonymous team signature",
    ),
    ("kind_auto", "automatisch antwoord", "automatic reply"),
    ("kind_team", "anonieme teamondertekening", "anonymous team signature"),
    ("kind_none", "gewone mail", "ordinary mail"),
    ("signals", "Signalen", "Signals"),
    ("decision", "Besluit", "Decision"),
    ("disp_untouched", "ongewijzigd doorgestuurd", "forwarded unchanged"),
    ("disp_rewritten", "herschreven", "rewritten"),
    (
        "disp_observed",
        "alleen waargenomen (zou herschreven worden)",
        "observed only (would be rewritten)",
    ),
    ("disp_skipped", "overgeslagen (ongewijzigd doorgestuurd)", "skipped (forwarded unchanged)"),
    ("skipped_because", "Overgeslagen omdat", "Skipped because"),
    // The audit log's dispositions, short enough for a table column.
    ("state_rewritten", "herschreven", "rewritten"),
    ("state_observed", "waargenomen", "observed"),
    ("state_skipped", "overgeslagen", "skipped"),
    ("rules", "Regels", "Rules"),
    ("unapplied", "Niet toegepast", "Not applied"),
    ("before", "Voor", "Before"),
    ("after", "Na", "After"),
    ("part", "Deel", "Part"),
    (
        "rendered",
        "Zo ziet de HTML eruit (zonder scripts en externe afbeeldingen)",
        "How the HTML looks (no scripts, no remote images)",
    ),
    ("html_before", "HTML voor", "HTML before"),
    ("html_after", "HTML na", "HTML after"),
    ("no_changes", "Geen tekstdelen gewijzigd.", "No text parts changed."),
    (
        "need_input",
        "Plak een tekst of kies een .eml-bestand.",
        "Paste a text or choose an .eml file.",
    ),
    ("need_sender", "Kies een afzender uit het beleid.", "Choose a sender from the policy."),
    ("bad_address", "Dit is geen e-mailadres", "This is not an e-mail address"),
    ("not_a_message", "Dit bestand is geen e-mailbericht", "This file is not an e-mail message"),
    (
        "no_policy_preview",
        "Zonder geldig beleid kan er geen voorbeeld gemaakt worden.",
        "A preview needs a valid policy.",
    ),
    // Rewrites page.
    ("rewrites_title", "Laatste herschrijvingen", "Latest rewrites"),
    (
        "rewrites_off",
        "Er is geen auditlog ingesteld, dus er is niets te tonen.",
        "No audit log is configured, so there is nothing to show.",
    ),
    ("rewrites_none", "Nog geen herschrijvingen.", "No rewrites yet."),
    (
        "rewrites_privacy_none",
        "Het auditlog bewaart geen tekst (instelling diff: none); alleen regels en personen worden getoond.",
        "The audit log keeps no text (setting diff: none); only rules and people are shown.",
    ),
    ("time", "Tijd", "Time"),
    ("who", "Persoon of team", "Person or team"),
    ("recipients", "Ontvangers", "Recipients"),
    ("view", "bekijk", "view"),
    ("removed", "Verwijderd", "Removed"),
    ("inserted", "Toegevoegd", "Inserted"),
    (
        "text_not_recorded",
        "Tekst niet bewaard (auditinstelling diff: none).",
        "Text not recorded (audit setting diff: none).",
    ),
    ("back", "Terug naar de lijst", "Back to the list"),
    (
        "unreadable_lines",
        "regels in het log konden niet gelezen worden; draai `courtesy audit verify`.",
        "lines of the log could not be read; run `courtesy audit verify`.",
    ),
    // Login and errors.
    ("login_title", "Aanmelden", "Log in"),
    ("user", "Gebruikersnaam", "User name"),
    ("password", "Wachtwoord", "Password"),
    ("login", "Aanmelden", "Log in"),
    ("login_failed", "Onjuiste gebruikersnaam of wachtwoord.", "Wrong user name or password."),
    (
        "login_throttled",
        "Te veel mislukte pogingen. Probeer het over een paar minuten opnieuw.",
        "Too many failed attempts. Try again in a few minutes.",
    ),
    ("error_title", "Er ging iets mis", "Something went wrong"),
    (
        "error_csrf",
        "Het formulier is verlopen of niet van deze console. Laad de pagina opnieuw en probeer het nog eens.",
        "The form has expired or did not come from this console. Reload the page and try again.",
    ),
    (
        "error_too_large",
        "Het bestand is te groot (maximaal 2 MiB).",
        "The file is too large (at most 2 MiB).",
    ),
    ("error_bad_form", "Het formulier kon niet gelezen worden.", "The form could not be read."),
    ("error_not_found", "Deze pagina bestaat niet.", "This page does not exist."),
    (
        "error_internal",
        "Interne fout; de beheerder vindt details in het log.",
        "Internal error; the administrator finds details in the log.",
    ),
    ("error_audit", "Het auditlog kon niet gelezen worden.", "The audit log could not be read."),
    ("back_home", "Naar het beleid", "To the policy"),
];

/// The interface text for a language, as templates see it.
pub fn table(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    TEXT.iter().map(|(key, nl, en)| (*key, if lang == Lang::Nl { *nl } else { *en })).collect()
}

/// One interface text.
pub fn text(lang: Lang, key: &str) -> &'static str {
    TEXT.iter()
        .find(|(k, _, _)| *k == key)
        .map_or("", |(_, nl, en)| if lang == Lang::Nl { nl } else { en })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Lang::negotiate("en-GB,en;q=0.9,nl;q=0.8"), Lang::En);
        assert_eq!(Lang::negotiate("de-DE, nl;q=0.5, en;q=0.4"), Lang::Nl);
        assert_eq!(Lang::negotiate("fr"), Lang::Nl);
        assert_eq!(Lang::negotiate("en;q=0, nl;q=0.1"), Lang::Nl);
        assert_eq!(Lang::negotiate(""), Lang::Nl);
    }

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut keys: Vec<&str> = TEXT.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate key");
        for (key, nl, en) in TEXT {
            assert!(!nl.is_empty() && !en.is_empty(), "{key}");
        }
        assert_eq!(text(Lang::En, "nav_policy"), "Policy");
        assert_eq!(text(Lang::Nl, "nav_policy"), "Beleid");
    }
}
