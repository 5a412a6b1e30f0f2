//! The commission's export as data: one row per (viewer, session) the rules have a result for
//! (the summary per session and specialty is in `summary`).
//!
//! A forum of 100,000 viewers has several hundred thousand rows. Their reasons and names are
//! text that would take hundreds of megabytes if built at once, so evaluation keeps only an
//! [`Outcome`] per row (a few numbers, 40 bytes) and each row's text is made when it is
//! written, then dropped. Profiles are borrowed from the replayed facts. A row's prompt
//! statuses are judged again for that one (viewer, session) when the row is written: that
//! costs a fraction of the first judgement and keeps memory flat.

use std::collections::HashMap;

use jiff::tz::TimeZone;

use super::{hall_title, session_when};
use crate::domain::decided::{InForce, mark_ru};
use crate::domain::forum::{Education, Forum, Session};
use crate::domain::rules::{
    self, Facts, Params, Plan, Reason, Tally, evaluate_viewer_in, prompts, reasons_for,
};
use crate::domain::time::format_clock_seconds;

/// Issued codes: session id → viewer id → code.
pub type Codes = HashMap<String, HashMap<String, String>>;

/// What the rules decided for one (viewer, session), and whether it counts once organisers'
/// decisions are laid over it, without any text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Index into `Facts::viewers`.
    pub viewer: u32,
    /// Index into `Forum::sessions`.
    pub session: u16,
    pub tally: Tally,
    /// Whether the session counts: the decision in force if there is one, else the rules.
    pub eligible: bool,
    /// The rules' own verdict, kept beside a decision.
    pub rules_eligible: bool,
    /// Whether the rules have a result at all (false: a row made for a grant alone, which the
    /// summary does not count as attendance).
    pub judged: bool,
}

/// Every outcome of the forum (or of one session), by session order then viewer id, with the
/// decisions in force laid over the rules' verdicts.
pub fn outcomes(
    forum: &Forum,
    facts: &Facts,
    params: Params,
    decided: &InForce,
    only: Option<&str>,
) -> Vec<Outcome> {
    let index: HashMap<&str, u16> = forum
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i as u16))
        .collect();
    let mut out = rules::judge_each(forum, facts, params, |ix, _, r| {
        if only.is_some_and(|s| s != r.session) {
            return None;
        }
        let viewer = facts.viewers[ix as usize].id;
        Some(Outcome {
            viewer: ix,
            session: index[r.session.as_str()],
            tally: Tally::of(r),
            eligible: decided.credited(viewer, &r.session, r.eligible),
            rules_eligible: r.eligible,
            judged: true,
        })
    });
    granted_without_result(forum, facts, decided, only, &index, &mut out);
    out
}

/// A viewer granted credit in a session the rules have no result for (no counted time, no
/// valid confirmation: the stream failed them) gets a code, so the commission's file lists
/// them too: a row of zeros whose decision says why.
fn granted_without_result(
    forum: &Forum,
    facts: &Facts,
    decided: &InForce,
    only: Option<&str>,
    index: &HashMap<&str, u16>,
    out: &mut Vec<Outcome>,
) {
    if decided.is_empty() {
        return;
    }
    let have: std::collections::HashSet<(u16, u32)> =
        out.iter().map(|o| (o.session, o.viewer)).collect();
    let mut added = false;
    for (ix, v) in facts.viewers.iter().enumerate() {
        for s in &forum.sessions {
            if only.is_some_and(|o| o != s.id) {
                continue;
            }
            let session = index[s.id.as_str()];
            let granted = decided
                .get(v.id, &s.id)
                .is_some_and(|d| d.outcome.credits());
            if !granted || have.contains(&(session, ix as u32)) {
                continue;
            }
            let admitted = v
                .profile
                .as_ref()
                .is_some_and(|p| s.audience.admits(p.education, p.specialty));
            out.push(Outcome {
                viewer: ix as u32,
                session,
                tally: Tally {
                    counted_ms: 0,
                    paused_ms: 0,
                    confirmed: 0,
                    shown: 0,
                    required: s.prompts_required,
                    admitted,
                },
                eligible: true,
                rules_eligible: false,
                judged: false,
            });
            added = true;
        }
    }
    if added {
        out.sort_by(|a, b| {
            (a.session, facts.viewers[a.viewer as usize].id)
                .cmp(&(b.session, facts.viewers[b.viewer as usize].id))
        });
    }
}

/// A cell of a table: numbers stay numbers in XLSX, so Excel can sum them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
}

impl Cell {
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Cell::Text(s) => s.as_str().into(),
            Cell::Int(n) => n.to_string().into(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Cell {
        Cell::Int(i64::from(n))
    }
}

pub(super) fn yes_no(b: bool) -> &'static str {
    if b { "да" } else { "нет" }
}

pub(super) fn education_label(e: Option<Education>) -> &'static str {
    e.map_or("", |e| e.label_ru())
}

/// The participants' table header; times are labelled with the forum's zone.
pub fn header(zone: &str) -> Vec<String> {
    [
        "Сессия",
        &format!("Дата и время ({zone})"),
        "Зал",
        "Название сессии",
        "ЗЕТ",
        "ID участника",
        "ФИО",
        "E-mail",
        "Уровень образования",
        "Специальность",
        "Засчитано минут",
        "Нужно минут",
        "Подтверждено",
        "Окон показано",
        "Нужно подтверждений",
        "Окна подтверждения",
        "Условия выполнены",
        "Условия",
        "Код НМО",
        "Решение организатора",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Rows made at once by [`Sources::rows`]: a few MB of text.
const ROWS_PER_CHUNK: usize = 4096;

/// Everything the rows are made from; borrowed, cheap to pass around.
pub struct Sources<'a> {
    pub forum: &'a Forum,
    pub facts: &'a Facts<'a>,
    pub codes: &'a Codes,
    /// Organisers' decisions in force.
    pub decided: &'a InForce,
    pub tz: TimeZone,
    /// The plan the outcomes were judged with, to judge a row's prompts again.
    plan: Plan<'a>,
    /// When each prompt of `facts` was shown, `10:05:00`, formatted once.
    shown_at: Vec<String>,
}

impl<'a> Sources<'a> {
    pub fn new(
        forum: &'a Forum,
        facts: &'a Facts<'a>,
        codes: &'a Codes,
        decided: &'a InForce,
        params: Params,
    ) -> Sources<'a> {
        Sources {
            forum,
            facts,
            codes,
            decided,
            tz: forum.tz(),
            plan: Plan::with(forum, facts, params),
            shown_at: facts
                .prompts
                .iter()
                .map(|p| format_clock_seconds(p.ts, &forum.tz()))
                .collect(),
        }
    }

    /// «10:05:00 — Подтверждено в 10:05:31; 10:20:00 — Не показано: …»: each prompt of the
    /// outcome's session, when it was shown in the hall and its status for the viewer.
    pub fn prompt_statuses(&self, o: &Outcome) -> String {
        let v = &self.facts.viewers[o.viewer as usize];
        let ix = o.session as usize;
        let eval = evaluate_viewer_in(&self.plan, self.facts, v, ix);
        let lines: Vec<String> = prompts::session_prompts(&self.plan, self.facts, v, &eval, ix)
            .iter()
            .map(|p| {
                let shown = &self.shown_at[p.prompt as usize];
                format!("{shown} — {}", p.label(self.forum, self.facts, &self.tz))
            })
            .collect();
        lines.join("; ")
    }

    /// «решение организатора: засчитано — причина (по правилам: условия не выполнены)», or
    /// nothing when no decision is in force.
    pub fn decision(&self, o: &Outcome) -> String {
        let viewer = self.facts.viewers[o.viewer as usize].id;
        self.decided
            .get(viewer, &self.session(o).id)
            .map_or(String::new(), |d| {
                let rules = if o.rules_eligible {
                    "условия выполнены"
                } else {
                    "условия не выполнены"
                };
                format!("{} (по правилам: {rules})", mark_ru(d))
            })
    }

    pub fn session(&self, o: &Outcome) -> &'a Session {
        &self.forum.sessions[o.session as usize]
    }

    pub fn code(&self, o: &Outcome) -> Option<&'a str> {
        let viewer = self.facts.viewers[o.viewer as usize].id;
        self.codes
            .get(&self.session(o).id)
            .and_then(|m| m.get(viewer))
            .map(String::as_str)
    }

    /// The rows of `outcomes`, in order. Made a few thousand at a time on every core: judging
    /// each row's prompts again costs about what the first judgement did, and a chunk bounds
    /// the memory whatever the number of rows.
    pub fn rows<'s>(&'s self, outcomes: &'s [Outcome]) -> impl Iterator<Item = Vec<Cell>> + 's {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        outcomes.chunks(ROWS_PER_CHUNK).flat_map(move |chunk| {
            let part = chunk.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .chunks(part)
                    .map(|p| {
                        scope.spawn(move || p.iter().map(|o| self.cells(o)).collect::<Vec<_>>())
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("a row worker panicked"))
                    .collect::<Vec<_>>()
            })
        })
    }

    /// The cells of one outcome's row, in [`header`] order.
    pub fn cells(&self, o: &Outcome) -> Vec<Cell> {
        let s = self.session(o);
        let v = &self.facts.viewers[o.viewer as usize];
        let p = v.profile.as_ref();
        let ps = &self.plan.sessions[o.session as usize];
        let reasons = Reason::join_marked(&reasons_for(ps, p, &o.tally));
        vec![
            s.id.as_str().into(),
            session_when(s, &self.tz).into(),
            hall_title(self.forum, &s.hall).into(),
            s.title.as_str().into(),
            s.credits.into(),
            v.id.into(),
            p.map_or("", |p| p.name).into(),
            p.map_or("", |p| p.email).into(),
            education_label(p.map(|p| p.education)).into(),
            p.map_or("", |p| p.specialty.trim()).into(),
            o.tally.minutes().into(),
            ps.min_minutes().into(),
            o.tally.confirmed.into(),
            o.tally.shown.into(),
            o.tally.required.into(),
            self.prompt_statuses(o).into(),
            yes_no(o.eligible).into(),
            reasons.into(),
            self.code(o).unwrap_or("").into(),
            self.decision(o).into(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forum::catalogue::Catalogue;
    use crate::domain::forum::config;
    use crate::domain::log::{Event, EventBody};
    use crate::domain::time::{MINUTE, parse_rfc3339};
    use crate::reports::summary::{Counts, Registered, summarise, summary_header, summary_rows};

    const FORUM: &str = r#"
[forum]
id = "f"
title = "Форум"
timezone = "Europe/Moscow"
prompt_window_seconds = 120

[[hall]]
id = "h1"
title = "Зал №1"
stream_url = "https://example.org/1.m3u8"

[[session]]
id = "s1"
hall = "h1"
title = "Первая"
starts = "2026-04-01T10:00"
ends = "2026-04-01T10:30"
credits = 1
min_minutes = 20
prompts = 1
prompts_required = 1
audience.higher = ["рентгенология", "кардиология"]
"#;

    fn t(min: i64) -> i64 {
        parse_rfc3339("2026-04-01T10:00:00+03:00").unwrap() + min * MINUTE
    }

    fn log() -> Vec<Event> {
        let viewer = |id: &str, name: &str, spec: &str, edu| {
            Event::new(
                t(-60),
                EventBody::Viewer {
                    viewer: id.into(),
                    name: name.into(),
                    email: format!("{id}@example.org"),
                    education: edu,
                    specialty: spec.into(),
                },
            )
        };
        let mut ev = vec![
            viewer("a", "Иванова Анна", "рентгенология", Education::Higher),
            viewer("b", "Петров Пётр", "Рентгенология ", Education::Higher),
            viewer("c", "Сидорова Вера", "рентгенология", Education::Secondary),
            Event::new(
                t(10),
                EventBody::Prompt {
                    prompt: "p1".into(),
                    hall: "h1".into(),
                    closes: t(12),
                },
            ),
        ];
        for (v, until) in [("a", 30), ("b", 5), ("c", 30)] {
            let conn = format!("{v}-c");
            ev.push(Event::new(
                t(0),
                EventBody::Connect {
                    viewer: v.into(),
                    conn: conn.clone(),
                    hall: "h1".into(),
                },
            ));
            ev.push(Event::new(
                t(until),
                EventBody::Disconnect { conn: conn.clone() },
            ));
        }
        ev.push(Event::new(
            t(11),
            EventBody::Confirm {
                viewer: "a".into(),
                conn: "a-c".into(),
                prompt: "p1".into(),
            },
        ));
        ev
    }

    #[test]
    fn rows_and_summary_of_a_small_forum() {
        let forum = config::parse(FORUM, "f.toml", &Catalogue::shipped()).unwrap();
        let events = log();
        let facts = Facts::build(&events);
        let codes: Codes = HashMap::from([(
            "s1".to_owned(),
            HashMap::from([("a".to_owned(), "ABCDEF123456".to_owned())]),
        )]);
        let decided = InForce::default();
        let src = Sources::new(&forum, &facts, &codes, &decided, Params::default());
        let outs = outcomes(&forum, &facts, Params::default(), &decided, None);
        let rows: Vec<Vec<Cell>> = outs.iter().map(|o| src.cells(o)).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            src.rows(&outs).collect::<Vec<_>>(),
            rows,
            "made in parallel, in order"
        );
        let by_id = |id: &str| rows.iter().find(|r| r[5].text() == id).unwrap();
        let a = by_id("a");
        assert_eq!(a.len(), header("Europe/Moscow").len());
        assert_eq!(a[1].text(), "01.04.2026 10:00–10:30");
        assert_eq!(a[2].text(), "Зал №1");
        assert_eq!(a[6].text(), "Иванова Анна");
        assert_eq!(a[8].text(), "высшее образование");
        assert_eq!(a[10], Cell::Int(30));
        assert_eq!((a[12].clone(), a[13].clone()), (Cell::Int(1), Cell::Int(1)));
        assert_eq!(a[15].text(), "10:10:00 — Подтверждено в 10:11:00");
        assert_eq!(a[16].text(), "да");
        assert_eq!(a[18].text(), "ABCDEF123456");
        assert!(
            a[17].text().starts_with("✓ Засчитано 30 из 20 мин; ✓ "),
            "{a:?}"
        );
        let b = by_id("b");
        assert_eq!((b[10].clone(), b[16].text()), (Cell::Int(5), "нет".into()));
        assert!(
            b[17]
                .text()
                .starts_with("✗ Засчитано 5 из 20 мин (не хватает 15 мин)"),
            "{b:?}"
        );
        // Pyotr left before the prompt: not shown, so not counted among his shown prompts.
        assert_eq!(b[13], Cell::Int(0));
        assert_eq!(
            b[15].text(),
            "10:10:00 — Не показано: во время окна не было подключения"
        );
        let c = by_id("c");
        assert!(c[17].text().contains("только для уровня"), "{c:?}");

        let registered = vec![
            Registered {
                education: Education::Higher,
                specialty: "рентгенология".into(),
                count: 2,
            },
            Registered {
                education: Education::Secondary,
                specialty: "рентгенология".into(),
                count: 1,
            },
        ];
        let sums = summarise(&src, &outs, &registered, None);
        assert_eq!(sums.len(), 1);
        let s = &sums[0];
        assert_eq!(
            s.total,
            Counts {
                registered: 2,
                attended: 3,
                eligible: 1,
                codes: 1
            }
        );
        assert_eq!(s.credits_earned(), 1);
        let line = |e, name: &str| {
            s.lines
                .iter()
                .find(|l| l.education == Some(e) && l.specialty == name)
                .unwrap_or_else(|| panic!("no line {name}: {:?}", s.lines))
        };
        let radio = line(Education::Higher, "рентгенология");
        assert!(radio.accredited);
        assert_eq!((radio.counts.attended, radio.counts.eligible), (2, 1));
        assert_eq!(
            line(Education::Higher, "кардиология").counts,
            Counts::default()
        );
        let nurses = line(Education::Secondary, "рентгенология");
        assert!(!nurses.accredited);
        assert_eq!((nurses.counts.registered, nurses.counts.attended), (1, 1));
        let table = summary_rows(&forum, &sums);
        assert_eq!(table.len(), 1 + s.lines.len());
        assert_eq!(table[0][6].text(), "Итого по сессии");
        assert!(table.iter().all(|r| r.len() == summary_header("x").len()));
    }
}
