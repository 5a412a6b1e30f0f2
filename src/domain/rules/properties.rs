//! Properties the verdicts must keep whatever the log looks like:
//! - reordering the log's lines never changes a verdict;
//! - splitting a connection into two with no gap never changes a verdict;
//! - events entirely outside a session never change that session's verdicts;
//! - each prompt's status agrees with the verdict it belongs to;
//! - a correction never changes a session it does not name, and never withdraws credit.

use proptest::prelude::*;

use super::story::{T0, forum};
use super::{Facts, Plan, Status, Verdict, evaluate, evaluate_viewer, prompts};
use crate::domain::forum::{Education, Forum};
use crate::domain::log::{Event, EventBody};
use crate::domain::time::{MINUTE, Millis, SECOND};

/// Hall 1: `s1` (minutes 0–100, a break at 40–50) and `s3` (100–160, pausing on missed
/// prompts); hall 2: `s2` (0–100, pausing).
fn test_forum() -> Forum {
    let mut f = forum();
    f.sessions[0].excluded = vec![crate::domain::time::Span::new(
        T0 + 40 * MINUTE,
        T0 + 50 * MINUTE,
    )];
    f.sessions[1].pause_on_missed = true;
    let mut s3 = super::story::session("s3", "hall-1", 100, 160);
    s3.pause_on_missed = true;
    f.sessions.push(s3);
    f
}

const HALLS: [&str; 2] = ["hall-1", "hall-2"];

#[derive(Debug, Clone)]
struct ConnPlan {
    hall: usize,
    start_s: i64,
    len_s: i64,
    closed: bool,
    heartbeats: Vec<i64>,
}

#[derive(Debug, Clone)]
struct ConfirmPlan {
    conn: usize,
    prompt: usize,
    delay_s: i64,
    /// Wrong answers chosen just before the press (the limit is three).
    wrong: u8,
}

#[derive(Debug, Clone)]
struct ViewerPlan {
    conns: Vec<ConnPlan>,
    confirms: Vec<ConfirmPlan>,
}

fn conn_plan() -> impl Strategy<Value = ConnPlan> {
    (
        0..2usize,
        -600..7_000i64,
        0..8_000i64,
        any::<bool>(),
        prop::collection::vec(0..8_000i64, 0..3),
    )
        .prop_map(|(hall, start_s, len_s, closed, heartbeats)| ConnPlan {
            hall,
            start_s,
            len_s,
            closed,
            heartbeats,
        })
}

fn viewer_plan() -> impl Strategy<Value = ViewerPlan> {
    (
        prop::collection::vec(conn_plan(), 1..5),
        prop::collection::vec((0..5usize, 0..10usize, -30..200i64, 0..5u8), 0..14),
    )
        .prop_map(|(conns, confirms)| ViewerPlan {
            confirms: confirms
                .into_iter()
                .filter(|(c, _, _, _)| *c < conns.len())
                .map(|(conn, prompt, delay_s, wrong)| ConfirmPlan {
                    conn,
                    prompt,
                    delay_s,
                    // Most presses come with no wrong answer.
                    wrong: wrong.saturating_sub(1),
                })
                .collect(),
            conns,
        })
}

/// Prompts: (hall, second of the forum).
fn prompts_plan() -> impl Strategy<Value = Vec<(usize, i64)>> {
    prop::collection::vec((0..2usize, 0..9_600i64), 0..10)
}

/// Builds a log whose instants are all distinct: second `s` of the story becomes
/// `s * 1000 + n` milliseconds for a unique small `n`, so line order carries no meaning.
fn build_log(viewers: &[ViewerPlan], prompts: &[(usize, i64)]) -> Vec<Event> {
    let mut n = 0;
    let mut at = |s: i64| {
        n += 1;
        assert!(n < 500);
        T0 + s * SECOND + n
    };
    let mut events = Vec::new();
    for (i, (hall, s)) in prompts.iter().enumerate() {
        let ts = at(*s);
        events.push(Event::new(
            ts,
            EventBody::Prompt {
                prompt: format!("p{i}").into(),
                hall: HALLS[*hall].into(),
                closes: ts + 2 * MINUTE,
            },
        ));
    }
    for (v, plan) in viewers.iter().enumerate() {
        let viewer = format!("v{v}");
        events.push(Event::new(
            at(-3_600),
            EventBody::Viewer {
                viewer: viewer.as_str().into(),
                name: viewer.clone(),
                email: format!("{viewer}@example.org"),
                education: if v % 3 == 2 {
                    Education::Secondary
                } else {
                    Education::Higher
                },
                specialty: "рентгенология".into(),
            },
        ));
        for (c, conn) in plan.conns.iter().enumerate() {
            let id = format!("v{v}c{c}");
            events.push(Event::new(
                at(conn.start_s),
                EventBody::Connect {
                    viewer: viewer.as_str().into(),
                    conn: id.as_str().into(),
                    hall: HALLS[conn.hall].into(),
                },
            ));
            for hb in &conn.heartbeats {
                if *hb < conn.len_s {
                    events.push(Event::new(
                        at(conn.start_s + hb),
                        EventBody::Heartbeat {
                            conn: id.as_str().into(),
                        },
                    ));
                }
            }
            if conn.closed {
                events.push(Event::new(
                    at(conn.start_s + conn.len_s),
                    EventBody::Disconnect {
                        conn: id.as_str().into(),
                    },
                ));
            }
        }
        for cf in &plan.confirms {
            let Some((hall, ps)) = prompts.get(cf.prompt) else {
                continue;
            };
            let press = ps + cf.delay_s;
            // Mostly press on a connection that is in the prompt's hall and open then, as a
            // real viewer would; the planned (often wrong) connection otherwise.
            let aimed = plan.conns.iter().rposition(|c| {
                c.hall == *hall && c.start_s <= press && press < c.start_s + c.len_s
            });
            let conn = if cf.delay_s % 4 != 0 {
                aimed.unwrap_or(cf.conn)
            } else {
                cf.conn
            };
            for k in (1..=i64::from(cf.wrong)).rev() {
                events.push(Event::new(
                    at(press - k),
                    EventBody::WrongAnswer {
                        viewer: viewer.as_str().into(),
                        conn: format!("v{v}c{conn}").into(),
                        prompt: format!("p{}", cf.prompt).into(),
                    },
                ));
            }
            events.push(Event::new(
                at(press),
                EventBody::Confirm {
                    viewer: viewer.as_str().into(),
                    conn: format!("v{v}c{conn}").into(),
                    prompt: format!("p{}", cf.prompt).into(),
                },
            ));
        }
    }
    events
}

fn scenario() -> impl Strategy<Value = Vec<Event>> {
    (prop::collection::vec(viewer_plan(), 1..4), prompts_plan())
        .prop_map(|(viewers, prompts)| build_log(&viewers, &prompts))
}

/// A correction of session `s{1,2,3}`: voiding prompt `p{n}`, or excluding a range of seconds.
fn correction() -> impl Strategy<Value = crate::domain::decisions::Correction> {
    use crate::domain::decisions::{Change, Correction};
    let change = prop_oneof![
        (0..10usize).prop_map(|n| Change::VoidPrompt {
            prompt: format!("p{n}")
        }),
        (0..9_600i64, 1..3_000i64).prop_map(|(from, len)| Change::Exclude {
            from: T0 + from * SECOND,
            to: T0 + (from + len) * SECOND,
        }),
    ];
    (1..4usize, change).prop_map(|(s, change)| Correction {
        session: format!("s{s}"),
        change,
        reason: "Сбой".into(),
        by: "admin".into(),
        at: T0 + 10_000 * SECOND,
    })
}

fn verdicts(events: &[Event]) -> Vec<Verdict> {
    evaluate(&test_forum(), events).verdicts
}

/// Splits connection `target` at instant `m`: it disconnects at `m`, a new connection opens at
/// `m` in the same hall, and every later event of the old one moves to the new one.
fn split(events: &[Event], target: &str, m: Millis) -> Vec<Event> {
    let mut out = Vec::with_capacity(events.len() + 2);
    let new_id = format!("{target}-b");
    let mut viewer_hall = None;
    for e in events {
        let mut e = e.clone();
        match &mut e.body {
            EventBody::Connect { viewer, conn, hall } if conn == target => {
                viewer_hall = Some((viewer.clone(), hall.clone()));
            }
            EventBody::Heartbeat { conn }
            | EventBody::Disconnect { conn }
            | EventBody::Confirm { conn, .. }
            | EventBody::WrongAnswer { conn, .. }
                if conn == target && e.ts > m =>
            {
                *conn = new_id.as_str().into();
            }
            _ => {}
        }
        out.push(e);
    }
    let (viewer, hall) = viewer_hall.expect("the target connection exists");
    out.push(Event::new(
        m,
        EventBody::Disconnect {
            conn: target.into(),
        },
    ));
    out.push(Event::new(
        m,
        EventBody::Connect {
            viewer,
            conn: new_id.into(),
            hall,
        },
    ));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn reordering_the_log_never_changes_a_verdict(
        (events, shuffled) in scenario().prop_flat_map(|e| (Just(e.clone()), Just(e).prop_shuffle()))
    ) {
        prop_assert_eq!(verdicts(&events), verdicts(&shuffled));
    }

    #[test]
    fn splitting_a_connection_without_a_gap_never_changes_a_verdict(
        events in scenario(), pick in any::<prop::sample::Index>(), at in 1..1000i64
    ) {
        let facts = Facts::build(&events);
        let conns: Vec<_> = facts.viewers.iter().flat_map(|v| v.conns.iter().map(move |c| (v, c))).collect();
        let (v, c) = conns[pick.index(conns.len())];
        prop_assume!(c.end - c.start > 2);
        // An instant strictly inside the connection's life, on a millisecond no event uses.
        let mut m = c.start + (c.end - c.start) * at / 1000;
        while events.iter().any(|e| e.ts == m) || m <= c.start { m += 1; }
        prop_assume!(m < c.end);
        // Splitting makes the second half the most recently opened connection; that changes
        // nothing only if no younger connection of the viewer is still alive at `m`.
        let younger_alive = v.conns.iter().any(|o| o.start > c.start && o.start <= m && o.end >= m);
        prop_assume!(!younger_alive);
        let before = verdicts(&events);
        let after = verdicts(&split(&events, c.id, m));
        prop_assert_eq!(before, after);
    }

    #[test]
    fn events_entirely_outside_a_session_never_change_its_verdict(
        events in scenario(),
        extra in prop::collection::vec((0..3usize, 0..2usize, any::<bool>(), 0..1800i64, 1..1800i64), 1..6),
        session_ix in 0..3usize,
    ) {
        let forum = test_forum();
        let s = &forum.sessions[session_ix];
        // The session reaches to the close of its last prompt.
        let reach_end = events.iter().filter_map(|e| match &e.body {
            EventBody::Prompt { hall, closes, .. } if *hall == s.hall && s.window().contains(e.ts) => Some(*closes),
            _ => None,
        }).fold(s.ends, Millis::max);
        let mut more = events.clone();
        for (i, (viewer, hall, before, offset_s, len_s)) in extra.into_iter().enumerate() {
            let (start, end) = if before {
                let end = s.starts - offset_s * SECOND - 1;
                (end - len_s * SECOND, end)
            } else {
                let start = reach_end + offset_s * SECOND + 1;
                (start, start + len_s * SECOND)
            };
            let conn = format!("extra{i}");
            let viewer = format!("v{viewer}");
            more.push(Event::new(start, EventBody::Connect { viewer: viewer.as_str().into(), conn: conn.as_str().into(), hall: HALLS[hall].into() }));
            let prompt = format!("extra-p{i}");
            let mid = (start + end) / 2;
            more.push(Event::new(mid - 1, EventBody::Prompt { prompt: prompt.as_str().into(), hall: HALLS[hall].into(), closes: mid.min(end) }));
            more.push(Event::new(mid, EventBody::Confirm { viewer: viewer.into(), conn: conn.as_str().into(), prompt: prompt.into() }));
            more.push(Event::new(end, EventBody::Disconnect { conn: conn.into() }));
        }
        let only = |v: Vec<Verdict>| v.into_iter().filter(|r| r.session == s.id).collect::<Vec<_>>();
        prop_assert_eq!(only(verdicts(&events)), only(evaluate(&forum, &more).verdicts));
    }

    #[test]
    fn each_prompt_status_agrees_with_its_verdict(events in scenario()) {
        let forum = test_forum();
        let facts = Facts::build(&events);
        let plan = Plan::new(&forum, &facts);
        let tz = forum.tz();
        for v in &facts.viewers {
            let eval = evaluate_viewer(&plan, &facts, v);
            let listed = prompts::for_viewer(&plan, &facts, v, &eval, &tz);
            for r in &eval.sessions {
                let count = |st: Status| r.prompts.iter().filter(|o| o.status() == st).count() as u32;
                prop_assert_eq!(r.confirmed, count(Status::Confirmed));
                prop_assert_eq!(r.shown, r.prompts.iter().filter(|o| o.shown).count() as u32);
                prop_assert_eq!(count(Status::Open) + count(Status::OutsideSession), 0);
                let pausing = forum.session(&r.session).unwrap().pause_on_missed;
                for o in &r.prompts {
                    let st = o.status();
                    if st != Status::Confirmed {
                        prop_assert_eq!(o.shown, st == Status::NotConfirmed, "{:?}", o);
                    }
                    if !pausing && st != Status::Confirmed {
                        // Shown means exactly: counted time in the hall during the window.
                        let p = &facts.prompts[o.prompt as usize];
                        let window = crate::domain::time::Span::new(p.ts, p.closes);
                        prop_assert_eq!(o.shown, r.counted.iter().any(|c| c.overlaps(&window)), "{:?}", o);
                    }
                    prop_assert!(listed.contains(o), "the evidence lists {:?} as the verdict has it", o);
                }
            }
        }
    }

    #[test]
    fn a_correction_never_changes_another_session_nor_withdraws_credit(
        events in scenario(),
        c in correction(),
    ) {
        let forum = test_forum();
        let before = verdicts(&events);
        let params = super::Params { corrections: vec![c.clone()].into(), ..super::Params::default() };
        let after = super::evaluate_with(&forum, &events, params).verdicts;
        let key = |v: &Verdict| (v.viewer.clone(), v.session.clone());
        let others = |v: &[Verdict]| v.iter().filter(|r| r.session != c.session).cloned().collect::<Vec<_>>();
        prop_assert_eq!(others(&before), others(&after));
        for b in before.iter().filter(|b| b.eligible) {
            let a = after.iter().find(|a| key(a) == key(b));
            prop_assert!(a.is_some_and(|a| a.eligible), "{:?} lost credit: {:?}", b, a);
        }
    }
}
