//! The writer task's loop: gather what the senders queued into a batch, commit it, and on a
//! failure hold it and retry with growing pauses, telling [`WriterStatus`] how it goes.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::batch::{Batch, keep_or_refuse};
use super::{MARKER_KEEP_MS, MIN_ATTEMPT, PRUNE_EVERY, Task};
use crate::domain::time::Millis;
use crate::store::{StoreError, StoreResult};

impl Task {
    pub(super) async fn run(mut self) {
        let first_pause = Duration::from_millis(self.config.retry_first_ms.max(1));
        let mut pause = first_pause;
        loop {
            if self.current.is_none() {
                if self.backlog.len() == 0 {
                    if self.closed_at.is_some() {
                        break;
                    }
                    self.wait_for_events().await;
                    if self.backlog.len() == 0 && self.closed_at.is_some() {
                        break;
                    }
                } else {
                    self.take_queued();
                }
                self.current = Some(self.backlog.take_batch(self.config.max_batch.max(1)));
                self.status.held(self.held());
            }
            let Some(batch) = self.current.as_ref() else {
                continue;
            };
            match self.commit(batch).await {
                Ok(fresh) => {
                    self.after_commit(fresh);
                    pause = first_pause;
                }
                Err(e) => {
                    if !self.after_failure(&e) {
                        break;
                    }
                    self.pause(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(self.config.retry_max_ms));
                }
            }
        }
        tracing::debug!(forum = %self.forum, "event writer stopped");
    }

    /// Waits for the first event, then gathers a batch: at most `max_batch` events or
    /// `max_delay_ms` after the first. A batch with a waiter (a confirm, a prompt, a connect)
    /// takes what is queued already and goes at once; under load batches still grow, because
    /// everything that arrives during one commit goes into the next. With nothing to write
    /// for `probe_ms`, returns with nothing: an empty batch probes the store.
    async fn wait_for_events(&mut self) {
        let probe = Duration::from_millis(self.config.probe_ms.max(1));
        let first = match tokio::time::timeout(probe, self.rx.recv()).await {
            Ok(Some(op)) => op,
            Ok(None) => {
                self.closed_at = Some(Instant::now());
                return;
            }
            Err(_) => return,
        };
        self.status.queued(-1);
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(self.config.max_delay_ms);
        let mut urgent = first.ack.is_some();
        self.backlog.push(first);
        while self.backlog.len() < self.config.max_batch {
            let next = if urgent {
                self.rx.try_recv().ok()
            } else {
                tokio::time::timeout_at(deadline, self.rx.recv())
                    .await
                    .ok()
                    .flatten()
            };
            let Some(op) = next else { break };
            self.status.queued(-1);
            urgent |= op.ack.is_some();
            self.backlog.push(op);
        }
    }

    /// Moves what is queued into the backlog, as far as the backlog has room.
    fn take_queued(&mut self) {
        while self.backlog.len() < self.config.queue.max(1) {
            match self.rx.try_recv() {
                Ok(op) => {
                    self.status.queued(-1);
                    self.backlog.push(op);
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    self.closed_at.get_or_insert_with(Instant::now);
                    break;
                }
            }
        }
        self.status.held(self.held());
    }

    fn held(&self) -> usize {
        self.backlog.len() + self.current.as_ref().map_or(0, |b| b.ops.len())
    }

    async fn commit(&self, batch: &Batch) -> StoreResult<bool> {
        let started = Instant::now();
        let prune = self
            .last_prune
            .is_none_or(|t| t.elapsed() >= PRUNE_EVERY)
            .then(|| wall_clock() - MARKER_KEEP_MS);
        let events = batch.ops.iter().map(|op| &op.event);
        let write = self
            .store
            .write_batch(&self.forum, &batch.id, events, wall_clock(), prune);
        // A database that hangs (a lock, a network gone quiet) rather than fails: after
        // `give_up_ms` the attempt counts as failed, so its waiters are answered and /readyz
        // says so. Dropping it mid-commit is safe: the retry finds the batch's marker if the
        // commit went through after all.
        let limit = Duration::from_millis(self.config.give_up_ms).max(MIN_ATTEMPT);
        let fresh = match tokio::time::timeout(limit, write).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "no answer within {limit:?}"
                )));
            }
        };
        metrics::histogram!("yavka_store_batch_seconds").record(started.elapsed().as_secs_f64());
        Ok(fresh)
    }

    /// The batch is stored: its waiters hear so, and the writer is healthy again.
    fn after_commit(&mut self, fresh: bool) {
        let Some(batch) = self.current.take() else {
            return;
        };
        if self.last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            self.last_prune = Some(Instant::now());
        }
        if fresh {
            metrics::counter!("yavka_store_events_total").increment(batch.ops.len() as u64);
        } else {
            metrics::counter!("yavka_writer_batches_repeated_total").increment(1);
            tracing::warn!(forum = %self.forum, batch = %batch.id, events = batch.ops.len(),
                "a retried batch had been committed already (its answer was lost); not written again");
            if batch.refused > 0 {
                // The two generals: their callers were told "not recorded" after the commit
                // that did record them; a repeated confirm finds it already counted.
                tracing::warn!(forum = %self.forum, events = batch.refused,
                    "events refused after a lost commit answer were stored after all");
            }
        }
        for ack in batch.ops.into_iter().filter_map(|op| op.ack) {
            let _ = ack.send(Ok(()));
        }
        if self.status.recovered() {
            tracing::info!(forum = %self.forum, failures = self.failures,
                "the event writer commits again");
        }
        self.failures = 0;
        self.status.held(self.held());
    }

    /// Records the failure and refuses waiters that have waited too long. False when the
    /// writer should stop: every sender is gone and the store has stayed away for
    /// `give_up_ms` since, so what is left is lost (and said so).
    fn after_failure(&mut self, e: &StoreError) -> bool {
        metrics::counter!("yavka_store_errors_total").increment(1);
        let give_up = Duration::from_millis(self.config.give_up_ms);
        let why = match e {
            StoreError::Unavailable(m) => m.clone(),
            other => other.to_string(),
        };
        let mut refused = self.backlog.refuse_expired(give_up, &why);
        if let Some(batch) = self.current.as_mut() {
            let before = batch.ops.len();
            batch.ops.retain_mut(|op| keep_or_refuse(op, give_up, &why));
            batch.refused += before - batch.ops.len();
            refused += before - batch.ops.len();
        }
        let held = self.held();
        self.failures += 1;
        self.status.failed(&why, held);
        // A long outage fails every second or two: the 1st, 2nd, 4th, 8th … failure in a row
        // is an error in the log, the rest are debug lines (the metrics count every one).
        if self.failures.is_power_of_two() || refused > 0 {
            tracing::error!(forum = %self.forum, failures = self.failures, held, refused,
                error = %e, "writing an event batch failed; retrying");
        } else {
            tracing::debug!(forum = %self.forum, failures = self.failures, held, error = %e,
                "writing an event batch failed; retrying");
        }
        if self.closed_at.is_some_and(|t| t.elapsed() >= give_up) {
            metrics::counter!("yavka_writer_lost_total").increment(held as u64);
            tracing::error!(forum = %self.forum, events = held,
                "the store stayed unavailable at shutdown: events not written");
            return false;
        }
        true
    }

    /// Sleeps `pause` while still taking events off the queue (as far as the backlog has room),
    /// so that senders do not stall while the store is away.
    async fn pause(&mut self, pause: Duration) {
        let until = tokio::time::Instant::now() + pause;
        loop {
            if self.closed_at.is_some() || self.backlog.len() >= self.config.queue.max(1) {
                tokio::time::sleep_until(until).await;
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(until) => break,
                op = self.rx.recv() => match op {
                    Some(op) => {
                        self.status.queued(-1);
                        self.backlog.push(op);
                        self.status.held(self.held());
                    }
                    None => {
                        self.closed_at = Some(Instant::now());
                    }
                },
            }
        }
        self.status.held(self.held());
    }
}

/// Batch markers are bookkeeping, not attendance: they go by the machine's clock.
fn wall_clock() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}
