//! A saved version of the forum while it runs: the tabs of a hall whose stream address or
//! title changed are told (`{"type":"hall"}`), and a save on another node, heard through the
//! broker, is passed on to whoever reloads the forum (`runtime`).

use axum::extract::ws::Utf8Bytes;
use tokio::sync::watch;

use super::Hub;
use super::protocol::close::SLOW;
use super::protocol::{HallInfo, ServerMsg};
use crate::domain::forum::Forum;

/// The latest version of the forum another node said it saved.
#[derive(Debug)]
pub(super) struct SavedElsewhere(watch::Sender<i64>);

impl Default for SavedElsewhere {
    fn default() -> Self {
        SavedElsewhere(watch::channel(0).0)
    }
}

impl SavedElsewhere {
    pub(super) fn subscribe(&self) -> watch::Receiver<i64> {
        self.0.subscribe()
    }
}

impl Hub {
    /// Tells every local tab of a hall whose title or stream address differs between `old`
    /// and `new`, serialised once per hall.
    pub(super) fn tell_changed_halls(&self, old: &Forum, new: &Forum) {
        for hall in &new.halls {
            let unchanged = old
                .hall(&hall.id)
                .is_some_and(|h| h.title == hall.title && h.stream_url == hall.stream_url);
            if unchanged {
                continue;
            }
            let text = Utf8Bytes::from(
                ServerMsg::Hall {
                    hall: HallInfo::of(hall),
                }
                .to_json(),
            );
            let mut told = 0;
            self.registry().for_each_in_hall(&hall.id, |h| {
                if h.offer(text.clone(), SLOW) {
                    told += 1;
                }
            });
            tracing::info!(hall = %hall.id, told, "hall changed: its open tabs told");
        }
    }

    /// Another node saved `version` of the forum (this node's own saves are run already).
    pub(super) fn forum_saved_elsewhere(&self, node: &str, version: i64) {
        if node != self.node() {
            self.saved_news().0.send_replace(version);
        }
    }
}
