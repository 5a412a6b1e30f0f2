//! Viewers: the public programme, the personal-link landing data, and the organiser's CSV
//! import of pre-registered viewers. (Self-registration is `register.rs`.)

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Organiser, new_token, token_hash};
use super::csv_import;
use super::error::{ApiError, ApiResult};
use super::extract::{CsvBody, Json, Query};
use super::pick::Picked;
use crate::domain::forum::{Education, Forum};
use crate::domain::registration::{Registration, closed_reason, validate};
use crate::domain::time::{format_clock, format_local};
use crate::store::{StoreError, ViewerRow};

/// The forum's halls and sessions, grouped by local day; `viewer` marks which sessions are
/// accredited for them.
pub fn programme_json(forum: &Forum, viewer: Option<&ViewerRow>) -> Value {
    programme_for(forum, viewer.map(|v| (v.education, v.specialty.as_str())))
}

/// [`programme_json`] for an education level and specialty.
pub fn programme_for(forum: &Forum, audience: Option<(Education, &str)>) -> Value {
    let tz = forum.tz();
    let mut days: Vec<(String, Vec<Value>)> = Vec::new();
    let mut sessions: Vec<_> = forum.sessions.iter().collect();
    sessions.sort_by_key(|s| (s.starts, s.hall.clone()));
    for s in sessions {
        let date = format_local(s.starts, &tz)[..10].to_owned();
        let accredited =
            audience.map(|(education, specialty)| s.audience.admits(education, specialty));
        let item = json!({
            "id": s.id, "hall": s.hall, "title": s.title,
            "starts": s.starts, "ends": s.ends,
            "time": format!("{}–{}", format_clock(s.starts, &tz), format_clock(s.ends, &tz)),
            "credits": s.credits, "min_minutes": s.min_minutes,
            "prompts": s.prompts, "prompts_required": s.prompts_required,
            "audience": s.audience, "accredited": accredited,
        });
        match days.iter_mut().find(|(d, _)| *d == date) {
            Some((_, list)) => list.push(item),
            None => days.push((date, vec![item])),
        }
    }
    json!({
        "forum": {
            "id": forum.id, "title": forum.title, "timezone": forum.timezone,
            "codes_note": forum.codes_note,
        },
        "halls": forum.halls,
        "days": days.into_iter().map(|(date, sessions)| json!({"date": date, "sessions": sessions})).collect::<Vec<_>>(),
    })
}

pub async fn programme(Picked(state): Picked) -> Json<Value> {
    let mut json = programme_json(&state.forum, None);
    // The page shows this instead of the form once the forum is over.
    let closed = closed_reason(&state.forum, state.clock.now());
    json["registration"] = json!({ "open": closed.is_none(), "closed": closed });
    Json(json)
}

pub async fn catalogue(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "higher": state.catalogue.list(Education::Higher),
        "secondary": state.catalogue.list(Education::Secondary),
    }))
}

fn viewer_json(state: &AppState, v: &ViewerRow) -> Value {
    json!({
        "id": v.id, "name": v.name, "email": v.email, "phone": v.phone,
        "education": v.education, "specialty": v.specialty,
        "programme": programme_json(&state.forum, Some(v)),
    })
}

fn link(state: &AppState, token: &str) -> String {
    format!("{}/watch?token={token}", state.public_url)
}

/// Stores a registration with a fresh viewer id and personal-link token, accepting the
/// current versions of the consent texts; returns the row and the token (only its hash is
/// kept). For the organiser's import and the demo, which hand links out themselves.
pub async fn create_viewer(
    state: &AppState,
    reg: &Registration,
) -> Result<(ViewerRow, String), StoreError> {
    let consents = state
        .store
        .current_versions(&state.forum.id, state.clock.now())
        .await?;
    let token = new_token();
    let id = crate::ids::new_viewer_id();
    let row = state
        .store
        .insert_viewer_consenting(
            &state.forum.id,
            &id,
            reg,
            Some(consents),
            &token_hash(&token),
            state.clock.now(),
        )
        .await?;
    Ok((row, token))
}

#[derive(Deserialize)]
pub struct TokenQuery {
    pub token: String,
}

/// The personal-link landing: who I am and what is accredited for me.
pub async fn me(Picked(state): Picked, Query(q): Query<TokenQuery>) -> ApiResult<Json<Value>> {
    match state
        .store
        .viewer_by_token_hash(&state.forum.id, &token_hash(q.token.trim()))
        .await?
    {
        Some(v) => {
            let mut json = viewer_json(&state, &v);
            // Issued codes, so the player can offer the certificate once there is one.
            let codes = state.store.viewer_codes(&state.forum.id, &v.id).await?;
            json["codes"] = codes
                .into_iter()
                .map(|(session, code)| serde_json::json!({"session": session, "code": code}))
                .collect();
            Ok(Json(json))
        }
        None => Err(ApiError::Unauthorized(
            crate::hub::protocol::close::BAD_LINK.into(),
        )),
    }
}

/// CSV of pre-registered viewers: a header row with `name, email, phone, education,
/// specialty` and optionally `snils`; `,` or `;` separated; UTF-8 or Windows-1251 (see
/// `csv_import`). The organiser confirms that consents were collected by importing; the
/// current versions of the texts are recorded. Every row
/// is checked first and, if any is bad, nothing is imported and the first errors are reported
/// with their total, so a corrected file can simply be uploaded again; e-mails already
/// registered are skipped, not duplicated.
pub async fn import_csv(
    organiser: Organiser,
    Picked(state): Picked,
    CsvBody(body): CsvBody,
) -> ApiResult<Response> {
    let file = Arc::new(csv_import::decode(body)?);
    let shown = state.settings.limits.import_errors_shown;
    let catalogue = state.catalogue.clone();
    let current = state
        .store
        .current_versions(&state.forum.id, state.clock.now())
        .await?;
    let checked = file.clone();
    let check = tokio::task::spawn_blocking(move || {
        csv_import::check(&checked.text, &catalogue, current, shown)
    })
    .await
    .map_err(ApiError::internal)??;
    if check.bad_rows > 0 {
        let message = format!(
            "Ничего не импортировано: ошибки в {} из {} строк (всего ошибок: {}). {} \
             Исправьте файл и загрузите его снова.",
            check.bad_rows,
            check.rows,
            check.error_count,
            if check.error_count > check.errors.len() {
                format!("Показаны первые {}.", check.errors.len())
            } else {
                "Все они перечислены ниже.".to_owned()
            }
        );
        tracing::info!(
            rows = check.rows,
            bad_rows = check.bad_rows,
            "viewer import refused"
        );
        let body = json!({
            "error": message, "fields": check.errors, "rows": check.rows,
            "bad_rows": check.bad_rows, "error_count": check.error_count,
            "encoding": file.encoding,
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    let mut created = Vec::new();
    let mut skipped = Vec::new();
    for (line, form) in csv_import::Rows::new(&file.text, current)? {
        let form = form.map_err(ApiError::BadRequest)?;
        // Every row was checked above; a failure here means the texts changed meanwhile.
        let reg =
            validate(&form, &state.catalogue, current).map_err(|fields| ApiError::Invalid {
                message: format!("Строка {line}: проверьте поля и загрузите файл снова"),
                fields,
            })?;
        match create_viewer(&state, &reg).await {
            Ok((row, token)) => created.push(json!({
                "line": line, "id": row.id, "name": row.name, "email": row.email,
                "link": link(&state, &token),
            })),
            Err(StoreError::Conflict(message)) => {
                skipped.push(json!({ "line": line, "message": message }))
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(
        created = created.len(),
        skipped = skipped.len(),
        encoding = file.encoding,
        "viewers imported"
    );
    let ids: Vec<&Value> = created.iter().map(|c| &c["id"]).collect();
    super::audit::record(
        &state,
        organiser.actor(),
        crate::domain::audit::Action::ViewersImported,
        format!(
            "Импорт участников из CSV: создано {}, пропущено (уже зарегистрированы) {}",
            created.len(),
            skipped.len()
        ),
        json!({ "created": created.len(), "skipped": skipped.len(), "viewers": ids }),
    )
    .await;
    Ok(
        Json(json!({ "created": created, "skipped": skipped, "encoding": file.encoding }))
            .into_response(),
    )
}
