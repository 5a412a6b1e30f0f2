//! The attendance log: everything the live system records, as an append-only list of events.
//!
//! The rules engine reads nothing else. The same events are what the store persists, what
//! `yavka export-log` writes and what `yavka evaluate` reads back, as JSON Lines (see `jsonl.rs`).

mod evidence;
mod instant;
pub mod jsonl;

pub use evidence::{Evidence, Hints, Input, MAX_BROWSER, bounded};
pub use instant::parse_instant;

use serde::{Deserialize, Serialize};

use crate::domain::forum::Education;
use crate::domain::time::Millis;

/// An id in the log (viewer, connection, hall, prompt): held inline up to 24 bytes, as every id
/// the server makes is, so millions of events carry their ids in the events array itself rather
/// than in as many scattered heap strings (reading them was half of the replay of a big log, and
/// allocating them a good part of reading one).
pub type Id = compact_str::CompactString;

/// One recorded event at instant `ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub ts: Millis,
    pub body: EventBody,
    /// What was observed beside a `confirm` or `connect` (reaction time, page hints, device);
    /// `None` for every other event and for logs written before it was kept. The rules never
    /// read it. Boxed: most events have none, and the engine holds millions of events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Box<Evidence>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EventBody {
    /// Registration or profile change; the latest wins.
    Viewer {
        viewer: Id,
        name: String,
        email: String,
        education: Education,
        specialty: String,
    },
    /// A connection of `viewer` opened in `hall`.
    Connect { viewer: Id, conn: Id, hall: Id },
    /// The connection was alive at `ts`.
    Heartbeat { conn: Id },
    /// The connection closed.
    Disconnect { conn: Id },
    /// A presence prompt was shown in `hall`, open until `closes`.
    Prompt {
        prompt: Id,
        hall: Id,
        closes: Millis,
    },
    /// The viewer pressed «Подтвердить участие».
    Confirm { viewer: Id, conn: Id, prompt: Id },
    /// The viewer chose a wrong answer to the prompt's challenge. Only the first
    /// `max_wrong_answers` per (viewer, prompt) are recorded; after them the prompt cannot be
    /// confirmed any more.
    #[serde(rename = "wrong_answer")]
    WrongAnswer { viewer: Id, conn: Id, prompt: Id },
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Viewer { .. } => "viewer",
            EventBody::Connect { .. } => "connect",
            EventBody::Heartbeat { .. } => "heartbeat",
            EventBody::Disconnect { .. } => "disconnect",
            EventBody::Prompt { .. } => "prompt",
            EventBody::Confirm { .. } => "confirm",
            EventBody::WrongAnswer { .. } => "wrong_answer",
        }
    }
}

impl Event {
    pub fn new(ts: Millis, body: EventBody) -> Self {
        Event {
            ts,
            body,
            evidence: None,
        }
    }

    /// An event with what was observed beside it; empty evidence is not kept.
    pub fn with_evidence(ts: Millis, body: EventBody, evidence: Evidence) -> Self {
        Event {
            ts,
            body,
            evidence: (!evidence.is_empty()).then(|| Box::new(evidence)),
        }
    }
}

/// Orders events by `ts`, keeping the original order for equal times (the log may arrive out of
/// order from several servers; the rules need one agreed order).
pub fn sort_events(events: &mut [Event]) {
    events.sort_by_key(|e| e.ts);
}
