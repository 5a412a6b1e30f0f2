//! One viewer's live state on this node: their connections on every node, their confirms and
//! wrong answers, and their latest profile. The tally the rules give them is in `tally.rs`.
//!
//! The state is filled from the store when this node first needs it and then kept current by
//! this node's own connections and by the broker's viewer events from other nodes. Applying an
//! event is idempotent, so an event seen twice (recorded here and echoed by the broker, or
//! loaded from the store after it was heard live) changes nothing the second time.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;

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
    /// Wrong answers to prompts' challenges: they limit what can still be confirmed.
    wrong: Vec<LiveConfirm>,
    /// The latest `viewer` event: the rules need the profile for the audience check.
    profile: Option<Event>,
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
            EventBody::WrongAnswer {
                viewer,
                conn,
                prompt,
            } => {
                let seen = self
                    .wrong
                    .iter()
                    .any(|w| w.ts == e.ts && w.conn == *conn && w.prompt == *prompt);
                if *viewer != self.id || seen {
                    return false;
                }
                self.wrong.push(LiveConfirm {
                    ts: e.ts,
                    conn: conn.clone(),
                    prompt: prompt.clone(),
                });
                true
            }
            EventBody::Viewer { viewer, .. } => {
                if *viewer != self.id || self.profile.as_ref().is_some_and(|p| p.ts > e.ts) {
                    return false;
                }
                self.profile = Some(e.clone());
                true
            }
            EventBody::Prompt { .. } => false,
        }
    }

    /// Wrong answers this viewer chose for `prompt`, on any tab.
    pub fn wrong_answers(&self, prompt: &str) -> u32 {
        self.wrong.iter().filter(|w| w.prompt == prompt).count() as u32
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

    /// This viewer's events as the rules read them: the profile, each connection's connect,
    /// last sign of life and disconnect, then the confirms and wrong answers.
    pub fn events(&self) -> Vec<Event> {
        let mut out =
            Vec::with_capacity(1 + self.conns.len() * 2 + self.confirms.len() + self.wrong.len());
        out.extend(self.profile.clone());
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
        for w in &self.wrong {
            out.push(Event::new(
                w.ts,
                EventBody::WrongAnswer {
                    viewer: self.id.clone(),
                    conn: w.conn.clone(),
                    prompt: w.prompt.clone(),
                },
            ));
        }
        out
    }
}

/// The live states of the viewers connected to this node, one per viewer whatever their
/// number of tabs. A std mutex: never held across await.
#[derive(Default)]
pub(super) struct Viewers(Mutex<HashMap<String, Arc<Mutex<ViewerLive>>>>);

impl Viewers {
    /// The live state of a viewer connected here, if any.
    pub(super) fn get(&self, viewer: &str) -> Option<Arc<Mutex<ViewerLive>>> {
        self.0.lock().expect("viewers lock").get(viewer).cloned()
    }

    /// Every viewer's live state, a snapshot taken under the lock.
    pub(super) fn all(&self) -> Vec<(String, Arc<Mutex<ViewerLive>>)> {
        let map = self.0.lock().expect("viewers lock");
        map.iter().map(|(v, s)| (v.clone(), s.clone())).collect()
    }

    /// The viewer's live state, created if this is their first socket here.
    pub(super) fn enter(&self, viewer: &str) -> Arc<Mutex<ViewerLive>> {
        let mut map = self.0.lock().expect("viewers lock");
        let state = map
            .entry(viewer.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(ViewerLive::new(viewer))));
        state.lock().expect("viewer lock").local += 1;
        state.clone()
    }

    /// Drops the viewer's live state with their last socket here.
    pub(super) fn leave(&self, viewer: &str) {
        let mut map = self.0.lock().expect("viewers lock");
        if let Some(state) = map.get(viewer) {
            let mut st = state.lock().expect("viewer lock");
            st.local -= 1;
            if st.local == 0 {
                drop(st);
                map.remove(viewer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::domain::time::MINUTE;

    const T0: Millis = 1_775_000_000_000;

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
}
