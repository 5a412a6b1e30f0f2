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
//! - [`boundaries`]: tallies pushed when a session starts or ends, so no tab says "counting"
//!   after the rules stopped counting.
//! - `cluster`: the other nodes' figures and liveness; `settings`: the hub's tuning.
//! - `history`: this node's figures written once a minute, for the dashboard's day chart.
//! - [`registry`], [`prompts`], [`limits`], [`challenge`], [`bus`]: the pieces they share.

mod boundaries;
pub mod bus;
pub mod challenge;
mod cluster;
mod connection;
mod history;
pub mod limits;
mod listener;
mod outbox;
pub mod prompts;
pub mod protocol;
pub mod registry;
mod settings;
pub mod viewer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use serde::Serialize;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore, watch};

use crate::broker::{Broker, BrokerError};
use crate::clock::Clock;
use crate::domain::decisions::Correction;
use crate::domain::forum::{Forum, Session};
use crate::domain::live::{self, LiveViewer, SessionPlan, day_bounds};
use crate::domain::log::{Event, EventBody, Evidence};
use crate::domain::rules::Params;
use crate::domain::time::Millis;
use crate::store::{EventWriter, Store, StoreError, ViewerRow};

use bus::BusEvent;
use prompts::PromptBook;
use registry::{CloseReason, Registry};
use viewer::Viewers;

pub use cluster::{HallStats, HubStats};
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

/// A fired prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptInfo {
    pub id: String,
    pub hall: String,
    pub ts: Millis,
    pub closes: Millis,
}

/// Permission to hold one socket; returned when dropped.
#[derive(Debug)]
pub struct Admission {
    _permit: OwnedSemaphorePermit,
}

/// Handle to this process's hub; cheap to clone.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

struct Inner {
    forum: Arc<Forum>,
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
    /// The forum's corrections, for the tally of a corrected (finished) session: loaded with
    /// the day's prompts, replaced when an organiser saves one on this node. A std mutex:
    /// never held across await.
    corrections: Mutex<Arc<[Correction]>>,
    /// Other nodes' figures. A std mutex: never held across await.
    cluster: Mutex<cluster::Cluster>,
    /// Minutes whose figures this node has written (see `history`).
    history: tokio::sync::Mutex<history::Marks>,
    /// Pending "prompt closed" tally pushes: hall → the instant they are for.
    tally_pushes: Mutex<HashMap<String, Millis>>,
    /// Sockets still running, their disconnect not yet recorded; `shutdown` waits for zero.
    live: watch::Sender<usize>,
    stopping: watch::Sender<bool>,
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
        let hub = Hub(Arc::new(Inner {
            admissions: Arc::new(Semaphore::new(settings.max_connections)),
            forum,
            store,
            writer,
            broker,
            clock,
            settings,
            registry: Registry::default(),
            viewers: Viewers::default(),
            prompts: Mutex::default(),
            prompts_loaded: OnceCell::new(),
            corrections: Mutex::new(Vec::new().into()),
            cluster: Mutex::default(),
            history: tokio::sync::Mutex::new(history::Marks::new(started)),
            tally_pushes: Mutex::default(),
            live: watch::channel(0).0,
            stopping: watch::channel(false).0,
        }));
        tokio::spawn(listener::listen(
            Arc::downgrade(&hub.0),
            subscription,
            hub.0.stopping.subscribe(),
        ));
        tokio::spawn(cluster::heartbeat(Arc::downgrade(&hub.0)));
        tokio::spawn(boundaries::push_at_edges(Arc::downgrade(&hub.0)));
        tokio::spawn(history::sampler(Arc::downgrade(&hub.0)));
        hub
    }

    pub fn settings(&self) -> &HubSettings {
        &self.0.settings
    }

    pub fn forum(&self) -> &Arc<Forum> {
        &self.0.forum
    }

    /// Applies the buffer and size limits of the settings to an upgrade. The hard frame and
    /// message limit is twice `max_message_bytes`: the hub itself closes anything over
    /// `max_message_bytes` with 1009, and the library's limit only guards memory.
    pub fn configure(&self, upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
        let s = &self.0.settings;
        let hard = s.max_message_bytes.saturating_mul(2).max(256);
        upgrade
            .read_buffer_size(s.read_buffer)
            .write_buffer_size(s.write_buffer)
            .max_write_buffer_size(s.max_write_buffer.max(s.write_buffer + 1))
            .max_message_size(hard)
            .max_frame_size(hard)
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

    /// Fires a prompt in `hall`, open for `window_ms` from now: records it durably, then
    /// publishes it so every node shows it to its viewers of that hall.
    pub async fn fire_prompt(
        &self,
        hall: &str,
        window_ms: Millis,
        prompt_id: Option<String>,
    ) -> Result<PromptInfo, HubError> {
        if *self.0.stopping.borrow() {
            return Err(HubError::ShuttingDown);
        }
        if self.0.forum.hall(hall).is_none() {
            return Err(HubError::UnknownHall(hall.to_owned()));
        }
        if window_ms <= 0 {
            return Err(HubError::BadWindow);
        }
        self.ensure_prompts().await?;
        let id = prompt_id.unwrap_or_else(|| crate::ids::random_hex(8));
        if self.lock_prompts().get(&id).is_some() {
            return Err(HubError::DuplicatePrompt(id));
        }
        let ts = self.now();
        let info = PromptInfo {
            id,
            hall: hall.to_owned(),
            ts,
            closes: ts + window_ms,
        };
        let event = Event::new(
            ts,
            EventBody::Prompt {
                prompt: info.id.clone(),
                hall: info.hall.clone(),
                closes: info.closes,
            },
        );
        self.0.writer.record_durable(event).await?;
        metrics::counter!("yavka_prompts_fired_total").increment(1);
        tracing::info!(prompt = %info.id, hall, closes = info.closes, "prompt fired");
        self.publish(&BusEvent::Prompt {
            prompt: info.id.clone(),
            hall: info.hall.clone(),
            ts: info.ts,
            closes: info.closes,
        })?;
        Ok(info)
    }

    /// This node's own hall figures.
    fn local_halls(&self) -> Vec<HallStats> {
        self.0
            .forum
            .halls
            .iter()
            .map(|h| {
                let c = self.0.registry.counts(&h.id);
                HallStats {
                    hall: h.id.clone(),
                    viewers: c.viewers,
                    peak_viewers: c.peak_viewers,
                    connections: c.connections,
                }
            })
            .collect()
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

    // ---- shared with the submodules ----

    fn now(&self) -> Millis {
        self.0.clock.now()
    }

    fn lock_prompts(&self) -> std::sync::MutexGuard<'_, PromptBook> {
        self.0.prompts.lock().expect("prompt book lock")
    }

    fn publish(&self, event: &BusEvent) -> Result<(), BrokerError> {
        self.0.broker.publish(event.to_message())
    }

    /// Today's prompt events (in the forum's time zone), from the store.
    async fn day_prompts(&self) -> Result<Vec<Event>, StoreError> {
        let (day_start, _) = day_bounds(&self.0.forum, self.now());
        self.0
            .store
            .prompts_since(&self.0.forum.id, day_start)
            .await
    }

    /// Loads the day's prompts from the store, once.
    async fn ensure_prompts(&self) -> Result<(), StoreError> {
        self.0
            .prompts_loaded
            .get_or_try_init(|| async {
                let events = self.day_prompts().await?;
                self.lock_prompts().merge(&events);
                let corrections = self.0.store.corrections(&self.0.forum.id).await?;
                self.set_corrections(corrections);
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// Replaces the forum's corrections the tallies are judged with.
    pub fn set_corrections(&self, corrections: Vec<Correction>) {
        *self.0.corrections.lock().expect("corrections lock") = corrections.into();
    }

    /// The session a tab in `hall` is about at `now` (see [`live::session_for`]).
    fn session_for(&self, hall: &str, now: Millis) -> Option<&Session> {
        live::session_for(&self.0.forum, hall, now)
    }

    /// The tally message of `viewer` for a tab in `hall`, if the hall has a session today.
    fn tally_json(&self, viewer: &Mutex<LiveViewer>, hall: &str) -> Option<String> {
        let now = self.now();
        let prompts = self.lock_prompts().hall_events(hall);
        let plan = self.session_plan(hall, &prompts, now)?;
        let tally = plan.tally(&viewer.lock().expect("viewer lock"));
        Some(protocol::ServerMsg::Tally(tally).to_json())
    }

    /// The session a tab in `hall` is about at `now`, planned over the hall's `prompts`.
    fn session_plan<'a>(
        &'a self,
        hall: &str,
        prompts: &'a [Event],
        now: Millis,
    ) -> Option<SessionPlan<'a>> {
        let session = self.session_for(hall, now)?;
        let rules = Params {
            max_wrong_answers: self.0.settings.max_wrong_answers,
            as_of: now,
            corrections: self.0.corrections.lock().expect("corrections lock").clone(),
        };
        SessionPlan::new(&self.0.forum, session, prompts, now, rules)
    }

    /// The live states of the viewers connected here.
    fn viewers(&self) -> &Viewers {
        &self.0.viewers
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

    /// Merges the viewer's stored events, once per live state, and forgets at once what no
    /// tally can ask about any more (their earlier days).
    async fn load_viewer(&self, viewer: &str, state: &Mutex<LiveViewer>) {
        if state.lock().expect("viewer lock").loaded {
            return;
        }
        let horizon = live::horizon(&self.0.forum, self.now());
        let store = &self.0.store;
        match store
            .viewer_events_since(&self.0.forum.id, viewer, horizon)
            .await
        {
            Ok(events) => {
                let mut st = state.lock().expect("viewer lock");
                for e in &events {
                    st.apply(e);
                }
                st.prune(horizon);
                st.loaded = true;
            }
            // The tally shown may be short until the next connection; the log is intact.
            Err(e) => tracing::warn!(viewer, error = %e, "could not load a viewer's events"),
        }
    }

    /// Tells every node about one of `viewer`'s recorded events, caused here.
    fn publish_viewer_event(&self, viewer: &str, event: Event) {
        self.publish_logged(&BusEvent::Viewer {
            viewer: viewer.to_owned(),
            event,
            node: self.node().to_owned(),
        });
    }

    fn publish_logged(&self, event: &BusEvent) {
        if let Err(e) = self.publish(event) {
            tracing::warn!(error = %e, "could not publish to the broker");
        }
    }
}
