//! Accepting connections: who gets served, for how long, and how the node stops.
//!
//! The node runs its own accept loop (not `axum::serve`) because the limits that keep it up live
//! at the connection level, below the router:
//! - **caps**: at most `max_connections` connections are served, at most
//!   `max_connections_per_client` from one client (an IPv4 address, or an IPv6 /64);
//! - **shedding**: a connection past a cap takes one of `reserved_connections` slots and is read
//!   for one request with a short header timeout: `/healthz` is answered (so monitoring sees a
//!   node that is up and busy), anything else gets `503 too_many_connections`; past the reserve,
//!   a connection is closed as soon as it is accepted. The loop always accepts, so the kernel's
//!   backlog never fills and a health check is never left unanswered in it;
//! - **timeouts**: the request head within `header_timeout_ms` (hyper's header read timeout,
//!   also the longest a kept-alive connection waits for its next request), and no byte moved in
//!   either direction for `idle_timeout_ms` closes the connection (the body deadline is a
//!   request layer, [`crate::limits`]).
//!
//! Invariant: every accepted socket is owned by a task that holds a permit of one of the two
//! semaphores, or is dropped at once, so the node never holds more than `max_connections +
//! reserved_connections` client sockets.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::Limits;
use crate::error::ApiError;

/// The longest header timeout of a connection served from the reserve.
const RESERVED_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a stopping node waits for its connections to finish their requests before it
/// closes them (an event stream never finishes by itself).
const DRAIN: Duration = Duration::from_secs(10);

/// The key a client is counted under: its IPv4 address, or the /64 of its IPv6 address (one
/// host usually holds a whole /64, so counting single IPv6 addresses would count nothing).
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// The connection caps: permits for the served and the reserved connections, and each client's
/// count.
struct Admission {
    served: Arc<Semaphore>,
    reserved: Arc<Semaphore>,
    per_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_per_client: usize,
}

/// One connection of a client, counted until dropped.
struct ClientSlot {
    key: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// What a new connection gets.
enum Admitted {
    /// Served in full: keep-alive, the configured timeouts.
    Served(OwnedSemaphorePermit, ClientSlot),
    /// Past a cap: one request, `/healthz` only.
    Reserved(OwnedSemaphorePermit),
    /// Closed at once.
    Refused,
}

impl Admission {
    fn new(limits: &Limits) -> Self {
        Self {
            served: Arc::new(Semaphore::new(limits.max_connections)),
            reserved: Arc::new(Semaphore::new(limits.reserved_connections)),
            per_client: Arc::new(Mutex::new(HashMap::new())),
            max_per_client: limits.max_connections_per_client,
        }
    }

    fn admit(&self, peer: IpAddr) -> Admitted {
        let key = client_key(peer);
        let slot = {
            let mut counts = self.per_client.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = counts.entry(key).or_insert(0);
            if *n < self.max_per_client {
                *n += 1;
                Some(ClientSlot { key, counts: Arc::clone(&self.per_client) })
            } else {
                None
            }
        };
        // The slot, when the permit is refused, is given back by its drop.
        if let Some(slot) = slot
            && let Ok(permit) = Arc::clone(&self.served).try_acquire_owned()
        {
            return Admitted::Served(permit, slot);
        }
        match Arc::clone(&self.reserved).try_acquire_owned() {
            Ok(permit) => Admitted::Reserved(permit),
            Err(_) => Admitted::Refused,
        }
    }

    /// Resolves once every connection has ended.
    async fn drained(&self, served: usize, reserved: usize) {
        let a = self.served.acquire_many(u32::try_from(served).unwrap_or(u32::MAX)).await;
        let b = self.reserved.acquire_many(u32::try_from(reserved).unwrap_or(u32::MAX)).await;
        drop((a, b));
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes; then stops
/// accepting, lets the requests in flight finish (at most [`DRAIN`]) and closes the rest.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let admission = Admission::new(&limits);
    let limits = Arc::new(limits);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // Finished connections leave the set here, so it holds only live ones.
        while tasks.try_join_next().is_some() {}
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Out of descriptors or memory: the caps should prevent it, but other parts of
                // the process hold descriptors too. Wait a little rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_millis(50)) => continue,
                }
            }
        };
        let (permit, slot, reserved) = match admission.admit(peer.ip()) {
            Admitted::Served(permit, slot) => (permit, Some(slot), false),
            Admitted::Reserved(permit) => (permit, None, true),
            Admitted::Refused => {
                metrics::counter!("borderlink_connections_refused_total").increment(1);
                drop(stream);
                continue;
            }
        };
        if reserved {
            metrics::counter!("borderlink_connections_reserved_total").increment(1);
        }
        let connection =
            Connection { peer, reserved, limits: Arc::clone(&limits), router: router.clone(), stop: stop_rx.clone() };
        let tls = tls.clone();
        tasks.spawn(async move {
            connection.run(stream, tls).await;
            drop((permit, slot));
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let (served, reserved) = (limits.max_connections, limits.reserved_connections);
    if tokio::time::timeout(DRAIN, admission.drained(served, reserved)).await.is_err() {
        tracing::warn!(open = tasks.len(), "closing the connections still open after {} s", DRAIN.as_secs());
    }
    tasks.shutdown().await;
    Ok(())
}

/// Accept errors that concern one connection only (it was reset before we took it).
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// One accepted connection and how it is to be served.
struct Connection {
    peer: SocketAddr,
    reserved: bool,
    limits: Arc<Limits>,
    router: Router,
    stop: watch::Receiver<bool>,
}

impl Connection {
    /// Serves the connection, over TLS when `tls` is given: the handshake counts against the
    /// header timeout, and the idle timeout watches the encrypted bytes.
    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let activity = Activity::new();
        let io = Watched { inner: stream, activity: Arc::clone(&activity) };
        let Some(tls) = tls else { return self.serve_http(io, activity, None).await };
        match tokio::time::timeout(self.header_timeout(), tls.accept(io)).await {
            Ok(Ok(io)) => {
                let cert = io.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.clone().into_owned());
                self.serve_http(io, activity, cert.map(crate::https::ClientCertificate)).await
            }
            Ok(Err(e)) => tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
        }
    }

    fn header_timeout(&self) -> Duration {
        if self.reserved {
            self.limits.header_timeout().min(RESERVED_HEADER_TIMEOUT)
        } else {
            self.limits.header_timeout()
        }
    }

    async fn serve_http<IO>(mut self, io: IO, activity: Arc<Activity>, cert: Option<crate::https::ClientCertificate>)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (peer, reserved, router) = (self.peer, self.reserved, self.router.clone());
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            if let Some(c) = &cert {
                request.extensions_mut().insert(c.clone());
            }
            let router = router.clone();
            async move {
                if reserved && request.uri().path() != "/healthz" {
                    return Ok::<_, Infallible>(
                        ApiError::TooManyConnections("no connection is free for this client").into_response(),
                    );
                }
                router.oneshot(request).await
            }
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(self.header_timeout()).keep_alive(!reserved);
        let conn = http.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        let idle = self.limits.idle_timeout();
        let mut stopping = false;
        loop {
            let quiet_until = activity.last() + idle;
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(peer = %self.peer, error = %e, "connection ended");
                    }
                    return;
                }
                () = tokio::time::sleep_until(quiet_until) => {
                    if activity.last() + idle <= Instant::now() {
                        tracing::debug!(peer = %self.peer, "idle connection closed");
                        metrics::counter!("borderlink_connections_idle_closed_total").increment(1);
                        return;
                    }
                }
                changed = self.stop.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_ok() {
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// When a connection last moved a byte, as milliseconds after its start.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self { start: Instant::now(), last_ms: AtomicU64::new(0) })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A socket that records when it last read or wrote a byte.
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_bit_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("an address");
        let (a, b, other) = (ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:bbbb::9"), ip("2001:db8:1:3::1"));
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), IpAddr::from([192, 0, 2, 7]));
    }

    #[test]
    fn past_the_caps_a_connection_is_reserved_then_refused() {
        let limits =
            Limits { max_connections: 3, max_connections_per_client: 2, reserved_connections: 1, ..Limits::default() };
        let admission = Admission::new(&limits);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let first = admission.admit(a);
        let second = admission.admit(a);
        assert!(matches!(first, Admitted::Served(..)) && matches!(second, Admitted::Served(..)));
        // Over the per-client cap: the reserve, then nothing.
        let third = admission.admit(a);
        assert!(matches!(third, Admitted::Reserved(_)));
        assert!(matches!(admission.admit(a), Admitted::Refused));
        // Another client still gets the last served connection, then nothing either.
        let other = admission.admit(b);
        assert!(matches!(other, Admitted::Served(..)));
        assert!(matches!(admission.admit(b), Admitted::Refused));
        // Connections that end give their places back.
        drop((first, third));
        let again = admission.admit(a);
        assert!(matches!(again, Admitted::Served(..)));
        assert!(matches!(admission.admit(b), Admitted::Reserved(_)));
    }
}
