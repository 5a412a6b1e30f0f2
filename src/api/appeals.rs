//! Appeals over HTTP. The viewer, through their personal link: `GET /api/me/appeals`, `POST
//! /api/me/appeals` (`{session, text}`: only for an ended session that does not count for them)
//! and `POST /api/me/appeals/{id}` (`{text}`, while it waits). The organiser: `GET
//! /api/org/appeals` (open first, oldest first, each with the rules' verdict and the evidence
//! beside it) and `POST /api/org/appeals/{id}/answer` (`{grant, reason}`).
//!
//! A grant records a decision that gives credit (it then wins everywhere, code issuance
//! included); a rejection records only the answer, since the rules' refusal already stands.
//! Either way the viewer gets a letter through the outbox, queued in the same transaction.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::audit::record;
use super::auth::Organiser;
use super::case::Case;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};
use super::me::{TokenQuery, appeal_json, decision_json, viewer_of};
use super::pick::Picked;
use crate::domain::appeals::{self, Answer, State as AppealState};
use crate::domain::audit::Action;
use crate::domain::decided::{InForce, check_reason};
use crate::domain::decisions::{Decision, Outcome};
use crate::domain::rules::{Facts, Plan, Reason, evaluate_viewer};
use crate::mail::letters::APPEAL;
use crate::store::NewLetter;

/// The rules' verdict of each session they have a result for: session → (eligible, reasons).
pub(super) async fn rules_verdicts(
    state: &AppState,
    viewer: &str,
) -> ApiResult<HashMap<String, (bool, Vec<Reason>)>> {
    let case = Case::load(state, viewer).await?;
    let facts = Facts::build(&case.events);
    let plan = Plan::with(&state.forum, &facts, case.params);
    Ok(facts
        .viewer(viewer)
        .map(|v| {
            evaluate_viewer(&plan, &facts, v)
                .sessions
                .into_iter()
                .map(|r| (r.session.to_string(), (r.eligible, r.reasons)))
                .collect()
        })
        .unwrap_or_default())
}

/// `GET /api/me/appeals?token=`: the viewer's appeals, oldest first.
pub async fn mine(Picked(state): Picked, Query(q): Query<TokenQuery>) -> ApiResult<Json<Value>> {
    let viewer = viewer_of(&state, q.token).await?;
    let appeals = state
        .store
        .viewer_appeals(&state.forum.id, &viewer.id)
        .await?;
    Ok(Json(
        json!({ "appeals": appeals.iter().map(appeal_json).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
pub struct NewAppeal {
    pub session: Option<String>,
    pub text: Option<String>,
}

/// `POST /api/me/appeals?token=` `{session, text}`.
pub async fn file(
    Picked(state): Picked,
    Query(q): Query<TokenQuery>,
    Json(body): Json<NewAppeal>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let viewer = viewer_of(&state, q.token).await?;
    let forum = &state.forum;
    let id = body.session.unwrap_or_default();
    let Some(session) = forum.session(id.trim()) else {
        return Err(ApiError::NotFound(format!(
            "Сессии «{}» в программе форума нет.",
            id.trim()
        )));
    };
    let text =
        appeals::check_text(body.text.as_deref().unwrap_or("")).map_err(ApiError::BadRequest)?;
    let now = state.clock.now();
    let rules = rules_verdicts(&state, &viewer.id).await?;
    let decided = InForce::new(state.store.viewer_decisions(&forum.id, &viewer.id).await?);
    let rules_eligible = rules.get(&session.id).is_some_and(|(e, _)| *e);
    let open = state
        .store
        .viewer_appeals(&forum.id, &viewer.id)
        .await?
        .iter()
        .any(|a| a.session == session.id && a.state == AppealState::Open);
    appeals::may_file(
        now >= session.ends,
        decided.credited(&viewer.id, &session.id, rules_eligible),
        open,
    )
    .map_err(ApiError::Conflict)?;
    let appeal = state
        .store
        .file_appeal(&forum.id, &viewer.id, &session.id, &text, now)
        .await?;
    tracing::info!(viewer = %viewer.id, session = %session.id, appeal = appeal.id, "appeal filed");
    Ok((StatusCode::CREATED, Json(appeal_json(&appeal))))
}

#[derive(Deserialize)]
pub struct EditAppeal {
    pub text: Option<String>,
}

fn appeal_id(id: &str) -> ApiResult<i64> {
    id.trim()
        .parse()
        .map_err(|_| ApiError::NotFound(format!("Обращения №{} нет.", id.trim())))
}

/// `POST /api/me/appeals/{id}?token=` `{text}`: a new text while the appeal waits.
pub async fn edit(
    Picked(state): Picked,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
    Json(body): Json<EditAppeal>,
) -> ApiResult<Json<Value>> {
    let viewer = viewer_of(&state, q.token).await?;
    let id = appeal_id(&id)?;
    let text =
        appeals::check_text(body.text.as_deref().unwrap_or("")).map_err(ApiError::BadRequest)?;
    let forum = &state.forum;
    let Some(current) = state
        .store
        .appeal(&forum.id, id)
        .await?
        .filter(|a| a.viewer == viewer.id)
    else {
        return Err(ApiError::NotFound(format!("Обращения №{id} у вас нет.")));
    };
    appeals::may_edit(&current).map_err(ApiError::Conflict)?;
    let now = state.clock.now();
    match state
        .store
        .edit_appeal(&forum.id, &viewer.id, id, &text, now)
        .await?
    {
        Some(a) => Ok(Json(appeal_json(&a))),
        // Answered between the read and the write.
        None => Err(ApiError::Conflict(
            "На это обращение уже ответили, изменить его нельзя. Ответ — на этой странице.".into(),
        )),
    }
}

/// `GET /api/org/appeals`: open appeals first, each group oldest first.
pub async fn queue(_o: Organiser, Picked(state): Picked) -> ApiResult<Json<Value>> {
    let forum = &state.forum;
    let list = state.store.appeals(&forum.id).await?;
    let decided = InForce::new(state.store.decisions(&forum.id).await?);
    let mut verdicts: HashMap<String, HashMap<String, (bool, Vec<Reason>)>> = HashMap::new();
    let mut rows = Vec::with_capacity(list.len());
    for a in &list {
        if !verdicts.contains_key(&a.viewer) {
            let v = rules_verdicts(&state, &a.viewer).await?;
            verdicts.insert(a.viewer.clone(), v);
        }
        let rules = verdicts[&a.viewer].get(&a.session);
        let viewer = state.store.viewer(&forum.id, &a.viewer).await?;
        let code = state
            .store
            .viewer_codes(&forum.id, &a.viewer)
            .await?
            .into_iter()
            .find(|(s, _)| *s == a.session)
            .map(|(_, c)| c);
        let decision = decided.get(&a.viewer, &a.session);
        let flagged = code.is_some() && decision.is_some_and(|d| d.outcome == Outcome::Withdraw);
        rows.push(json!({
            "id": a.id, "viewer": a.viewer,
            "viewer_name": viewer.as_ref().map(|v| v.name.clone()),
            "session": a.session,
            "session_title": forum.session(&a.session).map(|s| s.title.clone()),
            "text": a.text, "created_at": a.created_at, "updated_at": a.updated_at,
            "state": a.state, "answer": a.answer,
            "rules": rules.map(|(eligible, reasons)| json!({ "eligible": eligible, "reasons": reasons })),
            "decision": decision.map(decision_json),
            "code": code,
            "code_issued_withdrawn": flagged,
            "evidence": format!("/api/org/viewers/{}/report", a.viewer),
        }));
    }
    let open = list.iter().filter(|a| a.state == AppealState::Open).count();
    Ok(Json(json!({ "open": open, "appeals": rows })))
}

#[derive(Deserialize)]
pub struct AnswerBody {
    pub grant: Option<bool>,
    pub reason: Option<String>,
}

/// `POST /api/org/appeals/{id}/answer` `{grant, reason}`.
pub async fn answer(
    organiser: Organiser,
    Picked(state): Picked,
    Path(id): Path<String>,
    Json(body): Json<AnswerBody>,
) -> ApiResult<Json<Value>> {
    let id = appeal_id(&id)?;
    let Some(grant) = body.grant else {
        return Err(ApiError::BadRequest(
            "Выберите ответ: засчитать сессию или отказать.".into(),
        ));
    };
    let reason =
        check_reason(body.reason.as_deref().unwrap_or("")).map_err(ApiError::BadRequest)?;
    let forum = &state.forum;
    let Some(appeal) = state.store.appeal(&forum.id, id).await? else {
        return Err(ApiError::NotFound(format!("Обращения №{id} нет.")));
    };
    if appeal.state == AppealState::Answered {
        return Err(ApiError::Conflict(format!(
            "На обращение №{id} уже ответили."
        )));
    }
    let now = state.clock.now();
    let answer = Answer {
        grant,
        reason: reason.clone(),
        by: organiser.login.clone(),
        at: now,
    };
    let decision = grant.then(|| Decision {
        viewer: appeal.viewer.clone(),
        session: appeal.session.clone(),
        outcome: Outcome::Grant,
        reason: reason.clone(),
        by: organiser.login.clone(),
        at: now,
        appeal: Some(id),
    });
    let viewer = state.store.viewer(&forum.id, &appeal.viewer).await?;
    let letter = viewer.as_ref().map(|v| NewLetter {
        viewer: v.id.clone(),
        kind: APPEAL.into(),
        dedup: id.to_string(),
        email: v.email.clone(),
    });
    let Some(answered) = state
        .store
        .answer_appeal(&forum.id, id, &answer, decision.as_ref(), letter.as_ref())
        .await?
    else {
        return Err(ApiError::Conflict(format!(
            "На обращение №{id} уже ответили."
        )));
    };
    state.mailer.wake();
    let title = forum
        .session(&appeal.session)
        .map_or(appeal.session.clone(), |s| s.title.clone());
    let who = viewer
        .as_ref()
        .map_or(appeal.viewer.clone(), |v| v.name.clone());
    tracing::info!(organiser = %organiser.login, appeal = id, grant, "appeal answered");
    record(
        &state,
        organiser.actor(),
        Action::AppealAnswered,
        format!(
            "Ответ на обращение №{id} ({who}, сессия «{title}»): {} — {reason}",
            if grant {
                "засчитано"
            } else {
                "отказано"
            }
        ),
        json!({ "appeal": id, "viewer": appeal.viewer, "session": appeal.session,
                "grant": grant, "reason": reason, "decision": decision.is_some() }),
    )
    .await;
    Ok(Json(json!({ "appeal": answered, "decision": decision })))
}
