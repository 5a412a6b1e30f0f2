//! The day's viewer figures per hall and minute (`hall_minutes`), for the dashboard's chart.
//!
//! Each node writes its own live figures once a minute (see `hub/history.rs`); a read sums the
//! nodes, so the chart shows the cluster as the live figures do. Reads are a range scan of the
//! primary key: at most 1,440 minutes × halls × nodes rows for a day, whatever the audience.

use sqlx::Row;

use super::{Store, StoreResult};
use crate::domain::time::Millis;

/// One hall's figures on one node at the start of a minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallMinute {
    pub hall: String,
    pub viewers: i64,
    pub connections: i64,
}

/// One hall's figures in one minute, summed over the nodes that wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Unix ms of the minute's start.
    pub minute: Millis,
    pub hall: String,
    pub viewers: i64,
    pub connections: i64,
    /// How many nodes wrote a row for this minute and hall.
    pub nodes: i64,
}

impl Store {
    /// Records one node's figures for `minute` (its start, Unix ms); writing the same minute
    /// again replaces that node's figures, so a retried write never counts twice.
    pub async fn record_hall_minute(
        &self,
        forum: &str,
        node: &str,
        minute: Millis,
        halls: &[HallMinute],
    ) -> StoreResult<()> {
        if halls.is_empty() {
            return Ok(());
        }
        // One statement for all halls: atomic without a transaction, one round trip.
        let tuples: Vec<String> = (0..halls.len())
            .map(|i| {
                let p = i * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO hall_minutes (forum, minute, hall, node, viewers, connections) \
             VALUES {} ON CONFLICT (forum, minute, hall, node) DO UPDATE SET \
             viewers = excluded.viewers, connections = excluded.connections",
            tuples.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for h in halls {
            query = query
                .bind(forum)
                .bind(minute)
                .bind(&h.hall)
                .bind(node)
                .bind(h.viewers)
                .bind(h.connections);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// The cluster's figures per minute and hall for minutes in `[from, to)`, oldest first.
    pub async fn hall_history(
        &self,
        forum: &str,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<HistoryRow>> {
        // CAST: Postgres sums BIGINT into NUMERIC, which the Any driver cannot read.
        let rows = sqlx::query(
            "SELECT minute, hall, CAST(SUM(viewers) AS BIGINT), CAST(SUM(connections) AS BIGINT), \
             CAST(COUNT(*) AS BIGINT) FROM hall_minutes \
             WHERE forum = $1 AND minute >= $2 AND minute < $3 \
             GROUP BY minute, hall ORDER BY minute, hall",
        )
        .bind(forum)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryRow {
                    minute: r.try_get(0)?,
                    hall: r.try_get(1)?,
                    viewers: r.try_get(2)?,
                    connections: r.try_get(3)?,
                    nodes: r.try_get(4)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}
