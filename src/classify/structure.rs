//! Signals from the MIME structure: reports, signatures, encryption, TNEF
//! and calendar parts.
//!
//! Only the parts of the message itself are walked; mail-parser keeps the
//! parts of an attached message/rfc822 inside that part, so a human reply
//! that forwards a bounce is not mistaken for one.

use mail_parser::{Message, MimeHeaders, PartType};

/// What the MIME tree contains.
#[derive(Debug, Default)]
pub(crate) struct StructureFacts {
    /// `report-type` of a multipart/report (empty when absent).
    pub report: Option<String>,
    /// A message/delivery-status part (RFC 3464) is present.
    pub delivery_status: bool,
    /// A message/disposition-notification part (RFC 8098) is present.
    pub disposition_notification: bool,
    /// multipart/signed, with its protocol.
    pub signed: Option<String>,
    /// multipart/encrypted, with its protocol.
    pub encrypted: Option<String>,
    /// application/pkcs7-mime (or x-pkcs7-mime), with its smime-type.
    pub pkcs7: Option<String>,
    /// application/ms-tnef is present.
    pub tnef: bool,
    /// A text/calendar part is present, with its METHOD (upper case, may be empty).
    pub calendar_method: Option<String>,
}

impl StructureFacts {
    /// Walks the parts of `message`.
    pub(crate) fn collect(message: &Message<'_>) -> StructureFacts {
        let mut facts = StructureFacts::default();
        for part in &message.parts {
            let Some(ct) = part.content_type() else { continue };
            let ctype = ct.ctype();
            let subtype = ct.subtype().unwrap_or_default();
            if ctype.eq_ignore_ascii_case("multipart") {
                if subtype.eq_ignore_ascii_case("report") {
                    facts.report = Some(ct.attribute("report-type").unwrap_or_default().into());
                } else if subtype.eq_ignore_ascii_case("signed") {
                    facts.signed = Some(ct.attribute("protocol").unwrap_or_default().into());
                } else if subtype.eq_ignore_ascii_case("encrypted") {
                    facts.encrypted = Some(ct.attribute("protocol").unwrap_or_default().into());
                }
            } else if ctype.eq_ignore_ascii_case("message") {
                if subtype.eq_ignore_ascii_case("delivery-status")
                    || subtype.eq_ignore_ascii_case("global-delivery-status")
                {
                    facts.delivery_status = true;
                } else if subtype.eq_ignore_ascii_case("disposition-notification")
                    || subtype.eq_ignore_ascii_case("global-disposition-notification")
                {
                    facts.disposition_notification = true;
                }
            } else if ctype.eq_ignore_ascii_case("application") {
                if subtype.eq_ignore_ascii_case("pkcs7-mime")
                    || subtype.eq_ignore_ascii_case("x-pkcs7-mime")
                {
                    facts.pkcs7 = Some(ct.attribute("smime-type").unwrap_or_default().into());
                } else if subtype.eq_ignore_ascii_case("ms-tnef")
                    || subtype.eq_ignore_ascii_case("vnd.ms-tnef")
                {
                    facts.tnef = true;
                }
            } else if ctype.eq_ignore_ascii_case("text") && subtype.eq_ignore_ascii_case("calendar")
            {
                let method = ct
                    .attribute("method")
                    .map(str::to_ascii_uppercase)
                    .or_else(|| calendar_body_method(&part.body))
                    .unwrap_or_default();
                if facts.calendar_method.as_deref().is_none_or(str::is_empty) {
                    facts.calendar_method = Some(method);
                }
            }
        }
        facts
    }
}

/// The METHOD property of an iCalendar body, if it has one.
fn calendar_body_method(body: &PartType<'_>) -> Option<String> {
    let text: &[u8] = match body {
        PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
        PartType::Binary(b) | PartType::InlineBinary(b) => b,
        _ => return None,
    };
    text.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.get(..7).is_some_and(|p| p.eq_ignore_ascii_case(b"METHOD:")) {
            return None;
        }
        Some(String::from_utf8_lossy(&line[7..]).trim().to_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(raw: &str) -> StructureFacts {
        let message = mail_parser::MessageParser::default().parse(raw.as_bytes()).unwrap();
        StructureFacts::collect(&message)
    }

    #[test]
    fn finds_delivery_report() {
        let f = facts(
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n\
             --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n\
             Final-Recipient: rfc822; a@b\r\nAction: failed\r\n--b--\r\n",
        );
        assert_eq!(f.report.as_deref(), Some("delivery-status"));
        assert!(f.delivery_status);
    }

    #[test]
    fn finds_calendar_method_in_attribute_or_body() {
        let f = facts("Content-Type: text/calendar; method=REPLY\r\n\r\nBEGIN:VCALENDAR\r\n");
        assert_eq!(f.calendar_method.as_deref(), Some("REPLY"));
        let f = facts("Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n");
        assert_eq!(f.calendar_method.as_deref(), Some("REQUEST"));
    }

    #[test]
    fn finds_signed_encrypted_tnef() {
        let f = facts(
            "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n\
             Content-Type: application/pgp-signature\r\n\r\nsig\r\n--b--\r\n",
        );
        assert_eq!(f.signed.as_deref(), Some("application/pgp-signature"));
        let f =
            facts("Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nAAA\r\n");
        assert_eq!(f.pkcs7.as_deref(), Some("enveloped-data"));
        let f = facts(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n\
             --b\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\n\r\nAAA\r\n--b--\r\n",
        );
        assert!(f.tnef);
    }
}
