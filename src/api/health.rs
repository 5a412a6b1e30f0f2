//! Liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::AppState;

/// The process is up and serving HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The store answers; without it nothing can be recorded, so a balancer should stop sending
/// viewers here.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let started = std::time::Instant::now();
    let result = state.store.ping().await;
    metrics::histogram!("yavka_store_ping_seconds").record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "readiness check: store unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable")
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
