//! What the rules know from a log: who was connected where and when, which prompts were shown,
//! which confirms were pressed and wrong answers chosen on which connection (rule 1).
//!
//! The replay itself (`replay.rs`) is the only place that reads events in order. Everything
//! after it works on intervals, so the verdicts depend on what happened, never on how the log
//! happened to be ordered.

use super::anomalies::Anomalies;
use crate::domain::forum::Education;
use crate::domain::log::Event;
use crate::domain::time::Millis;

/// Index of a hall name in [`Facts::halls`].
pub type HallIx = u32;

/// A viewer's latest `viewer` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub education: Education,
    pub specialty: &'a str,
}

/// One connection and the closed interval `[start, end]` during which it was alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnFact<'a> {
    pub id: &'a str,
    pub hall: HallIx,
    pub start: Millis,
    /// The first `disconnect`, or else the last sign of life (heartbeat or own confirm), or else
    /// `start`.
    pub end: Millis,
    /// Whether a `disconnect` was recorded. An unclosed connection is one the server lost track
    /// of (a crash) or one still open; its life ends at its last sign of life.
    pub closed: bool,
}

impl ConnFact<'_> {
    /// Alive at `t`, both ends included (rule 4).
    pub fn alive_at(&self, t: Millis) -> bool {
        self.start <= t && t <= self.end
    }
}

/// A prompt as first announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptFact<'a> {
    pub id: &'a str,
    pub hall: HallIx,
    pub ts: Millis,
    pub closes: Millis,
}

/// A confirm pressed (or a wrong answer chosen) by its viewer on one of their own connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmFact<'a> {
    pub ts: Millis,
    /// Index into the viewer's `conns`.
    pub conn: u32,
    /// Index into [`Facts::prompts`]; `None` when no such prompt was ever announced.
    pub prompt: Option<u32>,
    pub prompt_id: &'a str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewerFacts<'a> {
    pub id: &'a str,
    pub profile: Option<Profile<'a>>,
    /// Connections in the order they were opened: a later one wins the active hall.
    pub conns: Vec<ConnFact<'a>>,
    /// Confirms in log order.
    pub confirms: Vec<ConfirmFact<'a>>,
    /// Wrong answers to prompts' challenges, in log order. They are not signs of life: a
    /// connection's life is decided by connects, heartbeats, confirms and disconnects alone.
    pub wrong_answers: Vec<ConfirmFact<'a>>,
}

impl ViewerFacts<'_> {
    /// Wrong answers to prompt `prompt` (index into [`Facts::prompts`]) chosen at or before `t`.
    pub fn wrong_answers_to(&self, prompt: u32, t: Millis) -> u32 {
        self.wrong_answers
            .iter()
            .filter(|w| w.prompt == Some(prompt) && w.ts <= t)
            .count() as u32
    }
}

/// Everything the rules need, replayed from a log.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub halls: Vec<&'a str>,
    pub viewers: Vec<ViewerFacts<'a>>,
    /// First announcements, in log order.
    pub prompts: Vec<PromptFact<'a>>,
    pub anomalies: Anomalies,
}

impl<'a> Facts<'a> {
    pub fn hall_ix(&self, name: &str) -> Option<HallIx> {
        self.halls
            .iter()
            .position(|h| *h == name)
            .map(|i| i as HallIx)
    }

    pub fn viewer(&self, id: &str) -> Option<&ViewerFacts<'a>> {
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
    pub fn build(events: &'a [Event]) -> Facts<'a> {
        super::replay::Replay::new(events).run()
    }
}
