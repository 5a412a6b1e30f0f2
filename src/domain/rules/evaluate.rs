//! Rules 3–7: counted time, valid confirms, pausing on missed prompts, eligibility.
//!
//! Works one viewer at a time over their [`ViewerFacts`]; nothing is shared between viewers
//! but the read-only [`Plan`], so a forum is evaluated in parallel by splitting its viewers.

use super::facts::{ConfirmFact, Facts, HallIx, PromptFact, ViewerFacts};
use super::timeline::{ActiveSpan, active_conn_at, active_spans};
use super::verdict::{ConfirmCheck, SessionResult, reasons};
use crate::domain::forum::{Education, Forum, Session, specialty_key};
use crate::domain::time::{Span, measure, normalize, subtract};

/// A session prepared for evaluation against one set of facts.
#[derive(Debug, Clone)]
pub struct PlannedSession<'f> {
    pub session: &'f Session,
    /// The session's hall as indexed in the facts; `None` if the log never mentions it.
    pub hall: Option<HallIx>,
    /// The window minus the excluded ranges.
    pub counted_parts: Vec<Span>,
    /// Indices into `Facts::prompts` of the prompts of this session, in log order.
    pub prompts: Vec<u32>,
    /// The audience as comparison keys, higher then secondary: computed once here rather
    /// than per viewer.
    audience: [Vec<String>; 2],
}

impl PlannedSession<'_> {
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
    pub sessions: Vec<PlannedSession<'f>>,
}

impl<'f> Plan<'f> {
    pub fn new(forum: &'f Forum, facts: &Facts) -> Plan<'f> {
        let sessions = forum
            .sessions
            .iter()
            .map(|s| {
                let hall = facts.hall_ix(&s.hall);
                let window = s.window();
                let prompts = facts
                    .prompts
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| Some(p.hall) == hall && window.contains(p.ts))
                    .map(|(i, _)| i as u32)
                    .collect();
                let keys = |list: &[String]| list.iter().map(|x| specialty_key(x)).collect();
                PlannedSession {
                    session: s,
                    hall,
                    counted_parts: s.counted_parts(),
                    prompts,
                    audience: [keys(&s.audience.higher), keys(&s.audience.secondary)],
                }
            })
            .collect();
        Plan { sessions }
    }
}

/// Rule 4 for one confirm.
pub fn check_confirm(v: &ViewerFacts, prompts: &[PromptFact], c: &ConfirmFact) -> ConfirmCheck {
    let Some(p) = c.prompt.map(|i| &prompts[i as usize]) else {
        return ConfirmCheck::UnknownPrompt;
    };
    if c.ts < p.ts {
        return ConfirmCheck::BeforePrompt;
    }
    if c.ts > p.closes {
        return ConfirmCheck::Late;
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

pub fn evaluate_viewer(plan: &Plan, facts: &Facts, v: &ViewerFacts) -> ViewerEvaluation {
    let active = active_spans(&v.conns);
    let checks: Vec<ConfirmCheck> = v
        .confirms
        .iter()
        .map(|c| check_confirm(v, &facts.prompts, c))
        .collect();
    // Valid confirms as (ts, prompt index), in log order.
    let valid: Vec<(i64, u32)> = v
        .confirms
        .iter()
        .zip(&checks)
        .filter(|(_, ch)| **ch == ConfirmCheck::Valid)
        .filter_map(|(c, _)| c.prompt.map(|p| (c.ts, p)))
        .collect();
    let who = v.profile.map(|p| (p.education, specialty_key(p.specialty)));
    let sessions = plan
        .sessions
        .iter()
        .filter_map(|ps| evaluate_session(ps, facts, v, who.as_ref(), &active, &valid))
        .collect();
    ViewerEvaluation {
        active,
        checks,
        sessions,
    }
}

fn evaluate_session(
    ps: &PlannedSession,
    facts: &Facts,
    v: &ViewerFacts,
    who: Option<&(Education, String)>,
    active: &[ActiveSpan],
    valid: &[(i64, u32)],
) -> Option<SessionResult> {
    let s = ps.session;
    let hall = ps.hall?;
    let window = s.window();
    let mut counted = Vec::new();
    for a in active
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
    let confirmed_prompts: Vec<u32> = ps
        .prompts
        .iter()
        .copied()
        .filter(|p| valid.iter().any(|(_, q)| q == p))
        .collect();
    if counted.is_empty() && confirmed_prompts.is_empty() {
        return None;
    }

    let mut missed = Vec::new();
    let mut paused = Vec::new();
    for &p in &ps.prompts {
        if confirmed_prompts.contains(&p) {
            continue;
        }
        let prompt = &facts.prompts[p as usize];
        let open = Span::new(prompt.ts, prompt.closes);
        let present = counted.iter().any(|c| c.overlaps(&open));
        if !present {
            continue;
        }
        missed.push(p);
        if s.pause_on_missed {
            // Counting stops at the missed prompt and resumes at the first valid confirm of a
            // later prompt of the same hall.
            let resume = valid
                .iter()
                .find(|(_, q)| *q > p && facts.prompts[*q as usize].hall == hall)
                .map_or(s.ends, |(ts, _)| *ts);
            paused.push(Span::new(prompt.ts, resume));
        }
    }
    let paused = normalize(paused);
    let counted_before_pause = measure(&counted);
    if !paused.is_empty() {
        counted = subtract(&counted, &paused);
    }
    let counted_ms = measure(&counted);

    let admitted = who.is_some_and(|(education, key)| ps.admits(*education, key));
    let confirmed = confirmed_prompts.len() as u32;
    let eligible = counted_ms >= s.min_ms() && confirmed >= s.prompts_required && admitted;
    let mut result = SessionResult {
        session: s.id.clone(),
        counted,
        counted_ms,
        paused_ms: counted_before_pause - counted_ms,
        prompts_shown: ps.prompts.clone(),
        confirmed_prompts,
        missed_prompts: missed,
        confirmed,
        required: s.prompts_required,
        admitted,
        eligible,
        reasons: Vec::new(),
    };
    result.reasons = reasons(s, v.profile.as_ref(), &result);
    Some(result)
}
