//! The cast and stage of the rules' story tests: a forum of two halls, and a log written one
//! line per thing a viewer does.

use super::*;
use crate::domain::forum::{Audience, Education, Forum, Hall, Session, fixtures};
use crate::domain::log::{Event, EventBody};
use crate::domain::time::{MINUTE, Millis};

/// 2026-04-01T09:00:00+03:00: minute 0 of every story.
pub(super) const T0: Millis = 1_775_023_200_000;

pub(super) fn at(minute: i64) -> Millis {
    T0 + minute * MINUTE
}

pub(super) fn session(id: &str, hall: &str, from: i64, to: i64) -> Session {
    Session {
        title: format!("Сессия {id}"),
        credits: 2,
        min_minutes: 60,
        prompts: 2,
        prompts_required: 2,
        audience: Audience {
            higher: vec!["рентгенология".into(), "кардиология".into()],
            secondary: vec!["рентгенология".into()],
        },
        prompt_window_ms: 2 * MINUTE,
        ..fixtures::session(id, hall, at(from), at(to))
    }
}

/// Hall 1 has session `s1` from minute 0 to 100; hall 2 has `s2` over the same window.
pub(super) fn forum() -> Forum {
    let hall = |id: &str, title: &str| Hall {
        title: title.into(),
        ..fixtures::hall(id)
    };
    Forum {
        title: "Форум".into(),
        prompt_window_ms: 2 * MINUTE,
        prompt_min_gap_ms: 10 * MINUTE,
        prompt_margin_ms: 5 * MINUTE,
        halls: vec![hall("hall-1", "Зал №1"), hall("hall-2", "Зал №2")],
        ..fixtures::forum(
            "f",
            &[],
            vec![
                session("s1", "hall-1", 0, 100),
                session("s2", "hall-2", 0, 100),
            ],
        )
    }
}

#[derive(Default)]
pub(super) struct Log(pub(super) Vec<Event>);

impl Log {
    pub(super) fn push(&mut self, minute: f64, body: EventBody) -> &mut Self {
        self.0
            .push(Event::new(T0 + (minute * MINUTE as f64) as i64, body));
        self
    }
    pub(super) fn doctor(&mut self, v: &str, specialty: &str) -> &mut Self {
        self.profile(v, Education::Higher, specialty)
    }
    pub(super) fn profile(&mut self, v: &str, education: Education, specialty: &str) -> &mut Self {
        self.push(
            -30.0,
            EventBody::Viewer {
                viewer: v.into(),
                name: format!("Зритель {v}"),
                email: format!("{v}@example.org"),
                education,
                specialty: specialty.into(),
            },
        )
    }
    pub(super) fn connect(&mut self, m: f64, v: &str, c: &str, hall: &str) -> &mut Self {
        self.push(
            m,
            EventBody::Connect {
                viewer: v.into(),
                conn: c.into(),
                hall: hall.into(),
            },
        )
    }
    pub(super) fn heartbeat(&mut self, m: f64, c: &str) -> &mut Self {
        self.push(m, EventBody::Heartbeat { conn: c.into() })
    }
    pub(super) fn disconnect(&mut self, m: f64, c: &str) -> &mut Self {
        self.push(m, EventBody::Disconnect { conn: c.into() })
    }
    pub(super) fn prompt(&mut self, m: f64, p: &str, hall: &str) -> &mut Self {
        self.push(
            m,
            EventBody::Prompt {
                prompt: p.into(),
                hall: hall.into(),
                closes: T0 + ((m + 2.0) * MINUTE as f64) as i64,
            },
        )
    }
    pub(super) fn confirm(&mut self, m: f64, v: &str, c: &str, p: &str) -> &mut Self {
        self.push(
            m,
            EventBody::Confirm {
                viewer: v.into(),
                conn: c.into(),
                prompt: p.into(),
            },
        )
    }
    /// Two prompts in `hall`, at minutes 20 and 70.
    pub(super) fn prompts(&mut self, hall: &str) -> &mut Self {
        let (a, b) = if hall == "hall-1" {
            ("p1", "p2")
        } else {
            ("q1", "q2")
        };
        self.prompt(20.0, a, hall).prompt(70.0, b, hall)
    }
    pub(super) fn run(&self, forum: &Forum) -> Evaluation {
        evaluate(forum, &self.0)
    }
}

pub(super) fn row<'a>(e: &'a Evaluation, viewer: &str, session: &str) -> &'a Verdict {
    e.verdicts
        .iter()
        .find(|v| v.viewer == viewer && v.session == session)
        .unwrap_or_else(|| panic!("no row for {viewer}/{session}: {:#?}", e.verdicts))
}

pub(super) fn has_row(e: &Evaluation, viewer: &str, session: &str) -> bool {
    e.verdicts
        .iter()
        .any(|v| v.viewer == viewer && v.session == session)
}
