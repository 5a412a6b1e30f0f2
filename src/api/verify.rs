//! The public code check: `/verify/CODE` says whether a code was issued by this forum and for
//! which session, showing only a masked name (see `reports::mask`) — never an e-mail, a
//! phone or a full name. An HTML page in Russian, or JSON when asked (`Accept:
//! application/json` or `?format=json`).
//!
//! Codes are 12 characters of 36 symbols, so guessing one is hopeless; the page reveals
//! nothing about codes that were never issued, including unused codes of the commission's pool.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::extract::{Json, Path, Query};
use crate::domain::codes::Code;
use crate::reports::evidence::escape;
use crate::reports::mask::mask_name;
use crate::reports::{date_ru, forum_zone_label, hall_title, session_when};

#[derive(Deserialize, Default)]
pub struct VerifyQuery {
    pub format: Option<String>,
    pub code: Option<String>,
}

fn wants_json(headers: &HeaderMap, q: &VerifyQuery) -> bool {
    q.format.as_deref() == Some("json")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"))
}

/// `GET /verify?code=…`: the form's target; goes to the code's own address.
pub async fn form(Query(q): Query<VerifyQuery>) -> Response {
    match q.code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => {
            // Letters and digits only (Cyrillic look-alikes kept, so the code page can name
            // them), percent-encoded: a Location header is ASCII.
            let mut path = String::from("/verify/");
            for c in code.chars().filter(|c| c.is_alphanumeric()).take(32) {
                if c.is_ascii() {
                    path.push(c);
                } else {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        path.push_str(&format!("%{b:02X}"));
                    }
                }
            }
            Redirect::to(&path).into_response()
        }
        _ => page(
            StatusCode::OK,
            "Проверка кода НМО",
            "<p>Введите 12-символьный код из свидетельства.</p>",
        ),
    }
}

/// `GET /verify/{code}`
pub async fn check(
    State(state): State<AppState>,
    Path(text): Path<String>,
    Query(q): Query<VerifyQuery>,
    headers: HeaderMap,
) -> Response {
    let json = wants_json(&headers, &q);
    let (status, body) = match verdict(&state, &text).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "code check failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "genuine": false, "error": "Внутренняя ошибка сервера. Попробуйте позже." }),
            )
        }
    };
    if json {
        return (status, Json(body)).into_response();
    }
    let html = if body["genuine"] == true {
        let s = &body["session"];
        format!(
            "<p class=\"ok\">Код <b>{code}</b> подлинный: выдан участнику {forum}.</p>\
             <table><tr><th>Сессия</th><td>{title}</td></tr>\
             <tr><th>Дата и время</th><td>{when} ({zone})</td></tr>\
             <tr><th>Зал</th><td>{hall}</td></tr><tr><th>ЗЕТ</th><td>{credits}</td></tr>\
             <tr><th>Участник</th><td>{holder}</td></tr>\
             <tr><th>Выдан</th><td>{issued}</td></tr></table>",
            code = escape(body["code"].as_str().unwrap_or_default()),
            forum = escape(&of_forum(body["forum"].as_str().unwrap_or_default())),
            title = escape(s["title"].as_str().unwrap_or_default()),
            when = escape(s["when"].as_str().unwrap_or_default()),
            zone = escape(body["zone"].as_str().unwrap_or_default()),
            hall = escape(s["hall"].as_str().unwrap_or_default()),
            credits = s["credits"],
            holder = escape(body["holder"].as_str().unwrap_or_default()),
            issued = escape(body["issued_on"].as_str().unwrap_or("—")),
        )
    } else {
        format!(
            "<p class=\"no\">{}</p>",
            escape(body["error"].as_str().unwrap_or_default())
        )
    };
    page(status, "Проверка кода НМО", &html)
}

/// The answer as (status, JSON): 200 genuine, 400 not a code, 404 never issued.
async fn verdict(state: &AppState, text: &str) -> anyhow::Result<(StatusCode, Value)> {
    let code = match Code::parse(text) {
        Ok(c) => c,
        Err(e) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                json!({ "genuine": false, "error": e.to_string() }),
            ));
        }
    };
    // Codes of every forum ever run verify, archived ones included: the served forum first,
    // then the others in the store.
    let mut found = None;
    let mut forum = state.current_forum();
    let served = forum.id.clone();
    let mut issued = state.store.issued_code(&served, code.as_str()).await?;
    let mut others = false;
    if issued.is_none() {
        for row in state.store.forums().await? {
            if row.forum.id == served {
                continue;
            }
            others = true;
            issued = state
                .store
                .issued_code(&row.forum.id, code.as_str())
                .await?;
            if issued.is_some() {
                forum = std::sync::Arc::new(state.store.effective_forum(&row.forum).await?);
                break;
            }
        }
    }
    let forum = &forum;
    if let Some(row) = issued {
        found = forum.session(&row.session).map(|s| (row, s));
    }
    let Some((row, session)) = found else {
        return Ok((
            StatusCode::NOT_FOUND,
            json!({
                "genuine": false, "code": code.as_str(),
                "error": format!(
                    "Код {} не выдавался участникам {}. Проверьте, что код введён \
                     без ошибок (буква O и цифра 0 различаются).",
                    code.as_str(),
                    if others { "форумов этого сервера".to_owned() } else { of_forum(&forum.title) }
                ),
            }),
        ));
    };
    let holder = state
        .store
        .viewer(&forum.id, &row.viewer)
        .await?
        .map_or_else(|| mask_name(""), |v| mask_name(&v.name));
    let tz = forum.tz();
    Ok((
        StatusCode::OK,
        json!({
            "genuine": true,
            "code": code.as_str(),
            "forum": forum.title,
            "zone": forum_zone_label(forum),
            "session": {
                "id": session.id, "title": session.title,
                "when": session_when(session, &tz),
                "hall": hall_title(forum, &session.hall),
                "credits": session.credits,
            },
            "holder": holder,
            "issued_on": row.issued_at.map(|t| date_ru(t, &tz)),
        }),
    ))
}

/// The forum in a sentence, in the genitive: «форума «Онлайн-диагностика 3.0»» for a title
/// that already says «Форум «…»», so the quotes never double («форума «Форум «…»»»). Another
/// title with quotes inside gets Russian inner quotes: «форума «Школа „Рентген“»».
fn of_forum(title: &str) -> String {
    let title = title.trim();
    for prefix in ["Форум ", "форум "] {
        if let Some(rest) = title.strip_prefix(prefix)
            && rest.starts_with('«')
            && rest.ends_with('»')
        {
            return format!("форума {rest}");
        }
    }
    let inner = title.replace('«', "„").replace('»', "“");
    format!("форума «{inner}»")
}

fn page(status: StatusCode, title: &str, content: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;\
         padding:0 1rem;color:#111}}table{{border-collapse:collapse}}th,td{{text-align:left;\
         padding:.3rem .6rem;border-bottom:1px solid #ddd}}.ok{{color:#155724}}.no{{color:#8a1c1c}}\
         input{{font:inherit;padding:.3rem;letter-spacing:.1em;text-transform:uppercase}}</style>\
         </head><body><main><h1>{title}</h1>{content}\
         <form action=\"/verify\" method=\"get\"><p><label>Код: <input name=\"code\" \
         maxlength=\"20\" autocomplete=\"off\" required></label> <button>Проверить</button></p>\
         </form></main></body></html>"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::of_forum;

    #[test]
    fn the_forum_title_is_quoted_once() {
        assert_eq!(
            of_forum("Форум «Онлайн-диагностика 3.0»"),
            "форума «Онлайн-диагностика 3.0»"
        );
        assert_eq!(of_forum("Рентген-2026"), "форума «Рентген-2026»");
        assert_eq!(
            of_forum("Школа «Рентген» для начинающих"),
            "форума «Школа „Рентген“ для начинающих»"
        );
    }
}
