//! The one error type of the HTTP API.
//!
//! What a person did wrong is answered with a status and a Russian sentence they can act on;
//! what went wrong inside is logged with its whole cause chain and answered with a generic
//! sentence, so internals never reach a browser.

use axum::Json;
use axum::http::StatusCode;
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
    /// 403: refused on purpose (a role without the permission, a disabled account).
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 409: it contradicts what is stored (a second registration, a used code).
    Conflict(String),
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

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ApiError::Conflict(m),
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
        let (status, body) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, json!({ "error": m })),
            ApiError::Invalid { message, fields } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "error": message, "fields": fields }),
            ),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, json!({ "error": m })),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, json!({ "error": m })),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, json!({ "error": m })),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, json!({ "error": m })),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, json!({ "error": m })),
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "внутренняя ошибка сервера; попробуйте ещё раз позже" }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
