//! The running server: store, writer, broker, hub, prompter and HTTP, wired together.
//!
//! `App::build` does all the fallible start-up (database, forum, schedules, binding the port)
//! so that tests can start the real server on port 0, read its port, and drive its prompter;
//! `run_until_stopped` serves until the shutdown future resolves, then closes every socket,
//! records the disconnects and drains the writer before returning.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::api::{AppState, router};
use crate::clock::Clock;
use crate::domain::forum::Forum;
use crate::domain::forum::catalogue::Catalogue;
use crate::runtime::{Forums, Running};
use crate::settings::Settings;
use crate::store::Store;

pub struct App {
    listener: TcpListener,
    state: AppState,
    /// Russian lines about sessions whose configuration changed after they were frozen.
    pub notices: Vec<String>,
}

/// The process-wide Prometheus recorder (a process can install only one; tests build many apps).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            handle
        })
        .clone()
}

impl App {
    pub async fn build(
        settings: Settings,
        forum: Forum,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<App> {
        let store = Store::connect_with(&settings.store.url, &settings.store.options())
            .await
            .with_context(|| "не удалось открыть базу данных (store.url / DATABASE_URL)")?;
        let report = store.sync_forum(&forum, clock.now()).await?;
        for line in &report.ignored_changes {
            tracing::warn!("{line}");
        }
        if !report.newly_frozen.is_empty() {
            tracing::info!(sessions = ?report.newly_frozen, "session rules frozen");
        }
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("не удалось занять адрес {address}"))?;
        let port = listener.local_addr()?.port();
        let public_url = settings.public_url(port);
        // Mail settings are checked before any forum starts, so a mistake is named as such.
        crate::mail::Mailer::new(
            store.clone(),
            Arc::new(report.effective.clone()),
            clock.clone(),
            settings.mail.clone(),
            public_url.clone(),
        )
        .context("настройки почты ([mail])")?;
        let settings = Arc::new(settings);
        let forums = Forums::new(
            store.clone(),
            clock.clone(),
            settings.clone(),
            public_url.clone(),
        );
        // The configuration file's forum is served as before, whatever its state; every other
        // stored forum open for registration, live or finished runs beside it.
        let Running {
            forum,
            hub,
            prompter,
            mailer,
            writer: writer_status,
        } = forums.start_forum(Arc::new(report.effective)).await?;
        forums.start_stored().await?;
        let throttles = Arc::new(crate::api::throttle::Throttles::new(&settings.limits));
        // Made by the first node to start, then shared (a page one node served vouches for a
        // socket on another).
        let evidence_key = crate::api::evidence::EvidenceKey::new(
            &store
                .secret("evidence", &crate::ids::random_hex(32))
                .await?,
        );
        let state = AppState {
            forum,
            catalogue: Arc::new(Catalogue::shipped()),
            store,
            writer: writer_status,
            hub,
            prompter,
            clock,
            settings,
            metrics: metrics_handle(),
            public_url,
            codes_lock: Arc::new(tokio::sync::Mutex::new(())),
            mailer,
            throttles,
            evidence_key,
            forums,
        };
        Ok(App {
            listener,
            state,
            notices: report.ignored_changes,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves; every forum's prompter ticks every half second of real
    /// time.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let App {
            listener, state, ..
        } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let forums = state.forums.clone();
        forums.serve();
        let grace = Duration::from_secs(state.settings.server.shutdown_grace_secs);
        let app = router(state.clone());
        let limits = crate::http::Limits::new(&state.settings.server);
        tracing::info!(max_connections = limits.max_connections, "serving HTTP");
        let server_task = tokio::spawn(crate::http::serve(listener, app, limits, stop_rx.clone()));
        let sweeper = tokio::spawn(sweep_throttles(state.clone(), stop_rx.clone()));
        shutdown.await;
        tracing::info!("shutting down: closing viewer connections");
        let _ = stop_tx.send(true);
        // Websockets are long-lived: the HTTP server waits for them, so close them first.
        forums.close_sockets().await;
        if tokio::time::timeout(grace, server_task).await.is_err() {
            tracing::warn!("HTTP connections did not finish within the grace period");
        }
        let _ = sweeper.await;
        // The writers end once every handle (the hubs', the state's) is gone.
        drop(state);
        forums.drain(grace).await;
        Ok(())
    }
}

/// Forgets throttled addresses and logins every minute, so their maps stay small.
async fn sweep_throttles(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = every.tick() => {
                state.throttles.sweep();
                metrics::gauge!("yavka_throttle_keys").set(state.throttles.keys() as f64);
            }
        }
    }
}
