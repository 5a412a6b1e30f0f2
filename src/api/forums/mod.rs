//! Forums as data over HTTP: the public list of forums a viewer can join, and the organiser's
//! API for people who keep forums in git — the same TOML as `config/forum.toml` in and out,
//! every saved version kept with who saved it and when, a forum's state set by hand.
//!
//! A file is checked by the same parser as `yavka check-config` before anything is stored;
//! a file with mistakes gets 422 with every message (file position, part, field) and changes
//! nothing. The list and the texts come from the store, so every node answers the same.

mod edit;

pub use edit::{ForumBody, check, copy, diff};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::audit::record;
use super::auth::Organiser;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path};
use crate::domain::audit::Action;
use crate::domain::forum::config::ConfigError;
use crate::domain::forum::{Forum, ForumState};
use crate::domain::retention;
use crate::domain::time::{Millis, format_local};
use crate::store::{ForumRow, SaveMode, Saved};

/// How a file sent over HTTP is named in its messages (`forum.toml:12:5: …`).
const ORIGIN: &str = "forum.toml";

/// The served content type of a forum file.
const TOML_TYPE: &str = "application/toml; charset=utf-8";

/// Dates of a forum, as instants and as the forum's local time.
fn dates(forum: &Forum) -> Value {
    let tz = forum.tz();
    let local = |t: Option<Millis>| t.map(|t| format_local(t, &tz));
    json!({
        "starts": forum.starts(), "ends": forum.ends(),
        "starts_local": local(forum.starts()), "ends_local": local(forum.ends()),
        "timezone": forum.timezone,
    })
}

fn summary(row: &ForumRow, now: Millis) -> Value {
    let state = ForumState::current(row.state, &row.forum, now);
    json!({
        "id": row.forum.id, "title": row.forum.title,
        "state": state, "state_label": state.label(),
        "dates": dates(&row.forum),
        "halls": row.forum.halls.iter().map(|h| h.title.as_str()).collect::<Vec<_>>(),
    })
}

/// `GET /api/forums`: the forums open for registration or running, for viewers.
pub async fn public_list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let forums: Vec<Value> = state
        .store
        .forums()
        .await?
        .iter()
        .filter(|row| ForumState::current(row.state, &row.forum, now).is_public())
        .map(|row| summary(row, now))
        .collect();
    Ok(Json(json!({ "forums": forums })))
}

/// `GET /api/org/forums`: every forum in every state, with its versions' count.
pub async fn list(_o: Organiser, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let forums: Vec<Value> = state
        .store
        .forums()
        .await?
        .iter()
        .map(|row| {
            let mut item = summary(row, now);
            item["versions"] = json!(row.versions);
            item["created_at"] = json!(row.created_at);
            item["updated_at"] = json!(row.updated_at);
            item["served"] = json!(state.forums.get(&row.forum.id).is_some());
            item["personal_data"] = retention_json(row);
            item
        })
        .collect();
    Ok(Json(json!({ "forums": forums })))
}

/// When the forum's personal data is due for removal, and whether it was removed.
fn retention_json(row: &ForumRow) -> Value {
    let tz = row.forum.tz();
    let due = retention::due(&row.forum);
    json!({
        "keep_years": retention::years(&row.forum),
        "due": due, "due_local": due.map(|t| format_local(t, &tz)),
        "removed_at": row.personal_data_removed_at,
        "removed_local": row.personal_data_removed_at.map(|t| format_local(t, &tz)),
    })
}

/// What an organiser sends to remove a forum's personal data: its id typed again.
#[derive(Deserialize)]
pub struct PurgeRequest {
    confirm: Option<String>,
}

/// `POST /api/org/forums/{id}/personal-data/purge` with `{"confirm": ID}`: removes the forum's
/// participants' personal data (see `domain::retention`), at any time the organiser decides,
/// with the forum's id typed again as confirmation.
pub async fn purge(
    organiser: Organiser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<PurgeRequest>,
) -> ApiResult<Json<Value>> {
    let row = existing(&state, &id).await?;
    if req.confirm.as_deref().map(str::trim) != Some(id.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "Для подтверждения впишите id форума «{id}»: удаление необратимо."
        )));
    }
    let tz = row.forum.tz();
    if let Some(at) = row.personal_data_removed_at {
        return Err(ApiError::Conflict(format!(
            "Персональные данные участников уже удалены {}.",
            format_local(at, &tz)
        )));
    }
    let now = state.clock.now();
    let purged = state.store.purge_personal_data(&id, now).await?;
    let said = format!(
        "{} ({id}): удалены персональные данные участников — анкет {}, записей журнала {}, писем {}",
        row.forum.title, purged.viewers, purged.records, purged.letters
    );
    record(
        &state,
        organiser.actor(),
        Action::PersonalDataRemoved,
        said.clone(),
        json!({ "forum": id, "viewers": purged.viewers, "records": purged.records,
                "letters": purged.letters, "due": retention::due(&row.forum) }),
    )
    .await;
    Ok(Json(
        json!({ "id": id, "removed_at": now, "viewers": purged.viewers,
                    "message": format!("{said}.") }),
    ))
}

/// `DELETE /api/org/forums/{id}`: refused, saying what to do instead. A forum is never
/// deleted: every version is kept, and its codes are checked against it for years; one that
/// has issued codes is archived, a draft is simply left unpublished.
pub async fn remove(
    _o: Organiser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let row = existing(&state, &id).await?;
    let issued: i64 = state.store.code_counts(&id).await?.values().sum();
    let title = &row.forum.title;
    Err(ApiError::Conflict(if issued > 0 {
        format!(
            "Форум «{title}» нельзя удалить: по нему выдано кодов НМО — {issued}, и их проверяют \
             по нему. Когда он завершится, уберите его в архив (POST /api/org/forums/{id}/state, \
             {{\"state\": \"archived\"}}): коды будут проверяться, результаты и свидетельства \
             останутся доступны."
        )
    } else {
        let now = state.clock.now();
        format!(
            "Форумы не удаляются: все версии хранятся. Форум «{title}» сейчас в состоянии «{}»: \
             черновик можно не публиковать, опубликованный — снять с публикации, завершённый — \
             убрать в архив.",
            ForumState::current(row.state, &row.forum, now).label()
        )
    }))
}

async fn existing(state: &AppState, id: &str) -> ApiResult<ForumRow> {
    state
        .store
        .forum_row(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Форума «{id}» нет.")))
}

fn toml_response(id: &str, version: i64, text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, TOML_TYPE.to_owned()),
            (
                header::HeaderName::from_static("x-forum-version"),
                version.to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.toml\"", id.replace('"', "")),
            ),
        ],
        text,
    )
        .into_response()
}

/// `GET /api/org/forums/{id}`: the latest version's TOML, as it was sent; with `Accept:
/// application/json`, the same document as JSON (what the editor edits and sends back).
pub async fn toml(
    _o: Organiser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let (version, text) = state
        .store
        .forum_toml(&id, None)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Форума «{id}» нет.")))?;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        let document: Value = toml::from_str(&text).map_err(ApiError::internal)?;
        return Ok(
            Json(json!({ "id": id, "version": version, "forum": document })).into_response(),
        );
    }
    Ok(toml_response(&id, version, text))
}

/// `GET /api/org/forums/{id}/versions`: who saved each version and when.
pub async fn versions(
    _o: Organiser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    existing(&state, &id).await?;
    let versions = state.store.forum_versions(&id).await?;
    Ok(Json(json!({ "id": id, "versions": versions })))
}

/// `GET /api/org/forums/{id}/versions/{n}`: one version's TOML.
pub async fn version(
    _o: Organiser,
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> ApiResult<Response> {
    let n: i64 = n
        .trim()
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("Версия — это номер, а не «{n}».")))?;
    let (version, text) = state
        .store
        .forum_toml(&id, Some(n))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("У форума «{id}» нет версии {n}.")))?;
    Ok(toml_response(&id, version, text))
}

/// The 422 answer to a file with mistakes: every message, nothing saved.
fn invalid(e: ConfigError) -> Response {
    let n = e.messages.len();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "error": format!(
                "В файле форума ошибок: {n}. Ничего не сохранено; исправьте их и отправьте снова."
            ),
            "messages": e.messages,
            "problems": e.problems,
        })),
    )
        .into_response()
}

fn saved_json(forum: &Forum, saved: &Saved, message: String) -> Value {
    json!({
        "id": forum.id, "title": forum.title, "version": saved.version,
        "saved": saved.changed, "warnings": saved.ignored_changes, "message": message,
    })
}

/// `POST /api/org/forums`: a new forum from a TOML file; it starts as a draft.
pub async fn create(
    organiser: Organiser,
    State(state): State<AppState>,
    body: ForumBody,
) -> ApiResult<Response> {
    let (forum, text) = match edit::read(body, &state.catalogue) {
        Ok(read) => read,
        Err(e) => return Ok(invalid(e)),
    };
    let now = state.clock.now();
    let saved = state
        .store
        .save_forum(&forum, &text, SaveMode::Create, &organiser.login, now)
        .await?;
    tracing::info!(organiser = %organiser.login, forum = %forum.id, "forum created");
    record(
        &state,
        organiser.actor(),
        Action::ForumCreated,
        format!("Создан черновик форума: {} ({})", forum.title, forum.id),
        json!({ "forum": forum.id, "version": saved.version, "sessions": forum.sessions.len() }),
    )
    .await;
    let message = format!(
        "{} — создан черновик (версия {}). Участники увидят форум, когда он будет \
         опубликован.",
        forum.title, saved.version
    );
    Ok((
        StatusCode::CREATED,
        Json(saved_json(&forum, &saved, message)),
    )
        .into_response())
}

/// `PUT /api/org/forums/{id}`: the next version of a forum. The file's `[forum] id` must be
/// the one in the address; started sessions keep their frozen rules, and the answer says so.
pub async fn replace(
    organiser: Organiser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: ForumBody,
) -> ApiResult<Response> {
    let (forum, text) = match edit::read(body, &state.catalogue) {
        Ok(read) => read,
        Err(e) => return Ok(invalid(e)),
    };
    if forum.id != id {
        return Err(ApiError::Conflict(format!(
            "В файле id форума «{}», а в адресе «{id}». Чтобы создать другой форум, \
             отправьте файл запросом POST /api/org/forums; id существующего форума не меняется.",
            forum.id
        )));
    }
    existing(&state, &id).await?;
    edit::freeze_running(&state, &id).await?;
    if let Some(refused) = edit::refuse_frozen_changes(&state.store, &forum).await? {
        return Ok(refused);
    }
    let now = state.clock.now();
    let saved = state
        .store
        .save_forum(&forum, &text, SaveMode::Replace, &organiser.login, now)
        .await?;
    let message = if saved.changed {
        tracing::info!(organiser = %organiser.login, forum = %id, version = saved.version, "forum saved");
        record(
            &state,
            organiser.actor(),
            Action::ForumSaved,
            format!(
                "Сохранена версия {} форума: {} ({id})",
                saved.version, forum.title
            ),
            json!({ "forum": id, "version": saved.version, "frozen_kept": saved.ignored_changes.len() }),
        )
        .await;
        // A running forum runs the new version at once, here and on every other node: a
        // fixed stream address reaches the open players without a restart.
        if let Err(e) = state.forums.refresh(&id).await {
            tracing::error!(forum = %id, error = format!("{e:#}"), "the saved version is not running yet");
        }
        if let Some(running) = state.forums.get(&id) {
            running.hub.announce_saved(saved.version);
        }
        format!(
            "Сохранена версия {} форума: {}.",
            saved.version, forum.title
        )
    } else {
        format!("Файл не изменился: действует версия {}.", saved.version)
    };
    Ok(Json(saved_json(&forum, &saved, message)).into_response())
}

#[derive(Deserialize)]
pub struct StateChange {
    pub state: String,
}

/// `POST /api/org/forums/{id}/state`: publish a draft, take it back, archive a finished
/// forum or bring it back (`{"state": "registration" | "draft" | "archived" | "finished"}`).
pub async fn set_state(
    organiser: Organiser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(change): Json<StateChange>,
) -> ApiResult<Json<Value>> {
    let to = ForumState::parse(&change.state).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "Неизвестное состояние «{}»; можно: draft (черновик), registration (опубликовать), \
             finished (вернуть из архива), archived (в архив).",
            change.state
        ))
    })?;
    let row = existing(&state, &id).await?;
    let now = state.clock.now();
    let from = ForumState::current(row.state, &row.forum, now);
    let stored = from.change(to).map_err(ApiError::Conflict)?;
    if !state.store.set_forum_state(&id, stored, now).await? {
        return Err(ApiError::NotFound(format!("Форума «{id}» нет.")));
    }
    let now_state = ForumState::current(stored, &row.forum, now);
    // A published forum is served from now on, an archived one no longer: no restart.
    if let Err(e) = state.forums.follow(&id).await {
        tracing::error!(forum = %id, error = format!("{e:#}"), "forum not started after its state changed");
    }
    // The other nodes too.
    state.forums.announce(&id);
    record(
        &state,
        organiser.actor(),
        Action::ForumStateChanged,
        format!(
            "{} ({id}): «{}» → «{}»",
            row.forum.title,
            from.label(),
            now_state.label()
        ),
        json!({ "forum": id, "before": from, "after": now_state }),
    )
    .await;
    Ok(Json(json!({
        "id": id, "state": now_state, "state_label": now_state.label(),
        "message": format!("{}: {}.", row.forum.title, now_state.label()),
    })))
}
