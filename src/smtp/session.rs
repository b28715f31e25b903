//! The SMTP session as a sans-IO state machine: a command line goes in, and
//! out comes either a reply to send or an [`Action`] the connection task
//! must perform (ask the upstream, start TLS, check a password) before it
//! reports the result back.
//!
//! # Why not `mailin`
//! `mailin` 0.6 was the first choice, but its `Handler` is synchronous (the
//! upstream's verdict for RCPT must be awaited before answering, which a
//! sync callback can only do by blocking a runtime thread), its EHLO offers
//! neither SIZE nor SMTPUTF8 nor PIPELINING, `MAIL FROM:<> SIZE=` and
//! `SMTPUTF8` are answered with 500, and it has no line-length limit. Each
//! of those is a requirement of this relay, so the grammar lives in
//! [`super::command`] and the states here; both are small and tested with
//! byte strings.

use super::command::{self, Command, MailParams, ParseError};
use super::reply::Reply;

/// Maximum length of a command line including CRLF (RFC 5321 §4.5.3.1.4).
pub const MAX_COMMAND_LINE: usize = 1000;

/// What the connection task must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this reply and read on.
    Reply(Reply),
    /// Send this reply and close the connection.
    Close(Reply),
    /// Open a transaction upstream, then call [`Session::mail_result`].
    Mail {
        /// Envelope sender.
        from: String,
        /// Parameters.
        params: MailParams,
    },
    /// Relay a recipient upstream, then call [`Session::rcpt_result`].
    Rcpt {
        /// Recipient.
        to: String,
    },
    /// Send 354 and receive the message, then call [`Session::data_done`].
    Data,
    /// Reset the upstream transaction (if any), then reply 250.
    Rset,
    /// Send 220, upgrade to TLS, then call [`Session::tls_started`].
    StartTls,
    /// Verify these credentials, then call [`Session::auth_result`].
    Authenticate {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

/// Static facts about the connection that shape the dialogue.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Name in the greeting and EHLO.
    pub hostname: String,
    /// Size limit advertised and enforced.
    pub max_message_size: u64,
    /// Recipients per message.
    pub max_recipients: usize,
    /// STARTTLS can be offered.
    pub tls_available: bool,
    /// AUTH can be offered (after STARTTLS only).
    pub auth_available: bool,
    /// The client must authenticate before MAIL.
    pub auth_required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for HELO/EHLO.
    Fresh,
    /// Greeted, no transaction.
    Ready,
    /// MAIL accepted.
    Mail,
    /// At least one RCPT accepted.
    Rcpt,
    /// AUTH LOGIN waiting for the user name.
    AuthLoginUser,
    /// AUTH LOGIN waiting for the password.
    AuthLoginPassword,
    /// AUTH PLAIN waiting for the response.
    AuthPlain,
}

/// The session state of one client connection.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    tls_active: bool,
    authenticated: Option<String>,
    login_user: String,
    recipients: usize,
    esmtp: bool,
}

impl Session {
    /// A fresh session.
    pub fn new(config: SessionConfig) -> Session {
        Session {
            config,
            state: State::Fresh,
            tls_active: false,
            authenticated: None,
            login_user: String::new(),
            recipients: 0,
            esmtp: false,
        }
    }

    /// The greeting.
    pub fn greeting(&self) -> Reply {
        Reply::new(220, format!("{} ESMTP courtesy", self.config.hostname))
    }

    /// Whether a mail transaction is open (MAIL accepted).
    pub fn in_transaction(&self) -> bool {
        matches!(self.state, State::Mail | State::Rcpt)
    }

    /// Whether the connection is encrypted.
    pub fn tls_active(&self) -> bool {
        self.tls_active
    }

    /// The authenticated user, if any.
    pub fn user(&self) -> Option<&str> {
        self.authenticated.as_deref()
    }

    /// Handles one command line (without CRLF; `line_too_long` when the
    /// reader had to cut it).
    pub fn command(&mut self, line: &[u8], line_too_long: bool) -> Action {
        if line_too_long {
            return Action::Reply(Reply::new(500, "5.5.2 Line too long"));
        }
        if matches!(self.state, State::AuthLoginUser | State::AuthLoginPassword | State::AuthPlain)
        {
            return self.auth_continue(line);
        }
        let cmd = match command::parse(line) {
            Ok(cmd) => cmd,
            Err(ParseError::Unknown) => return reply(500, "5.5.1 Command unrecognized"),
            Err(ParseError::Syntax(why)) => {
                return reply(501, format!("5.5.4 Syntax error: {why}"));
            }
            Err(ParseError::UnsupportedParam(p)) => {
                return reply(555, format!("5.5.4 Parameter not supported: {p}"));
            }
            Err(ParseError::BadBytes) => return reply(500, "5.5.2 Invalid characters in command"),
        };
        match cmd {
            Command::Helo(_) => {
                self.reset_transaction();
                self.esmtp = false;
                self.state = State::Ready;
                reply(250, self.config.hostname.clone())
            }
            Command::Ehlo(_) => {
                self.reset_transaction();
                self.esmtp = true;
                self.state = State::Ready;
                Action::Reply(self.ehlo_reply())
            }
            Command::Noop => reply(250, "2.0.0 OK"),
            Command::Help => reply(214, "2.0.0 See RFC 5321"),
            Command::Vrfy => reply(252, "2.5.2 Cannot verify, but will relay"),
            Command::Quit => Action::Close(Reply::new(221, "2.0.0 Bye")),
            Command::Rset => {
                self.reset_transaction();
                if self.state != State::Fresh {
                    self.state = State::Ready;
                }
                Action::Rset
            }
            Command::StartTls => {
                if !self.config.tls_available || self.tls_active {
                    return reply(502, "5.5.1 STARTTLS not available");
                }
                if self.in_transaction() {
                    return reply(503, "5.5.1 STARTTLS not allowed in a transaction");
                }
                Action::StartTls
            }
            Command::Auth { mechanism, initial } => self.auth_start(&mechanism, initial),
            Command::Mail { from, params } => {
                match self.state {
                    State::Fresh => return reply(503, "5.5.1 Send HELO/EHLO first"),
                    State::Mail | State::Rcpt => return reply(503, "5.5.1 Nested MAIL command"),
                    _ => {}
                }
                if self.config.auth_required && self.authenticated.is_none() {
                    return reply(530, "5.7.0 Authentication required");
                }
                if !self.esmtp
                    && (params.size.is_some() || params.body.is_some() || params.smtputf8)
                {
                    return reply(555, "5.5.4 ESMTP parameters need EHLO");
                }
                if params.size.is_some_and(|s| s > self.config.max_message_size) {
                    return reply(552, "5.3.4 Message too big");
                }
                Action::Mail { from, params }
            }
            Command::Rcpt { to } => {
                if !self.in_transaction() {
                    return reply(503, "5.5.1 Need MAIL first");
                }
                if self.recipients >= self.config.max_recipients {
                    return reply(452, "4.5.3 Too many recipients");
                }
                Action::Rcpt { to }
            }
            Command::Data => match self.state {
                State::Rcpt => Action::Data,
                State::Mail => reply(554, "5.5.1 No valid recipients"),
                _ => reply(503, "5.5.1 Need MAIL and RCPT first"),
            },
        }
    }

    fn ehlo_reply(&self) -> Reply {
        let mut lines = vec![
            self.config.hostname.clone(),
            "PIPELINING".to_string(),
            format!("SIZE {}", self.config.max_message_size),
            "8BITMIME".to_string(),
            "SMTPUTF8".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        if self.config.tls_available && !self.tls_active {
            lines.push("STARTTLS".to_string());
        }
        if self.config.auth_available && self.tls_active && self.authenticated.is_none() {
            lines.push("AUTH PLAIN LOGIN".to_string());
        }
        Reply { code: 250, lines }
    }

    /// The upstream's answer to MAIL.
    pub fn mail_result(&mut self, accepted: bool) {
        if accepted && self.state == State::Ready {
            self.state = State::Mail;
            self.recipients = 0;
        }
    }

    /// The upstream's answer to a RCPT.
    pub fn rcpt_result(&mut self, accepted: bool) {
        if accepted && self.in_transaction() {
            self.state = State::Rcpt;
            self.recipients += 1;
        }
    }

    /// The message was received and answered (whatever the answer): the
    /// transaction is over (RFC 5321 §4.1.1.4).
    pub fn data_done(&mut self) {
        self.reset_transaction();
        self.state = State::Ready;
    }

    /// TLS is up: RFC 3207 §4.2 discards all knowledge from before.
    pub fn tls_started(&mut self) {
        self.tls_active = true;
        self.state = State::Fresh;
        self.esmtp = false;
        self.authenticated = None;
        self.reset_transaction();
    }

    /// The verdict on credentials from [`Action::Authenticate`].
    pub fn auth_result(&mut self, user: &str, ok: bool) -> Reply {
        self.state = State::Ready;
        if ok {
            self.authenticated = Some(user.to_string());
            Reply::new(235, "2.7.0 Authentication successful")
        } else {
            Reply::new(535, "5.7.8 Authentication credentials invalid")
        }
    }

    fn reset_transaction(&mut self) {
        self.recipients = 0;
        if self.in_transaction() {
            self.state = State::Ready;
        }
    }

    fn auth_start(&mut self, mechanism: &str, initial: Option<String>) -> Action {
        if !self.config.auth_available || !self.tls_active {
            return reply(503, "5.5.1 AUTH not available");
        }
        if self.state == State::Fresh {
            return reply(503, "5.5.1 Send EHLO first");
        }
        if self.authenticated.is_some() {
            return reply(503, "5.5.1 Already authenticated");
        }
        if self.in_transaction() {
            return reply(503, "5.5.1 AUTH not allowed in a transaction");
        }
        match (mechanism, initial) {
            ("PLAIN", Some(initial)) => self.auth_plain(initial.as_bytes()),
            ("PLAIN", None) => {
                self.state = State::AuthPlain;
                reply(334, "")
            }
            ("LOGIN", Some(user)) => match decode(user.as_bytes()) {
                Some(user) => {
                    self.login_user = user;
                    self.state = State::AuthLoginPassword;
                    reply(334, "UGFzc3dvcmQ6")
                }
                None => reply(501, "5.5.2 Cannot decode response"),
            },
            ("LOGIN", None) => {
                self.state = State::AuthLoginUser;
                reply(334, "VXNlcm5hbWU6")
            }
            _ => reply(504, "5.5.4 Mechanism not supported"),
        }
    }

    fn auth_continue(&mut self, line: &[u8]) -> Action {
        if line == b"*" {
            self.state = State::Ready;
            return reply(501, "5.0.0 Authentication cancelled");
        }
        match self.state {
            State::AuthPlain => {
                self.state = State::Ready;
                self.auth_plain(line)
            }
            State::AuthLoginUser => match decode(line) {
                Some(user) => {
                    self.login_user = user;
                    self.state = State::AuthLoginPassword;
                    reply(334, "UGFzc3dvcmQ6")
                }
                None => {
                    self.state = State::Ready;
                    reply(501, "5.5.2 Cannot decode response")
                }
            },
            _ => {
                self.state = State::Ready;
                match decode(line) {
                    Some(password) => Action::Authenticate {
                        user: std::mem::take(&mut self.login_user),
                        password,
                    },
                    None => reply(501, "5.5.2 Cannot decode response"),
                }
            }
        }
    }

    fn auth_plain(&mut self, response: &[u8]) -> Action {
        self.state = State::Ready;
        let Some(decoded) = decode(response) else {
            return reply(501, "5.5.2 Cannot decode response");
        };
        // authzid NUL authcid NUL passwd; a different authzid is not supported.
        let mut parts = decoded.split('\0');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(authz), Some(user), Some(password), None)
                if authz.is_empty() || authz == user =>
            {
                Action::Authenticate { user: user.to_string(), password: password.to_string() }
            }
            _ => reply(501, "5.5.2 Malformed PLAIN response"),
        }
    }
}

fn reply(code: u16, text: impl Into<String>) -> Action {
    Action::Reply(Reply::new(code, text))
}

fn decode(b64: &[u8]) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim_ascii()).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
