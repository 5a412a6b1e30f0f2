//! Tallies at the edges of sessions.
//!
//! A tally says whether time is counting *now*; nothing a viewer does changes that when a
//! session starts or ends, or a sponsor talk (an excluded part) begins or ends. Without a push
//! at those instants a player would keep saying «время засчитывается» after the session ended.
//! So the hub looks at its clock every [`TICK`] and, for each edge passed since the last look,
//! sends every local tab of that hall its tally.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::forum::Forum;
use crate::domain::time::Millis;

use super::WeakHub;

/// How late a push may be. The clock is read, not slept on, so a test's manual clock that jumps
/// over an edge is noticed too.
const TICK: Duration = Duration::from_millis(500);

/// Every instant at which counting may start or stop in some hall, with that hall, sorted.
pub(super) fn edges(forum: &Forum) -> Vec<(Millis, String)> {
    let mut out: Vec<(Millis, String)> = forum
        .sessions
        .iter()
        .flat_map(|s| {
            let inner = s.excluded.iter().flat_map(|x| [x.start, x.end]);
            [s.starts, s.ends]
                .into_iter()
                .chain(inner)
                .map(|t| (t, s.hall.clone()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The halls with an edge in `[from, to)`, each once.
pub(super) fn passed(edges: &[(Millis, String)], from: Millis, to: Millis) -> Vec<&str> {
    let mut halls: Vec<&str> = edges
        .iter()
        .filter(|(t, _)| from <= *t && *t < to)
        .map(|(_, h)| h.as_str())
        .collect();
    halls.sort_unstable();
    halls.dedup();
    halls
}

/// Runs until the hub is dropped or stops.
pub(super) async fn push_at_edges(hub: WeakHub) {
    let (mut forum, mut last, mut stopping) = match hub.upgrade() {
        Some(hub) => (hub.forum(), hub.now(), hub.stopping_signal()),
        None => return,
    };
    let mut points = edges(&forum);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        let Some(hub) = hub.upgrade() else { return };
        let now = hub.now();
        // A saved version may have moved a session that has not started yet.
        let running = hub.forum();
        if !Arc::ptr_eq(&running, &forum) {
            points = edges(&running);
            forum = running;
        }
        // A rule evaluated exactly at an edge is on its later side one millisecond on; `now`
        // is past it by the time it is in `[last, now)`.
        for hall in passed(&points, last, now) {
            tracing::debug!(hall, "session edge: pushing tallies");
            hub.push_tallies(hall);
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forum::Session;
    use crate::domain::forum::fixtures::{self, session};
    use crate::domain::time::{MINUTE, Span};

    fn forum() -> Forum {
        let b = Session {
            excluded: vec![Span::new(40 * MINUTE, 50 * MINUTE)],
            ..session("b", "h2", 0, 100 * MINUTE)
        };
        fixtures::forum(
            "f",
            &["h1", "h2"],
            vec![
                session("a1", "h1", 0, 30 * MINUTE),
                session("a2", "h1", 30 * MINUTE, 60 * MINUTE),
                b,
            ],
        )
    }

    #[test]
    fn every_start_end_and_excluded_part_is_an_edge_once() {
        let e = edges(&forum());
        let at = |m: i64| e.iter().filter(|(t, _)| *t == m * MINUTE).count();
        assert_eq!(at(0), 2, "a1 and b start together in two halls: {e:?}");
        assert_eq!(at(30), 1, "a1's end is a2's start: one edge of h1");
        assert_eq!((at(40), at(50), at(60), at(100)), (1, 1, 1, 1));
        assert!(e.windows(2).all(|w| w[0] <= w[1]), "sorted");
    }

    #[test]
    fn an_edge_is_passed_once_whatever_the_steps() {
        let e = edges(&forum());
        assert_eq!(passed(&e, 29 * MINUTE, 30 * MINUTE), Vec::<&str>::new());
        assert_eq!(passed(&e, 29 * MINUTE, 30 * MINUTE + 1), vec!["h1"]);
        assert_eq!(passed(&e, 30 * MINUTE + 1, 31 * MINUTE), Vec::<&str>::new());
        // A clock that jumps over several edges of both halls pushes each hall once.
        assert_eq!(passed(&e, 35 * MINUTE, 200 * MINUTE), vec!["h1", "h2"]);
        // A clock set back passes nothing.
        assert_eq!(passed(&e, 200 * MINUTE, 35 * MINUTE), Vec::<&str>::new());
    }
}
