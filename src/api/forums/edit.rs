//! What the dashboard's forum editor needs beyond the TOML API: a forum sent as JSON (the same
//! shape as the file: `{"forum": {…}, "hall": […], "session": […]}`), a check that saves
//! nothing and answers with the problems, the programme as viewers will see it and which
//! sessions are frozen; the rule that a started session's rules cannot be changed; versions
//! compared line by line; a copy of a forum with its dates moved.
//!
//! JSON is turned into TOML text first, so the one parser and validator of `yavka
//! check-config` judge both, and what is stored is TOML (written by [`to_toml`]) as for a file.

use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::AppState;
use super::super::audit::record;
use super::super::auth::Organiser;
use super::super::error::{ApiError, ApiResult};
use super::super::extract::{Json, Path, TomlBody};
use super::super::viewers::programme_json;
use super::{ORIGIN, existing, invalid};
use crate::domain::audit::Action;
use crate::domain::forum::catalogue::Catalogue;
use crate::domain::forum::config::{ConfigError, Problem, parse, to_toml};
use crate::domain::forum::{Forum, Session};
use crate::domain::time::{MINUTE, Span, format_local};
use crate::store::{SaveMode, Store};

/// How a forum sent as JSON is named in its messages: the editor's form, not a file.
const FORM: &str = "форма";

/// A forum as sent: TOML text (`application/toml`) or the same document as JSON.
pub enum ForumBody {
    Toml(String),
    Json(Value),
}

impl FromRequest<AppState> for ForumBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if json {
            let Json(value) = Json::<Value>::from_request(req, state).await?;
            Ok(ForumBody::Json(value))
        } else {
            let TomlBody(text) = TomlBody::from_request(req, state).await?;
            Ok(ForumBody::Toml(text))
        }
    }
}

/// The forum and the text to store, or every problem with it. TOML is stored as it was sent
/// (comments and all); JSON as the file [`to_toml`] writes.
pub(super) fn read(body: ForumBody, catalogue: &Catalogue) -> Result<(Forum, String), ConfigError> {
    match body {
        ForumBody::Toml(text) => parse(&text, ORIGIN, catalogue).map(|forum| (forum, text)),
        ForumBody::Json(value) => {
            let text = json_to_toml(value)?;
            // Lines of a text the sender never saw would mislead: paths are what they have.
            let forum = parse(&text, FORM, catalogue).map_err(|mut e| {
                for p in &mut e.problems {
                    (p.line, p.column) = (None, None);
                }
                e
            })?;
            let text = to_toml(&forum);
            Ok((forum, text))
        }
    }
}

/// The JSON document as TOML text. `null` means "not given" and is left out, as a key missing
/// from a file is.
fn json_to_toml(value: Value) -> Result<String, ConfigError> {
    fn strip(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, strip(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(strip).collect()),
            other => other,
        }
    }
    let refuse = |text: String| ConfigError {
        messages: vec![text.clone()],
        problems: vec![Problem {
            text,
            line: None,
            column: None,
            path: None,
        }],
    };
    if !value.is_object() {
        return Err(refuse(format!(
            "{FORM}: Форум в JSON — это объект {{\"forum\": {{…}}, \"hall\": […], \"session\": […]}}"
        )));
    }
    toml::to_string(&strip(value))
        .map_err(|e| refuse(format!("{FORM}: Форум не записать как файл TOML: {e}")))
}

/// Freezes the started sessions of forum `id` if this server runs it, with the rules it runs
/// under: a session that started while the server ran is frozen here before an edit is judged
/// (the server freezes sessions as a forum starts; see `runtime`). A draft never ran: its
/// sessions stay editable whatever their dates.
pub(super) async fn freeze_running(state: &AppState, id: &str) -> ApiResult<()> {
    if let Some(running) = state.forums.get(id) {
        state
            .store
            .freeze_started(&running.forum, state.clock.now())
            .await?;
    }
    Ok(())
}

/// For each session of `forum`, whether its rules are frozen and why; and a problem for every
/// frozen session whose rules the new version would change or drop.
async fn frozen(store: &Store, forum: &Forum) -> ApiResult<(Vec<Value>, Vec<Problem>)> {
    let rules = store.frozen_rules(&forum.id).await?;
    let tz = forum.tz();
    let mut sessions = Vec::new();
    let mut problems = Vec::new();
    for (i, s) in forum.sessions.iter().enumerate() {
        let kept = rules.iter().find(|r| r.id == s.id);
        let reason = kept.map(|r| {
            format!(
                "Сессия началась {}: её правила заморожены — по ним считается присутствие \
                 всех, кто её смотрел. Изменить можно только адрес трансляции зала.",
                format_local(r.starts, &tz).replace('T', " ")
            )
        });
        if let Some(r) = kept.filter(|r| *r != s) {
            problems.push(refused(s, r, i));
        }
        sessions.push(json!({ "id": s.id, "path": format!("session[{i}]"),
                              "frozen": kept.is_some(), "reason": reason }));
    }
    for r in rules.iter().filter(|r| forum.session(&r.id).is_none()) {
        let text = format!(
            "Сессия «{}» уже началась: её нельзя удалить, по её правилам считается присутствие.",
            r.id
        );
        problems.push(Problem {
            text,
            line: None,
            column: None,
            path: Some("session".into()),
        });
    }
    // A hall viewers were in stays, even once its sessions are gone: their attendance there
    // is on record.
    if let Some(stored) = store.forum_row(&forum.id).await? {
        for h in stored
            .forum
            .halls
            .iter()
            .filter(|h| forum.hall(&h.id).is_none())
        {
            if store.hall_was_watched(&forum.id, &h.id).await? {
                problems.push(Problem {
                    text: format!(
                        "В зале «{}» ({}) уже были зрители: удалить его нельзя, по нему \
                         считается их присутствие.",
                        h.title, h.id
                    ),
                    line: None,
                    column: None,
                    path: Some("hall".into()),
                });
            }
        }
    }
    Ok((sessions, problems))
}

fn refused(s: &Session, frozen: &Session, i: usize) -> Problem {
    let fields = frozen.changed_fields(s);
    Problem {
        text: format!(
            "Сессия «{}» уже началась: её правила заморожены, изменить нельзя ({}). Верните \
             прежние значения или опишите новую сессию с другим id.",
            s.id,
            fields.join(", ")
        ),
        line: None,
        column: None,
        path: Some(format!("session[{i}].{}", fields.first().unwrap_or(&"id"))),
    }
}

/// The 422 answer to a version that changes a started session, if it does; called before
/// saving.
pub(super) async fn refuse_frozen_changes(
    store: &Store,
    forum: &Forum,
) -> ApiResult<Option<Response>> {
    let (_, problems) = frozen(store, forum).await?;
    if problems.is_empty() {
        return Ok(None);
    }
    Ok(Some(invalid(ConfigError {
        messages: problems.iter().map(|p| p.text.clone()).collect(),
        problems,
    })))
}

/// `POST /api/org/forums/check`: the forum judged as a save would judge it, nothing saved:
/// `{ok, problems, preview, sessions}` where `preview` is the programme as `GET /api/forum`
/// shows it and `sessions` says which are frozen and why.
pub async fn check(
    _o: Organiser,
    State(state): State<AppState>,
    body: ForumBody,
) -> ApiResult<Json<Value>> {
    let forum = match read(body, &state.catalogue) {
        Ok((forum, _)) => forum,
        Err(e) => {
            return Ok(Json(json!({
                "ok": false, "problems": e.problems, "preview": null, "sessions": [],
            })));
        }
    };
    freeze_running(&state, &forum.id).await?;
    let (sessions, problems) = frozen(&state.store, &forum).await?;
    Ok(Json(json!({
        "ok": problems.is_empty(), "problems": problems,
        "preview": programme_json(&forum, None), "sessions": sessions,
    })))
}

/// `GET /api/org/forums/{id}/versions/{n}/diff`: what version n changed against the one
/// before it (version 1 against nothing), as hunks of lines and as a unified diff.
pub async fn diff(
    _o: Organiser,
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let n: i64 = n
        .trim()
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("Версия — это номер, а не «{n}».")))?;
    let missing = || ApiError::NotFound(format!("У форума «{id}» нет версии {n}."));
    let (_, new) = state
        .store
        .forum_toml(&id, Some(n))
        .await?
        .ok_or_else(missing)?;
    let old = match n {
        1 => String::new(),
        _ => state
            .store
            .forum_toml(&id, Some(n - 1))
            .await?
            .map(|(_, text)| text)
            .unwrap_or_default(),
    };
    let diff = similar::TextDiff::from_lines(&old, &new);
    let hunks: Vec<Value> = diff
        .grouped_ops(3)
        .iter()
        .map(|group| {
            let lines: Vec<Value> = group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|change| {
                    let tag = match change.tag() {
                        similar::ChangeTag::Delete => "-",
                        similar::ChangeTag::Insert => "+",
                        similar::ChangeTag::Equal => " ",
                    };
                    json!({
                        "tag": tag,
                        "old": change.old_index().map(|i| i + 1),
                        "new": change.new_index().map(|i| i + 1),
                        "text": change.value().trim_end_matches('\n'),
                    })
                })
                .collect();
            json!({ "lines": lines })
        })
        .collect();
    let readable = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("версия {}", n - 1), &format!("версия {n}"))
        .to_string();
    Ok(Json(json!({
        "id": id, "version": n, "against": n - 1, "hunks": hunks, "text": readable,
    })))
}

/// What an organiser sends to copy a forum: the copy's id and its first day.
#[derive(Deserialize)]
pub struct CopyRequest {
    id: String,
    first_day: String,
}

/// `POST /api/org/forums/{id}/copy`: a new draft with every session moved by the same number
/// of days, so that the first session falls on `first_day` (local dates of the forum's zone).
/// Times of day, halls, norms and audiences stay; the title is the organiser's to change.
pub async fn copy(
    organiser: Organiser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<CopyRequest>,
) -> ApiResult<Response> {
    let row = existing(&state, &id).await?;
    let new_id = req.id.trim().to_owned();
    if new_id.is_empty() || new_id.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(ApiError::BadRequest(format!(
            "Id копии — латиница, цифры и дефисы без пробелов, например «{id}-2027»."
        )));
    }
    let first_day =
        jiff::civil::Date::strptime("%Y-%m-%d", req.first_day.trim()).map_err(|_| {
            ApiError::BadRequest(format!(
                "Первый день копии — дата ГГГГ-ММ-ДД, а не «{}».",
                req.first_day
            ))
        })?;
    let mut forum = row.forum.clone();
    let tz = forum.tz();
    let days = match forum.starts() {
        Some(start) => {
            let local = &format_local(start, &tz)[..10];
            let from =
                jiff::civil::Date::strptime("%Y-%m-%d", local).map_err(ApiError::internal)?;
            i64::from(
                first_day
                    .since(from)
                    .map_err(ApiError::internal)?
                    .get_days(),
            )
        }
        None => 0,
    };
    // Whole days in UTC: a session at 09:15 stays at 09:15 unless a clock change lies between.
    let shift = days * 24 * 60 * MINUTE;
    for s in &mut forum.sessions {
        s.starts += shift;
        s.ends += shift;
        for e in &mut s.excluded {
            *e = Span::new(e.start + shift, e.end + shift);
        }
    }
    forum.id = new_id.clone();
    let text = to_toml(&forum);
    // The copy is judged as a new file is: a moved date may, say, land in a clock change.
    let forum = match parse(&text, ORIGIN, &state.catalogue) {
        Ok(forum) => forum,
        Err(e) => return Ok(invalid(e)),
    };
    let now = state.clock.now();
    let saved = state
        .store
        .save_forum(&forum, &text, SaveMode::Create, &organiser.login, now)
        .await?;
    record(
        &state,
        organiser.actor(),
        Action::ForumCreated,
        format!(
            "Создан черновик форума {} ({new_id}) — копия «{id}», даты сдвинуты на {days} дн.",
            forum.title
        ),
        json!({ "forum": new_id, "copy_of": id, "days": days, "version": saved.version }),
    )
    .await;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({
            "id": new_id, "version": saved.version, "days": days,
            "message": format!(
                "Создан черновик «{new_id}»: копия «{id}», даты сдвинуты на {days} дн. \
                 Проверьте название и опубликуйте, когда будет готов."
            ),
        })),
    )
        .into_response())
}
