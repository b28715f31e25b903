//! The next hop for the soak test: a real SMTP server on 127.0.0.1 that
//! misbehaves at random (refuses connections, answers 4xx/5xx at MAIL,
//! RCPT and DATA, stalls past the relay's timeout, drops the connection in
//! the middle of DATA) and records every message it accepted with 250.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A small xorshift generator: reproducible from a seed, no dependency.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    /// True with probability `per_mille`/1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % 1000 < per_mille
    }
}

/// One accepted message: its Message-ID and the SHA-256 of its bytes.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub message_id: String,
    pub sha256: String,
}

#[derive(Debug, Default)]
pub struct Record {
    pub accepted: Vec<Accepted>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u64>,
}

pub struct FaultyUpstream {
    pub addr: SocketAddr,
    pub record: Arc<Mutex<Record>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultyUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long a stall lasts: past the relay's upstream timeouts.
pub const STALL: Duration = Duration::from_secs(3);

pub async fn start(seed: u64) -> FaultyUpstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = Arc::new(Mutex::new(Record::default()));
    let rng = Arc::new(Mutex::new(Rng::new(seed)));
    let r = Arc::clone(&record);
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (record, rng) = (Arc::clone(&r), Arc::clone(&rng));
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(60), session(stream, record, rng))
                    .await;
            });
        }
    });
    FaultyUpstream { addr, record, task }
}

async fn session(
    stream: TcpStream,
    record: Arc<Mutex<Record>>,
    rng: Arc<Mutex<Rng>>,
) -> std::io::Result<()> {
    let roll = |per_mille| rng.lock().unwrap().chance(per_mille);
    let fault = |kind| *record.lock().unwrap().faults.entry(kind).or_insert(0) += 1;
    if roll(20) {
        fault("refused connection");
        return Ok(());
    }
    if roll(5) {
        fault("stalled greeting");
        tokio::time::sleep(STALL).await;
        return Ok(());
    }
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 upstream.test ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-upstream.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
            "HELO" | "RSET" | "NOOP" => b"250 ok\r\n",
            "QUIT" => {
                w.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            "MAIL" if roll(20) => {
                fault("451 at MAIL");
                b"451 4.3.0 try later\r\n"
            }
            "MAIL" if roll(5) => {
                fault("550 at MAIL");
                b"550 5.7.1 no\r\n"
            }
            "RCPT" if roll(20) => {
                fault("451 at RCPT");
                b"451 4.3.0 try later\r\n"
            }
            "RCPT" if roll(5) => {
                fault("550 at RCPT");
                b"550 5.1.1 unknown\r\n"
            }
            "DATA" if roll(10) => {
                fault("451 at DATA");
                b"451 4.3.0 try later\r\n"
            }
            "DATA" => {
                w.write_all(b"354 go ahead\r\n").await?;
                let drop_mid = roll(10);
                let Some(data) = read_data(&mut r, drop_mid).await? else {
                    fault("dropped mid-DATA");
                    return Ok(());
                };
                if roll(10) {
                    fault("stalled after DATA");
                    tokio::time::sleep(STALL).await;
                    return Ok(());
                }
                if roll(15) {
                    fault("451 after DATA");
                    w.write_all(b"451 4.3.0 queue full\r\n").await?;
                    continue;
                }
                if roll(5) {
                    fault("554 after DATA");
                    w.write_all(b"554 5.6.0 rejected\r\n").await?;
                    continue;
                }
                let accepted = Accepted {
                    message_id: message_id(&data).unwrap_or_default(),
                    sha256: hex(&Sha256::digest(&data)),
                };
                // Recorded before the 250 is sent: from here on it is delivered.
                record.lock().unwrap().accepted.push(accepted);
                b"250 2.0.0 queued\r\n"
            }
            _ => b"250 ok\r\n",
        };
        w.write_all(reply).await?;
    }
}

/// Reads DATA up to the end marker and unstuffs it; `None` when told to
/// drop the connection half way.
async fn read_data<R: tokio::io::AsyncRead + Unpin>(
    r: &mut BufReader<R>,
    drop_mid: bool,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" {
            return Ok(Some(data));
        }
        if drop_mid && data.len() > 200 {
            // Read a little more so the relay is surely mid-stream, then go.
            let mut scratch = [0u8; 64];
            let _ = r.read(&mut scratch).await;
            return Ok(None);
        }
        let l = if line.first() == Some(&b'.') { &line[1..] } else { &line[..] };
        data.extend_from_slice(l);
    }
}

pub fn message_id(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let line = text.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:"))?;
    Some(line[11..].trim().to_string())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
