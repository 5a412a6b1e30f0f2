//! The commission export's read of the whole log, told on SQLite and on Postgres: however the
//! log was written, whatever its ids hold, the export reads exactly the events every other
//! read of the store gives (`Store::events`), heartbeats folded and synthesized the same way.

mod support;

use support::store::{
    confirm, connect_to, disconnect, heartbeat, on_each_store, prompt, wrong_answer,
};
use yavka::domain::forum::{Education, Forum};
use yavka::domain::log::{Event, EventBody, Evidence, Hints, Input};
use yavka::domain::sim::{Crowd, crowd_log};
use yavka::store::Store;

fn shipped_forum() -> Forum {
    support::forum::shipped()
}

/// What the export reads and what every other read gives, for `forum`.
async fn both_reads(store: &Store, forum: &str) -> (Vec<Event>, Vec<Event>) {
    let read = store.export_input(forum).await.unwrap();
    let back = store.events(forum, None).await.unwrap();
    (read.events, back)
}

fn kinds(log: &[Event], kind: &str) -> usize {
    log.iter().filter(|e| e.body.kind() == kind).count()
}

#[tokio::test]
async fn the_export_reads_the_same_log_as_every_other_read() {
    // The export reads the whole log on connections of the backend's own (a big forum's
    // millions of rows); it must give exactly the events `events` gives.
    let forum = shipped_forum();
    let crowd = Crowd {
        viewers: 30,
        connections: 6,
        diligence: 85,
        seed: 11,
    };
    let log = crowd_log(&forum, &crowd);
    let (early, late) = log.split_at(log.len() / 2);
    let (early, late) = (early.to_vec(), late.to_vec());
    on_each_store(|store, backend| {
        let (forum, late, early) = (forum.clone(), late.clone(), early.clone());
        async move {
            // Appended out of order; the crowd leaves one connection in twenty unclosed, so
            // heartbeats come back synthesized and merged in.
            store.append(&forum.id, &late).await.unwrap();
            store.append(&forum.id, &early).await.unwrap();
            store
                .append("other-forum", &[profile(1, "z", "Z")])
                .await
                .unwrap();
            let (read, back) = both_reads(&store, &forum.id).await;
            assert_eq!(read.len(), back.len(), "{backend}");
            assert_eq!(read, back, "{backend}");
            assert!(
                kinds(&back, "viewer") == 30
                    && kinds(&back, "heartbeat") > 0
                    && kinds(&back, "confirm") > 0,
                "{backend}: every kind of row is read back"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_big_crowd_in_time_order_reads_back_whole() {
    // Enough rows that the export reads them in several ranges at once, stored in time
    // order as a live forum mostly writes them; rows of another forum with the same ids
    // are stored in between and must not leak in.
    let forum = shipped_forum();
    let crowd = Crowd {
        viewers: 150,
        connections: 8,
        diligence: 80,
        seed: 3,
    };
    let mut log = crowd_log(&forum, &crowd);
    yavka::domain::log::sort_events(&mut log);
    on_each_store(|store, backend| {
        let (forum, log) = (forum.clone(), log.clone());
        async move {
            for (n, part) in log.chunks(log.len() / 3 + 1).enumerate() {
                store.append(&forum.id, part).await.unwrap();
                store.append("other-forum", &part[..n + 5]).await.unwrap();
            }
            let (read, back) = both_reads(&store, &forum.id).await;
            assert!(read.len() > 3_000, "{backend}: {} events", read.len());
            assert_eq!(read, back, "{backend}");
            assert_eq!(kinds(&read, "viewer"), 150, "{backend}");
        }
    })
    .await;
}

#[tokio::test]
async fn awkward_ids_profiles_evidence_and_heartbeats_read_back_exactly() {
    // Ids as organisers and browsers may write them: separators of CSV and of Postgres'
    // COPY, quotes, backslashes, `\N`, line breaks, Cyrillic, emoji, an empty id; profile
    // data as JSON with quotes; evidence on connects and confirms, and none.
    let ids = [
        "a,b;c",
        "quote\"d'",
        "tab\there",
        "line\nbreak\r",
        "back\\slash\\N",
        "\\N",
        "Иванов Пётр",
        "🩺 врач",
        "",
    ];
    let mut log = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let t = 1_000 * n as i64;
        let conn = format!("{id}#c");
        log.push(profile(t, id, &format!("«{id}» \"д-р\" \\ {id}")));
        log.push(with(connect(t + 1, id, &conn), device(id)));
        log.push(heartbeat(t + 5, &conn));
        log.push(prompt(t + 5, &format!("p{id}")));
        // A confirm and a heartbeat at one instant: the heartbeat goes after the rows.
        log.push(with(
            confirm(t + 7, id, &conn, &format!("p{id}")),
            reaction(),
        ));
        log.push(heartbeat(t + 7, &conn));
        log.push(wrong_answer(t + 7, id, &conn, &format!("p{id}")));
        if n % 2 == 0 {
            log.push(disconnect(t + 9, &conn));
        }
    }
    // Heartbeats of connections the rules see differently: never connected; connected at
    // the instant of its last heartbeat; connected twice at the same first instant (two
    // heartbeats come back, as the store's own read gives); closed by a disconnect before
    // its connect, which does not count.
    log.push(heartbeat(50_000, "no-connect"));
    log.push(connect(50_000, "v", "same-instant"));
    log.push(heartbeat(50_000, "same-instant"));
    log.push(connect(50_010, "v", "twice"));
    log.push(connect(50_010, "w", "twice"));
    log.push(heartbeat(50_020, "twice"));
    log.push(disconnect(49_000, "early-close"));
    log.push(connect(50_030, "v", "early-close"));
    log.push(heartbeat(50_040, "early-close"));
    // Two heartbeats at one instant, their connections' ids in reverse byte order.
    for conn in ["zz", "Zz", "яя", "aa"] {
        log.push(connect(60_000, "v", conn));
        log.push(heartbeat(60_100, conn));
    }
    on_each_store(|store, backend| {
        let log = log.clone();
        async move {
            // Out of time order, in three appends, as several nodes' writers would.
            let (a, rest) = log.split_at(log.len() / 3);
            let (b, c) = rest.split_at(rest.len() / 2);
            for part in [c, a, b] {
                store.append("f-1", part).await.unwrap();
            }
            let (read, back) = both_reads(&store, "f-1").await;
            assert_eq!(read, back, "{backend}");
            let beats: Vec<(i64, &str)> = read
                .iter()
                .filter_map(|e| match &e.body {
                    EventBody::Heartbeat { conn } => Some((e.ts, conn.as_str())),
                    _ => None,
                })
                .collect();
            assert!(beats.contains(&(5_007, "\\N#c")), "{backend}: {beats:?}");
            assert_eq!(
                beats.iter().filter(|(_, c)| *c == "twice").count(),
                2,
                "{backend}"
            );
            assert!(
                !beats
                    .iter()
                    .any(|(_, c)| ["no-connect", "same-instant"].contains(c)),
                "{backend}: {beats:?}"
            );
            let viewer = read.iter().find_map(|e| match &e.body {
                EventBody::Viewer { viewer, name, .. } if viewer == "back\\slash\\N" => {
                    Some(name.clone())
                }
                _ => None,
            });
            assert_eq!(
                viewer.as_deref(),
                Some("«back\\slash\\N» \"д-р\" \\ back\\slash\\N"),
                "{backend}"
            );
            assert!(
                read.iter().filter(|e| e.evidence.is_some()).count() == 2 * ids.len(),
                "{backend}: the evidence of every connect and confirm is read back"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn an_empty_forum_exports_an_empty_log() {
    on_each_store(|store, backend| async move {
        let (read, back) = both_reads(&store, "nothing-yet").await;
        assert!(read.is_empty() && back.is_empty(), "{backend}");
        // Only another forum's rows and heartbeats in the store.
        store
            .append(
                "other",
                &[
                    connect(1, "v", "c"),
                    heartbeat(5, "c"),
                    profile(0, "v", "V"),
                ],
            )
            .await
            .unwrap();
        let (read, back) = both_reads(&store, "nothing-yet").await;
        assert!(read.is_empty() && back.is_empty(), "{backend}");
        let (read, back) = both_reads(&store, "other").await;
        assert_eq!((read.len(), &read), (3, &back), "{backend}");
    })
    .await;
}

/// A connect into a hall whose id has a separator and Cyrillic in it.
fn connect(ts: i64, viewer: &str, conn: &str) -> Event {
    connect_to(ts, viewer, conn, &format!("зал; {viewer}"))
}

fn profile(ts: i64, viewer: &str, name: &str) -> Event {
    Event::new(
        ts,
        EventBody::Viewer {
            viewer: viewer.into(),
            name: name.into(),
            email: format!("{viewer}@example.org"),
            education: Education::Secondary,
            specialty: "сестринское дело, \"общее\"".into(),
        },
    )
}

fn with(mut event: Event, evidence: Evidence) -> Event {
    event.evidence = Some(Box::new(evidence));
    event
}

fn device(id: &str) -> Evidence {
    Evidence {
        address: Some(format!("10.0.0.1 «{id}»")),
        browser: Some(format!("Mozilla/5.0 \"{id}\"")),
        page_loaded: Some(true),
        ..Evidence::default()
    }
}

fn reaction() -> Evidence {
    Evidence {
        reaction_ms: Some(1_234),
        hints: Some(Hints {
            trusted: true,
            input: Input::Pointer,
            visible: true,
            focused: false,
            rendered: true,
        }),
        ..Evidence::default()
    }
}
