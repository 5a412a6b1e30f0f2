//! Everything stored about a viewer, for the viewer (152-ФЗ, art. 14: a person may learn what is
//! processed about them): `GET /api/me/data?token=` as a JSON file to keep, and
//! `GET /my/data?token=` as a page to read and print.
//!
//! The JSON holds the rows as stored — the registration with its consents, every event of the
//! attendance log the viewer caused (connections, confirmations, wrong answers), the codes,
//! appeals, decisions and letters — so nothing is left out by a page choosing what to show. The
//! page is the evidence report an organiser prints for an appeal, with the registration's
//! remaining fields: one builder, so the viewer reads what the organiser reads.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiResult;
use super::extract::Query;
use super::me::{TokenQuery, appeal_json, viewer_of};
use super::pick::Picked;
use super::reports::evidence_page;
use crate::domain::log::jsonl;
use crate::reports::{clock_seconds, date_ru};
use crate::store::{MailFilter, ViewerRow};

/// What is recorded and why: the same words as the consent text's section on it.
const ABOUT: &str = "Сервис записывает ваши данные из анкеты, каждое подключение к трансляции \
(когда открыта и закрыта вкладка, в каком зале, с какого адреса и браузера), ответы на окна \
«Подтвердить участие», время ответа и как он дан — чтобы по правилам аккредитации посчитать время присутствия и выдать коды НМО, а при \
обращении — показать, на чём основан итог. Организатор хранит эти записи столько, сколько \
требуют правила аккредитации, затем удаляет или обезличивает.";

/// `GET /api/me/data?token=`: everything stored about the viewer, as a JSON download.
pub async fn json(Picked(state): Picked, Query(q): Query<TokenQuery>) -> ApiResult<Response> {
    let viewer = viewer_of(&state, q.token).await?;
    let forum = &state.forum.id;
    let tz = state.forum.tz();
    let events: Vec<Value> = state
        .store
        .viewer_events(forum, &viewer.id)
        .await?
        .into_iter()
        // As `yavka export-log` writes them: local times beside the milliseconds.
        .map(|e| jsonl::to_json(&e, &tz))
        .collect();
    let codes: Vec<Value> = state
        .store
        .viewer_codes(forum, &viewer.id)
        .await?
        .into_iter()
        .map(|(session, code)| json!({ "session": session, "code": code }))
        .collect();
    let appeals: Vec<Value> = state
        .store
        .viewer_appeals(forum, &viewer.id)
        .await?
        .iter()
        .map(appeal_json)
        .collect();
    let decisions = state.store.viewer_decisions(forum, &viewer.id).await?;
    let letters: Vec<Value> = state
        .store
        .mail_log(
            forum,
            &MailFilter {
                kind: None,
                status: None,
                viewer: Some(viewer.id.clone()),
                limit: 1_000,
            },
        )
        .await?
        .into_iter()
        .map(|l| {
            json!({ "kind": l.kind, "email": l.email, "status": l.status,
                    "created_at": l.created_at, "sent_at": l.sent_at })
        })
        .collect();
    let body = json!({
        "about": ABOUT,
        "forum": { "id": state.forum.id, "title": state.forum.title },
        "generated_at": state.clock.now(),
        "registration": registration(&viewer),
        "events": events,
        "codes": codes,
        "appeals": appeals,
        "decisions": decisions,
        "letters": letters,
    });
    let text = serde_json::to_string_pretty(&body).map_err(super::error::ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"yavka-my-data.json\"",
            ),
        ],
        text,
    )
        .into_response())
}

fn registration(v: &ViewerRow) -> Value {
    json!({
        "id": v.id, "name": v.name, "email": v.email, "phone": v.phone,
        "education": v.education, "specialty": v.specialty, "snils": v.snils,
        "registered_at": v.created_at, "consent_at": v.consent_at, "consents": v.consents,
    })
}

/// `GET /my/data?token=`: the same, as a page: the evidence report with every registration
/// field.
pub async fn page(Picked(state): Picked, Query(q): Query<TokenQuery>) -> ApiResult<Html<String>> {
    let viewer = viewer_of(&state, q.token).await?;
    let tz = state.forum.tz();
    // As the report writes every other time: «30.11.2026 21:19:17».
    let at = |t| format!("{} {}", date_ru(t, &tz), clock_seconds(t, &tz));
    let consents = viewer.consents.as_ref().map_or_else(
        || "дано до того, как сохранялись версии текстов".to_owned(),
        |c| {
            format!(
                "обработка персональных данных — редакция {}, соглашение — редакция {}",
                c.personal_data, c.terms
            )
        },
    );
    let more = vec![
        ("Телефон", viewer.phone.clone()),
        ("СНИЛС", viewer.snils.clone().unwrap_or_else(|| "—".into())),
        ("Зарегистрирован", at(viewer.created_at)),
        (
            "Согласия",
            format!("{} ({consents})", at(viewer.consent_at)),
        ),
        ("Что и зачем записывается", ABOUT.to_owned()),
    ];
    Ok(Html(evidence_page(&state, &viewer, more, false).await?))
}
