//! The hub: this process's live websocket connections of viewers.
//!
//! One task per socket (see [`connection`]); shared state is a cheap clonable [`Hub`] handle.
//! The hub records connects, heartbeats, disconnects and confirms through the store's event
//! writer, fans prompts out to the viewers of a hall, keeps each connected viewer's tally as the
//! rules compute it, and talks to the hubs of other nodes only through the [`Broker`].
//!
//! - [`protocol`]: the messages on the wire, and the close codes and reasons, all in
//!   `protocol::close` (`docs/protocol.md`).
//! - [`connection`]: the per-socket task.
//! - [`listener`]: what the hub does with broker messages: fan-out, pause/resume, revocation.
//! - [`viewer`]: the viewers connected here, each with their live attendance state
//!   (`domain::live`: active hall, confirm decision, tally through the rules).
//! - `firing`: an organiser's prompt fired: recorded, then published to every node.
//! - [`boundaries`]: tallies pushed when a session starts or ends, so no tab says "counting"
//!   after the rules stopped counting.
//! - `cluster`: the other nodes' figures and liveness; `settings`: the hub's tuning.
//! - `history`: this node's figures written once a minute, for the dashboard's day chart.
//! - `saved`: a saved version of the forum: open tabs of a changed hall told, other nodes'
//!   saves heard.
//! - `tallies`: what a tab's tally is computed from (corrections, prompts, stored events).
//! - [`registry`], [`prompts`], [`limits`], [`challenge`], [`bus`]: the pieces they share.
//!
//! `impl Hub` in this file, with `firing`'s `fire_prompt`, is the hub's whole public surface;
//! the submodules add private helpers to it but never look inside `Inner`: each owns its
//! state as a small struct
//! (`cluster::Peers`, `history::History`, `listener::ClosePushes`, `tallies::Corrections`)
//! reached through the narrow accessors at the end of this file.
//!
//! The upgrade itself (buffer and size limits, the HTTP side) is `api/ws.rs`'s. The hub still
//! takes axum's `WebSocket` and sends `Utf8Bytes`: the socket task drives that stream
//! directly, and the outboxes hold the very frames handed to it so a fan-out to a hall
//! shares one buffer instead of copying the text per tab; a transport trait of our own would
//! add a copy or a boxed stream per message for no second implementation.

mod boundaries;
pub mod bus;
pub mod challenge;
mod cluster;
mod connection;
mod firing;
mod history;
pub mod limits;
mod listener;
mod outbox;
pub mod prompts;
pub mod protocol;
pub mod registry;
mod saved;
mod settings;
mod tallies;
pub mod viewer;

use std::sync::{Arc, Mutex, Weak};

use axum::extract::ws::WebSocket;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore, watch};

use crate::broker::{Broker, BrokerError};
use crate::clock::Clock;
use crate::domain::decisions::Correction;
use crate::domain::forum::Forum;
use crate::domain::log::{Event, Evidence};
use crate::domain::time::Millis;
use crate::store::{EventWriter, Store, StoreError, ViewerRow};

use bus::BusEvent;
use prompts::PromptBook;
use registry::{CloseReason, Registry};
use viewer::Viewers;

pub use cluster::{HallStats, HubStats};
pub use firing::PromptInfo;
pub use settings::HubSettings;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("нет зала «{0}»")]
    UnknownHall(String),
    #[error("окно подтверждения должно быть открыто дольше нуля миллисекунд")]
    BadWindow,
    #[error("окно подтверждения «{0}» уже было")]
    DuplicatePrompt(String),
    #[error("сервер останавливается")]
    ShuttingDown,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

/// Permission to hold one socket; returned when dropped.
#[derive(Debug)]
pub struct Admission {
    _permit: OwnedSemaphorePermit,
}

/// Handle to this process's hub; cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

/// A handle that does not keep the hub alive: its background tasks hold one, so they end
/// when the last [`Hub`] is dropped.
struct WeakHub(Weak<Inner>);

impl WeakHub {
    fn upgrade(&self) -> Option<Hub> {
        self.0.upgrade().map(Hub)
    }
}

struct Inner {
    /// The forum as it runs; replaced when an organiser saves it (see [`Hub::replace_forum`]).
    /// A std lock: never held across await.
    forum: std::sync::RwLock<Arc<Forum>>,
    saved_elsewhere: saved::SavedElsewhere,
    store: Store,
    writer: EventWriter,
    broker: Broker,
    clock: Arc<dyn Clock>,
    settings: HubSettings,
    admissions: Arc<Semaphore>,
    registry: Registry,
    /// Live state of the viewers connected to this node.
    viewers: Viewers,
    /// A std mutex: never held across await.
    prompts: Mutex<PromptBook>,
    prompts_loaded: OnceCell<()>,
    // Each of these is owned by its module, which alone looks inside.
    corrections: tallies::Corrections,
    cluster: cluster::Peers,
    history: history::History,
    tally_pushes: listener::ClosePushes,
    /// Sockets still running, their disconnect not yet recorded; `shutdown` waits for zero.
    live: watch::Sender<usize>,
    stopping: watch::Sender<bool>,
    /// `yavka_confirms_total{forum}`, registered at the first confirm (the forum's id never
    /// changes): a confirm burst does not build its label thousands of times.
    confirms: std::sync::OnceLock<metrics::Counter>,
}

impl Hub {
    /// Builds the hub and starts its broker listener.
    pub fn new(
        forum: Arc<Forum>,
        store: Store,
        writer: EventWriter,
        broker: Broker,
        clock: Arc<dyn Clock>,
        settings: HubSettings,
    ) -> Hub {
        let subscription = broker.subscribe();
        let started = clock.now();
        let registry = Registry::new(&forum.id);
        let hub = Hub(Arc::new(Inner {
            admissions: Arc::new(Semaphore::new(settings.max_connections)),
            forum: std::sync::RwLock::new(forum),
            saved_elsewhere: saved::SavedElsewhere::default(),
            store,
            writer,
            broker,
            clock,
            settings,
            registry,
            viewers: Viewers::default(),
            prompts: Mutex::default(),
            prompts_loaded: OnceCell::new(),
            corrections: tallies::Corrections::default(),
            cluster: cluster::Peers::default(),
            history: history::History::new(started),
            tally_pushes: listener::ClosePushes::default(),
            live: watch::channel(0).0,
            stopping: watch::channel(false).0,
            confirms: std::sync::OnceLock::new(),
        }));
        tokio::spawn(listener::listen(
            hub.downgrade(),
            subscription,
            hub.stopping_signal(),
        ));
        tokio::spawn(cluster::heartbeat(hub.downgrade()));
        tokio::spawn(boundaries::push_at_edges(hub.downgrade()));
        tokio::spawn(history::sampler(hub.downgrade()));
        hub
    }

    pub fn settings(&self) -> &HubSettings {
        &self.0.settings
    }

    /// The forum as it runs now.
    pub fn forum(&self) -> Arc<Forum> {
        self.0
            .forum
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts one recorded confirm in the metrics.
    fn count_confirm(&self) {
        self.0
            .confirms
            .get_or_init(
                || metrics::counter!("yavka_confirms_total", "forum" => self.forum().id.clone()),
            )
            .increment(1);
    }

    /// Runs `forum` from now on (a saved version; frozen sessions already carry their frozen
    /// rules) and tells every tab here whose hall's title or stream address changed, so an
    /// open player follows a fixed stream without a reload.
    pub fn replace_forum(&self, forum: Arc<Forum>) {
        let old = std::mem::replace(
            &mut *self.0.forum.write().unwrap_or_else(|e| e.into_inner()),
            forum.clone(),
        );
        self.tell_changed_halls(&old, &forum);
    }

    /// Tells the other nodes that version `version` of the forum was saved, so they run it too.
    pub fn announce_saved(&self, version: i64) {
        self.publish_logged(&BusEvent::ForumSaved {
            node: self.node().to_owned(),
            version,
        });
    }

    /// Changes when another node saved a version of this forum (its number); the runtime
    /// reloads the forum from the store then.
    pub fn saved_elsewhere(&self) -> watch::Receiver<i64> {
        self.0.saved_elsewhere.subscribe()
    }

    /// A place for one more socket, or `None` at the cap or during shutdown (answer 503).
    pub fn try_admit(&self) -> Option<Admission> {
        match self.0.admissions.clone().try_acquire_owned() {
            Ok(permit) => Some(Admission { _permit: permit }),
            Err(_) => {
                tracing::warn!(
                    max = self.0.settings.max_connections,
                    "connection refused: hub full or stopping"
                );
                metrics::counter!("yavka_ws_errors_total", "reason" => "full").increment(1);
                None
            }
        }
    }

    /// Opens one viewer's socket in `hall`; once it is live it runs in a task of its own until
    /// it closes, and this returns.
    pub async fn serve(
        &self,
        socket: WebSocket,
        viewer: ViewerRow,
        hall: String,
        seen: Evidence,
        admission: Admission,
    ) {
        connection::run(self.clone(), socket, viewer, hall, seen, admission).await;
    }

    /// Refuses a socket: an error message, then a close frame with `code`. `reason_ru` is
    /// shortened to fit a close frame (123 bytes).
    pub async fn reject(socket: WebSocket, code: u16, reason_ru: &str) {
        connection::reject(socket, code, reason_ru).await;
    }

    /// This node's name on the broker.
    pub fn node(&self) -> &str {
        self.0.broker.node()
    }

    /// Closes every socket of `viewer` on every node with 4401 (their link was replaced).
    pub fn revoke_viewer(&self, viewer: &str) {
        let event = BusEvent::Revoked {
            viewer: viewer.to_owned(),
        };
        if let Err(e) = self.publish(&event) {
            tracing::error!(viewer, error = %e, "could not publish a revocation; closing local sockets only");
            self.close_viewer(viewer, protocol::close::REVOKED);
        }
    }

    /// Closes every socket with 1001, records their disconnects and returns when all are done.
    /// New sockets are refused from the start of the call.
    pub async fn shutdown(&self) {
        self.0.stopping.send_replace(true);
        self.0.admissions.close();
        for h in self.0.registry.all() {
            h.close(protocol::close::SHUTDOWN);
        }
        let mut live = self.0.live.subscribe();
        let _ = live.wait_for(|n| *n == 0).await;
    }

    fn now(&self) -> Millis {
        self.0.clock.now()
    }

    fn lock_prompts(&self) -> std::sync::MutexGuard<'_, PromptBook> {
        self.0.prompts.lock().expect("prompt book lock")
    }

    fn publish(&self, event: &BusEvent) -> Result<(), BrokerError> {
        self.0.broker.publish(event.to_message())
    }

    fn publish_logged(&self, event: &BusEvent) {
        if let Err(e) = self.publish(event) {
            tracing::warn!(error = %e, "could not publish to the broker");
        }
    }

    /// Replaces the forum's corrections the tallies are judged with.
    pub fn set_corrections(&self, corrections: Vec<Correction>) {
        self.0.corrections.replace(corrections);
    }

    /// The figures of every node heard from recently, this one included.
    pub fn stats(&self) -> HubStats {
        self.cluster_stats()
    }

    /// Writes this node's figures for the current minute unless that minute is written
    /// already (or began before this node started). Returns whether it wrote. The sampler
    /// calls it every second; tests call it after moving their clock.
    pub async fn record_minute(&self) -> Result<bool, StoreError> {
        self.write_minute().await
    }

    // ---- shared with the submodules: each part reaches the others only through these ----

    fn downgrade(&self) -> WeakHub {
        WeakHub(Arc::downgrade(&self.0))
    }

    fn store(&self) -> &Store {
        &self.0.store
    }

    fn broker_connected(&self) -> bool {
        self.0.broker.connected()
    }

    fn stopping_signal(&self) -> watch::Receiver<bool> {
        self.0.stopping.subscribe()
    }

    fn peers(&self) -> &cluster::Peers {
        &self.0.cluster
    }

    fn history(&self) -> &history::History {
        &self.0.history
    }

    fn close_pushes(&self) -> &listener::ClosePushes {
        &self.0.tally_pushes
    }

    fn corrections(&self) -> &tallies::Corrections {
        &self.0.corrections
    }

    /// The live states of the viewers connected here.
    fn viewers(&self) -> &Viewers {
        &self.0.viewers
    }

    fn saved_news(&self) -> &saved::SavedElsewhere {
        &self.0.saved_elsewhere
    }

    fn close_viewer(&self, viewer: &str, reason: CloseReason) {
        for h in self.0.registry.of_viewer(viewer) {
            h.close(reason);
        }
    }

    fn is_stopping(&self) -> bool {
        *self.0.stopping.borrow()
    }

    fn writer(&self) -> &EventWriter {
        &self.0.writer
    }

    fn registry(&self) -> &Registry {
        &self.0.registry
    }

    /// One more socket whose disconnect `shutdown` must wait for.
    fn socket_opened(&self) {
        self.0.live.send_modify(|n| *n += 1);
    }

    /// A socket's disconnect is recorded.
    fn socket_closed(&self) {
        self.0.live.send_modify(|n| *n -= 1);
    }

    /// Tells the other nodes about one of `viewer`'s events. This node has applied it to the
    /// viewer's live state and told the viewer's tabs already (the callers do), so it is not
    /// echoed back here: on one node nothing is even serialised.
    fn publish_viewer_event(&self, viewer: &str, event: Event) {
        if !self.0.broker.has_others() {
            return;
        }
        let message = BusEvent::Viewer {
            viewer: viewer.to_owned(),
            event,
            node: self.node().to_owned(),
        }
        .to_message();
        if let Err(e) = self.0.broker.publish_to_others(message) {
            tracing::warn!(error = %e, "could not publish to the broker");
        }
    }
}
