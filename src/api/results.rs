//! Results by the rules engine: per-session verdicts, one viewer's evidence trail, НМО code
//! pools and issuance, and the CSV of results with codes.
//!
//! Verdicts are always computed from the stored log with the same engine as
//! `yavka evaluate`, so what the organiser sees equals what an auditor recomputes.

use std::collections::HashMap;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::audit::record;
use super::auth::Organiser;
use super::case::Case;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, NoBody, Path, Query, TextBody};
use super::pick::Picked;
use crate::domain::audit::Action;
use crate::domain::codes::{Code, CodeBook, CodeBookParts, IssuedCode, Source};
use crate::domain::decided::{InForce, worded};
use crate::domain::decisions::Outcome;
use crate::domain::rules::{
    self, Facts, Params, Plan, Status, Verdict, confirmations_ru, evaluate_viewer, prompts,
};
use crate::reports::csv::write_verdicts_csv;
use crate::store::CodeRow;

#[derive(Deserialize)]
pub struct SessionQuery {
    pub session: Option<String>,
    /// CSV delimiter: `,` (default) or `;`.
    pub delimiter: Option<char>,
}

fn check_session(state: &AppState, session: Option<&str>) -> ApiResult<()> {
    match session {
        Some(s) if state.forum.session(s).is_none() => {
            Err(ApiError::NotFound(format!("сессии «{s}» нет")))
        }
        _ => Ok(()),
    }
}

/// The rules' inputs on this server besides the forum and the log: the installation's
/// parameters (the hub's limit of wrong answers), now as the instant of judgement (a prompt
/// still open is not missed yet, as in the viewer's tally), and the forum's corrections. Every
/// handler that shows a verdict gets its parameters here, so none can forget a correction.
pub(super) async fn rules_params(state: &AppState) -> ApiResult<Params> {
    Ok(Params {
        corrections: state.store.corrections(&state.forum.id).await?.into(),
        ..state.settings.rules_params(state.clock.now())
    })
}

/// The organisers' decisions in force.
pub(super) async fn decided(state: &AppState) -> ApiResult<InForce> {
    Ok(InForce::new(state.store.decisions(&state.forum.id).await?))
}

/// Lays the decision in force beside a verdict's JSON: `eligible` stays the rules' verdict,
/// `credited` is what counts, and a withdrawn session whose code was issued is flagged.
fn decision_fields(j: &mut Value, decided: &InForce, v: &Verdict, has_code: bool) {
    let d = decided.get(&v.viewer, &v.session);
    j["decision"] = json!(d.map(|d| json!({
        "outcome": d.outcome, "title": d.outcome.title_ru(), "reason": d.reason,
        "by": d.by, "at": d.at, "appeal": d.appeal,
    })));
    j["credited"] = json!(decided.credited(&v.viewer, &v.session, v.eligible));
    j["code_issued_withdrawn"] =
        json!(has_code && d.is_some_and(|d| d.outcome == Outcome::Withdraw));
}

/// Verdicts of one session (or all) from the stored log.
async fn verdicts(state: &AppState, session: Option<&str>) -> ApiResult<Vec<Verdict>> {
    check_session(state, session)?;
    let events = state.store.events(&state.forum.id, None).await?;
    let forum = state.forum.clone();
    let params = rules_params(state).await?;
    let all =
        tokio::task::spawn_blocking(move || rules::evaluate_with(&forum, &events, params).verdicts)
            .await
            .map_err(ApiError::internal)?;
    Ok(all
        .into_iter()
        .filter(|v| session.is_none_or(|s| v.session == s))
        .collect())
}

async fn codebook(state: &AppState) -> ApiResult<(CodeBook, Vec<CodeRow>)> {
    let rows = state.store.codes(&state.forum.id).await?;
    let mut parts = CodeBookParts::default();
    let mut pooled: Vec<&CodeRow> = rows.iter().filter(|r| r.pooled).collect();
    pooled.sort_by_key(|r| r.position);
    for r in pooled {
        let code = Code::parse(&r.code).map_err(ApiError::internal)?;
        parts.pools.entry(r.session.clone()).or_default().push(code);
    }
    for r in &rows {
        if let Some(viewer) = &r.viewer {
            parts.issued.push(IssuedCode {
                session: r.session.clone(),
                viewer: viewer.clone(),
                code: Code::parse(&r.code).map_err(ApiError::internal)?,
            });
        }
    }
    let book = CodeBook::from_parts(parts).map_err(ApiError::internal)?;
    Ok((book, rows))
}

pub async fn session_results(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<SessionQuery>,
) -> ApiResult<Json<Value>> {
    let rows = verdicts(&state, q.session.as_deref()).await?;
    let (book, _) = codebook(&state).await?;
    let decided = decided(&state).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|v| {
            let mut j = json!(v);
            let code = book.code_for(&v.viewer, &v.session).map(Code::as_str);
            j["code"] = json!(code);
            j["confirmations"] = json!(confirmations_ru(v.confirmed, v.shown, v.required));
            decision_fields(&mut j, &decided, v, code.is_some());
            j
        })
        .collect();
    Ok(Json(json!({ "session": q.session, "rows": rows })))
}

pub async fn results_csv(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<SessionQuery>,
) -> ApiResult<impl IntoResponse> {
    // One table: the result column says what counts, the decision is the last reason.
    let decided = decided(&state).await?;
    let tz = state.forum.tz();
    let rows: Vec<Verdict> = verdicts(&state, q.session.as_deref())
        .await?
        .iter()
        .map(|v| worded(v, &decided, &tz))
        .collect();
    let (book, _) = codebook(&state).await?;
    let delimiter = q.delimiter.unwrap_or(',');
    let mut out = Vec::new();
    let code = |v: &Verdict| {
        book.code_for(&v.viewer, &v.session)
            .map(|c| c.as_str().to_owned())
    };
    write_verdicts_csv(&mut out, &rows, delimiter, Some(&code))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let name = format!(
        "attachment; filename=\"results-{}.csv\"",
        q.session.as_deref().unwrap_or("all")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        out,
    ))
}

/// One viewer's evidence for an appeal: every connection, the active hall over time, every
/// prompt of their halls with its one status (as the tally, the report and the export show
/// it), every press and wrong answer, and each session's verdict with reasons.
pub async fn evidence(
    _o: Organiser,
    Picked(state): Picked,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let Some(viewer) = state.store.viewer(&state.forum.id, &id).await? else {
        return Err(ApiError::NotFound(format!("участника «{id}» нет")));
    };
    let case = Case::load(&state, &id).await?;
    let facts = Facts::build(&case.events);
    let Some(v) = facts.viewer(&id) else {
        return Ok(Json(json!({
            "viewer": viewer, "connections": [], "active": [], "prompts": [], "confirms": [],
            "wrong_answers": [], "sessions": [],
        })));
    };
    let forum = &state.forum;
    let plan = Plan::with(forum, &facts, case.params.clone());
    let eval = evaluate_viewer(&plan, &facts, v);
    let tz = forum.tz();
    let hall = |h: u32| facts.halls[h as usize];
    let connections: Vec<Value> = v
        .conns
        .iter()
        .map(|c| json!({ "conn": c.id, "hall": hall(c.hall), "start": c.start, "end": c.end, "closed": c.closed }))
        .collect();
    let active: Vec<Value> = eval
        .active
        .iter()
        .map(|a| json!({ "hall": hall(a.hall), "start": a.span.start, "end": a.span.end }))
        .collect();
    let confirms: Vec<Value> = v
        .confirms
        .iter()
        .zip(&eval.checks)
        .map(|(c, check)| {
            json!({ "ts": c.ts, "prompt": c.prompt_id, "conn": v.conns[c.conn as usize].id,
                    "check": check, "reason": check.describe_ru() })
        })
        .collect();
    let wrong_answers: Vec<Value> = v
        .wrong_answers
        .iter()
        .map(|w| json!({ "ts": w.ts, "prompt": w.prompt_id, "conn": v.conns[w.conn as usize].id }))
        .collect();
    let prompts: Vec<Value> = prompts::for_viewer(&plan, &facts, v, &eval, &tz)
        .iter()
        .map(|o| {
            let p = &facts.prompts[o.prompt as usize];
            let session = plan
                .sessions
                .iter()
                .find(|ps| ps.prompts.contains(&o.prompt))
                .map(|ps| ps.session.id.as_str());
            json!({ "prompt": p.id, "hall": hall(p.hall), "session": session, "ts": p.ts,
                    "closes": p.closes, "status": o.status(), "shown": o.shown,
                    "label": o.label(forum, &facts, &tz) })
        })
        .collect();
    let decided = &case.decided;
    let sessions: Vec<Value> = eval
        .sessions
        .iter()
        .map(|r| {
            let decision = decided.get(&id, &r.session);
            let ids = |status: Status| -> Vec<&str> {
                r.with_status(status)
                    .map(|i| facts.prompts[i as usize].id)
                    .collect()
            };
            let all: Vec<&str> = r
                .prompts
                .iter()
                .map(|o| facts.prompts[o.prompt as usize].id)
                .collect();
            json!({
                "session": r.session, "seconds": r.seconds(), "minutes": r.minutes(),
                "counted": r.counted, "paused_ms": r.paused_ms,
                "prompts": all, "confirmed": ids(Status::Confirmed),
                "missed": ids(Status::NotConfirmed), "voided": ids(Status::Voided),
                "shown": r.shown, "required": r.required,
                "confirmations": confirmations_ru(r.confirmed, r.shown, r.required),
                "eligible": r.eligible, "reasons": r.reasons,
                "decision": decision.map(|d| json!({
                    "outcome": d.outcome, "title": d.outcome.title_ru(), "reason": d.reason,
                    "by": d.by, "at": d.at, "appeal": d.appeal,
                })),
                "credited": decided.credited(&id, &r.session, r.eligible),
            })
        })
        .collect();
    Ok(Json(json!({
        "viewer": viewer, "connections": connections, "active": active, "prompts": prompts,
        "confirms": confirms, "wrong_answers": wrong_answers, "sessions": sessions,
    })))
}

#[derive(Deserialize)]
pub struct CodesQuery {
    pub session: String,
}

/// Imports the commission's pool of codes for a session (text, one code per line).
pub async fn import_pool(
    organiser: Organiser,
    Picked(state): Picked,
    Query(q): Query<CodesQuery>,
    TextBody(body): TextBody,
) -> ApiResult<Json<Value>> {
    check_session(&state, Some(&q.session))?;
    let _one_at_a_time = state.codes_lock.lock().await;
    let (mut book, _) = codebook(&state).await?;
    let before = book.pool_status(&q.session).map_or(0, |s| s.size);
    let report = book
        .import_pool(&q.session, &body)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let pool = book.to_parts().pools.remove(&q.session).unwrap_or_default();
    let rows: Vec<CodeRow> = pool
        .iter()
        .enumerate()
        .skip(before)
        .map(|(i, code)| CodeRow {
            session: q.session.clone(),
            code: code.as_str().to_owned(),
            viewer: None,
            pooled: true,
            position: Some(i as i64),
            issued_at: None,
        })
        .collect();
    state.store.save_codes(&state.forum.id, &rows).await?;
    tracing::info!(organiser = %organiser.login, session = %q.session, added = report.added, "code pool imported");
    record(
        &state,
        organiser.actor(),
        Action::CodesImported,
        format!(
            "Загружен пул кодов НМО сессии «{}»: добавлено {}, в пуле {}, свободно {}",
            q.session, report.added, report.size, report.left
        ),
        json!({ "session": q.session, "added": report.added, "size": report.size, "left": report.left }),
    )
    .await;
    Ok(Json(
        json!({ "session": q.session, "added": report.added, "size": report.size, "left": report.left }),
    ))
}

/// Issues codes to every eligible viewer of a session who has none yet.
pub async fn issue_codes(
    organiser: Organiser,
    Picked(state): Picked,
    Query(q): Query<CodesQuery>,
    _: NoBody,
) -> ApiResult<Json<Value>> {
    check_session(&state, Some(&q.session))?;
    let _one_at_a_time = state.codes_lock.lock().await;
    let by_rules: Vec<String> = verdicts(&state, Some(&q.session))
        .await?
        .into_iter()
        .filter(|v| v.eligible)
        .map(|v| v.viewer)
        .collect();
    // Decisions win: a withdrawn viewer gets no code, a granted one gets one.
    let eligible = decided(&state).await?.holders(&q.session, &by_rules);
    let (mut book, rows) = codebook(&state).await?;
    let positions: HashMap<&str, Option<i64>> =
        rows.iter().map(|r| (r.code.as_str(), r.position)).collect();
    let issued = book
        .issue(&q.session, &eligible, &mut rand::rng())
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    let now = state.clock.now();
    let new_rows: Vec<CodeRow> = issued
        .iter()
        .filter(|i| i.is_new())
        .map(|i| CodeRow {
            session: q.session.clone(),
            code: i.code.as_str().to_owned(),
            viewer: Some(i.viewer.clone()),
            pooled: i.source == Source::Pool,
            position: positions.get(i.code.as_str()).copied().flatten(),
            issued_at: Some(now),
        })
        .collect();
    state.store.save_codes(&state.forum.id, &new_rows).await?;
    tracing::info!(organiser = %organiser.login, session = %q.session, new = new_rows.len(), "codes issued");
    let given: Vec<&str> = new_rows
        .iter()
        .filter_map(|r| r.viewer.as_deref())
        .collect();
    record(
        &state,
        organiser.actor(),
        Action::CodesIssued,
        format!(
            "Выданы коды НМО сессии «{}»: выполнили условия {}, выдано сейчас {}",
            q.session,
            eligible.len(),
            given.len()
        ),
        json!({ "session": q.session, "eligible": eligible.len(), "issued_now": given.len(), "viewers": given }),
    )
    .await;
    Ok(Json(json!({
        "session": q.session,
        "eligible": eligible.len(),
        "issued_now": new_rows.len(),
        "codes": issued.iter().map(|i| json!({ "viewer": i.viewer, "code": i.code.as_str(), "new": i.is_new() })).collect::<Vec<_>>(),
    })))
}
