//! The export's last steps after reading a log's rows: the synthesized heartbeats worked out
//! in memory, and rows and heartbeats put in the rules' order.
//!
//! [`LAST_SEEN`] gives one heartbeat per connection never closed, at its last sign of life,
//! through three index lookups per connection: fine for the everyday reads, seconds for the
//! two million connections of a 100,000-viewer forum. The export has just read every row,
//! so what the query asks of them (each connection's first connect, its latest disconnect)
//! is gathered here in hash tables, one share of the connections per core, and the
//! `conn_seen` rows are checked against them.
//!
//! [`LAST_SEEN`]: super::log::LAST_SEEN

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

use super::log::sort_beats;
use crate::domain::log::{Event, EventBody, Id, sort_events};
use crate::domain::time::Millis;

/// Below this many events the connections are gathered on one thread.
const ONE_SHARE_BELOW: usize = 100_000;

/// What the log's rows say about each connection, to find those [`LAST_SEEN`] gives a
/// heartbeat: the ones whose first connect is before their last sign of life and which no
/// disconnect at or after that connect closed.
///
/// [`LAST_SEEN`]: super::log::LAST_SEEN
pub(super) struct Lives<'a> {
    /// Connections by a bit of their id's hash, one table per thread that gathered them.
    shares: Vec<FxHashMap<&'a str, Life>>,
    beats: Vec<Event>,
}

/// One connection as the rows tell it; 24 bytes, as a big forum has millions.
#[derive(Clone, Copy, Default)]
struct Life {
    /// The earliest connect, when `connects` > 0.
    first_connect: Millis,
    /// How many connect rows have that instant (the query joins each of them, so each gives
    /// a heartbeat).
    connects: u32,
    disconnected: bool,
    /// The latest disconnect, when `disconnected`.
    last_disconnect: Millis,
}

/// Which share a connection belongs to: a bit of its hash that the tables themselves use
/// neither for the bucket (low bits) nor for the tag (top bits).
fn share_of(conn: &str, shares: usize) -> usize {
    (FxBuildHasher.hash_one(conn) >> 40) as usize % shares
}

impl<'a> Lives<'a> {
    pub(super) fn of(events: &'a [Event]) -> Lives<'a> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shares = if events.len() < ONE_SHARE_BELOW {
            1
        } else {
            cores.clamp(1, 4)
        };
        // Sized up front: growing a table of millions rehashes it several times.
        let connects = events
            .iter()
            .filter(|e| matches!(e.body, EventBody::Connect { .. }))
            .count();
        let capacity = connects / shares + connects / 16;
        let shares = if shares == 1 {
            vec![gather(events, 0, 1, capacity)]
        } else {
            std::thread::scope(|scope| {
                let threads: Vec<_> = (0..shares)
                    .map(|share| scope.spawn(move || gather(events, share, shares, capacity)))
                    .collect();
                threads
                    .into_iter()
                    .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        Lives {
            shares,
            beats: Vec::new(),
        }
    }

    /// A `conn_seen` row: the connection's last sign of life.
    pub(super) fn seen(&mut self, conn: &str, last_seen: Millis) {
        // The query's time range is `MIN..MAX`, which leaves out `MAX` itself.
        if last_seen == Millis::MAX {
            return;
        }
        let Some(life) = self.shares[share_of(conn, self.shares.len())].get(conn) else {
            return;
        };
        let first = life.first_connect;
        let closed = life.disconnected && life.last_disconnect >= first;
        if life.connects > 0 && first < last_seen && !closed {
            for _ in 0..life.connects {
                self.beats.push(Event::new(
                    last_seen,
                    EventBody::Heartbeat { conn: conn.into() },
                ));
            }
        }
    }

    /// The heartbeats found, in their own order (time, then connection).
    pub(super) fn beats(self) -> Vec<Event> {
        let mut beats = self.beats;
        sort_beats(&mut beats);
        beats
    }
}

/// `conn_seen` rows held compactly (every id in one buffer) until they can be checked off
/// the runtime's threads: two million small strings would be two million allocations.
#[derive(Default)]
pub(super) struct SeenRows {
    ids: String,
    /// Where each row's id ends in `ids`, and its last sign of life.
    rows: Vec<(usize, Millis)>,
}

impl SeenRows {
    pub(super) fn push(&mut self, conn: &str, last_seen: Millis) {
        self.ids.push_str(conn);
        self.rows.push((self.ids.len(), last_seen));
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, Millis)> {
        let starts = std::iter::once(0).chain(self.rows.iter().map(|(end, _)| *end));
        starts
            .zip(&self.rows)
            .map(|(start, (end, seen))| (&self.ids[start..*end], *seen))
    }
}

/// The connections of one share: first connect and latest disconnect of each.
fn gather<'a>(
    events: &'a [Event],
    share: usize,
    shares: usize,
    capacity: usize,
) -> FxHashMap<&'a str, Life> {
    let mut conns: FxHashMap<&'a str, Life> =
        FxHashMap::with_capacity_and_hasher(capacity, FxBuildHasher);
    let mine = |conn: &str| shares == 1 || share_of(conn, shares) == share;
    for e in events {
        match &e.body {
            EventBody::Connect { conn, .. } if mine(conn) => {
                let life = conns.entry(conn).or_default();
                if life.connects == 0 || e.ts < life.first_connect {
                    life.first_connect = e.ts;
                    life.connects = 1;
                } else if e.ts == life.first_connect {
                    life.connects += 1;
                }
            }
            EventBody::Disconnect { conn } if mine(conn) => {
                let life = conns.entry(conn).or_default();
                if !life.disconnected || e.ts > life.last_disconnect {
                    life.last_disconnect = e.ts;
                    life.disconnected = true;
                }
            }
            _ => {}
        }
    }
    conns
}

/// Rows in `seq` order and the heartbeats in theirs, as one log in the rules' order.
pub(super) fn in_rules_order(mut events: Vec<Event>, beats: Vec<Event>) -> Vec<Event> {
    // A live forum's rows arrive nearly in time order and a stored log is often exactly in
    // it; the stable sort keeps `seq` order within an instant.
    if !events.is_sorted_by_key(|e| e.ts) {
        sort_events(&mut events);
    }
    merge_beats(&mut events, beats);
    events
}

/// Puts each heartbeat after the rows of its instant, in place: the rows after a heartbeat
/// move towards the end once, and no second copy of the log is made.
fn merge_beats(events: &mut Vec<Event>, mut beats: Vec<Event>) {
    let mut unplaced = events.len();
    events.resize_with(unplaced + beats.len(), || {
        Event::new(
            0,
            EventBody::Heartbeat {
                conn: Id::default(),
            },
        )
    });
    let mut free = events.len();
    while let Some(beat) = beats.pop() {
        while unplaced > 0 && events[unplaced - 1].ts > beat.ts {
            unplaced -= 1;
            free -= 1;
            events.swap(unplaced, free);
        }
        free -= 1;
        events[free] = beat;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts: Millis, conn: &str) -> Event {
        Event::new(ts, EventBody::Disconnect { conn: conn.into() })
    }

    fn beat(ts: Millis, conn: &str) -> Event {
        Event::new(ts, EventBody::Heartbeat { conn: conn.into() })
    }

    #[test]
    fn heartbeats_go_after_the_rows_of_their_instant() {
        let rows = vec![row(5, "a"), row(1, "b"), row(5, "c"), row(9, "d")];
        let beats = vec![beat(0, "x"), beat(5, "y"), beat(5, "z"), beat(12, "w")];
        let order: Vec<(Millis, Id)> = in_rules_order(rows, beats)
            .into_iter()
            .map(|e| match e.body {
                EventBody::Disconnect { conn } | EventBody::Heartbeat { conn } => (e.ts, conn),
                _ => unreachable!(),
            })
            .collect();
        let expected = [
            (0, "x"),
            (1, "b"),
            (5, "a"),
            (5, "c"),
            (5, "y"),
            (5, "z"),
            (9, "d"),
            (12, "w"),
        ];
        let expected: Vec<(Millis, Id)> =
            expected.iter().map(|(t, c)| (*t, Id::from(*c))).collect();
        assert_eq!(order, expected);
    }

    #[test]
    fn every_share_gathers_its_own_connections_and_finds_them_again() {
        let mut events = Vec::new();
        for n in 0..500 {
            let conn = format!("c{n}");
            events.push(Event::new(
                n,
                EventBody::Connect {
                    viewer: "v".into(),
                    conn: conn.as_str().into(),
                    hall: "h".into(),
                },
            ));
            if n % 3 == 0 {
                events.push(row(n + 1, &conn));
            }
        }
        for shares in 1..=4 {
            let mut lives = Lives {
                shares: (0..shares).map(|s| gather(&events, s, shares, 0)).collect(),
                beats: Vec::new(),
            };
            assert_eq!(lives.shares.iter().map(|s| s.len()).sum::<usize>(), 500);
            let mut seen = SeenRows::default();
            for n in 0..500 {
                seen.push(&format!("c{n}"), n + 10);
            }
            seen.push("", 1);
            seen.push("never-connected", 900);
            assert_eq!(seen.iter().count(), 502);
            for (conn, last_seen) in seen.iter() {
                lives.seen(conn, last_seen);
            }
            assert_eq!(lives.beats().len(), 500 - 167, "{shares} shares");
        }
    }
}
