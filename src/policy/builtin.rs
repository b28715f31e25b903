//! The built-in texts: templates and response-time promises used wherever
//! the policy file does not give its own.
//!
//! Register: formal but warm business language (Dutch uses "u"). Every
//! template copes with missing values, so a person without a phone number
//! never leaves "bellen via ." behind, and mail from a team (which has no
//! substitute) falls back to the organisation.

use super::Language;

/// The promise used for a language the policy gives none for.
pub(crate) fn response_time(language: Language) -> &'static str {
    match language {
        Language::Nl => "binnen één werkdag",
        Language::En => "within one working day",
        Language::De => "innerhalb eines Arbeitstages",
        Language::Fr => "sous un jour ouvré",
    }
}

/// How one contact (`substitute` or `organisation`) can be reached, as a
/// clause that starts with a comma, or nothing when neither is known.
fn reach(language: Language, who: &str) -> String {
    let (phone_and_mail, phone_only, mail_only) = match language {
        Language::Nl => (
            ", telefonisch via {P} of per e-mail via {E}",
            ", telefonisch via {P}",
            ", per e-mail via {E}",
        ),
        Language::En => {
            (", by phone on {P} or by e-mail at {E}", ", by phone on {P}", ", by e-mail at {E}")
        }
        Language::De => (
            ", telefonisch unter {P} oder per E-Mail an {E}",
            ", telefonisch unter {P}",
            ", per E-Mail an {E}",
        ),
        Language::Fr => (
            ", par téléphone au {P} ou par e-mail à l'adresse {E}",
            ", par téléphone au {P}",
            ", par e-mail à l'adresse {E}",
        ),
    };
    let p = format!("{{{{ {who}.phone }}}}");
    let e = format!("{{{{ {who}.email }}}}");
    let fill = |s: &str| s.replace("{P}", &p).replace("{E}", &e);
    format!(
        "{{% if {who}.phone and {who}.email %}}{}{{% elif {who}.phone %}}{}\
         {{% elif {who}.email %}}{}{{% endif %}}",
        fill(phone_and_mail),
        fill(phone_only),
        fill(mail_only)
    )
}

/// A sentence for the substitute, or for the organisation when there is none.
fn with_fallback(language: Language, person: &str, organisation: &str) -> String {
    format!(
        "{{% if substitute and substitute.name %}}{person}{}{{% else %}}{organisation}{}{{% endif %}}",
        reach(language, "substitute"),
        reach(language, "organisation"),
    )
}

/// The built-in source of template `name` (one of `TEMPLATE_NAMES`) in `language`.
pub(crate) fn template(language: Language, name: &str) -> String {
    use Language::*;
    let s = |text: &str| text.to_owned();
    match (name, language) {
        ("salutation", Nl) => s("Beste {{ recipient.name }},"),
        ("salutation", En) => s("Dear {{ recipient.name }},"),
        ("salutation", De) => s("Guten Tag {{ recipient.name }},"),
        ("salutation", Fr) => s("Bonjour {{ recipient.name }},"),

        ("salutation_generic", Nl) => s("Geachte heer, mevrouw,"),
        ("salutation_generic", En) => s("Dear Sir or Madam,"),
        ("salutation_generic", De) => s("Sehr geehrte Damen und Herren,"),
        ("salutation_generic", Fr) => s("Madame, Monsieur,"),

        ("substitute", Nl) => {
            with_fallback(
                Nl,
                "Tijdens mijn afwezigheid helpt mijn collega {{ substitute.name }} u graag verder",
                "Tijdens mijn afwezigheid helpen mijn collega's van {{ organisation.name }} u graag verder",
            ) + "."
        }
        ("substitute", En) => {
            with_fallback(
                En,
                "While I am away, my colleague {{ substitute.name }} will be glad to help you",
                "While I am away, my colleagues at {{ organisation.name }} will be glad to help you",
            ) + "."
        }
        ("substitute", De) => {
            with_fallback(
                De,
                "Während meiner Abwesenheit ist {{ substitute.name }} gerne für Sie da",
                "Während meiner Abwesenheit sind meine Kolleginnen und Kollegen von \
             {{ organisation.name }} gerne für Sie da",
            ) + "."
        }
        ("substitute", Fr) => {
            with_fallback(
                Fr,
                "Pendant mon absence, {{ substitute.name }} se tiendra volontiers à votre disposition",
                "Pendant mon absence, l'équipe de {{ organisation.name }} se tiendra volontiers à \
             votre disposition",
            ) + "."
        }

        ("all_questions", Nl) => {
            with_fallback(
                Nl,
                "Met al uw vragen kunt u in de tussentijd terecht bij mijn collega {{ substitute.name }}",
                "Met al uw vragen kunt u in de tussentijd terecht bij {{ organisation.name }}",
            ) + "."
        }
        ("all_questions", En) => {
            with_fallback(
                En,
                "In the meantime, my colleague {{ substitute.name }} will be glad to help you with \
             any question",
                "In the meantime, {{ organisation.name }} will be glad to help you with any question",
            ) + "."
        }
        ("all_questions", De) => {
            with_fallback(
                De,
                "Mit allen Fragen wenden Sie sich in der Zwischenzeit bitte an {{ substitute.name }}",
                "Mit allen Fragen wenden Sie sich in der Zwischenzeit bitte an {{ organisation.name }}",
            ) + "."
        }
        ("all_questions", Fr) => {
            with_fallback(
                Fr,
                "Pour toute question, vous pouvez vous adresser entre-temps à {{ substitute.name }}",
                "Pour toute question, vous pouvez vous adresser entre-temps à {{ organisation.name }}",
            ) + "."
        }

        ("response_time", _) => s("{{ response_time }}"),

        ("part_time", Nl) => {
            with_fallback(
                Nl,
                "Op {{ days }} kunt u terecht bij mijn collega {{ substitute.name }}",
                "Op {{ days }} kunt u terecht bij {{ organisation.name }}",
            ) + "."
        }
        ("part_time", En) => {
            with_fallback(
                En,
                "On {{ days }}, my colleague {{ substitute.name }} will be glad to help you",
                "On {{ days }}, {{ organisation.name }} will be glad to help you",
            ) + "."
        }
        ("part_time", De) => {
            with_fallback(
                De,
                "An meinen freien Tagen ({{ days }}) ist {{ substitute.name }} gerne für Sie da",
                "An meinen freien Tagen ({{ days }}) ist {{ organisation.name }} gerne für Sie da",
            ) + "."
        }
        ("part_time", Fr) => {
            with_fallback(
                Fr,
                "Les jours où je ne travaille pas ({{ days }}), {{ substitute.name }} se tiendra \
             volontiers à votre disposition",
                "Les jours où je ne travaille pas ({{ days }}), l'équipe de {{ organisation.name }} \
             se tiendra volontiers à votre disposition",
            ) + "."
        }

        // The same layout in every language: the names are the point, and
        // `members_text` already joins them with the language's "and".
        ("team_signature", _) => s(
            // `+%}` keeps the line break that trim_blocks would drop.
            "{% if team.members_text +%}{{ team.members_text }}\n{% endif %}{{ team.name }}\
             {% if team.phone +%}\n{{ team.phone }}{% endif %}\
             {% if team.email +%}\n{{ team.email }}{% endif %}",
        ),

        // Only reached for a name outside TEMPLATE_NAMES: render nothing.
        _ => String::new(),
    }
}
