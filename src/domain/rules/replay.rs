//! Replaying a log into [`Facts`]: numbering a big log's connections and viewers
//! (`numbering.rs`), interning the other ids (`intern.rs`), putting the compact records in
//! time order, then one pass with plain array lookups. The only code that reads events in order.
//! A log already in time order (as every export is written) is checked and not sorted again.

use super::facts::{ConfirmFact, ConnFact, Facts, Profile, PromptFact, ViewerFacts};
use super::intern::{Kind, MIN_PIECE, NONE, Names, Piece, Rec};
use super::numbering::{self, Order, TOUCH_AHEAD};
use crate::domain::log::Event;
use crate::domain::time::Millis;

/// A confirm or wrong answer whose prompt is looked up once the whole log is replayed.
struct Pending {
    viewer: u32,
    /// Index in the viewer's `confirms` or `wrong_answers`.
    index: usize,
    /// Interned prompt name.
    prompt: u32,
    wrong: bool,
}

/// From this many events on, connections are numbered for the whole log at once
/// (`conns.rs`): below it, the tables of one pass stay in the cache anyway.
const NUMBER_ALL_FROM: usize = 200_000;

/// One replay of a log: its interned records and tables, then the facts made from them.
pub(super) struct Replay<'a> {
    facts: Facts<'a>,
    recs: Vec<Rec>,
    /// Viewer ids by number.
    viewers: Vec<&'a str>,
    /// Connection ids by number.
    conns: Vec<&'a str>,
    prompts: Names<'a>,
    halls: Names<'a>,
    closes: Vec<Millis>,
    profiles: Vec<Profile<'a>>,
}

impl<'a> Replay<'a> {
    pub(super) fn new(events: &'a [Event]) -> Replay<'a> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let size = events.len().div_ceil(threads).max(MIN_PIECE);
        // Partitions of about 8,000 events: each one's table stays in the core's cache.
        let numbering =
            (events.len() >= NUMBER_ALL_FROM).then(|| (events.len() / 8192).max(2).ilog2().min(10));
        Replay::in_pieces(events, size, numbering.map(|bits| (threads, bits)))
    }

    /// Interns `events` in pieces of `size` events, one thread each; with `numbering`
    /// (threads, partition bits), connections and viewers are numbered for the whole log first.
    pub(super) fn in_pieces(
        events: &'a [Event],
        size: usize,
        numbering: Option<(usize, u32)>,
    ) -> Replay<'a> {
        let numbered = numbering.and_then(|how| {
            let kinds = [
                (numbering::conn_of as _, Order::Any),
                (numbering::viewer_of as _, Order::First),
            ];
            let mut both = numbering::number(events, &kinds, how)?;
            let viewers = both.pop()?;
            Some((both.pop()?, viewers))
        });
        let ids = numbered
            .as_ref()
            .map(|(c, v)| (&c.of_event[..], &v.of_event[..]));
        let mut pieces: Vec<Piece<'a>> = if events.len() <= size {
            vec![Piece::new(events, 0, ids)]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = events
                    .chunks(size)
                    .enumerate()
                    .map(|(n, part)| scope.spawn(move || Piece::new(part, n * size, ids)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a replay worker panicked"))
                    .collect()
            })
        };
        let rest = pieces.split_off(1);
        let mut all = pieces.pop().unwrap_or_default();
        all.recs.reserve(events.len() - all.recs.len());
        for p in rest {
            all.absorb(p);
        }
        let (conns, viewers) = match numbered {
            Some((c, v)) => (c.names, v.names),
            None => (all.conns.names, all.viewers.names),
        };
        Replay {
            facts: Facts::default(),
            recs: all.recs,
            viewers,
            conns,
            prompts: all.prompts,
            halls: all.halls,
            closes: all.closes,
            profiles: all.profiles,
        }
    }

    pub(super) fn run(mut self) -> Facts<'a> {
        let mut recs = std::mem::take(&mut self.recs);
        // `seq` follows the input, so a log in time order is already in (ts, seq) order.
        if !recs.is_sorted_by_key(|r| r.ts) {
            recs.sort_unstable_by_key(|r| (r.ts, r.seq));
        }
        self.facts.halls = std::mem::take(&mut self.halls.names);
        // Each viewer's connections and confirms, counted first so that each list is made
        // once at its size rather than grown (and copied) as the replay finds them.
        let mut counts = vec![(0u32, 0u32); self.viewers.len()];
        for r in &recs {
            match r.kind {
                Kind::Connect => counts[r.viewer as usize].0 += 1,
                Kind::Confirm => counts[r.viewer as usize].1 += 1,
                _ => {}
            }
        }
        self.facts.viewers = self
            .viewers
            .iter()
            .zip(counts)
            .map(|(v, (conns, confirms))| ViewerFacts {
                id: v,
                conns: Vec::with_capacity(conns as usize),
                confirms: Vec::with_capacity(confirms as usize),
                ..ViewerFacts::default()
            })
            .collect();
        // conn index → (viewer, index in that viewer's conns), once opened.
        let mut opened: Vec<(u32, u32)> = vec![(NONE, NONE); self.conns.len()];
        // prompt index → index in facts.prompts, once announced.
        let mut announced: Vec<u32> = vec![NONE; self.prompts.names.len()];
        // Confirms and wrong answers whose prompt is resolved after the replay, against the
        // first announcements.
        let mut pending: Vec<Pending> = Vec::new();
        for chunk in recs.chunks(TOUCH_AHEAD) {
            // The connections' slots, read ahead at once: a log in time order visits them in
            // no order, and reads with nothing between them are waited for together.
            let mut x = 0;
            for r in chunk.iter().filter(|r| r.kind != Kind::Prompt) {
                x ^= opened.get(r.id as usize).map_or(0, |o| o.0);
            }
            std::hint::black_box(x);
            for r in chunk {
                self.apply(r, &mut opened, &mut announced, &mut pending);
            }
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
        let conn_name = |ix: u32| self.conns[ix as usize];
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
                    let (who, owner) = (self.viewers[r.viewer as usize], self.viewers[v as usize]);
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
