//! The MTA side of the milter protocol, written from the protocol
//! description (not with the library under test): 4-byte length, command
//! byte, data. It sends a message the way Postfix does (folded header
//! lines joined by LF, values with their leading space, body in CRLF chunks
//! of at most 64 KiB) and applies the replies the way Postfix would, so the
//! tests can compare what the recipient would get.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use courtesy::config::{MilterConfig, ServiceConfig};
use courtesy::milter::{Listener, Milter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADDHDRS: u32 = 0x01;
pub const CHGBODY: u32 = 0x02;
pub const CHGHDRS: u32 = 0x10;
pub const ALL_ACTIONS: u32 = 0x1ff;
/// Every protocol flag Postfix 3.7 offers (no-events, no-replies, leading space).
pub const POSTFIX_PROTOCOL: u32 = 0x001f_ffff;

/// Every test is bounded: no single read waits longer than this.
const IO_TIMEOUT: Duration = Duration::from_secs(20);

pub fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub fn golden(name: &str) -> Vec<u8> {
    std::fs::read(repo(&format!("tests/golden/{name}"))).unwrap()
}

/// A configuration for tests: the example policy, an audit log in `dir`.
pub fn config(dir: &Path) -> ServiceConfig {
    ServiceConfig {
        policy: Some(repo("policies/example.yaml")),
        policy_poll: Duration::ZERO,
        shutdown_grace: Duration::from_secs(5),
        audit: Some(courtesy::audit::AuditConfig::in_dir(dir.join("audit"))),
        milter: Some(MilterConfig { listen: "inet:127.0.0.1:0".into(), ..Default::default() }),
        ..ServiceConfig::default()
    }
}

pub struct MilterUnderTest {
    pub addr: SocketAddr,
    pub milter: Arc<Milter>,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MilterUnderTest {
    /// Stops the milter and waits for its drain.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(IO_TIMEOUT, task).await.expect("drain in time").unwrap();
        }
    }

    /// Every audit line written so far.
    pub fn audit_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("audit")) else { return lines };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(file).unwrap();
            lines.extend(text.lines().map(str::to_string));
        }
        lines
    }
}

impl Drop for MilterUnderTest {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

pub async fn start(build: impl FnOnce(&Path) -> ServiceConfig) -> MilterUnderTest {
    let dir = tempfile::tempdir().unwrap();
    let config = build(dir.path());
    let listener = Listener::bind(&config.milter()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let milter = Milter::new(config, None).expect("milter builds");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let m = milter.clone();
    let task = tokio::spawn(async move {
        courtesy::milter::serve(m, listener, async {
            let _ = stop_rx.await;
        })
        .await;
    });
    MilterUnderTest { addr, milter, dir, stop: Some(stop_tx), task: Some(task) }
}

/// A reply packet from the milter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Negotiate { version: u32, actions: u32, protocol: u32 },
    Continue,
    Tempfail,
    Accept,
    AddHeader { name: String, value: String },
    ChangeHeader { index: u32, name: String, value: String },
    InsertHeader { index: u32, name: String, value: String },
    ReplaceBody(Vec<u8>),
    Other(u8, Vec<u8>),
}

/// What the MTA got at the end of a message.
#[derive(Debug, Clone, Default)]
pub struct EndOfMessage {
    pub modifications: Vec<Reply>,
    pub last: Option<Reply>,
}

impl EndOfMessage {
    pub fn body_replaced(&self) -> Option<Vec<u8>> {
        let mut body = None::<Vec<u8>>;
        for m in &self.modifications {
            if let Reply::ReplaceBody(chunk) = m {
                body.get_or_insert_with(Vec::new).extend_from_slice(chunk);
            }
        }
        body
    }
}

pub struct Mta {
    stream: TcpStream,
    pub protocol: u32,
}

impl Mta {
    /// Connects and negotiates, offering `actions` and `protocol`.
    pub async fn connect(addr: SocketAddr, actions: u32, protocol: u32) -> (Mta, Option<Reply>) {
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut mta = Mta { stream, protocol: 0 };
        let mut data = 6u32.to_be_bytes().to_vec();
        data.extend(actions.to_be_bytes());
        data.extend(protocol.to_be_bytes());
        mta.send(b'O', &data).await;
        let reply = mta.read().await;
        if let Some(Reply::Negotiate { protocol, .. }) = &reply {
            mta.protocol = *protocol;
        }
        (mta, reply)
    }

    pub async fn send(&mut self, code: u8, data: &[u8]) {
        let mut packet = ((data.len() + 1) as u32).to_be_bytes().to_vec();
        packet.push(code);
        packet.extend_from_slice(data);
        self.stream.write_all(&packet).await.unwrap();
    }

    /// The next reply, `None` when the milter closed the connection.
    pub async fn read(&mut self) -> Option<Reply> {
        let mut len = [0u8; 4];
        match tokio::time::timeout(IO_TIMEOUT, self.stream.read_exact(&mut len)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return None,
            Err(_) => panic!("no reply from the milter within {IO_TIMEOUT:?}"),
        }
        let mut packet = vec![0u8; u32::from_be_bytes(len) as usize];
        tokio::time::timeout(IO_TIMEOUT, self.stream.read_exact(&mut packet))
            .await
            .expect("whole packet in time")
            .unwrap();
        let (code, data) = (packet[0], packet[1..].to_vec());
        let strings = |d: &[u8]| -> Vec<String> {
            d.split(|&b| b == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
        };
        Some(match code {
            b'O' => Reply::Negotiate {
                version: u32::from_be_bytes(data[0..4].try_into().unwrap()),
                actions: u32::from_be_bytes(data[4..8].try_into().unwrap()),
                protocol: u32::from_be_bytes(data[8..12].try_into().unwrap()),
            },
            b'c' => Reply::Continue,
            b't' => Reply::Tempfail,
            b'a' => Reply::Accept,
            b'h' => {
                let s = strings(&data);
                Reply::AddHeader { name: s[0].clone(), value: s[1].clone() }
            }
            b'm' => {
                let index = u32::from_be_bytes(data[0..4].try_into().unwrap());
                let s = strings(&data[4..]);
                Reply::ChangeHeader { index, name: s[0].clone(), value: s[1].clone() }
            }
            b'i' => {
                let index = u32::from_be_bytes(data[0..4].try_into().unwrap());
                let s = strings(&data[4..]);
                Reply::InsertHeader { index, name: s[0].clone(), value: s[1].clone() }
            }
            b'b' => Reply::ReplaceBody(data),
            other => Reply::Other(other, data),
        })
    }

    fn expects_reply(&self, no_reply_flag: u32) -> bool {
        self.protocol & no_reply_flag == 0
    }

    async fn event(&mut self, code: u8, data: &[u8], no_reply_flag: u32) {
        self.send(code, data).await;
        if self.expects_reply(no_reply_flag) {
            assert_eq!(self.read().await, Some(Reply::Continue), "reply to '{}'", code as char);
        }
    }

    /// Sends one message as Postfix does and collects the end-of-message replies.
    pub async fn message(&mut self, from: &str, rcpts: &[&str], raw: &[u8]) -> EndOfMessage {
        self.message_chunked(from, rcpts, raw, 65535).await
    }

    /// Like [`Mta::message`] with body packets of `chunk` bytes.
    pub async fn message_chunked(
        &mut self,
        from: &str,
        rcpts: &[&str],
        raw: &[u8],
        chunk: usize,
    ) -> EndOfMessage {
        self.send(b'D', b"Mi\0TESTQ1\0").await;
        self.event(b'M', format!("<{from}>\0").as_bytes(), 0x4000).await;
        for rcpt in rcpts {
            self.event(b'R', format!("<{rcpt}>\0").as_bytes(), 0x8000).await;
        }
        let (headers, body) = split(raw);
        let leading_space = self.protocol & 0x0010_0000 != 0;
        for (name, value) in headers {
            let mut data = name.clone();
            data.push(0);
            let value = if leading_space { &value[..] } else { trim_one_space(&value) };
            data.extend_from_slice(value);
            data.push(0);
            self.event(b'L', &data, 0x80).await;
        }
        self.event(b'N', b"", 0x0004_0000).await;
        for piece in body.chunks(chunk.clamp(1, 65535)) {
            self.event(b'B', piece, 0x0008_0000).await;
        }
        self.send(b'E', b"").await;
        let mut end = EndOfMessage::default();
        while let Some(reply) = self.read().await {
            match reply {
                Reply::Continue | Reply::Tempfail | Reply::Accept => {
                    end.last = Some(reply);
                    break;
                }
                other => end.modifications.push(other),
            }
        }
        self.send(b'A', b"").await;
        end
    }

    pub async fn quit(mut self) {
        self.send(b'Q', b"").await;
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(IO_TIMEOUT, self.stream.read_to_end(&mut rest)).await;
    }
}

/// Header name and the value after the colon, folds as LF.
pub type Field = (Vec<u8>, Vec<u8>);

/// Headers and the body with CRLF.
pub fn split(raw: &[u8]) -> (Vec<Field>, Vec<u8>) {
    let text = to_lf(raw);
    let end = find(&text, b"\n\n").map_or(text.len(), |i| i + 1);
    let mut headers: Vec<Field> = Vec::new();
    for line in text[..end].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let last = headers.last_mut().expect("continuation after a header");
            last.1.push(b'\n');
            last.1.extend_from_slice(line);
        } else {
            let colon = line.iter().position(|&b| b == b':').expect("header with a colon");
            headers.push((line[..colon].to_vec(), line[colon + 1..].to_vec()));
        }
    }
    let body = text.get(end + 1..).unwrap_or_default();
    (headers, to_crlf(body))
}

/// The message as the MTA would deliver it after applying `end`.
pub fn apply(raw: &[u8], end: &EndOfMessage, leading_space: bool) -> Vec<u8> {
    let (mut headers, mut body) = split(raw);
    let space = |v: &str| -> Vec<u8> {
        if leading_space { v.as_bytes().to_vec() } else { format!(" {v}").into_bytes() }
    };
    for m in &end.modifications {
        match m {
            Reply::AddHeader { name, value } => {
                headers.push((name.clone().into_bytes(), space(value)))
            }
            Reply::ChangeHeader { index, name, value } => {
                let position = headers
                    .iter()
                    .enumerate()
                    .filter(|(_, (n, _))| n.eq_ignore_ascii_case(name.as_bytes()))
                    .nth(*index as usize - 1)
                    .map(|(i, _)| i)
                    .expect("changed header exists");
                // An empty value deletes the header (smfi_chgheader).
                if value.is_empty() {
                    headers.remove(position);
                } else {
                    headers[position].1 = space(value);
                }
            }
            Reply::InsertHeader { index, name, value } => {
                let at = (*index as usize).min(headers.len());
                headers.insert(at, (name.clone().into_bytes(), space(value)));
            }
            _ => {}
        }
    }
    if let Some(new) = end.body_replaced() {
        body = new;
    }
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(&name);
        out.push(b':');
        out.extend_from_slice(&to_crlf(&value));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

fn trim_one_space(v: &[u8]) -> &[u8] {
    v.strip_prefix(b" ").unwrap_or(v)
}

pub fn to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

pub fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    for &b in &to_lf(bytes) {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// The body of a message (after the first blank line), with CRLF.
pub fn body_of(raw: &[u8]) -> Vec<u8> {
    split(raw).1
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
