//! The viewer's own results through their personal link: `GET /api/me/results?token=…`, the
//! data of the `/my` page and of the player's «сессия завершена» panel.
//!
//! Each session's verdict comes from the rules engine exactly as the organiser's evidence trail
//! gets it: the viewer's stored events and the forum's prompts, replayed by [`Facts::build`] and
//! judged by [`evaluate_viewer`]. Nothing here words attendance itself; a session the rules give
//! no result for (no counted time and no valid confirmation) is sent as `result: null`.
//! Beside it: the organiser's decision in force (`decision`, which wins: `credited`) and the
//! viewer's latest appeal about the session with its answer (`appeal`).

use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::token_hash;
use super::case::Case;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Query};
use super::pick::Picked;
use crate::domain::appeals::Appeal;
use crate::domain::decisions::Decision;
use crate::domain::forum::{Forum, Session};
use crate::domain::rules::{Facts, Plan, SessionResult, evaluate_viewer};
use crate::domain::time::{Millis, format_clock, format_local};
use crate::reports::hall_title;
use crate::store::ViewerRow;

/// The viewer of a personal link's token, or a Russian 401.
pub(super) async fn viewer_of(state: &AppState, token: Option<String>) -> ApiResult<ViewerRow> {
    let token = token.unwrap_or_default();
    if token.trim().is_empty() {
        return Err(ApiError::Unauthorized(
            "В адресе нет личного идентификатора. Откройте страницу по ссылке из письма.".into(),
        ));
    }
    state
        .store
        .viewer_by_token_hash(&state.forum.id, &token_hash(token.trim()))
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "Ссылка недействительна: возможно, организатор выдал вам новую. Откройте ссылку из последнего письма."
                    .into(),
            )
        })
}

/// A decision as the viewer reads it (who decided stays with the organisers).
pub(super) fn decision_json(d: &Decision) -> Value {
    json!({ "outcome": d.outcome, "credited": d.outcome.credits(), "title": d.outcome.title_ru(),
            "reason": d.reason, "at": d.at, "appeal": d.appeal })
}

/// An appeal as the viewer reads it.
pub(super) fn appeal_json(a: &Appeal) -> Value {
    json!({
        "id": a.id, "session": a.session, "text": a.text, "created_at": a.created_at,
        "updated_at": a.updated_at, "state": a.state,
        "answer": a.answer.as_ref().map(|x| json!({ "grant": x.grant, "reason": x.reason, "at": x.at })),
    })
}

#[derive(Deserialize)]
pub struct TokenQuery {
    /// Optional so that a missing token gets a Russian sentence, not the framework's English.
    pub token: Option<String>,
}

/// Where a session stands at `now`.
fn phase(s: &Session, now: Millis) -> &'static str {
    if now < s.starts {
        "upcoming"
    } else if now < s.ends {
        "live"
    } else {
        "over"
    }
}

/// A verdict as the page shows it: the figures, the conditions met or not, and every prompt of
/// the session with the one status the rules gave it.
fn result_json(r: &SessionResult, forum: &Forum, facts: &Facts, tz: &TimeZone) -> Value {
    let prompts: Vec<Value> = r
        .prompts
        .iter()
        .map(|p| {
            let prompt = &facts.prompts[p.prompt as usize];
            json!({
                "id": prompt.id, "ts": prompt.ts, "closes": prompt.closes,
                "status": p.status(), "label": p.label(forum, facts, tz),
            })
        })
        .collect();
    json!({
        "minutes": r.minutes(),
        "confirmed": r.confirmed,
        "shown": r.shown,
        "required": r.required,
        "eligible": r.eligible,
        "reasons": r.reasons,
        "prompts": prompts,
    })
}

/// `GET /api/me/results?token=`: every session of the forum in programme order, each with the
/// rules' verdict so far (or `null`), whether it is accredited for the viewer, and its code once
/// issued.
pub async fn results(Picked(state): Picked, Query(q): Query<TokenQuery>) -> ApiResult<Json<Value>> {
    let forum = &state.forum;
    let viewer = viewer_of(&state, q.token).await?;
    let Case {
        events,
        params,
        decided,
    } = Case::load(&state, &viewer.id).await?;
    let codes = state.store.viewer_codes(&forum.id, &viewer.id).await?;
    let now = state.clock.now();
    let appeals = state.store.viewer_appeals(&forum.id, &viewer.id).await?;

    let facts = Facts::build(&events);
    let plan = Plan::with(forum, &facts, params);
    let judged = facts
        .viewer(&viewer.id)
        .map(|v| evaluate_viewer(&plan, &facts, v).sessions)
        .unwrap_or_default();
    let tz = forum.tz();
    let mut sessions: Vec<&Session> = forum.sessions.iter().collect();
    sessions.sort_by_key(|s| (s.starts, s.hall.clone()));
    let sessions: Vec<Value> = sessions
        .into_iter()
        .map(|s| {
            let result = judged.iter().find(|r| r.session == s.id);
            let code = codes.iter().find(|(session, _)| *session == s.id);
            json!({
                "id": s.id, "title": s.title, "hall": s.hall,
                "hall_title": hall_title(forum, &s.hall),
                "date": &format_local(s.starts, &tz)[..10],
                "time": format!("{}–{}", format_clock(s.starts, &tz), format_clock(s.ends, &tz)),
                "starts": s.starts, "ends": s.ends,
                "credits": s.credits,
                // The rules as applied: a correction may have lowered both.
                "min_minutes": plan.index_of(&s.id).map_or(i64::from(s.min_minutes), |i| plan.sessions[i].min_minutes()),
                "prompts_required": plan.index_of(&s.id).map_or(s.prompts_required, |i| plan.sessions[i].required),
                "accredited": s.audience.admits(viewer.education, &viewer.specialty),
                "phase": phase(s, now),
                "result": result.map(|r| result_json(r, forum, &facts, &tz)),
                "code": code.map(|(_, c)| c),
                "decision": decided.get(&viewer.id, &s.id).map(decision_json),
                "credited": decided.credited(&viewer.id, &s.id, result.is_some_and(|r| r.eligible)),
                "appeal": appeals.iter().rfind(|a| a.session == s.id).map(appeal_json),
            })
        })
        .collect();
    Ok(Json(json!({
        "viewer": { "name": viewer.name, "education": viewer.education, "specialty": viewer.specialty },
        "forum": { "title": forum.title, "timezone": forum.timezone, "codes_note": forum.codes_note },
        "now": now,
        "codes_issued": codes.len(),
        "sessions": sessions,
    })))
}
