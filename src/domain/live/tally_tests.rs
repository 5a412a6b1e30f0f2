//! The tally's stories, fast and synchronous (moved from the hub, assertions unchanged):
//! counting, excluded ranges, open and missed prompts, wrong answers, confirms, the profile and
//! the forum's corrections.

use super::tests::*;
use super::*;
use crate::domain::log::{Event, EventBody};
use crate::domain::rules::{Params, Status};
use crate::domain::time::MINUTE;

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
