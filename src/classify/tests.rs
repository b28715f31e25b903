use super::testing::policy;
use super::*;

fn parse_and_classify(raw: &str, sender: &str) -> Classification {
    let message = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
    classify(&message, sender, &policy())
}

/// A plain-text message from an outside sender with extra headers.
fn external(headers: &str, subject: &str, body: &str) -> Classification {
    let raw = format!(
        "From: Ann <ann@example.org>\r\nTo: x@voorbeeld.nl\r\nSubject: {subject}\r\n{headers}\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    );
    parse_and_classify(&raw, "ann@example.org")
}

fn names(c: &Classification) -> Vec<&str> {
    c.signals.iter().map(|s| s.name.as_str()).collect()
}

const AWAY: &str = "I am out of the office until Monday and will reply on my return.\r\n";

#[test]
fn each_header_signal_alone_makes_an_auto_reply() {
    for (header, signal) in [
        ("Auto-Submitted: auto-replied\r\n", "auto_submitted_header"),
        ("Auto-Submitted: auto-replied (vacation)\r\n", "sieve_vacation"),
        ("Auto-Submitted: auto-replied (zimbra; vacation)\r\n", "zimbra_autoreply"),
        ("X-Autoreply: yes\r\n", "x_autoreply_header"),
        ("X-Autoreply: yes\r\nPrecedence: bulk\r\n", "gmail_vacation"),
        ("X-Autorespond: yes\r\n", "x_autorespond_header"),
        ("Precedence: auto_reply\r\n", "precedence_auto_reply"),
        ("X-Apple-Action: VACATION\r\n", "x_apple_action_vacation"),
        (
            "X-MS-Exchange-Inbox-Rules-Loop: ann@example.org\r\nX-Auto-Response-Suppress: All\r\n",
            "exchange_auto_reply_header",
        ),
    ] {
        let c = external(header, "Invoice 12", AWAY);
        assert!(c.auto_reply, "{header}: {:?}", c.signals);
        assert!(names(&c).contains(&signal), "{header}: {:?}", c.signals);
        assert!(c.signals.iter().all(|s| s.effect == Effect::AutoReply));
    }
}

#[test]
fn weak_headers_alone_are_not_auto_replies() {
    for header in [
        "Auto-Submitted: no\r\n",
        "Auto-Submitted: auto-generated\r\n",
        "X-Auto-Response-Suppress: All\r\n",
        "X-MS-Exchange-Inbox-Rules-Loop: ann@example.org\r\n",
        "X-Autoreply: no\r\n",
    ] {
        let c = external(header, "Invoice 12", "See attached.\r\n");
        assert!(!c.auto_reply, "{header}: {:?}", c.signals);
    }
}

#[test]
fn subject_phrases_explicit_and_ambiguous() {
    let c = external("", "Automatisch antwoord: Factuur 12", "Ik ben er niet.\r\n");
    assert!(c.auto_reply);
    assert_eq!(names(&c), ["subject_auto_reply_phrase"]);
    assert!(c.signals[0].evidence.contains("automatisch antwoord"));

    // An ambiguous word needs one more signal.
    assert!(!external("", "Out of Office", "See you.\r\n").auto_reply);
    let c = external("Auto-Submitted: auto-generated\r\n", "Out of Office", "See you.\r\n");
    assert!(c.auto_reply, "{:?}", c.signals);
    let c = external("", "Afwezig", "Ik ben afwezig tot maandag.\r\n");
    assert!(c.auto_reply, "{:?}", c.signals);
    assert!(names(&c).contains(&"body_auto_reply_phrase"));
}

#[test]
fn human_subjects_about_absence_are_not_auto_replies() {
    for subject in ["Re: out of office policy", "Out of office policy", "RE: Automatic reply: x"] {
        let c = external("", subject, "Can we discuss the policy tomorrow?\r\n");
        assert!(!c.auto_reply, "{subject}: {:?}", c.signals);
    }
}

#[test]
fn lotus_notes_prefix() {
    let c = external("", "AUTO: Ann Smith is out of the office (returning 05/01)", AWAY);
    assert!(c.auto_reply);
    assert_eq!(names(&c), ["notes_auto_reply"]);
    assert!(!external("", "AUTO: lease contract", "Attached.\r\n").auto_reply);
}

#[test]
fn bulk_precedence_vetoes_only_without_auto_reply_signal() {
    let c = external("Precedence: bulk\r\n", "Newsletter", "News.\r\n");
    assert!(!c.auto_reply);
    assert!(
        c.signals.iter().any(|s| s.name == "bulk_mail" && s.effect == Effect::NotAutoReply),
        "{:?}",
        c.signals
    );
    let c = external("Precedence: bulk\r\nX-Autoreply: yes\r\n", "Re: x", AWAY);
    assert!(c.auto_reply);
    assert!(!names(&c).contains(&"bulk_mail"));
}

#[test]
fn list_headers_veto_even_with_auto_reply_headers() {
    for header in [
        "List-Id: <dev.lists.example.org>\r\n",
        "List-Unsubscribe: <mailto:u@x>\r\n",
        "Precedence: list\r\n",
    ] {
        let c = external(
            &format!("Auto-Submitted: auto-replied\r\n{header}"),
            "Automatic reply: x",
            AWAY,
        );
        assert!(!c.auto_reply, "{header}");
        assert!(names(&c).contains(&"mailing_list"), "{header}");
    }
}

#[test]
fn delivery_reports_and_bounces_are_vetoed() {
    let dsn = "From: Mail Delivery System <MAILER-DAEMON@example.org>\r\nSubject: Undelivered Mail\r\n\
               Auto-Submitted: auto-replied\r\n\
               Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
               --b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n\
               --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n--b--\r\n";
    let c = parse_and_classify(dsn, "");
    assert!(!c.auto_reply);
    assert!(names(&c).contains(&"delivery_report"));

    let c = external(
        "Auto-Submitted: auto-replied\r\nX-Failed-Recipients: b@x\r\n",
        "Mail delivery failed: returning message to sender",
        "x\r\n",
    );
    assert!(!c.auto_reply);
    assert!(names(&c).contains(&"delivery_failure"));

    let raw = "From: <>\r\nAuto-Submitted: auto-replied\r\n\r\nYou sent mail to a@b.c. That's not a valid user here.\r\n";
    assert!(!parse_and_classify(raw, "").auto_reply);
}

#[test]
fn read_receipts_are_vetoed() {
    let mdn = "From: ann@example.org\r\nSubject: Gelesen: Rechnung\r\nAuto-Submitted: auto-replied\r\n\
               Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n\
               --b\r\nContent-Type: text/plain\r\n\r\nread\r\n\
               --b\r\nContent-Type: message/disposition-notification\r\n\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n";
    let c = parse_and_classify(mdn, "ann@example.org");
    assert!(!c.auto_reply);
    assert!(names(&c).contains(&"read_receipt"));
}

#[test]
fn calendar_replies_are_vetoed() {
    for (subject, method) in [
        ("Accepted: Meeting", "REPLY"),
        ("Geaccepteerd: Overleg", "REPLY"),
        ("Angenommen: Termin", "REPLY"),
        ("Accepté: Réunion", "REPLY"),
    ] {
        let raw = format!(
            "From: ann@example.org\r\nSubject: {subject}\r\nAuto-Submitted: auto-replied\r\n\
             Content-Type: multipart/alternative; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nAnn has accepted.\r\n\
             --b\r\nContent-Type: text/calendar; method={method}\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:{method}\r\nEND:VCALENDAR\r\n--b--\r\n"
        );
        let c = parse_and_classify(&raw, "ann@example.org");
        assert!(!c.auto_reply, "{subject}");
        assert!(names(&c).contains(&"calendar_reply"), "{subject}");
    }
}

#[test]
fn signed_encrypted_and_tnef_are_skipped_but_classified() {
    let signed = "From: ann@example.org\r\nSubject: Automatic reply: x\r\nAuto-Submitted: auto-replied\r\n\
                  Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b\r\n\r\n\
                  --b\r\nContent-Type: text/plain\r\n\r\nI am away.\r\n\
                  --b\r\nContent-Type: application/pgp-signature\r\n\r\nsig\r\n--b--\r\n";
    let c = parse_and_classify(signed, "ann@example.org");
    assert!(matches!(c.skipped, Some(SkipReason::Signed(_))));
    assert!(c.auto_reply, "still classified so the audit can say what it was");
    assert!(c.signals.iter().any(|s| s.effect == Effect::Skip));

    for (ct, want) in [
        ("multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b", "encrypted"),
        ("application/pkcs7-mime; smime-type=enveloped-data", "encrypted"),
        ("application/x-pkcs7-mime; smime-type=signed-data", "signed"),
        ("application/ms-tnef", "tnef"),
    ] {
        let raw =
            format!("From: ann@example.org\r\nSubject: x\r\nContent-Type: {ct}\r\n\r\nAAAA\r\n");
        let c = parse_and_classify(&raw, "ann@example.org");
        let got = match c.skipped {
            Some(SkipReason::Encrypted(_)) => "encrypted",
            Some(SkipReason::Signed(_)) => "signed",
            Some(SkipReason::Tnef) => "tnef",
            _ => "none",
        };
        assert_eq!(got, want, "{ct}");
    }
}

/// A plain-text message from one of our addresses.
fn ours(sender: &str, body: &str) -> Classification {
    let raw = format!(
        "From: {sender}\r\nTo: klant@example.org\r\nSubject: Uw factuur\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    );
    parse_and_classify(&raw, sender)
}

#[test]
fn team_sign_off_above_history_counts_and_history_does_not() {
    let body = "Beste klant,\r\n\r\nWij hebben uw betaling van 12 mei in goede orde ontvangen. \
                De factuur is hiermee voldaan.\r\n\r\nMet vriendelijke groet,\r\nTeam Incasso\r\n\r\n\
                Op 10 mei 2024 om 09:12 schreef klant@example.org:\r\n> Is mijn betaling binnen?\r\n";
    let c = ours("incasso@voorbeeld.nl", body);
    assert!(c.team_signature);
    let sign_off = c.sign_off.as_ref().unwrap();
    assert_eq!(sign_off.text, "Team Incasso");
    assert_eq!(sign_off.team, Some(0));
    assert!(c.new_text.text.ends_with("Team Incasso"));
    assert!(c.new_text.has_quoted_history);
    assert_eq!(c.language, Language::Nl);

    // "Team X" only in the quoted history must not count.
    let body = "Dank u, ik kijk ernaar.\r\n\r\nMet vriendelijke groet,\r\nIneke de Vries\r\n\r\n\
                -----Oorspronkelijk bericht-----\r\nVan: Team Incasso\r\nVerzonden: maandag\r\n\r\n\
                Met vriendelijke groet,\r\nTeam Incasso\r\n";
    let c = ours("ineke@voorbeeld.nl", body);
    assert!(!c.team_signature, "{:?}", c.sign_off);
}

#[test]
fn team_sign_offs_in_english_german_french() {
    for (body, want, language) in [
        (
            "We have received your payment and closed the invoice.\r\n\r\nKind regards,\r\nTeam Support\r\n\r\nOn Mon, 1 Jan 2024, Ann wrote:\r\n> Team Incasso\r\n",
            "Team Support",
            Language::En,
        ),
        (
            "Wir haben Ihre Zahlung erhalten und die Rechnung geschlossen.\r\n\r\nMit freundlichen Grüßen\r\nAbteilung Buchhaltung\r\n\r\nAm 1. Mai 2024 schrieb Ann:\r\n> Team Incasso\r\n",
            "Abteilung Buchhaltung",
            Language::De,
        ),
        (
            "Nous avons bien reçu votre paiement et la facture est réglée.\r\n\r\nCordialement,\r\nÉquipe Recouvrement\r\n\r\nLe 1 mai 2024, Ann a écrit :\r\n> Team Incasso\r\n",
            "Équipe Recouvrement",
            Language::Fr,
        ),
    ] {
        let c = ours("support@voorbeeld.nl", body);
        assert_eq!(c.sign_off.as_ref().map(|s| s.text.as_str()), Some(want), "{body}");
        assert_eq!(c.language, language, "{body}");
        assert!(c.signals.iter().any(|s| s.effect == Effect::TeamSignature));
    }
}

#[test]
fn named_signature_and_outside_senders_are_left_alone() {
    let body =
        "Betaling ontvangen.\r\n\r\nMet vriendelijke groet,\r\nIneke de Vries\r\nTeam Incasso\r\n";
    assert!(!ours("incasso@voorbeeld.nl", body).team_signature);
    // The same anonymous sign-off from outside the firm is not ours to change.
    let c =
        external("", "Uw factuur", "Betaald.\r\n\r\nMet vriendelijke groet,\r\nTeam Incasso\r\n");
    assert!(!c.team_signature);
    assert!(c.new_text.text.is_empty(), "no extraction for mail that needs none");
}

#[test]
fn html_only_team_mail() {
    let raw = "From: incasso@voorbeeld.nl\r\nTo: klant@example.org\r\nSubject: Re: betaling\r\n\
               Content-Type: text/html; charset=utf-8\r\n\r\n\
               <html><body><div>Wij hebben uw betaling ontvangen en de factuur is voldaan.</div>\
               <div><br></div><div>Met vriendelijke groet,</div><div>Team Incasso</div>\
               <div class=\"gmail_quote\"><div>Op 10 mei schreef klant:</div>\
               <blockquote>Met vriendelijke groet,<br>Team Support</blockquote></div></body></html>\r\n";
    let c = parse_and_classify(raw, "incasso@voorbeeld.nl");
    assert!(c.team_signature, "{:?}", c.new_text);
    assert_eq!(c.sign_off.as_ref().unwrap().text, "Team Incasso");
    assert!(c.new_text.has_quoted_history);
    assert!(!c.new_text.text.contains("Support"));
}

#[test]
fn language_falls_back_to_subject_phrase_then_default() {
    let c = external("", "Automatische Antwort: Rechnung", "Danke.\r\n");
    assert!(c.auto_reply);
    assert_eq!(c.language, Language::De);
    // No auto-reply, no team: the default language, no detection at all.
    let c =
        external("", "Hello", "This is a long English text about many things in the world.\r\n");
    assert_eq!(c.language, Language::Nl);
}

#[test]
fn auto_reply_new_text_is_filled() {
    let c = external("Auto-Submitted: auto-replied\r\n", "Automatic reply: x", AWAY);
    assert_eq!(c.new_text.text, AWAY.trim_end());
    assert_eq!(c.language, Language::En);
}
