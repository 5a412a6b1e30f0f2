//! Numbering a big log's connection and viewer ids all at once, before its pieces are
//! interned.
//!
//! A forum of 100,000 viewers names 1.8 million connections, each four times on average, and a
//! log in time order names them in no order at all: looking each up in one table of them all
//! (tens of megabytes) was a cache miss per event and two thirds of the replay. Here each
//! (id, event) pair is first dealt, on every core, into one of a few hundred partitions by the
//! id's hash, then each partition is numbered with a table small enough to stay in the core's
//! cache. Connection numbers are internal to the replay (facts name a connection by its id),
//! so they are dense, partition after partition; viewers are then renumbered in order of first
//! appearance, the order of [`super::Facts::viewers`].

use std::sync::atomic::{AtomicU32, Ordering};

use rustc_hash::FxHashMap;

use super::intern::{NONE, Short};
use crate::domain::log::{Event, EventBody};

/// Every event's number, and each number's id.
pub(super) struct Numbered<'a> {
    /// By event index; `NONE` for an event naming no such id.
    pub(super) of_event: Vec<u32>,
    pub(super) names: Vec<&'a str>,
}

/// The connection an event names, if any.
pub(super) fn conn_of(e: &Event) -> Option<&str> {
    match &e.body {
        EventBody::Connect { conn, .. }
        | EventBody::Heartbeat { conn }
        | EventBody::Disconnect { conn }
        | EventBody::Confirm { conn, .. }
        | EventBody::WrongAnswer { conn, .. } => Some(conn),
        EventBody::Viewer { .. } | EventBody::Prompt { .. } => None,
    }
}

/// The viewer an event names, if any.
pub(super) fn viewer_of(e: &Event) -> Option<&str> {
    match &e.body {
        EventBody::Viewer { viewer, .. }
        | EventBody::Connect { viewer, .. }
        | EventBody::Confirm { viewer, .. }
        | EventBody::WrongAnswer { viewer, .. } => Some(viewer),
        EventBody::Heartbeat { .. } | EventBody::Disconnect { .. } | EventBody::Prompt { .. } => {
            None
        }
    }
}

/// Which id of an event is numbered.
type IdOf = fn(&Event) -> Option<&str>;

/// The order of the numbers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    /// Any: partition after partition.
    Any,
    /// By first appearance in the log, as one pass over it would number them.
    First,
}

/// One thread's share of the log dealt into partitions: short ids with their event index, and
/// the events naming a long id (numbered apart, through their strings).
struct Dealt {
    parts: Vec<Vec<(Short, u32)>>,
    long: Vec<u32>,
}

/// Deals one thread's share of the log, once for each kind of id in `id_of`: one pass over
/// the events for all of them.
fn deal(events: &[Event], first: usize, bits: u32, id_of: &[IdOf]) -> Vec<Dealt> {
    let n = 1usize << bits;
    // Most events name a connection: one allocation per partition, with a little slack.
    let each = events.len() / n + events.len() / (8 * n) + 8;
    let mut dealt: Vec<Dealt> = id_of
        .iter()
        .map(|_| Dealt {
            parts: (0..n).map(|_| Vec::with_capacity(each)).collect(),
            long: Vec::new(),
        })
        .collect();
    // Ids are held in the events (`log::Id`), so this is one pass in order over the events.
    for (k, e) in events.iter().enumerate() {
        let ev = (first + k) as u32;
        for (d, f) in dealt.iter_mut().zip(id_of) {
            let Some(name) = f(e) else { continue };
            match Short::new(name) {
                Some(key) => d.parts[(key.mixed() >> (64 - bits)) as usize].push((key, ev)),
                None => d.long.push(ev),
            }
        }
    }
    dealt
}

/// Records whose connection slots the replay reads ahead at once (see `replay.rs`).
pub(super) const TOUCH_AHEAD: usize = 16;

/// An open-addressing table of one partition's ids; indexed by the low bits of the hash, which
/// the partition (its high bits) leaves free.
struct Table {
    slots: Vec<(Short, u32)>,
    len: usize,
}

impl Table {
    fn new(entries: usize) -> Table {
        // An id is named about four times, so half the entries is about twice the ids.
        let size = (entries / 2).next_power_of_two().max(16);
        Table {
            slots: vec![(Short::EMPTY, NONE); size],
            len: 0,
        }
    }

    /// The number of `key`, `next` if it is new.
    fn get_or_insert(&mut self, key: Short, next: u32) -> u32 {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = key.mixed() as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.1 == NONE {
                *slot = (key, next);
                self.len += 1;
                return next;
            }
            if slot.0 == key {
                return slot.1;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        *self = Table {
            slots: vec![(Short::EMPTY, NONE); old.len() * 2],
            len: 0,
        };
        for (key, ix) in old.into_iter().filter(|s| s.1 != NONE) {
            self.get_or_insert(key, ix);
        }
    }
}

/// One partition's ids, each with the first event naming it.
type Ids<'a> = Vec<(&'a str, u32)>;

/// Numbers partition `p` of every thread's share (in log order), writing each event's number
/// within the partition, tagged with `p`, into `of_event`. Returns the partition's ids.
fn number_part<'a>(
    (events, id_of): (&'a [Event], IdOf),
    dealt: &[&Dealt],
    p: usize,
    tag: u32,
    of_event: &[AtomicU32],
) -> Ids<'a> {
    let entries: usize = dealt.iter().map(|d| d.parts[p].len()).sum();
    let mut table = Table::new(entries);
    let mut names = Vec::new();
    for &(key, ev) in dealt.iter().flat_map(|d| &d.parts[p]) {
        let ix = table.get_or_insert(key, names.len() as u32);
        if ix as usize == names.len() {
            names.push((name(events, id_of, ev), ev));
        }
        of_event[ev as usize].store(tag | ix, Ordering::Relaxed);
    }
    names
}

fn name(events: &[Event], id_of: IdOf, ev: u32) -> &str {
    id_of(&events[ev as usize]).expect("dealt events name an id")
}

/// Numbers each kind of id (`id_of` finds them, numbered in its `Order`) in `events`, on
/// `threads` threads, in `1 << bits` partitions. `None` if a partition would hold more events
/// than its numbers can tell apart (never on a real log: more than two million events on one
/// of a thousand hashes).
pub(super) fn number<'a>(
    events: &'a [Event],
    kinds: &[(IdOf, Order)],
    (threads, bits): (usize, u32),
) -> Option<Vec<Numbered<'a>>> {
    assert!((1..=10).contains(&bits), "partition bits: {bits}");
    let threads = threads.max(1);
    let size = events.len().div_ceil(threads).max(1);
    let id_of: Vec<IdOf> = kinds.iter().map(|(f, _)| *f).collect();
    let dealt: Vec<Vec<Dealt>> = std::thread::scope(|scope| {
        let handles: Vec<_> = events
            .chunks(size)
            .enumerate()
            .map(|(t, part)| {
                let id_of = &id_of;
                scope.spawn(move || deal(part, t * size, bits, id_of))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a numbering worker panicked"))
            .collect()
    });
    kinds
        .iter()
        .enumerate()
        .map(|(k, &(id_of, order))| {
            let dealt: Vec<&Dealt> = dealt.iter().map(|d| &d[k]).collect();
            number_dealt((events, id_of), &dealt, order, (threads, bits))
        })
        .collect()
}

/// Numbers one kind of id, dealt.
fn number_dealt<'a>(
    (events, id_of): (&'a [Event], IdOf),
    dealt: &[&Dealt],
    order: Order,
    (threads, bits): (usize, u32),
) -> Option<Numbered<'a>> {
    // An event's number within its partition, tagged with the partition in the high bits
    // (one more partition than dealt: the long ids).
    let local_bits = 32 - (bits + 1);
    let fits = |n: usize| n < (1 << local_bits);
    let size = events.len().div_ceil(threads).max(1);
    let parts = 1usize << bits;
    let entries = |p: usize| dealt.iter().map(|d| d.parts[p].len()).sum::<usize>();
    let long: usize = dealt.iter().map(|d| d.long.len()).sum();
    if !(0..parts).all(|p| fits(entries(p))) || !fits(long) {
        return None;
    }
    let of_event: Vec<AtomicU32> = (0..events.len()).map(|_| AtomicU32::new(NONE)).collect();
    let mut names: Vec<Ids> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (dealt, of_event) = (&dealt, &of_event);
                scope.spawn(move || {
                    (t..parts)
                        .step_by(threads)
                        .map(|p| {
                            let tag = (p as u32) << local_bits;
                            let ids = number_part((events, id_of), dealt, p, tag, of_event);
                            (p, ids)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Ids)> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("a connection numbering worker panicked"))
            .collect();
        all.sort_unstable_by_key(|(p, _)| *p);
        all.into_iter().map(|(_, names)| names).collect()
    });
    // Long ids, through their strings; few or none.
    let mut long_names: Ids = Vec::new();
    let mut table: FxHashMap<&str, u32> = FxHashMap::default();
    let tag = (parts as u32) << local_bits;
    for &ev in dealt.iter().flat_map(|d| &d.long) {
        let name = name(events, id_of, ev);
        let next = long_names.len() as u32;
        let ix = *table.entry(name).or_insert(next);
        if ix == next {
            long_names.push((name, ev));
        }
        of_event[ev as usize].store(tag | ix, Ordering::Relaxed);
    }
    names.push(long_names);
    // Each partition's numbers follow the ones before it.
    let mut base = Vec::with_capacity(names.len());
    let mut total = 0u32;
    for n in &names {
        base.push(total);
        total += n.len() as u32;
    }
    let mut ids: Ids = names.into_iter().flatten().collect();
    // Where each number goes in the order asked for: its rank by first event.
    let rank: Vec<u32> = match order {
        Order::Any => Vec::new(),
        Order::First => {
            let mut by_first: Vec<u32> = (0..ids.len() as u32).collect();
            by_first.sort_unstable_by_key(|&d| ids[d as usize].1);
            let mut rank = vec![0; ids.len()];
            for (r, &d) in by_first.iter().enumerate() {
                rank[d as usize] = r as u32;
            }
            ids.sort_unstable_by_key(|&(_, first)| first);
            rank
        }
    };
    let mut of_event: Vec<u32> = of_event.into_iter().map(AtomicU32::into_inner).collect();
    let mask = (1u32 << local_bits) - 1;
    std::thread::scope(|scope| {
        for part in of_event.chunks_mut(size) {
            let (base, rank) = (&base, &rank);
            scope.spawn(move || {
                for x in part.iter_mut().filter(|x| **x != NONE) {
                    let dense = base[(*x >> local_bits) as usize] + (*x & mask);
                    *x = if rank.is_empty() {
                        dense
                    } else {
                        rank[dense as usize]
                    };
                }
            });
        }
    });
    Some(Numbered {
        of_event,
        names: ids.into_iter().map(|(name, _)| name).collect(),
    })
}
