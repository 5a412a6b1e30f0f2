//! The prompter: plans each session's presence prompts and fires them when their time comes.
//!
//! A schedule is planned once per session from a fresh CSPRNG seed and stored; every node
//! reads back the stored one, so all nodes agree. Each planned prompt is claimed in the store
//! before it fires, so it fires once however many nodes tick. Time comes only from the clock:
//! tests advance a manual clock and call [`Prompter::tick`].

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;

use crate::clock::Clock;
use crate::domain::forum::Forum;
use crate::domain::schedule::{Seed, plan};
use crate::domain::time::Millis;
use crate::hub::{Hub, HubError};
use crate::store::{Store, StoredSchedule};

/// One planned prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub session: String,
    pub hall: String,
    pub index: u32,
    pub at: Millis,
    pub window_ms: Millis,
    /// The prompt id it fires as: derived from the session and index, so every node uses the
    /// same one and a retried claim cannot create a second prompt.
    pub prompt_id: String,
}

#[derive(Clone)]
pub struct Prompter {
    /// Replaced when the forum is saved (see [`Prompter::replace_forum`]). `std` locks here
    /// and below: never held across an await.
    forum: Arc<RwLock<Arc<Forum>>>,
    store: Store,
    hub: Hub,
    clock: Arc<dyn Clock>,
    /// Planned prompts not yet fired (or claimed elsewhere), in time order. A `std` mutex: it is
    /// never held across an await.
    pending: Arc<Mutex<Vec<Planned>>>,
    /// Prompts this node claimed but could not fire (the store was away): nobody else will
    /// fire them, so they are retried here on the next ticks. A `std` mutex, as above.
    claimed: Arc<Mutex<Vec<Planned>>>,
    /// Ticks in a row that met a store error; `run` waits longer between them.
    failures: Arc<AtomicU32>,
    schedules: Arc<RwLock<Arc<Vec<StoredSchedule>>>>,
}

/// Every session's stored schedule, and the prompts still to fire at `now`, in time order. A
/// session that has not started is planned from its stored seed and its current times, and
/// the store is told when they moved; a started one keeps its stored times.
async fn load(
    forum: &Forum,
    store: &Store,
    now: Millis,
) -> anyhow::Result<(Vec<StoredSchedule>, Vec<Planned>)> {
    let mut schedules = Vec::new();
    let mut pending = Vec::new();
    for s in &forum.sessions {
        // Fresh from the thread-local CSPRNG: nobody may predict a session's prompts.
        let seed = Seed::from_rng(&mut rand::rng());
        let times = plan(s, forum.prompt_min_gap_ms, forum.prompt_margin_ms, &seed)?;
        let mut stored = store
            .schedule_or_insert(
                &forum.id,
                &StoredSchedule {
                    session: s.id.clone(),
                    seed,
                    times,
                },
            )
            .await?;
        if now < s.starts {
            let times = plan(
                s,
                forum.prompt_min_gap_ms,
                forum.prompt_margin_ms,
                &stored.seed,
            )?;
            if times != stored.times {
                store.reschedule(&forum.id, &s.id, &times).await?;
                stored.times = times;
            }
        }
        // A session already over has nothing left to fire (a forum loaded after its dates).
        let over = now >= s.ends;
        for (i, at) in stored.times.iter().enumerate().filter(|_| !over) {
            pending.push(Planned {
                session: s.id.clone(),
                hall: s.hall.clone(),
                index: i as u32,
                at: *at,
                window_ms: s.prompt_window_ms,
                prompt_id: format!("{}-{}", s.id, i + 1),
            });
        }
        schedules.push(stored);
    }
    pending.sort_by_key(|p| p.at);
    Ok((schedules, pending))
}

/// The longest pause between ticks while the store fails.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Prompter {
    /// Plans (or loads) every session's schedule.
    pub async fn start(
        forum: Arc<Forum>,
        store: Store,
        hub: Hub,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Prompter> {
        let (schedules, pending) = load(&forum, &store, clock.now()).await?;
        Ok(Prompter {
            forum: Arc::new(RwLock::new(forum)),
            store,
            hub,
            clock,
            pending: Arc::new(Mutex::new(pending)),
            claimed: Arc::default(),
            failures: Arc::default(),
            schedules: Arc::new(RwLock::new(Arc::new(schedules))),
        })
    }

    /// Runs a saved version of the forum from now on: sessions that have not started are
    /// planned again (a moved session keeps its seed, so every node plans the same times).
    /// Prompts already fired or claimed stay so: their claims in the store decide.
    pub async fn replace_forum(&self, forum: Arc<Forum>) -> anyhow::Result<()> {
        let (schedules, pending) = load(&forum, &self.store, self.clock.now()).await?;
        *self.forum.write().unwrap_or_else(|e| e.into_inner()) = forum;
        *self.schedules.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(schedules);
        // Due prompts already fired are refused by their claims; the rest wait their time.
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = pending;
        Ok(())
    }

    /// Every session's stored schedule (seed and times), for the auditor.
    pub fn schedules(&self) -> Arc<Vec<StoredSchedule>> {
        self.schedules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn forum(&self) -> Arc<Forum> {
        self.forum.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Planned prompts still to come, soonest first.
    pub fn upcoming(&self, limit: usize) -> Vec<Planned> {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.iter().take(limit).cloned().collect()
    }

    /// Fires every planned prompt that is due. A prompt missed while no node was running
    /// still fires late if its session has time left for it, because viewers need their quota;
    /// one whose window would outlast the session is dropped. A prompt that cannot be claimed
    /// or fired because the store is away is tried again on a later tick.
    pub async fn tick(&self) -> Vec<String> {
        let now = self.clock.now();
        let mut due: Vec<(Planned, bool)> = {
            let mut claimed = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
            claimed.drain(..).map(|p| (p, true)).collect()
        };
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let split = pending.partition_point(|p| p.at <= now);
            due.extend(pending.drain(..split).map(|p| (p, false)));
        }
        let mut fired = Vec::new();
        let mut failed = false;
        let forum = self.forum();
        for (p, claimed) in due {
            let Some(session) = forum.session(&p.session) else {
                continue;
            };
            if now + p.window_ms > session.ends {
                tracing::warn!(session = %p.session, index = p.index, "planned prompt skipped: too late to fire");
                continue;
            }
            if !claimed {
                match self
                    .store
                    .claim_planned_prompt(&forum.id, &p.session, p.index, &p.prompt_id)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        // Not claimed by anyone we know of: put it back and try again later.
                        tracing::error!(error = %e, prompt = %p.prompt_id, "claiming a planned prompt failed");
                        self.requeue(p);
                        failed = true;
                        continue;
                    }
                }
            }
            match self
                .hub
                .fire_prompt(&p.hall, p.window_ms, Some(p.prompt_id.clone()))
                .await
            {
                Ok(_) => {
                    tracing::info!(session = %p.session, prompt = %p.prompt_id, "planned prompt fired");
                    fired.push(p.prompt_id);
                }
                Err(HubError::Store(e)) if e.is_outage() => {
                    tracing::error!(error = %e, prompt = %p.prompt_id, "a claimed planned prompt could not be fired yet; retrying");
                    self.claimed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(p);
                    failed = true;
                }
                Err(e) => {
                    tracing::error!(error = %e, prompt = %p.prompt_id, "a claimed planned prompt could not be fired");
                }
            }
        }
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        } else {
            self.failures.store(0, Ordering::Relaxed);
        }
        fired
    }

    fn requeue(&self, p: Planned) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let at = pending.partition_point(|q| q.at <= p.at);
        pending.insert(at, p);
    }

    /// Ticks every `period` until `stop` resolves.
    pub async fn run(
        self,
        period: std::time::Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = interval.tick() => {
                    self.tick().await;
                }
            }
            // While the store fails, wait longer between ticks (doubling, up to 30 s), so a
            // long outage is not a wall of errors; the first success resets it.
            let failures = self.failures.load(Ordering::Relaxed);
            if failures > 0 {
                let backoff = period
                    .saturating_mul(1 << failures.min(16))
                    .min(MAX_BACKOFF);
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
            }
        }
    }
}
