//! The forums this server runs at once: for each forum open for registration, live or
//! finished, a [`Running`] bundle (its hub, prompter, mailer and event writer), kept in the
//! [`Forums`] registry.
//!
//! The store holds any number of forums; a forum needs a hub only while viewers may connect
//! or its results, codes and mail are being worked on, so a draft or an archived forum has no
//! bundle. The registry is filled at start-up (`App::build`) from the store, a forum an
//! organiser publishes is started at once (`start`), and an archived one is stopped (`stop`):
//! no restart is needed; with Redis, other nodes are told on a node-wide channel and do the
//! same (`announce`), and a node that missed it opens the forum at the first request that
//! names it ([`Forums::open`]). A saved version of a running forum is run in place
//! (`refresh`): the sockets stay open, and other nodes hear of the save through the broker and
//! do the same.
//!
//! An archived forum's results, exports, certificates, codes, appeals and mail stay within
//! reach: the first request that names it opens a bundle on demand ([`Forums::open`]) whose
//! prompter never ticks, so nothing live happens in it (firing a prompt there is refused by
//! its handler), while its mail worker sends what is queued. Such a bundle takes no part in
//! choosing the forum of a request that names none ([`Forums::all`]). Each bundle's
//! background work — the prompter's ticks, the mail worker, the event writer, the watch for
//! versions saved elsewhere — runs until the bundle stops or the server shuts down.
//!
//! Which bundle serves a request is decided by `api::pick`, not here.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::broker::Broker;
use crate::clock::Clock;
use crate::domain::forum::{Forum, ForumState};
use crate::hub::Hub;
use crate::mail::Mailer;
use crate::prompter::Prompter;
use crate::settings::Settings;
use crate::store::{EventWriter, Store, WriterStatus};

mod news;

/// One forum as it runs on this node; cheap to clone.
#[derive(Clone)]
pub struct Running {
    /// The forum as it runs: frozen sessions carry their frozen rules.
    pub forum: Arc<Forum>,
    pub hub: Hub,
    pub prompter: Prompter,
    pub mailer: Mailer,
    pub writer: WriterStatus,
}

/// A bundle and what stops it.
struct Entry {
    running: Running,
    /// Opened on demand for an archived forum: no prompter loop, not among [`Forums::all`].
    archived: bool,
    stop: watch::Sender<bool>,
    /// The prompter's and the mail worker's loops, once serving.
    loops: Vec<JoinHandle<()>>,
    writer_task: JoinHandle<()>,
}

/// Every running forum of this node, by id; cheap to clone.
#[derive(Clone)]
pub struct Forums(Arc<Inner>);

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: Arc<Settings>,
    public_url: String,
    /// This process's name on the broker, the same for every forum.
    node: String,
    /// Whether the server serves: a bundle started from then on starts its loops at once.
    serving: Mutex<bool>,
    /// Whether the store holds an archived forum (as last seen here), so that a personal link
    /// may belong to one: until then, `api::pick` looks no link up while one forum runs.
    archived_seen: std::sync::atomic::AtomicBool,
    /// A `std` mutex: never held across an await.
    entries: Mutex<BTreeMap<String, Entry>>,
    /// With Redis, the node-wide channel on which a node says a forum's state changed, so the
    /// others start or stop it too (see `news`).
    news: Option<Broker>,
}

/// How often the prompter ticks, in real time.
const TICK: Duration = Duration::from_millis(500);

impl Forums {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        settings: Arc<Settings>,
        public_url: String,
    ) -> Forums {
        let node = crate::ids::new_token()[..16].to_owned();
        let news = news::channel(&settings, &node);
        Forums(Arc::new(Inner {
            store,
            clock,
            settings,
            public_url,
            node,
            serving: Mutex::new(false),
            archived_seen: Default::default(),
            entries: Mutex::default(),
            news,
        }))
    }

    /// Whether a forum in `state` runs (has a hub, a prompter and a mailer).
    pub fn runs_in(state: ForumState) -> bool {
        matches!(
            state,
            ForumState::Registration | ForumState::Live | ForumState::Finished
        )
    }

    /// Starts a bundle for `forum` (already effective: frozen rules applied), unless one runs;
    /// returns the running bundle either way.
    pub async fn start_forum(&self, forum: Arc<Forum>) -> anyhow::Result<Running> {
        self.launch(forum, false).await
    }

    /// The bundle of the stored forum `id`, started now if need be: a forum that should run
    /// but does not here (another node of a cluster published it) starts in full; an archived
    /// one opens on demand, without a prompter loop. `None` for a draft or an unknown id.
    pub async fn open(&self, id: &str) -> anyhow::Result<Option<Running>> {
        if let Some(running) = self.get(id) {
            return Ok(Some(running));
        }
        let Some(row) = self.0.store.forum_row(id).await? else {
            return Ok(None);
        };
        let state = ForumState::current(row.state, &row.forum, self.0.clock.now());
        self.saw(state);
        let archived = match state {
            ForumState::Archived => true,
            s if Self::runs_in(s) => false,
            _ => return Ok(None),
        };
        let forum = self.load(&row.forum).await?;
        Ok(Some(self.launch(Arc::new(forum), archived).await?))
    }

    /// Whether the store held an archived forum when last looked at here.
    pub fn has_archived(&self) -> bool {
        self.0
            .archived_seen
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn saw(&self, state: ForumState) {
        if state == ForumState::Archived {
            self.0
                .archived_seen
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Whether forum `id`'s bundle was opened for an archived forum (nothing live happens in it).
    pub fn is_archived(&self, id: &str) -> bool {
        self.0
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .is_some_and(|e| e.archived)
    }

    /// The stored forum as it runs: the rules of every session started by now are frozen
    /// first (as `sync_forum` does for the configuration file's forum at start-up), so a
    /// session is judged by the rules it started under whichever way its forum came to run.
    async fn load(&self, configured: &Forum) -> anyhow::Result<Forum> {
        let i = &self.0;
        i.store.freeze_started(configured, i.clock.now()).await?;
        Ok(i.store.effective_forum(configured).await?)
    }

    async fn launch(&self, forum: Arc<Forum>, archived: bool) -> anyhow::Result<Running> {
        if let Some(running) = self.get(&forum.id) {
            return Ok(running);
        }
        let i = &self.0;
        let (writer, writer_task) =
            EventWriter::spawn(i.store.clone(), &forum.id, i.settings.writer.config());
        let writer_status = writer.status().clone();
        let broker = match &i.settings.broker.redis_url {
            None => Broker::memory(i.settings.broker.capacity),
            Some(url) => {
                tracing::info!(node = %i.node, forum = %forum.id, "messages between nodes go through Redis");
                Broker::redis(url, &forum.id, &i.node, i.settings.broker.capacity)
                    .map_err(|e| anyhow::anyhow!(e))?
            }
        };
        let hub = Hub::new(
            forum.clone(),
            i.store.clone(),
            writer,
            broker,
            i.clock.clone(),
            i.settings.hub.clone(),
        );
        let prompter =
            Prompter::start(forum.clone(), i.store.clone(), hub.clone(), i.clock.clone()).await?;
        let mailer = Mailer::new(
            i.store.clone(),
            forum.clone(),
            i.clock.clone(),
            i.settings.mail.clone(),
            i.public_url.clone(),
        )?;
        let running = Running {
            forum,
            hub,
            prompter,
            mailer,
            writer: writer_status,
        };
        let mut entry = Entry {
            running: running.clone(),
            archived,
            stop: watch::channel(false).0,
            loops: Vec::new(),
            writer_task,
        };
        let serving = *i.serving.lock().unwrap_or_else(|e| e.into_inner());
        if serving {
            start_loops(self, &mut entry);
        }
        let mut entries = i.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Two requests may have started the same forum at once: the first one in is kept and
        // the other's bundle is dropped unused (its writer ends with its last handle).
        if let Some(existing) = entries.get(&running.forum.id) {
            let _ = entry.stop.send(true);
            return Ok(existing.running.clone());
        }
        tracing::info!(forum = %running.forum.id, archived, "forum running");
        entries.insert(running.forum.id.clone(), entry);
        Ok(running)
    }

    /// Runs the stored version of forum `id` in its bundle, if it runs here: the hub (which
    /// tells open tabs of a hall whose stream address or title changed), the prompter (which
    /// plans moved sessions again), the mailer and what `api::pick` hands to requests. Sessions
    /// already started keep their frozen rules (`Store::effective_forum`). What the editor
    /// calls after saving; other nodes call it when the broker tells them of the save.
    pub async fn refresh(&self, id: &str) -> anyhow::Result<()> {
        let i = &self.0;
        let Some(running) = self.get(id) else {
            return Ok(());
        };
        let Some(row) = i.store.forum_row(id).await? else {
            return Ok(());
        };
        let forum = Arc::new(i.store.effective_forum(&row.forum).await?);
        if *forum == *running.forum {
            return Ok(());
        }
        running.prompter.replace_forum(forum.clone()).await?;
        running.mailer.replace_forum(forum.clone());
        running.hub.replace_forum(forum.clone());
        let mut entries = i.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get_mut(id) {
            entry.running.forum = forum;
        }
        tracing::info!(forum = %id, "forum refreshed from the store");
        Ok(())
    }

    /// Starts every stored forum whose state calls for a bundle (at start-up).
    pub async fn start_stored(&self) -> anyhow::Result<()> {
        let now = self.0.clock.now();
        for row in self.0.store.forums().await? {
            let state = ForumState::current(row.state, &row.forum, now);
            self.saw(state);
            if Self::runs_in(state) {
                let forum = self.load(&row.forum).await?;
                self.start_forum(Arc::new(forum)).await?;
            }
        }
        Ok(())
    }

    /// Stops a forum's bundle: its sockets are closed, its loops end, its writer drains.
    pub async fn stop(&self, id: &str) {
        let entry = self
            .0
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if let Some(entry) = entry {
            tracing::info!(forum = %id, "forum stopped");
            let _ = entry.stop.send(true);
            entry.running.hub.shutdown().await;
            let Entry {
                running,
                loops,
                writer_task,
                ..
            } = entry;
            drop(running);
            tokio::spawn(async move {
                for task in loops {
                    let _ = task.await;
                }
                let _ = writer_task.await;
            });
        }
    }

    /// The running bundle of forum `id`.
    pub fn get(&self, id: &str) -> Option<Running> {
        self.0
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .map(|e| e.running.clone())
    }

    /// Every running bundle, by id; bundles opened for archived forums are not among them.
    pub fn all(&self) -> Vec<Running> {
        self.0
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|e| !e.archived)
            .map(|e| e.running.clone())
            .collect()
    }

    /// Starts every bundle's loops, and those of bundles started later.
    pub fn serve(&self) {
        *self.0.serving.lock().unwrap_or_else(|e| e.into_inner()) = true;
        if let Some(news) = &self.0.news {
            tokio::spawn(news::follow_news(Arc::downgrade(&self.0), news.subscribe()));
        }
        let mut entries = self.0.entries.lock().unwrap_or_else(|e| e.into_inner());
        for entry in entries.values_mut() {
            start_loops(self, entry);
        }
    }

    /// Closes every forum's sockets and stops its loops; returns when the sockets are closed.
    pub async fn close_sockets(&self) {
        let hubs: Vec<Hub> = {
            let entries = self.0.entries.lock().unwrap_or_else(|e| e.into_inner());
            for entry in entries.values() {
                let _ = entry.stop.send(true);
            }
            entries.values().map(|e| e.running.hub.clone()).collect()
        };
        for hub in hubs {
            hub.shutdown().await;
        }
    }

    /// Waits for every forum's loops, then (once the bundles are dropped) for its writer to
    /// drain, each within `grace`. Call after [`Forums::close_sockets`] and after the HTTP
    /// server is done, with no other handle to a hub left.
    pub async fn drain(&self, grace: Duration) {
        let entries =
            std::mem::take(&mut *self.0.entries.lock().unwrap_or_else(|e| e.into_inner()));
        let mut writers = Vec::new();
        for (id, entry) in entries {
            let _ = entry.stop.send(true);
            // The mail worker finishes the letter in hand and hands back the rest of its batch.
            for task in entry.loops {
                if tokio::time::timeout(grace, task).await.is_err() {
                    tracing::warn!(forum = %id, "a forum's worker did not stop within the grace period");
                }
            }
            writers.push((id, entry.writer_task));
        }
        // The writers end once every handle (the hubs', the bundles') is gone.
        for (id, task) in writers {
            if tokio::time::timeout(grace, task).await.is_err() {
                tracing::error!(forum = %id, "the event writer did not drain within the grace period");
            }
        }
    }
}

fn start_loops(forums: &Forums, entry: &mut Entry) {
    if !entry.loops.is_empty() {
        return;
    }
    // A version saved on another node: run it here too.
    let mut saved = entry.running.hub.saved_elsewhere();
    let mut stop = entry.stop.subscribe();
    let weak = Arc::downgrade(&forums.0);
    let id = entry.running.forum.id.clone();
    entry.loops.push(tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = saved.changed() => if changed.is_err() { return },
                _ = stop.wait_for(|s| *s) => return,
            }
            let Some(inner) = weak.upgrade() else { return };
            if let Err(e) = Forums(inner).refresh(&id).await {
                tracing::error!(forum = %id, error = format!("{e:#}"), "could not run the version saved on another node");
            }
        }
    }));
    if !entry.archived {
        let mut stop = entry.stop.subscribe();
        let prompter = entry.running.prompter.clone();
        entry
            .loops
            .push(tokio::spawn(prompter.run(TICK, async move {
                let _ = stop.wait_for(|s| *s).await;
            })));
    }
    let mailer = entry.running.mailer.clone();
    entry
        .loops
        .push(tokio::spawn(mailer.run(entry.stop.subscribe())));
}
