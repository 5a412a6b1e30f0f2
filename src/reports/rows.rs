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
            tally: Tally::of(&r),
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
#[path = "rows_tests.rs"]
mod tests;
