//! The HTTP API: viewers' registration and personal links, the websocket entry, the
//! organiser's JSON API, forums as versioned TOML (`forums.rs`), exports, certificates and
//! mail, the public code check, and health and metrics.
//!
//! Handlers are thin: they turn requests into domain calls and domain results into JSON.
//! Every error goes through [`error::ApiError`] and reaches the person in Russian, as JSON
//! under `/api/` (or, for a browser tab that opens an API address, as a Russian page:
//! [`error_page`]): handlers take their input through `extract` (axum's extractors answer in
//! English), and `guard::json_errors` catches what still answers otherwise. State-changing
//! requests from other sites are refused (`guard::same_origin`); sign-in, registration and
//! lost-link letters are throttled (`throttle`).
//! Every organiser endpoint declares the access it needs in [`organiser_routes`] and every
//! organiser action is recorded with [`audit::record`].

pub mod access;
mod accounts;
mod appeals;
pub mod audit;
pub mod auth;
mod case;
mod corrections;
mod csv_import;
mod decisions;
pub mod error;
mod error_page;
pub mod evidence;
pub mod extract;
mod flags;
mod forums;
mod guard;
mod health;
mod history;
mod mail;
mod me;
mod my_data;
mod organiser;
mod pages;
pub mod pick;
mod register;
mod reports;
mod results;
mod texts;
pub mod throttle;
mod verify;
pub mod viewers;
pub mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::trace::TraceLayer;

pub use access::{Access, Endpoint, OrgRoutes};

use crate::clock::Clock;
use crate::domain::forum::Forum;
use crate::domain::forum::catalogue::Catalogue;
use crate::domain::roles::Permission;
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
    /// Signs the player page's cookie and keys hashed addresses (`evidence`).
    pub evidence_key: evidence::EvidenceKey,
    /// Every forum this node runs; `forum`, `hub`, `prompter`, `mailer` and `writer` above are
    /// one of them: the configuration file's in the router's state, the request's forum in
    /// the state a handler gets through [`pick::Picked`].
    pub forums: crate::runtime::Forums,
}

impl AppState {
    /// This state's forum as it runs now. `forum` is a copy taken when the state was made —
    /// at start-up for the router's own, at the pick for a request's — and a save since then
    /// runs a new version in the forum's bundle (`runtime::Forums::refresh`). A handler that
    /// does not take [`pick::Picked`] reads its forum here; a forum no longer running here
    /// (archived since) keeps the copy.
    pub fn current_forum(&self) -> Arc<Forum> {
        self.forums
            .get(&self.forum.id)
            .map_or_else(|| self.forum.clone(), |r| r.forum)
    }
}

/// The organiser's API, each endpoint with the access it needs (see `access.rs`): adding an
/// endpoint means choosing its [`Access`] here, in the same line as its handler.
pub fn organiser_routes() -> OrgRoutes {
    use Access::{Needs, Public, SignedIn};
    use Permission::{Accounts, Answer, Audit, Manage, Operate, Setup, View};
    OrgRoutes::new("/api/org")
        .post("/login", Public, auth::login)
        .post("/logout", SignedIn, auth::logout)
        .get("/me", SignedIn, auth::whoami)
        .post("/password", SignedIn, accounts::change_own)
        .get("/forum", Needs(View), organiser::forum)
        .get("/stats", Needs(View), organiser::stats)
        .get("/history", Needs(View), history::day_history)
        .post("/prompts", Needs(Operate), organiser::fire_prompt)
        .get("/viewers", Needs(View), organiser::search_viewers)
        .post("/viewers/import", Needs(Manage), viewers::import_csv)
        .get("/viewers/{id}/evidence", Needs(View), results::evidence)
        .post("/viewers/{id}/link", Needs(Manage), organiser::reissue_link)
        .get("/results", Needs(View), results::session_results)
        .get("/results.csv", Needs(View), results::results_csv)
        .post("/codes/pool", Needs(Manage), results::import_pool)
        .post("/codes/issue", Needs(Manage), results::issue_codes)
        .get("/export.csv", Needs(View), reports::export_csv)
        .get("/export.xlsx", Needs(View), reports::export_xlsx)
        .get("/summary", Needs(View), reports::summary)
        .get(
            "/viewers/{id}/certificate.pdf",
            Needs(View),
            reports::certificate_pdf,
        )
        .get(
            "/viewers/{id}/report",
            Needs(View),
            reports::evidence_report,
        )
        .get("/mail/status", Needs(Manage), mail::status)
        .get("/mail/preview", Needs(Manage), mail::preview)
        .post("/mail/links", Needs(Manage), mail::send_links)
        .post("/mail/certificates", Needs(Manage), mail::send_certificates)
        .get("/mail/log", Needs(View), mail::log)
        .post("/mail/{id}/resend", Needs(Manage), mail::resend)
        .get("/texts", Needs(View), texts::for_organiser)
        .put("/texts/{kind}", Needs(Manage), texts::save)
        .get("/accounts", Needs(Accounts), accounts::list)
        .post("/accounts", Needs(Accounts), accounts::create)
        .post(
            "/accounts/{login}/role",
            Needs(Accounts),
            accounts::set_role,
        )
        .post(
            "/accounts/{login}/disable",
            Needs(Accounts),
            accounts::disable,
        )
        .post(
            "/accounts/{login}/enable",
            Needs(Accounts),
            accounts::enable,
        )
        .post(
            "/accounts/{login}/password",
            Needs(Accounts),
            accounts::reset_password,
        )
        .get("/corrections", Needs(View), corrections::list)
        .post("/corrections/preview", Needs(View), corrections::preview)
        .post("/corrections", Needs(Manage), corrections::save)
        .get("/appeals", Needs(View), appeals::queue)
        .post("/appeals/{id}/answer", Needs(Answer), appeals::answer)
        .get("/decisions", Needs(View), decisions::list)
        .get("/flags", Needs(View), flags::list)
        .post("/flags/{id}/review", Needs(Answer), flags::review)
        .post("/decisions", Needs(Manage), decisions::create)
        .get("/audit", Needs(Audit), audit::list)
        .get("/audit.csv", Needs(Audit), audit::csv)
        .get("/forums", Needs(View), forums::list)
        .post("/forums", Needs(Setup), forums::create)
        .post("/forums/check", Needs(Setup), forums::check)
        .post("/forums/{id}/copy", Needs(Setup), forums::copy)
        .get("/forums/{id}/versions/{n}/diff", Needs(View), forums::diff)
        .get("/forums/{id}", Needs(View), forums::toml)
        .put("/forums/{id}", Needs(Setup), forums::replace)
        .delete("/forums/{id}", Needs(Setup), forums::remove)
        .post("/forums/{id}/state", Needs(Setup), forums::set_state)
        .post(
            "/forums/{id}/personal-data/purge",
            Needs(Setup),
            forums::purge,
        )
        .get("/forums/{id}/versions", Needs(View), forums::versions)
        .get("/forums/{id}/versions/{n}", Needs(View), forums::version)
}

pub fn router(state: AppState) -> Router {
    let max_body = state.settings.server.max_body_bytes;
    let org = organiser_routes().into_router(state.clone());
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/ws", get(ws::upgrade))
        .route("/api/forum", get(viewers::programme))
        .route("/api/forums", get(forums::public_list))
        .route("/api/catalogue", get(viewers::catalogue))
        .route("/api/register", post(register::register))
        .route("/api/relink", post(register::relink))
        .route("/api/texts", get(texts::current))
        .route("/api/texts/{kind}", get(texts::one))
        .route("/api/me", get(viewers::me))
        .route("/api/me/certificate.pdf", get(reports::my_certificate))
        .route("/api/me/results", get(me::results))
        .route("/api/me/data", get(my_data::json))
        .route("/my/data", get(my_data::page))
        .route("/api/me/appeals", get(appeals::mine).post(appeals::file))
        .route("/api/me/appeals/{id}", post(appeals::edit))
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
        // The span names the path, not the query: a personal link's token travels in the
        // query, and the server's log records viewer ids, never what opens someone's account.
        .layer(TraceLayer::new_for_http().make_span_with(|r: &axum::extract::Request| {
            tracing::debug_span!("request", method = %r.method(), path = %r.uri().path())
        }))
        .with_state(state)
}
