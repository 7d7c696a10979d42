//! The server's own accept loop over hyper's HTTP/1.1 connections, because `axum::serve` sets no timer
//! (rule 13): the request header within [`HEADER_TIMEOUT`] (also the longest an idle keep-alive
//! connection is kept), the whole request within [`REQUEST_TIMEOUT`] of its first byte (else 408
//! `request_timeout`), at most `--max-connections-per-address` connections per client address (trusted
//! proxies exempt; extra ones are closed at once), and a graceful shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::ServiceExt as _;

use super::address::{AddressKey, TrustedProxies, canonical};
use crate::domain::{ErrorCode, Problem};

/// A request's header must arrive within this time of its first byte, or of the connection's start;
/// the same timer closes a keep-alive connection idle for this long.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A whole request (header and body) must arrive within this time of its first byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of `--max-connections-per-address`.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: u32 = 256;
/// After an answer that closes the connection, how long the rest of a request is read and dropped, so
/// the client sees the answer rather than a reset.
const LINGER: Duration = Duration::from_secs(2);

/// What the accept loop needs to know.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    pub max_per_address: u32,
    pub trusted_proxies: TrustedProxies,
}

/// Serves `app` on `listener` until `stop` resolves, then lets every connection finish its request in
/// flight and close; returns when all are closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let (shutdown, shutting_down) = watch::channel(false);
    // Every connection task holds a clone; `recv` returns `None` once all of them are gone.
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    let counts = Arc::new(ConnectionCounts::default());
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
        };
        let peer_ip = canonical(peer.ip());
        let slot = if limits.trusted_proxies.contains(peer_ip) {
            None
        } else {
            match counts.take(AddressKey::of(peer_ip), limits.max_per_address) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "too many connections from this address: closed");
                    drop(stream);
                    continue;
                }
            }
        };
        let connection = Connection { app: app.clone(), peer, shutdown: shutting_down.clone() };
        let alive = alive.clone();
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(slot);
            drop(alive);
        });
    }
    drop(listener);
    // Receivers only fail once the loop above is gone; nothing to do then.
    let _ = shutdown.send(true);
    drop(alive);
    let _ = all_closed.recv().await;
    Ok(())
}

/// Errors of `accept` that concern one connection are skipped; others (out of file descriptors) get a
/// pause, so the loop does not spin.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::warn!(%error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Open connections per client address.
#[derive(Default)]
struct ConnectionCounts(Mutex<HashMap<AddressKey, u32>>);

/// One connection's place in [`ConnectionCounts`]; given back when dropped.
struct Slot {
    counts: Arc<ConnectionCounts>,
    key: AddressKey,
}

impl ConnectionCounts {
    fn take(self: &Arc<Self>, key: AddressKey, max: u32) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts.entry(key).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot { counts: Arc::clone(self), key })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

struct Connection {
    app: Router,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
}

impl Connection {
    async fn run(mut self, stream: TcpStream) {
        // Small answers go out at once rather than waiting for more to send.
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(Watched { inner: stream, activity: Arc::clone(&activity) });
        let service = RequestService { app: self.app, peer: self.peer, activity: Arc::clone(&activity) };
        let mut connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .keep_alive(true)
            .serve_connection(io, service);
        let mut shutting_down = false;
        let served = loop {
            tokio::select! {
                served = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => break served,
                changed = self.shutdown.changed(), if !shutting_down => {
                    shutting_down = true;
                    // Finishes a request in flight, then closes; an idle connection closes now. A
                    // dropped sender means the server is gone: close as well.
                    if changed.is_err() || *self.shutdown.borrow() {
                        Pin::new(&mut connection).graceful_shutdown();
                    }
                }
            }
        };
        let mut stream = connection.into_parts().io.into_inner().inner;
        match served {
            Ok(()) => {}
            Err(error) if error.is_timeout() && activity.mid_request() => {
                // The header did not arrive in time, but part of a request did: say so (rule 13).
                let _ = tokio::time::timeout(LINGER, stream.write_all(&raw_request_timeout())).await;
                tracing::debug!(peer = %self.peer, "request header timed out: 408");
            }
            Err(error) => tracing::debug!(peer = %self.peer, %error, "connection ended"),
        }
        linger(stream).await;
    }
}

/// Closes our side, then reads and drops what the client still sends for a moment, so that an answer
/// already written reaches it before the connection is reset.
async fn linger(mut stream: TcpStream) {
    use tokio::io::AsyncReadExt as _;
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// The 408 problem written by hand when hyper gave up on a header (it sends nothing itself).
fn raw_request_timeout() -> Vec<u8> {
    let problem = Problem::for_code(
        ErrorCode::RequestTimeout,
        format!("The request header was not received within {} seconds.", HEADER_TIMEOUT.as_secs()),
    );
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n\r\n",
        body.len()
    );
    [head.into_bytes(), body].concat()
}

/// When the request being read began: the first byte read after the last answer was written (or after
/// the connection opened).
#[derive(Default)]
struct Activity(Mutex<Option<Instant>>);

impl Activity {
    fn read(&self) {
        let mut started = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        started.get_or_insert_with(Instant::now);
    }

    fn wrote(&self) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    fn request_started(&self) -> Option<Instant> {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn mid_request(&self) -> bool {
        self.request_started().is_some()
    }
}

/// The socket, noting in [`Activity`] when a request starts and when an answer goes out.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        this.activity.wrote();
        Pin::new(&mut this.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        this.activity.wrote();
        Pin::new(&mut this.inner).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Hands each request to the router with the peer's address ([`ConnectInfo`]) and a body that fails
/// once the request's time is up.
#[derive(Clone)]
struct RequestService {
    app: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

type BoxedResponse =
    Pin<Box<dyn Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send>>;

impl hyper::service::Service<hyper::Request<Incoming>> for RequestService {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = BoxedResponse;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let started = self.activity.request_started().unwrap_or_else(Instant::now);
        let deadline = tokio::time::Instant::from_std(started + REQUEST_TIMEOUT);
        let mut request = request.map(|body| Body::new(TimedBody::new(body, deadline)));
        request.extensions_mut().insert(ConnectInfo(self.peer));
        Box::pin(self.app.clone().oneshot(request))
    }
}

/// A request body that ends in [`RequestTimedOut`] when it is not complete by its deadline.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl TimedBody {
    fn new(inner: Incoming, deadline: tokio::time::Instant) -> Self {
        Self { inner, deadline: Box::pin(tokio::time::sleep_until(deadline)) }
    }
}

/// The error a [`TimedBody`] ends with; the JSON extractor turns it into 408 `request_timeout`.
#[derive(Debug, thiserror::Error)]
#[error("the request was not received within {} s", REQUEST_TIMEOUT.as_secs())]
pub struct RequestTimedOut;

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|frame| frame.map_err(Into::into))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(RequestTimedOut)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// True when `error` (a body extractor's rejection) comes from a [`TimedBody`] that ran out of time.
pub fn is_request_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<RequestTimedOut>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Rule 13: raises the soft limit of open files to the hard limit; the limits before and after.
#[cfg(unix)]
pub fn raise_open_file_limit() -> std::io::Result<(u64, u64)> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct we pass, which lives for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = limit.rlim_cur;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        limit = raised;
    }
    Ok((before, limit.rlim_cur))
}

#[cfg(not(unix))]
pub fn raise_open_file_limit() -> std::io::Result<(u64, u64)> {
    Ok((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_slots_are_counted_per_address_and_given_back() {
        let counts = Arc::new(ConnectionCounts::default());
        let a = AddressKey::of(std::net::IpAddr::from([192, 0, 2, 1]));
        let b = AddressKey::of(std::net::IpAddr::from([192, 0, 2, 2]));
        let first = counts.take(a, 2).unwrap();
        let second = counts.take(a, 2).unwrap();
        assert!(counts.take(a, 2).is_none());
        assert!(counts.take(b, 2).is_some(), "another address has its own count");
        drop(first);
        let third = counts.take(a, 2).unwrap();
        drop((second, third));
        assert!(counts.0.lock().unwrap().is_empty(), "no entry is left for an address without connections");
    }

    #[test]
    fn the_raw_408_is_problem_json() {
        let raw = String::from_utf8(raw_request_timeout()).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let problem: Problem = serde_json::from_str(body).unwrap();
        assert_eq!((problem.status, problem.code), (408, ErrorCode::RequestTimeout));
    }
}
