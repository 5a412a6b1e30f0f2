//! What hubs tell each other through the broker: the internal payloads, as JSON.
//!
//! Each node's hub subscribes to everything and routes by content; a message caused by this
//! node comes back to it too, which is harmless because applying it is idempotent — except a
//! viewer's events, which the node applies itself and sends only to the others
//! (`Hub::publish_viewer_event`).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::HallStats;
use super::prompts::PromptEntry;
use crate::broker::{BusMessage, Topic};
use crate::domain::log::Event;
use crate::domain::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BusEvent {
    /// A prompt was fired (already recorded durably) in `hall`.
    Prompt {
        prompt: String,
        hall: String,
        ts: Millis,
        closes: Millis,
    },
    /// One of `viewer`'s connect, disconnect or confirm events (already recorded), caused on
    /// `node` (empty from nodes of older versions).
    Viewer {
        viewer: String,
        event: Event,
        #[serde(default)]
        node: String,
    },
    /// `viewer`'s link was revoked: close their sockets everywhere.
    Revoked { viewer: String },
    /// A node's live figures, every few seconds; also its sign of life.
    NodeStats {
        node: String,
        halls: Vec<HallStats>,
        prompts: Vec<PromptEntry>,
    },
    /// `node` saved `version` of the forum (an organiser's edit): every other node reloads it
    /// from the store, so a fixed stream address reaches its tabs too.
    ForumSaved { node: String, version: i64 },
}

impl BusEvent {
    pub fn topic(&self) -> Topic {
        match self {
            BusEvent::Prompt { hall, .. } => Topic::Hall(hall.clone()),
            BusEvent::Viewer { viewer, .. } | BusEvent::Revoked { viewer } => {
                Topic::Viewer(viewer.clone())
            }
            BusEvent::NodeStats { .. } | BusEvent::ForumSaved { .. } => Topic::Forum,
        }
    }

    pub fn to_message(&self) -> BusMessage {
        BusMessage {
            topic: self.topic(),
            payload: Bytes::from(serde_json::to_vec(self).expect("bus events always serialise")),
        }
    }

    pub fn from_message(msg: &BusMessage) -> Result<BusEvent, serde_json::Error> {
        serde_json::from_slice(&msg.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::log::EventBody;

    #[test]
    fn round_trips_and_routes_by_topic() {
        let events = [
            BusEvent::Prompt {
                prompt: "p".into(),
                hall: "h1".into(),
                ts: 1,
                closes: 2,
            },
            BusEvent::Viewer {
                viewer: "v".into(),
                event: Event::new(3, EventBody::Disconnect { conn: "c".into() }),
                node: "n1".into(),
            },
            BusEvent::Revoked { viewer: "v".into() },
            BusEvent::ForumSaved {
                node: "n2".into(),
                version: 3,
            },
        ];
        for e in events {
            let m = e.to_message();
            assert_eq!(BusEvent::from_message(&m).unwrap(), e);
        }
        assert_eq!(
            BusEvent::Revoked { viewer: "v".into() }.topic(),
            Topic::Viewer("v".into())
        );
        let raw = br#"{"kind":"prompt","prompt":"x","hall":"h2","ts":5,"closes":9}"#;
        let m = BusMessage {
            topic: Topic::Hall("h2".into()),
            payload: Bytes::from_static(raw),
        };
        assert!(matches!(
            BusEvent::from_message(&m).unwrap(),
            BusEvent::Prompt { closes: 9, .. }
        ));
    }
}
