//! Documents over HTTP: the commission's export (CSV, XLSX, summary), certificates (for the
//! organiser, and for a viewer through their personal link) and the printable evidence report.
//!
//! Exports are streamed: the log is evaluated on a blocking thread which writes rows into a
//! bounded channel of 64 KiB chunks that the response body drains, so a 100,000-participant
//! file never sits in memory whole and a client that goes away stops the work. Input is checked
//! before the stream starts, so a bad request gets a clear 400 and a file is never half-valid
//! by design; an error mid-stream (the store died) aborts the response and is logged.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::AppState;
use super::auth::{Organiser, token_hash};
use super::case::Case;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};
use super::pick::Picked;
use super::results::rules_params;
use crate::domain::decided::InForce;
use crate::domain::forum::Forum;
use crate::domain::rules::{Facts, Plan, evaluate_viewer};
use crate::reports::certificate::{self, render_pdf};
use crate::reports::evidence::{self, ViewerInfo};
use crate::reports::export::{self, Input, Table};
use crate::reports::rows::{self, Sources};
use crate::reports::summary;
use crate::reports::{csv, forum_zone_label};
use crate::store::ViewerRow;

/// Query of the export routes. Every field is text and checked by hand, so a wrong value gets
/// a Russian sentence rather than the framework's English one.
#[derive(Deserialize, Default)]
pub struct ExportQuery {
    pub session: Option<String>,
    pub delimiter: Option<String>,
    /// `1`/`true`: the per-session summary instead of the participants.
    pub summary: Option<String>,
}

impl ExportQuery {
    fn session(&self, forum: &Forum) -> ApiResult<Option<String>> {
        match self.session.as_deref().map(str::trim) {
            None | Some("") | Some("all") => Ok(None),
            Some(s) if forum.session(s).is_some() => Ok(Some(s.to_owned())),
            Some(s) => Err(ApiError::NotFound(format!(
                "сессии «{s}» нет; укажите идентификатор сессии из программы или не указывайте её"
            ))),
        }
    }

    fn delimiter(&self) -> ApiResult<u8> {
        let text = self.delimiter.as_deref().unwrap_or(";");
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => csv::delimiter(c).map_err(ApiError::BadRequest),
            _ => Err(ApiError::BadRequest(format!(
                "разделитель CSV должен быть одним символом: «;» или «,», а не «{text}»"
            ))),
        }
    }

    fn summary(&self) -> ApiResult<bool> {
        match self.summary.as_deref().map(str::trim) {
            None | Some("") | Some("0") | Some("false") => Ok(false),
            Some("1") | Some("true") => Ok(true),
            Some(other) => Err(ApiError::BadRequest(format!(
                "summary может быть 1 или 0, а не «{other}»"
            ))),
        }
    }
}

/// What an export reads from the store, fetched before the stream starts.
async fn load(state: &AppState) -> ApiResult<Input> {
    let read = state.store.export_input(&state.forum.id).await?;
    Ok(Input::from_store(read, rules_params(state).await?))
}

/// A `Write` that sends 64 KiB chunks down a bounded channel, blocking while the reader is
/// behind: the back-pressure that bounds an export's memory. Only for blocking threads.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl ChannelWriter {
    fn new(tx: mpsc::Sender<Result<Bytes, std::io::Error>>) -> ChannelWriter {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Runs `produce` on a blocking thread with a writer into the response body.
fn stream_body(
    what: &'static str,
    produce: impl FnOnce(&mut ChannelWriter) -> anyhow::Result<()> + Send + 'static,
) -> Body {
    let (tx, rx) = mpsc::channel(8);
    let err_tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter::new(tx);
        let result = produce(&mut out).and_then(|()| Ok(out.flush()?));
        if let Err(e) = result {
            let gone = e
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
            if gone {
                tracing::info!(what, "export stopped: the client went away");
            } else {
                tracing::error!(what, error = format!("{e:#}"), "export failed mid-stream");
                // An error item makes hyper abort the response, so the client sees a broken
                // download rather than a file that looks complete.
                let _ = err_tx.blocking_send(Err(std::io::Error::other("export failed")));
            }
        }
    });
    Body::from_stream(ReceiverStream::new(rx))
}

fn attachment(name: String, content_type: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `GET /api/org/export.csv?session=&delimiter=;&summary=1`
pub async fn export_csv(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let session = q.session(&state.forum)?;
    let delimiter = q.delimiter()?;
    let summary = q.summary()?;
    let input = load(&state).await?;
    let forum = state.forum.clone();
    let name = format!(
        "{}-{}{}.csv",
        forum.id,
        session.as_deref().unwrap_or("all"),
        if summary { "-summary" } else { "" }
    );
    let table = if summary {
        Table::Summary
    } else {
        Table::Participants
    };
    let body = stream_body("export.csv", move |out| {
        export::write_csv(out, &forum, &input, session.as_deref(), delimiter, table)?;
        Ok(())
    });
    Ok(attachment(name, "text/csv; charset=utf-8", body))
}

/// `GET /api/org/export.xlsx?session=`: the summary sheet and the participants sheet.
pub async fn export_xlsx(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let session = q.session(&state.forum)?;
    let input = load(&state).await?;
    let forum = state.forum.clone();
    let name = format!("{}-{}.xlsx", forum.id, session.as_deref().unwrap_or("all"));
    let body = stream_body("export.xlsx", move |out| {
        export::write_xlsx(out, &forum, &input, session.as_deref())?;
        Ok(())
    });
    Ok(attachment(
        name,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        body,
    ))
}

/// `GET /api/org/summary?session=`: the summary as JSON, for the dashboard.
pub async fn summary(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Json<Value>> {
    let session = q.session(&state.forum)?;
    let input = load(&state).await?;
    let forum = state.forum.clone();
    let sessions = tokio::task::spawn_blocking(move || {
        let facts = Facts::build(&input.events);
        let decided = InForce::new(input.decisions.iter().cloned());
        let outcomes = rows::outcomes(
            &forum,
            &facts,
            input.rules.clone(),
            &decided,
            session.as_deref(),
        );
        let src = Sources::new(&forum, &facts, &input.codes, &decided, input.rules);
        let tz = forum.tz();
        summary::summarise(&src, &outcomes, &input.registered, session.as_deref())
            .iter()
            .map(|s| {
                let counts = |c: &summary::Counts| {
                    json!({ "registered": c.registered, "attended": c.attended,
                            "eligible": c.eligible, "codes": c.codes })
                };
                json!({
                    "session": s.session.id, "title": s.session.title,
                    "when": crate::reports::session_when(s.session, &tz),
                    "hall": crate::reports::hall_title(&forum, &s.session.hall),
                    "credits": s.session.credits, "credits_earned": s.credits_earned(),
                    "total": counts(&s.total),
                    "specialties": s.lines.iter().map(|l| json!({
                        "education": l.education, "specialty": l.specialty,
                        "accredited": l.accredited, "counts": counts(&l.counts),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(json!({
        "zone": forum_zone_label(&state.forum),
        "sessions": sessions,
    })))
}

async fn viewer_or_404(state: &AppState, id: &str) -> ApiResult<ViewerRow> {
    state
        .store
        .viewer(&state.forum.id, id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "Участника «{id}» нет. Найдите участника по ФИО или e-mail в панели организатора, \
                 раздел «Участники»: там в его строке есть отчёт и свидетельство"
            ))
        })
}

/// Who asks for a certificate: the wording of "no codes yet" differs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asker {
    Organiser,
    Viewer,
}

/// The certificate PDF of one viewer; 404 with an explanation while they hold no code.
async fn certificate_of(state: &AppState, viewer: &ViewerRow, asker: Asker) -> ApiResult<Response> {
    let cert = certificate::of_viewer(
        &state.store,
        &state.forum,
        viewer,
        state.clock.now(),
        &state.public_url,
    )
    .await?;
    let Some(cert) = cert else {
        return Err(ApiError::NotFound(match asker {
            Asker::Organiser => format!(
                "У участника {} пока нет кодов НМО, поэтому свидетельства нет. Оно появится, \
                 когда вы выдадите коды за сессии, условия которых выполнены («Итоги сессии» → \
                 «Выдать коды»)",
                viewer.name
            ),
            Asker::Viewer => "Кодов НМО у вас пока нет: свидетельство появится, когда организатор \
                              выдаст коды за сессии, условия которых выполнены"
                .into(),
        }));
    };
    let pdf = tokio::task::spawn_blocking(move || render_pdf(&cert))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"certificate-{}.pdf\"", viewer.id),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        pdf,
    )
        .into_response())
}

/// `GET /api/org/viewers/{id}/certificate.pdf`
pub async fn certificate_pdf(
    _o: Organiser,
    Picked(state): Picked,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let viewer = viewer_or_404(&state, &id).await?;
    certificate_of(&state, &viewer, Asker::Organiser).await
}

#[derive(Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
}

/// `GET /api/me/certificate.pdf?token=`: a viewer's own certificate through their link.
pub async fn my_certificate(
    Picked(state): Picked,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Response> {
    let token = q.token.unwrap_or_default();
    let viewer = state
        .store
        .viewer_by_token_hash(&state.forum.id, &token_hash(token.trim()))
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "Ссылка недействительна: откройте свидетельство по ссылке из последнего письма"
                    .into(),
            )
        })?;
    certificate_of(&state, &viewer, Asker::Viewer).await
}

/// `GET /api/org/viewers/{id}/report`: the printable evidence report for an appeal.
pub async fn evidence_report(
    _o: Organiser,
    Picked(state): Picked,
    Path(id): Path<String>,
) -> ApiResult<Html<String>> {
    let viewer = viewer_or_404(&state, &id).await?;
    Ok(Html(
        evidence_page(&state, &viewer, Vec::new(), true).await?,
    ))
}

/// The printable evidence report of `viewer`, with `more` rows in the participant's table:
/// the organiser's report for an appeal and the viewer's own copy of their data are one page.
pub(super) async fn evidence_page(
    state: &AppState,
    viewer: &ViewerRow,
    more: Vec<(&'static str, String)>,
    with_flags: bool,
) -> ApiResult<String> {
    let Case {
        events,
        params,
        decided,
    } = Case::load(state, &viewer.id).await?;
    let codes = state
        .store
        .viewer_codes(&state.forum.id, &viewer.id)
        .await?;
    // The forum's flags, picked for this viewer: the same function as the dashboard's list.
    let flags = if with_flags {
        let all = super::flags::forum_flags(state).await?;
        let names = super::flags::Names::load(state).await?;
        let mine = all.into_iter().find(|f| f.viewer == viewer.id);
        Some(mine.map_or_else(Vec::new, |f| {
            f.reasons
                .iter()
                .map(|r| {
                    (
                        r.title_ru().to_owned(),
                        r.text_ru_with(&|id| names.name(id)),
                    )
                })
                .collect()
        }))
    } else {
        None
    };
    let forum = state.forum.clone();
    let now = state.clock.now();
    let info = ViewerInfo {
        id: viewer.id.clone(),
        name: viewer.name.clone(),
        email: viewer.email.clone(),
        education: Some(viewer.education),
        specialty: viewer.specialty.clone(),
        more,
    };
    tokio::task::spawn_blocking(move || {
        let facts = Facts::build(&events);
        let plan = Plan::with(&forum, &facts, params);
        let v = facts.viewer(&info.id);
        let eval = v.map(|v| evaluate_viewer(&plan, &facts, v));
        let mut report = evidence::build(
            &plan,
            &facts,
            v.zip(eval.as_ref()),
            info,
            &codes,
            &decided,
            now,
        );
        report.flags = flags;
        evidence::render_html(&report)
    })
    .await
    .map_err(ApiError::internal)
}
