//! The store: the durable attendance log and everything else that must survive a restart,
//! on SQLite (embedded default) or Postgres, behind one type with the same behaviour on both.
//!
//! STUB: signatures agreed for issue 3; bodies are being written.

#![allow(unused_variables)]

use crate::domain::forum::{Education, Forum};
use crate::domain::log::Event;
use crate::domain::registration::Registration;
use crate::domain::schedule::Seed;
use crate::domain::time::{Millis, Span};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A uniqueness rule refused the write; the message says which (in Russian, shown to organisers).
    #[error("{0}")]
    Conflict(String),
    #[error("the event writer has stopped")]
    WriterClosed,
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// A registered viewer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ViewerRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub education: Education,
    pub specialty: String,
    pub snils: Option<String>,
    /// When the consents were given (Unix ms).
    pub consent_at: Millis,
    pub created_at: Millis,
}

/// What loading a forum configuration into the store did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The forum to run: the configuration, with every frozen session's stored rules in place
    /// of its configured ones.
    pub effective: Forum,
    /// Sessions frozen by this call (they had started and were not frozen yet).
    pub newly_frozen: Vec<String>,
    /// Frozen sessions whose configuration now differs from their frozen rules, in Russian.
    pub ignored_changes: Vec<String>,
}

/// A planned prompt schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    pub session: String,
    pub seed: Seed,
    pub times: Vec<Millis>,
}

/// A stored НМО code row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    pub session: String,
    pub code: String,
    /// `None` for a pooled code not issued yet.
    pub viewer: Option<String>,
    /// Imported from the commission's pool (true) or generated (false).
    pub pooled: bool,
    /// Position in its pool, for pooled codes.
    pub position: Option<i64>,
    pub issued_at: Option<Millis>,
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {}

impl Store {
    /// Connects to `sqlite://path/to/file.db` (created with its folder if missing) or
    /// `postgres://…`, and runs the migrations for that backend.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        todo!()
    }
    pub fn is_postgres(&self) -> bool {
        todo!()
    }
    /// Cheap round trip for `/readyz`.
    pub async fn ping(&self) -> StoreResult<()> {
        todo!()
    }
    pub async fn close(&self) {
        todo!()
    }

    // ---- the attendance log ----

    /// Appends events in one transaction.
    pub async fn append(&self, forum: &str, events: &[Event]) -> StoreResult<()> {
        todo!()
    }
    /// The forum's log in the rules' order (ts, then insertion), optionally only events with
    /// `ts` in `range`. Heartbeats are kept as each connection's last sign of life and come back
    /// as one heartbeat per connection without a disconnect, which the rules treat identically.
    pub async fn events(&self, forum: &str, range: Option<Span>) -> StoreResult<Vec<Event>> {
        todo!()
    }
    /// One viewer's own events: their `viewer` records, their connections' connect, heartbeat
    /// (as above), disconnect, and their confirms. No prompts.
    pub async fn viewer_events(&self, forum: &str, viewer: &str) -> StoreResult<Vec<Event>> {
        todo!()
    }
    /// Prompt events of the forum with `ts >= since`, in order.
    pub async fn prompts_since(&self, forum: &str, since: Millis) -> StoreResult<Vec<Event>> {
        todo!()
    }

    // ---- forum and frozen rules ----

    /// Stores the forum configuration and freezes the rules of every session that has started
    /// by `now`. A frozen session's rules never change afterwards.
    pub async fn sync_forum(&self, forum: &Forum, now: Millis) -> StoreResult<SyncReport> {
        todo!()
    }

    // ---- prompt schedules ----

    /// Stores a session's schedule unless one is stored already; returns the stored one
    /// (first writer wins, so several nodes agree on one schedule).
    pub async fn schedule_or_insert(
        &self,
        forum: &str,
        schedule: &StoredSchedule,
    ) -> StoreResult<StoredSchedule> {
        todo!()
    }
    /// Claims planned prompt `index` of `session` for firing as `prompt_id`; true for exactly
    /// one caller, however many nodes try.
    pub async fn claim_planned_prompt(
        &self,
        forum: &str,
        session: &str,
        index: u32,
        prompt_id: &str,
    ) -> StoreResult<bool> {
        todo!()
    }

    // ---- viewers ----

    /// Inserts a viewer with their personal-link token hash, and appends their `viewer` event,
    /// in one transaction. Conflict (Russian message) if the e-mail is already registered.
    pub async fn insert_viewer(
        &self,
        forum: &str,
        id: &str,
        reg: &Registration,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<ViewerRow> {
        todo!()
    }
    pub async fn viewer_by_token_hash(
        &self,
        forum: &str,
        token_hash: &str,
    ) -> StoreResult<Option<ViewerRow>> {
        todo!()
    }
    pub async fn viewer(&self, forum: &str, id: &str) -> StoreResult<Option<ViewerRow>> {
        todo!()
    }
    pub async fn viewers(&self, forum: &str) -> StoreResult<Vec<ViewerRow>> {
        todo!()
    }
    /// Replaces a viewer's token hash (the old link stops working). False if no such viewer.
    pub async fn set_token_hash(
        &self,
        forum: &str,
        viewer: &str,
        token_hash: &str,
    ) -> StoreResult<bool> {
        todo!()
    }

    // ---- organisers ----

    /// Conflict if the login exists.
    pub async fn insert_organiser(
        &self,
        login: &str,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<()> {
        todo!()
    }
    pub async fn organiser_password_hash(&self, login: &str) -> StoreResult<Option<String>> {
        todo!()
    }
    pub async fn insert_login(
        &self,
        token_hash: &str,
        login: &str,
        expires: Millis,
    ) -> StoreResult<()> {
        todo!()
    }
    /// The organiser signed in with this session token, if it has not expired at `now`.
    pub async fn login_by_token_hash(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<String>> {
        todo!()
    }
    pub async fn delete_login(&self, token_hash: &str) -> StoreResult<()> {
        todo!()
    }

    // ---- НМО codes ----

    pub async fn codes(&self, forum: &str) -> StoreResult<Vec<CodeRow>> {
        todo!()
    }
    /// Inserts new pooled and/or issued code rows and marks pooled codes as issued, all in one
    /// transaction: on any conflict nothing is written.
    pub async fn save_codes(&self, forum: &str, rows: &[CodeRow]) -> StoreResult<()> {
        todo!()
    }
}

/// Sender side of the batched event writer; cheap to clone. The writer task commits queued
/// events in batches (at most `max_batch` events or `max_delay_ms` after the first queued one).
#[derive(Clone, Debug)]
pub struct EventWriter {}

/// Tuning of the batched writer.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Capacity of the queue in front of the writer; `record` waits when it is full.
    pub queue: usize,
    pub max_batch: usize,
    pub max_delay_ms: u64,
}

impl EventWriter {
    /// Starts the writer task for `forum`. It ends, after committing everything queued, when
    /// every `EventWriter` clone has been dropped; await the handle for a clean shutdown.
    pub fn spawn(
        store: Store,
        forum: &str,
        config: WriterConfig,
    ) -> (EventWriter, tokio::task::JoinHandle<()>) {
        todo!()
    }
    /// Queues an event; returns once queued (durable within about `max_delay_ms`).
    pub async fn record(&self, event: Event) -> StoreResult<()> {
        todo!()
    }
    /// Queues an event and returns only after its batch is committed: an acknowledged
    /// confirmation is never lost.
    pub async fn record_durable(&self, event: Event) -> StoreResult<()> {
        todo!()
    }
}
