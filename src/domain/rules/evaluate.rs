//! Rules 3–7: counted time, valid confirms, pausing on missed prompts, eligibility.
//!
//! Works one viewer at a time over their [`ViewerFacts`]; nothing is shared between viewers
//! but the read-only [`Plan`], so a forum is evaluated in parallel by splitting its viewers.

use std::sync::Arc;

use super::corrections;
use super::facts::{ConfirmFact, Facts, HallIx, ViewerFacts};
use super::prompts::{Status, Viewing, decide};
use super::timeline::{ActiveSpan, active_conn_at, active_spans};
use super::verdict::{ConfirmCheck, SessionResult, reasons};
use crate::domain::decisions::Correction;
use crate::domain::forum::{Education, Forum, Session, specialty_key};
use crate::domain::time::{Millis, Span, measure, normalize, subtract};

/// Wrong answers to one prompt's challenge a viewer may choose before the prompt can no longer
/// be confirmed (`[hub] max_wrong_answers` on the server).
pub const DEFAULT_MAX_WRONG_ANSWERS: u32 = 3;

/// What the rules need besides the forum and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// A confirm after this many wrong answers to its prompt does not count.
    pub max_wrong_answers: u32,
    /// The instant of judgement: a prompt still open then is [`Status::Open`], not missed.
    /// `Millis::MAX` (after the fact) for verdicts; the live tally's "now".
    pub as_of: Millis,
    /// The forum's corrections (see [`super::corrections`]); each applies to the session it
    /// names. Shared, so a `Params` is cheap to clone into a worker.
    pub corrections: Arc<[Correction]>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_wrong_answers: DEFAULT_MAX_WRONG_ANSWERS,
            as_of: Millis::MAX,
            corrections: Vec::new().into(),
        }
    }
}

/// A session prepared for evaluation against one set of facts.
#[derive(Debug, Clone)]
pub struct PlannedSession<'f> {
    pub session: &'f Session,
    /// The session's hall as indexed in the facts; `None` if the log never mentions it.
    pub hall: Option<HallIx>,
    /// The window minus the excluded ranges, the corrections' ones included.
    pub counted_parts: Vec<Span>,
    /// The minimum counted time once corrections are applied (the session's own otherwise).
    pub min_ms: Millis,
    /// Confirmations required once corrections are applied.
    pub required: u32,
    /// Prompts voided by a correction (indices into `Facts::prompts`), with its date.
    pub voided: Vec<(u32, Millis)>,
    /// The corrections of this session in words, each a reason of every verdict.
    pub notes: Vec<String>,
    /// Indices into `Facts::prompts` of the prompts of this session, in log order.
    pub prompts: Vec<u32>,
    /// The audience as comparison keys, higher then secondary: computed once here rather
    /// than per viewer.
    audience: [Vec<String>; 2],
}

impl PlannedSession<'_> {
    /// The minimum in whole minutes, as the reasons show it (rounded up).
    pub fn min_minutes(&self) -> i64 {
        corrections::minutes_up(self.min_ms)
    }

    fn admits(&self, education: Education, key: &str) -> bool {
        let list = match education {
            Education::Higher => &self.audience[0],
            Education::Secondary => &self.audience[1],
        };
        list.iter().any(|a| a == key)
    }
}

/// The forum's sessions matched with the facts' halls and prompts.
#[derive(Debug, Clone)]
pub struct Plan<'f> {
    pub forum: &'f Forum,
    pub sessions: Vec<PlannedSession<'f>>,
    pub params: Params,
}

impl<'f> Plan<'f> {
    /// With the default [`Params`]: after the fact, the default limit of wrong answers.
    pub fn new(forum: &'f Forum, facts: &Facts) -> Plan<'f> {
        Plan::with(forum, facts, Params::default())
    }

    pub fn with(forum: &'f Forum, facts: &Facts, params: Params) -> Plan<'f> {
        let tz = forum.tz();
        let sessions = forum
            .sessions
            .iter()
            .map(|s| plan_session(s, facts, &params, &tz))
            .collect();
        Plan {
            forum,
            sessions,
            params,
        }
    }

    /// A plan of `forum.sessions[session]` alone (its index in this plan is 0): what a live
    /// tally of one session needs, without planning the forum's other sessions. The session is
    /// planned exactly as [`Plan::with`] plans it. `None` if there is no such session.
    pub fn for_session(
        forum: &'f Forum,
        session: usize,
        facts: &Facts,
        params: Params,
    ) -> Option<Plan<'f>> {
        let s = forum.sessions.get(session)?;
        let planned = plan_session(s, facts, &params, &forum.tz());
        Some(Plan {
            forum,
            sessions: vec![planned],
            params,
        })
    }

    /// The date of the correction that voided prompt `p` (index into `Facts::prompts`), if one
    /// did.
    pub fn voided_at(&self, p: u32) -> Option<Millis> {
        self.sessions
            .iter()
            .flat_map(|ps| &ps.voided)
            .find(|(q, _)| *q == p)
            .map(|(_, at)| *at)
    }

    /// The index in `sessions` of the session with id `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.sessions.iter().position(|ps| ps.session.id == id)
    }
}

/// One session matched with the facts' hall and prompts, its corrections applied.
fn plan_session<'f>(
    s: &'f Session,
    facts: &Facts,
    params: &Params,
    tz: &jiff::tz::TimeZone,
) -> PlannedSession<'f> {
    let hall = facts.hall_ix(&s.hall);
    let window = s.window();
    let prompts = facts
        .prompts
        .iter()
        .enumerate()
        .filter(|(_, p)| Some(p.hall) == hall && window.contains(p.ts))
        .map(|(i, _)| i as u32)
        .collect::<Vec<u32>>();
    let keys = |list: &[String]| list.iter().map(|x| specialty_key(x)).collect();
    let fixed = corrections::apply(s, &prompts, facts, &params.corrections, tz);
    PlannedSession {
        session: s,
        hall,
        counted_parts: fixed.counted_parts,
        min_ms: fixed.min_ms,
        required: fixed.required,
        voided: fixed.voided,
        notes: fixed.notes,
        prompts,
        audience: [keys(&s.audience.higher), keys(&s.audience.secondary)],
    }
}

/// Rule 4 for one confirm, with the plan's limit of wrong answers.
pub fn check_confirm(plan: &Plan, facts: &Facts, v: &ViewerFacts, c: &ConfirmFact) -> ConfirmCheck {
    let Some(ix) = c.prompt else {
        return ConfirmCheck::UnknownPrompt;
    };
    let p = &facts.prompts[ix as usize];
    if c.ts < p.ts {
        return ConfirmCheck::BeforePrompt;
    }
    if c.ts > p.closes {
        return ConfirmCheck::Late;
    }
    if v.wrong_answers_to(ix, c.ts) >= plan.params.max_wrong_answers {
        return ConfirmCheck::TooManyWrongAnswers;
    }
    let conn = &v.conns[c.conn as usize];
    if !conn.alive_at(c.ts) {
        return ConfirmCheck::ConnectionNotAlive;
    }
    if conn.hall != p.hall {
        return ConfirmCheck::OtherHall;
    }
    match active_conn_at(&v.conns, c.ts) {
        Some(a) if v.conns[a].hall == p.hall => ConfirmCheck::Valid,
        _ => ConfirmCheck::NotActiveHall,
    }
}

/// Everything the rules decide about one viewer: the timeline, each confirm's check, and a
/// result for every session they have counted time or a valid confirm in.
#[derive(Debug, Clone)]
pub struct ViewerEvaluation {
    pub active: Vec<ActiveSpan>,
    pub checks: Vec<ConfirmCheck>,
    pub sessions: Vec<SessionResult>,
}

/// Judges one viewer in every session of the plan.
pub fn evaluate_viewer(plan: &Plan, facts: &Facts, v: &ViewerFacts) -> ViewerEvaluation {
    judge(plan, facts, v, None)
}

/// Judges one viewer in `plan.sessions[session]` only (an export row made when it is written).
pub fn evaluate_viewer_in(
    plan: &Plan,
    facts: &Facts,
    v: &ViewerFacts,
    session: usize,
) -> ViewerEvaluation {
    judge(plan, facts, v, Some(session))
}

fn judge(plan: &Plan, facts: &Facts, v: &ViewerFacts, only: Option<usize>) -> ViewerEvaluation {
    let active = active_spans(&v.conns);
    let checks: Vec<ConfirmCheck> = v
        .confirms
        .iter()
        .map(|c| check_confirm(plan, facts, v, c))
        .collect();
    let who = v.profile.map(|p| (p.education, specialty_key(p.specialty)));
    let sessions = {
        let w = Viewing {
            v,
            checks: &checks,
            active: &active,
        };
        plan.sessions
            .iter()
            .enumerate()
            .filter(|(i, _)| only.is_none_or(|o| o == *i))
            .filter_map(|(_, ps)| evaluate_session(plan, ps, facts, &w, who.as_ref()))
            .collect()
    };
    ViewerEvaluation {
        active,
        checks,
        sessions,
    }
}

fn evaluate_session(
    plan: &Plan,
    ps: &PlannedSession,
    facts: &Facts,
    w: &Viewing,
    who: Option<&(Education, String)>,
) -> Option<SessionResult> {
    let s = ps.session;
    let hall = ps.hall?;
    let window = s.window();
    let mut counted = Vec::new();
    for a in w
        .active
        .iter()
        .filter(|a| a.hall == hall && a.span.overlaps(&window))
    {
        // Active spans and counted parts are both sorted and disjoint, so this stays sorted.
        for part in &ps.counted_parts {
            let x = a.span.intersect(part);
            if !x.is_empty() {
                counted.push(x);
            }
        }
    }
    let confirmed_any = w.v.confirms.iter().zip(w.checks).any(|(c, ch)| {
        *ch == ConfirmCheck::Valid && c.prompt.is_some_and(|p| ps.prompts.contains(&p))
    });
    if counted.is_empty() && !confirmed_any {
        return None;
    }

    // Each prompt's one status, judged on the time counted before any pause.
    let prompts: Vec<_> = ps
        .prompts
        .iter()
        .map(|&p| decide(plan, facts, w, p, &counted))
        .collect();
    let mut paused = Vec::new();
    if s.pause_on_missed {
        for missed in prompts
            .iter()
            .filter(|o| o.status() == Status::NotConfirmed)
        {
            // Counting stops at the missed prompt and resumes at the first valid confirm of a
            // later prompt of the same hall.
            let p = missed.prompt;
            let resume =
                w.v.confirms
                    .iter()
                    .zip(w.checks)
                    .filter(|(_, ch)| **ch == ConfirmCheck::Valid)
                    .filter_map(|(c, _)| c.prompt.map(|q| (c.ts, q)))
                    .find(|(_, q)| *q > p && facts.prompts[*q as usize].hall == hall)
                    .map_or(s.ends, |(ts, _)| ts);
            paused.push(Span::new(facts.prompts[p as usize].ts, resume));
        }
    }
    let paused = normalize(paused);
    let counted_before_pause = measure(&counted);
    if !paused.is_empty() {
        counted = subtract(&counted, &paused);
    }
    let counted_ms = measure(&counted);

    let admitted = who.is_some_and(|(education, key)| ps.admits(*education, key));
    let confirmed = prompts
        .iter()
        .filter(|o| o.status() == Status::Confirmed)
        .count() as u32;
    let shown = prompts.iter().filter(|o| o.shown).count() as u32;
    let eligible = counted_ms >= ps.min_ms && confirmed >= ps.required && admitted;
    let mut result = SessionResult {
        session: s.id.clone(),
        counted,
        counted_ms,
        paused_ms: counted_before_pause - counted_ms,
        prompts,
        confirmed,
        shown,
        required: ps.required,
        admitted,
        eligible,
        reasons: Vec::new(),
    };
    result.reasons = reasons(ps, w.v.profile.as_ref(), &result);
    Some(result)
}
