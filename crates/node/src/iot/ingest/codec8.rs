//! Teltonika Codec 8/8E over TCP (`[iot] codec8_listen`): a tracker opens a session with its
//! IMEI, answered `0x01` only when a registered, active GPS tracker has that IMEI (`0x00` and the
//! connection closed otherwise); then each AVL packet is cut out of the stream by its stated
//! length and handed to the pipeline whole, and answered with the number of records accepted —
//! only once they are stored. A packet whose CRC or records are wrong is refused and answered
//! `0`, so the tracker sends it again; bytes that are no packet at all (no zero preamble, a
//! length past the limit) close the connection, whose framing is lost.
//!
//! Limits: the handshake within 10 s, each packet within 60 s of the previous (a tracker that
//! falls silent is disconnected and reconnects), packets of at most `MAX_DATA_LENGTH` bytes, at
//! most 1,024 sessions at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use borderlink_iot::admission::{Refusal, Refused};
use borderlink_iot::codec8::{self as c8, FrameError, MAX_DATA_LENGTH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::{Ingest, IngestError, Interface, Message, PayloadKind, Source};
use crate::error::NodeError;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const PACKET_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_SESSIONS: usize = 1_024;
/// Preamble, length, data, CRC.
const MAX_FRAME: usize = 8 + MAX_DATA_LENGTH as usize + 4;

/// The Codec 8 listener.
#[derive(Debug)]
pub(crate) struct Codec8Source {
    pub(crate) addr: SocketAddr,
}

impl Source for Codec8Source {
    fn start(
        self: Box<Self>,
        ingest: Arc<Ingest>,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<tokio::task::AbortHandle, NodeError>> + Send>> {
        Box::pin(async move {
            let listener =
                TcpListener::bind(self.addr).await.map_err(|e| NodeError::Bind { addr: self.addr, source: e })?;
            tracing::info!(addr = %self.addr, "Codec 8 listener");
            let task = tokio::spawn(accept_loop(listener, ingest));
            Ok(task.abort_handle())
        })
    }
}

async fn accept_loop(listener: TcpListener, ingest: Arc<Ingest>) {
    let sessions = Arc::new(Semaphore::new(MAX_SESSIONS));
    // The sessions end with the listener: they are aborted when it is.
    let mut running = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "Codec 8 listener: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&sessions).try_acquire_owned() else {
            tracing::warn!(%peer, "Codec 8 listener: too many sessions; connection closed");
            continue;
        };
        while running.try_join_next().is_some() {}
        let ingest = Arc::clone(&ingest);
        running.spawn(async move {
            let _permit = permit;
            if let Err(reason) = session(stream, &ingest).await {
                tracing::debug!(%peer, reason, "Codec 8 session closed");
            }
        });
    }
}

/// Reads more bytes into `buf`, within `timeout`; `Err` when the peer closed or was too slow.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, timeout: Duration) -> Result<(), &'static str> {
    let mut chunk = [0u8; 4096];
    match tokio::time::timeout(timeout, stream.read(&mut chunk)).await {
        Err(_) => Err("read timeout"),
        Ok(Err(_)) => Err("read error"),
        Ok(Ok(0)) => Err("closed by the tracker"),
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
    }
}

async fn session(mut stream: TcpStream, ingest: &Ingest) -> Result<(), &'static str> {
    let mut buf = Vec::with_capacity(1024);
    let garbage = |detail: String| Refused { reason: Refusal::Malformed, detail };
    // The IMEI handshake.
    let imei = loop {
        match c8::parse_imei(&buf) {
            Ok(Some((imei, used))) => {
                buf.drain(..used);
                break imei;
            }
            Ok(None) => fill(&mut stream, &mut buf, HANDSHAKE_TIMEOUT).await?,
            Err(e) => {
                ingest.count_refusal(Interface::Codec8, "", &garbage(e.to_string()));
                let _ = stream.write_all(&[0x00]).await;
                return Err("bad handshake");
            }
        }
    };
    let device = match ingest.tracker(&imei) {
        Ok(d) => d,
        Err(_) => {
            let _ = stream.write_all(&[0x00]).await;
            return Err("IMEI refused");
        }
    };
    stream.write_all(&[0x01]).await.map_err(|_| "write error")?;
    loop {
        let frame_len = match frame_length(&buf) {
            Ok(Some(n)) if buf.len() >= n => n,
            Ok(_) => {
                fill(&mut stream, &mut buf, PACKET_TIMEOUT).await?;
                continue;
            }
            Err(e) => {
                ingest.count_refusal(Interface::Codec8, &device.device_id, &garbage(e.to_string()));
                return Err("not a packet");
            }
        };
        let packet: Vec<u8> = buf.drain(..frame_len).collect();
        let message = Message {
            interface: Interface::Codec8,
            device: device.device_id.clone(),
            channel: Some(imei.clone()),
            sequence: None,
            signature: None,
            kind: PayloadKind::Codec8,
            payload: packet,
            received_ms: ingest.now_ms(),
        };
        let accepted = match ingest.accept(message).await {
            Ok(a) => a.records,
            // Counted by the pipeline; the tracker keeps the records and sends them again.
            Err(IngestError::Refused(r)) if r.reason == Refusal::Malformed || r.reason == Refusal::RateLimited => 0,
            Err(IngestError::Refused(_)) => {
                let _ = stream.write_all(&c8::ack(0)).await;
                return Err("device refused");
            }
            Err(IngestError::Unavailable(_)) => return Err("not stored"),
        };
        stream.write_all(&c8::ack(accepted)).await.map_err(|_| "write error")?;
    }
}

/// The length of the packet at the start of `buf` (preamble to CRC), `None` while its header
/// is incomplete; an error when the bytes are no packet.
fn frame_length(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    let Some(head) = buf.get(..8) else {
        return if buf.iter().take(4).any(|b| *b != 0) { Err(FrameError::Preamble) } else { Ok(None) };
    };
    if head[..4] != [0, 0, 0, 0] {
        return Err(FrameError::Preamble);
    }
    let length = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    if length > MAX_DATA_LENGTH {
        return Err(FrameError::TooLong(length));
    }
    let total = 12 + length as usize;
    debug_assert!(total <= MAX_FRAME);
    Ok(Some(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_by_their_stated_length_and_garbage_is_refused() {
        assert_eq!(frame_length(&[0, 0, 0]).unwrap(), None);
        assert_eq!(frame_length(&[0, 0, 0, 0, 0, 0, 0, 0x36, 8]).unwrap(), Some(12 + 0x36));
        assert_eq!(frame_length(b"GET / HTTP/1.1").unwrap_err(), FrameError::Preamble);
        assert_eq!(frame_length(&[1]).unwrap_err(), FrameError::Preamble);
        assert!(matches!(frame_length(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), Err(FrameError::TooLong(_))));
    }
}
