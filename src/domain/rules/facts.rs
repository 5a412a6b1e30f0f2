//! Replaying the log into facts: who was connected where and when, which prompts were shown,
//! which confirms were pressed on which connection (rule 1 of the issue).
//!
//! This is the only place that reads events in order. Everything after it works on intervals,
//! so the verdicts depend on what happened, never on how the log happened to be ordered.

use rustc_hash::FxHashMap;

pub use super::anomalies::Anomalies;
use crate::domain::forum::Education;
use crate::domain::log::{Event, EventBody};
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
        Replay::new(events).run()
    }
}

const NONE: u32 = u32::MAX;

/// An event with its ids interned: 32 bytes, so millions of them sort and replay quickly
/// without touching strings or hash tables.
#[derive(Clone, Copy)]
struct Rec {
    ts: Millis,
    /// Position in the input: the tie-breaker for equal times.
    seq: u32,
    kind: Kind,
    /// Viewer index (viewer, connect, confirm, wrong answer).
    viewer: u32,
    /// Connection index (connect, heartbeat, disconnect, confirm, wrong answer) or prompt
    /// index (prompt).
    id: u32,
    /// Hall index (connect, prompt), prompt index (confirm, wrong answer) or profile index
    /// (viewer).
    other: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Viewer,
    Connect,
    Heartbeat,
    Disconnect,
    Prompt,
    Confirm,
    WrongAnswer,
}

/// A confirm or wrong answer whose prompt is looked up once the whole log is replayed.
struct Pending {
    viewer: u32,
    /// Index in the viewer's `confirms` or `wrong_answers`.
    index: usize,
    /// Interned prompt name.
    prompt: u32,
    wrong: bool,
}

/// Interning tables; they borrow ids from the events.
#[derive(Default)]
struct Names<'a> {
    map: FxHashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> Names<'a> {
    fn intern(&mut self, name: &'a str) -> u32 {
        let next = self.names.len() as u32;
        *self.map.entry(name).or_insert_with(|| {
            self.names.push(name);
            next
        })
    }
}

/// One replay of a log: interning in file order (sequential over the events), then a sort of
/// compact records, then a pass with plain array lookups.
struct Replay<'a> {
    facts: Facts<'a>,
    recs: Vec<Rec>,
    viewers: Names<'a>,
    conns: Names<'a>,
    prompts: Names<'a>,
    halls: Names<'a>,
    closes: Vec<Millis>,
    profiles: Vec<Profile<'a>>,
}

impl<'a> Replay<'a> {
    fn new(events: &'a [Event]) -> Replay<'a> {
        let mut r = Replay {
            facts: Facts::default(),
            recs: Vec::with_capacity(events.len()),
            viewers: Names::default(),
            conns: Names::default(),
            prompts: Names::default(),
            halls: Names::default(),
            closes: Vec::new(),
            profiles: Vec::new(),
        };
        // Most events name a connection; sizing the table up front avoids rehashing millions.
        r.conns.map.reserve(events.len() / 4);
        for (seq, e) in events.iter().enumerate() {
            let rec = r.intern(seq as u32, e);
            r.recs.push(rec);
        }
        r
    }

    fn intern(&mut self, seq: u32, e: &'a Event) -> Rec {
        let mut rec = Rec {
            ts: e.ts,
            seq,
            kind: Kind::Heartbeat,
            viewer: NONE,
            id: NONE,
            other: NONE,
        };
        match &e.body {
            EventBody::Viewer {
                viewer,
                name,
                email,
                education,
                specialty,
            } => {
                rec.kind = Kind::Viewer;
                rec.viewer = self.viewers.intern(viewer);
                rec.other = self.profiles.len() as u32;
                self.profiles.push(Profile {
                    name,
                    email,
                    education: *education,
                    specialty,
                });
            }
            EventBody::Connect { viewer, conn, hall } => {
                rec.kind = Kind::Connect;
                rec.viewer = self.viewers.intern(viewer);
                rec.id = self.conns.intern(conn);
                rec.other = self.halls.intern(hall);
            }
            EventBody::Heartbeat { conn } => rec.id = self.conns.intern(conn),
            EventBody::Disconnect { conn } => {
                rec.kind = Kind::Disconnect;
                rec.id = self.conns.intern(conn);
            }
            EventBody::Prompt {
                prompt,
                hall,
                closes,
            } => {
                rec.kind = Kind::Prompt;
                rec.id = self.prompts.intern(prompt);
                rec.other = self.halls.intern(hall);
                rec.viewer = self.closes.len() as u32;
                self.closes.push(*closes);
            }
            EventBody::Confirm {
                viewer,
                conn,
                prompt,
            }
            | EventBody::WrongAnswer {
                viewer,
                conn,
                prompt,
            } => {
                rec.kind = if matches!(e.body, EventBody::Confirm { .. }) {
                    Kind::Confirm
                } else {
                    Kind::WrongAnswer
                };
                rec.viewer = self.viewers.intern(viewer);
                rec.id = self.conns.intern(conn);
                rec.other = self.prompts.intern(prompt);
            }
        }
        rec
    }

    fn run(mut self) -> Facts<'a> {
        let mut recs = std::mem::take(&mut self.recs);
        recs.sort_unstable_by_key(|r| (r.ts, r.seq));
        self.facts.halls = std::mem::take(&mut self.halls.names);
        self.facts.viewers = self
            .viewers
            .names
            .iter()
            .map(|v| ViewerFacts {
                id: v,
                ..ViewerFacts::default()
            })
            .collect();
        // conn index → (viewer, index in that viewer's conns), once opened.
        let mut opened: Vec<(u32, u32)> = vec![(NONE, NONE); self.conns.names.len()];
        // prompt index → index in facts.prompts, once announced.
        let mut announced: Vec<u32> = vec![NONE; self.prompts.names.len()];
        // Confirms and wrong answers whose prompt is resolved after the replay, against the
        // first announcements.
        let mut pending: Vec<Pending> = Vec::new();
        for r in &recs {
            self.apply(r, &mut opened, &mut announced, &mut pending);
        }
        for p in pending {
            let ix = announced[p.prompt as usize];
            if ix == NONE {
                let name = self.prompts.names[p.prompt as usize];
                let what = if p.wrong {
                    "ответ на"
                } else {
                    "подтверждение"
                };
                self.facts.anomalies.unknown_prompt += 1;
                self.facts
                    .anomalies
                    .note(|| format!("{what} необъявленного prompt «{name}»"));
            }
            let owner = &mut self.facts.viewers[p.viewer as usize];
            let list = if p.wrong {
                &mut owner.wrong_answers
            } else {
                &mut owner.confirms
            };
            list[p.index].prompt = (ix != NONE).then_some(ix);
        }
        self.facts
    }

    fn apply(
        &mut self,
        r: &Rec,
        opened: &mut [(u32, u32)],
        announced: &mut [u32],
        pending: &mut Vec<Pending>,
    ) {
        let ts = r.ts;
        let anomalies = &mut self.facts.anomalies;
        let conn_name = |ix: u32| self.conns.names[ix as usize];
        match r.kind {
            Kind::Viewer => {
                self.facts.viewers[r.viewer as usize].profile =
                    Some(self.profiles[r.other as usize]);
            }
            Kind::Connect => {
                if opened[r.id as usize].0 != NONE {
                    anomalies.reused_conn += 1;
                    anomalies.note(|| format!("повторный connect для conn «{}»", conn_name(r.id)));
                    return;
                }
                let list = &mut self.facts.viewers[r.viewer as usize].conns;
                opened[r.id as usize] = (r.viewer, list.len() as u32);
                list.push(ConnFact {
                    id: conn_name(r.id),
                    hall: r.other,
                    start: ts,
                    end: ts,
                    closed: false,
                });
            }
            Kind::Heartbeat | Kind::Disconnect => {
                let kind = if r.kind == Kind::Heartbeat {
                    "heartbeat"
                } else {
                    "disconnect"
                };
                let (v, c) = opened[r.id as usize];
                if v == NONE {
                    anomalies.unknown_conn += 1;
                    anomalies
                        .note(|| format!("{kind} для неизвестного conn «{}»", conn_name(r.id)));
                    return;
                }
                let fact = &mut self.facts.viewers[v as usize].conns[c as usize];
                if fact.closed {
                    anomalies.after_disconnect += 1;
                    anomalies
                        .note(|| format!("{kind} после disconnect conn «{}»", conn_name(r.id)));
                    return;
                }
                fact.end = ts;
                fact.closed = r.kind == Kind::Disconnect;
            }
            Kind::Prompt => {
                if announced[r.id as usize] != NONE {
                    anomalies.duplicate_prompt += 1;
                    let name = self.prompts.names[r.id as usize];
                    anomalies.note(|| format!("повторное объявление prompt «{name}»"));
                    return;
                }
                announced[r.id as usize] = self.facts.prompts.len() as u32;
                self.facts.prompts.push(PromptFact {
                    id: self.prompts.names[r.id as usize],
                    hall: r.other,
                    ts,
                    closes: self.closes[r.viewer as usize],
                });
            }
            Kind::Confirm | Kind::WrongAnswer => {
                let kind = if r.kind == Kind::Confirm {
                    "confirm"
                } else {
                    "wrong_answer"
                };
                let (v, c) = opened[r.id as usize];
                if v == NONE {
                    anomalies.unknown_conn += 1;
                    anomalies
                        .note(|| format!("{kind} для неизвестного conn «{}»", conn_name(r.id)));
                    return;
                }
                if v != r.viewer {
                    anomalies.viewer_mismatch += 1;
                    let (who, owner) = (
                        self.viewers.names[r.viewer as usize],
                        self.viewers.names[v as usize],
                    );
                    anomalies.note(|| {
                        format!(
                            "{kind} зрителя «{who}» на conn «{}» зрителя «{owner}»",
                            conn_name(r.id)
                        )
                    });
                    return;
                }
                let owner = &mut self.facts.viewers[v as usize];
                let press = ConfirmFact {
                    ts,
                    conn: c,
                    prompt: None,
                    prompt_id: self.prompts.names[r.other as usize],
                };
                if r.kind == Kind::WrongAnswer {
                    // Not a sign of life (see `ViewerFacts::wrong_answers`), so it neither
                    // extends the connection nor is an anomaly after its disconnect.
                    pending.push(Pending {
                        viewer: v,
                        index: owner.wrong_answers.len(),
                        prompt: r.other,
                        wrong: true,
                    });
                    owner.wrong_answers.push(press);
                    return;
                }
                let fact = &mut owner.conns[c as usize];
                if fact.closed {
                    // Pressed after the disconnect: kept (it is alive at the disconnect instant
                    // itself), but it cannot extend a closed connection's life.
                    if ts > fact.end {
                        anomalies.after_disconnect += 1;
                        anomalies.note(|| {
                            format!("confirm после disconnect conn «{}»", conn_name(r.id))
                        });
                    }
                } else {
                    fact.end = ts;
                }
                pending.push(Pending {
                    viewer: v,
                    index: owner.confirms.len(),
                    prompt: r.other,
                    wrong: false,
                });
                owner.confirms.push(press);
            }
        }
    }
}
