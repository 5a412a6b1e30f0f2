//! Each prompt's one status, as small stories: what a viewer did while a prompt was open, and
//! the status and words every page then shows for it.
//!
//! Hall 1 has `s1` (09:00–10:40) with prompts `p1` at 09:20 and `p2` at 10:10, each open for
//! two minutes; hall 2 has `s2` over the same window (see `tests::forum`).

use super::story::{Log, T0, forum, row, session};
use super::*;
use crate::domain::forum::Forum;
use crate::domain::log::EventBody;
use crate::domain::time::{MINUTE, SECOND};

/// (prompt id, status, label) of every prompt that concerns `viewer`, judged with `params`.
fn statuses_with(
    f: &Forum,
    log: &Log,
    viewer: &str,
    params: Params,
) -> Vec<(String, Status, String)> {
    let facts = Facts::build(&log.0);
    let plan = Plan::with(f, &facts, params);
    let v = facts.viewer(viewer).expect("the viewer is in the log");
    let eval = evaluate_viewer(&plan, &facts, v);
    let tz = f.tz();
    prompts::for_viewer(&plan, &facts, v, &eval, &tz)
        .iter()
        .map(|o| {
            let id = facts.prompts[o.prompt as usize].id.to_owned();
            (id, o.status(), o.label(f, &facts, &tz))
        })
        .collect()
}

fn statuses(f: &Forum, log: &Log, viewer: &str) -> Vec<(String, Status, String)> {
    statuses_with(f, log, viewer, Params::default())
}

fn one(id: &str, status: Status, label: &str) -> (String, Status, String) {
    (id.to_owned(), status, label.to_owned())
}

#[test]
fn confirmed_in_time_says_when_and_an_unanswered_one_says_so() {
    let mut log = Log::default();
    log.doctor("anna", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "anna", "c1", "hall-1")
        .confirm(21.5, "anna", "c1", "p1")
        .disconnect(100.0, "c1");
    assert_eq!(
        statuses(&forum(), &log, "anna"),
        [
            one("p1", Status::Confirmed, "Подтверждено в 09:21:30"),
            one(
                "p2",
                Status::NotConfirmed,
                "Не подтверждено: окно закрылось без ответа"
            ),
        ]
    );
    let f = forum();
    let facts = Facts::build(&log.0);
    let plan = Plan::new(&f, &facts);
    let v = facts.viewer("anna").unwrap();
    let r = &evaluate_viewer(&plan, &facts, v).sessions[0];
    assert_eq!(
        r.prompts[0].why,
        Why::Confirmed {
            at: T0 + 21 * MINUTE + 30 * SECOND,
            conn: 0
        },
        "on her connection c1"
    );
    assert_eq!(
        r.reasons[1].text,
        "Подтверждено 1 из 2 показанных (нужно 2)"
    );
}

#[test]
fn a_press_that_does_not_count_says_why() {
    // (press minute, on which tab, what the status says). A second tab in hall 2 opens at
    // minute 21 and stays: from then on hall 2 is the active hall.
    let cases = [
        (22.5, "c1", "нажато в 09:22:30, после закрытия окна"),
        (19.5, "c1", "нажато в 09:19:30, до появления окна"),
        (21.5, "c2", "нажато в 09:21:30 во вкладке другого зала"),
        (
            21.5,
            "c1",
            "нажато в 09:21:30 во вкладке на паузе (активен был другой зал)",
        ),
    ];
    for (minute, tab, says) in cases {
        let mut log = Log::default();
        log.doctor("boris", "рентгенология")
            .prompt(20.0, "p1", "hall-1")
            .connect(0.0, "boris", "c1", "hall-1")
            .connect(21.0, "boris", "c2", "hall-2")
            .confirm(minute, "boris", tab, "p1")
            .disconnect(100.0, "c2")
            .disconnect(100.0, "c1");
        assert_eq!(
            statuses(&forum(), &log, "boris"),
            [one(
                "p1",
                Status::NotConfirmed,
                &format!("Не подтверждено: {says}")
            )],
            "pressed at minute {minute} on {tab}"
        );
    }
}

#[test]
fn three_wrong_answers_lock_the_prompt_and_the_verdict_agrees() {
    let mut f = forum();
    f.sessions[0].pause_on_missed = true;
    let mut log = Log::default();
    log.doctor("vera", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "vera", "c1", "hall-1");
    for k in 1..=3 {
        log.push(
            20.0 + f64::from(k) / 10.0,
            EventBody::WrongAnswer {
                viewer: "vera".into(),
                conn: "c1".into(),
                prompt: "p1".into(),
            },
        );
    }
    // A script then tries the right answer: too late, the prompt is locked.
    log.confirm(20.5, "vera", "c1", "p1")
        .confirm(71.0, "vera", "c1", "p2")
        .disconnect(100.0, "c1");
    assert_eq!(
        statuses(&f, &log, "vera")[0],
        one(
            "p1",
            Status::NotConfirmed,
            "Не подтверждено: 3 неверных ответа"
        )
    );
    let facts = Facts::build(&log.0);
    let plan = Plan::new(&f, &facts);
    let eval = evaluate_viewer(&plan, &facts, facts.viewer("vera").unwrap());
    assert_eq!(eval.checks[0], ConfirmCheck::TooManyWrongAnswers);
    let e = log.run(&f);
    let r = row(&e, "vera", "s1");
    assert_eq!(r.confirmed, 1, "only p2 counts");
    assert_eq!(
        r.minutes,
        100 - 51,
        "a locked prompt is a missed one: 20..71 paused"
    );

    // With a limit of four, the same right answer counts.
    let lenient = Params {
        max_wrong_answers: 4,
        ..Params::default()
    };
    assert_eq!(
        statuses_with(&f, &log, "vera", lenient.clone())[0],
        one("p1", Status::Confirmed, "Подтверждено в 09:20:30")
    );
    assert_eq!(evaluate_with(&f, &log.0, lenient).verdicts[0].confirmed, 2);
}

#[test]
fn wrong_answers_below_the_limit_are_told_with_the_missed_prompt() {
    let mut log = Log::default();
    log.doctor("gleb", "рентгенология")
        .prompt(20.0, "p1", "hall-1")
        .connect(0.0, "gleb", "c1", "hall-1")
        .disconnect(100.0, "c1");
    for m in [20.2, 20.4] {
        log.push(
            m,
            EventBody::WrongAnswer {
                viewer: "gleb".into(),
                conn: "c1".into(),
                prompt: "p1".into(),
            },
        );
    }
    assert_eq!(
        statuses(&forum(), &log, "gleb"),
        [one(
            "p1",
            Status::NotConfirmed,
            "Не подтверждено: окно закрылось без верного ответа (2 неверных ответа)"
        )]
    );
}

#[test]
fn not_shown_says_where_the_viewer_was() {
    let mut f = forum();
    f.sessions[0].excluded = vec![crate::domain::time::Span::new(
        T0 + 60 * MINUTE,
        T0 + 80 * MINUTE,
    )];
    let mut log = Log::default();
    log.doctor("dina", "рентгенология")
        .prompt(20.0, "p1", "hall-1")
        .prompt(50.0, "p2", "hall-1")
        .prompt(70.0, "p3", "hall-1")
        .connect(0.0, "dina", "c1", "hall-1")
        // Hall 2 from 10 to 30: p1 came while she watched it, and she pressed in the paused tab.
        .connect(10.0, "dina", "c2", "hall-2")
        .confirm(21.0, "dina", "c1", "p1")
        .disconnect(30.0, "c2")
        .disconnect(40.0, "c1")
        // Back at 65, during a sponsor talk (60–80) that is not counted: p3 fell into it.
        .connect(65.0, "dina", "c3", "hall-1")
        .disconnect(100.0, "c3");
    assert_eq!(
        statuses(&f, &log, "dina"),
        [
            one(
                "p1",
                Status::NotShown,
                "Не показано: в это время смотрели Зал №2 (нажатие в 09:21:00 не засчитано)"
            ),
            one(
                "p2",
                Status::NotShown,
                "Не показано: во время окна не было подключения"
            ),
            one(
                "p3",
                Status::NotShown,
                "Не учитывается: окно пришлось на время, которое не засчитывается"
            ),
        ]
    );
    let e = log.run(&f);
    let r = row(&e, "dina", "s1");
    assert_eq!((r.confirmed, r.shown, r.prompts), (0, 0, 3));
}

#[test]
fn an_open_prompt_is_open_until_it_closes() {
    let mut log = Log::default();
    log.doctor("egor", "рентгенология")
        .prompt(20.0, "p1", "hall-1")
        .connect(0.0, "egor", "c1", "hall-1")
        .heartbeat(21.0, "c1");
    let live = Params {
        as_of: T0 + 21 * MINUTE,
        ..Params::default()
    };
    assert_eq!(
        statuses_with(&forum(), &log, "egor", live),
        [one("p1", Status::Open, "Открыто до 09:22:00")]
    );
    assert_eq!(
        statuses(&forum(), &log, "egor")[0].1,
        Status::NotConfirmed,
        "after the fact the same prompt is missed"
    );
}

#[test]
fn a_prompt_outside_every_session_counts_for_nothing() {
    let mut log = Log::default();
    log.doctor("zoya", "рентгенология")
        .prompt(110.0, "late", "hall-1")
        .connect(0.0, "zoya", "c1", "hall-1")
        .confirm(111.0, "zoya", "c1", "late")
        .disconnect(120.0, "c1");
    assert_eq!(
        statuses(&forum(), &log, "zoya"),
        [one(
            "late",
            Status::OutsideSession,
            "Вне сессии: в это время в зале не было сессии"
        )]
    );
    assert_eq!(row(&log.run(&forum()), "zoya", "s1").confirmed, 0);
}

/// The case from the issue: a doctor connected to Зал №2 at 11:08:55; prompt `2c61c969` of
/// that hall was open until 11:09:43 and her player showed it on arrival. She was present for
/// it, so it was shown — never «не подключён».
#[test]
fn arriving_while_a_prompt_is_open_means_it_was_shown() {
    let mut f = forum();
    f.sessions[1] = session("s2", "hall-2", 0, 200);
    let at = |h: i64, m: i64, s: i64| T0 + ((h - 9) * 60 + m) * MINUTE + s * SECOND;
    let arrival = at(11, 8, 55);
    let answered = |confirm: Option<i64>| {
        let mut log = Log::default();
        log.doctor("olga", "рентгенология");
        log.0.extend([
            Event::new(
                at(11, 7, 43),
                EventBody::Prompt {
                    prompt: "2c61c969".into(),
                    hall: "hall-2".into(),
                    closes: at(11, 9, 43),
                },
            ),
            Event::new(
                arrival,
                EventBody::Connect {
                    viewer: "olga".into(),
                    conn: "c1".into(),
                    hall: "hall-2".into(),
                },
            ),
            Event::new(at(12, 0, 0), EventBody::Disconnect { conn: "c1".into() }),
        ]);
        if let Some(t) = confirm {
            log.0.push(Event::new(
                t,
                EventBody::Confirm {
                    viewer: "olga".into(),
                    conn: "c1".into(),
                    prompt: "2c61c969".into(),
                },
            ));
        }
        statuses(&f, &log, "olga")
    };
    assert_eq!(
        answered(None),
        [one(
            "2c61c969",
            Status::NotConfirmed,
            "Не подтверждено: окно закрылось без ответа"
        )]
    );
    assert_eq!(
        answered(Some(at(11, 9, 12))),
        [one(
            "2c61c969",
            Status::Confirmed,
            "Подтверждено в 11:09:12"
        )]
    );
}

#[test]
fn wrong_answers_are_counted_in_russian() {
    let said: Vec<String> = [1, 2, 3, 5, 11, 21, 22, 25]
        .into_iter()
        .map(prompts::wrong_answers_ru)
        .collect();
    assert_eq!(
        said,
        [
            "1 неверный ответ",
            "2 неверных ответа",
            "3 неверных ответа",
            "5 неверных ответов",
            "11 неверных ответов",
            "21 неверный ответ",
            "22 неверных ответа",
            "25 неверных ответов"
        ]
    );
}
