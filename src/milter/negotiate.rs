//! Option negotiation: which events the MTA sends, which of them need no
//! reply, which modifications the milter may make, and which macros it
//! wants.
//!
//! courtesy needs the envelope, the headers and the body, and nothing of
//! the connection or HELO. It asks for no reply to headers and body chunks
//! (and to MAIL, RCPT and end-of-headers), so the MTA streams the message
//! without a round trip per chunk. In rewrite mode it needs exactly
//! add-header, change-header and replace-body; in observe mode it asks for
//! no modification rights at all. An MTA that cannot grant what the mode
//! needs is refused at once, naming what is missing, rather than failing
//! later on the first rewrite.

use miltr_common::optneg::{Capability, MacroStage, MacroStages, OptNeg, Protocol};

/// The protocol version courtesy speaks (Sendmail 8.14, Postfix ≥ 2.6).
pub const VERSION: u32 = 6;

/// What was agreed with the MTA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// Modifications the milter may make.
    pub actions: Capability,
    /// Events left out and events that get no reply.
    pub protocol: Protocol,
}

impl Agreement {
    /// Whether the MTA expects no reply to this kind of event.
    pub fn no_reply(&self, flag: Protocol) -> bool {
        self.protocol.contains(flag)
    }

    /// Whether header values arrive with their leading space (and added
    /// headers must bring their own).
    pub fn leading_space(&self) -> bool {
        self.protocol.contains(Protocol::SMFIP_HDR_LEADSPC)
    }
}

/// The MTA refused what courtesy needs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NegotiateError {
    /// The MTA speaks an older protocol.
    #[error(
        "the MTA offers milter protocol version {0}; courtesy needs version 6 \
         (Postfix: milter_protocol = 6; Sendmail 8.14 or later)"
    )]
    Version(u32),
    /// The MTA does not allow the modifications rewrite mode needs.
    #[error(
        "the MTA does not grant the milter actions {0}; rewrite mode needs \
         SMFIF_ADDHDRS, SMFIF_CHGHDRS and SMFIF_CHGBODY (or run in observe mode)"
    )]
    Actions(String),
}

/// The modifications rewrite mode makes.
pub fn needed_actions(observe: bool) -> Capability {
    if observe {
        Capability::empty()
    } else {
        Capability::SMFIF_ADDHDRS | Capability::SMFIF_CHGHDRS | Capability::SMFIF_CHGBODY
    }
}

/// Answers the MTA's offer, or says why courtesy cannot work with it.
pub fn negotiate(theirs: &OptNeg, observe: bool) -> Result<(OptNeg, Agreement), NegotiateError> {
    if theirs.version < VERSION {
        return Err(NegotiateError::Version(theirs.version));
    }
    let needed = needed_actions(observe);
    let missing = needed.difference(theirs.capabilities);
    if !missing.is_empty() {
        return Err(NegotiateError::Actions(action_names(missing)));
    }
    // Only flags the MTA offers may be set in the answer.
    let wanted = Protocol::NO_CONNECT
        | Protocol::NO_HELO
        | Protocol::NO_UNKNOWN
        | Protocol::NO_DATA
        | Protocol::NR_MAIL
        | Protocol::NR_RECIPIENT
        | Protocol::NR_HEADER
        | Protocol::NR_END_OF_HEADER
        | Protocol::NR_BODY
        | Protocol::SMFIP_HDR_LEADSPC;
    let protocol = wanted.intersection(theirs.protocol);
    let mut macro_stages = MacroStages::default();
    macro_stages.with_stage(MacroStage::MailFrom, &["{mail_addr}", "i"]);
    macro_stages.with_stage(MacroStage::RcptTo, &["{rcpt_addr}"]);
    macro_stages.with_stage(MacroStage::EndOfHeaders, &["i"]);
    macro_stages.with_stage(MacroStage::EndOfBody, &["i"]);
    let ours = OptNeg { version: VERSION, capabilities: needed, protocol, macro_stages };
    Ok((ours, Agreement { actions: needed, protocol }))
}

fn action_names(actions: Capability) -> String {
    let names = [
        (Capability::SMFIF_ADDHDRS, "SMFIF_ADDHDRS (add header)"),
        (Capability::SMFIF_CHGHDRS, "SMFIF_CHGHDRS (change header)"),
        (Capability::SMFIF_CHGBODY, "SMFIF_CHGBODY (replace body)"),
    ];
    names
        .iter()
        .filter(|(flag, _)| actions.contains(*flag))
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(capabilities: Capability, protocol: Protocol) -> OptNeg {
        OptNeg { version: 6, capabilities, protocol, macro_stages: MacroStages::default() }
    }

    #[test]
    fn rewrite_mode_asks_for_exactly_three_actions_and_no_replies() {
        let (ours, agreed) = negotiate(&offer(Capability::all(), Protocol::all()), false).unwrap();
        assert_eq!(ours.capabilities, needed_actions(false));
        assert!(agreed.no_reply(Protocol::NR_HEADER) && agreed.no_reply(Protocol::NR_BODY));
        assert!(ours.protocol.contains(Protocol::NO_CONNECT | Protocol::NO_HELO));
        assert!(!ours.protocol.contains(Protocol::NO_MAIL | Protocol::NO_RECIPIENT));
        assert!(!ours.protocol.intersects(Protocol::NO_HEADER | Protocol::NO_BODY));
        assert!(agreed.leading_space());
    }

    #[test]
    fn only_offered_protocol_flags_are_taken() {
        let (ours, agreed) =
            negotiate(&offer(Capability::all(), Protocol::NO_CONNECT), false).unwrap();
        assert_eq!(ours.protocol, Protocol::NO_CONNECT);
        assert!(!agreed.no_reply(Protocol::NR_BODY));
    }

    #[test]
    fn observe_mode_asks_for_no_modification_rights() {
        let (ours, _) = negotiate(&offer(Capability::empty(), Protocol::all()), true).unwrap();
        assert!(ours.capabilities.is_empty());
    }

    #[test]
    fn refuses_an_mta_without_body_replacement_and_names_it() {
        let caps = Capability::SMFIF_ADDHDRS | Capability::SMFIF_CHGHDRS;
        let err = negotiate(&offer(caps, Protocol::all()), false).unwrap_err();
        assert_eq!(err, NegotiateError::Actions("SMFIF_CHGBODY (replace body)".into()));
        let old = OptNeg { version: 2, ..offer(Capability::all(), Protocol::all()) };
        assert_eq!(negotiate(&old, false).unwrap_err(), NegotiateError::Version(2));
    }
}
