//! The end of a socket: its registration removed, the disconnect recorded exactly once
//! whatever ended it, and [`Hub::shutdown`] kept waiting until then.

use compact_str::ToCompactString;
use std::sync::{Arc, Mutex};

use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;
use crate::hub::Hub;
use crate::hub::viewer::LiveViewer;
use crate::store::StoreError;

/// Keeps `Hub::shutdown` waiting while a socket has not recorded its disconnect.
pub(super) struct LiveToken(Hub);

impl LiveToken {
    pub(super) fn new(hub: &Hub) -> LiveToken {
        hub.socket_opened();
        LiveToken(hub.clone())
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.0.socket_closed();
    }
}

pub(super) struct Cleanup {
    pub(super) hub: Hub,
    pub(super) conn: Arc<str>,
    pub(super) viewer: String,
    pub(super) hall: String,
    pub(super) state: Arc<Mutex<LiveViewer>>,
    pub(super) _live: LiveToken,
}

impl Cleanup {
    async fn run(self, at: Millis) {
        let hub = &self.hub;
        hub.registry().remove(&self.hall, &self.conn);
        let event = Event::new(
            at,
            EventBody::Disconnect {
                conn: self.conn.to_compact_string(),
            },
        );
        // Waited for, so that `Hub::shutdown` returns with every disconnect stored; but only
        // for the writer's `give_up_ms`: through a store outage the writer keeps it and
        // writes it when the store is back.
        match hub.writer().record_kept(event.clone()).await {
            Ok(()) => {}
            Err(StoreError::Unavailable(_)) => {
                tracing::warn!(conn = %self.conn, "disconnect held until the store is back");
            }
            Err(e) => {
                tracing::error!(conn = %self.conn, error = %e, "could not record a disconnect");
                metrics::counter!("yavka_ws_errors_total", "reason" => "store").increment(1);
            }
        }
        let changed = self.state.lock().expect("viewer lock").apply(&event);
        hub.publish_viewer_event(&self.viewer, event);
        if changed {
            hub.viewer_changed(&self.viewer, None, None);
        }
        hub.viewers().leave(&self.viewer);
        tracing::debug!(conn = %self.conn, viewer = %self.viewer, "connection closed");
    }
}

/// Records the disconnect exactly once: by [`DisconnectGuard::finish`] on the normal path, or
/// from `Drop` (a panic, or the task dropped mid-way) on a fresh task.
pub(super) struct DisconnectGuard(pub(super) Option<Cleanup>);

impl DisconnectGuard {
    pub(super) async fn finish(&mut self, at: Millis) {
        if let Some(c) = self.0.take() {
            c.run(at).await;
        }
    }
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            let at = c.hub.now();
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(c.run(at));
                }
                Err(_) => tracing::error!(conn = %c.conn, "disconnect not recorded: no runtime"),
            }
        }
    }
}
