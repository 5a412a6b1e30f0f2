//! Two forums live at once on three nodes sharing Postgres and Redis (issue 13). The nodes run
//! in this process on manual clocks, so the story walks through a whole session in a few
//! seconds: viewers of both forums are spread over the nodes; a prompt fired in each forum
//! reaches only its own viewers, on every node, once; each forum's tallies and dashboard
//! figures count only its own people; and each forum's results equal `yavka evaluate` on its
//! exported log.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::TestDb;
use crate::support::offline::{evaluate_offline, verdict_fields};
use crate::support::redis::RedisProcess;
use crate::support::server::{TEST_FORUM, TestApp, Viewer, at, test_forum, test_settings};
use yavka::domain::log::EventBody;
use yavka::domain::time::Millis;

const FIRST: &str = "test-forum";
const SECOND: &str = "second-forum";

fn second_toml() -> String {
    TEST_FORUM
        .replace("id = \"test-forum\"", &format!("id = \"{SECOND}\""))
        .replace("Тестовый форум", "Второй форум")
}

struct Nodes {
    nodes: Vec<TestApp>,
}

impl Nodes {
    fn set_clocks(&self, t: Millis) {
        for node in &self.nodes {
            node.clock.set(t);
        }
    }

    /// A doctor registers for `forum` on node `n`; the token from the letter (every node mails
    /// through node 0's sink).
    async fn register(&self, n: usize, forum: &str, name: &str, email: &str) -> String {
        let node = &self.nodes[n];
        let (_, texts) = node.get(&format!("/api/texts?forum={forum}")).await;
        let version = |kind: &str| {
            texts["texts"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["kind"] == kind))
                .map(|t| t["version"].clone())
                .unwrap_or_else(|| panic!("no {kind} text in {texts}"))
        };
        let form = json!({
            "name": name, "email": email, "phone": "+7 916 123-45-67",
            "education": "higher", "specialty": "рентгенология",
            "consent_personal_data": true, "consent_terms": true,
            "consent_personal_data_version": version("personal-data"),
            "consent_terms_version": version("terms"),
        });
        let (status, body) = node
            .post(&format!("/api/register?forum={forum}"), form)
            .await;
        assert_eq!(status, 202, "registration in {forum} on node {n}: {body}");
        self.nodes[0].mail.token_for(email, 1).await
    }

    async fn fire(&self, n: usize, forum: &str) -> String {
        let (status, fired) = self.nodes[n]
            .post(
                &format!("/api/org/prompts?forum={forum}"),
                json!({"hall": "hall-1"}),
            )
            .await;
        assert_eq!(status, 200, "{forum} on node {n}: {fired}");
        fired["id"].as_str().unwrap().to_owned()
    }

    /// Node `n`'s live figures of `forum`, polled until `check` holds (nodes share theirs
    /// every two seconds).
    async fn wait_stats(&self, n: usize, forum: &str, check: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..150 {
            let (status, stats) = self.nodes[n]
                .get(&format!("/api/org/stats?forum={forum}"))
                .await;
            assert_eq!(status, 200, "{stats}");
            last = stats["hub"].clone();
            if check(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("node {n}, {forum}: figures never settled: {last}");
    }
}

fn hall_viewers(stats: &Value) -> Value {
    stats["halls"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["hall"] == "hall-1"))
        .map_or(Value::Null, |h| h["viewers"].clone())
}

fn prompt_figures(stats: &Value, id: &str) -> Option<Value> {
    stats["prompts"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["id"] == id))
        .cloned()
}

/// Each of `tabs` gets prompt `id` once and confirms it, except those in `silent`; nothing
/// else (another forum's prompt) arrives.
async fn each_gets(tabs: &mut [Viewer], id: &str, silent: &[usize]) {
    for (k, tab) in tabs.iter_mut().enumerate() {
        let prompt = tab.expect("prompt").await;
        assert_eq!(
            prompt["id"], id,
            "viewer {k}: only their own forum's prompt"
        );
        if !silent.contains(&k) {
            tab.confirm(&prompt).await;
            assert_eq!(tab.expect("confirmed").await["prompt"], id);
        }
    }
    for (k, tab) in tabs.iter_mut().enumerate() {
        while let Some(m) = tab.within(200).await {
            assert_ne!(
                m["type"], "prompt",
                "viewer {k}: another prompt arrived: {m}"
            );
        }
    }
}

/// The fields a verdict is compared on, sorted by viewer and session.
fn verdicts(rows: &Value) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = rows
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {rows}"))
        .iter()
        .map(verdict_fields)
        .collect();
    out.sort_by_key(|v| Value::from(v.clone()).to_string());
    out
}

/// `yavka export-log` and `yavka evaluate` for the forum in `toml`.
fn evaluated_offline(db_url: &str, toml: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    evaluate_offline(dir.path(), db_url, toml, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_forums_on_three_nodes() {
    let db = TestDb::postgres().await;
    let redis = RedisProcess::start().await;
    let settings = || {
        let mut s = test_settings(&db.url);
        s.broker.redis_url = Some(redis.url());
        s
    };
    // Three nodes start with the configuration's forum; the organiser publishes the second on
    // node 0, and the other nodes start it too.
    let first = TestApp::spawn_with(settings(), test_forum(), at(-5)).await;
    first.sign_in_organiser().await;
    let port = first.mail.port;
    let mut nodes = vec![first];
    for _ in 1..3 {
        let node = TestApp::spawn_node(settings(), test_forum(), at(-5), port).await;
        node.sign_in().await;
        nodes.push(node);
    }
    let c = Nodes { nodes };
    let (status, body) = c.nodes[0]
        .post_typed(
            "/api/org/forums",
            "application/toml",
            second_toml().as_bytes(),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = c.nodes[0]
        .post(
            &format!("/api/org/forums/{SECOND}/state"),
            json!({"state": "registration"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The other nodes start it when the node-wide news reaches them, or at the latest at the
    // first request that names it: either way, by the time viewers register there.

    // Three viewers in each forum, registered on different nodes (the second forum's on
    // nodes 1 and 2 start it there).
    let forums = [FIRST, SECOND];
    let mut tokens: Vec<Vec<String>> = vec![Vec::new(), Vec::new()];
    for (f, forum) in forums.iter().enumerate() {
        for k in 0..3 {
            let email = format!("v{f}{k}@example.org");
            let name = format!("Зрителев Пётр {f}{k}");
            tokens[f].push(c.register((f + k) % 3, forum, &name, &email).await);
        }
    }
    assert!(c.nodes.iter().all(|n| n.state.forums.get(SECOND).is_some()));

    // The day: every viewer in hall 1, each forum's three on three different nodes.
    c.set_clocks(at(1));
    let mut tabs: Vec<Vec<Viewer>> = vec![Vec::new(), Vec::new()];
    for (f, forum_tokens) in tokens.iter().enumerate() {
        for (k, token) in forum_tokens.iter().enumerate() {
            let mut tab = c.nodes[(f + k) % 3].connect(token, "hall-1").await;
            assert_eq!(tab.expect("welcome").await["hall"]["id"], "hall-1");
            tabs[f].push(tab);
        }
    }
    for (f, forum) in forums.iter().enumerate() {
        for n in 0..3 {
            let s = c
                .wait_stats(n, forum, |s| s["nodes"] == 3 && hall_viewers(s) == 3)
                .await;
            assert_eq!(s["broker_connected"], true, "node {n}, forum {f}");
        }
    }

    // The dashboard fires a prompt in each forum from different nodes: each reaches its own
    // three viewers on all three nodes, and only them.
    let one = c.fire(0, FIRST).await;
    let two = c.fire(1, SECOND).await;
    each_gets(&mut tabs[0], &one, &[]).await;
    each_gets(&mut tabs[1], &two, &[2]).await;
    c.wait_stats(2, FIRST, |s| {
        prompt_figures(s, &one).is_some_and(|p| p["confirmed"] == 3 && p["delivered"] == 3)
    })
    .await;
    let second = c
        .wait_stats(2, SECOND, |s| {
            prompt_figures(s, &two).is_some_and(|p| p["confirmed"] == 2 && p["delivered"] == 3)
        })
        .await;
    assert!(
        prompt_figures(&second, &one).is_none(),
        "the first forum's prompt is not among the second's figures: {second}"
    );

    // The session's planned prompts, each forum's from its own schedule, fired by whichever
    // node ticks; one viewer of each forum misses both.
    let mut planned: Vec<(Millis, usize, String)> = Vec::new();
    for (f, forum) in forums.iter().enumerate() {
        let running = c.nodes[0].state.forums.get(forum).unwrap();
        planned.extend(
            running
                .prompter
                .upcoming(100)
                .into_iter()
                .filter(|p| p.session == "s1")
                .map(|p| (p.at, f, p.prompt_id)),
        );
    }
    planned.sort();
    assert_eq!(planned.len(), 4, "two planned prompts in each forum's s1");
    for (i, (t, f, id)) in planned.iter().enumerate() {
        c.set_clocks(*t);
        // Any node's loop may claim it first; this tick only hurries it.
        let node = &c.nodes[i % 3];
        node.state
            .forums
            .get(forums[*f])
            .unwrap()
            .prompter
            .tick()
            .await;
        each_gets(&mut tabs[*f], id, &[1]).await;
    }

    // After the session every tab closes; the tallies and logs stay apart.
    c.set_clocks(at(31));
    for tab in tabs.into_iter().flatten() {
        tab.close().await;
    }
    for forum in forums {
        let mut stored = 0;
        for _ in 0..200 {
            let events = c.nodes[0].state.store.events(forum, None).await.unwrap();
            stored = events
                .iter()
                .filter(|e| matches!(e.body, EventBody::Disconnect { .. }))
                .count();
            if stored == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(stored, 3, "{forum}: its three disconnects");
    }

    // Each forum's results, read on any node, equal `yavka evaluate` on its exported log.
    for (f, (forum, toml)) in [(FIRST, TEST_FORUM.to_owned()), (SECOND, second_toml())]
        .into_iter()
        .enumerate()
    {
        let (status, served) = c.nodes[2 - f]
            .get(&format!("/api/org/results?forum={forum}"))
            .await;
        assert_eq!(status, 200, "{served}");
        let served = verdicts(&served["rows"]);
        let offline = verdicts(&evaluated_offline(&db.url, &toml));
        assert_eq!(offline, served, "{forum}");
        let eligible = served
            .iter()
            .filter(|r| r[1] == "s1" && r[8] == true)
            .count();
        assert_eq!(
            eligible, 2,
            "{forum}: all but the one who missed a prompt: {served:?}"
        );
    }
    for node in c.nodes {
        node.stop().await;
    }
    drop(redis);
    db.drop().await;
}
