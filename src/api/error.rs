//! The one error type of the HTTP API.
//!
//! What a person did wrong is answered with a status and a Russian sentence they can act on;
//! what went wrong inside is logged with its whole cause chain and answered with a generic
//! sentence, so internals never reach a browser. Every message leaves as a sentence with a
//! capital letter, whichever layer wrote it.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::registration::FieldError;
use crate::store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    /// 400: the request itself is malformed.
    BadRequest(String),
    /// 422: a form with field errors.
    Invalid {
        message: String,
        fields: Vec<FieldError>,
    },
    /// 401: not signed in, or a personal link that does not work.
    Unauthorized(String),
    /// 403: refused on purpose (a state-changing request from another site, a role without
    /// the permission, a disabled account).
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 409: it contradicts what is stored (a second registration, a used code).
    Conflict(String),
    /// 408: the request body took too long to arrive.
    Timeout(String),
    /// 413: the request body is over `[server] max_body_bytes`.
    TooLarge(String),
    /// 415: the body is not of the type the endpoint documents.
    UnsupportedType(String),
    /// 429: too many attempts; try again after `retry_after` seconds.
    TooManyRequests { message: String, retry_after: u64 },
    /// 503: overloaded or a dependency is down.
    Unavailable(String),
    /// 500: logged with its cause; the person sees a generic message.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn internal(e: impl Into<anyhow::Error>) -> ApiError {
        ApiError::Internal(e.into())
    }
}

/// What a person is told while the database is away (full disk, restarting, unreachable).
pub const STORE_AWAY: &str =
    "База данных временно недоступна; ничего не изменено. Попробуйте ещё раз через минуту.";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ApiError::Conflict(m),
            e if e.is_outage() => {
                tracing::error!(error = %e, "the store is unavailable");
                ApiError::Unavailable(STORE_AWAY.into())
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = |status: StatusCode, m: String| (status, json!({ "error": sentence(&m) }));
        let mut retry = None;
        let (status, body) = match self {
            ApiError::BadRequest(m) => error(StatusCode::BAD_REQUEST, m),
            ApiError::Invalid { message, fields } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": sentence(&message), "fields": fields.iter().map(|f| {
                    json!({ "field": f.field, "message": sentence(&f.message) })
                }).collect::<Vec<_>>() }),
            ),
            ApiError::Unauthorized(m) => error(StatusCode::UNAUTHORIZED, m),
            ApiError::Forbidden(m) => error(StatusCode::FORBIDDEN, m),
            ApiError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
            ApiError::Conflict(m) => error(StatusCode::CONFLICT, m),
            ApiError::Timeout(m) => error(StatusCode::REQUEST_TIMEOUT, m),
            ApiError::TooLarge(m) => error(StatusCode::PAYLOAD_TOO_LARGE, m),
            ApiError::UnsupportedType(m) => error(StatusCode::UNSUPPORTED_MEDIA_TYPE, m),
            ApiError::TooManyRequests {
                message,
                retry_after,
            } => {
                let secs = retry_after.max(1);
                retry = Some(secs);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({ "error": sentence(&message), "retry_after": secs }),
                )
            }
            ApiError::Unavailable(m) => error(StatusCode::SERVICE_UNAVAILABLE, m),
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Внутренняя ошибка сервера. Попробуйте ещё раз позже.".into(),
                )
            }
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// A message as a sentence: whatever wrote it, a person reads it starting with a capital letter.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => message.to_owned(),
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_leave_as_sentences() {
        assert_eq!(
            sentence("войдите как организатор"),
            "Войдите как организатор"
        );
        assert_eq!(sentence("«Зал» не найден"), "«Зал» не найден");
        assert_eq!(sentence("Уже с заглавной"), "Уже с заглавной");
        assert_eq!(sentence(""), "");
    }
}
