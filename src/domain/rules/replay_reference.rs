//! The replay as it was before interning in pieces and skipping the sort (kept for tests only):
//! what `fast_path_tests.rs` checks the fast replay against, fact for fact.
//!
//! Replaying a log into [`Facts`]: interning ids in file order, one sort of compact records by
//! time, then one pass with plain array lookups. The only code that reads events in order.

use rustc_hash::FxHashMap;

use super::facts::{ConfirmFact, ConnFact, Facts, Profile, PromptFact, ViewerFacts};
use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;

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
pub(super) struct Replay<'a> {
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
    pub(super) fn new(events: &'a [Event]) -> Replay<'a> {
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

    pub(super) fn run(mut self) -> Facts<'a> {
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
