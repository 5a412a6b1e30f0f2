//! The live state's stories, fast and synchronous: the active hall and paused tabs, applying
//! twice (moved from the hub, assertions unchanged), the confirm decision, and pruning. Also
//! the fixtures the tally's stories (`tally_tests.rs`) share.

use super::*;
use crate::domain::forum::{Forum, Session};
use crate::domain::log::{Event, EventBody};
use crate::domain::rules::Params;
use crate::domain::time::Millis;

use crate::domain::forum::fixtures;
use crate::domain::rules::Status;
use crate::domain::time::MINUTE;

/// A hand-moved "now" for the stories (the domain reads no clock; the hub's tests used one).
pub(super) struct ManualClock(std::cell::Cell<Millis>);

impl ManualClock {
    pub(super) fn new(t: Millis) -> ManualClock {
        ManualClock(std::cell::Cell::new(t))
    }
    pub(super) fn now(&self) -> Millis {
        self.0.get()
    }
    pub(super) fn advance(&self, d: Millis) {
        self.0.set(self.0.get() + d);
    }
    pub(super) fn set(&self, t: Millis) {
        self.0.set(t);
    }
}

pub(super) const T0: Millis = 1_775_000_000_000;

pub(super) fn tally(
    v: &LiveViewer,
    f: &Forum,
    s: &Session,
    prompts: &[Event],
    now: Millis,
) -> Tally {
    let rules = Params {
        max_wrong_answers: 3,
        ..Params::default()
    };
    v.tally(f, s, prompts, now, rules)
        .expect("a session of the forum")
}

pub(super) fn statuses(t: &Tally) -> Vec<(Status, String)> {
    t.prompts
        .iter()
        .map(|p| (p.status, p.label.clone()))
        .collect()
}

pub(super) fn wrong(t: Millis, conn: &str, id: &str) -> Event {
    Event::new(
        t,
        EventBody::WrongAnswer {
            viewer: "v".into(),
            conn: conn.into(),
            prompt: id.into(),
        },
    )
}

pub(super) fn session(id: &str, hall: &str, pause: bool) -> Session {
    Session {
        credits: 2,
        min_minutes: 85,
        prompts: 2,
        prompts_required: 2,
        excluded: vec![crate::domain::time::Span::new(
            T0 + 60 * MINUTE,
            T0 + 70 * MINUTE,
        )],
        pause_on_missed: pause,
        prompt_window_ms: 2 * MINUTE,
        ..fixtures::session(id, hall, T0, T0 + 120 * MINUTE)
    }
}

pub(super) fn forum() -> Forum {
    Forum {
        prompt_window_ms: 2 * MINUTE,
        prompt_min_gap_ms: 10 * MINUTE,
        prompt_margin_ms: 5 * MINUTE,
        ..fixtures::forum(
            "f",
            &["h1", "h2"],
            vec![session("s1", "h1", true), session("s2", "h2", false)],
        )
    }
}

pub(super) fn connect(t: Millis, conn: &str, hall: &str) -> Event {
    Event::new(
        t,
        EventBody::Connect {
            viewer: "v".into(),
            conn: conn.into(),
            hall: hall.into(),
        },
    )
}

pub(super) fn disconnect(t: Millis, conn: &str) -> Event {
    Event::new(t, EventBody::Disconnect { conn: conn.into() })
}

pub(super) fn prompt(t: Millis, id: &str, hall: &str) -> Event {
    Event::new(
        t,
        EventBody::Prompt {
            prompt: id.into(),
            hall: hall.into(),
            closes: t + 2 * MINUTE,
        },
    )
}

pub(super) fn confirm(t: Millis, conn: &str, id: &str) -> Event {
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
    let mut v = LiveViewer::new("v");
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
    let mut v = LiveViewer::new("v");
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
    let mut v = LiveViewer::new("v");
    v.apply(&connect(T0 + 10, "new", "h2"));
    v.apply(&connect(T0, "old", "h1"));
    assert_eq!(v.active_hall(), Some("h2"));
}

#[test]
fn a_confirm_is_refused_for_the_reason_the_viewer_should_hear_first() {
    use super::confirm::{PromptWindow, Refusal};
    let mut v = LiveViewer::new("v");
    v.apply(&connect(T0, "a", "h1"));
    let p1 = PromptWindow {
        hall: "h1",
        ts: T0 + 10 * MINUTE,
        closes: T0 + 12 * MINUTE,
    };
    let at = T0 + 11 * MINUTE;
    assert_eq!(
        v.may_answer("nope", None, "h1", at, 3),
        Err(Refusal::UnknownPrompt)
    );
    assert_eq!(
        v.may_answer("p1", Some(p1), "h1", T0 + 13 * MINUTE, 3),
        Err(Refusal::PromptClosed)
    );
    assert_eq!(
        v.may_answer("p1", Some(p1), "h2", at, 3),
        Err(Refusal::WrongHall)
    );
    assert_eq!(v.may_answer("p1", Some(p1), "h1", at, 3), Ok(()));
    // A newer tab in hall 2 pauses hall 1.
    v.apply(&connect(T0 + 10 * MINUTE, "b", "h2"));
    assert_eq!(
        v.may_answer("p1", Some(p1), "h1", at, 3),
        Err(Refusal::NotActive)
    );
    v.apply(&disconnect(T0 + 10 * MINUTE + 1, "b"));
    assert!(v.begin_confirm("p1"));
    assert_eq!(
        v.may_answer("p1", Some(p1), "h1", at, 3),
        Err(Refusal::AlreadyConfirmed)
    );
    v.end_confirm("p1");
    for k in 0..3 {
        v.apply(&wrong(at + k, "a", "p1"));
    }
    assert_eq!(
        v.may_answer("p1", Some(p1), "h1", at + 5, 3),
        Err(Refusal::TooManyWrongAnswers)
    );
}

#[test]
fn after_pruning_the_state_holds_the_current_session_whatever_the_history() {
    // Ten thousand reconnects on earlier days, then one tab in today's session.
    let f = forum();
    let mut v = LiveViewer::new("v");
    let day = 24 * 60 * MINUTE;
    for k in 0..10_000 {
        let t = T0 - 3 * day + k * 10;
        let conn = format!("old{k}");
        v.apply(&connect(t, &conn, "h1"));
        v.apply(&confirm(t + 1, &conn, &format!("q{k}")));
        v.apply(&disconnect(t + 5, &conn));
    }
    v.apply(&connect(T0 + 5 * MINUTE, "a", "h1"));
    let now = T0 + 30 * MINUTE;
    v.prune(horizon(&f, now));
    assert_eq!(v.held(), 1, "only today's tab is left");
    // The tally is the same as with the whole history.
    let t = tally(&v, &f, &f.sessions[0], &[], now);
    assert_eq!((t.counted_ms, t.counting), (25 * MINUTE, true));
    // A tab opened long ago and never closed stays: it is still alive for the rules.
    let mut w = LiveViewer::new("v");
    w.apply(&connect(T0 - 2 * day, "crashed", "h1"));
    w.prune(horizon(&f, now));
    assert_eq!(w.held(), 1);
}
