//! Organisers' decisions on one viewer's session over HTTP: `POST /api/org/decisions`
//! (`{viewer, session, outcome: "grant" | "withdraw", reason}`, administrators) and `GET
//! /api/org/decisions` (every decision, newest first, each marked in force or replaced).
//!
//! A decision wins over the rules everywhere a verdict is shown; the rules' verdict stays
//! beside it. Withdrawing credit whose code was already issued is allowed (the organiser may
//! learn of a fraud late) but flagged («код уже выдан»): a sent code cannot be taken back, and
//! the organiser has to tell the commission.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::appeals::rules_verdicts;
use super::audit::record;
use super::auth::Organiser;
use super::error::{ApiError, ApiResult};
use super::extract::Json;
use super::pick::Picked;
use crate::domain::audit::Action;
use crate::domain::decided::{InForce, check_reason};
use crate::domain::decisions::{Decision, Outcome};

#[derive(Deserialize)]
pub struct NewDecision {
    pub viewer: Option<String>,
    pub session: Option<String>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
}

/// What is said when a withdrawn session's code was issued before.
pub const CODE_ISSUED: &str = "код уже выдан";

/// `POST /api/org/decisions`.
pub async fn create(
    organiser: Organiser,
    Picked(state): Picked,
    Json(body): Json<NewDecision>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let forum = &state.forum;
    let viewer_id = body.viewer.unwrap_or_default();
    let Some(viewer) = state.store.viewer(&forum.id, viewer_id.trim()).await? else {
        return Err(ApiError::NotFound(format!(
            "Участника «{}» нет.",
            viewer_id.trim()
        )));
    };
    let session_id = body.session.unwrap_or_default();
    let Some(session) = forum.session(session_id.trim()) else {
        return Err(ApiError::NotFound(format!(
            "Сессии «{}» в программе форума нет.",
            session_id.trim()
        )));
    };
    let outcome = Outcome::parse(body.outcome.as_deref().unwrap_or("")).ok_or_else(|| {
        ApiError::BadRequest(
            "Решение — «grant» (засчитать) или «withdraw» (не засчитывать).".into(),
        )
    })?;
    let reason =
        check_reason(body.reason.as_deref().unwrap_or("")).map_err(ApiError::BadRequest)?;
    let decision = Decision {
        viewer: viewer.id.clone(),
        session: session.id.clone(),
        outcome,
        reason: reason.clone(),
        by: organiser.login.clone(),
        at: state.clock.now(),
        appeal: None,
    };
    state.store.record_decision(&forum.id, &decision).await?;
    let code = state
        .store
        .viewer_codes(&forum.id, &viewer.id)
        .await?
        .into_iter()
        .find(|(s, _)| *s == session.id)
        .map(|(_, c)| c);
    let flagged = outcome == Outcome::Withdraw && code.is_some();
    let rules = rules_verdicts(&state, &viewer.id).await?;
    let rules_eligible = rules.get(&session.id).map(|(e, _)| *e);
    tracing::info!(organiser = %organiser.login, viewer = %viewer.id, session = %session.id,
                   outcome = outcome.code(), flagged, "decision recorded");
    record(
        &state,
        organiser.actor(),
        Action::DecisionRecorded,
        format!(
            "Решение по участнику {} (сессия «{}»): {} — {reason}{}",
            viewer.name,
            session.title,
            outcome.title_ru(),
            if flagged {
                format!(" ({CODE_ISSUED}: {})", code.as_deref().unwrap_or(""))
            } else {
                String::new()
            }
        ),
        json!({ "viewer": viewer.id, "session": session.id, "outcome": outcome,
                "reason": reason, "rules_eligible": rules_eligible, "code_issued": flagged }),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "decision": decision,
            "rules_eligible": rules_eligible,
            "code": code,
            "code_issued_withdrawn": flagged,
            "warning": flagged.then(|| format!(
                "Внимание: {CODE_ISSUED} ({}). Отозвать отправленный код нельзя — сообщите \
                 об этом в комиссию; в свидетельство он больше не входит.",
                code.as_deref().unwrap_or("")
            )),
        })),
    ))
}

/// `GET /api/org/decisions`: newest first; `in_force` is false for one replaced by a later
/// decision on the same (viewer, session).
pub async fn list(_o: Organiser, Picked(state): Picked) -> ApiResult<Json<Value>> {
    let forum = &state.forum;
    let all = state.store.decisions(&forum.id).await?;
    let decided = InForce::new(all.iter().cloned());
    let codes = state.store.issued_codes(&forum.id).await?;
    let viewers: std::collections::HashMap<String, String> = state
        .store
        .viewers(&forum.id)
        .await?
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect();
    let rows: Vec<Value> = all
        .iter()
        .rev()
        .map(|d| {
            let in_force = decided.get(&d.viewer, &d.session) == Some(d);
            let code = codes.get(&d.session).and_then(|m| m.get(&d.viewer));
            json!({
                "viewer": d.viewer, "viewer_name": viewers.get(&d.viewer),
                "session": d.session,
                "session_title": forum.session(&d.session).map(|s| s.title.clone()),
                "outcome": d.outcome, "title": d.outcome.title_ru(), "reason": d.reason,
                "by": d.by, "at": d.at, "appeal": d.appeal, "in_force": in_force,
                "code": code,
                "code_issued_withdrawn": in_force && d.outcome == Outcome::Withdraw && code.is_some(),
            })
        })
        .collect();
    Ok(Json(json!({ "decisions": rows })))
}
