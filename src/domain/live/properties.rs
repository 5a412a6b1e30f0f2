//! The live core is the same rules, not a second copy: random days of one to three viewers over
//! a forum of two halls and three sessions are fed event by event, in time order, to each
//! viewer's live state, pruned as the hub prunes it; at every step each hall's current tally
//! equals the old way's (the log so far replayed, every session planned: `reference.rs`), and
//! at the end every tally of a finished session agrees with the verdict of `rules::evaluate`.
//!
//! The log is what the hub records: confirms and wrong answers pass the live confirm decision
//! first, except a few "forced" confirms (another node's, late or before their prompt by a
//! skewed clock), once per connection and prompt as the store holds them. Echoes (an event
//! heard again from the broker) reach the live states but not the log.

use proptest::prelude::*;

use super::confirm::PromptWindow;
use super::{LiveViewer, horizon, reference, session_for};
use crate::domain::forum::{Education, Forum, Session, fixtures};
use crate::domain::log::{Event, EventBody};
use crate::domain::rules::{Params, evaluate_with};
use crate::domain::time::{MINUTE, Millis, Span};

const T0: Millis = 1_775_000_000_000;

fn forum(pause: [bool; 3]) -> Forum {
    let s = |id: &str, hall: &str, from: i64, to: i64, pause: bool| Session {
        min_minutes: 20,
        prompts: 2,
        prompts_required: 2,
        pause_on_missed: pause,
        prompt_window_ms: 2 * MINUTE,
        audience: crate::domain::forum::Audience {
            higher: vec!["терапия".into()],
            secondary: vec![],
        },
        ..fixtures::session(id, hall, T0 + from * MINUTE, T0 + to * MINUTE)
    };
    let s1 = Session {
        excluded: vec![Span::new(T0 + 20 * MINUTE, T0 + 30 * MINUTE)],
        ..s("s1", "h1", 0, 60, pause[0])
    };
    let s3 = Session {
        excluded: vec![Span::new(T0 + 60 * MINUTE, T0 + 65 * MINUTE)],
        ..s("s3", "h2", 40, 100, pause[2])
    };
    Forum {
        prompt_window_ms: 2 * MINUTE,
        ..fixtures::forum(
            "f",
            &["h1", "h2"],
            vec![s1, s("s2", "h1", 70, 130, pause[1]), s3],
        )
    }
}

/// One step of the day: time moves on by `dt` ms, then `kind` happens, its choices taken from
/// `a`, `b` and `c`.
#[derive(Debug, Clone)]
struct Step {
    dt: Millis,
    kind: u8,
    a: u8,
    b: u8,
    c: u8,
    right: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (
        1..150_000i64,
        0..10u8,
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<bool>(),
    )
        .prop_map(|(dt, kind, a, b, c, right)| Step {
            dt,
            kind,
            a,
            b,
            c,
            right,
        })
}

/// A connection as the simulated browser knows it.
struct Tab {
    id: String,
    viewer: usize,
    /// Neither disconnected nor crashed: it still beats and may press.
    up: bool,
}

struct Day {
    forum: Forum,
    rules: Params,
    viewers: Vec<String>,
    /// Each viewer's pruned state and an unpruned one (for the end's check of every session).
    live: Vec<(LiveViewer, LiveViewer)>,
    log: Vec<Event>,
    tabs: Vec<Tab>,
    /// Prompts fired: (id, hall, ts, closes).
    prompts: Vec<(String, String, Millis, Millis)>,
    now: Millis,
}

impl Day {
    fn record(&mut self, body: EventBody) {
        let e = Event::new(self.now, body);
        self.hear(&e);
        self.log.push(e);
    }

    fn hear(&mut self, e: &Event) {
        for (pruned, whole) in &mut self.live {
            pruned.apply(e);
            whole.apply(e);
        }
    }

    fn pick_tab(&self, viewer: usize, k: u8) -> Option<usize> {
        let mine: Vec<usize> = (0..self.tabs.len())
            .filter(|&i| self.tabs[i].viewer == viewer && self.tabs[i].up)
            .collect();
        (!mine.is_empty()).then(|| mine[k as usize % mine.len()])
    }

    fn run(&mut self, s: &Step) {
        self.now += s.dt;
        let viewer = s.a as usize % self.viewers.len();
        let who = self.viewers[viewer].clone();
        let hall = if s.b.is_multiple_of(2) { "h1" } else { "h2" };
        match s.kind {
            0 | 1 => {
                let id = format!("c{}", self.tabs.len());
                self.tabs.push(Tab {
                    id: id.clone(),
                    viewer,
                    up: true,
                });
                self.record(EventBody::Connect {
                    viewer: who.into(),
                    conn: id.into(),
                    hall: hall.into(),
                });
            }
            2 => {
                if let Some(t) = self.pick_tab(viewer, s.c) {
                    self.tabs[t].up = false;
                    let conn = self.tabs[t].id.clone();
                    // A crash records nothing: the connection stays open for the rules.
                    if s.right {
                        self.record(EventBody::Disconnect { conn: conn.into() });
                    }
                }
            }
            3 => {
                if let Some(t) = self.pick_tab(viewer, s.c) {
                    let conn = self.tabs[t].id.clone();
                    self.record(EventBody::Heartbeat { conn: conn.into() });
                }
            }
            4 => {
                let id = format!("p{}", self.prompts.len());
                let closes = self.now + 2 * MINUTE;
                self.prompts
                    .push((id.clone(), hall.into(), self.now, closes));
                self.record(EventBody::Prompt {
                    prompt: id.into(),
                    hall: hall.into(),
                    closes,
                });
            }
            5..=7 if !self.prompts.is_empty() => self.answer(viewer, s),
            8 => {
                // An echo of a recent event from the broker: no change the second time.
                let recent: Vec<&Event> = self
                    .log
                    .iter()
                    .filter(|e| e.ts >= self.now - 10 * MINUTE)
                    .collect();
                if !recent.is_empty() {
                    let e = recent[s.c as usize % recent.len()].clone();
                    self.hear(&e);
                }
            }
            9 => {
                let specialty = if s.right {
                    "Терапия"
                } else {
                    "хирургия"
                };
                self.record(EventBody::Viewer {
                    viewer: who.as_str().into(),
                    name: who,
                    email: "v@example.org".into(),
                    education: Education::Higher,
                    specialty: specialty.into(),
                });
            }
            _ => {}
        }
        if s.c.is_multiple_of(4) {
            let h = horizon(&self.forum, self.now);
            for (pruned, _) in &mut self.live {
                pruned.prune(h);
            }
        }
    }

    fn answer(&mut self, viewer: usize, s: &Step) {
        let Some(t) = self.pick_tab(viewer, s.c) else {
            return;
        };
        let (id, hall, ts, closes) = self.prompts[s.b as usize % self.prompts.len()].clone();
        let (who, conn) = (self.viewers[viewer].clone(), self.tabs[t].id.clone());
        let tab_hall = self
            .log
            .iter()
            .find_map(|e| match &e.body {
                EventBody::Connect { conn: c, hall, .. } if *c == conn => Some(hall.clone()),
                _ => None,
            })
            .expect("a recorded tab");
        if s.kind == 7 && s.a.is_multiple_of(4) {
            // Forced: recorded by another node whatever this one would decide.
            let known = self.log.iter().any(|e| {
                matches!(&e.body, EventBody::Confirm { conn: c, prompt: p, .. }
                    if *c == conn && *p == id)
            });
            if !known {
                self.record(EventBody::Confirm {
                    viewer: who.into(),
                    conn: conn.into(),
                    prompt: id.into(),
                });
            }
            return;
        }
        let window = PromptWindow {
            hall: &hall,
            ts,
            closes,
        };
        let limit = self.rules.max_wrong_answers;
        let decided = self.live[viewer]
            .0
            .may_answer(&id, Some(window), &tab_hall, self.now, limit);
        let whole = self.live[viewer]
            .1
            .may_answer(&id, Some(window), &tab_hall, self.now, limit);
        assert_eq!(decided, whole, "pruning changed a confirm decision");
        if decided.is_err() {
            return;
        }
        let (viewer, conn, prompt) = (who, conn, id);
        self.record(if s.right {
            EventBody::Confirm {
                viewer: viewer.into(),
                conn: conn.into(),
                prompt: prompt.into(),
            }
        } else {
            EventBody::WrongAnswer {
                viewer: viewer.into(),
                conn: conn.into(),
                prompt: prompt.into(),
            }
        });
    }

    /// Every viewer's tally of each hall's current session, live (pruned and whole) and the
    /// old way.
    fn check(&self) -> Result<(), TestCaseError> {
        let prompts: Vec<Event> = self
            .log
            .iter()
            .filter(|e| matches!(e.body, EventBody::Prompt { .. }))
            .cloned()
            .collect();
        for h in ["h1", "h2"] {
            let Some(session) = session_for(&self.forum, h, self.now) else {
                continue;
            };
            for (v, (pruned, whole)) in self.viewers.iter().zip(&self.live) {
                let rules = self.rules.clone();
                let old = reference::tally(&self.forum, session, v, &self.log, self.now, rules);
                let live =
                    pruned.tally(&self.forum, session, &prompts, self.now, self.rules.clone());
                prop_assert_eq!(&live, &old, "pruned, at {}", self.now - T0);
                let all = whole.tally(&self.forum, session, &prompts, self.now, self.rules.clone());
                prop_assert_eq!(&all, &old, "whole, at {}", self.now - T0);
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_live_tally_is_the_rules_at_every_step(
        steps in prop::collection::vec(step(), 1..140),
        viewers in 1..=3usize,
        pause in any::<[bool; 3]>(),
        limit in 2..=3u32,
    ) {
        let mut day = Day {
            forum: forum(pause),
            rules: Params { max_wrong_answers: limit, ..Params::default() },
            viewers: (0..viewers).map(|k| format!("v{k}")).collect(),
            live: (0..viewers)
                .map(|k| (LiveViewer::new(&format!("v{k}")), LiveViewer::new(&format!("v{k}"))))
                .collect(),
            log: Vec::new(),
            tabs: Vec::new(),
            prompts: Vec::new(),
            now: T0 - 40 * MINUTE,
        };
        for s in &steps {
            day.run(s);
            day.check()?;
        }

        // The day ends: every tab still up is closed (crashed ones stay open), and later every
        // finished session's tally is its verdict.
        day.now += MINUTE;
        for t in 0..day.tabs.len() {
            if day.tabs[t].up {
                day.tabs[t].up = false;
                let conn = day.tabs[t].id.clone();
                day.now += 1;
                day.record(EventBody::Disconnect { conn: conn.into() });
            }
        }
        let last = day.log.iter().map(|e| e.ts).max().unwrap_or(T0);
        let end = last.max(T0 + 131 * MINUTE) + 3 * MINUTE;
        let verdicts = evaluate_with(&day.forum, &day.log, day.rules.clone()).verdicts;
        let prompts: Vec<Event> = day
            .log
            .iter()
            .filter(|e| matches!(e.body, EventBody::Prompt { .. }))
            .cloned()
            .collect();
        for (k, (v, (_, whole))) in day.viewers.iter().zip(&mut day.live).enumerate() {
            // A crashed tab's node is found dead: closed at its last sign of life, as the
            // verdict ends it.
            for t in day.tabs.iter().filter(|t| t.viewer == k) {
                whole.set_node(&t.id, "dead");
            }
            whole.close_node("dead");
            for session in &day.forum.sessions {
                let t = whole.tally(&day.forum, session, &prompts, end, day.rules.clone()).unwrap();
                match verdicts.iter().find(|r| r.viewer == *v && r.session == session.id) {
                    Some(r) => {
                        prop_assert_eq!(t.counted_ms / 1000, r.seconds);
                        prop_assert_eq!(
                            (t.confirmed, t.required, t.prompts_shown),
                            (r.confirmed, r.required, r.shown)
                        );
                        prop_assert_eq!(t.eligible, r.eligible);
                        prop_assert_eq!(&t.reasons, &r.reasons);
                    }
                    None => prop_assert_eq!((t.counted_ms, t.confirmed, t.eligible), (0, 0, false)),
                }
            }
        }
    }
}
