//! The rules engine: from a forum and its attendance log to one verdict per (viewer, session).
//!
//! 1. [`facts`] replays the log into connections with their lives, prompts and confirms.
//! 2. [`timeline`] turns a viewer's connections into their active hall over time.
//! 3. [`evaluate`] measures counted time, checks confirms, pauses on missed prompts, and decides.
//! 4. [`prompts`] gives each prompt one status for the viewer, with its reason and wording.
//! 5. [`verdict`] words the reasons.
//!
//! Forum-wide corrections after an outage ([`corrections`]) come in with the [`Params`] and
//! change the plan of the sessions they name, never the frozen session rules.
//!
//! Pure and deterministic: the same forum and log always give the same verdicts, whatever the
//! order of the log's lines with distinct times.

mod anomalies;
pub mod corrections;
pub mod evaluate;
pub mod facts;
#[cfg(test)]
mod fast_path_tests;
mod intern;
mod numbering;
pub mod prompts;
mod replay;
#[cfg(test)]
mod replay_reference;
pub mod timeline;
pub mod verdict;

#[cfg(test)]
mod correction_tests;
#[cfg(test)]
mod prompt_tests;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod story;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::Serialize;

pub use anomalies::Anomalies;
pub use evaluate::{
    DEFAULT_MAX_WRONG_ANSWERS, Params, Plan, ViewerEvaluation, evaluate_viewer, evaluate_viewer_in,
};
pub use facts::{Facts, Profile};
pub use prompts::{PromptOutcome, Status, Why};
pub use verdict::{ConfirmCheck, Reason, SessionResult, Tally, confirmations_ru, reasons_for};

use crate::domain::forum::{Education, Forum};
use crate::domain::log::Event;

/// One output row: a viewer's verdict for a session, flattened for JSON and CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub viewer: String,
    pub session: String,
    /// Whole seconds of counted time, rounded down.
    pub seconds: i64,
    /// Whole minutes of counted time, rounded down.
    pub minutes: i64,
    pub confirmed: u32,
    pub required: u32,
    /// Prompts of the session that were shown in its hall.
    pub prompts: u32,
    /// Of those, the ones shown to this viewer: confirmed, or present for.
    pub shown: u32,
    pub eligible: bool,
    pub reasons: Vec<Reason>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub education: Option<Education>,
    pub specialty: Option<String>,
}

impl Verdict {
    fn new(v: &facts::ViewerFacts, r: SessionResult) -> Verdict {
        let p = v.profile.as_ref();
        let prompts = (r.prompts.len() - r.with_status(Status::Voided).count()) as u32;
        let (seconds, minutes) = (r.seconds(), r.minutes());
        Verdict {
            viewer: v.id.to_owned(),
            prompts,
            session: r.session,
            seconds,
            minutes,
            confirmed: r.confirmed,
            required: r.required,
            shown: r.shown,
            eligible: r.eligible,
            reasons: r.reasons,
            name: p.map(|p| p.name.to_owned()),
            email: p.map(|p| p.email.to_owned()),
            education: p.map(|p| p.education),
            specialty: p.map(|p| p.specialty.to_owned()),
        }
    }
}

/// The verdicts of a whole forum, and what the log held that could not be credited.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub verdicts: Vec<Verdict>,
    pub anomalies: Anomalies,
}

/// Evaluates a log after the fact with the default [`Params`]: replays it, then judges every
/// viewer.
pub fn evaluate(forum: &Forum, events: &[Event]) -> Evaluation {
    evaluate_with(forum, events, Params::default())
}

/// [`evaluate`] with the server's own [`Params`].
pub fn evaluate_with(forum: &Forum, events: &[Event], params: Params) -> Evaluation {
    let facts = Facts::build(events);
    Evaluation {
        verdicts: verdicts_with(forum, &facts, params),
        anomalies: facts.anomalies.clone(),
    }
}

/// Judges every viewer of already replayed facts with the default [`Params`]. Rows are ordered
/// by the forum's session order, then by viewer id.
pub fn verdicts(forum: &Forum, facts: &Facts) -> Vec<Verdict> {
    verdicts_with(forum, facts, Params::default())
}

pub fn verdicts_with(forum: &Forum, facts: &Facts, params: Params) -> Vec<Verdict> {
    judge_each(forum, facts, params, |_, v, r| Some(Verdict::new(v, r)))
}

/// Judges every viewer and keeps what `keep` makes of each (viewer, session result), ordered by
/// the forum's session order, then by viewer id. `keep` gets the viewer's index in
/// `facts.viewers`, and the result itself (to keep its parts without copying them);
/// returning `None` drops the row (e.g. another session's).
pub fn judge_each<T: Send>(
    forum: &Forum,
    facts: &Facts,
    params: Params,
    keep: impl Fn(u32, &facts::ViewerFacts, SessionResult) -> Option<T> + Sync,
) -> Vec<T> {
    let plan = Plan::with(forum, facts, params);
    let order: HashMap<&str, usize> = forum
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let judge = |first: usize, viewers: &[facts::ViewerFacts]| -> Vec<(usize, u32, T)> {
        let mut out = Vec::new();
        for (k, v) in viewers.iter().enumerate() {
            let ix = (first + k) as u32;
            for r in evaluate_viewer(&plan, facts, v).sessions {
                let session = order[r.session.as_str()];
                if let Some(t) = keep(ix, v, r) {
                    out.push((session, ix, t));
                }
            }
        }
        out
    };
    // Viewers are independent, so the work splits across cores with no shared state.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = facts.viewers.len().div_ceil(threads).max(4096);
    let rows: Vec<(usize, u32, T)> = if facts.viewers.len() <= chunk {
        judge(0, &facts.viewers)
    } else {
        std::thread::scope(|scope| {
            let judge = &judge;
            let handles: Vec<_> = facts
                .viewers
                .chunks(chunk)
                .enumerate()
                .map(|(n, part)| scope.spawn(move || judge(n * chunk, part)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a rules worker panicked"))
                .collect()
        })
    };
    // Viewer ids are distinct, so ranking them once lets the sort of a million rows compare
    // integers rather than strings, and sorting (key, position) pairs rather than whole rows
    // keeps it from moving hundreds of bytes per comparison.
    let mut by_id: Vec<u32> = (0..facts.viewers.len() as u32).collect();
    by_id.sort_unstable_by_key(|&ix| facts.viewers[ix as usize].id);
    let mut rank = vec![0u32; by_id.len()];
    for (r, &ix) in by_id.iter().enumerate() {
        rank[ix as usize] = r as u32;
    }
    let mut keys: Vec<(u64, u32)> = rows
        .iter()
        .enumerate()
        .map(|(pos, (session, ix, _))| {
            let key = ((*session as u64) << 32) | u64::from(rank[*ix as usize]);
            (key, pos as u32)
        })
        .collect();
    keys.sort_unstable();
    let mut slots: Vec<Option<T>> = rows.into_iter().map(|(_, _, t)| Some(t)).collect();
    keys.into_iter()
        .filter_map(|(_, pos)| slots[pos as usize].take())
        .collect()
}
