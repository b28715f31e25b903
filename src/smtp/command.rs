//! Parses one SMTP command line (RFC 5321 §4.1, with the ESMTP parameters
//! the relay advertises: SIZE, BODY=8BITMIME, SMTPUTF8). Pure: bytes in,
//! [`Command`] out.

/// Parameters of `MAIL FROM` the relay understands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailParams {
    /// `SIZE=` the client declared.
    pub size: Option<u64>,
    /// `BODY=` value, upper-cased (`7BIT` or `8BITMIME`).
    pub body: Option<String>,
    /// `SMTPUTF8` was given.
    pub smtputf8: bool,
}

/// One command from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `HELO domain`.
    Helo(String),
    /// `EHLO domain`.
    Ehlo(String),
    /// `MAIL FROM:<path> params`; the path is empty for the null sender.
    Mail {
        /// Reverse path without angle brackets.
        from: String,
        /// Parsed parameters.
        params: MailParams,
    },
    /// `RCPT TO:<path>`.
    Rcpt {
        /// Forward path without angle brackets.
        to: String,
    },
    /// `DATA`.
    Data,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY` (answered generically).
    Vrfy,
    /// `HELP`.
    Help,
    /// `STARTTLS`.
    StartTls,
    /// `AUTH mechanism [initial-response]`.
    Auth {
        /// Mechanism, upper-cased.
        mechanism: String,
        /// Initial response, if given.
        initial: Option<String>,
    },
}

/// Why a line is not a command the relay accepts; each maps to one reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not a known verb (500 5.5.1).
    Unknown,
    /// Known verb, bad arguments (501 5.5.4).
    Syntax(&'static str),
    /// An ESMTP parameter the relay does not offer (555 5.5.4).
    UnsupportedParam(String),
    /// Not valid UTF-8 / contains control characters (500 5.5.2).
    BadBytes,
}

/// Parses a command line without its CRLF.
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let line = std::str::from_utf8(line).map_err(|_| ParseError::BadBytes)?;
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ParseError::BadBytes);
    }
    let (verb, rest) = match line.find(' ') {
        Some(i) => (&line[..i], line[i + 1..].trim()),
        None => (line.trim_end(), ""),
    };
    let verb = verb.to_ascii_uppercase();
    let no_args = |c: Command| {
        if rest.is_empty() { Ok(c) } else { Err(ParseError::Syntax("no arguments allowed")) }
    };
    match verb.as_str() {
        "HELO" | "EHLO" => {
            let domain = rest.split_whitespace().next().unwrap_or("");
            if domain.is_empty() {
                return Err(ParseError::Syntax("domain name required"));
            }
            Ok(if verb == "HELO" {
                Command::Helo(domain.into())
            } else {
                Command::Ehlo(domain.into())
            })
        }
        "MAIL" => {
            let rest = strip_keyword(rest, "FROM:")
                .ok_or(ParseError::Syntax("use MAIL FROM:<address>"))?;
            let (from, params) = path_and_params(rest)?;
            Ok(Command::Mail { from, params: mail_params(params)? })
        }
        "RCPT" => {
            let rest =
                strip_keyword(rest, "TO:").ok_or(ParseError::Syntax("use RCPT TO:<address>"))?;
            let (to, params) = path_and_params(rest)?;
            if to.is_empty() {
                return Err(ParseError::Syntax("recipient address required"));
            }
            if let Some(p) = params.split_whitespace().next() {
                return Err(ParseError::UnsupportedParam(p.into()));
            }
            Ok(Command::Rcpt { to })
        }
        "DATA" => no_args(Command::Data),
        "RSET" => no_args(Command::Rset),
        "NOOP" => Ok(Command::Noop),
        "QUIT" => no_args(Command::Quit),
        "VRFY" => Ok(Command::Vrfy),
        "HELP" => Ok(Command::Help),
        "STARTTLS" => no_args(Command::StartTls),
        "AUTH" => {
            let mut words = rest.split_whitespace();
            let mechanism = words.next().ok_or(ParseError::Syntax("mechanism required"))?;
            let initial = words.next().map(str::to_string);
            if words.next().is_some() {
                return Err(ParseError::Syntax("too many arguments"));
            }
            Ok(Command::Auth { mechanism: mechanism.to_ascii_uppercase(), initial })
        }
        _ => Err(ParseError::Unknown),
    }
}

fn strip_keyword<'a>(rest: &'a str, keyword: &str) -> Option<&'a str> {
    let head = rest.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword).then(|| rest[keyword.len()..].trim_start())
}

/// Splits `<path> params`, dropping a source route (`<@a,@b:user@x>`).
fn path_and_params(rest: &str) -> Result<(String, &str), ParseError> {
    let inner = rest.strip_prefix('<').ok_or(ParseError::Syntax("address must be in <>"))?;
    let end = inner.find('>').ok_or(ParseError::Syntax("missing >"))?;
    let mut path = &inner[..end];
    if path.starts_with('@') {
        path =
            path.split_once(':').map(|(_, p)| p).ok_or(ParseError::Syntax("bad source route"))?;
    }
    if path.contains(char::is_whitespace) || path.contains('<') {
        return Err(ParseError::Syntax("bad address"));
    }
    if !path.is_empty() && !path.contains('@') && !path.eq_ignore_ascii_case("postmaster") {
        return Err(ParseError::Syntax("address must contain @"));
    }
    Ok((path.to_string(), inner[end + 1..].trim()))
}

fn mail_params(params: &str) -> Result<MailParams, ParseError> {
    let mut out = MailParams::default();
    for p in params.split_whitespace() {
        let (key, value) = match p.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (p, None),
        };
        match (key.to_ascii_uppercase().as_str(), value) {
            ("SIZE", Some(v)) => {
                out.size = Some(v.parse().map_err(|_| ParseError::Syntax("SIZE needs a number"))?)
            }
            ("BODY", Some(v))
                if v.eq_ignore_ascii_case("7BIT") || v.eq_ignore_ascii_case("8BITMIME") =>
            {
                out.body = Some(v.to_ascii_uppercase())
            }
            ("SMTPUTF8", None) => out.smtputf8 = true,
            _ => return Err(ParseError::UnsupportedParam(p.to_string())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs() {
        assert_eq!(parse(b"EHLO client.example"), Ok(Command::Ehlo("client.example".into())));
        assert_eq!(parse(b"helo x"), Ok(Command::Helo("x".into())));
        assert_eq!(parse(b"DATA"), Ok(Command::Data));
        assert_eq!(parse(b"quit"), Ok(Command::Quit));
        assert_eq!(parse(b"STARTTLS"), Ok(Command::StartTls));
        assert_eq!(parse(b"NOOP anything"), Ok(Command::Noop));
        assert_eq!(parse(b"BDAT 10"), Err(ParseError::Unknown));
        assert_eq!(parse(b"EHLO"), Err(ParseError::Syntax("domain name required")));
        assert_eq!(parse(b"DATA x"), Err(ParseError::Syntax("no arguments allowed")));
        assert_eq!(parse(b"EHLO \xff"), Err(ParseError::BadBytes));
        assert_eq!(parse(b"EHLO a\x00b"), Err(ParseError::BadBytes));
    }

    #[test]
    fn mail_from_with_parameters() {
        let cmd = parse(b"MAIL FROM:<a@b.example> SIZE=1000 BODY=8bitmime SMTPUTF8").unwrap();
        let Command::Mail { from, params } = cmd else { panic!("{cmd:?}") };
        assert_eq!(from, "a@b.example");
        assert_eq!(
            params,
            MailParams { size: Some(1000), body: Some("8BITMIME".into()), smtputf8: true }
        );
        assert_eq!(
            parse(b"mail from: <>"),
            Ok(Command::Mail { from: String::new(), params: MailParams::default() })
        );
        assert_eq!(
            parse(b"MAIL FROM:<a@b> RET=FULL"),
            Err(ParseError::UnsupportedParam("RET=FULL".into()))
        );
        assert_eq!(
            parse(b"MAIL FROM:<a@b> SIZE=x"),
            Err(ParseError::Syntax("SIZE needs a number"))
        );
        assert!(matches!(parse(b"MAIL TO:<a@b>"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"MAIL FROM:a@b"), Err(ParseError::Syntax(_))));
    }

    #[test]
    fn rcpt_to() {
        assert_eq!(
            parse(b"RCPT TO:<Ann@X.example>"),
            Ok(Command::Rcpt { to: "Ann@X.example".into() })
        );
        assert_eq!(
            parse(b"RCPT TO:<@relay.example:ann@x>"),
            Ok(Command::Rcpt { to: "ann@x".into() })
        );
        assert_eq!(parse(b"RCPT TO:<Postmaster>"), Ok(Command::Rcpt { to: "Postmaster".into() }));
        assert!(matches!(parse(b"RCPT TO:<>"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"RCPT TO:<nobody>"), Err(ParseError::Syntax(_))));
        assert!(matches!(
            parse(b"RCPT TO:<a@b> NOTIFY=NEVER"),
            Err(ParseError::UnsupportedParam(_))
        ));
    }

    #[test]
    fn auth() {
        assert_eq!(
            parse(b"AUTH plain AGEAYg=="),
            Ok(Command::Auth { mechanism: "PLAIN".into(), initial: Some("AGEAYg==".into()) })
        );
        assert_eq!(
            parse(b"AUTH LOGIN"),
            Ok(Command::Auth { mechanism: "LOGIN".into(), initial: None })
        );
    }
}
