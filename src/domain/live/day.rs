//! The forum's local day: which session a tab is about, the day's bounds the prompts of
//! "today" are loaded for, and the horizon before which a viewer's live state can forget.

use crate::domain::forum::{Forum, Session};
use crate::domain::time::{MINUTE, Millis};

/// Events reach a node well within this of their time (a broker echo, the store's load at a
/// socket's opening), and no prompt stays open longer: what the live state forgets is at least
/// this old, so no late event can bring a forgotten connection back as new, and a prompt still
/// open keeps its confirms (a second confirm of it stays a duplicate).
const SLACK: Millis = 60 * MINUTE;

/// The session a tab in `hall` is about at `now`: the one running, else the next one
/// today, else the last one today (so the viewer still sees their final tally).
pub fn session_for<'f>(forum: &'f Forum, hall: &str, now: Millis) -> Option<&'f Session> {
    if let Some(s) = forum.session_at(hall, now) {
        return Some(s);
    }
    let (start, end) = day_bounds(forum, now);
    let today = forum
        .sessions
        .iter()
        .filter(|s| s.hall == hall && s.starts < end && s.ends > start);
    let next = today
        .clone()
        .filter(|s| s.starts > now)
        .min_by_key(|s| s.starts);
    next.or_else(|| today.filter(|s| s.ends <= now).max_by_key(|s| s.ends))
}

/// Start and end of the forum's local day containing `now`.
pub fn day_bounds(forum: &Forum, now: Millis) -> (Millis, Millis) {
    let zoned = jiff::Timestamp::from_millisecond(now)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(forum.tz());
    let start = zoned
        .start_of_day()
        .map_or(now, |z| z.timestamp().as_millisecond());
    let end = zoned
        .tomorrow()
        .and_then(|t| t.start_of_day())
        .map_or(now + 86_400_000, |z| z.timestamp().as_millisecond());
    (start, end)
}

/// What a viewer's live state may forget at `now`: the start of the earliest session a tab
/// of any hall is about now ([`session_for`]), at most `now` less an hour of slack. It never
/// moves back as `now` goes on, because [`session_for`] only moves on to later sessions: a
/// session whose tab has moved on is never asked about again.
pub fn horizon(forum: &Forum, now: Millis) -> Millis {
    forum
        .halls
        .iter()
        .filter_map(|h| session_for(forum, &h.id, now))
        .map(|s| s.starts)
        .fold(now - SLACK, Millis::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_day_is_the_forum_zone_day() {
        let forum = Forum {
            prompt_window_ms: 0,
            prompt_min_gap_ms: 0,
            ..crate::domain::forum::fixtures::forum("f", &[], vec![])
        };
        // 2026-04-01T00:30+03:00 is still 31 March in UTC.
        let t = crate::domain::time::parse_rfc3339("2026-04-01T00:30:00+03:00").unwrap();
        let (start, end) = day_bounds(&forum, t);
        assert_eq!(
            start,
            crate::domain::time::parse_rfc3339("2026-04-01T00:00:00+03:00").unwrap()
        );
        assert_eq!(end - start, 86_400_000);
    }
}
