//! One milter conversation as a state machine without I/O: commands from
//! the MTA in, replies (or "process the message now") out. The tokio task
//! in `connection` only moves bytes and runs the engine when told.
//!
//! Order guarantees the MTA gives and this relies on: option negotiation
//! first; per message MAIL, RCPT…, headers, end of headers, body chunks,
//! end of message; `Abort` between messages resets the transaction; `Quit`
//! ends the connection. Macros (`D` packets) arrive just before the
//! command they belong to.

use std::collections::HashMap;

use miltr_common::actions::{Action, Continue};
use miltr_common::commands::{Header, Macro};
use miltr_common::decoding::ClientCommand;
use miltr_common::encoding::{ServerMessage, Writable};
use miltr_common::optneg::Protocol;

use super::message;
use super::negotiate::{self, Agreement, NegotiateError};
use crate::envelope::Envelope;

/// What the connection task does next.
#[derive(Debug)]
pub enum Step {
    /// Send these replies (none when the MTA asked for no reply).
    Reply(Vec<ServerMessage>),
    /// The message is complete: process it and send the end-of-message replies.
    EndOfMessage(Collected),
    /// The MTA said goodbye.
    Close,
    /// The MTA cannot give what courtesy needs; close the connection.
    Refuse(NegotiateError),
}

/// A received message with its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    /// Envelope from MAIL and RCPT.
    pub envelope: Envelope,
    /// The message as headers, blank line and body with CRLF line ends;
    /// `None` when it was larger than `milter.max_message_size`.
    pub message: Option<Vec<u8>>,
    /// Bytes received (headers and body), also when over the limit.
    pub size: u64,
    /// The MTA's queue id (macro `i`), for logs.
    pub queue_id: Option<String>,
}

/// The state of one MTA connection.
#[derive(Debug)]
pub struct Session {
    observe: bool,
    max_message: u64,
    agreement: Option<Agreement>,
    macros: HashMap<String, String>,
    transaction: Transaction,
}

#[derive(Debug, Default)]
struct Transaction {
    envelope: Envelope,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
    size: u64,
    oversize: bool,
    /// Between MAIL and the end of the message (or an abort).
    open: bool,
}

impl Session {
    /// A new conversation; `observe` asks for no modification rights.
    pub fn new(observe: bool, max_message: u64) -> Session {
        Session {
            observe,
            max_message,
            agreement: None,
            macros: HashMap::new(),
            transaction: Transaction::default(),
        }
    }

    /// What was negotiated, once it has been.
    pub fn agreement(&self) -> Option<Agreement> {
        self.agreement
    }

    /// Whether a message is in progress (MAIL seen, end of message not yet).
    pub fn in_transaction(&self) -> bool {
        self.transaction.open
    }

    /// Feeds one command.
    pub fn handle(&mut self, command: ClientCommand) -> Step {
        match command {
            ClientCommand::OptNeg(theirs) => match negotiate::negotiate(&theirs, self.observe) {
                Ok((ours, agreement)) => {
                    self.agreement = Some(agreement);
                    Step::Reply(vec![ServerMessage::Optneg(ours)])
                }
                Err(e) => Step::Refuse(e),
            },
            ClientCommand::Macro(m) => {
                self.macro_(&m);
                Step::Reply(Vec::new())
            }
            ClientCommand::Mail(mail) => {
                // A new MAIL without Abort before it still starts afresh.
                self.transaction = Transaction { open: true, ..Transaction::default() };
                self.transaction.envelope.mail_from = strip_brackets(&mail.sender());
                if self.transaction.envelope.mail_from.is_empty()
                    && let Some(addr) = self.macros.get("{mail_addr}")
                {
                    self.transaction.envelope.mail_from = addr.clone();
                }
                self.reply_unless(Protocol::NR_MAIL)
            }
            ClientCommand::Recipient(rcpt) => {
                let mut addr = strip_brackets(&rcpt.recipient());
                if addr.is_empty()
                    && let Some(macro_addr) = self.macros.get("{rcpt_addr}")
                {
                    addr = macro_addr.clone();
                }
                self.transaction.envelope.rcpt_to.push(addr);
                self.reply_unless(Protocol::NR_RECIPIENT)
            }
            ClientCommand::Header(header) => {
                self.header(&header);
                self.reply_unless(Protocol::NR_HEADER)
            }
            ClientCommand::EndOfHeader(_) => self.reply_unless(Protocol::NR_END_OF_HEADER),
            ClientCommand::Body(body) => {
                self.body(body.as_bytes());
                self.reply_unless(Protocol::NR_BODY)
            }
            ClientCommand::EndOfBody(_) => Step::EndOfMessage(self.finish()),
            ClientCommand::Abort(_) => {
                self.reset();
                Step::Reply(Vec::new())
            }
            ClientCommand::QuitNc(_) => {
                self.reset();
                self.macros.clear();
                Step::Reply(Vec::new())
            }
            ClientCommand::Quit(_) => Step::Close,
            // Left out at negotiation when the MTA allows; answered when it
            // sends them anyway.
            ClientCommand::Connect(_) => self.reply_unless(Protocol::NR_CONNECT),
            ClientCommand::Helo(_) => self.reply_unless(Protocol::NR_HELO),
            ClientCommand::Data(_) => self.reply_unless(Protocol::NR_DATA),
            ClientCommand::Unknown(_) => self.reply_unless(Protocol::NR_UNKNOWN),
        }
    }

    fn reply_unless(&self, no_reply: Protocol) -> Step {
        if self.agreement.is_some_and(|a| a.no_reply(no_reply)) {
            Step::Reply(Vec::new())
        } else {
            Step::Reply(vec![ServerMessage::Action(Action::Continue(Continue))])
        }
    }

    fn macro_(&mut self, m: &Macro) {
        for (name, value) in m.macros() {
            let name = String::from_utf8_lossy(name).into_owned();
            // Sendmail names long macros with braces, Postfix sometimes without.
            let name =
                if name.len() > 1 && !name.starts_with('{') { format!("{{{name}}}") } else { name };
            self.macros.insert(name, String::from_utf8_lossy(value).into_owned());
        }
    }

    fn header(&mut self, header: &Header) {
        // The accessors decode lossily; the wire form keeps 8-bit headers intact.
        let mut raw = bytes::BytesMut::with_capacity(header.len());
        header.write(&mut raw);
        let mut fields = raw[..].split(|&b| b == 0);
        let name = fields.next().unwrap_or_default().to_vec();
        let value = fields.next().unwrap_or_default().to_vec();
        self.grow(name.len() + value.len() + 4);
        if !self.transaction.oversize {
            self.transaction.headers.push((name, value));
        }
    }

    fn body(&mut self, chunk: &[u8]) {
        self.grow(chunk.len());
        if !self.transaction.oversize {
            self.transaction.body.extend_from_slice(chunk);
        }
    }

    fn grow(&mut self, by: usize) {
        let t = &mut self.transaction;
        t.size = t.size.saturating_add(by as u64);
        if t.size > self.max_message && !t.oversize {
            t.oversize = true;
            t.headers = Vec::new();
            t.body = Vec::new();
        }
    }

    fn finish(&mut self) -> Collected {
        let t = std::mem::take(&mut self.transaction);
        let leading_space = self.agreement.is_some_and(|a| a.leading_space());
        let message = (!t.oversize).then(|| message::assemble(&t.headers, &t.body, leading_space));
        Collected {
            envelope: t.envelope.clone(),
            message,
            size: t.size,
            queue_id: self.macros.get("i").cloned(),
        }
    }

    fn reset(&mut self) {
        self.transaction = Transaction::default();
        for per_message in ["i", "{mail_addr}", "{rcpt_addr}"] {
            self.macros.remove(per_message);
        }
    }
}

/// `<a@b>` → `a@b`; `<>` → empty. ESMTP arguments come separately.
fn strip_brackets(arg: &str) -> String {
    let arg = arg.trim();
    arg.strip_prefix('<').and_then(|a| a.strip_suffix('>')).unwrap_or(arg).to_string()
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
