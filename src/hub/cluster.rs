//! What one node knows of the others: their live figures, whether they are still alive, and
//! catching up on prompts this node did not hear about.
//!
//! Every node publishes its figures every [`STATS_EVERY`]; that message doubles as its
//! heartbeat. The dashboard's figures are the sum over the nodes heard from recently. A node
//! silent for [`NODE_GONE_AFTER`] is taken for dead: its connections are closed in the live
//! state of this node's viewers (at their last sign of life known here), so an older tab here
//! is not kept paused by a tab that no longer exists. The log needs no such step: the rules
//! already count a dead node's connections up to their last recorded sign of life.
//!
//! Prompts missed while the broker was away (or lost to a lagging subscription) are read back
//! from the store, where every prompt is recorded before it is published.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::bus::BusEvent;
use super::prompts::PromptEntry;
use serde::Serialize;

use super::{Hub, WeakHub};
use crate::domain::log::EventBody;

/// The dashboard's live figures: this node's and those of the nodes heard from recently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HubStats {
    /// Nodes whose figures are included (this one and those heard from recently).
    pub nodes: usize,
    /// Whether this node hears the other nodes now (always true without Redis).
    pub broker_connected: bool,
    pub halls: Vec<HallStats>,
    pub prompts: Vec<PromptEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HallStats {
    pub hall: String,
    /// Distinct viewers with a live connection in this hall on this node.
    pub viewers: usize,
    pub peak_viewers: usize,
    pub connections: usize,
}

pub const STATS_EVERY: Duration = Duration::from_secs(2);
pub const NODE_GONE_AFTER: Duration = Duration::from_secs(10);
/// The fallback for a confirm of an unknown prompt reads the store at most this often.
const CATCH_UP_EVERY: Duration = Duration::from_secs(1);

/// Another node's latest figures, and when they arrived (this node's monotonic clock).
#[derive(Debug)]
pub(super) struct Peer {
    heard: Instant,
    halls: Vec<HallStats>,
    prompts: Vec<PromptEntry>,
}

/// The cluster state this module owns inside the hub. A std mutex: never held across await.
#[derive(Debug, Default)]
pub(super) struct Peers(std::sync::Mutex<Cluster>);

#[derive(Debug, Default)]
struct Cluster {
    peers: HashMap<String, Peer>,
    /// Highest sum of viewers seen per hall, across nodes.
    peaks: HashMap<String, usize>,
    last_catch_up: Option<Instant>,
}

impl Hub {
    /// This node's figures, as published to the others.
    pub(super) fn node_stats_event(&self) -> BusEvent {
        BusEvent::NodeStats {
            node: self.node().to_owned(),
            halls: self.local_halls(),
            prompts: self.lock_prompts().entries().to_vec(),
        }
    }

    pub(super) fn on_node_stats(
        &self,
        node: String,
        halls: Vec<HallStats>,
        prompts: Vec<PromptEntry>,
    ) {
        if node == self.node() {
            return;
        }
        let peer = Peer {
            heard: Instant::now(),
            halls,
            prompts,
        };
        self.lock_cluster().peers.insert(node, peer);
    }

    /// Forgets nodes not heard from for [`NODE_GONE_AFTER`] and closes their connections in
    /// this node's viewer states.
    pub(super) fn drop_silent_nodes(&self) {
        let gone: Vec<String> = {
            let mut c = self.lock_cluster();
            let gone: Vec<String> = c
                .peers
                .iter()
                .filter(|(_, p)| p.heard.elapsed() > NODE_GONE_AFTER)
                .map(|(n, _)| n.clone())
                .collect();
            for n in &gone {
                c.peers.remove(n);
            }
            gone
        };
        for node in gone {
            tracing::warn!(%node, "a node went silent; its connections count as closed here");
            for (viewer, state) in self.viewers().all() {
                let changed = state.lock().expect("viewer lock").close_node(&node);
                if changed {
                    self.viewer_changed(&viewer, None, None);
                }
            }
        }
    }

    /// The figures of every node heard from recently, this one included (see [`Hub::stats`]).
    pub(super) fn cluster_stats(&self) -> HubStats {
        let mut halls = self.local_halls();
        let mut prompts: Vec<PromptEntry> = self.lock_prompts().entries().to_vec();
        let mut c = self.lock_cluster();
        let mut nodes = 1;
        for peer in c.peers.values() {
            if peer.heard.elapsed() > NODE_GONE_AFTER {
                continue;
            }
            nodes += 1;
            for h in &peer.halls {
                if let Some(mine) = halls.iter_mut().find(|m| m.hall == h.hall) {
                    mine.viewers += h.viewers;
                    mine.connections += h.connections;
                }
            }
            for p in &peer.prompts {
                match prompts.iter_mut().find(|m| m.id == p.id) {
                    Some(mine) => {
                        mine.delivered += p.delivered;
                        mine.confirmed += p.confirmed;
                    }
                    None => prompts.push(p.clone()),
                }
            }
        }
        for h in &mut halls {
            let peak = c.peaks.entry(h.hall.clone()).or_default();
            *peak = (*peak).max(h.viewers).max(h.peak_viewers);
            h.peak_viewers = *peak;
        }
        HubStats {
            nodes,
            broker_connected: self.broker_connected(),
            halls,
            prompts,
        }
    }

    /// Reads the day's prompts back from the store and shows those still open that this node
    /// never heard of. `throttled`: skip when another catch-up ran within a second (the
    /// fallback of a confirm for an unknown prompt, which a client could repeat).
    pub(super) async fn catch_up_prompts(&self, throttled: bool) {
        {
            let mut c = self.lock_cluster();
            if throttled
                && c.last_catch_up
                    .is_some_and(|t| t.elapsed() < CATCH_UP_EVERY)
            {
                return;
            }
            c.last_catch_up = Some(Instant::now());
        }
        let events = match self.day_prompts().await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "could not read prompts back from the store");
                return;
            }
        };
        let now = self.now();
        let mut shown = 0;
        for e in &events {
            if let EventBody::Prompt {
                prompt,
                hall,
                closes,
            } = &e.body
            {
                let known = self.lock_prompts().get(prompt).is_some();
                if known {
                    continue;
                }
                if *closes > now {
                    self.fan_out_prompt(prompt, hall, e.ts, *closes);
                    shown += 1;
                }
            }
        }
        // The closed ones, known from now on as delivered.
        self.lock_prompts().merge(&events);
        if shown > 0 {
            tracing::info!(shown, "prompts missed on the broker shown from the store");
        }
    }

    fn lock_cluster(&self) -> std::sync::MutexGuard<'_, Cluster> {
        self.peers().0.lock().expect("cluster lock")
    }

    /// This node's own hall figures.
    pub(super) fn local_halls(&self) -> Vec<HallStats> {
        self.forum()
            .halls
            .iter()
            .map(|h| {
                let c = self.registry().counts(&h.id);
                HallStats {
                    hall: h.id.clone(),
                    viewers: c.viewers,
                    peak_viewers: c.peak_viewers,
                    connections: c.connections,
                }
            })
            .collect()
    }
}

/// Publishes this node's figures and checks for silent nodes until the hub stops.
pub(super) async fn heartbeat(hub: WeakHub) {
    let mut tick = tokio::time::interval(STATS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        if hub.is_stopping() {
            return;
        }
        let event = hub.node_stats_event();
        if let Err(e) = hub.publish(&event) {
            tracing::debug!(error = %e, "could not publish this node's figures");
        }
        hub.drop_silent_nodes();
        metrics::gauge!("yavka_broker_connected").set(if hub.broker_connected() {
            1.0
        } else {
            0.0
        });
    }
}
