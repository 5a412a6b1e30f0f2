//! Corrections after an outage, as small stories: a prompt voided for everyone, a stretch of a
//! session excluded, and what each does to the verdicts and to the words every page shows.
//!
//! Hall 1 has `s1` (09:00–10:40, 60 minutes and both prompts required) with prompts `p1` at
//! 09:20 and `p2` at 10:10; hall 2 has `s2` over the same window (see `story::forum`).

use super::story::{Log, T0, at, forum, row};
use super::*;
use crate::domain::decisions::{Change, Correction};
use crate::domain::forum::Forum;
use crate::domain::time::{MINUTE, Millis};

/// 2026-04-12 12:00 Moscow: the day the corrections are recorded.
const APRIL_12: Millis = T0 + 11 * 24 * 60 * MINUTE + 3 * 60 * MINUTE;

fn void(session: &str, prompt: &str) -> Correction {
    Correction {
        session: session.into(),
        change: Change::VoidPrompt {
            prompt: prompt.into(),
        },
        reason: "Сбой трансляции".into(),
        by: "admin".into(),
        at: APRIL_12,
    }
}

fn exclude(session: &str, from: i64, to: i64) -> Correction {
    Correction {
        session: session.into(),
        change: Change::Exclude {
            from: at(from),
            to: at(to),
        },
        reason: "Трансляция прервалась".into(),
        by: "admin".into(),
        at: APRIL_12,
    }
}

fn with(corrections: Vec<Correction>) -> Params {
    Params {
        corrections: corrections.into(),
        ..Params::default()
    }
}

fn judged(f: &Forum, log: &Log, corrections: Vec<Correction>) -> Evaluation {
    evaluate_with(f, &log.0, with(corrections))
}

/// Anna watched all of `s1` and confirmed `p1`; `p2` fired while the stream was down and she
/// never saw its window come up.
fn outage_log() -> Log {
    let mut log = Log::default();
    log.doctor("anna", "рентгенология")
        .prompts("hall-1")
        .connect(0.0, "anna", "c1", "hall-1")
        .confirm(21.0, "anna", "c1", "p1")
        .disconnect(100.0, "c1");
    log
}

#[test]
fn a_voided_prompt_is_neither_required_nor_missed_and_the_verdict_says_why() {
    let log = outage_log();
    let before = log.run(&forum());
    assert!(!row(&before, "anna", "s1").eligible, "p2 was missed");

    let after = judged(&forum(), &log, vec![void("s1", "p2")]);
    let r = row(&after, "anna", "s1");
    assert!(r.eligible, "{:#?}", r.reasons);
    assert_eq!((r.confirmed, r.required, r.prompts, r.shown), (1, 1, 1, 1));
    let last = r.reasons.last().unwrap();
    assert!(last.ok);
    assert_eq!(
        last.text,
        "Поправка от 12.04.2026: окно подтверждения в 10:10:00 не учитывается ни для кого — \
         причина: Сбой трансляции"
    );
    assert_eq!(
        r.reasons[1].text,
        "Подтверждено 1 из 1 показанных (нужно 1)"
    );
}

#[test]
fn a_voided_prompt_has_one_status_of_its_own() {
    let log = outage_log();
    let f = forum();
    let facts = Facts::build(&log.0);
    let plan = Plan::with(&f, &facts, with(vec![void("s1", "p2")]));
    let v = facts.viewer("anna").unwrap();
    let eval = evaluate_viewer(&plan, &facts, v);
    let tz = f.tz();
    let out = prompts::for_viewer(&plan, &facts, v, &eval, &tz);
    assert_eq!(out[1].status(), Status::Voided);
    assert!(!out[1].shown);
    assert_eq!(
        out[1].label(&f, &facts, &tz),
        "Не учитывается ни для кого: поправка от 12.04.2026"
    );
    assert_eq!(out[0].status(), Status::Confirmed);
}

#[test]
fn voiding_keeps_the_slack_so_whoever_confirmed_the_voided_prompt_keeps_credit() {
    // Three prompts, two required: one may be missed. Boris confirmed p1 and p2 and missed p3;
    // voiding p2 (which he had confirmed) leaves him 1 of 2 with 1 required.
    let mut f = forum();
    f.sessions[0].prompts = 3;
    let mut log = Log::default();
    log.doctor("boris", "рентгенология")
        .prompts("hall-1")
        .prompt(90.0, "p3", "hall-1")
        .connect(0.0, "boris", "c1", "hall-1")
        .confirm(21.0, "boris", "c1", "p1")
        .confirm(71.0, "boris", "c1", "p2")
        .disconnect(100.0, "c1");
    assert!(row(&log.run(&f), "boris", "s1").eligible);
    let after = judged(&f, &log, vec![void("s1", "p2")]);
    let r = row(&after, "boris", "s1");
    assert_eq!((r.confirmed, r.required, r.prompts), (1, 1, 2));
    assert!(r.eligible, "{:#?}", r.reasons);
}

#[test]
fn a_voided_prompt_does_not_pause_counting() {
    let mut f = forum();
    f.sessions[0].pause_on_missed = true;
    let log = outage_log();
    let before = row(&log.run(&f), "anna", "s1").minutes;
    assert_eq!(before, 70, "paused from p2 at minute 70 to the end");
    let after = judged(&f, &log, vec![void("s1", "p2")]);
    assert_eq!(row(&after, "anna", "s1").minutes, 100);
}

#[test]
fn an_excluded_range_is_not_counted_and_the_minimum_shrinks_by_it() {
    // 90 minutes required. Clara lost the stream from 09:40 to 09:55 and came back: 85 minutes.
    let mut f = forum();
    f.sessions[0].min_minutes = 90;
    f.sessions[0].prompts_required = 1;
    let mut log = Log::default();
    log.doctor("clara", "рентгенология")
        .prompts("hall-1")
        .prompt(45.0, "p-outage", "hall-1")
        .connect(0.0, "clara", "c1", "hall-1")
        .confirm(21.0, "clara", "c1", "p1")
        .disconnect(40.0, "c1")
        .connect(55.0, "clara", "c2", "hall-1")
        .confirm(71.0, "clara", "c2", "p2")
        .disconnect(100.0, "c2");
    let before = row(&log.run(&f), "clara", "s1").clone();
    assert_eq!((before.minutes, before.eligible), (85, false));

    let after = judged(&f, &log, vec![exclude("s1", 40, 55)]);
    let r = row(&after, "clara", "s1");
    assert!(r.eligible, "{:#?}", r.reasons);
    assert_eq!(r.minutes, 85);
    assert_eq!(r.reasons[0].text, "Засчитано 85 из 75 мин");
    assert_eq!(
        r.reasons.last().unwrap().text,
        "Поправка от 12.04.2026: время 09:40–09:55 не засчитывается, окна подтверждения в нём \
         не учитываются — причина: Трансляция прервалась"
    );
    // The prompt fired during the outage does not count (it is voided), so the requirement
    // drops with it: 2 confirmed of 2 shown, 0 required.
    assert_eq!((r.confirmed, r.shown, r.required), (2, 2, 0));
}

#[test]
fn an_excluded_range_over_a_sponsor_break_takes_its_minutes_off_once() {
    let mut f = forum();
    f.sessions[0].excluded = vec![crate::domain::time::Span::new(at(40), at(50))];
    let facts = Facts::default();
    let plan = Plan::with(&f, &facts, with(vec![exclude("s1", 45, 55)]));
    // Only 50..55 was counted before: the minimum loses 5 minutes, not 10.
    assert_eq!(plan.sessions[0].min_ms, 55 * MINUTE);
}

#[test]
fn a_correction_of_another_session_changes_nothing_here() {
    let log = outage_log();
    let f = forum();
    let facts = Facts::build(&log.0);
    let plain = Plan::new(&f, &facts);
    let other = Plan::with(
        &f,
        &facts,
        with(vec![void("s2", "p2"), exclude("s2", 0, 50)]),
    );
    assert_eq!(
        plain.sessions[0].counted_parts,
        other.sessions[0].counted_parts
    );
    assert_eq!(
        log.run(&f).verdicts,
        judged(&f, &log, vec![void("s2", "p2"), exclude("s2", 0, 50)]).verdicts
    );
}

#[test]
fn corrections_are_worded_in_the_order_they_were_recorded() {
    let log = outage_log();
    let mut later = void("s1", "p2");
    later.at += 24 * 60 * MINUTE;
    let r = judged(&forum(), &log, vec![later, exclude("s1", 0, 5)]);
    let notes: Vec<&str> = row(&r, "anna", "s1").reasons[3..]
        .iter()
        .map(|r| r.text.split(":").next().unwrap())
        .collect();
    assert_eq!(notes, ["Поправка от 12.04.2026", "Поправка от 13.04.2026"]);
}
