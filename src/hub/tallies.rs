//! What a tab's tally is computed from, and the viewer facts behind it: the forum's
//! corrections (owned here), the hall's prompts (from the prompt book) and each viewer's
//! stored events, loaded once per live state.
//!
//! A tally is planned at its instant: the rules judge "as of now" (`Params::as_of` goes into
//! the rules' plan), so a plan cannot outlive the millisecond it was made for without the
//! rules changing. What does not depend on the instant is shared instead: the hall's prompt
//! events are one `Arc` per hall, rebuilt only when a prompt is added (see `prompts.rs`), and
//! a push to a whole hall plans once for all its tabs (`listener::push_tallies`).

use std::sync::{Arc, Mutex};

use super::Hub;
use super::protocol;
use crate::domain::decisions::Correction;
use crate::domain::forum::Forum;
use crate::domain::live::{self, LiveViewer, SessionPlan};
use crate::domain::log::Event;
use crate::domain::rules::Params;
use crate::domain::time::Millis;

/// The forum's corrections, for the tally of a corrected (finished) session: loaded with the
/// day's prompts, replaced when an organiser saves one on this node. A std mutex: never held
/// across await.
#[derive(Debug)]
pub(super) struct Corrections(Mutex<Arc<[Correction]>>);

impl Default for Corrections {
    fn default() -> Self {
        Corrections(Mutex::new(Vec::new().into()))
    }
}

impl Corrections {
    pub(super) fn replace(&self, corrections: Vec<Correction>) {
        *self.0.lock().expect("corrections lock") = corrections.into();
    }

    fn current(&self) -> Arc<[Correction]> {
        self.0.lock().expect("corrections lock").clone()
    }
}

impl Hub {
    /// The tally message of `viewer` for a tab in `hall`, if the hall has a session today.
    pub(super) fn tally_json(&self, viewer: &Mutex<LiveViewer>, hall: &str) -> Option<String> {
        let now = self.now();
        let prompts = self.lock_prompts().hall_events(hall);
        let forum = self.forum();
        let plan = self.session_plan(&forum, hall, &prompts, now)?;
        let tally = plan.tally(&viewer.lock().expect("viewer lock"));
        Some(protocol::ServerMsg::Tally(tally).to_json())
    }

    /// The session a tab in `hall` is about at `now`, planned over the hall's `prompts`.
    /// `forum` is the hub's forum, taken once by the caller: the plan borrows it.
    pub(super) fn session_plan<'a>(
        &self,
        forum: &'a Forum,
        hall: &str,
        prompts: &'a [Event],
        now: Millis,
    ) -> Option<SessionPlan<'a>> {
        let session = live::session_for(forum, hall, now)?;
        let rules = Params {
            max_wrong_answers: self.settings().max_wrong_answers,
            as_of: now,
            corrections: self.corrections().current(),
        };
        SessionPlan::new(forum, session, prompts, now, rules)
    }

    /// Merges the viewer's stored events, once per live state, and forgets at once what no
    /// tally can ask about any more (their earlier days).
    pub(super) async fn load_viewer(&self, viewer: &str, state: &Mutex<LiveViewer>) {
        if state.lock().expect("viewer lock").loaded {
            return;
        }
        let forum = self.forum();
        let horizon = live::horizon(&forum, self.now());
        match self
            .store()
            .viewer_events_since(&forum.id, viewer, horizon)
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
}
