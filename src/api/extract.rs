//! Request extractors that refuse in Russian: `Json`, `Query` and `Path` (drop-in for axum's),
//! and the bodies the API takes besides JSON — a CSV file, a text list, a forum file (TOML), or
//! nothing.
//!
//! axum's own extractors answer a bad request in English plain text («Failed to deserialize
//! the JSON body…», «Expected request with Content-Type: application/json»), and some of it
//! names Rust types. These parse with the same libraries (serde_json, serde_urlencoded) through
//! `serde_path_to_error`, so the answer can name the field at fault in a sentence a person
//! reads. Each body extractor also checks the content type its endpoint documents: a page on
//! another site can POST `text/plain` or a form without asking the browser first, never JSON
//! or CSV, so the type check is a second wall behind the origin check (`guard.rs`).
//!
//! Handlers in `api` import `Json`, `Query` and `Path` from here; `Json` is also the response
//! type, as axum's is.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;

/// A JSON body (`Content-Type: application/json`), or a JSON answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedType(
                "Данные нужно отправить в формате JSON (Content-Type: application/json).".into(),
            ));
        }
        let bytes = body(req, state).await?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(value) => Ok(Json(value)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.is_data() {
                    Err(ApiError::BadRequest(describe(Place::Field, &path, &inner)))
                } else {
                    Err(ApiError::BadRequest(format!(
                        "Тело запроса — не JSON: ошибка в строке {}, столбце {}.",
                        inner.line(),
                        inner.column()
                    )))
                }
            }
        }
    }
}

/// Parameters of the query string.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                ApiError::BadRequest(describe(Place::Parameter, &path, e.inner()))
            })
    }
}

/// Segments of the path (`/viewers/{id}`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(e) => {
                tracing::debug!(error = %e, "path refused");
                Err(ApiError::BadRequest(
                    "Адрес запроса испорчен: проверьте его или откройте страницу заново.".into(),
                ))
            }
        }
    }
}

/// A CSV file: `text/csv`, or what browsers and Excel call one (`application/vnd.ms-excel`,
/// `application/octet-stream`). The bytes are given as they came; the importer decodes them.
pub struct CsvBody(pub Bytes);

const CSV_TYPES: [&str; 5] = [
    "text/csv",
    "application/csv",
    "text/comma-separated-values",
    "application/vnd.ms-excel",
    "application/octet-stream",
];

impl FromRequest<AppState> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !CSV_TYPES.contains(&mime(req.headers()).as_str()) {
            return Err(ApiError::UnsupportedType(
                "Отправьте файл CSV (Content-Type: text/csv).".into(),
            ));
        }
        Ok(CsvBody(body(req, state).await?))
    }
}

/// Plain text in UTF-8 (`text/plain`), e.g. a list of codes, one a line.
pub struct TextBody(pub String);

impl FromRequest<AppState> for TextBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if mime(req.headers()) != "text/plain" {
            return Err(ApiError::UnsupportedType(
                "Отправьте список обычным текстом (Content-Type: text/plain).".into(),
            ));
        }
        let bytes = body(req, state).await?;
        String::from_utf8(bytes.into()).map(TextBody).map_err(|_| {
            ApiError::BadRequest(
                "Текст не в кодировке UTF-8: сохраните файл в UTF-8 и отправьте снова.".into(),
            )
        })
    }
}

/// A forum file (`application/toml`), as people who keep forums in git send it: UTF-8 text of
/// at most [`TOML_MAX_BYTES`] (a forum of a hundred sessions is well under a tenth of that).
pub struct TomlBody(pub String);

pub const TOML_MAX_BYTES: usize = 512 * 1024;

impl FromRequest<AppState> for TomlBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if mime(req.headers()) != "application/toml" {
            return Err(ApiError::UnsupportedType(
                "Отправьте файл форума в формате TOML (Content-Type: application/toml).".into(),
            ));
        }
        let bytes = body(req, state).await?;
        if bytes.len() > TOML_MAX_BYTES {
            return Err(ApiError::TooLarge(format!(
                "Слишком большой файл форума: сервер принимает не больше {}.",
                size_ru(TOML_MAX_BYTES)
            )));
        }
        String::from_utf8(bytes.into()).map(TomlBody).map_err(|_| {
            ApiError::BadRequest(
                "Файл форума не в кодировке UTF-8: сохраните его в UTF-8 и отправьте снова.".into(),
            )
        })
    }
}

/// An action that takes no body (issue codes, queue letters, sign out). A body of JSON is
/// tolerated and ignored; a form or plain text is what a page on another site would send, so
/// it is refused.
pub struct NoBody;

impl<S: Send + Sync> FromRequestParts<S> for NoBody {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::CONTENT_TYPE) && !is_json(&parts.headers) {
            return Err(ApiError::UnsupportedType(
                "Этот запрос отправляется без данных (или с JSON).".into(),
            ));
        }
        Ok(NoBody)
    }
}

/// The media type without parameters, lower-cased (`text/csv; charset=utf-8` → `text/csv`).
fn mime(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_json(headers: &HeaderMap) -> bool {
    let m = mime(headers);
    m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
}

/// The whole body, within `[server] max_body_bytes` and the body deadline.
async fn body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        let limit = state.settings.server.max_body_bytes;
        match e {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                ApiError::TooLarge(format!(
                    "Слишком большой запрос: сервер принимает не больше {}.",
                    size_ru(limit)
                ))
            }
            other if timed_out(&other) => ApiError::Timeout(
                "Данные передавались слишком долго. Проверьте связь и отправьте снова.".into(),
            ),
            other => {
                tracing::debug!(error = %other, "request body not read");
                ApiError::BadRequest(
                    "Не удалось дочитать запрос: связь прервалась. Отправьте снова.".into(),
                )
            }
        }
    })
}

/// Whether the body failed because its deadline passed (see `http::serve`).
fn timed_out(e: &BytesRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// `8388608` → «8 МБ», `65536` → «64 КБ», `1500` → «1500 байт».
pub fn size_ru(bytes: usize) -> String {
    const KB: usize = 1024;
    const MB: usize = 1024 * KB;
    match bytes {
        b if b >= MB && b % MB == 0 => format!("{} МБ", b / MB),
        b if b >= MB => format!("{:.1} МБ", b as f64 / MB as f64),
        b if b >= KB && b % KB == 0 => format!("{} КБ", b / KB),
        b => format!("{b} байт"),
    }
}

/// Where a bad value sat: a JSON field or a query-string parameter.
#[derive(Clone, Copy)]
enum Place {
    Field,
    Parameter,
}

/// A serde error as a Russian sentence naming the field. serde's messages are stable English
/// patterns (`missing field`, `invalid type: …, expected …`); anything else gets a general
/// sentence, never the English text.
fn describe(place: Place, path: &str, error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    let (field, param) = match place {
        Place::Field => ("Поле", "поля"),
        Place::Parameter => ("Параметр адреса", "параметра адреса"),
    };
    if let Some(name) = quoted_after(&text, "missing field `") {
        return format!("Не хватает {param} «{name}».");
    }
    if let Some(name) = quoted_after(&text, "unknown field `") {
        return format!("{field} «{name}» здесь не принимается.");
    }
    if let Some(name) = quoted_after(&text, "duplicate field `") {
        return format!("{field} «{name}» указано дважды.");
    }
    let root = path.is_empty() || path == ".";
    if root {
        return match place {
            Place::Field => "Ожидается объект JSON с полями запроса.".into(),
            Place::Parameter => "Параметры адреса не подходят.".into(),
        };
    }
    match expected(&text) {
        Some(what) => format!("{field} «{path}»: ожидается {what}."),
        None => format!("{field} «{path}»: недопустимое значение."),
    }
}

/// The text between `prefix` and the next backtick.
fn quoted_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    rest.split('`').next()
}

/// What serde expected, in Russian, when it is a plain kind of value.
fn expected(text: &str) -> Option<&'static str> {
    let exp = text.split(", expected ").nth(1)?;
    let exp = exp.split(" at line ").next().unwrap_or(exp).trim();
    let integer = [
        "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize",
    ];
    Some(match exp {
        "a string" | "a borrowed string" => "строка",
        "a boolean" => "true или false",
        "a character" => "один символ",
        "f32" | "f64" => "число",
        e if integer.contains(&e) || e.starts_with("an integer") => "целое число",
        e if e.starts_with("a sequence") => "список",
        e if e.starts_with("struct ") || e.starts_with("a map") => "объект",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Form {
        hall: String,
        window_seconds: Option<i64>,
        consent: Option<bool>,
    }

    fn json_error(body: &str) -> String {
        let de = &mut serde_json::Deserializer::from_str(body);
        let e = serde_path_to_error::deserialize::<_, Form>(de).unwrap_err();
        describe(Place::Field, &e.path().to_string(), e.inner())
    }

    fn query_error(query: &str) -> String {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let e = serde_path_to_error::deserialize::<_, Form>(de).unwrap_err();
        describe(Place::Parameter, &e.path().to_string(), e.inner())
    }

    #[test]
    fn serde_errors_become_russian_sentences_naming_the_field() {
        let cases = [
            (json_error("{}"), "Не хватает поля «hall»."),
            (
                json_error(r#"{"hall": 5}"#),
                "Поле «hall»: ожидается строка.",
            ),
            (
                json_error(r#"{"hall": "h", "window_seconds": "x"}"#),
                "Поле «window_seconds»: ожидается целое число.",
            ),
            (
                json_error(r#"{"hall": "h", "consent": 1}"#),
                "Поле «consent»: ожидается true или false.",
            ),
            (
                json_error(r#"["hall"]"#),
                "Ожидается объект JSON с полями запроса.",
            ),
            (query_error(""), "Не хватает параметра адреса «hall»."),
            (
                query_error("hall=h&window_seconds=abc"),
                "Параметр адреса «window_seconds»: недопустимое значение.",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_ru(8 * 1024 * 1024), "8 МБ");
        assert_eq!(size_ru(1536 * 1024), "1.5 МБ");
        assert_eq!(size_ru(64 * 1024), "64 КБ");
        assert_eq!(size_ru(100), "100 байт");
    }
}
