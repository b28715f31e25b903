//! SMTP replies, and the one place that decides temporary versus permanent.
//!
//! Every failure the relay can meet while a client waits is a [`Failure`];
//! [`Failure::reply`] turns it into what the client sees. Keeping the
//! mapping in one function with a table test means a 4 can never quietly
//! become a 5 (which would bounce mail the client should have retried).
//! Texts sent to clients are short and generic: they name no host, path or
//! policy detail; the log gets those.

use std::fmt::Write as _;

/// One SMTP reply: a code and one or more lines of text (each line may
/// start with an enhanced status code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Three-digit reply code.
    pub code: u16,
    /// Text lines without CRLF, never empty.
    pub lines: Vec<String>,
}

/// Whether a reply means success, try again later, or give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 2xx and 3xx.
    Positive,
    /// 4xx.
    Transient,
    /// 5xx.
    Permanent,
}

impl Class {
    /// Label used in metrics.
    pub fn label(self) -> &'static str {
        match self {
            Class::Positive => "2xx",
            Class::Transient => "4xx",
            Class::Permanent => "5xx",
        }
    }
}

impl Reply {
    /// A one-line reply.
    pub fn new(code: u16, text: impl Into<String>) -> Reply {
        Reply { code, lines: vec![text.into()] }
    }

    /// The reply's class; codes outside 200..=599 count as transient, so
    /// garbage from an upstream never bounces mail for good.
    pub fn class(&self) -> Class {
        match self.code {
            200..=399 => Class::Positive,
            500..=599 => Class::Permanent,
            _ => Class::Transient,
        }
    }

    /// Whether this is a 2xx/3xx reply.
    pub fn is_positive(&self) -> bool {
        self.class() == Class::Positive
    }

    /// All lines joined by a space, for logs and audit records.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// Appends the wire form (`250-a\r\n250 b\r\n`) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut s = String::with_capacity(64);
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            // Cannot fail: writing into a String.
            let _ = write!(s, "{}{}{}\r\n", self.code, sep, sanitize(line));
        }
        if self.lines.is_empty() {
            let _ = write!(s, "{} \r\n", self.code);
        }
        out.extend_from_slice(s.as_bytes());
    }

    /// The wire form as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v
    }
}

/// An upstream may send any bytes; a client must get neither bare CR/LF
/// (which would forge extra reply lines) nor control characters.
fn sanitize(line: &str) -> std::borrow::Cow<'_, str> {
    if line.chars().all(|c| !c.is_control()) {
        std::borrow::Cow::Borrowed(line)
    } else {
        std::borrow::Cow::Owned(
            line.chars().map(|c| if c.is_control() { ' ' } else { c }).collect(),
        )
    }
}

/// Everything that can go wrong while the client waits for a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The upstream answered with this reply (4xx or 5xx, or an unexpected code).
    Upstream(Reply),
    /// Could not connect, TLS failed, or the connection broke.
    UpstreamUnreachable,
    /// The upstream did not answer in time.
    UpstreamTimeout,
    /// The upstream requires STARTTLS but does not offer it (`starttls: required`).
    UpstreamNoTls,
    /// The engine failed and the configuration says `tempfail`.
    EngineTempfail,
    /// The audit record could not be written and `on_failure` says `tempfail`.
    AuditFailed,
    /// A local error writing to the outbox directory.
    LocalDelivery,
    /// The message is larger than the limit.
    TooBig,
    /// Too many recipients for one message.
    TooManyRecipients,
    /// The server is shutting down.
    ShuttingDown,
}

impl Failure {
    /// The reply the client gets. The one function that decides 4xx vs 5xx.
    pub fn reply(&self) -> Reply {
        match self {
            Failure::Upstream(r) => match r.class() {
                Class::Transient | Class::Permanent if (400..=599).contains(&r.code) => r.clone(),
                // An upstream that says 2xx/3xx where it must not, or a code
                // outside the grammar: the message's fate is unknown, so retry.
                _ => Reply::new(451, "4.3.0 Unexpected reply from the next hop"),
            },
            Failure::UpstreamUnreachable => {
                Reply::new(451, "4.4.1 Next hop unavailable, try again later")
            }
            Failure::UpstreamTimeout => {
                Reply::new(451, "4.4.1 Next hop did not answer, try again later")
            }
            Failure::UpstreamNoTls => {
                Reply::new(451, "4.7.5 Secure connection to the next hop unavailable")
            }
            Failure::EngineTempfail => {
                Reply::new(451, "4.3.0 Message could not be processed, try again later")
            }
            Failure::AuditFailed => {
                Reply::new(451, "4.3.0 Message could not be recorded, try again later")
            }
            Failure::LocalDelivery => Reply::new(451, "4.3.0 Local error in processing"),
            Failure::TooBig => Reply::new(552, "5.3.4 Message too big"),
            Failure::TooManyRecipients => Reply::new(452, "4.5.3 Too many recipients"),
            Failure::ShuttingDown => Reply::new(421, "4.3.0 Service shutting down"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_table() {
        let up = |code: u16| Failure::Upstream(Reply::new(code, "x.y.z upstream text"));
        let table: Vec<(Failure, u16, &str)> = vec![
            (up(450), 450, "x.y.z"),
            (up(451), 451, "x.y.z"),
            (up(452), 452, "x.y.z"),
            (up(550), 550, "x.y.z"),
            (up(554), 554, "x.y.z"),
            (up(250), 451, "4.3.0"),
            (up(354), 451, "4.3.0"),
            (up(999), 451, "4.3.0"),
            (up(0), 451, "4.3.0"),
            (Failure::UpstreamUnreachable, 451, "4.4.1"),
            (Failure::UpstreamTimeout, 451, "4.4.1"),
            (Failure::UpstreamNoTls, 451, "4.7.5"),
            (Failure::EngineTempfail, 451, "4.3.0"),
            (Failure::AuditFailed, 451, "4.3.0"),
            (Failure::LocalDelivery, 451, "4.3.0"),
            (Failure::TooBig, 552, "5.3.4"),
            (Failure::TooManyRecipients, 452, "4.5.3"),
            (Failure::ShuttingDown, 421, "4.3.0"),
        ];
        for (failure, code, enhanced) in table {
            let r = failure.reply();
            assert_eq!(r.code, code, "{failure:?}");
            assert!(r.lines[0].starts_with(enhanced), "{failure:?} → {r:?}");
            // A transient failure must never be reported as permanent and back.
            let expect_class = if code >= 500 { Class::Permanent } else { Class::Transient };
            assert_eq!(r.class(), expect_class, "{failure:?}");
        }
    }

    #[test]
    fn wire_form_multiline_and_sanitized() {
        let r = Reply { code: 250, lines: vec!["a".into(), "b\r\n999 forged".into()] };
        assert_eq!(r.to_bytes(), b"250-a\r\n250 b  999 forged\r\n");
        assert_eq!(Reply::new(221, "bye").to_bytes(), b"221 bye\r\n");
    }

    #[test]
    fn classes() {
        assert_eq!(Reply::new(250, "").class(), Class::Positive);
        assert_eq!(Reply::new(354, "").class(), Class::Positive);
        assert_eq!(Reply::new(421, "").class(), Class::Transient);
        assert_eq!(Reply::new(550, "").class(), Class::Permanent);
        assert_eq!(Reply::new(700, "").class(), Class::Transient);
    }
}
