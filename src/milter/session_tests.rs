use bytes::BytesMut;
use miltr_common::decoding::ClientCommand;
use miltr_common::encoding::ServerMessage;

use super::*;

/// A command as the MTA would frame it, decoded by the real parser.
fn cmd(code: u8, data: &[u8]) -> ClientCommand {
    let mut packet = BytesMut::new();
    packet.extend_from_slice(&[code]);
    packet.extend_from_slice(data);
    ClientCommand::parse(packet).unwrap()
}

fn optneg(actions: u32, protocol: u32) -> ClientCommand {
    let mut data = 6u32.to_be_bytes().to_vec();
    data.extend(actions.to_be_bytes());
    data.extend(protocol.to_be_bytes());
    cmd(b'O', &data)
}

fn replies(step: Step) -> Vec<ServerMessage> {
    match step {
        Step::Reply(r) => r,
        other => panic!("expected replies, got {other:?}"),
    }
}

#[test]
fn collects_envelope_headers_and_body_without_replies() {
    let mut s = Session::new(false, 1 << 20);
    assert_eq!(replies(s.handle(optneg(0x1ff, 0x1f_ffff))).len(), 1);
    assert!(
        replies(s.handle(cmd(b'D', b"Mi\0ABC123\0{mail_addr}\0ann@firm.example\0"))).is_empty()
    );
    assert!(replies(s.handle(cmd(b'M', b"<ann@firm.example>\0SIZE=100\0"))).is_empty());
    assert!(s.in_transaction());
    assert!(replies(s.handle(cmd(b'R', b"<bob@customer.example>\0"))).is_empty());
    assert!(replies(s.handle(cmd(b'L', b"Subject\0 Hi \xe9\0"))).is_empty());
    assert!(replies(s.handle(cmd(b'L', b"To\0 bob@customer.example,\n\tcc@x\0"))).is_empty());
    assert!(replies(s.handle(cmd(b'N', b""))).is_empty());
    assert!(replies(s.handle(cmd(b'B', b"line one\r\n"))).is_empty());
    assert!(replies(s.handle(cmd(b'B', b"line two\r\n"))).is_empty());
    let Step::EndOfMessage(c) = s.handle(cmd(b'E', b"")) else { panic!("no end of message") };
    assert!(!s.in_transaction());
    assert_eq!(c.envelope, Envelope::new("ann@firm.example", ["bob@customer.example"]));
    assert_eq!(c.queue_id.as_deref(), Some("ABC123"));
    assert_eq!(
        c.message.unwrap(),
        b"Subject: Hi \xe9\r\nTo: bob@customer.example,\r\n\tcc@x\r\n\r\nline one\r\nline two\r\n"
    );
}

#[test]
fn answers_every_event_when_the_mta_offers_no_no_reply_flags() {
    let mut s = Session::new(false, 1 << 20);
    s.handle(optneg(0x1ff, 0));
    for c in [cmd(b'M', b"<>\0"), cmd(b'R', b"<b@x>\0"), cmd(b'L', b"A\0b\0"), cmd(b'B', b"x")] {
        assert_eq!(replies(s.handle(c)).len(), 1);
    }
    let Step::EndOfMessage(c) = s.handle(cmd(b'E', b"")) else { panic!() };
    assert_eq!(c.envelope.mail_from, "");
    // Without SMFIP_HDR_LEADSPC the space after the colon is ours to add.
    assert_eq!(c.message.unwrap(), b"A: b\r\n\r\nx");
}

#[test]
fn oversize_messages_are_counted_but_not_kept() {
    let mut s = Session::new(false, 2048);
    s.handle(optneg(0x1ff, 0x1f_ffff));
    s.handle(cmd(b'M', b"<a@b>\0"));
    s.handle(cmd(b'L', b"Subject\0 x\0"));
    for _ in 0..3 {
        s.handle(cmd(b'B', &[b'a'; 1000]));
    }
    let Step::EndOfMessage(c) = s.handle(cmd(b'E', b"")) else { panic!() };
    assert!(c.message.is_none());
    assert!(c.size > 3000);
}

#[test]
fn abort_resets_and_quit_closes_and_refusal_names_the_action() {
    let mut s = Session::new(false, 1 << 20);
    s.handle(optneg(0x1ff, 0x1f_ffff));
    s.handle(cmd(b'M', b"<a@b>\0"));
    s.handle(cmd(b'B', b"old"));
    assert!(replies(s.handle(cmd(b'A', b""))).is_empty());
    assert!(!s.in_transaction());
    s.handle(cmd(b'M', b"<c@d>\0"));
    let Step::EndOfMessage(c) = s.handle(cmd(b'E', b"")) else { panic!() };
    assert_eq!(c.envelope.mail_from, "c@d");
    assert_eq!(c.message.unwrap(), b"\r\n");
    assert!(matches!(s.handle(cmd(b'Q', b"")), Step::Close));

    let mut s = Session::new(false, 1 << 20);
    // ADDHDRS and CHGHDRS only: no body replacement.
    match s.handle(optneg(0x11, 0)) {
        Step::Refuse(e) => assert!(e.to_string().contains("SMFIF_CHGBODY"), "{e}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let mut s = Session::new(true, 1 << 20);
    assert!(matches!(s.handle(optneg(0, 0)), Step::Reply(_)), "observe needs no rights");
}
