//! Errors of the JSON API as Russian pages, for a person who opened an API address in a
//! browser tab: the organiser's certificate and report links, a download link, a viewer's
//! certificate link from a letter. Without it such a tab shows raw JSON
//! (`{"error":"участника «…» нет"}`).
//!
//! Content negotiation: a request whose `Accept` names `text/html` and not `application/json`
//! (what a browser sends when it navigates) gets the same status with an HTML page holding the
//! error's sentence and a way back. Scripts (`fetch` with `Accept: application/json`) and
//! API clients (`*/*` or nothing) keep getting JSON.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// Error bodies are a sentence in JSON; anything longer is not ours to rewrite.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Whether the client asked for a page rather than data.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("text/html") && !accept.contains("application/json")
}

/// The middleware, on the whole router: JSON errors of `/api/*` become pages for browsers.
/// (Not on a nested router: there the path would have lost its `/api/org` prefix.)
pub async fn html_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let html = path.starts_with("/api/") && wants_html(request.headers());
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !html
        || !is_json
        || !(response.status().is_client_error() || response.status().is_server_error())
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let message = match to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned)),
        Err(_) => None,
    }
    .unwrap_or_else(|| "Что-то пошло не так. Попробуйте ещё раз.".into());
    let mut page = (parts.status, Html(render(parts.status, &path, &message))).into_response();
    // Keep what the error said besides its body (e.g. Retry-After), not its length or type.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
    page.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("a header value"),
    );
    page
}

/// What the page is about, from the address that failed.
fn heading(status: StatusCode, path: &str) -> &'static str {
    if status == StatusCode::UNAUTHORIZED && path.starts_with("/api/org/") {
        "Нужно войти"
    } else if status == StatusCode::FORBIDDEN && path.starts_with("/api/org/") {
        "Недостаточно прав"
    } else if path.ends_with("/certificate.pdf") {
        "Свидетельство не открылось"
    } else if path.ends_with("/report") {
        "Отчёт не открылся"
    } else if path.contains("/export") || path.ends_with(".csv") {
        "Выгрузка не получилась"
    } else {
        "Страница не открылась"
    }
}

/// Organisers go back to the dashboard; viewers to the forum's start page.
fn way_back(path: &str) -> (&'static str, &'static str) {
    if path.starts_with("/api/org/") {
        ("/org", "Вернуться в панель организатора")
    } else {
        ("/", "На главную страницу форума")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The sentence as a sentence: a capital first letter and a full stop.
fn sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with(['.', '!', '?', '»']) {
        out.push('.');
    }
    out
}

fn render(status: StatusCode, path: &str, message: &str) -> String {
    let title = heading(status, path);
    let (href, back) = way_back(path);
    format!(
        r#"<!doctype html>
<html lang="ru">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} — Явка</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/assets/app.css">
</head>
<body>
  <main>
    <section class="card" style="max-width:36rem;margin:3rem auto" aria-labelledby="error-h">
      <h1 id="error-h">{title}</h1>
      <p class="notice" data-kind="error" id="error-text">{message}</p>
      <p><a class="button" id="error-back" href="{href}">{back}</a></p>
      <p class="muted small">Код ответа сервера: {code}.</p>
    </section>
  </main>
</body>
</html>
"#,
        message = escape(&sentence(message)),
        code = status.as_u16(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, value.parse().unwrap());
        h
    }

    #[test]
    fn browsers_get_pages_and_scripts_keep_json() {
        assert!(wants_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&HeaderMap::new()));
        assert!(!wants_html(&accept("application/json, text/html;q=0.5")));
    }

    #[test]
    fn the_page_says_the_error_safely_with_a_way_back() {
        let page = render(
            StatusCode::NOT_FOUND,
            "/api/org/viewers/x/report",
            "участника «<Петрова>» нет",
        );
        assert!(
            page.contains("<h1 id=\"error-h\">Отчёт не открылся</h1>"),
            "{page}"
        );
        assert!(page.contains("Участника «&lt;Петрова&gt;» нет"), "{page}");
        assert!(page.contains(r#"href="/org""#));
        let page = render(
            StatusCode::UNAUTHORIZED,
            "/api/me/certificate.pdf",
            "ссылка недействительна",
        );
        assert!(page.contains("Свидетельство не открылось"));
        assert!(page.contains("Ссылка недействительна."));
        assert!(page.contains(r#"href="/""#));
    }
}
