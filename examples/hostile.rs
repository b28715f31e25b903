//! Load and abuse client for `scripts/hostile.sh`: many connections at
//! once, a huge DATA stream, and slow clients, against a running relay.
//! Prints one line per scenario with the replies counted.
//!
//!     cargo run --release --example hostile -- 127.0.0.1:2525 connections 10000
//!     cargo run --release --example hostile -- 127.0.0.1:2525 bigdata 1024
//!     cargo run --release --example hostile -- 127.0.0.1:2525 slowloris 200

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

async fn reply(r: &mut BufReader<OwnedReadHalf>, wait: Duration) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        match tokio::time::timeout(wait, r.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) => return if all.is_empty() { "closed".into() } else { all },
            Err(_) => return "no reply".into(),
        }
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return all;
        }
    }
}

fn code(reply: &str) -> String {
    reply.get(..3).unwrap_or(reply).to_string()
}

/// A well-behaved client sends one message; returns the final reply code.
async fn good_client(addr: SocketAddr) -> String {
    let Ok(s) = TcpStream::connect(addr).await else { return "connect failed".into() };
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let wait = Duration::from_secs(30);
    let greeting = reply(&mut r, wait).await;
    if !greeting.starts_with("220") {
        return code(&greeting);
    }
    for cmd in [
        "EHLO good\r\n",
        "MAIL FROM:<a@firm.example>\r\n",
        "RCPT TO:<b@customer.example>\r\n",
        "DATA\r\n",
    ] {
        let _ = w.write_all(cmd.as_bytes()).await;
        reply(&mut r, wait).await;
    }
    let _ =
        w.write_all(b"Subject: hi\r\nMessage-ID: <good@firm.example>\r\n\r\nhello\r\n.\r\n").await;
    code(&reply(&mut r, wait).await)
}

async fn connections(addr: SocketAddr, n: usize) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            tokio::spawn(async move {
                let s = match TcpStream::connect(addr).await {
                    Ok(s) => s,
                    Err(e) => return format!("connect: {}", e.kind()),
                };
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                let greeting = code(&reply(&mut r, Duration::from_secs(120)).await);
                if greeting == "220" {
                    let _ = w.write_all(b"EHLO load\r\nQUIT\r\n").await;
                    reply(&mut r, Duration::from_secs(120)).await;
                    reply(&mut r, Duration::from_secs(120)).await;
                }
                greeting
            })
        })
        .collect();
    let good = good_client(addr).await;
    let mut counts = BTreeMap::new();
    for t in tasks {
        *counts.entry(t.await.unwrap_or_else(|_| "task failed".into())).or_insert(0) += 1;
    }
    println!(
        "connections: {n} at once in {:.1?}: greetings {counts:?}; a normal client meanwhile got {good}",
        started.elapsed()
    );
}

async fn bigdata(addr: SocketAddr, mib: usize) {
    let s = TcpStream::connect(addr).await.unwrap();
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let wait = Duration::from_secs(60);
    reply(&mut r, wait).await;
    for cmd in [
        "EHLO big\r\n",
        "MAIL FROM:<a@firm.example>\r\n",
        "RCPT TO:<b@customer.example>\r\n",
        "DATA\r\n",
    ] {
        w.write_all(cmd.as_bytes()).await.unwrap();
        reply(&mut r, wait).await;
    }
    let started = Instant::now();
    let block = format!("{}\r\n", "x".repeat(1022)).repeat(1024);
    let mut sent = 0;
    for _ in 0..mib {
        if w.write_all(block.as_bytes()).await.is_err() {
            break;
        }
        sent += 1;
    }
    let _ = w.write_all(b".\r\n").await;
    let end = reply(&mut r, Duration::from_secs(300)).await;
    let _ = w.write_all(b"NOOP\r\n").await;
    let after = reply(&mut r, wait).await;
    println!(
        "bigdata: {sent} MiB sent in {:.1?}; end of DATA: {}; NOOP after: {}; a normal client: {}",
        started.elapsed(),
        end.trim(),
        after.trim(),
        good_client(addr).await
    );
}

async fn slowloris(addr: SocketAddr, n: usize) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            tokio::spawn(async move {
                let Ok(s) = TcpStream::connect(addr).await else { return "connect failed".into() };
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                reply(&mut r, Duration::from_secs(30)).await;
                let reader =
                    tokio::spawn(async move { reply(&mut r, Duration::from_secs(900)).await });
                for b in b"EHLO ".iter().chain(std::iter::repeat(&b'a')) {
                    if reader.is_finished() || w.write_all(&[*b]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                let got = reader.await.unwrap_or_default();
                format!("{} after {}s", code(&got), started.elapsed().as_secs() / 10 * 10)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let good = good_client(addr).await;
    let mut counts = BTreeMap::new();
    for t in tasks {
        *counts.entry(t.await.unwrap_or_default()).or_insert(0) += 1;
    }
    println!(
        "slowloris: {n} clients at 1 byte/s: {counts:?}; a normal client meanwhile got {good}"
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: hostile ADDR (connections N | bigdata MIB | slowloris N)";
    let addr: SocketAddr = args.get(1).and_then(|a| a.parse().ok()).expect(usage);
    let n: usize = args.get(3).and_then(|a| a.parse().ok()).expect(usage);
    match args.get(2).map(String::as_str) {
        Some("connections") => connections(addr, n).await,
        Some("bigdata") => bigdata(addr, n).await,
        Some("slowloris") => slowloris(addr, n).await,
        _ => panic!("{usage}"),
    }
}
