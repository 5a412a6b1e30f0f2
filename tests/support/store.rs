//! Stories told straight to the store: a fresh store on every backend, and the log's events
//! built in one line each.

use std::future::Future;

use yavka::domain::log::{Event, EventBody};
use yavka::store::Store;

use super::TestDb;

/// Runs `story` against a fresh store on every backend (SQLite, then Postgres).
pub async fn on_each_store<F, Fut>(story: F)
where
    F: Fn(Store, &'static str) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in TestDb::all().await {
        let store = Store::connect(&db.url)
            .await
            .unwrap_or_else(|e| panic!("{}: connect {}: {e}", db.backend, db.url));
        assert_eq!(store.is_postgres(), db.backend == "postgres");
        store.ping().await.unwrap();
        story(store.clone(), db.backend).await;
        store.close().await;
        db.drop().await;
    }
}

/// `viewer` opens connection `conn` in `hall`.
pub fn connect_to(ts: i64, viewer: &str, conn: &str, hall: &str) -> Event {
    Event::new(
        ts,
        EventBody::Connect {
            viewer: viewer.into(),
            conn: conn.into(),
            hall: hall.into(),
        },
    )
}

/// `viewer` opens connection `conn` in `hall-1`.
pub fn connect(ts: i64, viewer: &str, conn: &str) -> Event {
    connect_to(ts, viewer, conn, "hall-1")
}

pub fn heartbeat(ts: i64, conn: &str) -> Event {
    Event::new(ts, EventBody::Heartbeat { conn: conn.into() })
}

pub fn disconnect(ts: i64, conn: &str) -> Event {
    Event::new(ts, EventBody::Disconnect { conn: conn.into() })
}

/// Prompt `id` in `hall-1`, open for two minutes.
pub fn prompt(ts: i64, id: &str) -> Event {
    Event::new(
        ts,
        EventBody::Prompt {
            prompt: id.into(),
            hall: "hall-1".into(),
            closes: ts + 120_000,
        },
    )
}

pub fn confirm(ts: i64, viewer: &str, conn: &str, prompt: &str) -> Event {
    Event::new(
        ts,
        EventBody::Confirm {
            viewer: viewer.into(),
            conn: conn.into(),
            prompt: prompt.into(),
        },
    )
}

pub fn wrong_answer(ts: i64, viewer: &str, conn: &str, prompt: &str) -> Event {
    Event::new(
        ts,
        EventBody::WrongAnswer {
            viewer: viewer.into(),
            conn: conn.into(),
            prompt: prompt.into(),
        },
    )
}
