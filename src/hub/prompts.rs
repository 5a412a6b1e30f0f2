//! The forum's prompts known to this node: loaded from the store (from the start of the day) at
//! first need, then every prompt heard from the broker. A day holds a few dozen at most, so they
//! all stay in memory, with this node's delivery and confirm counts for the organiser's screen.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;

use super::challenge;
use super::protocol::PromptMsg;

/// A prompt this node knows, with its delivery figures; `/api/org/stats` shows it as is, and
/// nodes send each other theirs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PromptEntry {
    pub id: String,
    pub hall: String,
    pub ts: Millis,
    pub closes: Millis,
    /// Sent to this many local connections.
    pub delivered: u64,
    /// Confirmed on this node this many times.
    pub confirmed: u64,
    /// Whether this node has sent it to its connections (once per node).
    #[serde(skip)]
    pub fanned_out: bool,
}

impl PromptEntry {
    /// Open at `now`, both ends included (rule 4).
    pub fn open_at(&self, now: Millis) -> bool {
        self.ts <= now && now <= self.closes
    }

    pub fn to_msg(&self) -> PromptMsg {
        let (challenge, variant) = challenge::for_prompt(&self.id);
        PromptMsg {
            id: self.id.clone(),
            hall: self.hall.clone(),
            ts: self.ts,
            closes: self.closes,
            challenge,
            variant,
        }
    }

    pub fn to_event(&self) -> Event {
        Event::new(
            self.ts,
            EventBody::Prompt {
                prompt: self.id.as_str().into(),
                hall: self.hall.as_str().into(),
                closes: self.closes,
            },
        )
    }
}

#[derive(Debug, Default)]
pub struct PromptBook {
    entries: Vec<PromptEntry>,
    index: HashMap<String, usize>,
    /// Each hall's prompt events as the tallies read them, built on first ask and dropped
    /// when a prompt is added: every tally between two prompts shares one copy.
    hall_events: HashMap<String, Arc<[Event]>>,
}

impl PromptBook {
    /// Adds a prompt unless known (the first announcement stands, as in the rules).
    pub fn add(&mut self, id: &str, hall: &str, ts: Millis, closes: Millis) -> &mut PromptEntry {
        let next = self.entries.len();
        let i = *self.index.entry(id.to_owned()).or_insert(next);
        if i == next {
            self.hall_events.remove(hall);
            self.entries.push(PromptEntry {
                id: id.to_owned(),
                hall: hall.to_owned(),
                ts,
                closes,
                delivered: 0,
                confirmed: 0,
                fanned_out: false,
            });
        }
        &mut self.entries[i]
    }

    /// Adds the prompt events among `events`, read from the log, as already delivered (by
    /// this node before it knew them, or by another node): a late broker echo must not send
    /// them again. Returns how many were new.
    pub fn merge(&mut self, events: &[Event]) -> usize {
        let before = self.entries.len();
        for e in events {
            if let EventBody::Prompt {
                prompt,
                hall,
                closes,
            } = &e.body
            {
                self.add(prompt, hall, e.ts, *closes).fanned_out = true;
            }
        }
        self.entries.len() - before
    }

    pub fn get(&self, id: &str) -> Option<&PromptEntry> {
        self.index.get(id).map(|&i| &self.entries[i])
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut PromptEntry> {
        self.index.get(id).map(|&i| &mut self.entries[i])
    }

    pub fn entries(&self) -> &[PromptEntry] {
        &self.entries
    }

    /// The prompt events of `hall`, for the rules; shared until the hall's next prompt.
    pub fn hall_events(&mut self, hall: &str) -> Arc<[Event]> {
        if let Some(events) = self.hall_events.get(hall) {
            return events.clone();
        }
        let events: Arc<[Event]> = self
            .entries
            .iter()
            .filter(|p| p.hall == hall)
            .map(PromptEntry::to_event)
            .collect();
        self.hall_events.insert(hall.to_owned(), events.clone());
        events
    }

    /// Prompts of `hall` open at `now`, oldest first.
    pub fn open_in(&self, hall: &str, now: Millis) -> Vec<&PromptEntry> {
        self.entries
            .iter()
            .filter(|p| p.hall == hall && p.open_at(now))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_announcement_stands() {
        let mut b = PromptBook::default();
        b.add("p1", "h1", 10, 20).delivered = 3;
        b.add("p1", "h2", 99, 200);
        let p = b.get("p1").unwrap();
        assert_eq!(
            (p.hall.as_str(), p.ts, p.closes, p.delivered),
            ("h1", 10, 20, 3)
        );
        let n = b.merge(&[
            Event::new(
                15,
                EventBody::Prompt {
                    prompt: "p1".into(),
                    hall: "h1".into(),
                    closes: 20,
                },
            ),
            Event::new(
                30,
                EventBody::Prompt {
                    prompt: "p2".into(),
                    hall: "h2".into(),
                    closes: 40,
                },
            ),
            Event::new(31, EventBody::Heartbeat { conn: "c".into() }),
        ]);
        assert_eq!(n, 1);
        assert_eq!(b.entries().len(), 2);
        assert!(
            b.get("p2").unwrap().fanned_out,
            "merged from the log: delivered already"
        );
    }

    #[test]
    fn open_prompts_include_both_ends() {
        let mut b = PromptBook::default();
        b.add("p1", "h1", 10, 20);
        b.add("p2", "h2", 10, 20);
        assert_eq!(b.open_in("h1", 9).len(), 0);
        assert_eq!(b.open_in("h1", 10).len(), 1);
        assert_eq!(b.open_in("h1", 20).len(), 1);
        assert_eq!(b.open_in("h1", 21).len(), 0);
        assert_eq!(b.hall_events("h2").len(), 1);
    }

    #[test]
    fn a_halls_events_are_shared_until_its_next_prompt() {
        let mut b = PromptBook::default();
        b.add("p1", "h1", 10, 20);
        let first = b.hall_events("h1");
        assert!(Arc::ptr_eq(&first, &b.hall_events("h1")));
        b.add("p1", "h1", 10, 20);
        assert!(
            Arc::ptr_eq(&first, &b.hall_events("h1")),
            "a known prompt changes nothing"
        );
        b.add("p2", "h1", 30, 40);
        let second = b.hall_events("h1");
        assert_eq!(second.len(), 2, "a new prompt is seen at once");
        assert_eq!(second[1].ts, 30);
    }
}
