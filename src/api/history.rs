//! `GET /api/org/history?day=YYYY-MM-DD`: the day's viewers and connections per hall and
//! minute, summed over the nodes, for the dashboard's «Зрители за день» chart.
//!
//! The figures come from `hall_minutes` (each node writes its own once a minute), never from
//! the event log, so the answer costs the same at 95,000 viewers as at ten.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Organiser;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Query};
use super::pick::Picked;
use crate::domain::time::{MINUTE, Millis};
use crate::store::HistoryRow;

#[derive(Deserialize)]
pub struct HistoryQuery {
    /// A date in the forum's zone; today's by default.
    pub day: Option<String>,
}

/// One hall's figures, one entry per minute of [`Series::times`]; `None` where no node wrote
/// that minute (no server was running), which the chart draws as a gap rather than a zero.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct HallSeries {
    pub hall: String,
    pub viewers: Vec<Option<i64>>,
    pub connections: Vec<Option<i64>>,
}

/// The day as the chart takes it: every minute from the first written to the last.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Series {
    pub times: Vec<Millis>,
    pub halls: Vec<HallSeries>,
}

/// Lays stored rows (sorted by minute) out minute by minute for `halls`, in their order.
pub fn series(halls: &[&str], rows: &[HistoryRow]) -> Series {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Series {
            times: vec![],
            halls: halls
                .iter()
                .map(|h| HallSeries {
                    hall: (*h).to_owned(),
                    viewers: vec![],
                    connections: vec![],
                })
                .collect(),
        };
    };
    let times: Vec<Millis> = (first.minute..=last.minute)
        .step_by(MINUTE as usize)
        .collect();
    let mut out: Vec<HallSeries> = halls
        .iter()
        .map(|h| HallSeries {
            hall: (*h).to_owned(),
            viewers: vec![None; times.len()],
            connections: vec![None; times.len()],
        })
        .collect();
    for r in rows {
        let Some(h) = out.iter_mut().find(|h| h.hall == r.hall) else {
            continue; // a hall no longer in the forum
        };
        let i = ((r.minute - first.minute) / MINUTE) as usize;
        if i < times.len() {
            h.viewers[i] = Some(r.viewers);
            h.connections[i] = Some(r.connections);
        }
    }
    Series { times, halls: out }
}

/// The forum's local day `day` (or today's): its date and its bounds in Unix ms.
fn day_of(state: &AppState, day: Option<&str>) -> ApiResult<(jiff::civil::Date, Millis, Millis)> {
    let tz = state.forum.tz();
    let date = match day.map(str::trim).filter(|d| !d.is_empty()) {
        None => jiff::Timestamp::from_millisecond(state.clock.now())
            .map_err(ApiError::internal)?
            .to_zoned(tz.clone())
            .date(),
        Some(text) => text.parse::<jiff::civil::Date>().map_err(|_| {
            ApiError::BadRequest(format!(
                "Дата «{text}» не читается: укажите её как ГГГГ-ММ-ДД, например 2026-04-01"
            ))
        })?,
    };
    let start = |d: jiff::civil::Date| {
        d.to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(ApiError::internal)
    };
    let next = date.tomorrow().map_err(ApiError::internal)?;
    Ok((date, start(date)?, start(next)?))
}

pub async fn day_history(
    _o: Organiser,
    Picked(state): Picked,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    let (date, from, to) = day_of(&state, q.day.as_deref())?;
    let rows = state.store.hall_history(&state.forum.id, from, to).await?;
    let halls: Vec<&str> = state.forum.halls.iter().map(|h| h.id.as_str()).collect();
    let s = series(&halls, &rows);
    Ok(Json(json!({
        "day": date.to_string(),
        "zone": state.forum.timezone,
        "from": from,
        "to": to,
        "step_ms": MINUTE,
        "times": s.times,
        "halls": s.halls,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(minute: i64, hall: &str, viewers: i64) -> HistoryRow {
        HistoryRow {
            minute: minute * MINUTE,
            hall: hall.into(),
            viewers,
            connections: viewers + 1,
            nodes: 1,
        }
    }

    #[test]
    fn minutes_no_server_wrote_are_gaps_not_zeros() {
        let rows = [
            row(10, "a", 3),
            row(10, "b", 0),
            row(13, "a", 5),
            row(13, "gone", 9),
        ];
        let s = series(&["a", "b"], &rows);
        assert_eq!(
            s.times,
            vec![10 * MINUTE, 11 * MINUTE, 12 * MINUTE, 13 * MINUTE]
        );
        assert_eq!(s.halls[0].viewers, vec![Some(3), None, None, Some(5)]);
        assert_eq!(s.halls[0].connections, vec![Some(4), None, None, Some(6)]);
        assert_eq!(s.halls[1].viewers, vec![Some(0), None, None, None]);
    }

    #[test]
    fn an_empty_day_has_every_hall_and_no_minutes() {
        let s = series(&["a"], &[]);
        assert!(s.times.is_empty());
        assert_eq!(s.halls.len(), 1);
    }
}
