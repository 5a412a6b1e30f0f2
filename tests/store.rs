//! The store's stories, each told on SQLite and on Postgres: the attendance log and its
//! heartbeats, the batched writer, frozen rules, schedules and prompt claims, viewers,
//! organisers and НМО codes.

mod support;

use std::time::{Duration, Instant};

use support::TestDb;
use support::store::{confirm, connect, disconnect, heartbeat, on_each_store, prompt};
use yavka::domain::forum::{Education, Forum};
use yavka::domain::log::{Event, EventBody, sort_events};
use yavka::domain::registration::Registration;
use yavka::domain::rules::evaluate;
use yavka::domain::schedule::Seed;
use yavka::domain::sim::{Crowd, crowd_log};
use yavka::domain::time::{MINUTE, Span};
use yavka::store::{CodeRow, EventWriter, Store, StoreError, StoredSchedule, WriterConfig};

const FORUM: &str = "f1";

fn shipped_forum() -> Forum {
    support::forum::shipped()
}

fn profile(ts: i64, viewer: &str) -> Event {
    Event::new(
        ts,
        EventBody::Viewer {
            viewer: viewer.into(),
            name: format!("Участник {viewer}"),
            email: format!("{viewer}@example.org"),
            education: Education::Higher,
            specialty: "рентгенология".into(),
        },
    )
}

#[tokio::test]
async fn the_log_comes_back_in_the_rules_order() {
    on_each_store(|store, backend| async move {
        // Two servers' batches arrive out of time order; equal times keep arrival order.
        let first = vec![
            profile(5, "a"),
            connect(100, "a", "a1"),
            prompt(300, "p1"),
            confirm(310, "a", "a1", "p1"),
        ];
        let second = vec![
            connect(50, "b", "b1"),
            profile(5, "b"),
            disconnect(300, "b1"),
            heartbeat(400, "a1"),
        ];
        store.append(FORUM, &first).await.unwrap();
        store.append(FORUM, &second).await.unwrap();
        store
            .append("other-forum", &[profile(1, "z")])
            .await
            .unwrap();

        let mut expected: Vec<Event> = first.iter().chain(&second).cloned().collect();
        sort_events(&mut expected);
        assert_eq!(
            store.events(FORUM, None).await.unwrap(),
            expected,
            "{backend}"
        );

        let window = store
            .events(FORUM, Some(Span::new(100, 400)))
            .await
            .unwrap();
        let kinds: Vec<&str> = window.iter().map(|e| e.body.kind()).collect();
        assert_eq!(
            kinds,
            ["connect", "prompt", "disconnect", "confirm"],
            "{backend}: only ts in [100, 400)"
        );
        assert_eq!(
            store.prompts_since(FORUM, 300).await.unwrap(),
            vec![prompt(300, "p1")]
        );
        assert!(store.prompts_since(FORUM, 301).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn heartbeats_collapse_to_the_last_sign_of_life() {
    on_each_store(|store, backend| async move {
        let log = vec![
            connect(0, "a", "open"),
            heartbeat(10, "open"),
            heartbeat(30, "open"),
            heartbeat(20, "open"),
            connect(0, "a", "closed"),
            heartbeat(10, "closed"),
            disconnect(15, "closed"),
            heartbeat(25, "closed"),
            connect(40, "b", "quiet"),
        ];
        store.append(FORUM, &log).await.unwrap();
        let back = store.events(FORUM, None).await.unwrap();
        let beats: Vec<&Event> = back
            .iter()
            .filter(|e| matches!(e.body, EventBody::Heartbeat { .. }))
            .collect();
        assert_eq!(beats, vec![&heartbeat(30, "open")], "{backend}");
        assert_eq!(back.len(), 5, "{backend}: 4 rows and one heartbeat");
        // The range filter applies to the synthesized heartbeat too.
        let early = store.events(FORUM, Some(Span::new(0, 30))).await.unwrap();
        assert!(early.iter().all(|e| e.body.kind() != "heartbeat"));
    })
    .await;
}

#[tokio::test]
async fn a_stored_crowd_gets_the_same_verdicts() {
    let forum = shipped_forum();
    let crowd = Crowd {
        viewers: 40,
        connections: 6,
        diligence: 85,
        seed: 7,
    };
    let mut log = crowd_log(&forum, &crowd);
    // Extra heartbeats before each one the crowd has, as a live server would send.
    let extra: Vec<Event> = log
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Heartbeat { conn } => Some(heartbeat(e.ts - MINUTE, conn)),
            _ => None,
        })
        .collect();
    log.extend(extra);
    let expected = evaluate(&forum, &log).verdicts;
    assert!(
        expected.iter().any(|v| v.eligible),
        "the crowd earns something"
    );

    on_each_store(|store, backend| {
        let (log, expected, forum) = (log.clone(), expected.clone(), forum.clone());
        async move {
            store.append(&forum.id, &log).await.unwrap();
            let back = store.events(&forum.id, None).await.unwrap();
            let stored_beats = back.iter().filter(|e| e.body.kind() == "heartbeat").count();
            let logged_beats = log.iter().filter(|e| e.body.kind() == "heartbeat").count();
            assert!(
                stored_beats * 10 < logged_beats,
                "{backend}: {stored_beats}"
            );
            assert_eq!(evaluate(&forum, &back).verdicts, expected, "{backend}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_viewer_sees_only_their_own_events() {
    on_each_store(|store, backend| async move {
        let log = vec![
            profile(0, "a"),
            profile(0, "b"),
            connect(10, "a", "a1"),
            connect(10, "b", "b1"),
            prompt(20, "p1"),
            confirm(25, "a", "a1", "p1"),
            confirm(26, "b", "b1", "p1"),
            disconnect(30, "a1"),
            disconnect(31, "b1"),
            connect(40, "a", "a2"),
            heartbeat(50, "a2"),
            heartbeat(55, "b1"),
        ];
        store.append(FORUM, &log).await.unwrap();
        let mine = store.viewer_events(FORUM, "a").await.unwrap();
        assert_eq!(
            mine,
            vec![
                profile(0, "a"),
                connect(10, "a", "a1"),
                confirm(25, "a", "a1", "p1"),
                disconnect(30, "a1"),
                connect(40, "a", "a2"),
                heartbeat(50, "a2"),
            ],
            "{backend}"
        );
        // From 35 on: the first tab closed before, so it and its confirm are left out; the
        // second is still open at 45, so its connect from before stays.
        let since = store.viewer_events_since(FORUM, "a", 35).await.unwrap();
        let expected = vec![profile(0, "a"), connect(40, "a", "a2"), heartbeat(50, "a2")];
        assert_eq!(since, expected, "{backend}");
        let since = store.viewer_events_since(FORUM, "a", 45).await.unwrap();
        assert_eq!(since, expected, "{backend}");
        let since = store.viewer_events_since(FORUM, "a", 30).await.unwrap();
        assert_eq!(
            since.len(),
            5,
            "{backend}: the first tab is closed only at 30: {since:?}"
        );
        assert!(
            store
                .viewer_events(FORUM, "nobody")
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

fn writer_config(max_delay_ms: u64) -> WriterConfig {
    WriterConfig {
        queue: 1024,
        max_batch: 256,
        max_delay_ms,
        give_up_ms: 300,
        ..WriterConfig::default()
    }
}

#[tokio::test]
async fn the_writer_batches_and_a_durable_record_is_readable_at_once() {
    on_each_store(|store, backend| async move {
        let (writer, handle) = EventWriter::spawn(store.clone(), FORUM, writer_config(20));
        let n = 20_000;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..4 {
            let w = writer.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..n / 4 {
                    let ts = i64::from(i) * 4 + t;
                    let e = if i % 2 == 0 {
                        connect(ts, "v", &format!("c{t}-{i}"))
                    } else {
                        heartbeat(ts + 1, &format!("c{t}-{}", i - 1))
                    };
                    w.record(e).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let last = confirm(1_000_000, "v", "c0-0", "p1");
        writer.record_durable(last.clone()).await.unwrap();
        let elapsed = started.elapsed();
        eprintln!(
            "{backend}: writer committed {n} events in {elapsed:?} ({:.0} events/s)",
            f64::from(n) / elapsed.as_secs_f64()
        );
        let back = store.events(FORUM, None).await.unwrap();
        assert_eq!(
            back.last(),
            Some(&last),
            "{backend}: the acknowledged event is stored"
        );
        assert_eq!(back.len(), n as usize + 1, "{backend}");
        drop(writer);
        handle.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_writer_drains_its_queue_when_dropped() {
    on_each_store(|store, backend| async move {
        // A delay far longer than the test: only the drain can have written the events.
        let (writer, handle) = EventWriter::spawn(store.clone(), FORUM, writer_config(60_000));
        for i in 0..10 {
            writer.record(profile(i, &format!("v{i}"))).await.unwrap();
        }
        let started = Instant::now();
        drop(writer);
        handle.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "{backend}");
        assert_eq!(
            store.events(FORUM, None).await.unwrap().len(),
            10,
            "{backend}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_batch_is_reported_to_its_waiter() {
    on_each_store(|store, backend| async move {
        let (writer, handle) = EventWriter::spawn(store.clone(), FORUM, writer_config(5));
        store.close().await;
        let err = writer.record_durable(profile(1, "a")).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Unavailable(_)),
            "{backend}: {err}"
        );
        assert!(!writer.status().state().healthy, "{backend}");
        drop(writer);
        handle.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_retried_batch_is_stored_once() {
    on_each_store(|store, backend| async move {
        let batch = [
            connect(100, "a", "a1"),
            heartbeat(150, "a1"),
            confirm(160, "a", "a1", "p1"),
        ];
        assert!(
            store
                .write_batch(FORUM, "b-1", &batch, 1_000, None)
                .await
                .unwrap()
        );
        let once = store.events(FORUM, None).await.unwrap();
        assert_eq!(once.len(), 3, "{backend}: {once:?}");
        // The database committed but the answer was lost: the writer sends the same batch
        // again, and nothing is stored twice.
        let again = store.write_batch(FORUM, "b-1", &batch, 2_000, None).await;
        assert!(!again.unwrap(), "{backend}");
        assert_eq!(store.events(FORUM, None).await.unwrap(), once, "{backend}");
        // Markers older than the given time are pruned on the way.
        let later = [disconnect(200, "a1")];
        let pruning = store.write_batch(FORUM, "b-2", &later, 3_602_000, Some(1_500));
        assert!(pruning.await.unwrap(), "{backend}");
        let b1 = store.write_batch(FORUM, "b-1", std::iter::empty(), 3_603_000, None);
        assert!(b1.await.unwrap(), "{backend}: b-1's marker was pruned");
    })
    .await;
}

#[tokio::test]
async fn started_sessions_keep_their_frozen_rules() {
    on_each_store(|store, backend| async move {
        let forum = shipped_forum();
        let day1_hall1 = forum.session("day1-hall1").unwrap().clone();
        let now = day1_hall1.starts;

        let report = store.sync_forum(&forum, now - 1).await.unwrap();
        assert_eq!(
            report.newly_frozen,
            ["day1-hall2"],
            "{backend}: 09:00 has started"
        );
        let report = store.sync_forum(&forum, now).await.unwrap();
        assert_eq!(report.newly_frozen, ["day1-hall1"], "{backend}");
        assert!(report.ignored_changes.is_empty());
        assert_eq!(report.effective, forum);

        // The organiser edits a started session, a future one, and removes a started one.
        let mut edited = forum.clone();
        edited.sessions.retain(|s| s.id != "day1-hall2");
        for s in &mut edited.sessions {
            if s.id == "day1-hall1" || s.id == "day3-hall1" {
                s.min_minutes = 200;
            }
        }
        // Two nodes load the edit at once and must agree.
        let (a, b) = tokio::join!(
            store.sync_forum(&edited, now + MINUTE),
            store.sync_forum(&edited, now + MINUTE)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.effective, b.effective, "{backend}");
        assert!(a.newly_frozen.is_empty() && b.newly_frozen.is_empty());
        let eff = &a.effective;
        assert_eq!(
            eff.session("day1-hall1"),
            Some(&day1_hall1),
            "{backend}: frozen"
        );
        assert_eq!(
            eff.session("day3-hall1").unwrap().min_minutes,
            200,
            "not started"
        );
        assert_eq!(
            eff.session("day1-hall2"),
            forum.session("day1-hall2"),
            "{backend}: a removed started session stays"
        );
        assert_eq!(a.ignored_changes.len(), 3, "{:?}", a.ignored_changes);
        assert_eq!(
            a.ignored_changes[1],
            "Сессия «day1-hall1» уже началась: её правила заморожены, изменения в \
             конфигурации (min_minutes) не применяются"
        );
        assert!(
            a.ignored_changes[2].starts_with("Что можно сделать:")
                && a.ignored_changes[2].contains("новый id в разделе [forum]"),
            "the organiser is told what to do: {}",
            a.ignored_changes[2]
        );
    })
    .await;
}

#[tokio::test]
async fn the_first_schedule_wins() {
    on_each_store(|store, backend| async move {
        let first = StoredSchedule {
            session: "day1-hall1".into(),
            seed: Seed([1; 32]),
            times: vec![1_000, 2_000, 3_000],
        };
        let second = StoredSchedule {
            session: "day1-hall1".into(),
            seed: Seed([2; 32]),
            times: vec![5_000],
        };
        assert_eq!(
            store.schedule_or_insert(FORUM, &first).await.unwrap(),
            first
        );
        assert_eq!(
            store.schedule_or_insert(FORUM, &second).await.unwrap(),
            first,
            "{backend}"
        );
        // Another forum's session of the same name is its own.
        assert_eq!(
            store.schedule_or_insert("f2", &second).await.unwrap(),
            second
        );
    })
    .await;
}

#[tokio::test]
async fn a_planned_prompt_is_claimed_once() {
    on_each_store(|store, backend| async move {
        let claims: Vec<_> = (0..8)
            .map(|node| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .claim_planned_prompt(FORUM, "day1-hall1", 3, &format!("p-node{node}"))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut won = 0;
        for c in claims {
            won += usize::from(c.await.unwrap());
        }
        assert_eq!(won, 1, "{backend}");
        assert!(
            store
                .claim_planned_prompt(FORUM, "day1-hall1", 4, "x")
                .await
                .unwrap()
        );
    })
    .await;
}

fn registration(email: &str) -> Registration {
    Registration {
        name: "Иванова Анна Сергеевна".into(),
        email: email.into(),
        phone: "+79161234567".into(),
        education: Education::Higher,
        specialty: "рентгенология".into(),
        snils: Some("112-233-445 95".into()),
    }
}

#[tokio::test]
async fn viewers_register_once_per_email_and_links_can_be_reissued() {
    on_each_store(|store, backend| async move {
        let anna = store
            .insert_viewer(
                FORUM,
                "v1",
                &registration("anna@example.ru"),
                "hash-1",
                1_000,
            )
            .await
            .unwrap();
        assert_eq!(anna.email, "anna@example.ru");
        assert_eq!(anna.consent_at, 1_000);

        let again = store
            .insert_viewer(
                FORUM,
                "v2",
                &registration("ANNA@example.ru"),
                "hash-2",
                2_000,
            )
            .await
            .unwrap_err();
        match again {
            StoreError::Conflict(m) => assert!(m.contains("anna@example.ru"), "{m}"),
            other => panic!("{backend}: {other:?}"),
        }
        // The refused registration left nothing behind, not even its log event.
        assert_eq!(store.viewers(FORUM).await.unwrap(), vec![anna.clone()]);
        assert_eq!(
            store.viewer_events(FORUM, "v2").await.unwrap(),
            Vec::<Event>::new()
        );
        assert_eq!(store.viewer_events(FORUM, "v1").await.unwrap().len(), 1);
        // The same address in another forum is another registration.
        store
            .insert_viewer(
                "f2",
                "v1",
                &registration("anna@example.ru"),
                "hash-3",
                1_000,
            )
            .await
            .unwrap();

        assert_eq!(
            store.viewer_by_token_hash(FORUM, "hash-1").await.unwrap(),
            Some(anna.clone())
        );
        assert!(store.set_token_hash(FORUM, "v1", "hash-9").await.unwrap());
        assert_eq!(
            store.viewer_by_token_hash(FORUM, "hash-1").await.unwrap(),
            None
        );
        assert_eq!(
            store.viewer_by_token_hash(FORUM, "hash-9").await.unwrap(),
            Some(anna.clone())
        );
        assert!(
            !store
                .set_token_hash(FORUM, "nobody", "hash-8")
                .await
                .unwrap()
        );
        assert_eq!(store.viewer(FORUM, "v1").await.unwrap(), Some(anna));
        assert_eq!(store.viewer(FORUM, "v2").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn organisers_sign_in_until_their_session_expires() {
    on_each_store(|store, backend| async move {
        store
            .insert_organiser("admin", "argon-hash", 0)
            .await
            .unwrap();
        let dup = store
            .insert_organiser("admin", "other", 1)
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)), "{backend}: {dup}");
        assert_eq!(
            store
                .organiser_password_hash("admin")
                .await
                .unwrap()
                .as_deref(),
            Some("argon-hash")
        );
        assert_eq!(store.organiser_password_hash("nobody").await.unwrap(), None);

        store.insert_login("tok", "admin", 10_000).await.unwrap();
        assert_eq!(
            store
                .login_by_token_hash("tok", 9_999)
                .await
                .unwrap()
                .as_deref(),
            Some("admin")
        );
        assert_eq!(
            store.login_by_token_hash("tok", 10_000).await.unwrap(),
            None
        );
        store.delete_login("tok").await.unwrap();
        assert_eq!(store.login_by_token_hash("tok", 0).await.unwrap(), None);
    })
    .await;
}

fn pooled(code: &str, position: i64) -> CodeRow {
    CodeRow {
        session: "day1-hall1".into(),
        code: code.into(),
        viewer: None,
        pooled: true,
        position: Some(position),
        issued_at: None,
    }
}

fn issued(row: &CodeRow, viewer: &str, at: i64) -> CodeRow {
    CodeRow {
        viewer: Some(viewer.into()),
        issued_at: Some(at),
        ..row.clone()
    }
}

#[tokio::test]
async fn codes_are_saved_all_or_nothing() {
    on_each_store(|store, backend| async move {
        let pool = vec![pooled("AAAA1111BBBB", 0), pooled("CCCC2222DDDD", 1)];
        store.save_codes(FORUM, &pool).await.unwrap();
        let generated = CodeRow {
            session: "day1-hall2".into(),
            code: "GGGG0000GGGG".into(),
            viewer: Some("v1".into()),
            pooled: false,
            position: None,
            issued_at: Some(5),
        };
        store
            .save_codes(FORUM, &[issued(&pool[0], "v1", 5), generated.clone()])
            .await
            .unwrap();
        let expected = vec![issued(&pool[0], "v1", 5), pool[1].clone(), generated];
        assert_eq!(store.codes(FORUM).await.unwrap(), expected, "{backend}");

        // A run that would give v1 a second code of the session fails as a whole.
        let err = store
            .save_codes(
                FORUM,
                &[pooled("EEEE3333FFFF", 2), issued(&pool[1], "v1", 6)],
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend}: {err}");
        // So does one that reissues a code already given.
        let err = store
            .save_codes(FORUM, &[issued(&pool[0], "v2", 7)])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{backend}: {err}");
        assert_eq!(
            store.codes(FORUM).await.unwrap(),
            expected,
            "{backend}: unchanged"
        );
    })
    .await;
}

/// «Прислать ссылку ещё раз» from two server processes at once (two pools on one database):
/// the per-address limit is the store's, so exactly one request of a burst gets a letter.
#[tokio::test]
async fn the_link_letter_limit_holds_across_processes() {
    use yavka::store::LinkRequest;
    for db in TestDb::all().await {
        let (a, b) = (
            Store::connect(&db.url).await.unwrap(),
            Store::connect(&db.url).await.unwrap(),
        );
        a.insert_viewer(FORUM, "v1", &registration("anna@example.ru"), "h1", 1_000)
            .await
            .unwrap();
        let burst = |store: Store| async move {
            let mut out = Vec::new();
            for _ in 0..5 {
                out.push(
                    store
                        .request_link(FORUM, "Anna@Example.ru", 5_000, 10 * MINUTE)
                        .await
                        .unwrap(),
                );
            }
            out
        };
        let (x, y) = tokio::join!(burst(a.clone()), burst(b.clone()));
        let all: Vec<LinkRequest> = x.into_iter().chain(y).collect();
        let queued = all
            .iter()
            .filter(|r| **r == LinkRequest::Queued("v1".into()));
        assert_eq!(queued.count(), 1, "{}: {all:?}", db.backend);
        let limited = LinkRequest::Limited {
            retry_at: 5_000 + 10 * MINUTE,
        };
        assert_eq!(all.iter().filter(|r| **r == limited).count(), 9);
        // Past the interval an unknown address is answered (nothing to send), and limited next.
        let later = 5_000 + 10 * MINUTE;
        assert_eq!(
            b.request_link(FORUM, "nobody@example.ru", later, 10 * MINUTE)
                .await
                .unwrap(),
            LinkRequest::Unknown
        );
        assert!(matches!(
            a.request_link(FORUM, "nobody@example.ru", later + 1, 10 * MINUTE)
                .await
                .unwrap(),
            LinkRequest::Limited { .. }
        ));
        a.close().await;
        b.close().await;
        db.drop().await;
    }
}
