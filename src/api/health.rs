//! Liveness, readiness and Prometheus metrics.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;

/// The process is up and serving HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Whether this node can record now. A balancer should stop sending viewers to a node that
/// cannot: 503 with the reason in Russian while the event writer's last commit failed, its
/// queue is full, or the store does not answer; 200 again as soon as they recover.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    // Every running forum has its own writer; the node is ready when all of them are.
    for (forum, status) in state.forums.all().into_iter().map(|r| (r.forum, r.writer)) {
        let writer = status.state();
        if let Some(reason) = writer.unready_reason() {
            tracing::warn!(
                forum = %forum.id,
                last_error = writer.last_error.as_deref().unwrap_or(""),
                failing_for = ?writer.failing_for,
                queued = writer.queued,
                held = writer.held,
                "readiness check: the node cannot record"
            );
            let figures =
                json!({"queued": writer.queued, "held": writer.held, "capacity": writer.capacity});
            return unavailable(reason, figures);
        }
    }
    let writer = state.writer.state();
    let figures =
        json!({"queued": writer.queued, "held": writer.held, "capacity": writer.capacity});
    let started = std::time::Instant::now();
    let timeout = Duration::from_millis(state.settings.store.ping_timeout_ms.max(1));
    let result = tokio::time::timeout(timeout, state.store.ping()).await;
    metrics::histogram!("yavka_store_ping_seconds").record(started.elapsed().as_secs_f64());
    match result {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "writer": figures})),
        ),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "readiness check: store unreachable");
            unavailable("База данных не отвечает.", figures)
        }
        Err(_) => {
            tracing::error!(
                ?timeout,
                "readiness check: the store did not answer in time"
            );
            unavailable("База данных не отвечает.", figures)
        }
    }
}

fn unavailable(reason: &str, figures: serde_json::Value) -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "reason": reason, "writer": figures})),
    )
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // Every running forum's writer, each under its forum's label.
    for running in state.forums.all() {
        running.writer.export_metrics(&running.forum.id);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
