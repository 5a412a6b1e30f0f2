//! The rules as small stories: each test is one thing that happens to a viewer during a forum.

use super::story::{Log, at, forum, has_row, row};
use crate::domain::forum::Education;
use crate::domain::log::{Event, EventBody};
use crate::domain::time::Span;

#[test]
fn a_doctor_watches_the_whole_session_and_confirms_both_prompts() {
    let e = Log::default()
        .doctor("anna", "Рентгенология")
        .prompts("hall-1")
        .connect(-5.0, "anna", "c1", "hall-1")
        .heartbeat(50.0, "c1")
        .confirm(21.0, "anna", "c1", "p1")
        .confirm(71.5, "anna", "c1", "p2")
        .disconnect(105.0, "c1")
        .run(&forum());
    let r = row(&e, "anna", "s1");
    assert_eq!(r.seconds, 100 * 60, "counting is cut at the session's ends");
    assert_eq!((r.confirmed, r.required, r.prompts), (2, 2, 2));
    assert!(r.eligible, "{:?}", r.reasons);
    assert_eq!(r.reasons[0].text, "Засчитано 100 из 60 мин");
    assert_eq!(
        r.reasons[1].text,
        "Подтверждено 2 из 2 показанных (нужно 2)"
    );
    assert!(
        r.reasons.iter().all(|x| x.ok),
        "every condition met: {:?}",
        r.reasons
    );
    assert!(!has_row(&e, "anna", "s2"));
}

#[test]
fn a_tab_closed_and_reopened_counts_only_the_time_connected() {
    let e = Log::default()
        .doctor("boris", "кардиология")
        .connect(0.0, "boris", "c1", "hall-1")
        .disconnect(30.0, "c1")
        .connect(40.0, "boris", "c2", "hall-1")
        .disconnect(100.0, "c2")
        .run(&forum());
    let r = row(&e, "boris", "s1");
    assert_eq!(r.minutes, 90);
    assert!(!r.eligible, "no confirmations");
    assert_eq!(
        r.reasons[1].text,
        "Подтверждено 0 из 0 показанных (нужно 2)"
    );
    assert_eq!(
        r.reasons.iter().map(|x| x.ok).collect::<Vec<_>>(),
        [true, false, true],
        "time and specialty met, confirmations not: {:?}",
        r.reasons
    );
}

#[test]
fn a_server_crash_without_disconnect_counts_up_to_the_last_heartbeat() {
    let e = Log::default()
        .doctor("vera", "рентгенология")
        .connect(0.0, "vera", "c1", "hall-1")
        .heartbeat(10.0, "c1")
        .heartbeat(65.5, "c1")
        .run(&forum());
    assert_eq!(row(&e, "vera", "s1").seconds, 65 * 60 + 30);
}

#[test]
fn a_connection_with_no_sign_of_life_counts_nothing() {
    let e = Log::default()
        .doctor("gleb", "рентгенология")
        .connect(10.0, "gleb", "c1", "hall-1")
        .run(&forum());
    assert!(e.verdicts.is_empty());
}

#[test]
fn switching_halls_moves_the_count_and_never_doubles_it() {
    let e = Log::default()
        .doctor("dina", "рентгенология")
        .connect(0.0, "dina", "c1", "hall-1")
        .connect(30.0, "dina", "c2", "hall-2")
        .disconnect(50.0, "c2")
        .disconnect(100.0, "c1")
        .run(&forum());
    assert_eq!(
        row(&e, "dina", "s1").minutes,
        80,
        "hall 1 resumes when hall 2 closes"
    );
    assert_eq!(row(&e, "dina", "s2").minutes, 20);
}

#[test]
fn two_tabs_in_one_hall_count_once() {
    let e = Log::default()
        .doctor("egor", "рентгенология")
        .connect(0.0, "egor", "c1", "hall-1")
        .connect(10.0, "egor", "c2", "hall-1")
        .disconnect(60.0, "c2")
        .disconnect(70.0, "c1")
        .run(&forum());
    assert_eq!(row(&e, "egor", "s1").minutes, 70);
}

#[test]
fn a_confirm_one_millisecond_late_does_not_count() {
    let mut log = Log::default();
    log.doctor("zoya", "рентгенология")
        .doctor("ivan", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "zoya", "z", "hall-1")
        .connect(0.0, "ivan", "i", "hall-1")
        .disconnect(100.0, "z")
        .disconnect(100.0, "i");
    let closes = at(22);
    log.0.push(Event::new(
        closes,
        EventBody::Confirm {
            viewer: "zoya".into(),
            conn: "z".into(),
            prompt: "p1".into(),
        },
    ));
    log.0.push(Event::new(
        closes + 1,
        EventBody::Confirm {
            viewer: "ivan".into(),
            conn: "i".into(),
            prompt: "p1".into(),
        },
    ));
    let e = log.run(&forum());
    assert_eq!(
        row(&e, "zoya", "s1").confirmed,
        1,
        "the closing instant is inside"
    );
    assert_eq!(row(&e, "ivan", "s1").confirmed, 0);
}

#[test]
fn pressing_a_prompt_twice_counts_once() {
    let e = Log::default()
        .doctor("kira", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "kira", "c1", "hall-1")
        .confirm(20.5, "kira", "c1", "p1")
        .confirm(21.0, "kira", "c1", "p1")
        .disconnect(100.0, "c1")
        .run(&forum());
    assert_eq!(row(&e, "kira", "s1").confirmed, 1);
}

#[test]
fn a_sponsor_talk_is_not_counted() {
    let mut f = forum();
    f.sessions[0].excluded = vec![Span::new(at(40), at(60))];
    let e = Log::default()
        .doctor("lev", "рентгенология")
        .connect(0.0, "lev", "c1", "hall-1")
        .disconnect(100.0, "c1")
        .run(&f);
    assert_eq!(row(&e, "lev", "s1").minutes, 80);
}

#[test]
fn a_missed_prompt_pauses_counting_until_the_next_confirm() {
    let mut f = forum();
    f.sessions[0].pause_on_missed = true;
    let e = Log::default()
        .doctor("mila", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "mila", "c1", "hall-1")
        .confirm(71.0, "mila", "c1", "p2")
        .disconnect(100.0, "c1")
        .run(&f);
    let r = row(&e, "mila", "s1");
    assert_eq!(r.minutes, 100 - 51, "minutes 20..71 are not counted");
    assert_eq!(r.confirmed, 1);
    assert!(
        r.reasons[0].text.contains("не засчитано 51 мин"),
        "{:?}",
        r.reasons
    );

    let without = Log::default()
        .doctor("mila", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "mila", "c1", "hall-1")
        .disconnect(100.0, "c1")
        .run(&f);
    assert_eq!(
        row(&without, "mila", "s1").minutes,
        20,
        "never resumed: paused to the end"
    );
}

#[test]
fn a_prompt_shown_while_away_is_not_a_missed_one() {
    let mut f = forum();
    f.sessions[0].pause_on_missed = true;
    let e = Log::default()
        .doctor("nina", "рентгенология")
        .prompts("hall-1")
        .connect(30.0, "nina", "c1", "hall-1")
        .disconnect(100.0, "c1")
        .run(&f);
    let r = row(&e, "nina", "s1");
    assert_eq!(
        r.minutes, 40,
        "p1 (minute 20) came before she joined; p2 paused 70..100"
    );
}

#[test]
fn a_confirm_from_a_tab_of_the_other_hall_does_not_count() {
    let e = Log::default()
        .doctor("oleg", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "oleg", "c1", "hall-1")
        .connect(15.0, "oleg", "c2", "hall-2")
        .confirm(21.0, "oleg", "c1", "p1")
        .disconnect(30.0, "c2")
        .confirm(71.0, "oleg", "c1", "p2")
        .disconnect(100.0, "c1")
        .run(&forum());
    let r = row(&e, "oleg", "s1");
    assert_eq!(
        r.confirmed, 1,
        "p1 was confirmed while hall 2 was his active hall"
    );
    assert_eq!(r.minutes, 85);
}

#[test]
fn a_confirm_at_the_disconnect_instant_counts_and_after_it_does_not() {
    let e = Log::default()
        .doctor("pavel", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "pavel", "c1", "hall-1")
        .disconnect(21.0, "c1")
        .confirm(21.0, "pavel", "c1", "p1")
        .connect(60.0, "pavel", "c2", "hall-1")
        .disconnect(71.0, "c2")
        .confirm(71.5, "pavel", "c2", "p2")
        .run(&forum());
    let r = row(&e, "pavel", "s1");
    assert_eq!(r.confirmed, 1);
    assert_eq!(
        r.minutes, 32,
        "the late confirm does not extend a closed connection"
    );
}

#[test]
fn anomalies_are_counted_and_never_credited() {
    let e = Log::default()
        .doctor("rita", "рентгенология")
        .doctor("sasha", "рентгенология")
        .prompts("hall-1")
        .heartbeat(1.0, "ghost")
        .connect(0.0, "rita", "c1", "hall-1")
        .connect(5.0, "sasha", "c1", "hall-1")
        .confirm(21.0, "sasha", "c1", "p1")
        .confirm(90.0, "sasha", "c1", "p2")
        .prompt(50.0, "p1", "hall-1")
        .disconnect(40.0, "c1")
        .heartbeat(45.0, "c1")
        .run(&forum());
    assert_eq!(e.anomalies.unknown_conn, 1);
    assert_eq!(e.anomalies.reused_conn, 1);
    assert_eq!(e.anomalies.viewer_mismatch, 2);
    assert_eq!(e.anomalies.duplicate_prompt, 1);
    assert_eq!(e.anomalies.after_disconnect, 1);
    assert_eq!(row(&e, "rita", "s1").minutes, 40);
    assert!(
        !has_row(&e, "sasha", "s1"),
        "a reused conn id gives sasha nothing"
    );
}

#[test]
fn the_audience_decides_with_the_latest_profile() {
    let e = Log::default()
        .doctor("tanya", "Кардиология ")
        .profile("uma", Education::Secondary, "рентгенология")
        .profile("vlad", Education::Secondary, "кардиология")
        .push(
            -1.0,
            EventBody::Viewer {
                viewer: "tanya".into(),
                name: "Таня".into(),
                email: "t@example.org".into(),
                education: Education::Higher,
                specialty: "онкология".into(),
            },
        )
        .prompts("hall-1")
        .connect(0.0, "tanya", "t", "hall-1")
        .connect(0.0, "uma", "u", "hall-1")
        .connect(0.0, "vlad", "v", "hall-1")
        .connect(0.0, "wanda", "w", "hall-1")
        .confirm(21.0, "tanya", "t", "p1")
        .confirm(21.0, "uma", "u", "p1")
        .confirm(21.0, "vlad", "v", "p1")
        .confirm(21.0, "wanda", "w", "p1")
        .confirm(71.0, "tanya", "t", "p2")
        .confirm(71.0, "uma", "u", "p2")
        .confirm(71.0, "vlad", "v", "p2")
        .confirm(71.0, "wanda", "w", "p2")
        .disconnect(100.0, "t")
        .disconnect(100.0, "u")
        .disconnect(100.0, "v")
        .disconnect(100.0, "w")
        .run(&forum());
    let t = row(&e, "tanya", "s1");
    assert!(!t.eligible);
    assert_eq!(
        t.reasons[2].text,
        "Специальность «онкология» не аккредитована для этой сессии"
    );
    assert!(
        row(&e, "uma", "s1").eligible,
        "secondary рентгенология is accredited"
    );
    let v = row(&e, "vlad", "s1");
    assert!(!v.eligible);
    assert!(
        v.reasons[2]
            .text
            .contains("только для уровня «высшее образование»")
    );
    assert!(!v.reasons[2].ok);
    let w = row(&e, "wanda", "s1");
    assert!(!w.eligible, "no viewer record, no eligibility");
    assert_eq!(w.name, None);
}

#[test]
fn a_prompt_announced_twice_keeps_its_first_announcement() {
    let mut log = Log::default();
    log.doctor("yana", "рентгенология")
        .prompt(20.0, "p1", "hall-1")
        .push(
            30.0,
            EventBody::Prompt {
                prompt: "p1".into(),
                hall: "hall-1".into(),
                closes: at(40),
            },
        )
        .connect(0.0, "yana", "c1", "hall-1")
        .confirm(35.0, "yana", "c1", "p1")
        .disconnect(100.0, "c1");
    let e = log.run(&forum());
    assert_eq!(row(&e, "yana", "s1").confirmed, 0, "p1 closed at minute 22");
}

#[test]
fn the_order_of_lines_does_not_matter() {
    let mut log = Log::default();
    log.doctor("anna", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "anna", "c1", "hall-1")
        .connect(30.0, "anna", "c2", "hall-2")
        .confirm(21.0, "anna", "c1", "p1")
        .heartbeat(45.0, "c2")
        .disconnect(80.0, "c1");
    let forward = log.run(&forum()).verdicts;
    log.0.reverse();
    assert_eq!(log.run(&forum()).verdicts, forward);
}
