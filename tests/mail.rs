//! E-mail, on SQLite and on Postgres, against an SMTP server the tests start: personal links
//! before the forum, certificates after it, one letter per click however often it is clicked,
//! an explicit resend, retries through temporary refusals, and an outage that ends in
//! `failed` with the error in the delivery log while the server carries on.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use support::TestDb;
use support::server::{TestApp, at, test_forum, test_settings};
use support::smtp::{SmtpSink, dead_port};
use yavka::domain::log::EventBody;
use yavka::domain::time::SECOND;
use yavka::store::{NewLetter, Store};

/// An app whose mail goes to `port`: polled every 50 ms, no rate limit to wait out, retries
/// after 60 s and 120 s of the test's clock.
async fn app_mailing_to(db_url: &str, port: u16, max_attempts: u32) -> TestApp {
    let mut settings = test_settings(db_url);
    settings.mail.smtp_port = port;
    settings.mail.poll_ms = 50;
    settings.mail.per_second = 1000;
    settings.mail.max_attempts = max_attempts;
    settings.mail.retry_base_secs = 60;
    settings.mail.timeout_secs = 5;
    settings.mail.from = "Форум <forum@example.org>".into();
    let app = TestApp::spawn_with(settings, test_forum(), at(-60)).await;
    app.sign_in_organiser().await;
    app
}

/// The delivery log, filtered by a query string.
async fn log(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/api/org/mail/log?{query}")).await;
    assert_eq!(status, 200, "{body}");
    body["rows"].as_array().unwrap().clone()
}

/// Polls the delivery log until `check` holds (five seconds at most).
async fn wait_log(app: &TestApp, what: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let rows = log(app, "").await;
        if check(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the delivery log never showed {what}: {:?}",
        log(app, "").await
    );
}

fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("a personal link") + "token=".len();
    text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

// ---- 1. Personal links ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_links_reach_every_viewer_once_and_resend_is_explicit() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let sink = SmtpSink::start().await;
        let app = app_mailing_to(&db.url, sink.port, 5).await;
        let (anna, anna_token) = app
            .register("Иванова Анна Сергеевна", "anna@example.org")
            .await;
        let (petr, _) = app
            .register("Петров Пётр Петрович", "petr@example.org")
            .await;

        let (status, body) = app.post("/api/org/mail/links", json!({})).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(
            (body["recipients"].as_u64(), body["queued"].as_u64()),
            (Some(2), Some(2))
        );
        let letters = sink.wait_for(2).await;
        let to: BTreeSet<&str> = letters.iter().map(|l| l.to[0].as_str()).collect();
        assert_eq!(to, BTreeSet::from(["anna@example.org", "petr@example.org"]));
        let to_anna = letters
            .iter()
            .find(|l| l.to[0] == "anna@example.org")
            .unwrap();
        assert!(
            to_anna.subject().contains("Тестовый форум"),
            "{}",
            to_anna.subject()
        );
        let text = to_anna.text();
        assert!(
            text.contains("Здравствуйте, Иванова Анна Сергеевна"),
            "{text}"
        );
        assert!(text.contains("Подтвердить участие"), "{text}");

        // The mailed link opens Anna's page, and the link she got at registration still does.
        let mailed = token_in(&text);
        for token in [&mailed, &anna_token] {
            let (status, me) = app.get(&format!("/api/me?token={token}")).await;
            assert_eq!(status, 200, "{backend}: {me}");
            assert_eq!(me["id"], anna.as_str());
        }

        // Both letters are logged as sent.
        let rows = wait_log(&app, "two sent letters", |rows| {
            rows.len() == 2 && rows.iter().all(|r| r["status"] == "sent")
        })
        .await;
        assert!(
            rows.iter().all(|r| r["sends"] == 1 && r["attempts"] == 1),
            "{rows:?}"
        );

        // A second click sends nothing.
        let (status, body) = app.post("/api/org/mail/links", json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["queued"], 0, "{backend}: {body}");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(sink.received().len(), 2, "{backend}: nothing sent twice");

        // Resend is explicit and sends exactly one more, to that viewer.
        let petr_letter = log(&app, &format!("viewer={petr}")).await;
        assert_eq!(petr_letter.len(), 1);
        let id = petr_letter[0]["id"].as_i64().unwrap();
        let (status, body) = app
            .post(&format!("/api/org/mail/{id}/resend"), json!({}))
            .await;
        assert_eq!(status, 200, "{backend}: {body}");
        let letters = sink.wait_for(3).await;
        assert_eq!(letters[2].to, ["petr@example.org"]);
        wait_log(&app, "the resent letter", |rows| {
            rows.iter()
                .any(|r| r["id"] == id && r["status"] == "sent" && r["sends"] == 2)
        })
        .await;

        // Bad input changes nothing.
        let (status, body) = app.post("/api/org/mail/999999/resend", json!({})).await;
        assert_eq!(status, 404, "{body}");
        let (status, body) = app.post("/api/org/mail/abc/resend", json!({})).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = app.get("/api/org/mail/log?status=lost").await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("статус"),
            "{body}"
        );

        // Revoking Anna's link revokes the mailed one too.
        let (status, _) = app
            .post(&format!("/api/org/viewers/{anna}/link"), json!({}))
            .await;
        assert_eq!(status, 200);
        let (status, _) = app.get(&format!("/api/me?token={mailed}")).await;
        assert_eq!(
            status, 401,
            "{backend}: the mailed link is revoked with the old one"
        );

        app.stop().await;
        db.drop().await;
    }
}

// ---- 2. Certificates -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_mailed_once_codes_are_issued() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let sink = SmtpSink::start().await;
        let app = app_mailing_to(&db.url, sink.port, 5).await;
        app.clock.set(at(-5));
        let (_, anna_token) = app
            .register("Иванова Анна Сергеевна", "anna@example.org")
            .await;
        let (_, petr_token) = app
            .register("Петров Пётр Петрович", "petr@example.org")
            .await;

        // Nothing to send before codes exist.
        let (status, body) = app.post("/api/org/mail/certificates", json!({})).await;
        assert_eq!(status, 409, "{backend}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("кодов"),
            "{body}"
        );

        // Anna watches s1 and confirms both prompts; Pyotr is not there.
        let mut tab = app.connect(&anna_token, "hall-1").await;
        tab.expect("welcome").await;
        for t in app.planned("s1") {
            app.tick_at(t).await;
            let prompt = tab.expect("prompt").await;
            tab.confirm(&prompt).await;
            tab.expect("confirmed").await;
        }
        app.clock.set(at(31));
        tab.close().await;
        app.wait_for_log(|ev| {
            ev.iter()
                .any(|e| matches!(e.body, EventBody::Disconnect { .. }))
        })
        .await;
        let (status, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
        assert_eq!(status, 200, "{issued}");
        let code = issued["codes"][0]["code"].as_str().unwrap().to_owned();

        let (status, body) = app.post("/api/org/mail/certificates", json!({})).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(
            (body["recipients"].as_u64(), body["queued"].as_u64()),
            (Some(1), Some(1))
        );
        let letters = sink.wait_for(1).await;
        assert_eq!(letters[0].to, ["anna@example.org"]);
        assert!(
            letters[0].text().contains(&code),
            "the codes are in the text too"
        );
        let pdf = letters[0]
            .attachment("application/pdf")
            .expect("the certificate is attached");
        let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
        assert!(text.contains(&code), "{backend}: {text}");
        assert!(text.contains("Иванова Анна Сергеевна"), "{text}");

        // Again: nothing new, since Anna's codes have not changed.
        let (_, body) = app.post("/api/org/mail/certificates", json!({})).await;
        assert_eq!(body["queued"], 0, "{backend}: {body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sink.received().len(), 1);
        let _ = petr_token;
        app.stop().await;
        db.drop().await;
    }
}

// ---- 3. Retries and an outage --------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_refusals_are_retried_until_the_letter_goes() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let sink = SmtpSink::start().await;
        sink.fail_next(2);
        let app = app_mailing_to(&db.url, sink.port, 5).await;
        app.register("Иванова Анна Сергеевна", "anna@example.org")
            .await;
        app.post("/api/org/mail/links", json!({})).await;

        let rows = wait_log(&app, "a first failed attempt", |r| {
            r.len() == 1 && r[0]["attempts"] == 1 && r[0]["status"] == "queued"
        })
        .await;
        assert!(
            rows[0]["last_error"].as_str().unwrap().contains("временно"),
            "{backend}: {rows:?}"
        );
        // Not before its time.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            sink.attempts(),
            1,
            "{backend}: the retry waits for the backoff"
        );
        app.clock.advance(60 * SECOND);
        // `attempts` counts at claim time: wait for the attempt's result, not its start.
        wait_log(&app, "a second failed attempt", |r| {
            r[0]["attempts"] == 2 && r[0]["status"] == "queued"
        })
        .await;
        app.clock.advance(120 * SECOND);
        let rows = wait_log(&app, "the letter sent", |r| r[0]["status"] == "sent").await;
        assert_eq!(rows[0]["attempts"], 3, "{rows:?}");
        assert_eq!(rows[0]["last_error"], Value::Null);
        assert_eq!(sink.received().len(), 1);
        app.stop().await;
        db.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_outage_ends_in_failed_with_the_error_and_nothing_crashes() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let app = app_mailing_to(&db.url, dead_port().await, 3).await;
        let (anna, anna_token) = app
            .register("Иванова Анна Сергеевна", "anna@example.org")
            .await;
        app.post("/api/org/mail/links", json!({})).await;
        wait_log(&app, "attempt 1", |r| {
            r[0]["attempts"] == 1 && r[0]["status"] == "queued"
        })
        .await;
        app.clock.advance(60 * SECOND);
        wait_log(&app, "attempt 2", |r| {
            r[0]["attempts"] == 2 && r[0]["status"] == "queued"
        })
        .await;
        app.clock.advance(120 * SECOND);
        let rows = wait_log(&app, "failed", |r| r[0]["status"] == "failed").await;
        assert_eq!(rows[0]["attempts"], 3, "{backend}: {rows:?}");
        let error = rows[0]["last_error"].as_str().unwrap();
        assert!(
            error.contains("не удалось связаться с SMTP-сервером"),
            "{backend}: {error}"
        );

        // The failed filter finds it; the server still serves; Anna's own link still works
        // (links minted for letters that never went are withdrawn).
        assert_eq!(log(&app, "status=failed&kind=link").await.len(), 1);
        assert_eq!(log(&app, "status=sent").await.len(), 0);
        let (status, _) = app.get("/healthz").await;
        assert_eq!(status, 200);
        let (status, me) = app.get(&format!("/api/me?token={anna_token}")).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["id"], anna.as_str());

        // A resend after the outage starts the count again.
        let id = rows[0]["id"].as_i64().unwrap();
        let (status, body) = app
            .post(&format!("/api/org/mail/{id}/resend"), json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        wait_log(&app, "a new first attempt", |r| r[0]["attempts"] == 1).await;
        app.stop().await;
        db.drop().await;
    }
}

// ---- 4. One letter, one worker -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_claim_the_same_letter() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let store = Store::connect(&db.url).await.unwrap();
        let letters: Vec<NewLetter> = (0..60)
            .map(|i| NewLetter {
                viewer: format!("v{i}"),
                kind: "link".into(),
                dedup: String::new(),
                email: format!("v{i}@example.org"),
            })
            .collect();
        assert_eq!(store.enqueue_mail("f", &letters, 1_000).await.unwrap(), 60);
        assert_eq!(store.enqueue_mail("f", &letters, 1_000).await.unwrap(), 0);
        let claim = |worker: &'static str| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_mail("f", worker, 2_000, 7).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|r| r.id));
                }
            })
        };
        let (a, b) = (claim("a"), claim("b"));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let all: BTreeSet<i64> = a.iter().chain(&b).copied().collect();
        assert_eq!(all.len(), 60, "{backend}: every letter claimed");
        assert_eq!(a.len() + b.len(), 60, "{backend}: none claimed twice");
        // Only the claiming worker can close a claim.
        let (owner, other, id) = match a.first() {
            Some(&id) => ("a", "b", id),
            None => ("b", "a", b[0]),
        };
        assert!(!store.mail_sent(id, other, 3_000).await.unwrap());
        assert!(store.mail_sent(id, owner, 3_000).await.unwrap());
        store.close().await;
        db.drop().await;
    }
}
