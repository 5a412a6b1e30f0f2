//! Replaying the log into facts: who was connected where and when, which prompts were shown,
//! which confirms were pressed on which connection (rule 1 of the issue).
//!
//! This is the only place that reads events in order. Everything after it works on intervals,
//! so the verdicts depend on what happened, never on how the log happened to be ordered.

use std::collections::HashMap;

use crate::domain::forum::Education;
use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;

/// Index of a hall name in [`Facts::halls`].
pub type HallIx = u32;

/// A viewer's latest `viewer` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub email: String,
    pub education: Education,
    pub specialty: String,
}

/// One connection and the closed interval `[start, end]` during which it was alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnFact {
    pub id: String,
    pub hall: HallIx,
    pub start: Millis,
    /// The first `disconnect`, or else the last sign of life (heartbeat or own confirm), or else
    /// `start`.
    pub end: Millis,
    /// Whether a `disconnect` was recorded. An unclosed connection is one the server lost track
    /// of (a crash) or one still open; its life ends at its last sign of life.
    pub closed: bool,
}

impl ConnFact {
    /// Alive at `t`, both ends included (rule 4).
    pub fn alive_at(&self, t: Millis) -> bool {
        self.start <= t && t <= self.end
    }
}

/// A prompt as first announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptFact {
    pub id: String,
    pub hall: HallIx,
    pub ts: Millis,
    pub closes: Millis,
}

/// A confirm pressed by its viewer on one of their own connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmFact {
    pub ts: Millis,
    /// Index into the viewer's `conns`.
    pub conn: u32,
    /// Index into [`Facts::prompts`]; `None` when no such prompt was ever announced.
    pub prompt: Option<u32>,
    pub prompt_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewerFacts {
    pub id: String,
    pub profile: Option<Profile>,
    /// Connections in the order they were opened: a later one wins the active hall.
    pub conns: Vec<ConnFact>,
    /// Confirms in log order.
    pub confirms: Vec<ConfirmFact>,
}

/// What the log contained that cannot be credited. Counted and reported; never credited and
/// never extending a connection's life.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anomalies {
    /// A heartbeat, disconnect or confirm for a connection not opened (yet) in the log.
    pub unknown_conn: u64,
    /// A second `connect` with an id already used.
    pub reused_conn: u64,
    /// A confirm whose `viewer` is not the connection's viewer.
    pub viewer_mismatch: u64,
    /// A prompt id announced again; the first announcement stands.
    pub duplicate_prompt: u64,
    /// A heartbeat, confirm or second disconnect after the connection's disconnect.
    pub after_disconnect: u64,
    /// A confirm of a prompt never announced.
    pub unknown_prompt: u64,
    /// The first few anomalies in words, for the report.
    pub examples: Vec<String>,
}

const MAX_EXAMPLES: usize = 20;

impl Anomalies {
    pub fn total(&self) -> u64 {
        self.unknown_conn
            + self.reused_conn
            + self.viewer_mismatch
            + self.duplicate_prompt
            + self.after_disconnect
            + self.unknown_prompt
    }

    fn note(&mut self, example: impl FnOnce() -> String) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(example());
        }
    }

    /// One line per kind that occurred, in Russian.
    pub fn summary(&self) -> Vec<String> {
        let kinds = [
            (self.unknown_conn, "события неизвестного соединения"),
            (
                self.reused_conn,
                "повторные connect с уже использованным conn",
            ),
            (self.viewer_mismatch, "подтверждения чужого соединения"),
            (self.duplicate_prompt, "повторные объявления prompt"),
            (self.after_disconnect, "события после disconnect"),
            (self.unknown_prompt, "подтверждения необъявленных prompt"),
        ];
        kinds
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{what}: {n}"))
            .collect()
    }
}

/// Everything the rules need, replayed from a log.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub halls: Vec<String>,
    pub viewers: Vec<ViewerFacts>,
    /// First announcements, in log order.
    pub prompts: Vec<PromptFact>,
    pub anomalies: Anomalies,
}

impl Facts {
    pub fn hall_ix(&self, name: &str) -> Option<HallIx> {
        self.halls
            .iter()
            .position(|h| h == name)
            .map(|i| i as HallIx)
    }

    pub fn viewer(&self, id: &str) -> Option<&ViewerFacts> {
        self.viewers.iter().find(|v| v.id == id)
    }

    /// Treats every connection without a disconnect as alive until `now`: the live view of a
    /// forum in progress, where an open socket is a viewer still watching.
    pub fn extend_open_to(&mut self, now: Millis) {
        for v in &mut self.viewers {
            for c in &mut v.conns {
                if !c.closed && c.end < now {
                    c.end = now;
                }
            }
        }
    }

    /// Replays `events` in the rules' order: by `ts`, keeping the given order for equal times.
    pub fn build(events: &[Event]) -> Facts {
        let mut order: Vec<(Millis, u32)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.ts, i as u32))
            .collect();
        // Unstable sort on (ts, index) is the stable order by ts, and faster.
        order.sort_unstable();
        Replay::default().run(events, &order)
    }
}

/// State of one replay; borrows ids from the events to avoid copying them per lookup.
#[derive(Default)]
struct Replay<'a> {
    facts: Facts,
    halls: HashMap<&'a str, HallIx>,
    viewers: HashMap<&'a str, u32>,
    /// conn id → (viewer index, index in that viewer's conns).
    conns: HashMap<&'a str, (u32, u32)>,
    prompts: HashMap<&'a str, u32>,
    /// Confirms whose prompt is resolved after the replay, against the first announcements.
    pending: Vec<(u32, usize, &'a str)>,
}

impl<'a> Replay<'a> {
    fn run(mut self, events: &'a [Event], order: &[(Millis, u32)]) -> Facts {
        for &(_, i) in order {
            let e = &events[i as usize];
            self.apply(e);
        }
        for (viewer, confirm, prompt) in std::mem::take(&mut self.pending) {
            let ix = self.prompts.get(prompt).copied();
            if ix.is_none() {
                self.facts.anomalies.unknown_prompt += 1;
                self.facts
                    .anomalies
                    .note(|| format!("подтверждение необъявленного prompt «{prompt}»"));
            }
            self.facts.viewers[viewer as usize].confirms[confirm].prompt = ix;
        }
        self.facts
    }

    fn hall(&mut self, name: &'a str) -> HallIx {
        let next = self.facts.halls.len() as HallIx;
        *self.halls.entry(name).or_insert_with(|| {
            self.facts.halls.push(name.to_owned());
            next
        })
    }

    fn viewer(&mut self, id: &'a str) -> u32 {
        let next = self.facts.viewers.len() as u32;
        *self.viewers.entry(id).or_insert_with(|| {
            self.facts.viewers.push(ViewerFacts {
                id: id.to_owned(),
                ..ViewerFacts::default()
            });
            next
        })
    }

    fn apply(&mut self, e: &'a Event) {
        let ts = e.ts;
        let anomalies = &mut self.facts.anomalies;
        match &e.body {
            EventBody::Viewer {
                viewer,
                name,
                email,
                education,
                specialty,
            } => {
                let v = self.viewer(viewer);
                self.facts.viewers[v as usize].profile = Some(Profile {
                    name: name.clone(),
                    email: email.clone(),
                    education: *education,
                    specialty: specialty.clone(),
                });
            }
            EventBody::Connect { viewer, conn, hall } => {
                if self.conns.contains_key(conn.as_str()) {
                    anomalies.reused_conn += 1;
                    anomalies.note(|| format!("повторный connect для conn «{conn}»"));
                    return;
                }
                let h = self.hall(hall);
                let v = self.viewer(viewer);
                let list = &mut self.facts.viewers[v as usize].conns;
                self.conns.insert(conn, (v, list.len() as u32));
                list.push(ConnFact {
                    id: conn.clone(),
                    hall: h,
                    start: ts,
                    end: ts,
                    closed: false,
                });
            }
            EventBody::Heartbeat { conn } | EventBody::Disconnect { conn } => {
                let Some(&(v, c)) = self.conns.get(conn.as_str()) else {
                    anomalies.unknown_conn += 1;
                    anomalies.note(|| format!("{} для неизвестного conn «{conn}»", e.body.kind()));
                    return;
                };
                let fact = &mut self.facts.viewers[v as usize].conns[c as usize];
                if fact.closed {
                    anomalies.after_disconnect += 1;
                    anomalies.note(|| format!("{} после disconnect conn «{conn}»", e.body.kind()));
                    return;
                }
                fact.end = ts;
                fact.closed = matches!(e.body, EventBody::Disconnect { .. });
            }
            EventBody::Prompt {
                prompt,
                hall,
                closes,
            } => {
                if self.prompts.contains_key(prompt.as_str()) {
                    anomalies.duplicate_prompt += 1;
                    anomalies.note(|| format!("повторное объявление prompt «{prompt}»"));
                    return;
                }
                let h = self.hall(hall);
                self.prompts.insert(prompt, self.facts.prompts.len() as u32);
                self.facts.prompts.push(PromptFact {
                    id: prompt.clone(),
                    hall: h,
                    ts,
                    closes: *closes,
                });
            }
            EventBody::Confirm {
                viewer,
                conn,
                prompt,
            } => {
                let Some(&(v, c)) = self.conns.get(conn.as_str()) else {
                    anomalies.unknown_conn += 1;
                    anomalies.note(|| format!("confirm для неизвестного conn «{conn}»"));
                    return;
                };
                let owner = &mut self.facts.viewers[v as usize];
                if owner.id != *viewer {
                    anomalies.viewer_mismatch += 1;
                    anomalies.note(|| {
                        format!(
                            "confirm зрителя «{viewer}» на conn «{conn}» зрителя «{}»",
                            owner.id
                        )
                    });
                    return;
                }
                let fact = &mut owner.conns[c as usize];
                if fact.closed {
                    // Pressed after the disconnect: kept (it is alive at the disconnect instant
                    // itself), but it cannot extend a closed connection's life.
                    if ts > fact.end {
                        anomalies.after_disconnect += 1;
                        anomalies.note(|| format!("confirm после disconnect conn «{conn}»"));
                    }
                } else {
                    fact.end = ts;
                }
                self.pending.push((v, owner.confirms.len(), prompt));
                owner.confirms.push(ConfirmFact {
                    ts,
                    conn: c,
                    prompt: None,
                    prompt_id: prompt.clone(),
                });
            }
        }
    }
}
