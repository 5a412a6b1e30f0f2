//! The organiser's mail actions: check the SMTP server, count what a send would queue, queue
//! personal links, queue certificates, read the delivery log, resend one letter. Queueing is idempotent (see `store/mail.rs`), so a double click or a
//! retried request never sends anything twice; the worker in `mail/` does the sending.

use serde::Deserialize;
use serde_json::{Value, json};

use super::audit::record;
use super::auth::Organiser;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, NoBody, Path, Query};
use super::pick::Picked;
use crate::domain::audit::Action;
use crate::mail::letters::{CERTIFICATE, KINDS, LINK};
use crate::store::MailFilter;

const STATUSES: [&str; 4] = ["queued", "sending", "sent", "failed"];

/// `GET /api/org/mail/status`: whether the SMTP server takes letters now (a connection and
/// sign-in within a few seconds; nothing is sent), for a warning before the organiser sends.
pub async fn status(_o: Organiser, Picked(state): Picked) -> Json<Value> {
    Json(json!(state.mailer.check_smtp().await))
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    pub kind: Option<String>,
}

/// `GET /api/org/mail/preview?kind=link|certificate`: how many letters a send would queue now
/// (`queued`) of how many recipients, for the confirmation dialog.
pub async fn preview(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<Json<Value>> {
    let kind = q.kind.unwrap_or_default();
    if kind != LINK && kind != CERTIFICATE {
        return Err(ApiError::BadRequest(format!(
            "Вид письма «{kind}» неизвестен: link или certificate"
        )));
    }
    let q = state.mailer.preview(&kind).await?;
    Ok(Json(
        json!({ "kind": kind, "recipients": q.recipients, "queued": q.queued }),
    ))
}

/// `POST /api/org/mail/links`
pub async fn send_links(
    organiser: Organiser,
    Picked(state): Picked,
    _: NoBody,
) -> ApiResult<Json<Value>> {
    let q = state.mailer.queue_links().await?;
    tracing::info!(organiser = %organiser.login, recipients = q.recipients, queued = q.queued, "personal links queued");
    record(
        &state,
        organiser.actor(),
        Action::LettersQueued,
        format!(
            "Рассылка персональных ссылок: в очередь поставлено {} писем из {}",
            q.queued, q.recipients
        ),
        json!({ "kind": LINK, "recipients": q.recipients, "queued": q.queued }),
    )
    .await;
    Ok(Json(json!({
        "kind": LINK, "recipients": q.recipients, "queued": q.queued,
        "message": format!(
            "В очередь поставлено писем: {}; ещё {} — уже в очереди или отправлены раньше",
            q.queued, q.recipients - q.queued
        ),
    })))
}

/// `POST /api/org/mail/certificates`
pub async fn send_certificates(
    organiser: Organiser,
    Picked(state): Picked,
    _: NoBody,
) -> ApiResult<Json<Value>> {
    let q = state.mailer.queue_certificates().await?;
    if q.recipients == 0 {
        return Err(ApiError::Conflict(
            "Кодов НМО ещё не выдано никому: сначала выдайте коды по сессиям".into(),
        ));
    }
    tracing::info!(organiser = %organiser.login, recipients = q.recipients, queued = q.queued, "certificates queued");
    record(
        &state,
        organiser.actor(),
        Action::LettersQueued,
        format!(
            "Рассылка свидетельств: в очередь поставлено {} писем из {}",
            q.queued, q.recipients
        ),
        json!({ "kind": CERTIFICATE, "recipients": q.recipients, "queued": q.queued }),
    )
    .await;
    Ok(Json(json!({
        "kind": CERTIFICATE, "recipients": q.recipients, "queued": q.queued,
        "message": format!(
            "В очередь поставлено свидетельств: {}; ещё {} с теми же кодами — уже в очереди или отправлены раньше",
            q.queued, q.recipients - q.queued
        ),
    })))
}

#[derive(Deserialize)]
pub struct LogQuery {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub viewer: Option<String>,
    pub limit: Option<String>,
}

/// `GET /api/org/mail/log?kind=&status=&viewer=&limit=`: letters newest first, with counts.
pub async fn log(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Value>> {
    let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let kind = blank(q.kind);
    if let Some(k) = &kind
        && !KINDS.contains(&k.as_str())
    {
        return Err(ApiError::BadRequest(format!(
            "Вид письма «{k}» неизвестен: {}",
            KINDS.join(", ")
        )));
    }
    let status = blank(q.status);
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::BadRequest(format!(
            "Статус «{s}» неизвестен: queued, sending, sent или failed"
        )));
    }
    let limit = match blank(q.limit) {
        None => 200,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "Параметр limit — число от 1 до 1000, а не «{text}»"
                )));
            }
        },
    };
    let filter = MailFilter {
        kind,
        status,
        viewer: blank(q.viewer),
        limit,
    };
    let rows = state.store.mail_log(&state.forum.id, &filter).await?;
    let counts: Vec<Value> = state
        .store
        .mail_counts(&state.forum.id)
        .await?
        .into_iter()
        .map(|(kind, status, n)| json!({ "kind": kind, "status": status, "count": n }))
        .collect();
    Ok(Json(json!({ "counts": counts, "rows": rows })))
}

/// `POST /api/org/mail/{id}/resend`: queue one letter again, on purpose.
pub async fn resend(
    organiser: Organiser,
    Picked(state): Picked,
    Path(id): Path<String>,
    _: NoBody,
) -> ApiResult<Json<Value>> {
    let id: i64 = id
        .trim()
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("Номер письма «{id}» — не число")))?;
    let Some(row) = state.mailer.resend(id).await? else {
        return Err(ApiError::NotFound(format!("Письма №{id} нет в журнале")));
    };
    tracing::info!(organiser = %organiser.login, id, viewer = %row.viewer, kind = %row.kind, "letter queued again");
    record(
        &state,
        organiser.actor(),
        Action::LetterResent,
        format!(
            "Письмо №{id} ({}) на {} поставлено в очередь ещё раз",
            if row.kind == CERTIFICATE {
                "свидетельство"
            } else {
                "персональная ссылка"
            },
            row.email
        ),
        json!({ "letter": id, "viewer": row.viewer, "kind": row.kind }),
    )
    .await;
    Ok(Json(json!({ "letter": row })))
}
