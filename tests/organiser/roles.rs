//! Roles, accounts and the audit trail, on SQLite and on Postgres: every organiser endpoint
//! asked by an administrator, a moderator, an auditor and someone signed out; accounts created,
//! re-roled, disabled and re-keyed in the dashboard's API; every recorded action found in the
//! audit trail with who, when, from where and what, filtered, paged and downloaded as CSV.

use crate::on_every_backend;
use std::collections::BTreeSet;

use serde_json::{Value, json};
use yavka::api::organiser_routes;
use yavka::clock::Clock;
use yavka::domain::audit::{Action, Actor, NewEntry};
use yavka::domain::roles::Role;

use super::support::TestDb;
use super::support::server::TestApp;
use super::{close_all, play_s1, viewers_csv};

const ADMIN_PASSWORD: &str = "организатор-пароль";

/// One organiser's browser: its own cookie jar.
struct Org {
    http: reqwest::Client,
    base: String,
}

impl Org {
    fn new(app: &TestApp) -> Org {
        Org {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            base: app.base.clone(),
        }
    }

    /// A fresh browser signed in as `login`.
    async fn signed_in(app: &TestApp, login: &str, password: &str) -> Org {
        let org = Org::new(app);
        let (status, body) = org.sign_in(login, password).await;
        assert_eq!(status, 200, "{login} signs in: {body}");
        org
    }

    async fn sign_in(&self, login: &str, password: &str) -> (u16, Value) {
        self.send(
            "POST",
            "/api/org/login",
            Some(json!({ "login": login, "password": password })),
        )
        .await
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.expect("request sent");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(body)).await
    }
}

/// The administrator (signed in on `app.http` by `sign_in_organiser`) makes an account.
async fn create_account(app: &TestApp, login: &str, role: &str) -> String {
    let (status, body) = app
        .post("/api/org/accounts", json!({ "login": login, "role": role }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["role"], role, "{body}");
    body["password"].as_str().unwrap().to_owned()
}

/// Audit entries as the administrator reads them (newest first).
async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/api/org/audit?limit=200&{query}")).await;
    assert_eq!(status, 200, "{body}");
    body["entries"].as_array().unwrap().clone()
}

fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

// ---- 1. Every endpoint × every role ---------------------------------------------------------

/// Who may call each organiser endpoint: the policy, written out. A new endpoint fails the
/// test until it is added here, so its access is a decision someone made on purpose.
const POLICY: &[(&str, &str, &str)] = &[
    ("POST", "/api/org/login", "public"),
    ("POST", "/api/org/logout", "admin moderator auditor"),
    ("GET", "/api/org/me", "admin moderator auditor"),
    ("POST", "/api/org/password", "admin moderator auditor"),
    ("GET", "/api/org/forum", "admin moderator auditor"),
    ("GET", "/api/org/stats", "admin moderator auditor"),
    ("GET", "/api/org/history", "admin moderator auditor"),
    ("POST", "/api/org/prompts", "admin moderator"),
    ("GET", "/api/org/viewers", "admin moderator auditor"),
    ("POST", "/api/org/viewers/import", "admin"),
    (
        "GET",
        "/api/org/viewers/{id}/evidence",
        "admin moderator auditor",
    ),
    ("POST", "/api/org/viewers/{id}/link", "admin"),
    ("GET", "/api/org/results", "admin moderator auditor"),
    ("GET", "/api/org/results.csv", "admin moderator auditor"),
    ("POST", "/api/org/codes/pool", "admin"),
    ("POST", "/api/org/codes/issue", "admin"),
    ("GET", "/api/org/export.csv", "admin moderator auditor"),
    ("GET", "/api/org/export.xlsx", "admin moderator auditor"),
    ("GET", "/api/org/summary", "admin moderator auditor"),
    (
        "GET",
        "/api/org/viewers/{id}/certificate.pdf",
        "admin moderator auditor",
    ),
    (
        "GET",
        "/api/org/viewers/{id}/report",
        "admin moderator auditor",
    ),
    ("GET", "/api/org/appeals", "admin moderator auditor"),
    ("POST", "/api/org/appeals/{id}/answer", "admin moderator"),
    ("GET", "/api/org/decisions", "admin moderator auditor"),
    ("POST", "/api/org/decisions", "admin"),
    ("GET", "/api/org/flags", "admin moderator auditor"),
    ("POST", "/api/org/flags/{id}/review", "admin moderator"),
    ("GET", "/api/org/mail/status", "admin"),
    ("GET", "/api/org/mail/preview", "admin"),
    ("POST", "/api/org/mail/links", "admin"),
    ("POST", "/api/org/mail/certificates", "admin"),
    ("GET", "/api/org/mail/log", "admin moderator auditor"),
    ("POST", "/api/org/mail/{id}/resend", "admin"),
    ("GET", "/api/org/texts", "admin moderator auditor"),
    ("PUT", "/api/org/texts/{kind}", "admin"),
    ("GET", "/api/org/accounts", "admin"),
    ("POST", "/api/org/accounts", "admin"),
    ("POST", "/api/org/accounts/{login}/role", "admin"),
    ("POST", "/api/org/accounts/{login}/disable", "admin"),
    ("POST", "/api/org/accounts/{login}/enable", "admin"),
    ("POST", "/api/org/accounts/{login}/password", "admin"),
    ("GET", "/api/org/corrections", "admin moderator auditor"),
    (
        "POST",
        "/api/org/corrections/preview",
        "admin moderator auditor",
    ),
    ("POST", "/api/org/corrections", "admin"),
    ("GET", "/api/org/audit", "admin auditor"),
    ("GET", "/api/org/audit.csv", "admin auditor"),
    ("GET", "/api/org/forums", "admin moderator auditor"),
    ("POST", "/api/org/forums", "admin"),
    ("POST", "/api/org/forums/check", "admin"),
    ("POST", "/api/org/forums/{id}/copy", "admin"),
    (
        "GET",
        "/api/org/forums/{id}/versions/{n}/diff",
        "admin moderator auditor",
    ),
    ("GET", "/api/org/forums/{id}", "admin moderator auditor"),
    ("PUT", "/api/org/forums/{id}", "admin"),
    ("DELETE", "/api/org/forums/{id}", "admin"),
    ("POST", "/api/org/forums/{id}/state", "admin"),
    ("POST", "/api/org/forums/{id}/personal-data/purge", "admin"),
    (
        "GET",
        "/api/org/forums/{id}/versions",
        "admin moderator auditor",
    ),
    (
        "GET",
        "/api/org/forums/{id}/versions/{n}",
        "admin moderator auditor",
    ),
];

/// Whether the policy lets `caller` (`None`: signed out) call it.
fn policy_admits(who: &str, caller: Option<Role>) -> bool {
    who == "public" || caller.is_some_and(|r| who.split(' ').any(|w| w == r.code()))
}

#[test]
fn the_router_declares_exactly_the_policy() {
    let routes = organiser_routes();
    let declared: BTreeSet<(String, String)> = routes
        .endpoints()
        .iter()
        .map(|e| (e.method.to_string(), e.path.clone()))
        .collect();
    assert_eq!(
        declared.len(),
        routes.endpoints().len(),
        "an endpoint is declared twice"
    );
    let policy: BTreeSet<(String, String)> = POLICY
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let new: Vec<_> = declared.difference(&policy).collect();
    let gone: Vec<_> = policy.difference(&declared).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "endpoints without a line in POLICY: {new:?}; POLICY lines without an endpoint: {gone:?}"
    );
    for e in routes.endpoints() {
        let (_, _, who) = POLICY
            .iter()
            .find(|(m, p, _)| *m == e.method.as_str() && *p == e.path)
            .unwrap();
        for caller in [
            None,
            Some(Role::Admin),
            Some(Role::Moderator),
            Some(Role::Auditor),
        ] {
            assert_eq!(
                e.access.admits(caller),
                policy_admits(who, caller),
                "{} {} for {caller:?}: declared {:?}, policy «{who}»",
                e.method,
                e.path,
                e.access
            );
        }
    }
}

/// The path of an endpoint with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "v-nobody")
        .replace("{login}", "target")
        .replace("{kind}", "terms")
}

async fn every_endpoint_for_every_role(app: &TestApp, backend: &str) {
    let moderator_password = create_account(app, "moderator1", "moderator").await;
    let auditor_password = create_account(app, "auditor1", "auditor").await;
    create_account(app, "target", "auditor").await;
    let admin = Org::signed_in(app, "admin", ADMIN_PASSWORD).await;
    let callers = [
        (Some(Role::Admin), admin),
        (
            Some(Role::Moderator),
            Org::signed_in(app, "moderator1", &moderator_password).await,
        ),
        (
            Some(Role::Auditor),
            Org::signed_in(app, "auditor1", &auditor_password).await,
        ),
        (None, Org::new(app)),
    ];
    // Signing out ends the session the other rows need: it goes last.
    let mut endpoints = organiser_routes().endpoints().to_vec();
    endpoints.sort_by_key(|e| e.path.ends_with("/logout"));
    let mut refused = 0;
    for e in &endpoints {
        let path = concrete(&e.path);
        let body = (e.method != "GET").then(|| json!({}));
        for (role, org) in &callers {
            let (status, answer) = org.send(e.method.as_str(), &path, body.clone()).await;
            let who = format!("{backend}: {} {path} as {role:?}", e.method);
            if e.access.admits(*role) {
                assert!(
                    ![401, 403, 405, 500].contains(&status),
                    "{who}: allowed, yet {status} {answer}"
                );
            } else if role.is_none() {
                assert_eq!(status, 401, "{who}: {answer}");
            } else {
                assert_eq!(status, 403, "{who}: {answer}");
                assert!(
                    error(&answer).starts_with("Недостаточно прав: роль «"),
                    "{who}: {answer}"
                );
                refused += 1;
            }
        }
        if e.path.ends_with("/logout") {
            continue;
        }
        // Every refusal so far is in the audit trail (before anyone signs out).
        let denied = audit(app, "action=access_denied").await;
        assert_eq!(denied.len(), refused, "{backend}: after {}", e.path);
    }
    assert!(refused >= 25, "{backend}: {refused} refusals");
    let denied = audit(app, "action=access_denied&person=auditor1").await;
    let prompt = denied
        .iter()
        .find(|d| d["details"]["path"] == "/api/org/prompts")
        .unwrap_or_else(|| panic!("{backend}: {denied:?}"));
    assert_eq!(prompt["role"], "auditor", "{prompt}");
    assert_eq!(prompt["address"], "127.0.0.1", "{prompt}");
    assert_eq!(prompt["details"]["method"], "POST", "{prompt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_is_refused_where_it_must_be() {
    on_every_backend!(every_endpoint_for_every_role);
}

// ---- 2. Accounts --------------------------------------------------------------------------

async fn accounts_story(app: &TestApp, backend: &str) {
    // The administrator makes a moderator; the password is shown once, and it works.
    let password = create_account(app, "maria", "moderator").await;
    assert_eq!(password.len(), 20, "{backend}");
    let maria = Org::signed_in(app, "maria", &password).await;
    let (status, me) = maria.get("/api/org/me").await;
    assert_eq!(status, 200, "{backend}: {me}");
    assert_eq!(me["role"], "moderator", "{me}");
    assert_eq!(me["role_title"], "модератор", "{me}");
    assert_eq!(
        me["permissions"],
        json!(["view", "operate", "answer"]),
        "{me}"
    );
    let (status, _) = maria
        .post("/api/org/prompts", json!({ "hall": "hall-1" }))
        .await;
    assert_eq!(status, 200, "{backend}: a moderator fires a prompt");

    // Bad input changes nothing and says why.
    for (form, expected) in [
        (json!({ "login": "maria", "role": "auditor" }), 409),
        (json!({ "login": "two words", "role": "auditor" }), 400),
        (json!({ "login": "ivan", "role": "root" }), 400),
    ] {
        let (status, body) = app.post("/api/org/accounts", form.clone()).await;
        assert_eq!(status, expected, "{backend}: {form} → {body}");
        assert!(error(&body).starts_with(char::is_uppercase), "{body}");
    }
    let (_, list) = app.get("/api/org/accounts").await;
    let logins: Vec<&str> = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["admin", "maria"], "{backend}: {list}");
    assert_eq!(list["accounts"][0]["you"], true, "{list}");
    assert_eq!(list["accounts"][1]["sessions"], 1, "{list}");

    // A new role takes effect at her next request, in the same sign-in.
    let (status, body) = app
        .post("/api/org/accounts/maria/role", json!({ "role": "auditor" }))
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    let (status, body) = maria
        .post("/api/org/prompts", json!({ "hall": "hall-1" }))
        .await;
    assert_eq!(status, 403, "{backend}: {body}");
    assert_eq!(maria.get("/api/org/audit").await.0, 200, "{backend}");

    // Disabled: her sign-in ends at once, and she cannot sign in again.
    let (status, body) = app.post("/api/org/accounts/maria/disable", json!({})).await;
    assert_eq!(status, 200, "{backend}: {body}");
    assert_eq!(maria.get("/api/org/me").await.0, 401, "{backend}");
    let (status, body) = maria.sign_in("maria", &password).await;
    assert_eq!(status, 403, "{backend}: {body}");
    assert!(error(&body).contains("отключена"), "{body}");
    // A wrong password for a disabled account says only that it is wrong.
    let (status, _) = maria.sign_in("maria", "not-her-password").await;
    assert_eq!(status, 401, "{backend}");
    let (status, _) = app.post("/api/org/accounts/maria/enable", json!({})).await;
    assert_eq!(status, 200, "{backend}");
    let maria = Org::signed_in(app, "maria", &password).await;
    let phone = Org::signed_in(app, "maria", &password).await;

    // She changes her own password: the current one is required, this sign-in goes on, the
    // other (her phone) ends, and only the new password signs in.
    let (status, body) = maria
        .post(
            "/api/org/password",
            json!({ "current": "wrong", "new": "новый-пароль-1" }),
        )
        .await;
    assert_eq!(status, 422, "{backend}: {body}");
    assert_eq!(body["fields"][0]["field"], "current", "{body}");
    let (status, body) = maria
        .post(
            "/api/org/password",
            json!({ "current": password, "new": "short" }),
        )
        .await;
    assert_eq!(status, 422, "{backend}: {body}");
    assert_eq!(body["fields"][0]["field"], "new", "{body}");
    let (status, body) = maria
        .post(
            "/api/org/password",
            json!({ "current": password, "new": "новый-пароль-1" }),
        )
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    assert_eq!(body["sessions_ended"], 1, "{body}");
    assert_eq!(
        maria.get("/api/org/me").await.0,
        200,
        "{backend}: still signed in"
    );
    assert_eq!(
        phone.get("/api/org/me").await.0,
        401,
        "{backend}: the other ended"
    );
    assert_eq!(Org::new(app).sign_in("maria", &password).await.0, 401);
    let phone = Org::signed_in(app, "maria", "новый-пароль-1").await;

    // The administrator resets it: every sign-in of hers ends; the new password works.
    let (status, body) = app
        .post("/api/org/accounts/maria/password", json!({}))
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    let reset = body["password"].as_str().unwrap().to_owned();
    assert_eq!(maria.get("/api/org/me").await.0, 401, "{backend}");
    assert_eq!(phone.get("/api/org/me").await.0, 401, "{backend}");
    Org::signed_in(app, "maria", &reset).await;

    // Nobody locks the forum out: the only administrator keeps the role and the account.
    let (status, body) = app
        .post(
            "/api/org/accounts/admin/role",
            json!({ "role": "moderator" }),
        )
        .await;
    assert_eq!(status, 409, "{backend}: {body}");
    assert!(
        error(&body).contains("единственный действующий администратор"),
        "{body}"
    );
    let (status, body) = app.post("/api/org/accounts/admin/disable", json!({})).await;
    assert_eq!(status, 409, "{backend}: {body}");
    let (status, _) = app
        .post(
            "/api/org/accounts/nobody/role",
            json!({ "role": "auditor" }),
        )
        .await;
    assert_eq!(status, 404, "{backend}");
    // With a second administrator, the first may step down.
    app.post("/api/org/accounts/maria/role", json!({ "role": "admin" }))
        .await;
    let (status, body) = app
        .post("/api/org/accounts/admin/role", json!({ "role": "auditor" }))
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    assert_eq!(app.get("/api/org/accounts").await.0, 403, "{backend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_accounts_and_changes_apply_at_once() {
    on_every_backend!(accounts_story);
}

/// `yavka create-organiser LOGIN --role auditor` makes an auditor, and says so in the trail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_creates_accounts_with_a_role() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let app = TestApp::spawn(&db.url).await;
        app.sign_in_organiser().await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("forum.toml"), super::TEST_FORUM).unwrap();
        let out = super::support::process::run_ok(
            dir.path(),
            &db.url,
            &[
                "create-organiser",
                "olga",
                "--role",
                "auditor",
                "--settings",
                "absent.toml",
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let password = text
            .lines()
            .find_map(|l| l.to_lowercase().strip_prefix("пароль: ").map(str::to_owned))
            .unwrap_or_else(|| panic!("{backend}: no password in {text}"));
        let olga = Org::signed_in(&app, "olga", password.trim()).await;
        assert_eq!(
            olga.get("/api/org/me").await.1["role"],
            "auditor",
            "{backend}"
        );
        let created = audit(&app, "action=account_created").await;
        assert_eq!(created.len(), 1, "{backend}: {created:?}");
        assert_eq!(created[0]["actor"], "командная строка", "{backend}");
        assert_eq!(
            created[0]["details"],
            json!({ "login": "olga", "role": "auditor" })
        );
        let refused = super::support::process::yavka(dir.path(), &db.url, 0)
            .args([
                "create-organiser",
                "x",
                "--role",
                "root",
                "--settings",
                "absent.toml",
            ])
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{backend}");
        app.stop().await;
        db.drop().await;
    }
}

// ---- 3. The audit trail -----------------------------------------------------------------

/// The newest entry of `action`, checked to be by `actor`, from this machine, at `now`.
fn entry<'a>(entries: &'a [Value], action: &str, actor: &str, now: i64) -> &'a Value {
    let e = entries
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {entries:#?}"));
    assert_eq!(e["actor"], actor, "{e}");
    assert_eq!(e["address"], "127.0.0.1", "{e}");
    assert_eq!(e["at"], now, "{e}");
    assert_eq!(e["forum"], "test-forum", "{e}");
    let description = e["description"].as_str().unwrap();
    assert!(description.starts_with(char::is_uppercase), "{e}");
    assert!(
        e["action_title"].as_str().is_some_and(|t| !t.is_empty()),
        "{e}"
    );
    e
}

async fn every_action_is_recorded(app: &TestApp, backend: &str) {
    let now = app.clock.now();
    // Sign-ins, a failed one (with whatever was typed), a moderator's prompt.
    let moderator = create_account(app, "mod", "moderator").await;
    let mod_org = Org::signed_in(app, "mod", &moderator).await;
    let typed = "=HYPERLINK(\"http://evil.example\";\"x\")";
    assert_eq!(Org::new(app).sign_in(typed, "guess-1234").await.0, 401);
    let (status, fired) = mod_org
        .post("/api/org/prompts", json!({ "hall": "hall-2" }))
        .await;
    assert_eq!(status, 200, "{backend}: {fired}");

    // The administrator's actions on the forum's data.
    let (status, _) = app
        .post_csv(
            "/api/org/viewers/import",
            &viewers_csv(&["Петров Пётр;petr@example.org;89161234567;higher;рентгенология;"]),
        )
        .await;
    assert_eq!(status, 200, "{backend}");
    let (id, _, tab) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;
    let mut tabs = vec![tab];
    play_s1(app, &mut tabs, &[&[0, 1]]).await;
    close_all(app, tabs).await;
    let now_after = app.clock.now();
    assert_eq!(
        app.post_text("/api/org/codes/pool?session=s1", "ABCDEF123456")
            .await
            .0,
        200
    );
    let (status, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 200, "{backend}: {issued}");
    assert_eq!(
        app.post(&format!("/api/org/viewers/{id}/link"), json!({}))
            .await
            .0,
        200
    );
    let (status, sent) = app.post("/api/org/mail/links", json!({})).await;
    assert_eq!(status, 200, "{backend}: {sent}");
    // Anna's welcome letter went long ago (one still queued cannot be resent).
    let (_, log) = app.get("/api/org/mail/log?status=sent").await;
    let letter = log["rows"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&format!("/api/org/mail/{letter}/resend"), json!({}))
            .await
            .0,
        200
    );
    let (_, texts) = app.get("/api/org/texts").await;
    let terms = texts["texts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "terms")
        .unwrap()
        .clone();
    let edit = json!({
        "title": terms["title"],
        "body": format!("{}\n\nДополнение.", terms["body"].as_str().unwrap()),
        "base_version": terms["version"],
    });
    let r = app
        .http
        .put(format!("{}/api/org/texts/terms", app.base))
        .json(&edit)
        .send()
        .await
        .unwrap();
    let (status, saved) = (r.status().as_u16(), r.json::<Value>().await.unwrap());
    assert_eq!(status, 200, "{backend}: {saved}");
    // Accounts.
    app.post("/api/org/accounts/mod/role", json!({ "role": "auditor" }))
        .await;
    assert_eq!(
        mod_org
            .post("/api/org/prompts", json!({ "hall": "hall-2" }))
            .await
            .0,
        403
    );
    app.post("/api/org/accounts/mod/disable", json!({})).await;
    app.post("/api/org/accounts/mod/enable", json!({})).await;
    app.post("/api/org/accounts/mod/password", json!({})).await;
    let (status, _) = app
        .post(
            "/api/org/password",
            json!({ "current": ADMIN_PASSWORD, "new": "другой-пароль-2" }),
        )
        .await;
    assert_eq!(status, 200, "{backend}");

    let all = audit(app, "").await;
    let e = entry(&all, "sign_in", "mod", now);
    assert_eq!(e["role"], "moderator", "{e}");
    let e = entry(&all, "sign_in_failed", &typed[..typed.len()], now);
    assert_eq!(e["role"], Value::Null, "{e}");
    assert_eq!(e["details"]["reason"], "wrong_password", "{e}");
    let e = entry(&all, "prompt_fired", "mod", now);
    assert_eq!(e["details"]["hall"], "hall-2", "{e}");
    assert_eq!(e["details"]["prompt"], fired["id"], "{e}");
    assert!(
        e["description"].as_str().unwrap().contains("«Зал №2»"),
        "{e}"
    );
    let e = entry(&all, "viewers_imported", "admin", now);
    assert_eq!(
        (e["details"]["created"].as_i64(), e["role"].as_str()),
        (Some(1), Some("admin"))
    );
    let e = entry(&all, "codes_imported", "admin", now_after);
    assert_eq!(e["details"]["added"], 1, "{e}");
    let e = entry(&all, "codes_issued", "admin", now_after);
    assert_eq!(e["details"]["viewers"], json!([id]), "{e}");
    let e = entry(&all, "link_reissued", "admin", now_after);
    assert_eq!(e["details"]["viewer"], id.as_str(), "{e}");
    assert!(
        e["description"]
            .as_str()
            .unwrap()
            .contains("Иванова Анна Сергеевна"),
        "{e}"
    );
    let e = entry(&all, "letters_queued", "admin", now_after);
    assert_eq!(e["details"]["queued"], sent["queued"], "{e}");
    let e = entry(&all, "letter_resent", "admin", now_after);
    assert_eq!(e["details"]["letter"], letter, "{e}");
    let e = entry(&all, "text_changed", "admin", now_after);
    assert_eq!(
        (&e["details"]["before"], &e["details"]["after"]),
        (&terms["version"], &saved["version"]),
        "{e}"
    );
    let e = entry(&all, "account_created", "admin", now);
    assert_eq!(
        e["details"],
        json!({ "login": "mod", "role": "moderator" }),
        "{e}"
    );
    let e = entry(&all, "role_changed", "admin", now_after);
    assert_eq!(
        e["details"],
        json!({ "login": "mod", "before": "moderator", "after": "auditor" }),
        "{e}"
    );
    let e = entry(&all, "access_denied", "mod", now_after);
    assert_eq!(e["role"], "auditor", "{e}");
    let e = entry(&all, "account_disabled", "admin", now_after);
    assert_eq!(e["details"]["sessions_ended"], 1, "{e}");
    entry(&all, "account_enabled", "admin", now_after);
    entry(&all, "password_reset", "admin", now_after);
    let e = entry(&all, "password_changed", "admin", now_after);
    assert_eq!(e["details"]["sessions_ended"], 0, "{e}");
    // Newest first: the last action is on top.
    assert_eq!(all[0]["action"], "password_changed", "{backend}");
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{backend}: {ids:?}");

    // Signing out is recorded too.
    let (status, _) = mod_org.post("/api/org/logout", json!({})).await;
    assert_eq!(
        status, 401,
        "{backend}: her sign-in ended when she was disabled"
    );

    audit_filters(app, backend, &all, now, now_after).await;
    audit_csv(app, backend, typed).await;
}

async fn audit_filters(app: &TestApp, backend: &str, all: &[Value], before: i64, after: i64) {
    // By person, by action, by time; pages that follow each other.
    let by_mod = audit(app, "person=mod").await;
    assert!(
        by_mod.iter().all(|e| e["actor"] == "mod"),
        "{backend}: {by_mod:?}"
    );
    assert_eq!(
        by_mod.len(),
        3,
        "{backend}: sign-in, prompt, refusal: {by_mod:#?}"
    );
    let denied = audit(app, "action=access_denied").await;
    assert_eq!(denied.len(), 1, "{backend}");
    let (_, body) = app.get("/api/org/audit?action=access_denied").await;
    assert_eq!(body["total"], 1, "{body}");
    assert!(body["actions"].as_array().unwrap().len() >= 18, "{body}");
    assert_eq!(body["people"], json!(["admin", "mod"]), "{body}");
    // 10:00 Moscow time is `after`'s minute; before it only the first minutes' entries.
    let early = audit(app, &format!("to={}", "2026-04-01T09:56")).await;
    assert!(
        early.iter().all(|e| e["at"].as_i64() < Some(after)),
        "{backend}: {early:#?}"
    );
    assert_eq!(
        early.len(),
        all.iter().filter(|e| e["at"] == before).count(),
        "{backend}"
    );
    let day = audit(app, "from=2026-04-01&to=2026-04-01").await;
    assert_eq!(day.len(), all.len(), "{backend}: the whole day");
    assert!(audit(app, "from=2026-04-02").await.is_empty(), "{backend}");

    let (status, page1) = app.get("/api/org/audit?limit=2").await;
    assert_eq!(status, 200, "{page1}");
    assert_eq!(page1["entries"].as_array().unwrap().len(), 2);
    let next = page1["next"].as_i64().unwrap();
    let (_, page2) = app
        .get(&format!("/api/org/audit?limit=2&before={next}"))
        .await;
    assert_eq!(
        page2["entries"][0]["id"], all[2]["id"],
        "{backend}: {page2}"
    );
    assert_eq!(page2["total"], page1["total"], "{backend}");

    for (query, words) in [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("before=x", "before"),
        ("action=drop", "Действия «drop»"),
        ("from=вчера", "Время «вчера»"),
        ("from=2026-04-02&to=2026-04-01", "Начало периода"),
        ("from=2026-04-31", "Время «2026-04-31»"),
    ] {
        let (status, body) = app.get(&format!("/api/org/audit?{query}")).await;
        assert_eq!(status, 400, "{backend}: {query}: {body}");
        assert!(error(&body).contains(words), "{backend}: {query}: {body}");
    }
}

async fn audit_csv(app: &TestApp, backend: &str, typed: &str) {
    let r = app
        .http
        .get(format!(
            "{}/api/org/audit.csv?action=sign_in_failed",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{backend}");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'), "{backend}: a byte-order mark");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{backend}: {text}");
    assert!(lines[0].contains("№;Время (Europe/Moscow"), "{text}");
    // The typed "login" is text in the spreadsheet, never a formula.
    assert!(
        lines[1].contains(&format!("\"'{}\"", typed.replace('"', "\"\""))),
        "{backend}: {text}"
    );
    assert!(
        lines[1].contains(";127.0.0.1;Неудачный вход;sign_in_failed;"),
        "{text}"
    );
    // A long trail comes whole, in several chunks (written straight to the store: 520
    // sign-ins would spend a minute in argon2).
    for i in 0..520 {
        let attempt = NewEntry {
            at: app.clock.now(),
            forum: None,
            actor: Actor {
                login: format!("guess{i}"),
                role: None,
                address: Some("192.0.2.1".into()),
            },
            action: Action::SignInFailed,
            description: "Неудачная попытка входа".into(),
            details: json!({}),
        };
        app.state.store.append_audit(&attempt).await.unwrap();
    }
    let (_, body) = app
        .get_text("/api/org/audit.csv?action=sign_in_failed&delimiter=,")
        .await;
    assert_eq!(body.lines().count(), 522, "{backend}");
    assert_eq!(body.matches('\u{feff}').count(), 1, "{backend}");
    let (status, _) = app.get_text("/api/org/audit.csv?delimiter=|").await;
    assert_eq!(status, 400, "{backend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_organiser_action_leaves_its_entry() {
    on_every_backend!(every_action_is_recorded);
}

/// Nothing in the product changes the trail, and the database refuses it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_cannot_be_edited() {
    for db in TestDb::all().await {
        let app = TestApp::spawn(&db.url).await;
        app.sign_in_organiser().await;
        app.stop().await;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let n = |pool: sqlx::AnyPool| async move {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
                .fetch_one(&pool)
                .await
                .unwrap();
            sqlx::Row::get::<i64, _>(&row, "n")
        };
        assert_eq!(n(pool.clone()).await, 1, "{}: the sign-in", db.backend);
        for statement in [
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
        ] {
            let refused = sqlx::query(statement).execute(&pool).await;
            let message = refused.expect_err(statement).to_string();
            assert!(message.contains("append-only"), "{}: {message}", db.backend);
        }
        assert_eq!(n(pool.clone()).await, 1, "{}", db.backend);
        pool.close().await;
        db.drop().await;
    }
}
