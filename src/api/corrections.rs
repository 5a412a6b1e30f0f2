//! Forum-wide corrections of a finished session, after an outage: preview whose verdicts a
//! correction would change, save it (with its reason, author and date, and an audit entry),
//! list those saved.
//!
//! A correction is validated here against the forum and the stored prompts (the session has
//! ended, the prompt was shown in the session's hall and window, the range lies inside the
//! window) and then applied by the rules engine wherever verdicts are computed (see
//! `results::rules_params`); nothing here judges anyone by itself.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::audit::record;
use super::auth::Organiser;
use super::error::{ApiError, ApiResult};
use super::extract::Json;
use super::pick::Picked;
use super::results::rules_params;
use crate::domain::audit::Action;
use crate::domain::decisions::{Change, Correction, MAX_REASON_CHARS};
use crate::domain::forum::Session;
use crate::domain::log::{Event, EventBody};
use crate::domain::registration::FieldError;
use crate::domain::rules::corrections::{date_ru, describe};
use crate::domain::rules::{self, Facts, Params, Plan, Verdict};
use crate::domain::time::{format_clock, format_clock_seconds, format_local, parse_local};
use crate::reports::hall_title;

/// A correction as the dashboard sends it (the author and date are the server's).
#[derive(Debug, Deserialize)]
pub struct Proposal {
    #[serde(default)]
    pub session: String,
    /// `void_prompt` or `exclude`.
    #[serde(default)]
    pub change: String,
    /// `void_prompt`: the prompt's id.
    pub prompt: Option<String>,
    /// `exclude`: local clock times on the session's day, `10:40`.
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(default)]
    pub reason: String,
}

fn field(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// The correction `p` asks for, checked against the forum and its stored `prompts`; the
/// author and date are filled in by the caller.
fn check(state: &AppState, p: &Proposal, prompts: &[Event]) -> ApiResult<Correction> {
    let mut errors = Vec::new();
    let session = state.forum.session(p.session.trim());
    let now = state.clock.now();
    match session {
        None => errors.push(field("session", "Выберите сессию форума.")),
        Some(s) if now < s.ends => errors.push(field(
            "session",
            "Сессия ещё не закончилась: поправку вносят после её окончания.",
        )),
        Some(_) => {}
    }
    let reason = p.reason.trim();
    if reason.is_empty() {
        errors.push(field("reason", "Укажите причину поправки."));
    } else if reason.chars().count() > MAX_REASON_CHARS {
        errors.push(field(
            "reason",
            format!("Причина длиннее {MAX_REASON_CHARS} символов."),
        ));
    }
    let change = match (p.change.as_str(), session) {
        ("void_prompt", Some(s)) => {
            let id = p.prompt.as_deref().unwrap_or("").trim();
            if session_prompts(s, prompts).any(|(pid, _)| pid == id) {
                Some(Change::VoidPrompt { prompt: id.into() })
            } else {
                errors.push(field(
                    "prompt",
                    "Выберите окно подтверждения, показанное в зале этой сессии во время неё.",
                ));
                None
            }
        }
        ("exclude", Some(s)) => exclude(state, s, p, &mut errors),
        ("void_prompt" | "exclude", None) => None,
        _ => {
            errors.push(field(
                "change",
                "Выберите, что исправить: окно подтверждения или отрезок времени.",
            ));
            None
        }
    };
    match change {
        Some(change) if errors.is_empty() => Ok(Correction {
            session: p.session.trim().into(),
            change,
            reason: reason.into(),
            by: String::new(),
            at: now,
        }),
        _ => Err(ApiError::Invalid {
            message: "Поправка не сохранена: исправьте отмеченные поля.".into(),
            fields: errors,
        }),
    }
}

/// The `[from, to)` of an exclusion, from clock times on the session's local day.
fn exclude(
    state: &AppState,
    s: &Session,
    p: &Proposal,
    errors: &mut Vec<FieldError>,
) -> Option<Change> {
    let tz = state.forum.tz();
    let day = &format_local(s.starts, &tz)[..10];
    let window = format!(
        "с {} до {}",
        format_clock(s.starts, &tz),
        format_clock(s.ends, &tz)
    );
    let mut at = |name: &'static str, text: Option<&str>| {
        let text = text.unwrap_or("").trim();
        let t = (text.len() == 5)
            .then(|| parse_local(&format!("{day}T{text}"), &tz).ok())
            .flatten();
        match t {
            Some(t) if s.starts <= t && t <= s.ends => Some(t),
            Some(_) => {
                errors.push(field(name, format!("Время вне сессии: она шла {window}.")));
                None
            }
            None => {
                errors.push(field(name, "Укажите время в виде ЧЧ:ММ, например 10:40."));
                None
            }
        }
    };
    let from = at("from", p.from.as_deref());
    let to = at("to", p.to.as_deref());
    let (from, to) = (from?, to?);
    if from >= to {
        errors.push(field("to", "Конец отрезка должен быть позже начала."));
        return None;
    }
    Some(Change::Exclude { from, to })
}

/// (id, shown at) of the prompts shown in `s`'s hall during its window.
fn session_prompts<'e>(s: &Session, prompts: &'e [Event]) -> impl Iterator<Item = (&'e str, i64)> {
    let window = s.window();
    prompts.iter().filter_map(move |e| match &e.body {
        EventBody::Prompt { prompt, hall, .. } if *hall == s.hall && window.contains(e.ts) => {
            Some((prompt.as_str(), e.ts))
        }
        _ => None,
    })
}

/// The session's verdicts under `params`, by viewer.
fn verdicts_of(
    events: &[Event],
    state: &AppState,
    params: Params,
    session: &str,
) -> HashMap<String, Verdict> {
    rules::evaluate_with(&state.forum, events, params)
        .verdicts
        .into_iter()
        .filter(|v| v.session == session)
        .map(|v| (v.viewer.clone(), v))
        .collect()
}

/// Every viewer of `c`'s session whose verdict `c` changes, with the counts.
async fn changes(state: &AppState, c: &Correction) -> ApiResult<Value> {
    let events = state.store.events(&state.forum.id, None).await?;
    let before = rules_params(state).await?;
    let mut with = before.corrections.to_vec();
    with.push(c.clone());
    let after = Params {
        corrections: with.into(),
        ..before.clone()
    };
    let st = state.clone();
    let session = c.session.clone();
    let (was, will) = tokio::task::spawn_blocking(move || {
        (
            verdicts_of(&events, &st, before, &session),
            verdicts_of(&events, &st, after, &session),
        )
    })
    .await
    .map_err(ApiError::internal)?;
    let brief = |v: Option<&Verdict>| {
        v.map_or(
            json!({ "eligible": false, "minutes": 0, "confirmed": 0, "required": null }),
            |v| {
                json!({ "eligible": v.eligible, "minutes": v.minutes, "confirmed": v.confirmed,
                    "required": v.required })
            },
        )
    };
    let mut ids: Vec<&String> = was.keys().chain(will.keys()).collect();
    ids.sort();
    ids.dedup();
    let mut rows = Vec::new();
    for id in ids {
        let (a, b) = (was.get(id), will.get(id));
        if a.is_some_and(|v| v.eligible) == b.is_some_and(|v| v.eligible) {
            continue;
        }
        let name = b.or(a).and_then(|v| v.name.clone());
        rows.push(json!({ "viewer": id, "name": name, "before": brief(a), "after": brief(b) }));
    }
    let granted = rows
        .iter()
        .filter(|r| r["after"]["eligible"] == true)
        .count();
    let count = |m: &HashMap<String, Verdict>| m.values().filter(|v| v.eligible).count();
    Ok(json!({
        "changes": rows,
        "counts": { "changed": rows.len(), "granted": granted, "withdrawn": rows.len() - granted,
                    "eligible_before": count(&was), "eligible_after": count(&will) },
    }))
}

/// `POST /api/org/corrections/preview`: whose verdict the correction would change; nothing is
/// saved.
pub async fn preview(
    _o: Organiser,
    Picked(state): Picked,
    Json(p): Json<Proposal>,
) -> ApiResult<Json<Value>> {
    let prompts = state.store.prompts_since(&state.forum.id, i64::MIN).await?;
    let c = check(&state, &p, &prompts)?;
    Ok(Json(changes(&state, &c).await?))
}

/// `POST /api/org/corrections`: saves the correction, once its session has ended; every
/// verdict of the session is computed with it from then on.
pub async fn save(
    organiser: Organiser,
    Picked(state): Picked,
    Json(p): Json<Proposal>,
) -> ApiResult<Json<Value>> {
    let prompts = state.store.prompts_since(&state.forum.id, i64::MIN).await?;
    let mut c = check(&state, &p, &prompts)?;
    c.by = organiser.login.clone();
    let diff = changes(&state, &c).await?;
    state.store.append_correction(&state.forum.id, &c).await?;
    let saved = state.store.corrections(&state.forum.id).await?;
    state.hub.set_corrections(saved);
    let facts = Facts::build(&prompts);
    let plan = Plan::new(&state.forum, &facts);
    let text = describe(&plan, &facts, &c).unwrap_or_default();
    tracing::info!(organiser = %organiser.login, session = %c.session, "correction recorded");
    let title = state
        .forum
        .session(&c.session)
        .map_or("", |s| s.title.as_str());
    let viewers: Vec<&Value> = diff["changes"]
        .as_array()
        .map(|a| a.iter().map(|r| &r["viewer"]).collect())
        .unwrap_or_default();
    record(
        &state,
        organiser.actor(),
        Action::CorrectionRecorded,
        format!(
            "Поправка к сессии «{title}»: {text}; изменились итоги {} участников",
            viewers.len()
        ),
        json!({ "correction": c, "changed": viewers, "counts": diff["counts"] }),
    )
    .await;
    Ok(Json(
        json!({ "correction": c, "text": text, "counts": diff["counts"] }),
    ))
}

/// `GET /api/org/corrections`: the corrections saved, each in words, and the finished sessions
/// with their prompts (what a new correction may name).
pub async fn list(_o: Organiser, Picked(state): Picked) -> ApiResult<Json<Value>> {
    let prompts = state.store.prompts_since(&state.forum.id, i64::MIN).await?;
    let saved = state.store.corrections(&state.forum.id).await?;
    let forum = &state.forum;
    let tz = forum.tz();
    let facts = Facts::build(&prompts);
    let plan = Plan::new(forum, &facts);
    let title = |id: &str| {
        forum
            .session(id)
            .map_or(id, |s| s.title.as_str())
            .to_owned()
    };
    let corrections: Vec<Value> = saved
        .iter()
        .map(|c| {
            json!({ "correction": c, "session_title": title(&c.session),
                    "text": describe(&plan, &facts, c), "date": format_local(c.at, &tz) })
        })
        .collect();
    let now = state.clock.now();
    let sessions: Vec<Value> = forum
        .sessions
        .iter()
        .filter(|s| s.ends <= now)
        .map(|s| {
            let shown: Vec<Value> = session_prompts(s, &prompts)
                .map(|(id, ts)| json!({ "id": id, "time": format_clock_seconds(ts, &tz) }))
                .collect();
            json!({ "id": s.id, "title": s.title, "hall_title": hall_title(forum, &s.hall),
                    "date": date_ru(s.starts, &tz),
                    "starts": format_clock(s.starts, &tz), "ends": format_clock(s.ends, &tz),
                    "prompts": shown })
        })
        .collect();
    Ok(Json(
        json!({ "corrections": corrections, "sessions": sessions }),
    ))
}
