//! One socket, from its welcome to its recorded disconnect.
//!
//! One task per socket, split into a reader and a writer half run under one `select!`: whichever
//! ends first ends the other. The writer owns the bounded outbound queue, the protocol pings and
//! the close signal; the reader parses, rate-limits and answers client messages. Every way out
//! (a close, an error, a vanished client, a panic, the task being dropped) records exactly one
//! `disconnect`, through [`DisconnectGuard`](disconnect::DisconnectGuard).
//!
//! - [`welcome`]: the durable connect, the viewer's state and the welcome, up to the live socket.
//! - [`socket`]: the read and write loops of the live socket.
//! - [`confirm`] and [`answers`]: the decision on a confirm, and a wrong answer's consequences.
//! - [`closing`]: the error message and close frame a socket is refused or closed with.
//! - [`disconnect`]: the disconnect recorded exactly once, and `shutdown` waiting for it.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::WebSocket;
use tokio::time::Instant;

use crate::domain::log::Evidence;
use crate::domain::time::Millis;
use crate::store::ViewerRow;

use super::protocol::close::{CloseReason, SLOW};
use super::registry::ConnHandle;
use super::viewer::LiveViewer;
use super::{Admission, Hub};

mod answers;
mod closing;
mod confirm;
mod disconnect;
mod socket;
mod welcome;

pub(super) use closing::reject;

/// Unreadable messages tolerated per connection (each answered with an error) before closing.
const MAX_BAD_MESSAGES: u32 = 5;
/// How long a close frame may take to leave before the socket is simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How a socket ended.
enum Ending {
    /// The server closes it, with this reason.
    Close(CloseReason),
    /// The client sent a close frame.
    ClientClosed,
    /// The client vanished without one.
    Gone,
    /// Reading or writing failed (metric label).
    Failed(&'static str),
}

/// What [`welcome::open`] hands to the steady part of [`run`].
struct Opened {
    ctx: Ctx,
    socket: WebSocket,
    guard: disconnect::DisconnectGuard,
}

/// Opens the connection, then hands the live socket to a task of its own and returns.
///
/// The upgrade's task carries everything the opening needed (the request's extractors, the
/// viewer's row, the welcome); a socket that lasts for hours should not. Its own task holds
/// only the steady state: measured with massif, the upgrade task's cell was 4 KiB per viewer.
/// Returns when the socket is live (or refused); [`Hub::shutdown`] waits for every socket.
pub(super) async fn run(
    hub: Hub,
    socket: WebSocket,
    viewer: ViewerRow,
    hall: String,
    seen: Evidence,
    admission: Admission,
) {
    if let Some(opened) = welcome::open(hub, socket, viewer, hall, seen).await {
        tokio::spawn(socket::live(opened, admission));
    }
}

/// What the two halves share.
struct Ctx {
    hub: Hub,
    conn: Arc<str>,
    viewer: String,
    hall: String,
    state: Arc<Mutex<LiveViewer>>,
    handle: ConnHandle,
    started: Instant,
    /// Milliseconds after `started` of the last frame from the client.
    last_seen: AtomicU64,
    /// The same instant on the hub's clock, for the log.
    last_seen_clock: AtomicI64,
    last_heartbeat: AtomicI64,
    /// When the last few prompts were written to this socket, to time their answers.
    written: Written,
}

/// The instants the latest prompts were written to one socket (hub clock). A viewer answers
/// the prompt in front of them, so a handful is plenty; older ones are forgotten.
#[derive(Default)]
struct Written(Mutex<Vec<(String, Millis)>>);

impl Written {
    const KEEP: usize = 4;

    /// `prompt` went out at `at`; the first write is the one the viewer saw.
    fn note(&self, prompt: String, at: Millis) {
        let mut list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if list.iter().any(|(p, _)| *p == prompt) {
            return;
        }
        if list.len() == Self::KEEP {
            list.remove(0);
        }
        list.push((prompt, at));
    }

    /// When `prompt` was written to this socket, if it was.
    fn at(&self, prompt: &str) -> Option<Millis> {
        let list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        list.iter().find(|(p, _)| p == prompt).map(|(_, t)| *t)
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // Whatever ended the socket, stop fan-out to it before the disconnect is recorded.
        self.handle.close(SLOW);
    }
}
