//! Interning a log for the replay: each event becomes a 32-byte record whose ids are numbers.
//!
//! Interning is most of the replay's work on a big forum (millions of events, each naming a
//! connection by a string, looked up in a table of millions), so the log is cut into one
//! piece per core, each piece interned into its own tables at once, and the tables merged in
//! piece order. Ids are then numbered exactly as one pass over the whole file would number
//! them (first appearance), so the facts are the same whatever the number of cores. On a big
//! log the connections and viewers come already numbered for the whole log (`numbering.rs`),
//! and the pieces intern only halls and prompts.

use rustc_hash::FxHashMap;

use super::facts::Profile;
use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;

pub(super) const NONE: u32 = u32::MAX;

/// An event with its ids interned: 32 bytes, so millions of them sort and replay quickly
/// without touching strings or hash tables.
#[derive(Clone, Copy)]
pub(super) struct Rec {
    pub(super) ts: Millis,
    /// Position in the input: the tie-breaker for equal times.
    pub(super) seq: u32,
    pub(super) kind: Kind,
    /// Viewer index (viewer, connect, confirm, wrong answer).
    pub(super) viewer: u32,
    /// Connection index (connect, heartbeat, disconnect, confirm, wrong answer) or prompt
    /// index (prompt).
    pub(super) id: u32,
    /// Hall index (connect, prompt), prompt index (confirm, wrong answer) or profile index
    /// (viewer).
    pub(super) other: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Viewer,
    Connect,
    Heartbeat,
    Disconnect,
    Prompt,
    Confirm,
    WrongAnswer,
}

/// Interning tables; they borrow ids from the events.
#[derive(Default)]
pub(super) struct Names<'a> {
    /// Ids of up to [`Short::MAX`] bytes (every id the server makes), held in the table itself.
    short: FxHashMap<Short, u32>,
    /// Longer ids, compared through the event's own string.
    long: FxHashMap<&'a str, u32>,
    pub(super) names: Vec<&'a str>,
}

/// An id short enough to be its own hash key: its bytes and its length in three words. The
/// table of a big log's connection ids is tens of megabytes, visited in no order; a key held
/// inline is compared where it is found, where a `&str` key costs a second random access to
/// the event's string (with `memcmp`, 12 % of the replay's profile).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Short([u64; 3]);

impl Short {
    /// The longest id held inline: the last byte holds the length.
    const MAX: usize = 23;

    /// The empty id's key.
    pub(super) const EMPTY: Short = Short([0; 3]);

    pub(super) fn new(name: &str) -> Option<Short> {
        let b = name.as_bytes();
        if b.len() > Short::MAX {
            return None;
        }
        let mut bytes = [0u8; 24];
        // Eight bytes at a time, then one at a time: fixed-size moves, where copying a slice of
        // any length was a call to `memcpy` for every event (a fifth of the interning).
        let mut i = 0;
        while i + 8 <= b.len() {
            bytes[i..i + 8].copy_from_slice(&b[i..i + 8]);
            i += 8;
        }
        while i < b.len() {
            bytes[i] = b[i];
            i += 1;
        }
        bytes[23] = b.len() as u8;
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        Some(Short([word(0), word(1), word(2)]))
    }
}

impl std::hash::Hash for Short {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One well-mixed word. Fed the three words as they are, Fx's multiply carries a
        // difference only towards the high bits, and ids that differ in a digit near the end
        // of a word collided in the table's buckets and tags (the first try took 28 % of the
        // replay in `intern`).
        state.write_u64(self.mixed());
    }
}

impl Short {
    /// The key's bytes in one well-mixed word.
    pub(super) fn mixed(&self) -> u64 {
        let [a, b, c] = self.0;
        mix(a ^ mix(b ^ mix(c ^ 0x243f_6a88_85a3_08d3)))
    }
}

/// Multiplies and folds the 128-bit product's halves: every input bit reaches every output bit.
fn mix(x: u64) -> u64 {
    let p = u128::from(x) * 0x9e37_79b9_7f4a_7c15_u128;
    (p as u64) ^ ((p >> 64) as u64)
}

/// Below this many events a log is interned on one thread: starting more costs more.
pub(super) const MIN_PIECE: usize = 50_000;

impl<'a> Names<'a> {
    fn intern(&mut self, name: &'a str) -> u32 {
        let next = self.names.len() as u32;
        let names = &mut self.names;
        let ix = match Short::new(name) {
            Some(key) => *self.short.entry(key).or_insert(next),
            None => *self.long.entry(name).or_insert(next),
        };
        if ix == next {
            names.push(name);
        }
        ix
    }

    fn reserve(&mut self, n: usize) {
        self.short.reserve(n);
    }

    /// Adds `other`'s names not yet known, in `other`'s order, and returns where each of
    /// `other`'s ids went.
    fn absorb(&mut self, other: &Names<'a>) -> Vec<u32> {
        other.names.iter().map(|n| self.intern(n)).collect()
    }
}

/// One piece of the log interned on its own: records with the piece's own ids.
#[derive(Default)]
pub(super) struct Piece<'a> {
    pub(super) recs: Vec<Rec>,
    pub(super) viewers: Names<'a>,
    pub(super) conns: Names<'a>,
    pub(super) prompts: Names<'a>,
    pub(super) halls: Names<'a>,
    pub(super) closes: Vec<Millis>,
    pub(super) profiles: Vec<Profile<'a>>,
    /// Whether connections and viewers came numbered for the whole log (`numbering.rs`)
    /// rather than interned into `conns` and `viewers` here.
    numbered: bool,
}

impl<'a> Piece<'a> {
    /// Interns `events`, the first of which is event number `first` of the log. `numbered`
    /// holds every event's connection and viewer numbers for the whole log, when already
    /// numbered.
    pub(super) fn new(
        events: &'a [Event],
        first: usize,
        numbered: Option<(&[u32], &[u32])>,
    ) -> Piece<'a> {
        let mut p = Piece {
            recs: Vec::with_capacity(events.len()),
            numbered: numbered.is_some(),
            ..Piece::default()
        };
        match numbered {
            Some((conns, viewers)) => {
                for (k, e) in events.iter().enumerate() {
                    let ev = first + k;
                    let mut rec = p.intern(ev as u32, e, false);
                    if conns[ev] != NONE {
                        rec.id = conns[ev];
                    }
                    if viewers[ev] != NONE {
                        rec.viewer = viewers[ev];
                    }
                    p.recs.push(rec);
                }
            }
            None => {
                // Most events name a connection; sizing the table up front avoids rehashing
                // millions.
                p.conns.reserve(events.len() / 4);
                for (k, e) in events.iter().enumerate() {
                    let rec = p.intern((first + k) as u32, e, true);
                    p.recs.push(rec);
                }
            }
        }
        p
    }

    /// Brings `other` (the next piece of the log) into this one's numbering.
    pub(super) fn absorb(&mut self, mut other: Piece<'a>) {
        let (viewers, conns) = if self.numbered {
            (Vec::new(), Vec::new())
        } else {
            (
                self.viewers.absorb(&other.viewers),
                self.conns.absorb(&other.conns),
            )
        };
        let prompts = self.prompts.absorb(&other.prompts);
        let halls = self.halls.absorb(&other.halls);
        let (closes, profiles) = (self.closes.len() as u32, self.profiles.len() as u32);
        self.closes.append(&mut other.closes);
        self.profiles.append(&mut other.profiles);
        let at = |map: &[u32], ix: u32| if ix == NONE { NONE } else { map[ix as usize] };
        // Connections and viewers numbered for the whole log keep their numbers.
        let conn = |ix: u32| if self.numbered { ix } else { at(&conns, ix) };
        let viewer = |ix: u32| if self.numbered { ix } else { at(&viewers, ix) };
        for r in &mut other.recs {
            match r.kind {
                Kind::Viewer => {
                    r.viewer = viewer(r.viewer);
                    r.other += profiles;
                }
                Kind::Prompt => {
                    r.id = at(&prompts, r.id);
                    r.other = at(&halls, r.other);
                    r.viewer += closes;
                }
                Kind::Connect => {
                    r.viewer = viewer(r.viewer);
                    r.id = conn(r.id);
                    r.other = at(&halls, r.other);
                }
                Kind::Heartbeat | Kind::Disconnect => r.id = conn(r.id),
                Kind::Confirm | Kind::WrongAnswer => {
                    r.viewer = viewer(r.viewer);
                    r.id = conn(r.id);
                    r.other = at(&prompts, r.other);
                }
            }
        }
        self.recs.append(&mut other.recs);
    }

    fn conn(&mut self, name: &'a str, intern: bool) -> u32 {
        if intern {
            self.conns.intern(name)
        } else {
            NONE
        }
    }

    fn viewer(&mut self, name: &'a str, intern: bool) -> u32 {
        if intern {
            self.viewers.intern(name)
        } else {
            NONE
        }
    }

    /// One event's record; its connection and viewer are interned only with `conns` (else
    /// they are left `NONE` for the caller to fill).
    fn intern(&mut self, seq: u32, e: &'a Event, conns: bool) -> Rec {
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
                rec.viewer = self.viewer(viewer, conns);
                rec.other = self.profiles.len() as u32;
                self.profiles.push(Profile {
                    name,
                    email,
                    education: *education,
                    specialty,
                });
            }
            EventBody::Connect {
                viewer,
                conn: c,
                hall,
            } => {
                rec.kind = Kind::Connect;
                rec.viewer = self.viewer(viewer, conns);
                rec.id = self.conn(c, conns);
                rec.other = self.halls.intern(hall);
            }
            EventBody::Heartbeat { conn: c } => rec.id = self.conn(c, conns),
            EventBody::Disconnect { conn: c } => {
                rec.kind = Kind::Disconnect;
                rec.id = self.conn(c, conns);
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
                conn: c,
                prompt,
            }
            | EventBody::WrongAnswer {
                viewer,
                conn: c,
                prompt,
            } => {
                rec.kind = if matches!(e.body, EventBody::Confirm { .. }) {
                    Kind::Confirm
                } else {
                    Kind::WrongAnswer
                };
                rec.viewer = self.viewer(viewer, conns);
                rec.id = self.conn(c, conns);
                rec.other = self.prompts.intern(prompt);
            }
        }
        rec
    }
}
