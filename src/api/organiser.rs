//! The organiser's live controls: the forum as it runs, live statistics, prompts by hand,
//! viewer search and personal-link reissue.

use serde::Deserialize;
use serde_json::{Value, json};

use super::audit::record;
use super::auth::{Organiser, new_token, token_hash};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, NoBody, Path, Query};
use super::pick::Picked;
use super::viewers::programme_json;
use crate::domain::audit::Action;
use crate::domain::time::SECOND;
use crate::hub::HubError;

/// The forum as it runs, with each session's schedule (for the auditor: seed and times).
pub async fn forum(_o: Organiser, Picked(state): Picked) -> Json<Value> {
    let schedules: Vec<Value> = state
        .prompter
        .schedules()
        .iter()
        .map(|s| json!({ "session": s.session, "seed": s.seed.to_hex(), "times": s.times }))
        .collect();
    let now = state.clock.now();
    let started: Vec<&str> = state
        .forum
        .sessions
        .iter()
        .filter(|s| s.starts <= now)
        .map(|s| s.id.as_str())
        .collect();
    Json(json!({
        "programme": programme_json(&state.forum, None),
        "schedules": schedules,
        "frozen": started,
        "now": now,
    }))
}

/// Live figures per hall and per prompt, plus the next planned prompts.
pub async fn stats(_o: Organiser, Picked(state): Picked) -> Json<Value> {
    Json(json!({
        "now": state.clock.now(),
        "hub": state.hub.stats(),
        "upcoming": state.prompter.upcoming(10),
    }))
}

#[derive(Deserialize)]
pub struct FireForm {
    pub hall: String,
    /// Defaults to the window of the session running in that hall, or the forum's.
    pub window_seconds: Option<i64>,
}

pub async fn fire_prompt(
    organiser: Organiser,
    Picked(state): Picked,
    Json(form): Json<FireForm>,
) -> ApiResult<Json<Value>> {
    if state.forums.is_archived(&state.forum.id) {
        return Err(ApiError::Conflict(format!(
            "Форум «{}» в архиве: окна подтверждения в нём не вызываются. Его результаты, \
             выгрузки, сертификаты и почта по-прежнему доступны.",
            state.forum.title
        )));
    }
    let Some(hall) = state.forum.hall(&form.hall) else {
        return Err(ApiError::NotFound(format!("зала «{}» нет", form.hall)));
    };
    let now = state.clock.now();
    let window = match form.window_seconds {
        Some(s) if !(10..=3600).contains(&s) => {
            return Err(ApiError::BadRequest(
                "время на ответ — от 10 до 3600 секунд".into(),
            ));
        }
        Some(s) => s * SECOND,
        None => state
            .forum
            .session_at(&form.hall, now)
            .map_or(state.forum.prompt_window_ms, |s| s.prompt_window_ms),
    };
    let info = state
        .hub
        .fire_prompt(&form.hall, window, None)
        .await
        .map_err(|e| match e {
            HubError::Store(e) => ApiError::from(e),
            other => ApiError::internal(other),
        })?;
    tracing::info!(organiser = %organiser.login, hall = %form.hall, prompt = %info.id, "prompt fired by hand");
    record(
        &state,
        organiser.actor(),
        Action::PromptFired,
        format!(
            "Окно подтверждения вызвано вручную в зале «{}» ({} с на ответ)",
            hall.title,
            window / SECOND
        ),
        json!({ "hall": form.hall, "prompt": info.id, "window_seconds": window / SECOND }),
    )
    .await;
    Ok(Json(json!(info)))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_limit() -> usize {
    50
}

/// Viewers whose name or e-mail contains `q` (case-insensitive), each with the number of
/// НМО codes they hold.
pub async fn search_viewers(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let needle = q.q.trim().to_lowercase();
    let all = state.store.viewers(&state.forum.id).await?;
    let codes = state.store.code_counts(&state.forum.id).await?;
    let total = all.len();
    let found: Vec<Value> = all
        .into_iter()
        .filter(|v| {
            needle.is_empty()
                || v.name.to_lowercase().contains(&needle)
                || v.email.contains(&needle)
        })
        .take(q.limit.min(500))
        .map(|v| {
            // How many НМО codes they hold: the dashboard offers a certificate only then.
            let n = codes.get(&v.id).copied().unwrap_or(0);
            let mut row = json!(v);
            row["codes"] = json!(n);
            row
        })
        .collect();
    Ok(Json(json!({ "total": total, "viewers": found })))
}

/// Revokes a viewer's personal link and issues a new one; open tabs with the old link close.
pub async fn reissue_link(
    organiser: Organiser,
    Picked(state): Picked,
    Path(id): Path<String>,
    _: NoBody,
) -> ApiResult<Json<Value>> {
    let token = new_token();
    if !state
        .store
        .set_token_hash(&state.forum.id, &id, &token_hash(&token))
        .await?
    {
        return Err(ApiError::NotFound(format!("участника «{id}» нет")));
    }
    state.hub.revoke_viewer(&id);
    tracing::info!(organiser = %organiser.login, viewer = %id, "personal link reissued");
    let name = match state.store.viewer(&state.forum.id, &id).await {
        Ok(v) => v.map(|v| v.name),
        Err(_) => None, // the link is reissued; the entry names the id alone
    };
    record(
        &state,
        organiser.actor(),
        Action::LinkReissued,
        format!(
            "Выдана новая персональная ссылка участнику {} ({id}); прежняя больше не работает",
            name.as_deref()
                .map_or_else(|| "—".to_owned(), |n| format!("«{n}»"))
        ),
        json!({ "viewer": id, "name": name }),
    )
    .await;
    Ok(Json(json!({
        "viewer": id,
        "link": format!("{}/watch?token={token}", state.public_url),
    })))
}
