//! One viewer's live state on this node: their connections on every node, their confirms, and
//! the tally the rules give them right now.
//!
//! The state is filled from the store when this node first needs it and then kept current by
//! this node's own connections and by the broker's viewer events from other nodes. Applying an
//! event is idempotent, so an event seen twice (recorded here and echoed by the broker, or
//! loaded from the store after it was heard live) changes nothing the second time.

use std::collections::HashSet;

use crate::domain::forum::{Forum, Session};
use crate::domain::log::{Event, EventBody};
use crate::domain::rules::{Facts, Plan, evaluate_viewer};
use crate::domain::time::Millis;

use super::protocol::Tally;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConn {
    pub id: String,
    pub hall: String,
    pub start: Millis,
    /// Latest sign of life known here (heartbeat or confirm).
    pub last_seen: Millis,
    pub closed_at: Option<Millis>,
    /// The node holding it, when heard through the broker (not for connections loaded from
    /// the store), so that a node's death closes its connections here.
    pub node: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct LiveConfirm {
    ts: Millis,
    conn: String,
    prompt: String,
}

#[derive(Debug, Clone, Default)]
pub struct ViewerLive {
    pub id: String,
    /// In opening order (by start, then by arrival): the last open one decides the active hall.
    conns: Vec<LiveConn>,
    confirms: Vec<LiveConfirm>,
    /// Prompts whose confirm is being recorded: a second confirm meanwhile is a duplicate.
    pending: HashSet<String>,
    /// Whether the store's events have been merged in.
    pub loaded: bool,
    /// This viewer's connections on this node; the state is dropped when it reaches zero.
    pub local: usize,
}

impl ViewerLive {
    pub fn new(id: &str) -> ViewerLive {
        ViewerLive {
            id: id.to_owned(),
            ..ViewerLive::default()
        }
    }

    /// Applies one of this viewer's events; true when it changed something that matters to the
    /// active hall or the tally. Events of other viewers' connections are ignored.
    pub fn apply(&mut self, e: &Event) -> bool {
        match &e.body {
            EventBody::Connect { viewer, conn, hall } => {
                if *viewer != self.id || self.conn(conn).is_some() {
                    return false;
                }
                let at = self.conns.partition_point(|c| c.start <= e.ts);
                self.conns.insert(
                    at,
                    LiveConn {
                        id: conn.clone(),
                        hall: hall.clone(),
                        start: e.ts,
                        last_seen: e.ts,
                        closed_at: None,
                        node: None,
                    },
                );
                true
            }
            EventBody::Heartbeat { conn } => {
                if let Some(c) = self.conn_mut(conn) {
                    c.last_seen = c.last_seen.max(e.ts);
                }
                false
            }
            EventBody::Disconnect { conn } => match self.conn_mut(conn) {
                Some(c) if c.closed_at.is_none() => {
                    c.closed_at = Some(e.ts);
                    true
                }
                _ => false,
            },
            EventBody::Confirm {
                viewer,
                conn,
                prompt,
            } => {
                if *viewer != self.id
                    || self
                        .confirms
                        .iter()
                        .any(|c| c.conn == *conn && c.prompt == *prompt)
                {
                    return false;
                }
                if let Some(c) = self.conn_mut(conn) {
                    c.last_seen = c.last_seen.max(e.ts);
                }
                self.confirms.push(LiveConfirm {
                    ts: e.ts,
                    conn: conn.clone(),
                    prompt: prompt.clone(),
                });
                true
            }
            EventBody::Viewer { .. } | EventBody::Prompt { .. } => false,
        }
    }

    /// Notes which node holds `conn`.
    pub fn set_node(&mut self, conn: &str, node: &str) {
        if let Some(c) = self.conn_mut(conn)
            && !node.is_empty()
        {
            c.node = Some(node.to_owned());
        }
    }

    /// Closes the open connections held by `node` at their last sign of life known here;
    /// true when one was closed.
    pub fn close_node(&mut self, node: &str) -> bool {
        let mut changed = false;
        for c in &mut self.conns {
            if c.closed_at.is_none() && c.node.as_deref() == Some(node) {
                c.closed_at = Some(c.last_seen);
                changed = true;
            }
        }
        changed
    }

    fn conn(&self, id: &str) -> Option<&LiveConn> {
        self.conns.iter().find(|c| c.id == id)
    }

    fn conn_mut(&mut self, id: &str) -> Option<&mut LiveConn> {
        self.conns.iter_mut().find(|c| c.id == id)
    }

    /// The connection that decides the active hall: the most recently opened open one (rule 2).
    pub fn active_conn(&self) -> Option<&LiveConn> {
        self.conns.iter().rev().find(|c| c.closed_at.is_none())
    }

    pub fn active_hall(&self) -> Option<&str> {
        self.active_conn().map(|c| c.hall.as_str())
    }

    /// The hall a connection in `hall` should show as active elsewhere, when it is paused.
    /// Tabs in the active hall itself are not paused: the rules count a hall once however many
    /// tabs show it, and a confirm from any of them is valid.
    pub fn paused_for(&self, hall: &str) -> Option<&str> {
        self.active_hall().filter(|a| *a != hall)
    }

    /// Confirmed (or being confirmed right now) by this viewer.
    pub fn has_confirmed(&self, prompt: &str) -> bool {
        self.pending.contains(prompt) || self.confirms.iter().any(|c| c.prompt == prompt)
    }

    /// Reserves `prompt` for a confirm being recorded; false if it is confirmed or reserved.
    pub fn begin_confirm(&mut self, prompt: &str) -> bool {
        if self.has_confirmed(prompt) {
            return false;
        }
        self.pending.insert(prompt.to_owned())
    }

    /// Drops the reservation (after the confirm was applied, or when recording it failed).
    pub fn end_confirm(&mut self, prompt: &str) {
        self.pending.remove(prompt);
    }

    /// This viewer's events as the rules read them: each connection's connect, last sign of life
    /// and disconnect, then the confirms.
    pub fn events(&self) -> Vec<Event> {
        let mut out = Vec::with_capacity(self.conns.len() * 2 + self.confirms.len());
        for c in &self.conns {
            out.push(Event::new(
                c.start,
                EventBody::Connect {
                    viewer: self.id.clone(),
                    conn: c.id.clone(),
                    hall: c.hall.clone(),
                },
            ));
            match c.closed_at {
                Some(t) => out.push(Event::new(t, EventBody::Disconnect { conn: c.id.clone() })),
                None if c.last_seen > c.start => out.push(Event::new(
                    c.last_seen,
                    EventBody::Heartbeat { conn: c.id.clone() },
                )),
                None => {}
            }
        }
        for c in &self.confirms {
            out.push(Event::new(
                c.ts,
                EventBody::Confirm {
                    viewer: self.id.clone(),
                    conn: c.conn.clone(),
                    prompt: c.prompt.clone(),
                },
            ));
        }
        out
    }

    /// The viewer's tally in `session` at `now`, computed by the rules over this state and the
    /// forum's `prompts` (prompt events; others are ignored).
    ///
    /// Two adjustments make the rules' after-the-fact view fit a session in progress:
    /// open connections are alive until `now`, and a prompt still open that the viewer has not
    /// confirmed yet is not treated as missed (it would pause counting under rule 5 while the
    /// viewer can still answer it); it is still counted as shown.
    pub fn tally(&self, forum: &Forum, session: &Session, prompts: &[Event], now: Millis) -> Tally {
        let mut events = self.events();
        let mut open_unconfirmed = 0;
        for p in prompts {
            if let EventBody::Prompt {
                prompt,
                hall,
                closes,
            } = &p.body
            {
                if *hall != session.hall {
                    continue;
                }
                if *closes >= now && p.ts <= now && !self.has_confirmed(prompt) {
                    if session.window().contains(p.ts) {
                        open_unconfirmed += 1;
                    }
                    continue;
                }
                events.push(p.clone());
            }
        }
        let mut facts = Facts::build(&events);
        // Evaluated one millisecond ahead: a connection opened at `now` has no length yet, and
        // whether the next millisecond counts is exactly what `counting` means.
        let ahead = now + 1;
        facts.extend_open_to(ahead);
        let mut plan = Plan::new(forum, &facts);
        plan.sessions.retain(|ps| ps.session.id == session.id);
        let planned_prompts = plan
            .sessions
            .first()
            .map_or(0, |ps| ps.prompts.len() as u32);
        let result = facts.viewer(&self.id).and_then(|v| {
            evaluate_viewer(&plan, &facts, v)
                .sessions
                .into_iter()
                .next()
        });
        let (counted_ms, counting, confirmed, shown) = match &result {
            Some(r) => {
                let counting = self.active_hall() == Some(session.hall.as_str())
                    && session.window().contains(now)
                    && r.counted.last().is_some_and(|s| s.end == ahead);
                let ms = r.counted_ms - Millis::from(counting);
                (ms, counting, r.confirmed, r.prompts_shown.len() as u32)
            }
            None => (0, false, 0, planned_prompts),
        };
        Tally {
            session: session.id.clone(),
            counted_ms,
            min_ms: session.min_ms(),
            confirmed,
            required: session.prompts_required,
            prompts_shown: shown + open_unconfirmed,
            counting,
            as_of: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::domain::forum::{Audience, Hall};
    use crate::domain::time::MINUTE;

    const T0: Millis = 1_775_000_000_000;

    fn session(id: &str, hall: &str, pause: bool) -> Session {
        Session {
            id: id.into(),
            hall: hall.into(),
            title: id.into(),
            starts: T0,
            ends: T0 + 120 * MINUTE,
            credits: 2,
            min_minutes: 85,
            prompts: 2,
            prompts_required: 2,
            audience: Audience::default(),
            excluded: vec![crate::domain::time::Span::new(
                T0 + 60 * MINUTE,
                T0 + 70 * MINUTE,
            )],
            pause_on_missed: pause,
            prompt_window_ms: 2 * MINUTE,
        }
    }

    fn forum() -> Forum {
        let hall = |id: &str| Hall {
            id: id.into(),
            title: id.into(),
            stream_url: String::new(),
        };
        Forum {
            id: "f".into(),
            title: "f".into(),
            timezone: "Europe/Moscow".into(),
            prompt_window_ms: 2 * MINUTE,
            prompt_min_gap_ms: 10 * MINUTE,
            prompt_margin_ms: 5 * MINUTE,
            halls: vec![hall("h1"), hall("h2")],
            sessions: vec![session("s1", "h1", true), session("s2", "h2", false)],
            codes_note: None,
            organiser: None,
        }
    }

    fn connect(t: Millis, conn: &str, hall: &str) -> Event {
        Event::new(
            t,
            EventBody::Connect {
                viewer: "v".into(),
                conn: conn.into(),
                hall: hall.into(),
            },
        )
    }

    fn disconnect(t: Millis, conn: &str) -> Event {
        Event::new(t, EventBody::Disconnect { conn: conn.into() })
    }

    fn prompt(t: Millis, id: &str, hall: &str) -> Event {
        Event::new(
            t,
            EventBody::Prompt {
                prompt: id.into(),
                hall: hall.into(),
                closes: t + 2 * MINUTE,
            },
        )
    }

    fn confirm(t: Millis, conn: &str, id: &str) -> Event {
        Event::new(
            t,
            EventBody::Confirm {
                viewer: "v".into(),
                conn: conn.into(),
                prompt: id.into(),
            },
        )
    }

    #[test]
    fn newest_connection_decides_and_the_older_resumes() {
        let clock = ManualClock::new(T0);
        let mut v = ViewerLive::new("v");
        assert!(v.apply(&connect(clock.now(), "a", "h1")));
        assert_eq!(v.active_hall(), Some("h1"));
        assert_eq!(v.paused_for("h1"), None);
        clock.advance(MINUTE);
        assert!(v.apply(&connect(clock.now(), "b", "h2")));
        assert_eq!(v.paused_for("h1"), Some("h2"));
        assert_eq!(v.paused_for("h2"), None);
        clock.advance(MINUTE);
        assert!(v.apply(&disconnect(clock.now(), "b")));
        assert_eq!(v.paused_for("h1"), None);
        assert_eq!(v.active_hall(), Some("h1"));
    }

    #[test]
    fn applying_twice_changes_nothing() {
        let mut v = ViewerLive::new("v");
        assert!(v.apply(&connect(T0, "a", "h1")));
        assert!(!v.apply(&connect(T0, "a", "h1")));
        assert!(v.apply(&confirm(T0 + 5, "a", "p")));
        assert!(!v.apply(&confirm(T0 + 5, "a", "p")));
        assert!(v.apply(&disconnect(T0 + 9, "a")));
        assert!(!v.apply(&disconnect(T0 + 9, "a")));
        assert_eq!(v.events().len(), 3);
        // Someone else's events are not this viewer's.
        let other = Event::new(
            T0,
            EventBody::Connect {
                viewer: "w".into(),
                conn: "c".into(),
                hall: "h1".into(),
            },
        );
        assert!(!v.apply(&other));
    }

    #[test]
    fn a_late_arriving_older_connection_does_not_take_over() {
        let mut v = ViewerLive::new("v");
        v.apply(&connect(T0 + 10, "new", "h2"));
        v.apply(&connect(T0, "old", "h1"));
        assert_eq!(v.active_hall(), Some("h2"));
    }

    #[test]
    fn tally_counts_the_active_hall_and_says_when_it_is_counting() {
        let f = forum();
        let clock = ManualClock::new(T0 + 10 * MINUTE);
        let mut v = ViewerLive::new("v");
        v.apply(&connect(clock.now(), "a", "h1"));
        let t = v.tally(&f, &f.sessions[0], &[], clock.now());
        assert_eq!((t.counted_ms, t.counting), (0, true));
        assert_eq!(
            (t.min_ms, t.required, t.as_of),
            (85 * MINUTE, 2, clock.now())
        );

        clock.advance(20 * MINUTE);
        let t = v.tally(&f, &f.sessions[0], &[], clock.now());
        assert_eq!((t.counted_ms, t.counting), (20 * MINUTE, true));

        // Another tab in hall 2: hall 1 stops counting, hall 2 counts.
        v.apply(&connect(clock.now(), "b", "h2"));
        clock.advance(5 * MINUTE);
        let t1 = v.tally(&f, &f.sessions[0], &[], clock.now());
        assert_eq!((t1.counted_ms, t1.counting), (20 * MINUTE, false));
        let t2 = v.tally(&f, &f.sessions[1], &[], clock.now());
        assert_eq!((t2.counted_ms, t2.counting), (5 * MINUTE, true));

        // Back to hall 1 when the second tab closes.
        v.apply(&disconnect(clock.now(), "b"));
        clock.advance(5 * MINUTE);
        let t1 = v.tally(&f, &f.sessions[0], &[], clock.now());
        assert_eq!((t1.counted_ms, t1.counting), (25 * MINUTE, true));
    }

    #[test]
    fn excluded_ranges_do_not_count() {
        let f = forum();
        let mut v = ViewerLive::new("v");
        v.apply(&connect(T0 + 50 * MINUTE, "a", "h1"));
        let t = v.tally(&f, &f.sessions[0], &[], T0 + 65 * MINUTE);
        assert_eq!((t.counted_ms, t.counting), (10 * MINUTE, false));
        let t = v.tally(&f, &f.sessions[0], &[], T0 + 75 * MINUTE);
        assert_eq!((t.counted_ms, t.counting), (15 * MINUTE, true));
    }

    #[test]
    fn an_open_prompt_is_shown_but_not_missed_until_it_closes() {
        let f = forum();
        let clock = ManualClock::new(T0);
        let mut v = ViewerLive::new("v");
        v.apply(&connect(clock.now(), "a", "h1"));
        let prompts = vec![prompt(T0 + 10 * MINUTE, "p1", "h1")];
        clock.set(T0 + 11 * MINUTE);
        let t = v.tally(&f, &f.sessions[0], &prompts, clock.now());
        assert_eq!((t.prompts_shown, t.confirmed), (1, 0));
        assert_eq!((t.counted_ms, t.counting), (11 * MINUTE, true));

        // Missed: session 1 pauses on missed prompts, so counting stopped at the prompt.
        clock.set(T0 + 15 * MINUTE);
        let t = v.tally(&f, &f.sessions[0], &prompts, clock.now());
        assert_eq!((t.prompts_shown, t.confirmed), (1, 0));
        assert_eq!((t.counted_ms, t.counting), (10 * MINUTE, false));
    }

    #[test]
    fn a_confirm_counts_once_recorded() {
        let f = forum();
        let mut v = ViewerLive::new("v");
        v.apply(&connect(T0, "a", "h1"));
        let prompts = vec![prompt(T0 + 10 * MINUTE, "p1", "h1")];
        assert!(v.begin_confirm("p1"));
        assert!(!v.begin_confirm("p1"));
        assert!(v.has_confirmed("p1"));
        v.apply(&confirm(T0 + 11 * MINUTE, "a", "p1"));
        v.end_confirm("p1");
        assert!(v.has_confirmed("p1"));
        assert!(!v.begin_confirm("p1"));
        let t = v.tally(&f, &f.sessions[0], &prompts, T0 + 30 * MINUTE);
        assert_eq!((t.prompts_shown, t.confirmed), (1, 1));
        assert_eq!((t.counted_ms, t.counting), (30 * MINUTE, true));
    }

    #[test]
    fn no_time_yet_still_reports_the_session() {
        let f = forum();
        let v = ViewerLive::new("v");
        let prompts = vec![prompt(T0 + 10 * MINUTE, "p1", "h1")];
        let t = v.tally(&f, &f.sessions[0], &prompts, T0 + 30 * MINUTE);
        assert_eq!(t.session, "s1");
        assert_eq!((t.counted_ms, t.counting, t.prompts_shown), (0, false, 1));
    }
}
