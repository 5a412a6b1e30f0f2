//! What the hub does with broker messages (its own included): fan prompts out to the hall,
//! keep connected viewers' state current and tell their tabs, close revoked viewers' sockets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::watch;

use crate::broker::{RecvError, Subscription};
use crate::domain::live;
use crate::domain::log::EventBody;
use crate::domain::time::Millis;

use super::bus::BusEvent;
use super::protocol::ServerMsg;
use super::protocol::close::{REVOKED, SLOW};
use super::{Hub, WeakHub};

/// Pending "prompt closed" tally pushes: hall → the instant they are for. Prompts of a hall
/// closing at the same instant share one push. A std mutex: never held across await.
#[derive(Debug, Default)]
pub(super) struct ClosePushes(Mutex<HashMap<String, Millis>>);

impl ClosePushes {
    /// Whether the caller should schedule the push for `hall` at `closes` (none is pending).
    fn claim(&self, hall: &str, closes: Millis) -> bool {
        let mut pushes = self.0.lock().expect("tally pushes lock");
        if pushes.get(hall) == Some(&closes) {
            return false;
        }
        pushes.insert(hall.to_owned(), closes);
        true
    }

    /// The push for `hall` at `closes` is going out; a later one may be scheduled.
    fn done(&self, hall: &str, closes: Millis) {
        let mut pushes = self.0.lock().expect("tally pushes lock");
        if pushes.get(hall) == Some(&closes) {
            pushes.remove(hall);
        }
    }
}

/// Runs until the hub is dropped or shut down, or the broker closes.
pub(super) async fn listen(
    hub: WeakHub,
    mut sub: Subscription,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        let received = tokio::select! {
            r = sub.recv() => r,
            _ = stopping.wait_for(|s| *s) => return,
        };
        let Some(hub) = hub.upgrade() else {
            return;
        };
        match received {
            Ok(msg) => match BusEvent::from_message(&msg) {
                Ok(event) => hub.on_bus(event),
                Err(e) => tracing::warn!(error = %e, "unreadable broker message ignored"),
            },
            Err(RecvError::Lagged(n)) => {
                // Lost prompts or viewer events: prompts are read back from the store; tabs
                // may show a stale tally until their next event. The log itself is complete.
                tracing::warn!(lost = n, "hub fell behind the broker");
                metrics::counter!("yavka_ws_errors_total", "reason" => "broker_lagged")
                    .increment(n);
                tokio::spawn(async move { hub.catch_up_prompts(false).await });
            }
            Err(RecvError::Gap) => {
                tokio::spawn(async move { hub.catch_up_prompts(false).await });
            }
            Err(RecvError::Closed) => return,
        }
    }
}

impl Hub {
    fn on_bus(&self, event: BusEvent) {
        match event {
            BusEvent::Prompt {
                prompt,
                hall,
                ts,
                closes,
            } => self.fan_out_prompt(&prompt, &hall, ts, closes),
            BusEvent::Viewer {
                viewer,
                event,
                node,
            } => {
                let Some(state) = self.viewers().get(&viewer) else {
                    return;
                };
                let changed = {
                    let mut st = state.lock().expect("viewer lock");
                    let changed = st.apply(&event);
                    if let EventBody::Connect { conn, .. } = &event.body {
                        st.set_node(conn, &node);
                    }
                    changed
                };
                if changed {
                    let confirmed = match &event.body {
                        EventBody::Confirm { prompt, .. } => Some(prompt.as_str()),
                        _ => None,
                    };
                    self.viewer_changed(&viewer, None, confirmed);
                }
            }
            BusEvent::Revoked { viewer } => self.close_viewer(&viewer, REVOKED),
            BusEvent::NodeStats {
                node,
                halls,
                prompts,
            } => self.on_node_stats(node, halls, prompts),
            BusEvent::ForumSaved { node, version } => self.forum_saved_elsewhere(&node, version),
        }
    }

    /// Sends a prompt to every local connection of its hall, once per node, serialised once.
    pub(super) fn fan_out_prompt(&self, id: &str, hall: &str, ts: i64, closes: i64) {
        let msg = {
            let mut book = self.lock_prompts();
            let entry = book.add(id, hall, ts, closes);
            if entry.fanned_out {
                return;
            }
            entry.fanned_out = true;
            entry.to_msg()
        };
        let text = Utf8Bytes::from(ServerMsg::Prompt(msg).to_json());
        let mut delivered = 0;
        self.registry().for_each_in_hall(hall, |h| {
            if h.offer(text.clone(), SLOW) {
                delivered += 1;
            }
        });
        if let Some(p) = self.lock_prompts().get_mut(id) {
            p.delivered += delivered;
        }
        tracing::debug!(prompt = id, hall, delivered, "prompt delivered");

        // When it closes, every tab of the hall gets its tally (a miss may pause counting).
        // Prompts of a hall closing at the same instant share one push.
        if !self.close_pushes().claim(hall, closes) {
            return;
        }
        let weak = self.downgrade();
        let wait = (closes - self.now()).max(0) as u64 + 1;
        let hall = hall.to_owned();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if let Some(hub) = weak.upgrade() {
                hub.close_pushes().done(&hall, closes);
                hub.push_tallies(&hall);
            }
        });
    }

    /// Sends every local tab of `hall` its tally. The session is planned once for all of
    /// them, and each viewer's state first forgets what no tally can ask about any more (a
    /// push comes at every session's edge, so a state never holds a finished day).
    pub(super) fn push_tallies(&self, hall: &str) {
        let now = self.now();
        let prompts = self.lock_prompts().hall_events(hall);
        let forum = self.forum();
        let Some(plan) = self.session_plan(&forum, hall, &prompts, now) else {
            return;
        };
        let horizon = live::horizon(&forum, now);
        for h in self.registry().in_hall(hall) {
            let Some(state) = self.viewers().get(&h.viewer) else {
                continue;
            };
            let tally = {
                let mut st = state.lock().expect("viewer lock");
                st.prune(horizon);
                plan.tally(&st)
            };
            h.offer(ServerMsg::Tally(tally).to_json().into(), SLOW);
        }
    }

    /// Tells `viewer`'s local tabs what changed: paused or resumed when the active hall moved,
    /// and `confirmed` (to all but `except`, the tab that confirmed), each followed by a tally.
    pub(super) fn viewer_changed(
        &self,
        viewer: &str,
        except: Option<&str>,
        confirmed: Option<&str>,
    ) {
        let Some(state) = self.viewers().get(viewer) else {
            return;
        };
        for h in self.registry().of_viewer(viewer) {
            let paused_for = state
                .lock()
                .expect("viewer lock")
                .paused_for(&h.hall)
                .map(str::to_owned);
            let was_paused = h.paused.swap(paused_for.is_some(), Ordering::SeqCst);
            let mut tally = false;
            match (was_paused, paused_for) {
                (false, Some(active_hall)) => {
                    h.offer(ServerMsg::Paused { active_hall }.to_json().into(), SLOW);
                    tally = true;
                }
                (true, None) => {
                    h.offer(ServerMsg::Resumed.to_json().into(), SLOW);
                    tally = true;
                }
                _ => {}
            }
            if let Some(prompt) = confirmed
                && except != Some(&*h.conn)
            {
                let msg = ServerMsg::Confirmed {
                    prompt: prompt.to_owned(),
                };
                h.offer(msg.to_json().into(), SLOW);
                tally = true;
            }
            if tally && let Some(t) = self.tally_json(&state, &h.hall) {
                h.offer(t.into(), SLOW);
            }
        }
    }
}
