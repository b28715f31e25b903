//! Mail that goes through: byte-identical forwarding, big messages, the
//! upstream session kept open, the outbox directory, rewrites.

mod common;

use common::*;

#[tokio::test]
async fn ordinary_mail_arrives_byte_identical() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let mut body = String::from("Hello Bob,\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nx\r\n");
    body.push_str("8bit: caf\u{e9}\r\n\ttab line\r\n\r\n-- \r\nAnn\r\n");
    let data = message("plain", &body);
    let mut c = client(relay.addr).await;
    let code = send(&mut c, "ann@firm.example", &["bob@customer.example"], &data).await.unwrap();
    assert_eq!(code, 250);
    let got = up.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, data, "message changed in transit");
    assert_eq!(got[0].from, "ann@firm.example");
    assert_eq!(got[0].rcpt, vec!["bob@customer.example".to_string()]);
    relay.stop().await;
}

#[tokio::test]
async fn twenty_megabytes_pass_and_one_upstream_session_serves_many() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n";
    let body = line.repeat(20 * 1024 * 1024 / line.len() + 1);
    let big = message("big", &body);
    assert!(big.len() > 20 * 1024 * 1024);
    let mut c = client(relay.addr).await;
    assert_eq!(send(&mut c, "ann@firm.example", &["bob@customer.example"], &big).await, Ok(250));
    for i in 0..3 {
        let small = message(&format!("m{i}"), "short\r\n");
        assert_eq!(
            send(&mut c, "ann@firm.example", &["bob@customer.example"], &small).await,
            Ok(250)
        );
    }
    let got = up.messages();
    assert_eq!(got.len(), 4);
    assert!(got[0].data == big, "20 MB message differs");
    assert_eq!(*up.sessions.lock().unwrap(), 1, "the upstream session should be reused");
    relay.stop().await;
}

#[tokio::test]
async fn dot_lines_at_the_edges_of_upstream_write_pieces_arrive_intact() {
    // The relay hands the message to the SMTP client 64 KiB at a time; put
    // a line-leading dot right at one piece edge and split a CR LF and a
    // "\r\n." across the next two, then fill with dot lines.
    const PIECE: usize = 64 * 1024;
    let header_len = message("dots", "").len();
    let mut body = String::new();
    let filler = |body: &mut String, upto: usize| {
        while header_len + body.len() + 80 < upto {
            body.push_str(".dot line\r\n");
        }
        while header_len + body.len() + 2 < upto {
            body.push('x');
        }
        body.push_str("\r\n");
    };
    filler(&mut body, PIECE);
    body.push_str(".at the first edge\r\n");
    filler(&mut body, 2 * PIECE + 1);
    body.push_str("..after a split line end\r\n");
    filler(&mut body, 3 * PIECE - 1);
    body.push_str(".\r\n..\r\nend\r\n");
    let data = message("dots", &body);
    assert_eq!(&data[PIECE..PIECE + 4], b".at ");
    assert_eq!(&data[2 * PIECE - 1..2 * PIECE + 2], b"\r\n.");
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let mut c = client(relay.addr).await;
    assert_eq!(send(&mut c, "ann@firm.example", &["bob@customer.example"], &data).await, Ok(250));
    let got = up.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].data == data, "dot lines changed in transit");
    relay.stop().await;
}

#[tokio::test]
async fn rset_keeps_the_session_and_null_sender_works() {
    let up = upstream(Script::default()).await;
    let relay = start_relay(config_for(up.addr)).await;
    let mut c = client(relay.addr).await;
    c.command("MAIL FROM:<ann@firm.example>\r\n").await.unwrap();
    c.command("RCPT TO:<x@customer.example>\r\n").await.unwrap();
    c.command("RSET\r\n").await.unwrap();
    let data = message("bounce", "auto\r\n");
    assert_eq!(send(&mut c, "", &["bob@customer.example"], &data).await, Ok(250));
    let got = up.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "");
    assert_eq!(got[0].rcpt, vec!["bob@customer.example".to_string()]);
    relay.stop().await;
}

#[tokio::test]
async fn outbox_directory_gets_one_file_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_for(dead_port().await);
    config.smtp.upstream.url = format!("dir:{}", dir.path().join("outbox").display());
    let relay = start_relay_in(config, dir).await;
    let mut c = client(relay.addr).await;
    let data = message("outbox", "..dot\r\n");
    assert_eq!(send(&mut c, "ann@firm.example", &["bob@customer.example"], &data).await, Ok(250));
    let outbox = relay.dir.path().join("outbox");
    let emls: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(emls.len(), 1);
    assert_eq!(std::fs::read(&emls[0]).unwrap(), data);
    relay.stop().await;
}

/// The engine's rewrite path end to end with the example policy.
#[tokio::test]
async fn auto_reply_arrives_rewritten() {
    let up = upstream(Script::default()).await;
    let mut config = config_for(up.addr);
    config.policy = Some(std::path::PathBuf::from("policies/example.yaml"));
    let relay = start_relay(config).await;
    let data = "From: Maarten Hoekstra <maarten@hoekstra-advies.nl>\r\nTo: Klaas Klant <klant@customer.example>\r\n\
        Subject: Afwezig: uw vraag\r\nAuto-Submitted: auto-replied\r\n\
        Message-ID: <ooo@hoekstra-advies.nl>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
        Ik ben afwezig tot maandag. Uw mail wordt niet doorgestuurd.\r\n"
        .as_bytes()
        .to_vec();
    let mut c = client(relay.addr).await;
    let code = send(&mut c, "", &["klant@customer.example"], &data).await.unwrap();
    assert_eq!(code, 250);
    let got = up.messages();
    assert_eq!(got.len(), 1);
    let text = String::from_utf8_lossy(&got[0].data);
    assert!(text.contains("X-Courtesy: rewritten by"), "not rewritten:\n{text}");
    assert!(text.contains("Beste Klaas Klant,"), "no salutation:\n{text}");
    assert!(text.contains("Nadia"), "substitute not named:\n{text}");
    assert!(text.contains("Ik ben afwezig tot maandag."), "own text lost:\n{text}");
    relay.stop().await;
}
