//! One forum on three `yavka serve` processes sharing Postgres and a Redis of the test's own
//! (started on a free port, so the test can kill and restart it). Real binaries, real clock.
//!
//! Stories: a prompt fired on one node reaches every viewer on every node exactly once, with one
//! id; confirmations on any node are counted on the dashboard of any node; the active-hall
//! rule holds across nodes; a viewer who reconnects to another node keeps their tally; a node
//! killed with `kill -9` loses no acknowledged confirmation and stops holding its viewers'
//! other tabs paused; with Redis down viewers stay connected and attendance is recorded, and
//! when Redis returns a prompt fired meanwhile reaches the other nodes and new ones flow again.

mod support;

// Two forums at once on three nodes, in process on manual clocks.
#[path = "cluster/two_forums.rs"]
mod two_forums;

use std::time::Duration;

use serde_json::{Value, json};
use support::TestDb;
use support::process::{ServerProcess, create_organiser, free_port, register, start_with};
use support::redis::RedisProcess;
use support::server::Viewer;
use support::smtp::SmtpSink;
use yavka::domain::log::EventBody;
use yavka::domain::sim::live_forum_toml;
use yavka::store::Store;

const FORUM: &str = "cluster-forum";
const PASSWORD: &str = "cluster-password-1";

struct Cluster {
    dir: tempfile::TempDir,
    db: String,
    redis: RedisProcess,
    /// Every node mails through this sink; viewers' links come from it.
    mail: SmtpSink,
    nodes: Vec<Option<ServerProcess>>,
    org: reqwest::Client,
}

impl Cluster {
    async fn start(db: &TestDb) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let now = jiff::Timestamp::now().as_millisecond();
        std::fs::write(
            dir.path().join("forum.toml"),
            live_forum_toml(FORUM, now) + &overdue_session(now),
        )
        .unwrap();
        let redis = RedisProcess::start().await;
        let url = redis.url();
        let mail = SmtpSink::start().await;
        let mut env_owned = mail.env();
        env_owned.push(("REDIS_URL".into(), url.clone()));
        let env: Vec<(&str, &str)> = env_owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // All three at once on an empty database, as an orchestrator would start them: they
        // race to migrate, load the forum and fire the overdue planned prompts.
        let (first, second, third) = tokio::join!(
            start_with(dir.path(), &db.url, free_port(), &env),
            start_with(dir.path(), &db.url, free_port(), &env),
            start_with(dir.path(), &db.url, free_port(), &env)
        );
        create_organiser(dir.path(), &db.url, "admin", PASSWORD);
        let org = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let r = org
            .post(format!("{}/api/org/login", first.base))
            .json(&json!({"login": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        Cluster {
            dir,
            db: db.url.clone(),
            redis,
            mail,
            nodes: vec![Some(first), Some(second), Some(third)],
            org,
        }
    }

    fn node(&self, n: usize) -> &ServerProcess {
        self.nodes[n].as_ref().expect("node is running")
    }

    async fn register(&self, n: usize, name: &str, email: &str) -> String {
        register(&self.node(n % 3).base, &self.mail, name, email).await
    }

    /// A viewer's socket on node `n`, past its welcome and first tally.
    async fn watch(&self, n: usize, token: &str, hall: &str) -> (Viewer, Value) {
        let mut v = Viewer::open(self.node(n).port, token, hall).await;
        v.expect("welcome").await;
        let tally = v.expect("tally").await;
        (v, tally)
    }

    async fn fire(&self, n: usize, hall: &str) -> String {
        let r = self
            .org
            .post(format!("{}/api/org/prompts", self.node(n).base))
            .json(&json!({"hall": hall}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn stats(&self, n: usize) -> Value {
        let r = self
            .org
            .get(format!("{}/api/org/stats", self.node(n).base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["hub"].clone()
    }

    /// Polls node `n`'s figures until `check` holds (nodes publish them every two seconds).
    async fn wait_stats(&self, n: usize, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..150 {
            last = self.stats(n).await;
            if check(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("node {n} never showed {what}: {last}");
    }

    async fn confirms_of(&self, prompt: &str) -> usize {
        let store = Store::connect(&self.db).await.unwrap();
        let events = store.events(FORUM, None).await.unwrap();
        store.close().await;
        events
            .iter()
            .filter(|e| matches!(&e.body, EventBody::Confirm { prompt: p, .. } if p == prompt))
            .count()
    }
}

/// A session in `hall-3` whose two planned prompts are all overdue when the nodes start (it
/// began almost three hours ago; the one-hour margin keeps them out of its last hour), so
/// every node's prompter wants to fire them late at once.
fn overdue_session(now: i64) -> String {
    let local = |t: i64| {
        jiff::Timestamp::from_millisecond(t)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Europe/Moscow").unwrap())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let minute = 60_000;
    format!(
        "\n[[hall]]\nid = \"hall-3\"\ntitle = \"Зал №3\"\nstream_url = \"https://example.org/hall-3.m3u8\"\n\
         \n[[session]]\nid = \"overdue\"\nhall = \"hall-3\"\ntitle = \"Сессия с просроченными окнами\"\n\
         starts = \"{}\"\nends = \"{}\"\ncredits = 1\nmin_minutes = 30\nprompts = 2\nprompts_required = 1\n\
         audience.higher = [\"рентгенология\"]\n",
        local(now - 170 * minute),
        local(now + 4 * minute)
    )
}

fn hall<'a>(stats: &'a Value, id: &str) -> &'a Value {
    stats["halls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hall"] == id)
        .unwrap()
}

fn prompt<'a>(stats: &'a Value, id: &str) -> Option<&'a Value> {
    stats["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
}

/// Skips messages until one of type `ty`, waiting up to `secs` in all (for what takes a node
/// timeout or a Redis reconnection, longer than [`Viewer::expect`] waits).
async fn expect_within(v: &mut Viewer, ty: &str, secs: u64) -> Value {
    let until = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < until {
        if let Some(m) = v.within(500).await {
            assert_ne!(m["type"], "__closed", "closed while waiting for {ty}");
            if m["type"] == ty {
                return m;
            }
        }
    }
    panic!("no {ty} within {secs} s");
}

/// Waits for a prompt on every socket, checks they all carry `id`, and that none comes twice.
async fn everyone_gets_once(viewers: &mut [Viewer], id: &str) -> Vec<Value> {
    let mut got = Vec::new();
    for v in viewers.iter_mut() {
        let p = v.expect("prompt").await;
        assert_eq!(p["id"], id, "one prompt id cluster-wide");
        got.push(p);
    }
    for v in viewers.iter_mut() {
        while let Some(m) = v.within(300).await {
            assert_ne!(m["type"], "prompt", "a prompt arrived twice: {m}");
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_forum_on_three_nodes() {
    let db = TestDb::postgres().await;
    let mut c = Cluster::start(&db).await;

    // The overdue planned prompts were fired once each, by whichever node claimed them.
    let overdue = async || {
        let store = Store::connect(&c.db).await.unwrap();
        let mut fired: Vec<String> = store
            .events(FORUM, None)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.body {
                EventBody::Prompt { prompt, hall, .. } if hall == "hall-3" => {
                    Some(prompt.to_string())
                }
                _ => None,
            })
            .collect();
        store.close().await;
        fired.sort();
        fired
    };
    for _ in 0..100 {
        if overdue().await.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        overdue().await,
        ["overdue-1", "overdue-2"],
        "each planned prompt fired once"
    );

    // Six viewers in hall-1, two on each node.
    let mut tokens = Vec::new();
    let mut viewers = Vec::new();
    for i in 0..6 {
        let token = c
            .register(
                i,
                &format!("Зрителев Пётр {i}"),
                &format!("v{i}@example.org"),
            )
            .await;
        viewers.push(c.watch(i % 3, &token, "hall-1").await.0);
        tokens.push(token);
    }
    let s = c
        .wait_stats(1, "six viewers on three nodes", |s| {
            s["nodes"] == 3 && hall(s, "hall-1")["viewers"] == 6
        })
        .await;
    assert_eq!(s["broker_connected"], true);

    // A prompt fired on node 0 reaches all six once; all confirm on their own nodes.
    let id = c.fire(0, "hall-1").await;
    let prompts = everyone_gets_once(&mut viewers, &id).await;
    for (v, p) in viewers.iter_mut().zip(&prompts) {
        v.confirm(p).await;
        v.expect("confirmed").await;
    }
    assert_eq!(
        c.confirms_of(&id).await,
        6,
        "every acknowledged confirm is stored"
    );
    c.wait_stats(2, "six confirmations of the prompt", |s| {
        prompt(s, &id).is_some_and(|p| p["confirmed"] == 6 && p["delivered"] == 6)
    })
    .await;

    // The active-hall rule across nodes: viewer 0 (node 0, hall-1) opens hall-2 on node 1.
    let (hall2, _) = c.watch(1, &tokens[0], "hall-2").await;
    let paused = viewers[0].expect("paused").await;
    assert_eq!(paused["active_hall"], "hall-2");
    hall2.close().await;
    viewers[0].expect("resumed").await;

    // Reconnecting to another node keeps the tally: viewer 1 (node 1) comes back on node 2.
    let (_again, tally) = c.watch(2, &tokens[1], "hall-1").await;
    assert_eq!(
        tally["confirmed"], 1,
        "the tally follows the viewer: {tally}"
    );

    // kill -9 node 2 while viewer 3's newer tab on it is in hall-2: the tab on node 0 is
    // paused, and resumes when node 0 gives node 2 up for dead.
    let (_doomed, _) = c.watch(2, &tokens[3], "hall-2").await;
    viewers[3].expect("paused").await;
    let mut node2 = c.nodes[2].take().unwrap();
    node2.child.kill().unwrap();
    node2.child.wait().unwrap();
    expect_within(&mut viewers[3], "resumed", 20).await;
    c.wait_stats(0, "two nodes left", |s| s["nodes"] == 2).await;
    assert_eq!(c.confirms_of(&id).await, 6, "nothing acknowledged was lost");
    // Viewers of the dead node reconnect elsewhere with their tally.
    let (_moved, tally) = c.watch(0, &tokens[2], "hall-1").await;
    assert_eq!(tally["confirmed"], 1, "{tally}");

    // Redis goes away: nobody is disconnected, attendance is still recorded.
    c.redis.kill();
    let live: Vec<usize> = vec![0, 1, 4];
    for &i in &live {
        if let Some(m) = viewers[i].within(500).await {
            assert_ne!(m["type"], "__closed", "viewer {i} was disconnected");
        }
    }
    let late = c.register(0, "Опоздавшая Анна", "late@example.org").await;
    let (mut late_viewer, _) = c.watch(1, &late, "hall-1").await;
    // A prompt fired on node 0 meanwhile reaches node 0's own viewers at once.
    let during = c.fire(0, "hall-1").await;
    assert_eq!(viewers[0].expect("prompt").await["id"], during);
    // Redis returns: node 1 reads the missed prompt back from the store and shows it.
    c.redis.restart().await;
    let p = expect_within(&mut late_viewer, "prompt", 15).await;
    assert_eq!(p["id"], during, "the prompt fired while Redis was down");
    assert_eq!(viewers[1].expect("prompt").await["id"], during);
    late_viewer.confirm(&p).await;
    late_viewer.expect("confirmed").await;
    for n in [0, 1] {
        c.wait_stats(n, "Redis back", |s| s["broker_connected"] == true)
            .await;
    }
    // And new prompts cross nodes again.
    let after = c.fire(1, "hall-1").await;
    assert_eq!(viewers[0].expect("prompt").await["id"], after);
    assert_eq!(late_viewer.expect("prompt").await["id"], after);
    assert_eq!(
        c.confirms_of(&during).await,
        1,
        "confirmed across the outage"
    );
    drop(c.dir);
    db.drop().await;
}
