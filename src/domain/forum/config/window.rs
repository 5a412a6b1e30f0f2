//! A session's window as written: its local start and end, the excluded ranges inside it, and
//! whether the minimum fits what is left once they are cut out. Part of the semantic stage
//! ([`super::validate`]), kept apart because times are the one place where text becomes instants.

use jiff::tz::TimeZone;

use super::RawSession;
use super::validate::{Part, Report};
use crate::domain::time::{
    MINUTE, Millis, Span, format_local, measure, normalize, parse_local, subtract,
};

/// Reads `starts`, `ends` and `excluded`: the window and the valid excluded ranges, sorted
/// and merged. `None` when there is no usable window.
pub(super) fn check_window(
    raw: &RawSession,
    label: &Part,
    tz: &TimeZone,
    report: &mut Report,
) -> Option<(Span, Vec<Span>)> {
    let starts = read_time(&raw.starts, label, "starts", tz, report);
    let ends = read_time(&raw.ends, label, "ends", tz, report);
    let (starts, ends) = (starts?, ends?);
    if ends <= starts {
        let relation = if ends == starts {
            "совпадает с началом"
        } else {
            "раньше начала"
        };
        report.push(
            label,
            "ends",
            format!(
                "окончание {} {relation} {}",
                format_local(ends, tz),
                format_local(starts, tz)
            ),
        );
        return None;
    }
    let window = Span::new(starts, ends);
    let excluded = check_excluded(&raw.excluded, window, label, tz, report);
    Some((window, excluded))
}

/// Whether the minimum and the planned prompts fit into the window at all.
pub(super) fn check_norms_fit(
    raw: &RawSession,
    window: Span,
    excluded: &[Span],
    label: &Part,
    report: &mut Report,
) {
    let counted = measure(&subtract(&[window], excluded));
    if Millis::from(raw.min_minutes) * MINUTE > counted {
        report.push(
            label,
            "min_minutes",
            format!(
                "минимум {} мин больше учитываемой части окна: {} мин (окно {} мин минус \
                 исключённые интервалы {} мин)",
                raw.min_minutes,
                counted / MINUTE,
                window.len() / MINUTE,
                measure(excluded) / MINUTE
            ),
        );
    }
}

fn read_time(
    text: &str,
    label: &Part,
    field: &str,
    tz: &TimeZone,
    report: &mut Report,
) -> Option<Millis> {
    parse_local(text, tz)
        .map_err(|e| report.push(label, field, e))
        .ok()
}

/// Reads the excluded ranges; returns the valid ones, sorted and merged.
fn check_excluded(
    ranges: &[(String, String)],
    window: Span,
    label: &Part,
    tz: &TimeZone,
    report: &mut Report,
) -> Vec<Span> {
    let mut spans = Vec::new();
    for (from, to) in ranges {
        let (Some(start), Some(end)) = (
            read_time(from, label, "excluded", tz, report),
            read_time(to, label, "excluded", tz, report),
        ) else {
            continue;
        };
        let shown = format!("{}–{}", format_local(start, tz), format_local(end, tz));
        if end <= start {
            report.push(
                label,
                "excluded",
                format!("исключённый интервал {shown} перевёрнут или пуст: конец не позже начала"),
            );
        } else if start < window.start || end > window.end {
            report.push(
                label,
                "excluded",
                format!(
                    "исключённый интервал {shown} выходит за окно сессии {}–{}",
                    format_local(window.start, tz),
                    format_local(window.end, tz)
                ),
            );
        } else {
            spans.push(Span::new(start, end));
        }
    }
    normalize(spans)
}
