//! Two walls around every route.
//!
//! - [`same_origin`]: a state-changing request (POST, PUT, PATCH, DELETE) must come from this
//!   server's own pages. SameSite=Strict cookies alone did not stop a page on another site
//!   from importing viewers, queueing letters and issuing codes with an organiser's cookie in
//!   some browsers and set-ups; browsers name the page's origin in `Origin` on every such
//!   request (or at least in `Referer`), and a page cannot forge either. A request with
//!   neither is not from a browser page (a script, `curl`) and carries no one's cookie by
//!   accident, so it passes; the content-type checks in `extract.rs` are the second wall.
//! - [`json_errors`]: whatever answers an error under `/api/` or `/ws` without JSON — axum's
//!   router (404, 405), a layer, an extractor added later — is answered in Russian JSON
//!   instead, so a page always has a sentence to show. The original text goes to the log.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::extract::size_ru;

/// Refuses state-changing requests from other sites with 403.
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let changes_state = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if changes_state && let Err(seen) = check_origin(&state.public_url, request.headers()) {
        tracing::warn!(
            origin = %seen,
            path = request.uri().path(),
            "state-changing request from another site refused"
        );
        metrics::counter!("yavka_cross_site_refused_total").increment(1);
        return ApiError::Forbidden(format!(
            "Запрос отклонён: он отправлен не со страницы этого сервера. Откройте страницу по \
             адресу {} и повторите.",
            state.public_url
        ))
        .into_response();
    }
    next.run(request).await
}

/// `Ok` when the request comes from `public_url`'s origin or from the host it was sent to, or
/// names no page at all; else the origin it named.
fn check_origin(public_url: &str, headers: &HeaderMap) -> Result<(), String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let named = match (text("origin"), text("referer")) {
        (Some(origin), _) => origin.to_owned(),
        (None, Some(referer)) => origin_of(referer).unwrap_or_else(|| referer.to_owned()),
        (None, None) => {
            // Browsers that send neither still say where a request came from here.
            return match text("sec-fetch-site") {
                Some("cross-site") => Err("cross-site".into()),
                _ => Ok(()),
            };
        }
    };
    let Some(origin) = origin_of(&named) else {
        // `null` (a sandboxed frame, a local file) or garbage.
        return Err(named);
    };
    if Some(&origin) == origin_of(public_url).as_ref() {
        return Ok(());
    }
    // The address the browser used, when it is not the configured one (127.0.0.1 vs localhost).
    let host = text("host").map(str::to_ascii_lowercase);
    let (scheme, authority) = origin.split_once("://").unwrap_or_default();
    let host = host.map(|h| normalise_authority(scheme, &h));
    if host.as_deref() == Some(authority) {
        return Ok(());
    }
    Err(named)
}

/// `scheme://host[:port]` of a URL, lower-cased, without the scheme's default port.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    // Credentials in a URL (`user@host`) are not part of its origin.
    let authority = authority.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    Some(format!(
        "{scheme}://{}",
        normalise_authority(&scheme, authority)
    ))
}

fn normalise_authority(scheme: &str, authority: &str) -> String {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default)
        .unwrap_or(authority)
        .to_owned()
}

/// Answers any non-JSON error under `/api/` and `/ws` with a Russian sentence in JSON.
pub async fn json_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let speaks_json = path == "/api" || path.starts_with("/api/") || path == "/ws";
    let response = next.run(request).await;
    let status = response.status();
    if !speaks_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let detail = axum::body::to_bytes(body, 2048).await.unwrap_or_default();
    tracing::debug!(
        %status, path, detail = %String::from_utf8_lossy(&detail),
        "framework error answered in Russian"
    );
    let shown: String = path.chars().take(120).collect();
    let message = match status {
        _ if path == "/ws" => {
            "Этот адрес — для подключения плеера (websocket); откройте личную ссылку.".to_owned()
        }
        StatusCode::NOT_FOUND => format!("Такого адреса нет: {shown}."),
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("Адрес {shown} не принимает запросы {method}.")
        }
        StatusCode::REQUEST_TIMEOUT => {
            "Запрос передавался слишком долго. Проверьте связь и повторите.".to_owned()
        }
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "Слишком большой запрос: сервер принимает не больше {}.",
            size_ru(state.settings.server.max_body_bytes)
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "Неподходящий тип данных запроса (Content-Type).".to_owned()
        }
        StatusCode::UNPROCESSABLE_ENTITY => "Данные запроса не подходят.".to_owned(),
        s if s.is_client_error() => {
            "Запрос не удалось разобрать. Обновите страницу и повторите.".to_owned()
        }
        s => format!(
            "Сервер не смог выполнить запрос (код {}). Повторите позже.",
            s.as_u16()
        ),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    let body = json!({ "error": message }).to_string();
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn origins_are_checked_against_the_public_url_and_the_host() {
        let public = "https://forum.example.org";
        let ok = [
            vec![("origin", "https://forum.example.org")],
            vec![("origin", "https://FORUM.example.org:443")],
            vec![("referer", "https://forum.example.org/org?x=1")],
            vec![
                ("origin", "http://localhost:8080"),
                ("host", "localhost:8080"),
            ],
            vec![("origin", "http://127.0.0.1"), ("host", "127.0.0.1:80")],
            vec![],
            vec![("sec-fetch-site", "same-origin")],
        ];
        for h in ok {
            assert_eq!(check_origin(public, &headers(&h)), Ok(()), "{h:?}");
        }
        let refused = [
            vec![("origin", "https://evil.example")],
            vec![
                ("origin", "https://evil.example"),
                ("host", "forum.example.org"),
            ],
            vec![("origin", "null")],
            vec![("origin", "http://forum.example.org")],
            vec![("referer", "https://forum.example.org.evil.example/")],
            vec![("referer", "https://forum.example.org@evil.example/")],
            vec![("sec-fetch-site", "cross-site")],
            vec![("origin", "https://forum.example.org:8443")],
        ];
        for h in refused {
            assert!(check_origin(public, &headers(&h)).is_err(), "{h:?}");
        }
    }
}
