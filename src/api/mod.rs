//! The HTTP API: viewers' registration and personal links, the websocket entry, the
//! organiser's JSON API, exports, certificates and mail, the public code check, and health
//! and metrics.
//!
//! Handlers are thin: they turn requests into domain calls and domain results into JSON.
//! Every error goes through [`error::ApiError`] and reaches the person in Russian, as JSON
//! under `/api/` (or, for a browser tab that opens an API address, as a Russian page:
//! [`error_page`]): handlers take their input through `extract` (axum's extractors answer in
//! English), and `guard::json_errors` catches what still answers otherwise. State-changing
//! requests from other sites are refused (`guard::same_origin`); sign-in, registration and
//! lost-link letters are throttled (`throttle`).

pub mod auth;
mod csv_import;
pub mod error;
mod error_page;
pub mod extract;
mod guard;
mod health;
mod history;
mod mail;
mod me;
mod organiser;
mod pages;
mod register;
mod reports;
mod results;
mod texts;
pub mod throttle;
mod verify;
pub mod viewers;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::domain::forum::Forum;
use crate::domain::forum::catalogue::Catalogue;
use crate::hub::Hub;
use crate::mail::Mailer;
use crate::prompter::Prompter;
use crate::settings::Settings;
use crate::store::{Store, WriterStatus};

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The forum as it runs: frozen sessions carry their frozen rules.
    pub forum: Arc<Forum>,
    pub catalogue: Arc<Catalogue>,
    pub store: Store,
    /// The event writer's health, for `/readyz` and `/metrics`.
    pub writer: WriterStatus,
    pub hub: Hub,
    pub prompter: Prompter,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub metrics: PrometheusHandle,
    /// Base of personal links, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// Code issuance and pool imports run one at a time on this node; the store's unique
    /// constraints guard across nodes.
    pub codes_lock: Arc<tokio::sync::Mutex<()>>,
    /// Queues letters; its worker is run by the app.
    pub mailer: Mailer,
    pub throttles: Arc<throttle::Throttles>,
}

pub fn router(state: AppState) -> Router {
    let max_body = state.settings.server.max_body_bytes;
    let org = Router::new()
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/me", get(auth::whoami))
        .route("/forum", get(organiser::forum))
        .route("/stats", get(organiser::stats))
        .route("/history", get(history::day_history))
        .route("/prompts", post(organiser::fire_prompt))
        .route("/viewers", get(organiser::search_viewers))
        .route("/viewers/import", post(viewers::import_csv))
        .route("/viewers/{id}/evidence", get(results::evidence))
        .route("/viewers/{id}/link", post(organiser::reissue_link))
        .route("/results", get(results::session_results))
        .route("/results.csv", get(results::results_csv))
        .route("/codes/pool", post(results::import_pool))
        .route("/codes/issue", post(results::issue_codes))
        .route("/export.csv", get(reports::export_csv))
        .route("/export.xlsx", get(reports::export_xlsx))
        .route("/summary", get(reports::summary))
        .route(
            "/viewers/{id}/certificate.pdf",
            get(reports::certificate_pdf),
        )
        .route("/viewers/{id}/report", get(reports::evidence_report))
        .route("/mail/status", get(mail::status))
        .route("/mail/preview", get(mail::preview))
        .route("/mail/links", post(mail::send_links))
        .route("/mail/certificates", post(mail::send_certificates))
        .route("/mail/log", get(mail::log))
        .route("/mail/{id}/resend", post(mail::resend))
        .route("/texts", get(texts::for_organiser))
        .route("/texts/{kind}", put(texts::save));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/ws", get(ws::upgrade))
        .route("/api/forum", get(viewers::programme))
        .route("/api/catalogue", get(viewers::catalogue))
        .route("/api/register", post(register::register))
        .route("/api/relink", post(register::relink))
        .route("/api/texts", get(texts::current))
        .route("/api/texts/{kind}", get(texts::one))
        .route("/api/me", get(viewers::me))
        .route("/api/me/certificate.pdf", get(reports::my_certificate))
        .route("/api/me/results", get(me::results))
        .route("/verify", get(verify::form))
        .route("/verify/{code}", get(verify::check))
        .nest("/api/org", org)
        .merge(pages::routes())
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(max_body))
        // Outermost last: a request is traced; its error is a Russian page if a browser tab
        // asked for it, else JSON; it is checked for its origin (a foreign page spends no one's
        // throttle), then throttled.
        .layer(from_fn_with_state(state.clone(), throttle::by_address))
        .layer(from_fn_with_state(state.clone(), guard::same_origin))
        .layer(from_fn_with_state(state.clone(), guard::json_errors))
        .layer(axum::middleware::from_fn(error_page::html_errors))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
