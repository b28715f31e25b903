//! Entry point for the `smtp_session` fuzz target and its regression
//! replay: drives the sans-IO session exactly as the connection task does
//! (lines cut at LF, the line limit, DATA through the receiver), with the
//! upstream's and the password check's verdicts taken from the input.
//!
//! Panics on a broken invariant, so a fuzzer reports it as a crash.

use super::data::DataReceiver;
use super::reply::Reply;
use super::session::{Action, MAX_COMMAND_LINE, Session, SessionConfig};

const MAX_SIZE: usize = 4096;
const MAX_DATA_LINE: usize = 1000;

/// Runs one client conversation. The first byte picks the configuration
/// (TLS, AUTH, AUTH required) and seeds the verdicts; the rest is what the
/// client sends.
pub fn session(data: &[u8]) {
    let Some((&flags, input)) = data.split_first() else { return };
    let mut session = Session::new(SessionConfig {
        hostname: "fuzz.example".to_string(),
        max_message_size: MAX_SIZE as u64,
        max_recipients: 3,
        tls_available: flags & 1 != 0,
        auth_available: flags & 2 != 0,
        auth_required: flags & 4 != 0,
    });
    check(&session.greeting());
    // A cheap bit stream for the verdicts, so both branches are explored.
    let mut verdicts = u32::from(flags).wrapping_mul(0x9E37_79B9) | 1;
    let mut verdict = move || {
        verdicts ^= verdicts << 13;
        verdicts ^= verdicts >> 17;
        verdicts ^= verdicts << 5;
        verdicts & 1 == 1
    };
    let mut pos = 0;
    while pos < input.len() {
        let rest = &input[pos..];
        let (mut line, too_long) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                pos += i + 1;
                (&rest[..i], i + 1 > MAX_COMMAND_LINE)
            }
            None => {
                pos = input.len();
                (rest, rest.len() > MAX_COMMAND_LINE)
            }
        };
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        match session.command(line, too_long) {
            Action::Reply(r) => check(&r),
            Action::Close(r) => {
                check(&r);
                return;
            }
            Action::Mail { from, .. } => {
                assert!(!from.contains(['\r', '\n']), "CR/LF in MAIL FROM: {from:?}");
                session.mail_result(verdict());
                assert!(
                    session.user().is_some() || !auth_required(flags) || !session.in_transaction()
                );
            }
            Action::Rcpt { to } => {
                assert!(!to.contains(['\r', '\n']), "CR/LF in RCPT TO: {to:?}");
                session.rcpt_result(verdict());
            }
            Action::Data => {
                assert!(session.in_transaction(), "DATA outside a transaction");
                let mut receiver = DataReceiver::new(MAX_SIZE, MAX_DATA_LINE);
                let mut message = Vec::new();
                // Feed in uneven pieces, as a socket would.
                let mut done = false;
                while pos < input.len() && !done {
                    let step = 1 + (input[pos] as usize % 97);
                    let end = (pos + step).min(input.len());
                    let progress = receiver.feed(&input[pos..end], &mut message);
                    assert!(progress.consumed <= end - pos);
                    assert!(message.len() <= MAX_SIZE, "message beyond the size limit");
                    done = progress.done;
                    if progress.consumed == 0 && !done {
                        // A possible end marker split across reads: offer more.
                        if end == input.len() {
                            return;
                        }
                        let progress = receiver.feed(&input[pos..], &mut message);
                        pos += progress.consumed;
                        done = progress.done;
                        if !done {
                            return;
                        }
                    } else {
                        pos += progress.consumed;
                    }
                }
                if !done {
                    return;
                }
                if receiver.error().is_none() {
                    assert_crlf_only(&message);
                }
                session.data_done();
                assert!(!session.in_transaction());
            }
            Action::Rset => {}
            Action::StartTls => {
                assert!(!session.tls_active(), "STARTTLS twice");
                session.tls_started();
            }
            Action::Authenticate { user, .. } => {
                assert!(session.tls_active(), "AUTH without TLS");
                check(&session.auth_result(&user, verdict()));
            }
        }
    }
}

/// Every CR and LF in a received message is part of a CRLF pair, so the
/// next hop never sees a bare line end to misread as the end of data.
fn assert_crlf_only(message: &[u8]) {
    for (i, &b) in message.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(message.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            b'\n' => assert!(i > 0 && message[i - 1] == b'\r', "bare LF at {i}"),
            _ => {}
        }
    }
}

fn auth_required(flags: u8) -> bool {
    flags & 6 == 6
}

/// A reply must be one well-formed SMTP reply, whatever the client sent.
fn check(reply: &Reply) {
    assert!((200..600).contains(&reply.code), "reply code {}", reply.code);
    let mut out = Vec::new();
    reply.write_to(&mut out);
    assert!(out.ends_with(b"\r\n"));
    let lines: Vec<&[u8]> = out[..out.len() - 2].split(|&b| b == b'\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(!line.contains(&b'\r'), "bare CR in a reply: {out:?}");
        let sep = if i + 1 == lines.len() { b' ' } else { b'-' };
        assert!(line.len() >= 3 && line[..3] == *reply.code.to_string().as_bytes(), "{out:?}");
        assert!(line.len() == 3 || line[3] == sep, "reply continuation: {out:?}");
    }
}
