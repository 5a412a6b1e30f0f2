//! The real server on port 0 with a manual clock, and typed helpers for what a viewer and an
//! organiser do with it: register, connect, confirm, sign in, read results.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yavka::api::AppState;
use yavka::api::auth::hash_password;
use yavka::app::App;
use yavka::clock::{Clock, ManualClock};
use yavka::domain::forum::Forum;
use yavka::domain::time::{MINUTE, Millis, parse_rfc3339};
use yavka::settings::Settings;

// The forum a `TestApp` runs unless told otherwise, named where the server is.
#[allow(unused_imports)]
pub use super::forum::{TEST_FORUM, test_forum};
use super::smtp::SmtpSink;

/// 2026-04-01T10:00+03:00 plus `minutes`.
pub fn at(minutes: i64) -> Millis {
    parse_rfc3339("2026-04-01T10:00:00+03:00").unwrap() + minutes * MINUTE
}

pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub clock: ManualClock,
    pub state: AppState,
    /// Carries the organiser's cookie once signed in.
    pub http: reqwest::Client,
    /// Every letter the server sends arrives here; viewers' links come from it.
    pub mail: SmtpSink,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn test_settings(db_url: &str) -> Settings {
    let mut s = Settings::default();
    s.server.port = 0;
    s.server.shutdown_grace_secs = 5;
    s.store.url = db_url.to_owned();
    s.writer.max_delay_ms = 20;
    // Letters go out at once: a registration's link arrives in milliseconds.
    s.mail.poll_ms = 50;
    s.mail.per_second = 1000;
    s.mail.timeout_secs = 5;
    // Registration's answer floor would only slow every story down (its own test sets it).
    s.registration.answer_floor_ms = 0;
    // Every story comes from 127.0.0.1: per-address throttles are tested on their own
    // (tests/hostile.rs) and would only trip stories that register many people.
    let off = yavka::settings::Rate {
        per_minute: 0,
        burst: 0,
    };
    s.limits.register_per_address = off;
    s.limits.resend_per_address = off;
    s
}

impl TestApp {
    pub async fn spawn(db_url: &str) -> TestApp {
        Self::spawn_with(test_settings(db_url), test_forum(), at(-5)).await
    }

    /// Starts the server with its own SMTP sink (`settings.mail`'s host and port are set to
    /// it, unless a test left `smtp_host` empty to see mail unconfigured; tests make outages
    /// with [`SmtpSink::go_down`]).
    pub async fn spawn_with(settings: Settings, forum: Forum, now: Millis) -> TestApp {
        Self::spawn_mailing(settings, forum, now, None).await
    }

    /// A node of a cluster beside others on one database: as [`TestApp::spawn_with`], but
    /// mailing through `smtp_port` (the first node's sink), so any node's mail worker may send
    /// a letter and the test finds it in one place.
    pub async fn spawn_node(
        settings: Settings,
        forum: Forum,
        now: Millis,
        smtp_port: u16,
    ) -> TestApp {
        Self::spawn_mailing(settings, forum, now, Some(smtp_port)).await
    }

    async fn spawn_mailing(
        mut settings: Settings,
        forum: Forum,
        now: Millis,
        smtp_port: Option<u16>,
    ) -> TestApp {
        let mail = SmtpSink::start().await;
        if !settings.mail.smtp_host.is_empty() {
            settings.mail.smtp_host = "127.0.0.1".into();
            settings.mail.smtp_port = smtp_port.unwrap_or(mail.port);
        }
        let clock = ManualClock::new(now);
        let app = App::build(settings, forum, Arc::new(clock.clone()) as Arc<dyn Clock>)
            .await
            .expect("the app starts");
        let port = app.port();
        let state = app.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            port,
            clock,
            state,
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            mail,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the server the way Ctrl-C does and waits for it to finish.
    pub async fn stop(self) {
        let TestApp {
            state, stop, task, ..
        } = self;
        // The event writer drains and ends once every handle to the app is gone: ours too.
        let store = state.store.clone();
        drop(state);
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(task) = task {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("the server stops in time")
                .expect("the server task did not panic")
                .expect("the server stopped cleanly");
        }
        store.close().await;
    }

    /// Sends a request and reads a JSON answer (`null` when the body is not JSON).
    async fn json(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let r = request.send().await.expect("request sent");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.json(self.http.post(self.url(path)).json(&body)).await
    }

    /// Plain text (`text/plain`), as the dashboard sends a code pool.
    pub async fn post_text(&self, path: &str, body: &str) -> (u16, Value) {
        self.post_typed(path, "text/plain; charset=utf-8", body.as_bytes())
            .await
    }

    /// A CSV file (`text/csv`), as the dashboard sends a viewer import.
    pub async fn post_csv(&self, path: &str, body: &str) -> (u16, Value) {
        self.post_typed(path, "text/csv", body.as_bytes()).await
    }

    /// Any body with the given content type.
    pub async fn post_typed(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        let request = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body.to_owned());
        self.json(request).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.json(self.http.get(self.url(path))).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    /// A registration form as the page sends it: a doctor (рентгенология) accepting the
    /// current versions of the consent texts.
    pub async fn registration_form(&self, name: &str, email: &str) -> Value {
        let (status, texts) = self.get("/api/texts").await;
        assert_eq!(status, 200, "{texts}");
        let version = |kind: &str| {
            texts["texts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["kind"] == kind)
                .map(|t| t["version"].clone())
                .unwrap()
        };
        json!({
            "name": name, "email": email, "phone": "+7 916 123-45-67",
            "education": "higher", "specialty": "рентгенология",
            "consent_personal_data": true, "consent_terms": true,
            "consent_personal_data_version": version("personal-data"),
            "consent_terms_version": version("terms"),
        })
    }

    /// Registers a doctor (рентгенология) and returns (viewer id, token), the token taken from
    /// the letter the registration sends, as the doctor would.
    pub async fn register(&self, name: &str, email: &str) -> (String, String) {
        let before = self.mail.letters_to(email).len();
        let form = self.registration_form(name, email).await;
        let (status, body) = self.post("/api/register", form).await;
        assert_eq!(status, 202, "registration: {body}");
        let token = self.mail.token_for(email, before + 1).await;
        let (status, me) = self.get(&format!("/api/me?token={token}")).await;
        assert_eq!(status, 200, "the mailed link works: {me}");
        (me["id"].as_str().unwrap().to_owned(), token)
    }

    /// Creates an organiser account (as the CLI does) and signs this client in.
    pub async fn sign_in_organiser(&self) {
        let hash = hash_password("организатор-пароль").unwrap();
        self.state
            .store
            .insert_organiser("admin", &hash, self.clock.now())
            .await
            .unwrap();
        self.sign_in().await;
    }

    /// Signs this client in as the organiser [`TestApp::sign_in_organiser`] made (on this
    /// server or on another node sharing its database).
    pub async fn sign_in(&self) {
        let (status, body) = self
            .post(
                "/api/org/login",
                json!({"login": "admin", "password": "организатор-пароль"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    pub async fn connect(&self, token: &str, hall: &str) -> Viewer {
        Viewer::open(self.port, token, hall).await
    }

    /// A person registers and opens the player in `hall`: their id, token and welcomed tab.
    pub async fn join(&self, name: &str, email: &str, hall: &str) -> (String, String, Viewer) {
        let (id, token) = self.register(name, email).await;
        let mut tab = self.connect(&token, hall).await;
        assert_eq!(tab.expect("welcome").await["hall"]["id"], hall);
        (id, token, tab)
    }

    /// Fires every planned prompt due at `t` after moving the clock there.
    pub async fn tick_at(&self, t: Millis) -> Vec<String> {
        self.clock.set(t);
        self.state.prompter.tick().await
    }

    /// Planned prompts of a session, in time order.
    pub fn planned(&self, session: &str) -> Vec<Millis> {
        self.state
            .prompter
            .upcoming(1000)
            .into_iter()
            .filter(|p| p.session == session)
            .map(|p| p.at)
            .collect()
    }

    /// Polls the stored log until `check` holds (the writer commits within tens of ms).
    pub async fn wait_for_log(&self, check: impl Fn(&[yavka::domain::log::Event]) -> bool) {
        for _ in 0..200 {
            let events = self
                .state
                .store
                .events(&self.state.forum.id, None)
                .await
                .unwrap();
            if check(&events) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the stored log never satisfied the check");
    }
}

/// A viewer's websocket.
pub struct Viewer {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Viewer {
    /// Opens a viewer's websocket to the server on `port`.
    pub async fn open(port: u16, token: &str, hall: &str) -> Viewer {
        let url = format!("ws://127.0.0.1:{port}/ws?token={token}&hall={hall}");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        Viewer { ws }
    }

    /// The next message if one arrives within `ms` (pings are answered meanwhile).
    pub async fn within(&mut self, ms: u64) -> Option<Value> {
        loop {
            match tokio::time::timeout(Duration::from_millis(ms), self.ws.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(Message::Text(t)))) => {
                    return Some(serde_json::from_str(&t).expect("JSON"));
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    return Some(json!({"type": "__closed"}));
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
    /// The next JSON message (pings are answered by the library), within five seconds; a close
    /// is `{"type":"__closed","code":…,"reason":…}`.
    pub async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .expect("a message arrives in time");
            // A socket that ended without a close frame reads as closed with no code.
            let Some(Ok(msg)) = msg else {
                return json!({"type": "__closed", "code": null});
            };
            match msg {
                Message::Text(t) => return serde_json::from_str(&t).expect("JSON"),
                Message::Close(frame) => {
                    return json!({"type": "__closed", "code": frame.as_ref().map(|f| u16::from(f.code)), "reason": frame.map(|f| f.reason.to_string())});
                }
                _ => continue,
            }
        }
    }

    /// Skips messages until one of type `ty` arrives.
    pub async fn expect(&mut self, ty: &str) -> Value {
        for _ in 0..50 {
            let m = self.next().await;
            if m["type"] == ty {
                return m;
            }
            assert_ne!(m["type"], "__closed", "closed while waiting for {ty}: {m}");
        }
        panic!("no {ty} message");
    }

    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::text(v.to_string()))
            .await
            .expect("sent");
    }

    /// Waits for the next prompt and confirms it correctly.
    pub async fn answer(&mut self) {
        let prompt = self.expect("prompt").await;
        self.confirm(&prompt).await;
        assert_eq!(self.expect("confirmed").await["prompt"], prompt["id"]);
    }

    /// Answers a prompt message correctly.
    pub async fn confirm(&mut self, prompt: &Value) {
        let answer = prompt["challenge"]["ask"].clone();
        self.send(json!({"type": "confirm", "prompt": prompt["id"], "answer": answer}))
            .await;
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Read until the server's close frame so the close is processed before we go on.
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await
        {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    }
}
