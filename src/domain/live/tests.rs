//! The live core's stories, fast and synchronous: the active hall and paused tabs, applying
//! twice, confirms, wrong answers and the tally (moved from the hub, assertions unchanged).

use super::*;
use crate::domain::forum::{Forum, Session};
use crate::domain::log::{Event, EventBody};
use crate::domain::rules::Params;
use crate::domain::time::Millis;

use crate::domain::forum::fixtures;
use crate::domain::rules::Status;
use crate::domain::time::MINUTE;

/// A hand-moved "now" for the stories (the domain reads no clock; the hub's tests used one).
struct ManualClock(std::cell::Cell<Millis>);

impl ManualClock {
    fn new(t: Millis) -> ManualClock {
        ManualClock(std::cell::Cell::new(t))
    }
    fn now(&self) -> Millis {
        self.0.get()
    }
    fn advance(&self, d: Millis) {
        self.0.set(self.0.get() + d);
    }
    fn set(&self, t: Millis) {
        self.0.set(t);
    }
}

const T0: Millis = 1_775_000_000_000;

fn tally(v: &LiveViewer, f: &Forum, s: &Session, prompts: &[Event], now: Millis) -> Tally {
    let rules = Params {
        max_wrong_answers: 3,
        ..Params::default()
    };
    v.tally(f, s, prompts, now, rules)
        .expect("a session of the forum")
}

fn statuses(t: &Tally) -> Vec<(Status, String)> {
    t.prompts
        .iter()
        .map(|p| (p.status, p.label.clone()))
        .collect()
}

fn wrong(t: Millis, conn: &str, id: &str) -> Event {
    Event::new(
        t,
        EventBody::WrongAnswer {
            viewer: "v".into(),
            conn: conn.into(),
            prompt: id.into(),
        },
    )
}

fn session(id: &str, hall: &str, pause: bool) -> Session {
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

fn forum() -> Forum {
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
fn tally_counts_the_active_hall_and_says_when_it_is_counting() {
    let f = forum();
    let clock = ManualClock::new(T0 + 10 * MINUTE);
    let mut v = LiveViewer::new("v");
    v.apply(&connect(clock.now(), "a", "h1"));
    let t = tally(&v, &f, &f.sessions[0], &[], clock.now());
    assert_eq!((t.counted_ms, t.counting), (0, true));
    assert_eq!(
        (t.min_ms, t.required, t.as_of),
        (85 * MINUTE, 2, clock.now())
    );

    clock.advance(20 * MINUTE);
    let t = tally(&v, &f, &f.sessions[0], &[], clock.now());
    assert_eq!((t.counted_ms, t.counting), (20 * MINUTE, true));

    // Another tab in hall 2: hall 1 stops counting, hall 2 counts.
    v.apply(&connect(clock.now(), "b", "h2"));
    clock.advance(5 * MINUTE);
    let t1 = tally(&v, &f, &f.sessions[0], &[], clock.now());
    assert_eq!((t1.counted_ms, t1.counting), (20 * MINUTE, false));
    let t2 = tally(&v, &f, &f.sessions[1], &[], clock.now());
    assert_eq!((t2.counted_ms, t2.counting), (5 * MINUTE, true));

    // Back to hall 1 when the second tab closes.
    v.apply(&disconnect(clock.now(), "b"));
    clock.advance(5 * MINUTE);
    let t1 = tally(&v, &f, &f.sessions[0], &[], clock.now());
    assert_eq!((t1.counted_ms, t1.counting), (25 * MINUTE, true));
}

#[test]
fn excluded_ranges_do_not_count() {
    let f = forum();
    let mut v = LiveViewer::new("v");
    v.apply(&connect(T0 + 50 * MINUTE, "a", "h1"));
    let t = tally(&v, &f, &f.sessions[0], &[], T0 + 65 * MINUTE);
    assert_eq!((t.counted_ms, t.counting), (10 * MINUTE, false));
    let t = tally(&v, &f, &f.sessions[0], &[], T0 + 75 * MINUTE);
    assert_eq!((t.counted_ms, t.counting), (15 * MINUTE, true));
}

#[test]
fn an_open_prompt_is_shown_but_not_missed_until_it_closes() {
    let f = forum();
    let clock = ManualClock::new(T0);
    let mut v = LiveViewer::new("v");
    v.apply(&connect(clock.now(), "a", "h1"));
    let prompts = vec![prompt(T0 + 10 * MINUTE, "p1", "h1")];
    clock.set(T0 + 11 * MINUTE);
    let t = tally(&v, &f, &f.sessions[0], &prompts, clock.now());
    assert_eq!((t.prompts_shown, t.confirmed), (1, 0));
    assert_eq!((t.counted_ms, t.counting), (11 * MINUTE, true));
    assert_eq!(statuses(&t), [(Status::Open, "Открыто до 02:45:20".into())]);

    // Missed: session 1 pauses on missed prompts, so counting stopped at the prompt.
    clock.set(T0 + 15 * MINUTE);
    let t = tally(&v, &f, &f.sessions[0], &prompts, clock.now());
    assert_eq!((t.prompts_shown, t.confirmed), (1, 0));
    assert_eq!((t.counted_ms, t.counting), (10 * MINUTE, false));
    assert_eq!(
        statuses(&t),
        [(
            Status::NotConfirmed,
            "Не подтверждено: окно закрылось без ответа".into()
        )]
    );
    assert!(!t.eligible && !t.session_over);
}

#[test]
fn after_too_many_wrong_answers_the_prompt_is_not_confirmed_while_still_open() {
    let f = forum();
    let mut v = LiveViewer::new("v");
    v.apply(&connect(T0, "a", "h1"));
    let prompts = vec![prompt(T0 + 10 * MINUTE, "p1", "h1")];
    for k in 0..3 {
        assert!(v.apply(&wrong(T0 + 10 * MINUTE + k * 1000, "a", "p1")));
    }
    assert!(
        !v.apply(&wrong(T0 + 10 * MINUTE, "a", "p1")),
        "the same event twice (echoed by the broker) counts once"
    );
    assert_eq!(v.wrong_answers("p1"), 3);
    let t = tally(&v, &f, &f.sessions[0], &prompts, T0 + 11 * MINUTE);
    assert_eq!(
        statuses(&t),
        [(
            Status::NotConfirmed,
            "Не подтверждено: 3 неверных ответа".into()
        )]
    );
    // Under a limit of four, three wrong answers leave the prompt open.
    let t = v
        .tally(
            &f,
            &f.sessions[0],
            &prompts,
            T0 + 11 * MINUTE,
            Params {
                max_wrong_answers: 4,
                ..Params::default()
            },
        )
        .unwrap();
    assert_eq!(t.prompts[0].status, Status::Open);
}

#[test]
fn a_confirm_counts_once_recorded() {
    let f = forum();
    let mut v = LiveViewer::new("v");
    v.apply(&connect(T0, "a", "h1"));
    let prompts = vec![prompt(T0 + 10 * MINUTE, "p1", "h1")];
    assert!(v.begin_confirm("p1"));
    assert!(!v.begin_confirm("p1"));
    assert!(v.has_confirmed("p1"));
    v.apply(&confirm(T0 + 11 * MINUTE, "a", "p1"));
    v.end_confirm("p1");
    assert!(v.has_confirmed("p1"));
    assert!(!v.begin_confirm("p1"));
    let t = tally(&v, &f, &f.sessions[0], &prompts, T0 + 30 * MINUTE);
    assert_eq!((t.prompts_shown, t.confirmed), (1, 1));
    assert_eq!((t.counted_ms, t.counting), (30 * MINUTE, true));
}

#[test]
fn no_time_yet_still_reports_the_session() {
    let f = forum();
    let v = LiveViewer::new("v");
    let prompts = vec![prompt(T0 + 10 * MINUTE, "p1", "h1")];
    let t = tally(&v, &f, &f.sessions[0], &prompts, T0 + 30 * MINUTE);
    assert_eq!(t.session, "s1");
    assert_eq!((t.counted_ms, t.counting, t.prompts_shown), (0, false, 0));
    assert_eq!(
        statuses(&t),
        [(
            Status::NotShown,
            "Не показано: во время окна не было подключения".into()
        )]
    );
    let texts: Vec<&str> = t.reasons.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Засчитано 0 из 85 мин (не хватает 85 мин)",
            "Подтверждено 0 из 0 показанных (нужно 2)",
            "Нет анкеты участника: специальность неизвестна"
        ]
    );
}

#[test]
fn the_verdict_so_far_uses_the_profile_and_says_when_the_session_is_over() {
    let mut f = forum();
    f.sessions[1].min_minutes = 30;
    f.sessions[1].prompts_required = 1;
    f.sessions[1].audience.higher = vec!["рентгенология".into()];
    let mut v = LiveViewer::new("v");
    v.apply(&Event::new(
        T0 - MINUTE,
        EventBody::Viewer {
            viewer: "v".into(),
            name: "Иванова Анна".into(),
            email: "anna@example.org".into(),
            education: crate::domain::forum::Education::Higher,
            specialty: "рентгенология".into(),
        },
    ));
    v.apply(&connect(T0, "a", "h2"));
    v.apply(&confirm(T0 + 11 * MINUTE, "a", "q1"));
    let prompts = vec![prompt(T0 + 10 * MINUTE, "q1", "h2")];
    let t = tally(&v, &f, &f.sessions[1], &prompts, T0 + 40 * MINUTE);
    assert!(t.eligible, "{:?}", t.reasons);
    assert!(t.reasons.iter().all(|r| r.ok), "{:?}", t.reasons);
    assert_eq!(
        statuses(&t),
        [(Status::Confirmed, "Подтверждено в 02:44:20".into())]
    );
    assert!(!t.session_over);
    let t = tally(&v, &f, &f.sessions[1], &prompts, T0 + 120 * MINUTE);
    assert!(t.session_over && t.eligible);
}

#[test]
fn a_finished_sessions_tally_applies_the_forums_corrections() {
    // The viewer watched all of s1 (and its sponsor break), confirmed p1 and never saw p2
    // come up: an outage. Voided afterwards, p2 is neither missed nor required.
    let f = forum();
    let mut v = LiveViewer::new("v");
    v.apply(&connect(T0, "a", "h1"));
    v.apply(&confirm(T0 + 11 * MINUTE, "a", "p1"));
    v.apply(&disconnect(T0 + 120 * MINUTE, "a"));
    let prompts = vec![
        prompt(T0 + 10 * MINUTE, "p1", "h1"),
        prompt(T0 + 90 * MINUTE, "p2", "h1"),
    ];
    let after = T0 + 121 * MINUTE;
    let before = tally(&v, &f, &f.sessions[0], &prompts, after);
    assert_eq!((before.confirmed, before.required), (1, 2));
    let rules = Params {
        corrections: vec![crate::domain::decisions::Correction {
            session: f.sessions[0].id.clone(),
            change: crate::domain::decisions::Change::VoidPrompt {
                prompt: "p2".into(),
            },
            reason: "Сбой трансляции".into(),
            by: "admin".into(),
            at: after,
        }]
        .into(),
        ..Params::default()
    };
    let t = v.tally(&f, &f.sessions[0], &prompts, after, rules).unwrap();
    assert_eq!((t.confirmed, t.required, t.prompts_shown), (1, 1, 1));
    assert_eq!(t.prompts[1].status, Status::Voided);
    assert!(t.session_over);
    assert!(
        t.reasons.last().unwrap().text.starts_with("Поправка от "),
        "{:?}",
        t.reasons
    );
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
