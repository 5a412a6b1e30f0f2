//! Batches: what the event writer holds between the queue and the database (the batch in
//! hand and, while the store is away, everything that arrived since), and how one batch is
//! written so that a retry never stores it twice.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::Op;
use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;
use crate::store::log_write::write_events;
use crate::store::{Store, StoreError, StoreResult};

/// What the writer holds besides the batch in hand: events in arrival order, except
/// heartbeats, of which only each connection's latest is kept.
#[derive(Default)]
pub(super) struct Backlog {
    ops: VecDeque<Op>,
    beats: HashMap<String, Op>,
}

impl Backlog {
    pub(super) fn push(&mut self, op: Op) {
        if let EventBody::Heartbeat { conn } = &op.event.body {
            match self.beats.get_mut(conn.as_str()) {
                Some(held) if held.event.ts >= op.event.ts => {}
                Some(held) => *held = op,
                None => {
                    self.beats.insert(conn.to_string(), op);
                }
            }
        } else {
            self.ops.push_back(op);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.ops.len() + self.beats.len()
    }

    /// The next batch: up to `max` events in order, and every held heartbeat (they cost one
    /// upsert row per connection whatever their number).
    pub(super) fn take_batch(&mut self, max: usize) -> Batch {
        let n = self.ops.len().min(max);
        let mut ops: Vec<Op> = self.ops.drain(..n).collect();
        ops.extend(self.beats.drain().map(|(_, op)| op));
        Batch {
            id: crate::ids::random_hex(16),
            ops,
            refused: 0,
        }
    }

    /// Answers and drops the waiters that have waited `give_up` or longer.
    pub(super) fn refuse_expired(&mut self, give_up: Duration, why: &str) -> usize {
        let before = self.ops.len();
        self.ops.retain_mut(|op| keep_or_refuse(op, give_up, why));
        before - self.ops.len()
    }
}

/// A batch as committed (or retried): its id and events never change, except that waiters
/// given up on are taken out.
pub(super) struct Batch {
    pub(super) id: String,
    pub(super) ops: Vec<Op>,
    /// Events taken out after an attempt failed (see [`Task::after_commit`]).
    pub(super) refused: usize,
}

/// False (and the waiter told) for a refusable event whose waiter has waited long enough.
pub(super) fn keep_or_refuse(op: &mut Op, give_up: Duration, why: &str) -> bool {
    if op.ack.is_none() || op.keep || op.since.elapsed() < give_up {
        return true;
    }
    if let Some(ack) = op.ack.take() {
        // A waiter that gave up by itself (its request was cancelled) is not an error.
        let _ = ack.send(Err(StoreError::Unavailable(why.to_owned())));
    }
    metrics::counter!("yavka_writer_refused_total").increment(1);
    false
}

impl Store {
    /// Writes one batch of events with its marker `batch`, in one transaction; false (and
    /// nothing written) if a batch with that id was committed before. Markers older than
    /// `prune_before` are deleted on the way.
    pub async fn write_batch<'a>(
        &self,
        forum: &str,
        batch: &str,
        events: impl IntoIterator<Item = &'a Event>,
        now: Millis,
        prune_before: Option<Millis>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let fresh = sqlx::query(
            "INSERT INTO writer_batches (forum, batch, written_at) VALUES ($1, $2, $3) \
             ON CONFLICT (forum, batch) DO NOTHING",
        )
        .bind(forum)
        .bind(batch)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if fresh {
            write_events(&mut tx, forum, events).await?;
        }
        if let Some(before) = prune_before {
            sqlx::query("DELETE FROM writer_batches WHERE forum = $1 AND written_at < $2")
                .bind(forum)
                .bind(before)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(fresh)
    }
}
