//! The SMTP envelope that travels with a message.

/// Envelope sender and recipients as the MTA or SMTP client gave them.
///
/// Addresses are stored as received (without angle brackets); comparisons
/// against the policy are case-insensitive and done by the policy index.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Envelope {
    /// `MAIL FROM` address; empty for the null sender `<>`.
    pub mail_from: String,
    /// `RCPT TO` addresses in the order they were accepted.
    pub rcpt_to: Vec<String>,
}

impl Envelope {
    /// Builds an envelope from a sender and any iterable of recipients.
    pub fn new(
        mail_from: impl Into<String>,
        rcpt_to: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self { mail_from: mail_from.into(), rcpt_to: rcpt_to.into_iter().map(Into::into).collect() }
    }
}
