//! The batched event writer: one task per forum that turns a stream of events into few,
//! large transactions.
//!
//! Committing each event alone would cost one fsync per heartbeat; a batch costs one fsync for
//! up to `max_batch` events. Callers that must not lose an event (a confirmation the viewer was
//! told is counted) wait for the commit with [`EventWriter::record_durable`]; the rest only
//! wait for room in the bounded queue, which is the back-pressure when the database is slow.
//! A batch with a waiter in it is committed as soon as the queue is empty, not after the delay.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::log::write_events;
use super::{Store, StoreError, StoreResult};
use crate::domain::log::Event;

/// Sender side of the batched event writer; cheap to clone. The writer task commits queued
/// events in batches (at most `max_batch` events or `max_delay_ms` after the first queued one).
#[derive(Clone, Debug)]
pub struct EventWriter {
    tx: mpsc::Sender<Op>,
}

/// Tuning of the batched writer.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Capacity of the queue in front of the writer; `record` waits when it is full.
    pub queue: usize,
    pub max_batch: usize,
    pub max_delay_ms: u64,
}

/// A failed batch's error, shared by every waiter of that batch.
type Ack = oneshot::Sender<Result<(), String>>;

#[derive(Debug)]
struct Op {
    event: Event,
    ack: Option<Ack>,
}

/// Attempts per batch before its waiters get the error; the pauses between them grow.
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

impl EventWriter {
    /// Starts the writer task for `forum`. It ends, after committing everything queued, when
    /// every `EventWriter` clone has been dropped; await the handle for a clean shutdown.
    pub fn spawn(store: Store, forum: &str, config: WriterConfig) -> (EventWriter, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let forum = forum.to_string();
        let handle = tokio::spawn(run(store, forum, config, rx));
        (EventWriter { tx }, handle)
    }

    /// Queues an event; returns once queued (durable within about `max_delay_ms`).
    pub async fn record(&self, event: Event) -> StoreResult<()> {
        self.tx
            .send(Op { event, ack: None })
            .await
            .map_err(|_| StoreError::WriterClosed)
    }

    /// Queues an event and returns only after its batch is committed: an acknowledged
    /// confirmation is never lost.
    pub async fn record_durable(&self, event: Event) -> StoreResult<()> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Op {
                event,
                ack: Some(ack),
            })
            .await
            .map_err(|_| StoreError::WriterClosed)?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            // The cause was logged by the writer; the waiter gets its text.
            Ok(Err(message)) => Err(StoreError::Db(sqlx::Error::AnyDriverError(
                format!("event batch not written: {message}").into(),
            ))),
            Err(_) => Err(StoreError::WriterClosed),
        }
    }
}

async fn run(store: Store, forum: String, config: WriterConfig, mut rx: mpsc::Receiver<Op>) {
    let max_batch = config.max_batch.max(1);
    let max_delay = Duration::from_millis(config.max_delay_ms);
    let mut batch: Vec<Op> = Vec::with_capacity(max_batch);
    // `recv` returns None only once every sender is gone and the queue is empty: that is
    // the drain on shutdown.
    while let Some(first) = rx.recv().await {
        let mut urgent = first.ack.is_some();
        batch.push(first);
        let deadline = tokio::time::Instant::now() + max_delay;
        while batch.len() < max_batch {
            // Someone waits for this batch (a confirm, a prompt, a connect): take what is
            // queued already and commit at once. Under load the batches still grow, because
            // everything that arrives during one commit goes into the next.
            let next = if urgent {
                rx.try_recv().ok()
            } else {
                tokio::time::timeout_at(deadline, rx.recv())
                    .await
                    .ok()
                    .flatten()
            };
            let Some(op) = next else { break };
            urgent |= op.ack.is_some();
            batch.push(op);
        }
        commit(&store, &forum, &mut batch).await;
    }
    tracing::debug!(forum, "event writer stopped");
}

/// Writes one batch (retrying with backoff) and answers its waiters.
async fn commit(store: &Store, forum: &str, batch: &mut Vec<Op>) {
    let (events, acks): (Vec<Event>, Vec<Option<Ack>>) =
        batch.drain(..).map(|op| (op.event, op.ack)).unzip();
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    let result = loop {
        let started = Instant::now();
        match write_batch(store, forum, &events).await {
            Ok(()) => {
                metrics::histogram!("yavka_store_batch_seconds")
                    .record(started.elapsed().as_secs_f64());
                metrics::counter!("yavka_store_events_total").increment(events.len() as u64);
                break Ok(());
            }
            Err(e) => {
                metrics::counter!("yavka_store_errors_total").increment(1);
                tracing::error!(
                    forum,
                    attempt,
                    events = events.len(),
                    error = %e,
                    "writing an event batch failed"
                );
                if attempt >= ATTEMPTS {
                    break Err(e.to_string());
                }
                tokio::time::sleep(backoff).await;
                backoff *= 4;
                attempt += 1;
            }
        }
    };
    for ack in acks.into_iter().flatten() {
        // A waiter that gave up (its request was cancelled) is not an error.
        let _ = ack.send(result.clone());
    }
}

async fn write_batch(store: &Store, forum: &str, events: &[Event]) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    write_events(&mut tx, forum, events).await?;
    tx.commit().await?;
    Ok(())
}
