//! «Требуют внимания»: integrity flags over the forum's recorded evidence (issue 15), and the
//! organiser's reviews of them.
//!
//! The flags are `domain::flags::flag` over the confirms and connects that carry evidence, the
//! same function the viewer's evidence report uses, so the list, the counts and the report
//! agree. A flag changes no verdict; an organiser who agrees with one records a decision
//! (`decisions`), and notes here what they checked. Reviews are appended and audited.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::audit::record;
use super::auth::Organiser;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path};
use super::pick::Picked;
use crate::domain::audit::Action;
use crate::domain::flags::{self, Flag, Reason, check_note};
use crate::domain::log::EventBody;
use crate::domain::time::{Millis, format_local};
use crate::reports::{clock_seconds, date_ru, hall_title};
use crate::store::{FlagReview, StoreResult};

/// The most flagged viewers one answer lists; the counts cover them all.
const LISTED: usize = 1_000;

/// The forum's flags, by the one function every view uses.
pub async fn forum_flags(state: &AppState) -> StoreResult<Vec<Flag>> {
    let events = state.store.evidence_events(&state.forum.id).await?;
    let (answers, connections) = flags::inputs(&events);
    Ok(flags::flag(
        &answers,
        &connections,
        &state.settings.evidence.flags(),
    ))
}

/// What a person reads instead of ids: a prompt by its day, time and hall, a viewer by name.
pub struct Names {
    prompts: HashMap<String, String>,
    viewers: HashMap<String, String>,
}

impl Names {
    pub async fn load(state: &AppState) -> StoreResult<Names> {
        let forum = &state.forum;
        let tz = forum.tz();
        let prompts = state
            .store
            .prompts_since(&forum.id, Millis::MIN)
            .await?
            .into_iter()
            .filter_map(|e| match e.body {
                EventBody::Prompt { prompt, hall, .. } => Some((
                    prompt.into(),
                    format!(
                        "окно {} {} ({})",
                        date_ru(e.ts, &tz),
                        clock_seconds(e.ts, &tz),
                        hall_title(forum, &hall)
                    ),
                )),
                _ => None,
            })
            .collect();
        let viewers = state
            .store
            .viewers(&forum.id)
            .await?
            .into_iter()
            .map(|v| (v.id, v.name))
            .collect();
        Ok(Names { prompts, viewers })
    }

    pub fn name(&self, id: &str) -> String {
        self.prompts
            .get(id)
            .or_else(|| self.viewers.get(id))
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    fn viewer(&self, id: &str) -> Option<&String> {
        self.viewers.get(id)
    }
}

/// A reason as JSON: its figures (with ids), its heading and its sentence in Russian (with
/// names).
pub fn reason_json(r: &Reason, names: &Names) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_else(|_| json!({ "kind": r.kind() }));
    if let Value::Object(map) = &mut v {
        map.insert("title".into(), r.title_ru().into());
        map.insert("text".into(), r.text_ru_with(&|id| names.name(id)).into());
    }
    v
}

fn review_json(r: &FlagReview, state: &AppState) -> Value {
    json!({ "note": r.note, "by": r.reviewed_by, "at": r.at,
            "at_local": format_local(r.at, &state.forum.tz()) })
}

/// `GET /api/org/flags`: every flagged viewer with their reasons and latest review.
pub async fn list(_o: Organiser, Picked(state): Picked) -> ApiResult<Json<Value>> {
    let all = forum_flags(&state).await?;
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for f in &all {
        for r in &f.reasons {
            *counts.entry(r.kind()).or_default() += 1;
        }
    }
    let mut latest: HashMap<String, (FlagReview, usize)> = HashMap::new();
    for r in state.store.flag_reviews(&state.forum.id).await? {
        let n = latest.get(&r.viewer).map_or(0, |(_, n)| *n);
        latest.insert(r.viewer.clone(), (r, n + 1));
    }
    let names = Names::load(&state).await?;
    let rows: Vec<Value> = all
        .iter()
        .take(LISTED)
        .map(|f| {
            let review = latest.get(&f.viewer);
            json!({
                "viewer": f.viewer,
                "name": names.viewer(&f.viewer),
                "reasons": f.reasons.iter().map(|r| reason_json(r, &names)).collect::<Vec<_>>(),
                "review": review.map(|(r, _)| review_json(r, &state)),
                "reviews": review.map_or(0, |(_, n)| *n),
                "evidence": format!("/api/org/viewers/{}/report", f.viewer),
            })
        })
        .collect();
    let s = state.settings.evidence.flags();
    Ok(Json(json!({
        "total": all.len(),
        "listed": rows.len(),
        "reviewed": all.iter().filter(|f| latest.contains_key(&f.viewer)).count(),
        "counts": {
            "fast": counts.get("fast").copied().unwrap_or(0),
            "untrusted": counts.get("untrusted").copied().unwrap_or(0),
            "shared_device": counts.get("shared_device").copied().unwrap_or(0),
            "no_page": counts.get("no_page").copied().unwrap_or(0),
        },
        "settings": { "fast_ms": s.fast_ms, "fast_min": s.fast_min,
                      "fast_share_pct": s.fast_share_pct, "together_ms": s.together_ms,
                      "together_min": s.together_min },
        "flags": rows,
    })))
}

#[derive(Deserialize)]
pub struct ReviewBody {
    pub note: Option<String>,
}

/// `POST /api/org/flags/{id}/review` `{note}`: the organiser looked at a viewer's flags.
pub async fn review(
    organiser: Organiser,
    Picked(state): Picked,
    Path(viewer): Path<String>,
    Json(body): Json<ReviewBody>,
) -> ApiResult<Json<Value>> {
    let note = check_note(body.note.as_deref().unwrap_or("")).map_err(ApiError::BadRequest)?;
    let forum = &state.forum;
    let Some(row) = state.store.viewer(&forum.id, &viewer).await? else {
        return Err(ApiError::NotFound(format!("Участника «{viewer}» нет.")));
    };
    let flagged = forum_flags(&state)
        .await?
        .into_iter()
        .find(|f| f.viewer == viewer);
    let Some(flag) = flagged else {
        return Err(ApiError::Conflict(format!(
            "У участника «{}» нет признаков, требующих внимания: проверять нечего.",
            row.name
        )));
    };
    let now = state.clock.now();
    state
        .store
        .add_flag_review(&forum.id, &viewer, &note, &organiser.login, now)
        .await?;
    tracing::info!(organiser = %organiser.login, viewer = %viewer, "flags reviewed");
    let kinds: Vec<&str> = flag.reasons.iter().map(Reason::kind).collect();
    record(
        &state,
        organiser.actor(),
        Action::FlagReviewed,
        format!(
            "Проверены признаки участника {} ({viewer}): {note}",
            row.name
        ),
        json!({ "viewer": viewer, "reasons": kinds, "note": note }),
    )
    .await;
    Ok(Json(json!({
        "viewer": viewer,
        "review": { "note": note, "by": organiser.login, "at": now,
                    "at_local": format_local(now, &forum.tz()) },
    })))
}
