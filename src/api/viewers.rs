//! Viewers: the public programme, the personal-link landing data, and the organiser's CSV
//! import of pre-registered viewers. (Self-registration is `register.rs`.)

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Organiser, new_token, token_hash};
use super::error::{ApiError, ApiResult};
use crate::domain::forum::{Education, Forum};
use crate::domain::registration::{FieldError, Registration, RegistrationForm, validate};
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

pub async fn programme(State(state): State<AppState>) -> Json<Value> {
    Json(programme_json(&state.forum, None))
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
    let id = format!("v-{}", &new_token()[..16]);
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
pub async fn me(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Json<Value>> {
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
            "ссылка недействительна: возможно, организатор выдал вам новую".into(),
        )),
    }
}

/// CSV of pre-registered viewers: a header row with `name, email, phone, education,
/// specialty` and optionally `snils`; `,` or `;` separated. The organiser confirms that
/// consents were collected by importing; the current versions of the texts are recorded. Every bad row is reported and then nothing is
/// imported, so a corrected file can simply be uploaded again; e-mails already registered are
/// skipped, not duplicated.
pub async fn import_csv(
    organiser: Organiser,
    State(state): State<AppState>,
    body: String,
) -> ApiResult<Json<Value>> {
    let text = body.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("не удалось прочитать заголовок CSV: {e}")))?
        .iter()
        .map(str::to_lowercase)
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let required = ["name", "email", "phone", "education", "specialty"];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| col(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "в заголовке CSV нет столбцов: {}",
            missing.join(", ")
        )));
    }
    let current = state
        .store
        .current_versions(&state.forum.id, state.clock.now())
        .await?;
    let mut regs = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(FieldError {
                    field: "csv",
                    message: format!("строка {line}: {e}"),
                });
                continue;
            }
        };
        let get = |name: &str| {
            col(name)
                .and_then(|c| record.get(c))
                .unwrap_or("")
                .to_owned()
        };
        let form = RegistrationForm {
            name: get("name"),
            email: get("email"),
            phone: get("phone"),
            education: get("education"),
            specialty: get("specialty"),
            snils: Some(get("snils")),
            consent_personal_data: true,
            consent_terms: true,
            consent_personal_data_version: Some(current.personal_data),
            consent_terms_version: Some(current.terms),
        };
        match validate(&form, &state.catalogue, current) {
            Ok(reg) => regs.push((line, reg)),
            Err(fields) => errors.extend(fields.into_iter().map(|f| FieldError {
                field: f.field,
                message: format!("строка {line}, {}: {}", f.field, f.message),
            })),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid {
            message: format!("в файле {} ошибок; ничего не импортировано", errors.len()),
            fields: errors,
        });
    }
    let mut created = Vec::new();
    let mut skipped = Vec::new();
    for (line, reg) in regs {
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
    Ok(Json(json!({ "created": created, "skipped": skipped })))
}
