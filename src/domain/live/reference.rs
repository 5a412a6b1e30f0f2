//! The tally as it was computed before the live core (kept for tests only): the log turned into
//! facts by a full replay, every session of the forum planned, then the same rules. What the
//! property test checks the live tally against, at every step of a random log.

use super::tally::{MAX_TALLY_PROMPTS, Tally, TallyPrompt};
use crate::domain::forum::{Forum, Session};
use crate::domain::log::{Event, EventBody};
use crate::domain::rules::facts::ViewerFacts;
use crate::domain::rules::{self, Facts, Params, Plan, evaluate_viewer_in, prompts, reasons_for};
use crate::domain::time::Millis;

/// `viewer`'s tally in `session` at `now` from `log` (any viewers' events and any prompts; the
/// prompts of other halls are left out, as the hub never passed them).
pub(super) fn tally(
    forum: &Forum,
    session: &Session,
    viewer: &str,
    log: &[Event],
    now: Millis,
    rules: Params,
) -> Option<Tally> {
    let events: Vec<Event> = log
        .iter()
        .filter(|e| !matches!(&e.body, EventBody::Prompt { hall, .. } if *hall != session.hall))
        .cloned()
        .collect();
    let mut facts = Facts::build(&events);
    let ahead = now + 1;
    facts.extend_open_to(ahead);
    let params = Params {
        as_of: now,
        ..rules
    };
    let plan = Plan::with(forum, &facts, params);
    let ix = plan.index_of(&session.id)?;
    let ps = &plan.sessions[ix];
    let nobody = ViewerFacts {
        id: viewer,
        ..ViewerFacts::default()
    };
    let v = facts.viewer(viewer).unwrap_or(&nobody);
    let eval = evaluate_viewer_in(&plan, &facts, v, ix);
    let outcomes = prompts::session_prompts(&plan, &facts, v, &eval, ix);
    let result = eval.sessions.first();
    // The active hall: the most recently opened connection without a disconnect (rule 2).
    let active = v.conns.iter().rev().find(|c| !c.closed).map(|c| c.hall);
    let counting = result.is_some_and(|r| {
        active.is_some()
            && active == facts.hall_ix(&session.hall)
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
    let tz = forum.tz();
    Some(Tally {
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
                    label: o.label(forum, &facts, &tz),
                }
            })
            .collect(),
        eligible: numbers.counted_ms >= ps.min_ms
            && numbers.confirmed >= numbers.required
            && numbers.admitted,
        reasons: reasons_for(ps, profile, &numbers),
        session_over: now >= session.ends,
    })
}
