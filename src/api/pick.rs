//! Which forum a request is for, when the server runs several (see `runtime`).
//!
//! Handlers that work on one forum take [`Picked`] instead of `State<AppState>`: the same
//! state, with `forum`, `hub`, `prompter`, `mailer` and `writer` those of the request's forum,
//! so a handler body reads as it did when a server ran one forum. The forum is, in order:
//! - `?forum=ID` when given; a stored forum this node does not run yet is started on demand
//!   (`runtime::Forums::open`): an archived one without anything live, so its results,
//!   exports, certificates, codes and mail stay within reach; one another node of a cluster
//!   published, in full. A draft or an unknown id: 404;
//! - for a personal link (`?token=`), the forum the link belongs to, archived ones included (a
//!   link no forum knows gets the configuration file's forum, whose handler refuses it as it
//!   always did);
//! - else the one forum that fits: the only live one, else the only one open for
//!   registration, else the only one running. When several fit, the answer is 400 with the
//!   list, so the caller can name one (`{"error": …, "forums": [{id, title, state}]}`).
//!
//! With one forum running — the usual case — nothing is looked up.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::auth::token_hash;
use super::error::ApiError;
use crate::domain::forum::ForumState;
use crate::runtime::Running;

/// The request's forum's state (see the module comment).
pub struct Picked(pub AppState);

impl FromRequestParts<AppState> for Picked {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let mut forum = None;
        let mut token = None;
        for (key, value) in form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        {
            match key.as_ref() {
                "forum" => forum = Some(value.trim().to_owned()),
                "token" => token = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        pick(state, forum.as_deref(), token.as_deref())
            .await
            .map(Picked)
    }
}

/// The state of the forum named by `forum`, else of the link `token`, else the one that fits.
pub async fn pick(
    state: &AppState,
    forum: Option<&str>,
    token: Option<&str>,
) -> Result<AppState, Response> {
    let running = state.forums.all();
    if let Some(id) = forum.filter(|id| !id.is_empty()) {
        if let Some(r) = running.into_iter().find(|r| r.forum.id == id) {
            return Ok(with(state, r));
        }
        return match open(state, id).await? {
            Some(r) => Ok(with(state, r)),
            None => Err(not_running(state, id).await.into_response()),
        };
    }
    let token = token.filter(|t| !t.is_empty());
    // A link may belong to an archived forum only if this server has archived one.
    if running.len() <= 1 && (token.is_none() || !state.forums.has_archived()) {
        return Ok(only(state, running));
    }
    if let Some(token) = token {
        match state.store.forum_of_token_hash(&token_hash(token)).await {
            Ok(Some(id)) => {
                if let Some(r) = running.iter().find(|r| r.forum.id == id) {
                    return Ok(with(state, r.clone()));
                }
                if let Some(r) = open(state, &id).await? {
                    return Ok(with(state, r));
                }
                if running.len() <= 1 {
                    return Ok(only(state, running));
                }
            }
            // An unknown link is refused by the handler in its own words (the player's socket
            // is closed with its code), not with the list of forums.
            Ok(None) if running.len() <= 1 => return Ok(only(state, running)),
            Ok(None) => return Ok(state.clone()),
            Err(e) => return Err(ApiError::from(e).into_response()),
        }
    }
    let now = state.clock.now();
    // Every running forum is published (see `runtime`): its state follows its dates.
    let states: Vec<ForumState> = running
        .iter()
        .map(|r| ForumState::current(ForumState::Registration, &r.forum, now))
        .collect();
    for wanted in [ForumState::Live, ForumState::Registration] {
        let fit: Vec<usize> = (0..running.len())
            .filter(|&k| states[k] == wanted)
            .collect();
        match fit.as_slice() {
            [] => continue,
            [k] => return Ok(with(state, running[*k].clone())),
            many => return Err(several(&running, &states, many)),
        }
    }
    let all: Vec<usize> = (0..running.len()).collect();
    Err(several(&running, &states, &all))
}

/// The bundle of stored forum `id` that this node does not run yet: archived, or published on
/// another node.
async fn open(state: &AppState, id: &str) -> Result<Option<Running>, Response> {
    state.forums.open(id).await.map_err(|e| {
        tracing::error!(forum = %id, error = format!("{e:#}"), "a stored forum could not be started");
        ApiError::internal(e).into_response()
    })
}

/// The state of the one running forum, or `state` when none runs.
fn only(state: &AppState, running: Vec<Running>) -> AppState {
    running
        .into_iter()
        .next()
        .map_or_else(|| state.clone(), |r| with(state, r))
}

/// `state` with the forum parts of `running`.
fn with(state: &AppState, running: Running) -> AppState {
    AppState {
        forum: running.forum,
        hub: running.hub,
        prompter: running.prompter,
        mailer: running.mailer,
        writer: running.writer,
        ..state.clone()
    }
}

/// 404 for a forum named in the address that this server does not run, saying why.
async fn not_running(state: &AppState, id: &str) -> ApiError {
    match state.store.forum_row(id).await {
        Ok(Some(row)) => {
            let now = state.clock.now();
            let current = ForumState::current(row.state, &row.forum, now);
            ApiError::NotFound(format!(
                "Форум «{}» ({id}) сейчас не проводится: его состояние — «{}».",
                row.forum.title,
                current.label()
            ))
        }
        Ok(None) => ApiError::NotFound(format!(
            "Форума «{id}» нет. Список форумов: GET /api/forums."
        )),
        Err(e) => e.into(),
    }
}

/// 400: several forums fit, with the list to choose from.
fn several(running: &[Running], states: &[ForumState], which: &[usize]) -> Response {
    let forums: Vec<_> = which
        .iter()
        .map(|&k| {
            json!({
                "id": running[k].forum.id, "title": running[k].forum.title,
                "state": states[k], "state_label": states[k].label(),
            })
        })
        .collect();
    let ids: Vec<&str> = which
        .iter()
        .map(|&k| running[k].forum.id.as_str())
        .collect();
    let message = format!(
        "Сейчас проводится несколько форумов; укажите, о каком речь, параметром forum= \
         (например, ?forum={}). Форумы: {}.",
        ids[0],
        ids.join(", ")
    );
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": message, "forums": forums })),
    )
        .into_response()
}
