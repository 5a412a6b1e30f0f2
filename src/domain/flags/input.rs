//! The flags' input, read from the attendance log: each recorded answer with its evidence, and
//! each connection with its device.
//!
//! Only events that carry evidence are turned into input. A log written before evidence was
//! kept yields nothing, so it raises no flag: a flag must rest on something observed, never on
//! the absence of a record.

use rustc_hash::FxHashSet;

use super::{Answer, Connection};
use crate::domain::log::{Event, EventBody};

/// The answers and connections of `events` (any order) that carry evidence.
pub fn inputs(events: &[Event]) -> (Vec<Answer>, Vec<Connection>) {
    let mut answers = Vec::new();
    let mut connections = Vec::new();
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    for e in events {
        let Some(ev) = e.evidence.as_deref() else {
            continue;
        };
        match &e.body {
            EventBody::Confirm {
                viewer,
                conn,
                prompt,
            } => answers.push(Answer {
                viewer: viewer.to_string(),
                prompt: prompt.to_string(),
                conn: conn.to_string(),
                at: e.ts,
                reaction_ms: ev.reaction_ms,
                hints: ev.hints,
            }),
            // A connect is recorded once; a repeated one (a retried batch read twice) is not
            // a second connection.
            EventBody::Connect { viewer, conn, .. } if seen.insert(conn) => {
                connections.push(Connection {
                    viewer: viewer.to_string(),
                    conn: conn.to_string(),
                    device: ev.device(),
                    page_loaded: ev.page_loaded,
                });
            }
            _ => {}
        }
    }
    (answers, connections)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::log::{Evidence, Hints, Input};

    #[test]
    fn only_events_with_evidence_become_input() {
        let hints = Hints {
            trusted: true,
            input: Input::Pointer,
            visible: true,
            focused: true,
            rendered: true,
        };
        let events = vec![
            Event::with_evidence(
                1_000,
                EventBody::Connect {
                    viewer: "v".into(),
                    conn: "c".into(),
                    hall: "h".into(),
                },
                Evidence {
                    address: Some("198.51.100.7".into()),
                    browser: Some("Firefox".into()),
                    page_loaded: Some(true),
                    ..Evidence::default()
                },
            ),
            Event::new(
                1_500,
                EventBody::Connect {
                    viewer: "old".into(),
                    conn: "o".into(),
                    hall: "h".into(),
                },
            ),
            Event::with_evidence(
                2_000,
                EventBody::Confirm {
                    viewer: "v".into(),
                    conn: "c".into(),
                    prompt: "p".into(),
                },
                Evidence {
                    reaction_ms: Some(1_800),
                    hints: Some(hints),
                    ..Evidence::default()
                },
            ),
            Event::new(
                2_500,
                EventBody::Confirm {
                    viewer: "old".into(),
                    conn: "o".into(),
                    prompt: "p".into(),
                },
            ),
        ];
        let (answers, connections) = inputs(&events);
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].reaction_ms, Some(1_800));
        assert_eq!(answers[0].hints, Some(hints));
        assert_eq!(connections.len(), 1);
        assert_eq!(
            connections[0].device.as_deref(),
            Some("198.51.100.7 · Firefox")
        );
        assert_eq!(connections[0].page_loaded, Some(true));
    }
}
