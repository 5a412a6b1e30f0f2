//! The batched event writer: one task per forum that turns a stream of events into few,
//! large transactions, and keeps doing so through a failing disk or database.
//!
//! Committing each event alone would cost one fsync per heartbeat; a batch costs one fsync for
//! up to `max_batch` events. There are three ways in:
//! - [`EventWriter::record_durable`] (connects, confirms, prompts) returns once the event's
//!   batch is committed, so a viewer is never told "counted" about something not stored. If the
//!   store cannot commit it within `give_up_ms`, the caller gets [`StoreError::Unavailable`] and
//!   the event is taken out of its batch: refused, never recorded later behind the caller's back.
//! - [`EventWriter::record_kept`] (disconnects) waits for the commit too, but at most
//!   `give_up_ms`: the event is kept, in memory, until the store takes it, however long that is.
//!   [`EventWriter::record`] is the same without waiting for the commit.
//! - [`EventWriter::try_record`] (heartbeats) never waits: a socket's reader must not stall on
//!   the database. Only each connection's latest heartbeat counts, so while the store is away
//!   the writer keeps one per connection, and a heartbeat that finds the queue full is skipped
//!   (the next one, a ping interval later, carries the same news).
//!
//! A failed batch is retried with growing pauses until the store takes it. Every batch writes a
//! row with its random id into `writer_batches` in the same transaction; a retry whose id is
//! already there was committed although the answer was lost, and is not written again. With
//! nothing to write for `probe_ms` the writer commits an empty batch, so a disk that filled up
//! on an idle node is noticed too. [`WriterStatus`] tells `/readyz` and `/metrics` about all this.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Store, StoreError, StoreResult};
use crate::domain::log::Event;
use crate::domain::time::Millis;

mod batch;
mod status;
mod task;

use batch::{Backlog, Batch};
pub use status::{WriterState, WriterStatus};

/// Sender side of the batched event writer; cheap to clone. The writer task ends, after
/// committing what it holds, when every clone has been dropped.
#[derive(Clone, Debug)]
pub struct EventWriter {
    tx: mpsc::Sender<Op>,
    status: WriterStatus,
    give_up: Duration,
}

/// Tuning of the batched writer (`[writer]` in the settings).
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Capacity of the queue in front of the writer, and of what it holds while the store is
    /// away; `record` waits when it is full.
    pub queue: usize,
    pub max_batch: usize,
    pub max_delay_ms: u64,
    /// First pause after a failed batch; doubled after each failure up to `retry_max_ms`.
    pub retry_first_ms: u64,
    pub retry_max_ms: u64,
    /// How long `record_durable` waits before its event is refused.
    pub give_up_ms: u64,
    /// With nothing to write this long, commit an empty batch to find out the store still can.
    pub probe_ms: u64,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            queue: 65_536,
            max_batch: 2_000,
            max_delay_ms: 100,
            retry_first_ms: 50,
            retry_max_ms: 2_000,
            give_up_ms: 5_000,
            probe_ms: 5_000,
        }
    }
}

#[derive(Debug)]
struct Op {
    event: Event,
    ack: Option<oneshot::Sender<StoreResult<()>>>,
    since: Instant,
    /// Never refused: written whenever the store takes it, however long that is.
    keep: bool,
}

/// The shortest time one attempt at a batch may take before it counts as failed.
const MIN_ATTEMPT: Duration = Duration::from_secs(1);
/// Markers of committed batches are kept this long (a retry comes within seconds).
const MARKER_KEEP_MS: Millis = 3_600_000;
const PRUNE_EVERY: Duration = Duration::from_secs(600);

impl EventWriter {
    /// Starts the writer task for `forum`; await the handle for a clean shutdown.
    pub fn spawn(store: Store, forum: &str, config: WriterConfig) -> (EventWriter, JoinHandle<()>) {
        let capacity = config.queue.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let status = WriterStatus::new(capacity);
        let give_up = Duration::from_millis(config.give_up_ms);
        let task = Task {
            store,
            forum: forum.to_string(),
            rx,
            status: status.clone(),
            backlog: Backlog::default(),
            current: None,
            closed_at: None,
            last_prune: None,
            failures: 0,
            config,
        };
        let handle = tokio::spawn(task.run());
        (
            EventWriter {
                tx,
                status,
                give_up,
            },
            handle,
        )
    }

    pub fn status(&self) -> &WriterStatus {
        &self.status
    }

    /// Queues an event, waiting for room; it is kept until the store takes it.
    pub async fn record(&self, event: Event) -> StoreResult<()> {
        self.status.queued(1);
        let op = Op {
            event,
            ack: None,
            since: Instant::now(),
            keep: true,
        };
        self.tx.send(op).await.map_err(|_| {
            self.status.queued(-1);
            StoreError::WriterClosed
        })
    }

    /// Queues an event if there is room now; false (and nothing queued) otherwise.
    pub fn try_record(&self, event: Event) -> bool {
        self.status.queued(1);
        let op = Op {
            event,
            ack: None,
            since: Instant::now(),
            keep: true,
        };
        if self.tx.try_send(op).is_ok() {
            return true;
        }
        self.status.queued(-1);
        metrics::counter!("yavka_writer_skipped_total").increment(1);
        false
    }

    /// Queues an event and returns once its batch is committed: an acknowledged confirmation
    /// is never lost. Within `give_up_ms` (plus one attempt) either it is stored, or this
    /// returns an error and it is not.
    pub async fn record_durable(&self, event: Event) -> StoreResult<()> {
        let (ack, done) = oneshot::channel();
        let op = Op {
            event,
            ack: Some(ack),
            since: Instant::now(),
            keep: false,
        };
        self.status.queued(1);
        if let Err(e) = self.tx.send_timeout(op, self.give_up).await {
            self.status.queued(-1);
            return Err(match e {
                mpsc::error::SendTimeoutError::Timeout(_) => {
                    metrics::counter!("yavka_writer_refused_total").increment(1);
                    StoreError::Unavailable("the writer's queue stayed full".into())
                }
                mpsc::error::SendTimeoutError::Closed(_) => StoreError::WriterClosed,
            });
        }
        done.await.unwrap_or(Err(StoreError::WriterClosed))
    }

    /// Queues an event that must be written however long the store is away (a disconnect),
    /// waiting for room, and then for its commit for at most `give_up_ms`: past that the
    /// caller hears [`StoreError::Unavailable`], and the writer keeps the event.
    pub async fn record_kept(&self, event: Event) -> StoreResult<()> {
        let (ack, done) = oneshot::channel();
        let op = Op {
            event,
            ack: Some(ack),
            since: Instant::now(),
            keep: true,
        };
        self.status.queued(1);
        if self.tx.send(op).await.is_err() {
            self.status.queued(-1);
            return Err(StoreError::WriterClosed);
        }
        match tokio::time::timeout(self.give_up, done).await {
            Ok(result) => result.unwrap_or(Err(StoreError::WriterClosed)),
            Err(_) => Err(StoreError::Unavailable(
                "not committed yet; the writer keeps it".into(),
            )),
        }
    }
}

struct Task {
    store: Store,
    forum: String,
    config: WriterConfig,
    rx: mpsc::Receiver<Op>,
    status: WriterStatus,
    backlog: Backlog,
    /// The batch being committed or retried.
    current: Option<Batch>,
    /// When every sender was gone: what is left gets `give_up_ms` more to be written.
    closed_at: Option<Instant>,
    last_prune: Option<Instant>,
    /// Failed attempts in a row.
    failures: u64,
}
