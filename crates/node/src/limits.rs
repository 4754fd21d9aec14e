//! The request layers of `[limits]`: each client's request rate, and the deadline of a request
//! body. The connection-level limits (caps, header and idle timeouts) are in
//! [`crate::connections`].
//!
//! The rate is limited per client (an IPv4 address or an IPv6 /64, [`client_key`]) with
//! `governor`'s GCRA, before authentication, so a flood of signed requests costs one map
//! lookup each rather than a signature check. `/healthz` is never limited: it is how operators
//! and orchestrators tell a busy node from a dead one.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http_body::{Body as _, Frame, SizeHint};

use crate::config::Limits;
use crate::connections::client_key;
use crate::error::ApiError;

/// Forget clients not seen lately once every this many limited requests, so the table of
/// clients stays as small as the set of recent ones.
const SWEEP_EVERY: u64 = 4096;

/// Each client's request rate.
#[derive(Debug)]
pub(crate) struct RequestRate {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    per_second: u32,
    burst: u32,
    seen: AtomicU64,
}

impl RequestRate {
    /// The limiter `limits` asks for; `None` when `requests_per_second` is 0.
    pub(crate) fn new(limits: &Limits) -> Option<Arc<Self>> {
        let per_second = NonZeroU32::new(limits.requests_per_second)?;
        let burst = NonZeroU32::new(limits.request_burst.max(limits.requests_per_second)).unwrap_or(per_second);
        Some(Arc::new(Self {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
            clock: DefaultClock::default(),
            per_second: per_second.get(),
            burst: burst.get(),
            seen: AtomicU64::new(0),
        }))
    }

    /// `Ok` when `client` may send a request now; otherwise the seconds to wait.
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        if self.seen.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&client_key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Whole seconds, rounded up: `Retry-After: 0` would invite an immediate retry.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }
}

/// Refuses a client's request past its rate with `429 rate_limited` and `Retry-After`.
pub(crate) async fn rate_limit(State(rate): State<Arc<RequestRate>>, request: Request, next: Next) -> Response {
    // The peer address is set by the accept loop; a request without one (a router called
    // in-process) has no client to count.
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Some(ip) = peer
        && request.uri().path() != "/healthz"
        && let Err(retry_after_secs) = rate.check(ip)
    {
        metrics::counter!("borderlink_requests_rate_limited_total").increment(1);
        return ApiError::RateLimited { per_second: rate.per_second, burst: rate.burst, retry_after_secs }
            .into_response();
    }
    next.run(request).await
}

/// Gives the request body `body_timeout` to arrive; past it the body fails, and whatever the
/// handler made of that failure is replaced by `408 request_timeout`, with the connection closed.
pub(crate) async fn body_deadline(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let expired = Arc::new(AtomicBool::new(false));
    let request = request.map(|inner| {
        Body::new(DeadlineBody { inner, sleep: Box::pin(tokio::time::sleep(timeout)), expired: Arc::clone(&expired) })
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    metrics::counter!("borderlink_request_bodies_timed_out_total").increment(1);
    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let mut response = ApiError::RequestTimeout(ms).into_response();
    response.headers_mut().insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The reason a [`DeadlineBody`] failed.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

/// A request body that fails once its deadline passes.
struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_past_its_burst_waits_at_least_a_second_and_others_do_not() {
        let limits = Limits { requests_per_second: 2, request_burst: 3, ..Limits::default() };
        let rate = RequestRate::new(&limits).expect("a limiter");
        let (a, b) = (IpAddr::from([192, 0, 2, 1]), IpAddr::from([192, 0, 2, 2]));
        for _ in 0..3 {
            assert_eq!(rate.check(a), Ok(()));
        }
        let wait = rate.check(a).expect_err("over the burst");
        assert!(wait >= 1, "{wait}");
        assert_eq!(rate.check(b), Ok(()));
    }

    #[test]
    fn zero_requests_per_second_means_no_limit() {
        assert!(RequestRate::new(&Limits { requests_per_second: 0, ..Limits::default() }).is_none());
    }
}
