//! The consent texts over HTTP: read by anyone (the registration form shows the current
//! versions and links to them; any version stays readable, so a viewer can see what they
//! accepted), replaced by organisers, each save a new version (see `domain::consent`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::audit::record;
use super::auth::Organiser;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};
use super::pick::Picked;
use crate::domain::audit::Action;
use crate::domain::consent::{ConsentKind, check_edit, placeholders};
use crate::store::TextRow;

fn kind_of(slug: &str) -> ApiResult<ConsentKind> {
    ConsentKind::parse(slug.trim()).ok_or_else(|| {
        ApiError::NotFound(format!(
            "Текста «{slug}» нет: есть personal-data (согласие на обработку персональных \
             данных) и terms (пользовательское соглашение)."
        ))
    })
}

/// Where a person reads a version of a text: the page names the forum when the server runs
/// several, since each forum has its own texts.
fn page(state: &AppState, kind: ConsentKind, version: i64) -> String {
    let forum = if state.forums.all().len() > 1 {
        format!("&forum={}", urlencoding(&state.forum.id))
    } else {
        String::new()
    };
    format!("/texts/{}?version={version}{forum}", kind.slug())
}

/// A forum id as a query value.
fn urlencoding(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn summary(state: &AppState, t: &TextRow) -> Value {
    json!({
        "kind": t.kind, "version": t.version, "title": t.title,
        "created_at": t.created_at, "created_by": t.created_by,
        "page": page(state, t.kind, t.version),
    })
}

/// `GET /api/texts`: the current version of each text, for the registration form.
pub async fn current(Picked(state): Picked) -> ApiResult<Json<Value>> {
    let mut texts = Vec::new();
    for kind in ConsentKind::ALL {
        let t = state
            .store
            .current_text(&state.forum.id, kind, state.clock.now())
            .await?;
        texts.push(summary(&state, &t));
    }
    Ok(Json(json!({ "texts": texts })))
}

#[derive(Deserialize)]
pub struct VersionQuery {
    pub version: Option<String>,
}

/// `GET /api/texts/{kind}?version=N`: one version (the current one without `version`).
pub async fn one(
    Picked(state): Picked,
    Path(slug): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<Value>> {
    let kind = kind_of(&slug)?;
    let forum = &state.forum.id;
    let current = state
        .store
        .current_text(forum, kind, state.clock.now())
        .await?;
    let text = match q
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => current.clone(),
        Some(v) => {
            let n: i64 = v
                .parse()
                .map_err(|_| ApiError::BadRequest(format!("Редакция — это номер, а не «{v}».")))?;
            state
                .store
                .text(forum, kind, Some(n))
                .await?
                .ok_or_else(|| {
                    ApiError::NotFound(format!(
                        "Редакции {n} нет: последняя — {}.",
                        current.version
                    ))
                })?
        }
    };
    let mut out = summary(&state, &text);
    out["body"] = json!(text.body);
    out["current"] = json!(current.version);
    Ok(Json(out))
}

/// `GET /api/org/texts`: both texts with their current body, unfilled `[…]` fields and every
/// earlier version.
pub async fn for_organiser(_o: Organiser, Picked(state): Picked) -> ApiResult<Json<Value>> {
    let forum = &state.forum.id;
    let mut texts = Vec::new();
    for kind in ConsentKind::ALL {
        let current = state
            .store
            .current_text(forum, kind, state.clock.now())
            .await?;
        let history: Vec<Value> = state
            .store
            .text_history(forum, kind)
            .await?
            .iter()
            .map(|t| summary(&state, t))
            .collect();
        let mut item = summary(&state, &current);
        item["body"] = json!(current.body);
        item["placeholders"] = json!(placeholders(&current.body));
        item["history"] = json!(history);
        texts.push(item);
    }
    Ok(Json(json!({ "texts": texts })))
}

#[derive(Deserialize)]
pub struct TextEdit {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// The version the edit was made on; a save on an outdated one is refused.
    pub base_version: i64,
}

/// `PUT /api/org/texts/{kind}`: saves an edit as the next version.
pub async fn save(
    organiser: Organiser,
    Picked(state): Picked,
    Path(slug): Path<String>,
    Json(edit): Json<TextEdit>,
) -> ApiResult<Json<Value>> {
    let kind = kind_of(&slug)?;
    let text = check_edit(&edit.title, &edit.body).map_err(|fields| ApiError::Invalid {
        message: "Проверьте заголовок и текст.".into(),
        fields,
    })?;
    let (row, saved) = state
        .store
        .save_text(
            &state.forum.id,
            kind,
            edit.base_version,
            &text,
            &organiser.login,
            state.clock.now(),
        )
        .await?;
    let message = if saved {
        tracing::info!(organiser = %organiser.login, text = kind.slug(), version = row.version, "consent text saved");
        record(
            &state,
            organiser.actor(),
            Action::TextChanged,
            format!(
                "Сохранена редакция {} текста «{}» (была {})",
                row.version, row.title, edit.base_version
            ),
            json!({ "text": kind.slug(), "before": edit.base_version, "after": row.version, "title": row.title }),
        )
        .await;
        format!(
            "Сохранена редакция {} текста «{}». Новые участники соглашаются с ней; \
             зарегистрированные раньше — с той редакцией, что была при их регистрации.",
            row.version, row.title
        )
    } else {
        format!("Текст не изменился: действует редакция {}.", row.version)
    };
    let mut out = summary(&state, &row);
    out["body"] = json!(row.body);
    out["placeholders"] = json!(placeholders(&row.body));
    out["saved"] = json!(saved);
    out["message"] = json!(message);
    Ok(Json(out))
}
