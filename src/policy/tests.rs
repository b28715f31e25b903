//! Tests of loading and validation: one per kind of finding, asserting the
//! exact position and message.

use super::*;

/// A small valid policy; tests append to it or replace lines in it.
const BASE: &str = "\
version: 1
organisation:
  name: Hoekstra Belastingadviseurs
  domains: [hoekstra-advies.nl]
  phone: \"+31 30 555 0100\"
  email: kantoor@hoekstra-advies.nl
people:
  - id: maarten
    name: Maarten Hoekstra
    email: maarten@hoekstra-advies.nl
    phone: \"+31 30 555 0111\"
    substitute: nadia
  - id: nadia
    name: Nadia el Amrani
    email: nadia@hoekstra-advies.nl
    phone: \"+31 30 555 0112\"
    substitute: maarten
";

fn load(text: &str) -> Result<Loaded, PolicyErrors> {
    load_str(text, "p.yaml")
}

/// The findings of an invalid policy, one `file:line:col: message` each.
fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(_) => panic!("policy unexpectedly valid:\n{text}"),
        Err(e) => e
            .errors()
            .map(|d| format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message))
            .collect(),
    }
}

/// The one error of an invalid policy, with its hint.
fn only_error(text: &str) -> (String, String) {
    let e = load(text).expect_err("policy unexpectedly valid");
    let errs: Vec<_> = e.errors().collect();
    assert_eq!(errs.len(), 1, "expected one error, got:\n{e}");
    let d = errs[0];
    (
        format!("{}:{}:{}: {}", d.file, d.line, d.column, d.message),
        d.hint.clone().unwrap_or_default(),
    )
}

#[test]
fn base_policy_is_valid_and_indexed() {
    let loaded = load(BASE).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let p = &loaded.policy;
    assert_eq!(p.version, 1);
    assert_eq!(p.people.len(), 2);
    assert_eq!(p.people[0].substitute, Some(1));
    assert_eq!(p.sender("Maarten@Hoekstra-Advies.nl"), Some(Sender::Person(0)));
    assert!(p.is_our_address("x@hoekstra-advies.nl"));
    assert_eq!(p.default_language, Language::Nl);
    assert_eq!(p.max_response_days, DEFAULT_MAX_RESPONSE_DAYS);
    assert_eq!(p.response_time_for(Language::De), Some("innerhalb eines Arbeitstages"));
    assert_eq!(p.actions.auto_reply, Action::Rewrite);
    assert_eq!(p.source.path, "p.yaml");
    // sha256 of the exact bytes
    assert_eq!(
        p.source.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(BASE.as_bytes()))
    );
}

#[test]
fn core_schema_from_the_specification_loads() {
    let text = "\
version: 1
organisation:
  name: Hoekstra Belastingadviseurs
  domains: [hoekstra-advies.nl]
  phone: \"+31 30 555 0100\"
  email: kantoor@hoekstra-advies.nl
defaults:
  language: nl
  response_time: {nl: binnen één werkdag, en: within one working day}
people:
  - id: maarten
    name: Maarten Hoekstra
    email: maarten@hoekstra-advies.nl
    phone: \"+31 30 555 0111\"
    substitute: nadia
  - {id: nadia, name: Nadia Bakker, email: nadia@hoekstra-advies.nl, phone: \"+31 30 555 0112\", substitute: maarten}
  - {id: ineke, name: Ineke Mulder, email: ineke@hoekstra-advies.nl, phone: \"+31 30 555 0121\", substitute: linda}
  - {id: linda, name: Linda Postma, email: linda@hoekstra-advies.nl, phone: \"+31 30 555 0124\", substitute: ineke}
teams:
  - id: incasso
    name: Team Incasso
    addresses: [incasso@hoekstra-advies.nl]
    members: [ineke, linda]
dossiers:
  - customers: [\"@bakkerij-degroot.nl\", \"piet@voorbeeld.nl\"]
    handler: nadia
";
    let loaded = load(text).unwrap();
    let p = &loaded.policy;
    assert_eq!(p.response_time_for(Language::Fr), Some("sous un jour ouvré"));
    assert_eq!(p.teams[0].members, vec![2, 3]);
    assert_eq!(p.sender("incasso@hoekstra-advies.nl"), Some(Sender::Team(0)));
    assert_eq!(p.dossier_handler("jan@Bakkerij-DeGroot.nl"), Some(1));
    assert_eq!(p.dossier_handler("piet@voorbeeld.nl"), Some(1));
    assert_eq!(p.dossier_handler("klaas@voorbeeld.nl"), None);
    for l in Language::ALL {
        for n in TEMPLATE_NAMES {
            assert!(p.templates.get_template(&format!("{l}/{n}.txt")).is_ok());
            assert!(p.templates.get_template(&format!("{l}/{n}.html")).is_ok());
        }
    }
}

#[test]
fn unknown_key_names_the_nearest_and_all_allowed_keys() {
    let text = BASE.replace("    phone: \"+31 30 555 0111\"", "    phon: \"+31 30 555 0111\"");
    let (e, hint) = only_error(&text);
    assert_eq!(e, "p.yaml:11:5: unknown key `phon`");
    assert!(
        hint.starts_with("did you mean `phone`? allowed keys here: `id`, `name`, `email`"),
        "{hint}"
    );
}

#[test]
fn wrong_type_is_reported_at_the_value() {
    let text = BASE.replace("domains: [hoekstra-advies.nl]", "domains: hoekstra-advies.nl");
    let (e, hint) = only_error(&text);
    assert_eq!(e, "p.yaml:4:12: expected a list here");
    assert!(hint.contains("write a list"), "{hint}");
}

#[test]
fn missing_required_key() {
    let text = BASE.replace("    email: nadia@hoekstra-advies.nl\n", "");
    let (e, _) = only_error(&text);
    // The parser notices at the end of the entry.
    assert_eq!(e, "p.yaml:16:5: missing required key `email`");
}

#[test]
fn unsupported_version() {
    let (e, hint) = only_error(&BASE.replace("version: 1", "version: 2"));
    assert_eq!(e, "p.yaml:1:10: unsupported policy version 2");
    assert_eq!(hint, "this version of courtesy reads `version: 1`");
}

#[test]
fn unknown_substitute_suggests_the_nearest_id() {
    let (e, hint) = only_error(&BASE.replace("substitute: nadia", "substitute: nadja"));
    assert_eq!(e, "p.yaml:12:17: substitute `nadja` is not the id of a person");
    assert_eq!(hint, "did you mean `nadia`?");
}

#[test]
fn own_substitute() {
    let (e, _) = only_error(&BASE.replace("substitute: nadia", "substitute: maarten"));
    assert_eq!(e, "p.yaml:12:17: person `maarten` is their own substitute");
}

#[test]
fn duplicate_person_id_points_at_the_second() {
    let text = BASE
        .replace("  - id: nadia", "  - id: maarten")
        .replace("substitute: nadia", "substitute: maarten");
    let errs = errors(&text);
    assert!(
        errs.contains(&"p.yaml:13:9: person id `maarten` is used twice".to_owned()),
        "{errs:?}"
    );
}

#[test]
fn same_address_twice() {
    let text = BASE.replace("email: nadia@hoekstra-advies.nl", "email: Maarten@hoekstra-advies.nl");
    let (e, hint) = only_error(&text);
    assert_eq!(
        e,
        "p.yaml:15:12: address `maarten@hoekstra-advies.nl` is already used by person `maarten`"
    );
    assert_eq!(hint, "see line 10; each address may belong to one person or team");
}

#[test]
fn team_address_clashing_with_an_alias() {
    let text = format!(
        "{}teams:\n  - id: incasso\n    name: Team Incasso\n    addresses: [nadia@hoekstra-advies.nl]\n    members: [nadia]\n",
        BASE
    );
    let (e, _) = only_error(&text);
    assert_eq!(
        e,
        "p.yaml:21:17: address `nadia@hoekstra-advies.nl` is already used by person `nadia`"
    );
}

#[test]
fn invalid_email_and_domain() {
    let text = BASE
        .replace("email: kantoor@hoekstra-advies.nl", "email: kantoor.hoekstra-advies.nl")
        .replace("domains: [hoekstra-advies.nl]", "domains: [hoekstra-advies.nl, \"-bad.nl\"]");
    assert_eq!(
        errors(&text),
        vec![
            "p.yaml:4:33: organisation domain `-bad.nl` is not a valid domain: a part may not start or end with `-`",
            "p.yaml:6:10: organisation `email` `kantoor.hoekstra-advies.nl` is not a valid e-mail address: it has no `@`",
        ]
    );
}

#[test]
fn unknown_member_and_handler() {
    let text = format!(
        "{BASE}teams:\n  - id: incasso\n    name: Team Incasso\n    addresses: [incasso@hoekstra-advies.nl]\n    members: [maarten, nadya]\n\
         dossiers:\n  - customers: [\"@klant.nl\"]\n    handler: maartn\n"
    );
    let e = load(&text).unwrap_err();
    let errs: Vec<_> = e.errors().collect();
    assert_eq!(errs.len(), 2, "{e}");
    assert_eq!(
        errs[0].to_string(),
        "p.yaml:22:24: member `nadya` is not the id of a person\n  help: did you mean `nadia`?"
    );
    assert_eq!(
        errs[1].to_string(),
        "p.yaml:25:14: handler `maartn` is not the id of a person\n  help: did you mean `maarten`?"
    );
}

#[test]
fn invalid_regex_and_oversized_regex() {
    let text = format!(
        "{BASE}phrases:\n  - id: a\n    find: '(unclosed'\n    replace: x\n  - id: b\n    find: '(?:a{{1000}}){{1000}}'\n    replace: x\n"
    );
    let errs = errors(&text);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0]
            .starts_with("p.yaml:20:11: `find` is not a valid regular expression: unclosed group"),
        "{errs:?}"
    );
    assert_eq!(errs[1], "p.yaml:23:11: `find` pattern is too large once compiled");
}

#[test]
fn template_syntax_error_points_into_the_block() {
    let text = format!(
        "{BASE}templates:\n  nl:\n    team_signature: |\n      {{{{ team.members_text }}}}\n      {{{{ team.name }}\n"
    );
    let (e, _) = only_error(&text);
    assert_eq!(
        e,
        "p.yaml:22:20: template `nl.team_signature`: syntax error: unexpected `}`, expected end of variable block"
    );
}

#[test]
fn template_with_unknown_variable_is_refused() {
    let text =
        format!("{BASE}templates:\n  en:\n    salutation: \"Dear {{{{ recipent.name }}}},\"\n");
    let (e, hint) = only_error(&text);
    assert_eq!(
        e,
        "p.yaml:20:26: template `en.salutation`: cannot be rendered: `recipent` is undefined"
    );
    assert!(hint.contains("docs/POLICY.md"));
}

#[test]
fn template_override_is_used_and_html_escaped() {
    let text = format!(
        "{BASE}templates:\n  nl:\n    salutation: \"Hallo {{{{ recipient.first_name }}}},\"\n"
    );
    let p = load(&text).unwrap().policy;
    let ctx = minijinja::context! { recipient => minijinja::context! { first_name => "Jan & co" } };
    assert_eq!(
        p.templates.get_template("nl/salutation.txt").unwrap().render(&ctx).unwrap(),
        "Hallo Jan & co,"
    );
    assert_eq!(
        p.templates.get_template("nl/salutation.html").unwrap().render(&ctx).unwrap(),
        "Hallo Jan &amp; co,"
    );
    // Other languages keep the built-in text.
    let en = p.templates.get_template("en/salutation.txt").unwrap().render(&ctx).unwrap();
    assert_eq!(en, "Dear ,");
}

#[test]
fn unknown_template_name_and_language() {
    let (e, hint) = only_error(&format!("{BASE}templates:\n  nl:\n    salutaton: x\n"));
    assert_eq!(e, "p.yaml:20:5: unknown key `salutaton`");
    assert!(hint.starts_with("did you mean `salutation`?"), "{hint}");
    let (e, _) = only_error(&format!("{BASE}templates:\n  es:\n    salutation: x\n"));
    assert_eq!(e, "p.yaml:19:3: unknown key `es`");
}

#[test]
fn unknown_language_code() {
    let text = BASE.replace("version: 1\n", "version: 1\ndefaults:\n  language: nederlands\n");
    let (e, hint) = only_error(&text);
    assert_eq!(e, "p.yaml:3:13: unknown language `nederlands`");
    assert_eq!(hint, "supported languages: nl, en, de, fr");
    let (_, hint) =
        only_error(&BASE.replace("version: 1\n", "version: 1\ndefaults:\n  language: NL_\n"));
    assert_eq!(hint, "did you mean `nl`? supported: nl, en, de, fr");
}

#[test]
fn line_breaks_in_single_line_values_are_refused() {
    let text = BASE
        .replace("name: Maarten Hoekstra", "name: \"Maarten\\r\\nBcc: x@evil.example\"")
        .replace("phone: \"+31 30 555 0112\"", "phone: |\n      +31 30\n      555 0112");
    assert_eq!(
        errors(&text),
        vec![
            "p.yaml:9:11: `name` contains a line break",
            "p.yaml:17:7: `phone` contains a line break"
        ]
    );
}

#[test]
fn bad_phone_number() {
    let (e, _) = only_error(&BASE.replace("\"+31 30 555 0111\"", "\"bel 030-5550111\""));
    assert_eq!(
        e,
        "p.yaml:11:12: `phone` `bel 030-5550111` is not a valid phone number: it may only contain digits, spaces and `+ - ( ) . /`"
    );
}

#[test]
fn bad_action_and_applies_to() {
    let text = format!(
        "{BASE}phrases:\n  - id: a\n    find: x\n    replace: y\n    applies_to: [autoreply]\nactions:\n  auto_reply: obsrve\n"
    );
    let e = load(&text).unwrap_err();
    let errs: Vec<String> = e.errors().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        vec![
            "p.yaml:22:18: unknown kind of mail `autoreply`\n  help: did you mean `auto_reply`?",
            "p.yaml:24:15: unknown action `obsrve` for `auto_reply`\n  help: did you mean `observe`? choose `rewrite`, `observe` or `pass`",
        ]
    );
}

#[test]
fn duplicate_customer_across_dossiers() {
    let text = format!(
        "{BASE}dossiers:\n  - customers: [\"@klant.nl\"]\n    handler: nadia\n  - customers: [\"@Klant.nl\"]\n    handler: maarten\n"
    );
    let (e, _) = only_error(&text);
    assert_eq!(e, "p.yaml:21:17: customer `@klant.nl` is already in the dossier on line 19");
}

#[test]
fn max_response_days_range() {
    let text = BASE.replace("version: 1\n", "version: 1\ndefaults:\n  max_response_days: 0\n");
    let (e, _) = only_error(&text);
    assert_eq!(e, "p.yaml:3:22: `max_response_days` is 0, outside 1 to 365");
}

#[test]
fn all_semantic_errors_are_reported_in_one_run() {
    let text = BASE
        .replace("version: 1", "version: 3")
        .replace("substitute: nadia", "substitute: nobody")
        .replace("email: nadia@hoekstra-advies.nl", "email: nadia@")
        .replace("\"+31 30 555 0112\"", "\"12\"");
    assert_eq!(errors(&text).len(), 4, "{:?}", errors(&text));
}

#[test]
fn warnings_do_not_fail_the_load() {
    let text = BASE
        .replace("  phone: \"+31 30 555 0100\"\n", "")
        .replace("    phone: \"+31 30 555 0111\"\n", "")
        .replace("    substitute: maarten\n", "")
        + "teams:\n  - id: leeg\n    name: Team Leeg\n";
    let loaded = load(&text).unwrap();
    let w: Vec<String> =
        loaded.warnings.iter().map(|d| format!("{}:{}: {}", d.line, d.column, d.message)).collect();
    assert_eq!(
        w,
        vec![
            "3:3: the organisation has no `phone`",
            "7:9: person `maarten` has no `phone` or `mobile`",
            "11:9: person `nadia` has no `substitute`",
            "16:9: team `leeg` has no `addresses`",
            "16:9: team `leeg` has no `members`",
        ]
    );
}

#[test]
fn billion_laughs_is_refused_quickly() {
    // Nine levels of nine aliases each: 9^9 strings if expanded.
    let mut text = String::from(
        "version: 1\nrevision: &a0 lol\norganisation:\n  name: x\n  domains: [a.nl]\n",
    );
    for i in 1..10 {
        text.push_str(&format!("l{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 9].join(", ")));
    }
    let started = std::time::Instant::now();
    let (e, _) = only_error(&text);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(e, "p.yaml:6:1: unknown key `l1`");
}

#[test]
fn too_many_aliases_are_refused_with_a_position() {
    let text = format!(
        "version: 1\norganisation:\n  name: x\n  domains: &d [a.nl]\npeople:\n{}",
        (0..1001)
            .map(|i| format!("  - {{id: p{i}, name: P, email: p{i}@a.nl, aliases: *d}}\n"))
            .collect::<String>()
    );
    let (e, hint) = only_error(&text);
    assert_eq!(e, "p.yaml:1006:54: the file uses too many aliases (`*name`) or anchors (`&name`)");
    assert!(hint.contains("YAML bomb"), "{hint}");
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!("version: 1\nrevision: {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
    let (e, hint) = only_error(&text);
    assert_eq!(e, "p.yaml:2:27: the file is nested more than 16 levels deep");
    assert!(hint.contains("indentation"));
    let mut block = String::from("version: 1\nrevision:\n");
    for i in 1..40 {
        block.push_str(&format!("{}k:\n", "  ".repeat(i)));
    }
    let (e, _) = only_error(&block);
    assert!(e.ends_with("the file is nested more than 16 levels deep"), "{e}");
}

#[test]
fn oversized_text_is_refused() {
    let text = format!("{BASE}revision: \"{}\"\n", "x".repeat(MAX_POLICY_BYTES));
    let (e, _) = only_error(&text);
    assert!(e.starts_with("p.yaml:1:1: the policy file is"), "{e}");
}

#[test]
fn duplicate_keys_are_refused() {
    let (e, _) = only_error(&BASE.replace("version: 1\n", "version: 1\nversion: 1\n"));
    assert_eq!(e, "p.yaml:2:1: key `version` appears twice in the same mapping");
}

#[test]
fn example_is_valid() {
    let loaded = example();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.policy.people.len(), 12);
    assert!(loaded.policy.revision.is_some());
}

#[test]
fn housing_plain_language_templates_render_cleanly() {
    let text = include_str!("../../policies/housing.yaml");
    let p = load_str(text, "policies/housing.yaml").unwrap().policy;
    let render = |name: &str, ctx: &minijinja::Value| {
        p.templates.get_template(&format!("nl/{name}.txt")).unwrap().render(ctx).unwrap()
    };
    let ctx = sample_context();
    assert_eq!(
        render("substitute", &ctx),
        "Ik ben er even niet. Nadia Bakker helpt u graag. Bel +31 30 555 0112. Of mail naar nadia@example.nl."
    );
    assert_eq!(
        render("team_signature", &ctx),
        "Ineke en Carina\nTeam Incasso\nBellen of WhatsApp: +31 30 555 0120"
    );
    let no_sub =
        minijinja::context! { organisation => minijinja::context! { phone => "+31 50 555 2000" } };
    assert_eq!(
        render("all_questions", &no_sub),
        "Heeft u een vraag? Bel +31 50 555 2000. Wij helpen u graag."
    );
    let no_phone = minijinja::context! { days => "woensdag", substitute => minijinja::context! { name => "Kees" } };
    assert_eq!(render("part_time", &no_phone), "Op woensdag ben ik er niet. Dan helpt Kees u.");
}

#[test]
fn unclosed_block_in_template_is_explained_without_internals() {
    let text = format!(
        "{BASE}templates:\n  nl:\n    substitute: |\n      {{% if substitute %}}\n      Hallo\n"
    );
    let (e, _) = only_error(&text);
    assert_eq!(
        e,
        "p.yaml:22:12: template `nl.substitute`: syntax error: the template ends inside a block: \
         is an `{% endif %}` or `{% endfor %}` missing?"
    );
}
