//! Serving HTTP with the bounds `axum::serve` lacks: a cap on all connections, and timeouts
//! for clients that send too slowly or not at all.
//!
//! With `axum::serve` a socket that sent nothing, or one header every 4 s, stayed open for
//! over 330 s, and 1,100 such sockets under a 1,024-descriptor limit left `/healthz` unable
//! to accept (`Too many open files`). Here:
//! - at most `max_connections` sockets are held, websockets included (the permit lives in the
//!   socket's I/O, so it is returned when the socket closes, after an upgrade too); beyond
//!   that a connection gets a fixed 503 in Russian JSON with `Retry-After` and is closed
//!   (a liveness probe, `GET /healthz`, still gets its 200);
//! - a request's headers must arrive within `header_read_timeout` (hyper's HTTP/1 timer, which
//!   also bounds a kept-alive connection waiting for its next request, and a socket that
//!   never sends a byte);
//! - a connection on which nothing moves either way for `idle_timeout` is closed (a stalled
//!   upload, a client that stopped reading its download);
//! - a request body must arrive whole within `body_timeout` (a body trickling in byte by byte).
//!
//! HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which a reverse proxy terminates, and
//! hyper-util's auto-detecting builder waits for the first bytes with no timeout at all.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::time::Instant;
use tower::ServiceExt;
use tower_http::timeout::DeadlineBody;

use crate::settings::ServerSettings;

/// The bounds of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_timeout: Duration,
}

/// Descriptors kept free for everything but client sockets: the database pool, Redis, files,
/// and the sockets being refused.
const RESERVED_FDS: u64 = 128;
/// Refusals under way at once; each holds its socket for at most [`REFUSAL_TIME`].
const REFUSERS: usize = 64;
const REFUSAL_TIME: Duration = Duration::from_millis(500);
const RETRY_AFTER_SECS: u64 = 30;

impl Limits {
    /// The configured bounds, with the connection cap lowered to fit the process's open-file
    /// limit when it is above it (a descriptor per socket).
    pub fn new(server: &ServerSettings) -> Limits {
        let mut max_connections = server.max_connections.max(1);
        if let Some(files) = open_file_limit() {
            let fits = files.saturating_sub(RESERVED_FDS).max(files / 2) as usize;
            if max_connections > fits {
                tracing::warn!(
                    configured = max_connections,
                    open_file_limit = files,
                    serving = fits,
                    "[server] max_connections is above what the open-file limit allows; \
                     lowered (raise `ulimit -n` to hold more)"
                );
                max_connections = fits.max(1);
            }
        }
        Limits {
            max_connections,
            header_read_timeout: Duration::from_secs(server.header_read_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(server.idle_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(server.body_timeout_secs.max(1)),
        }
    }
}

/// The soft limit on open files, where the platform tells it.
#[cfg(unix)]
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes one `rlimit` into the valid, exclusively borrowed struct.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    // `rlim_t` is u64 on Linux but not on every unix.
    #[allow(clippy::unnecessary_cast)]
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as u64)
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<u64> {
    None
}

/// Serves `router` on `listener` until `stop` turns true, then stops accepting, lets requests
/// in flight finish and returns when every HTTP connection has ended. (Upgraded websockets
/// are the hub's to close.)
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusers = Arc::new(Semaphore::new(REFUSERS));
    // Each connection task holds a sender; the channel closes when the last one ends.
    let (running, mut all_done) = mpsc::channel::<()>(1);
    let mut last_accept_error: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((socket, peer)) => match permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    metrics::gauge!("yavka_http_connections").increment(1.0);
                    tokio::spawn(connection(
                        socket,
                        peer,
                        permit,
                        router.clone(),
                        limits,
                        stop.clone(),
                        running.clone(),
                    ));
                }
                Err(_) => refuse(socket, peer, &refusers),
            },
            Err(e) => {
                // Out of descriptors or a network hiccup: the socket stays in the backlog.
                // Wait a little rather than spin, and do not flood the log.
                if last_accept_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(error = %e, "accept failed");
                    last_accept_error = Some(Instant::now());
                }
                metrics::counter!("yavka_http_accept_errors_total").increment(1);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    drop(running);
    let _ = all_done.recv().await;
}

/// One HTTP/1.1 connection, from accept to its last response (or its upgrade).
async fn connection(
    socket: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _running: mpsc::Sender<()>,
) {
    let _ = socket.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = Tracked {
        inner: socket,
        activity: activity.clone(),
        _permit: permit,
    };
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request =
            request.map(|body| Body::new(DeadlineBody::new(limits.body_timeout, body)));
        request.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move { Ok::<_, Infallible>(router.oneshot(request).await.unwrap_or_else(|e| match e {})) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let quiet = activity.quiet_for();
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                    if e.is_timeout() {
                        metrics::counter!("yavka_http_timeouts_total", "kind" => "header").increment(1);
                    }
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !stopping => {
                // Idle connections close now; a request in flight finishes first.
                conn.as_mut().graceful_shutdown();
                stopping = true;
            }
            _ = tokio::time::sleep(limits.idle_timeout.saturating_sub(quiet)) => {
                if activity.quiet_for() >= limits.idle_timeout {
                    tracing::debug!(%peer, "closing a connection idle for too long");
                    metrics::counter!("yavka_http_timeouts_total", "kind" => "idle").increment(1);
                    return;
                }
            }
        }
    }
}

/// Answers a connection over the cap and closes it, without serving it: a fixed 503, except
/// that a liveness probe (`GET /healthz`) is told the process is alive — restarting a node that
/// is full would not help, and a balancer must not take "full" for "dead".
fn refuse(mut socket: TcpStream, peer: SocketAddr, refusers: &Arc<Semaphore>) {
    metrics::counter!("yavka_http_refused_total").increment(1);
    tracing::debug!(%peer, "connection refused: the connection cap is reached");
    let mut first = [0u8; 1024];
    // When even refusals are at their limit, the answer goes out only if the socket takes it
    // at once (a fresh socket's buffer always has room for it), and the socket is closed.
    let Ok(permit) = refusers.clone().try_acquire_owned() else {
        let n = socket.try_read(&mut first).unwrap_or(0);
        let _ = socket.try_write(refusal(&first[..n]).as_bytes());
        while matches!(socket.try_read(&mut first), Ok(n) if n > 0) {}
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(REFUSAL_TIME, async {
            // The request line, if it comes at once.
            let n = tokio::time::timeout(REFUSAL_TIME / 2, socket.read(&mut first))
                .await
                .unwrap_or(Ok(0))?;
            socket.write_all(refusal(&first[..n]).as_bytes()).await?;
            socket.shutdown().await?;
            // Read the rest the client sent (for a moment): closing with unread data would
            // reset the connection, and the client might lose the answer.
            while socket.read(&mut first).await? > 0 {}
            Ok::<_, io::Error>(())
        })
        .await;
    });
}

/// The whole answer to a refused connection that began with `request`.
fn refusal(request: &[u8]) -> String {
    let probe = request.starts_with(b"GET /healthz ") || request.starts_with(b"HEAD /healthz ");
    let (status, kind, body) = if probe {
        ("200 OK", "text/plain; charset=utf-8", "ok".to_owned())
    } else {
        let error = format!(
            "Сервер перегружен: слишком много соединений. Повторите через {RETRY_AFTER_SECS} секунд."
        );
        (
            "503 Service Unavailable",
            "application/json",
            serde_json::json!({ "error": error }).to_string(),
        )
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\nretry-after: {RETRY_AFTER_SECS}\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// When a connection last moved a byte either way.
struct Activity {
    start: Instant,
    /// Milliseconds after `start`.
    last: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A socket that records its activity and holds its connection permit until it is closed
/// (counted in the `yavka_http_connections` gauge meanwhile).
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        metrics::gauge!("yavka_http_connections").decrement(1.0);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
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
    fn the_refusal_is_a_complete_http_answer_and_liveness_probes_pass() {
        let text = refusal(b"POST /api/register HTTP/1.1\r\n");
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("retry-after: 30"));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(
            json["error"]
                .as_str()
                .unwrap()
                .starts_with("Сервер перегружен")
        );
        assert!(refusal(b"").starts_with("HTTP/1.1 503 "));
        assert!(refusal(b"GET /healthz HTTP/1.1\r\n").starts_with("HTTP/1.1 200 "));
        assert!(refusal(b"GET /healthzz HTTP/1.1\r\n").starts_with("HTTP/1.1 503 "));
    }

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        let limits = Limits::new(&ServerSettings {
            max_connections: usize::MAX,
            ..ServerSettings::default()
        });
        let files = open_file_limit().expect("a unix limit") as usize;
        assert!(limits.max_connections < files, "{limits:?} vs {files}");
        assert!(limits.max_connections >= files / 2, "{limits:?} vs {files}");
    }
}
