//! The audit trail over HTTP: [`record`], the one call every organiser action makes, and the
//! trail read back — `GET /api/org/audit` (newest first, filtered by person, action and time,
//! in pages) and `GET /api/org/audit.csv` (the same filters, the whole trail, streamed).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Organiser;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Query};
use crate::domain::audit::{Action, Actor, Filter, NewEntry};
use crate::domain::time::{Millis, parse_local, parse_rfc3339};
use crate::reports::{audit as sheet, csv, forum_zone_label};

/// Appends an entry for what `actor` just did. A failure to record is logged loudly and
/// counted (`yavka_audit_failures_total`) but does not undo or fail the action, which has
/// already happened: the person must not be told it did not.
pub async fn record(
    state: &AppState,
    actor: Actor,
    action: Action,
    description: String,
    details: Value,
) {
    let entry = NewEntry {
        at: state.clock.now(),
        forum: Some(state.forum.id.clone()),
        actor,
        action,
        description,
        details,
    };
    if let Err(e) = state.store.append_audit(&entry).await {
        metrics::counter!("yavka_audit_failures_total").increment(1);
        tracing::error!(
            error = %e,
            action = action.code(),
            actor = %entry.actor.login,
            description = %entry.description,
            "audit entry not recorded"
        );
    }
}

/// Every filter is text and checked here, so a wrong value gets a Russian sentence.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    pub person: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The id the previous page ended with.
    pub before: Option<String>,
    pub limit: Option<String>,
    pub delimiter: Option<String>,
}

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 200;
/// Entries per chunk of the CSV download.
const CSV_PAGE: i64 = 500;

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AuditQuery {
    fn filter(&self, state: &AppState) -> ApiResult<Filter> {
        let action = match blank(&self.action) {
            None => None,
            Some(code) => Some(Action::parse(code).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "Действия «{code}» нет в журнале. Возможные: {}.",
                    Action::ALL.map(Action::code).join(", ")
                ))
            })?),
        };
        let tz = state.current_forum().tz();
        let from = blank(&self.from)
            .map(|t| instant(t, &tz, false))
            .transpose()?;
        let to = blank(&self.to).map(|t| instant(t, &tz, true)).transpose()?;
        if let (Some(a), Some(b)) = (from, to)
            && a >= b
        {
            return Err(ApiError::BadRequest(
                "Начало периода должно быть раньше его конца.".into(),
            ));
        }
        Ok(Filter {
            actor: blank(&self.person).map(|p| p.chars().take(100).collect()),
            action,
            from,
            to,
        })
    }

    fn page(&self) -> ApiResult<(Option<i64>, i64)> {
        let before = match blank(&self.before) {
            None => None,
            Some(t) => Some(t.parse::<i64>().map_err(|_| {
                ApiError::BadRequest(format!("Параметр before — номер записи, а не «{t}»."))
            })?),
        };
        let limit = match blank(&self.limit) {
            None => DEFAULT_PAGE,
            Some(t) => match t.parse::<i64>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "Параметр limit — число от 1 до {MAX_PAGE}, а не «{t}»."
                    )));
                }
            },
        };
        Ok((before, limit))
    }
}

/// A bound of the period: a date (`2026-04-01`, the whole day in the forum's zone: its start,
/// or for the end the next day's start), a local time (`2026-04-01T10:05`) or RFC 3339.
fn instant(text: &str, tz: &jiff::tz::TimeZone, end: bool) -> ApiResult<Millis> {
    // jiff reads a date out of a date-time too: only a bare date means a whole day.
    if let Some(date) = (text.len() == 10)
        .then(|| text.parse::<jiff::civil::Date>().ok())
        .flatten()
    {
        let day = if end {
            date.tomorrow().map_err(ApiError::internal)?
        } else {
            date
        };
        return day
            .to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(ApiError::internal);
    }
    parse_local(text, tz)
        .or_else(|_| parse_rfc3339(text))
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "Время «{text}» не читается: укажите дату 2026-04-01 или дату и время \
                 2026-04-01T10:05 (по часовому поясу форума)."
            ))
        })
}

/// `GET /api/org/audit?person=&action=&from=&to=&before=&limit=`
pub async fn list(
    _o: Organiser,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let filter = q.filter(&state)?;
    let (before, limit) = q.page()?;
    let entries = state.store.audit_page(&filter, before, limit).await?;
    let total = state.store.audit_count(&filter).await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut j = json!(e);
            j["action_title"] = json!(e.action_title());
            j["role_title"] = json!(e.role_title());
            j
        })
        .collect();
    let people: Vec<String> = state
        .store
        .accounts(state.clock.now())
        .await?
        .into_iter()
        .map(|a| a.login)
        .collect();
    Ok(Json(json!({
        "entries": rows,
        "total": total,
        "next": next,
        "limit": limit,
        "zone": forum_zone_label(&state.current_forum()),
        "actions": Action::ALL.map(|a| json!({ "code": a.code(), "title": a.title() })),
        "people": people,
    })))
}

/// `GET /api/org/audit.csv?person=&action=&from=&to=&delimiter=;`: every matching entry,
/// newest first, read and written a page at a time.
pub async fn csv(
    _o: Organiser,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    let filter = q.filter(&state)?;
    let delimiter = match blank(&q.delimiter).unwrap_or(";") {
        d if d.chars().count() == 1 => {
            csv::delimiter(d.chars().next().unwrap_or(';')).map_err(ApiError::BadRequest)?
        }
        d => {
            return Err(ApiError::BadRequest(format!(
                "Разделитель CSV — один символ: «;» или «,», а не «{d}»."
            )));
        }
    };
    let forum = state.current_forum();
    let header = sheet::header(&forum_zone_label(&forum));
    let tz = forum.tz();
    let name = format!("attachment; filename=\"{}-audit.csv\"", forum.id);
    // (next page's cursor, first page?, done?)
    let start = (None::<i64>, true, false);
    let stream = futures_util::stream::unfold(start, move |(before, first, done)| {
        let (state, filter, header, tz) =
            (state.clone(), filter.clone(), header.clone(), tz.clone());
        async move {
            if done {
                return None;
            }
            let page = match state.store.audit_page(&filter, before, CSV_PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(error = %e, "audit.csv failed mid-stream");
                    // An error item aborts the response: a broken download, not a short file.
                    return Some((
                        Err(std::io::Error::other("audit.csv failed")),
                        (None, false, true),
                    ));
                }
            };
            let mut out = Vec::new();
            let head = first.then_some(header.as_slice());
            if let Err(e) = sheet::write_page(&mut out, delimiter, head, &page, &tz) {
                tracing::error!(error = format!("{e:#}"), "audit.csv failed mid-stream");
                return Some((
                    Err(std::io::Error::other("audit.csv failed")),
                    (None, false, true),
                ));
            }
            let last = (page.len() as i64) < CSV_PAGE;
            let next = page.last().map(|e| e.id);
            Some((
                Ok::<_, std::io::Error>(Bytes::from(out)),
                (next, false, last),
            ))
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
