//! Self-registration and «Прислать ссылку ещё раз», answered so that nobody learns whether an
//! address is registered.
//!
//! `POST /api/register` answers 202 with the same body for a new address and for one already
//! registered; the personal link goes only by e-mail — a welcome letter, or «вы уже
//! зарегистрированы, вот ваша ссылка». `POST /api/relink` takes an address and answers 202 the
//! same way whether or not it is known, sending a letter only to a registered one. Both are
//! limited per address (`[registration] letter_interval_minutes`, checked in the store, for
//! known and unknown addresses alike), answered 429 with `Retry-After`. Field errors stay 422.
//! The work is in one store transaction per request (`store/links.rs`), and the answer waits
//! until `[registration] answer_floor_ms` after the request arrived, so the time an answer
//! takes does not tell the cases apart either.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

use super::AppState;
use super::auth::{new_token, token_hash};
use super::error::{ApiError, ApiResult};
use super::extract::Json;
use super::pick::Picked;
use super::viewers::programme_for;
use crate::domain::registration::{
    FieldError, RegistrationForm, closed_reason, plausible_email, validate,
};
use crate::domain::time::{MINUTE, Millis};
use crate::store::{LinkRequest, Registered};

/// Waits until the answer floor (see the module comment) has passed since `started`.
async fn floor(state: &AppState, started: Instant) {
    let floor = Duration::from_millis(state.settings.registration.answer_floor_ms);
    tokio::time::sleep_until(started + floor).await;
}

fn interval(state: &AppState) -> Millis {
    state.settings.registration.letter_interval_minutes as i64 * MINUTE
}

/// What the page shows under «Проверьте почту»: the same words whoever registered.
fn check_your_mail(state: &AppState, email: &str) -> String {
    format!(
        "Письмо с личной ссылкой на трансляцию отправлено на {email}. Обычно оно приходит за \
         несколько минут.{}",
        demo_note(state)
    )
}

/// In the demo letters are printed by the server, not sent: say where to look.
fn demo_note(state: &AppState) -> &'static str {
    if state.settings.mail.print_only {
        " Это демонстрация: письма никуда не уходят, а печатаются в окне, где запущен сервер \
         (yavka serve --demo), — ссылка там."
    } else {
        ""
    }
}

/// 429 for an address that asked for a letter less than the interval ago.
fn limited(state: &AppState, email: &str, retry_at: Millis) -> Response {
    let wait = (retry_at - state.clock.now()).max(1);
    let minutes = (wait + MINUTE - 1) / MINUTE;
    let seconds = (wait + 999) / 1000;
    let body = json!({
        "error": format!(
            "Письмо на адрес {email} уже запрашивали меньше {} мин назад. Если оно пришло, \
             ссылка в нём; если нет, проверьте папку «Спам» и запросите письмо ещё раз через \
             {minutes} мин.",
            state.settings.registration.letter_interval_minutes
        ),
        "retry_after": seconds,
    });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// `POST /api/register`
pub async fn register(
    Picked(state): Picked,
    Json(form): Json<RegistrationForm>,
) -> ApiResult<Response> {
    // After the forum nothing is left to watch or earn; the page shows the same reason.
    if let Some(reason) = closed_reason(&state.forum, state.clock.now()) {
        return Err(ApiError::Conflict(reason));
    }
    let started = Instant::now();
    let forum = &state.forum.id;
    let now = state.clock.now();
    let current = state.store.current_versions(forum, now).await?;
    let reg = validate(&form, &state.catalogue, current).map_err(|fields| ApiError::Invalid {
        message: "проверьте поля формы".into(),
        fields,
    })?;
    // The new viewer's own token is never shown: the letter carries a token of its own.
    let token = new_token();
    let id = crate::ids::new_viewer_id();
    let outcome = state
        .store
        .register_viewer(
            forum,
            &id,
            &reg,
            current,
            &token_hash(&token),
            now,
            interval(&state),
        )
        .await;
    floor(&state, started).await;
    match outcome? {
        Registered::New(row) => tracing::info!(viewer = %row.id, "viewer registered"),
        Registered::Known(viewer) => {
            tracing::info!(%viewer, "a registered address registered again: its link is mailed")
        }
        Registered::Limited { retry_at } => return Ok(limited(&state, &reg.email, retry_at)),
    }
    state.mailer.wake();
    // Accredited sessions follow from the form as sent, not from what is stored, so the
    // answer is the same for a known address.
    let body = json!({
        "email": reg.email,
        "message": check_your_mail(&state, &reg.email),
        "letter_interval_minutes": state.settings.registration.letter_interval_minutes,
        "programme": programme_for(&state.forum, Some((reg.education, &reg.specialty))),
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize)]
pub struct RelinkForm {
    #[serde(default)]
    pub email: String,
}

/// `POST /api/relink` — «Прислать ссылку ещё раз».
pub async fn relink(Picked(state): Picked, Json(form): Json<RelinkForm>) -> ApiResult<Response> {
    let started = Instant::now();
    let email = form.email.trim().to_lowercase();
    if !plausible_email(&email) {
        return Err(ApiError::Invalid {
            message: "Проверьте адрес электронной почты.".into(),
            fields: vec![FieldError {
                field: "email",
                message: "Укажите адрес, с которым вы регистрировались, например \
                          name@example.ru."
                    .into(),
            }],
        });
    }
    let outcome = state
        .store
        .request_link(&state.forum.id, &email, state.clock.now(), interval(&state))
        .await;
    floor(&state, started).await;
    match outcome? {
        LinkRequest::Queued(viewer) => {
            tracing::info!(%viewer, "personal link requested again: mailed");
            state.mailer.wake();
        }
        // The address is not logged: it belongs to nobody registered here.
        LinkRequest::Unknown => tracing::info!("personal link requested for an unknown address"),
        LinkRequest::Limited { retry_at } => return Ok(limited(&state, &email, retry_at)),
    }
    let body = json!({
        "email": email,
        "message": format!(
            "Если адрес {email} зарегистрирован на форуме, письмо с личной ссылкой придёт на \
             него в течение нескольких минут.{}",
            demo_note(&state)
        ),
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
