//! The reads that run for every new websocket must find a viewer's connections through
//! `events_by_conn`, which indexes connects and disconnects only: SQLite uses such a partial
//! index only when the query repeats its condition word for word, and without it these reads
//! walk the forum's log (found with EXPLAIN QUERY PLAN on a filled store: `events_by_ts`).

use sqlx::{AssertSqlSafe, Row};

use super::{LAST_SEEN, VIEWER_EVENTS};
use crate::store::Store;

/// SQLite's plan of `sql`, one line per step (`SEARCH d USING … INDEX events_by_conn (…)`).
async fn plan(store: &Store, sql: &str) -> Vec<String> {
    let rows = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
        .bind("forum")
        .bind("viewer-or-since")
        .bind(0_i64)
        .fetch_all(&store.pool)
        .await
        .expect("plan");
    rows.iter()
        .map(|r| r.try_get::<String, _>("detail").expect("detail"))
        .collect()
}

#[tokio::test]
async fn every_lookup_by_connection_uses_the_connection_index() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/plan.db", dir.path().display());
    let store = Store::connect(&url).await.unwrap();
    for (name, sql) in [
        ("LAST_SEEN", LAST_SEEN),
        ("VIEWER_EVENTS", VIEWER_EVENTS.as_str()),
    ] {
        let plan = plan(&store, sql).await;
        // f, d, x: a connection's first connect, its disconnect, in each query.
        let by_conn: Vec<&String> = plan
            .iter()
            .filter(|l| {
                ["SEARCH f ", "SEARCH d ", "SEARCH x "]
                    .iter()
                    .any(|a| l.starts_with(a))
            })
            .collect();
        assert!(!by_conn.is_empty(), "{name}: {plan:#?}");
        for line in by_conn {
            assert!(line.contains("events_by_conn"), "{name}: {plan:#?}");
        }
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN")),
            "{name}: {plan:#?}"
        );
    }
}
