//! A viewer's tally in one session right now, as the rules compute it over their live state:
//! counted time, confirmations, each prompt's status with its wording, and the verdict so far.
//!
//! The rules' facts for the one viewer are built straight from the live state, which is
//! already in the rules' order (connections by opening, presses by time), so there is no log
//! to intern or sort; and only the asked session is planned, once for every viewer of its hall
//! ([`SessionPlan`]). Then the rules themselves run: `evaluate_viewer_in`, `session_prompts`,
//! the labels, the reasons — the same code as every verdict.
//!
//! Two things make the rules' after-the-fact view fit a session in progress: open connections
//! are alive until now, and the rules judge "as of now", so a prompt still open and not yet
//! confirmed is `open` rather than missed (it would pause counting under rule 5 while the
//! viewer can still answer it).

use jiff::tz::TimeZone;
use serde::Serialize;

use super::LiveViewer;
use crate::domain::forum::{Forum, Session};
use crate::domain::log::{Event, EventBody};
use crate::domain::rules::facts::{
    ConfirmFact, ConnFact, HallIx, Profile, PromptFact, ViewerFacts,
};
use crate::domain::rules::{
    self, Facts, Params, Plan, Reason, Status, evaluate_viewer_in, prompts, reasons_for,
};
use crate::domain::time::Millis;

/// The most prompts a tally lists (the most recent ones). A session has a dozen at most; the
/// bound keeps every message far below the socket's write buffer whatever is fired.
pub const MAX_TALLY_PROMPTS: usize = 24;

/// The viewer's standing in a session, as the rules compute it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub session: String,
    pub counted_ms: Millis,
    pub min_ms: Millis,
    pub confirmed: u32,
    pub required: u32,
    /// Prompts shown to this viewer so far: confirmed, or present for (open ones included).
    pub prompts_shown: u32,
    /// Time is accruing right now: the client may add elapsed time to `counted_ms` locally
    /// until the session's end or the next tally.
    pub counting: bool,
    pub as_of: Millis,
    /// The session's prompts so far, oldest first, each with its one status (the most recent
    /// `MAX_TALLY_PROMPTS` of them).
    pub prompts: Vec<TallyPrompt>,
    /// The rules' verdict on what is counted so far.
    pub eligible: bool,
    /// The verdict's conditions in Russian, each met or not.
    pub reasons: Vec<Reason>,
    /// `as_of` is at or after the session's end.
    pub session_over: bool,
}

/// One prompt of the tally's session and what became of it for this viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TallyPrompt {
    pub id: String,
    pub ts: Millis,
    pub closes: Millis,
    pub status: Status,
    /// «Подтверждено в 11:09:12», «Не показано: в это время смотрели Зал №2», …
    pub label: String,
}

/// One session planned at one instant, for the tally of any viewer: what does not depend on
/// the viewer (the hall's prompts, the session's plan with its corrections, the time zone) is
/// made once here, however many viewers of the hall are then tallied.
pub struct SessionPlan<'a> {
    forum: &'a Forum,
    session: &'a Session,
    plan: Plan<'a>,
    /// The forum's halls, then the session's if it is not one of them: the rules' hall indices.
    halls: Vec<&'a str>,
    /// The session hall's prompts, first announcements in time order.
    prompts: Vec<PromptFact<'a>>,
    tz: TimeZone,
    now: Millis,
}

impl<'a> SessionPlan<'a> {
    /// `session` at `now`, over the forum's `prompts` (prompt events; other halls' and other
    /// kinds are ignored), judged with `rules` (the limit of wrong answers and the forum's
    /// corrections; its `as_of` is set to `now`). `None` if the session is not the forum's.
    pub fn new(
        forum: &'a Forum,
        session: &'a Session,
        prompts: &'a [Event],
        now: Millis,
        rules: Params,
    ) -> Option<SessionPlan<'a>> {
        let ix = forum.sessions.iter().position(|s| s.id == session.id)?;
        let mut halls: Vec<&'a str> = forum.halls.iter().map(|h| h.id.as_str()).collect();
        if !halls.contains(&session.hall.as_str()) {
            halls.push(&session.hall);
        }
        let hall = halls.iter().position(|h| *h == session.hall).unwrap_or(0) as HallIx;
        let mut announced: Vec<(Millis, &'a str, Millis)> = prompts
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Prompt {
                    prompt,
                    hall,
                    closes,
                } if *hall == session.hall => Some((e.ts, prompt.as_str(), *closes)),
                _ => None,
            })
            .collect();
        // Stable, as the replay orders a log: by time, then as given.
        announced.sort_by_key(|p| p.0);
        let mut facts_prompts: Vec<PromptFact<'a>> = Vec::with_capacity(announced.len());
        for (ts, id, closes) in announced {
            if !facts_prompts.iter().any(|p| p.id == id) {
                facts_prompts.push(PromptFact {
                    id,
                    hall,
                    ts,
                    closes,
                });
            }
        }
        let facts = Facts {
            halls: halls.clone(),
            prompts: facts_prompts,
            ..Facts::default()
        };
        let params = Params {
            as_of: now,
            ..rules
        };
        let plan = Plan::for_session(forum, ix, &facts, params)?;
        Some(SessionPlan {
            forum,
            session,
            plan,
            halls: facts.halls,
            prompts: facts.prompts,
            tz: forum.tz(),
            now,
        })
    }

    /// The viewer's tally in this session.
    pub fn tally(&self, viewer: &LiveViewer) -> Tally {
        let (forum, session, now) = (self.forum, self.session, self.now);
        // Evaluated one millisecond ahead: a connection opened at `now` has no length yet, and
        // whether the next millisecond counts is exactly what `counting` means.
        let ahead = now + 1;
        let mut halls = self.halls.clone();
        let v = viewer_facts(viewer, &mut halls, &self.prompts, ahead);
        let facts = Facts {
            halls,
            prompts: self.prompts.clone(),
            ..Facts::default()
        };
        let plan = &self.plan;
        let ps = &plan.sessions[0];
        let eval = evaluate_viewer_in(plan, &facts, &v, 0);
        let outcomes = prompts::session_prompts(plan, &facts, &v, &eval, 0);
        let result = eval.sessions.first();
        let counting = result.is_some_and(|r| {
            viewer.active_hall() == Some(session.hall.as_str())
                && session.window().contains(now)
                && r.counted.last().is_some_and(|s| s.end == ahead)
        });
        let profile = v.profile.as_ref();
        let numbers = rules::Tally {
            counted_ms: result.map_or(0, |r| r.counted_ms) - Millis::from(counting),
            paused_ms: result.map_or(0, |r| r.paused_ms),
            confirmed: result.map_or(0, |r| r.confirmed),
            shown: outcomes.iter().filter(|o| o.shown).count() as u32,
            required: ps.required,
            admitted: profile.is_some_and(|p| session.audience.admits(p.education, p.specialty)),
        };
        Tally {
            session: session.id.clone(),
            counted_ms: numbers.counted_ms,
            min_ms: ps.min_ms,
            confirmed: numbers.confirmed,
            required: numbers.required,
            prompts_shown: numbers.shown,
            counting,
            as_of: now,
            prompts: outcomes[outcomes.len().saturating_sub(MAX_TALLY_PROMPTS)..]
                .iter()
                .map(|o| {
                    let p = &facts.prompts[o.prompt as usize];
                    TallyPrompt {
                        id: p.id.to_owned(),
                        ts: p.ts,
                        closes: p.closes,
                        status: o.status(),
                        label: o.label(forum, &facts, &self.tz),
                    }
                })
                .collect(),
            eligible: numbers.counted_ms >= ps.min_ms
                && numbers.confirmed >= numbers.required
                && numbers.admitted,
            reasons: reasons_for(ps, profile, &numbers),
            session_over: now >= session.ends,
        }
    }
}

impl LiveViewer {
    /// The viewer's tally in `session` at `now` (see [`SessionPlan::new`] for the arguments).
    /// `None` if the session is not the forum's.
    pub fn tally(
        &self,
        forum: &Forum,
        session: &Session,
        prompts: &[Event],
        now: Millis,
        rules: Params,
    ) -> Option<Tally> {
        Some(SessionPlan::new(forum, session, prompts, now, rules)?.tally(self))
    }
}

/// The rules' facts of one viewer, as a replay of their events would make them, with open
/// connections alive until `ahead`. Halls not yet in `halls` are added to it.
fn viewer_facts<'v>(
    viewer: &'v LiveViewer,
    halls: &mut Vec<&'v str>,
    prompts: &[PromptFact],
    ahead: Millis,
) -> ViewerFacts<'v> {
    let mut hall_ix = |name: &'v str| match halls.iter().position(|h| *h == name) {
        Some(i) => i as HallIx,
        None => {
            halls.push(name);
            (halls.len() - 1) as HallIx
        }
    };
    let conns = viewer
        .conns
        .iter()
        .map(|c| {
            let closed = c.closed();
            // An open connection lives up to its last sign of life: a heartbeat, or a confirm
            // pressed on it (which may have arrived before its connect did).
            let end = match closed {
                Some(t) => t,
                None => {
                    let beat = if c.closed_at.is_none() {
                        c.last_seen
                    } else {
                        c.start
                    };
                    viewer
                        .confirms
                        .iter()
                        .filter(|p| p.conn == c.id && p.ts >= c.start)
                        .fold(beat.max(c.start), |end, p| end.max(p.ts))
                        .max(ahead)
                }
            };
            ConnFact {
                id: &c.id,
                hall: hall_ix(&c.hall),
                start: c.start,
                end,
                closed: closed.is_some(),
            }
        })
        .collect::<Vec<_>>();
    // A press counts only on a connection already open at its time (a replay drops the rest as
    // naming an unknown connection).
    let presses = |list: &'v [super::Press]| -> Vec<ConfirmFact<'v>> {
        list.iter()
            .filter_map(|p| {
                let conn = viewer
                    .conns
                    .iter()
                    .position(|c| c.id == p.conn && c.start <= p.ts)?;
                Some(ConfirmFact {
                    ts: p.ts,
                    conn: conn as u32,
                    prompt: prompts
                        .iter()
                        .position(|q| q.id == p.prompt)
                        .map(|i| i as u32),
                    prompt_id: &p.prompt,
                })
            })
            .collect()
    };
    let profile = viewer.profile.as_ref().and_then(|e| match &e.body {
        EventBody::Viewer {
            name,
            email,
            education,
            specialty,
            ..
        } => Some(Profile {
            name,
            email,
            education: *education,
            specialty,
        }),
        _ => None,
    });
    ViewerFacts {
        id: &viewer.id,
        profile,
        conns,
        confirms: presses(&viewer.confirms),
        wrong_answers: presses(&viewer.wrong),
    }
}
