//! The fast replay (interning in pieces on several threads, no sort when the log is already in
//! time order) against the replay as it was before (`replay_reference.rs`, kept for this): the
//! same facts, the same anomalies in the same order, the same verdicts, on random logs full of
//! ties, unknown and reused ids, and on a small crowd.

use proptest::prelude::*;

use super::facts::Facts;
use super::replay::Replay;
use super::story::{T0, forum};
use super::{replay_reference, verdicts};
use crate::domain::forum::Education;
use crate::domain::log::{Event, EventBody, Id, sort_events};
use crate::domain::sim::{Crowd, crowd_log};
use crate::domain::time::SECOND;

fn reference(events: &[Event]) -> Facts<'_> {
    replay_reference::Replay::new(events).run()
}

/// Fails the test (naming `what`) if the two replays differ in anything the rules read.
fn assert_same(what: &str, got: &Facts, want: &Facts) {
    assert_eq!(got.halls, want.halls, "{what}: halls");
    assert_eq!(got.prompts, want.prompts, "{what}: prompts");
    assert_eq!(got.anomalies, want.anomalies, "{what}: anomalies");
    assert_eq!(got.viewers, want.viewers, "{what}: viewers");
    let forum = forum();
    assert_eq!(
        verdicts(&forum, got),
        verdicts(&forum, want),
        "{what}: verdicts"
    );
}

/// Every way the fast replay can run: one piece, small pieces (several threads), and the log
/// sorted beforehand so the sort is skipped.
fn check(events: &[Event]) {
    let want = reference(events);
    for size in [1, 2, 5, 17, events.len().max(1)] {
        let got = Replay::in_pieces(events, size, None).run();
        assert_same(&format!("pieces of {size}"), &got, &want);
    }
    // Connections numbered for the whole log first, in one to eight partitions, on one to
    // three threads.
    for (size, threads, bits) in [(1, 1, 1), (5, 2, 2), (events.len().max(1), 3, 3)] {
        let got = Replay::in_pieces(events, size, Some((threads, bits))).run();
        let what = format!("numbered in {} partitions, pieces of {size}", 1 << bits);
        assert_same(&what, &got, &want);
    }
    assert_same("default", &Facts::build(events), &want);
    let mut sorted = events.to_vec();
    sort_events(&mut sorted);
    let want = reference(&sorted);
    for (size, numbering) in [(3, None), (sorted.len().max(1), None), (4, Some((2, 2)))] {
        let got = Replay::in_pieces(&sorted, size, numbering).run();
        assert_same(&format!("sorted, pieces of {size}"), &got, &want);
    }
}

/// Any event over a few ids and a few seconds: ties, unknown connections, reused ids, other
/// viewers' connections, prompts announced twice or never.
fn event() -> impl Strategy<Value = Event> {
    let id = |prefix: &'static str, n: u32| (0..n).prop_map(move |i| format!("{prefix}{i}"));
    let hall = prop_oneof![Just("hall-1".to_owned()), Just("hall-2".to_owned())];
    let body = prop_oneof![
        id("v", 4).prop_map(|viewer| EventBody::Viewer {
            name: format!("Имя {viewer}"),
            email: format!("{viewer}@example.org"),
            education: Education::Higher,
            specialty: "рентгенология".into(),
            viewer: viewer.into(),
        }),
        (id("v", 4), id("c", 6), hall.clone()).prop_map(|(viewer, conn, hall)| {
            EventBody::Connect {
                viewer: viewer.into(),
                conn: conn.into(),
                hall: hall.into(),
            }
        }),
        id("c", 7).prop_map(|conn| EventBody::Heartbeat { conn: conn.into() }),
        id("c", 7).prop_map(|conn| EventBody::Disconnect { conn: conn.into() }),
        (id("p", 4), hall, 0..200i64).prop_map(|(prompt, hall, s)| EventBody::Prompt {
            prompt: prompt.into(),
            hall: hall.into(),
            closes: T0 + s * 60 * SECOND,
        }),
        (id("v", 4), id("c", 6), id("p", 5)).prop_map(|(viewer, conn, prompt)| {
            EventBody::Confirm {
                viewer: viewer.into(),
                conn: conn.into(),
                prompt: prompt.into(),
            }
        }),
        (id("v", 4), id("c", 6), id("p", 5)).prop_map(|(viewer, conn, prompt)| {
            EventBody::WrongAnswer {
                viewer: viewer.into(),
                conn: conn.into(),
                prompt: prompt.into(),
            }
        }),
    ];
    (0..40i64, body).prop_map(|(minute, body)| Event::new(T0 + minute * 5 * 60 * SECOND, body))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_fast_replay_gives_the_facts_of_the_old_one(
        events in prop::collection::vec(event(), 0..80)
    ) {
        check(&events);
    }
}

#[test]
fn a_crowd_in_time_order_replays_as_before() {
    let crowd = Crowd {
        viewers: 300,
        connections: 8,
        diligence: 80,
        seed: 7,
    };
    let mut events = crowd_log(&forum(), &crowd);
    assert!(events.len() > 3_000, "{}", events.len());
    let want = reference(&events);
    assert_same(
        "generation order",
        &Replay::in_pieces(&events, 1_000, None).run(),
        &want,
    );
    sort_events(&mut events);
    let want = reference(&events);
    assert_same(
        "time order",
        &Replay::in_pieces(&events, 999, None).run(),
        &want,
    );
    for bits in [1, 4, 10] {
        assert_same(
            &format!("time order, numbered in {} partitions", 1 << bits),
            &Replay::in_pieces(&events, 999, Some((2, bits))).run(),
            &want,
        );
    }
    assert_same("one piece", &Facts::build(&events), &want);
}

#[test]
fn ids_too_long_to_hold_inline_replay_as_before() {
    // Ids of up to 23 bytes are interned as inline keys, longer ones through their strings;
    // a log mixing both, where a long id shares its first 23 bytes with a short one and with
    // another long one, replays as the old replay did.
    let crowd = Crowd {
        viewers: 40,
        connections: 6,
        diligence: 80,
        seed: 3,
    };
    let stretch = |id: &mut Id, n: usize| {
        if n.is_multiple_of(3) {
            id.push_str(&"-tab-of-a-long-browser-session".repeat(1 + n % 2));
        } else if n % 3 == 1 {
            *id = format!("{:x<23}{n}", id).into();
        }
    };
    let mut events = crowd_log(&forum(), &crowd);
    for (n, e) in events.iter_mut().enumerate() {
        match &mut e.body {
            EventBody::Connect { conn, .. }
            | EventBody::Heartbeat { conn }
            | EventBody::Disconnect { conn }
            | EventBody::Confirm { conn, .. }
            | EventBody::WrongAnswer { conn, .. } => stretch(conn, conn.len() + n % 2),
            _ => {}
        }
    }
    assert!(events.iter().any(|e| matches!(&e.body,
        EventBody::Connect { conn, .. } if conn.len() > 23)));
    check(&events);
}
