//! One viewer's live attendance, kept current event by event: their connections on every node,
//! their confirms and wrong answers, their latest profile. From it the hub asks the active hall
//! and which tabs are paused (here), whether a confirm may be recorded (`confirm.rs`) and the
//! tally of the current session (`tally.rs`), which runs the same rules as the verdicts.
//!
//! Applying an event is idempotent, so an event seen twice (recorded on this node and echoed by
//! the broker, or loaded from the store after it was heard live) changes nothing the second time.
//!
//! The state holds only what a tally can still be asked about: [`LiveViewer::prune`] drops what
//! ended before the [`horizon`] (the start of the earliest session a tab can still show, see
//! `day.rs`), so memory and the cost of one event follow the current sessions' activity, not
//! the viewer's history since the forum began.

pub mod confirm;
mod day;
pub mod tally;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tally_tests;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;

pub use day::{day_bounds, horizon, session_for};
pub use tally::{MAX_TALLY_PROMPTS, SessionPlan, Tally, TallyPrompt};

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

impl LiveConn {
    /// Closed as the rules read it: a disconnect stamped before the connect closes nothing.
    fn closed(&self) -> Option<Millis> {
        self.closed_at.filter(|t| *t >= self.start)
    }
}

/// A confirm or a wrong answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Press {
    pub(crate) ts: Millis,
    pub(crate) conn: String,
    pub(crate) prompt: String,
}

#[derive(Debug, Clone, Default)]
pub struct LiveViewer {
    pub id: String,
    /// In opening order (by start, then by arrival): the last open one decides the active hall,
    /// and the rules number connections in this order.
    conns: Vec<LiveConn>,
    /// In time order (by ts, then by arrival), as the rules read them.
    confirms: Vec<Press>,
    /// Wrong answers to prompts' challenges, in time order: they limit what can still be
    /// confirmed.
    wrong: Vec<Press>,
    /// The latest `viewer` event: the rules need the profile for the audience check.
    profile: Option<Event>,
    /// Prompts whose confirm is being recorded: a second confirm meanwhile is a duplicate.
    pending: HashSet<String>,
    /// Whether the store's events have been merged in.
    pub loaded: bool,
    /// This viewer's connections on this node; the state is dropped when it reaches zero.
    pub local: usize,
}

impl LiveViewer {
    pub fn new(id: &str) -> LiveViewer {
        LiveViewer {
            id: id.to_owned(),
            ..LiveViewer::default()
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
                        id: conn.to_string(),
                        hall: hall.to_string(),
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
                insert_in_time_order(&mut self.confirms, e.ts, conn, prompt);
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
                insert_in_time_order(&mut self.wrong, e.ts, conn, prompt);
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

    /// Forgets what no tally or confirm decision from now on can need: connections closed
    /// before `horizon` (unless a kept press names them), and confirms and wrong answers made
    /// before it. Open connections stay whatever their age (the rules count an open
    /// connection as alive until now), and so does the profile.
    ///
    /// `horizon` must be at or before the start of every session a tally may still be asked
    /// for, and before every prompt still open (see [`horizon`]). Ids are forgotten with what
    /// they named, so an event for a pruned connection that arrived after the prune would be
    /// taken as new: [`horizon`] keeps an hour of slack for late events for that reason.
    pub fn prune(&mut self, horizon: Millis) {
        self.confirms.retain(|c| c.ts >= horizon);
        self.wrong.retain(|w| w.ts >= horizon);
        let (confirms, wrong) = (&self.confirms, &self.wrong);
        let named = |id: &str| confirms.iter().chain(wrong).any(|p| p.conn == id);
        self.conns
            .retain(|c| c.closed().is_none_or(|t| t >= horizon) || named(&c.id));
    }

    /// Connections, confirms and wrong answers held: what one event or one tally costs.
    pub fn held(&self) -> usize {
        self.conns.len() + self.confirms.len() + self.wrong.len()
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
    /// last sign of life and disconnect, then the confirms and wrong answers. Only the
    /// reference tally (tests) still goes this way round.
    #[cfg(test)]
    pub fn events(&self) -> Vec<Event> {
        let mut out =
            Vec::with_capacity(1 + self.conns.len() * 2 + self.confirms.len() + self.wrong.len());
        out.extend(self.profile.clone());
        for c in &self.conns {
            out.push(Event::new(
                c.start,
                EventBody::Connect {
                    viewer: self.id.as_str().into(),
                    conn: c.id.as_str().into(),
                    hall: c.hall.as_str().into(),
                },
            ));
            match c.closed_at {
                Some(t) => out.push(Event::new(
                    t,
                    EventBody::Disconnect {
                        conn: c.id.as_str().into(),
                    },
                )),
                None if c.last_seen > c.start => out.push(Event::new(
                    c.last_seen,
                    EventBody::Heartbeat {
                        conn: c.id.as_str().into(),
                    },
                )),
                None => {}
            }
        }
        let press = |p: &Press, wrong: bool| {
            let (viewer, conn, prompt) = (self.id.clone(), p.conn.clone(), p.prompt.clone());
            let body = if wrong {
                EventBody::WrongAnswer {
                    viewer: viewer.into(),
                    conn: conn.into(),
                    prompt: prompt.into(),
                }
            } else {
                EventBody::Confirm {
                    viewer: viewer.into(),
                    conn: conn.into(),
                    prompt: prompt.into(),
                }
            };
            Event::new(p.ts, body)
        };
        out.extend(self.confirms.iter().map(|c| press(c, false)));
        out.extend(self.wrong.iter().map(|w| press(w, true)));
        out
    }
}

/// Inserts a press after every one at or before `ts`: time order, arrival order for ties.
fn insert_in_time_order(list: &mut Vec<Press>, ts: Millis, conn: &str, prompt: &str) {
    let at = list.partition_point(|p| p.ts <= ts);
    list.insert(
        at,
        Press {
            ts,
            conn: conn.to_owned(),
            prompt: prompt.to_owned(),
        },
    );
}
