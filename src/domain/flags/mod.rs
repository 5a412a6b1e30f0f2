//! Integrity flags: evidence that an answer may not have come from a person watching.
//!
//! Nothing here changes a verdict. The rules stay simple and predictable; a flag only points
//! the organiser at a viewer, names the prompts and figures behind it, and the organiser
//! decides (with a decision of `decisions`). Flags are computed by one pure function,
//! [`flag`], over what the log holds about answers and connections, so the dashboard, the JSON
//! API and the viewer's evidence report show the same ones.
//!
//! Four patterns, each with its own [`Reason`]:
//! - answers consistently faster than a person can read the challenge ([`Reason::Fast`]);
//! - answers the page did not vouch for: no trusted user event, or a prompt never drawn
//!   ([`Reason::Untrusted`]); page-reported hints can be forged by a script that skips the page,
//!   so they are hints and the words say so;
//! - several viewers answering the same prompts from one device within seconds of each other,
//!   repeatedly ([`Reason::SharedDevice`]);
//! - connections that never loaded the player page ([`Reason::NoPage`]).

mod input;
#[cfg(test)]
mod tests;
mod words;

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap, FxHashSet};

use serde::Serialize;

pub use crate::domain::log::{Hints, Input};
use crate::domain::time::Millis;

pub use input::inputs;

/// One answer to a prompt (a confirm), with what the server and the page observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub viewer: String,
    pub prompt: String,
    pub conn: String,
    /// When the server received it.
    pub at: Millis,
    /// From the moment the prompt was written to this socket to the answer's arrival, as the
    /// server measured it; `None` for answers recorded before it was measured.
    pub reaction_ms: Option<Millis>,
    /// `None`: the page sent no hints (a script talking to the socket directly, or an answer
    /// recorded before hints were kept).
    pub hints: Option<Hints>,
}

/// One connection, as far as integrity is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub viewer: String,
    pub conn: String,
    /// The device as the operator chose to record it (address, full, truncated or hashed, and
    /// the browser): equal keys are "one device". `None` when not recorded.
    pub device: Option<String>,
    /// Whether the socket was opened by a player page the server served. `None` when not
    /// recorded (older logs): no flag is raised on missing evidence.
    pub page_loaded: Option<bool>,
}

/// The thresholds; [`Settings::default`] is what a forum gets unless the operator says
/// otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// An answer faster than this cannot have followed reading the challenge.
    pub fast_ms: Millis,
    /// "Consistently": at least this many fast answers…
    pub fast_min: usize,
    /// …and at least this share of the viewer's timed answers, in per cent.
    pub fast_share_pct: usize,
    /// Answers of one device's viewers to one prompt closer than this are "together".
    pub together_ms: Millis,
    /// "Repeatedly": together on at least this many prompts.
    pub together_min: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            // Reading a two-word challenge and choosing one of three buttons takes a person
            // well over a second; simple visual reaction alone is ~250 ms. 700 ms leaves room
            // for the quickest readers (the browser test measures a real click).
            fast_ms: 700,
            fast_min: 3,
            fast_share_pct: 60,
            together_ms: 10_000,
            together_min: 2,
        }
    }
}

/// Why a viewer is flagged, with the prompts and figures behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// `fast` of `timed` answers came faster than `threshold_ms`; the fastest in `prompts`.
    Fast {
        fast: usize,
        timed: usize,
        threshold_ms: Millis,
        /// (prompt, reaction in ms) of each fast answer, fastest first.
        prompts: Vec<(String, Millis)>,
    },
    /// Answers with no trusted user event, or to a prompt the page never drew, or with no
    /// hints at all.
    Untrusted {
        /// Prompts answered without a trusted user event (hints say so).
        untrusted: Vec<String>,
        /// Prompts answered without the page having drawn them.
        not_rendered: Vec<String>,
        /// Prompts answered with no hints from the page at all.
        no_hints: Vec<String>,
    },
    /// Answered the same prompts as `others` from one device within `together_ms`.
    SharedDevice {
        others: Vec<String>,
        prompts: Vec<String>,
        together_ms: Millis,
    },
    /// `count` of the viewer's connections never loaded the player page.
    NoPage { count: usize, of: usize },
}

impl Reason {
    /// A stable key per kind of reason, for counts on the dashboard.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::Fast { .. } => "fast",
            Reason::Untrusted { .. } => "untrusted",
            Reason::SharedDevice { .. } => "shared_device",
            Reason::NoPage { .. } => "no_page",
        }
    }
}

/// The longest review note kept.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// A review note as kept: trimmed, not empty, not longer than [`MAX_NOTE_CHARS`].
pub fn check_note(note: &str) -> Result<String, String> {
    crate::domain::text::kept(
        note,
        MAX_NOTE_CHARS,
        "Напишите, что вы проверили и что решили: запись останется в журнале.",
        |n| format!("Запись слишком длинная: {n} знаков, можно не больше {MAX_NOTE_CHARS}."),
    )
}

/// One flagged viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub viewer: String,
    pub reasons: Vec<Reason>,
}

/// Every flagged viewer, ordered by viewer id; each viewer's reasons in the order of
/// [`Reason`]'s variants. Viewers with nothing to flag are not listed.
pub fn flag(answers: &[Answer], connections: &[Connection], s: &Settings) -> Vec<Flag> {
    let mut by_viewer: FxHashMap<&str, Vec<&Answer>> = FxHashMap::default();
    for a in answers {
        by_viewer.entry(&a.viewer).or_default().push(a);
    }
    let mut out: BTreeMap<String, Vec<Reason>> = BTreeMap::new();
    for (viewer, list) in &by_viewer {
        let mut reasons: Vec<Reason> = fast(list, s).into_iter().chain(untrusted(list)).collect();
        if !reasons.is_empty() {
            out.entry((*viewer).to_owned())
                .or_default()
                .append(&mut reasons);
        }
    }
    for (viewer, reason) in shared_device(answers, connections, s) {
        out.entry(viewer).or_default().push(reason);
    }
    for (viewer, reason) in no_page(connections) {
        out.entry(viewer).or_default().push(reason);
    }
    out.into_iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(viewer, mut reasons)| {
            reasons.sort_by_key(order);
            Flag { viewer, reasons }
        })
        .collect()
}

fn order(r: &Reason) -> u8 {
    match r {
        Reason::Fast { .. } => 0,
        Reason::Untrusted { .. } => 1,
        Reason::SharedDevice { .. } => 2,
        Reason::NoPage { .. } => 3,
    }
}

fn fast(list: &[&Answer], s: &Settings) -> Option<Reason> {
    let timed: Vec<(&str, Millis)> = list
        .iter()
        .filter_map(|a| a.reaction_ms.map(|r| (a.prompt.as_str(), r)))
        .collect();
    let mut quick: Vec<(String, Millis)> = timed
        .iter()
        .filter(|(_, r)| *r < s.fast_ms)
        .map(|(p, r)| ((*p).to_owned(), *r))
        .collect();
    let consistent =
        quick.len() >= s.fast_min.max(1) && quick.len() * 100 >= timed.len() * s.fast_share_pct;
    if !consistent {
        return None;
    }
    quick.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    Some(Reason::Fast {
        fast: quick.len(),
        timed: timed.len(),
        threshold_ms: s.fast_ms,
        prompts: quick,
    })
}

fn untrusted(list: &[&Answer]) -> Option<Reason> {
    let pick = |keep: &dyn Fn(&Answer) -> bool| -> Vec<String> {
        let set: BTreeSet<&str> = list
            .iter()
            .filter(|a| keep(a))
            .map(|a| a.prompt.as_str())
            .collect();
        set.into_iter().map(str::to_owned).collect()
    };
    let untrusted = pick(&|a| {
        a.hints
            .is_some_and(|h| !h.trusted || h.input == Input::None)
    });
    let not_rendered = pick(&|a| a.hints.is_some_and(|h| !h.rendered));
    let no_hints = pick(&|a| a.hints.is_none());
    if untrusted.is_empty() && not_rendered.is_empty() && no_hints.is_empty() {
        return None;
    }
    Some(Reason::Untrusted {
        untrusted,
        not_rendered,
        no_hints,
    })
}

/// Viewers of one device who answered the same prompts within `together_ms` of each other on
/// at least `together_min` prompts.
fn shared_device(
    answers: &[Answer],
    connections: &[Connection],
    s: &Settings,
) -> Vec<(String, Reason)> {
    let device: FxHashMap<&str, &str> = connections
        .iter()
        .filter_map(|c| c.device.as_deref().map(|d| (c.conn.as_str(), d)))
        .collect();
    // Only devices more than one viewer connected from can flag anyone: at forum scale almost
    // every device is one person's, and grouping their answers would be most of the work.
    let mut users: FxHashMap<&str, FxHashSet<&str>> = FxHashMap::default();
    for c in connections {
        if let Some(d) = c.device.as_deref() {
            users.entry(d).or_default().insert(&c.viewer);
        }
    }
    let shared: FxHashSet<&str> = users
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(d, _)| d)
        .collect();
    // (device, prompt) → each viewer's first answer to it from that device.
    let mut groups: BTreeMap<(&str, &str), BTreeMap<&str, Millis>> = BTreeMap::new();
    for a in answers {
        let Some(d) = device.get(a.conn.as_str()).filter(|d| shared.contains(*d)) else {
            continue;
        };
        let first = groups.entry((d, &a.prompt)).or_default();
        let t = first.entry(&a.viewer).or_insert(a.at);
        *t = (*t).min(a.at);
    }
    // viewer → other viewer → prompts answered together.
    let mut pairs: BTreeMap<&str, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for ((_, prompt), first) in &groups {
        let list: Vec<(&str, Millis)> = first.iter().map(|(v, t)| (*v, *t)).collect();
        for (i, (a, ta)) in list.iter().enumerate() {
            for (b, tb) in &list[i + 1..] {
                if (ta - tb).abs() <= s.together_ms {
                    pairs
                        .entry(a)
                        .or_default()
                        .entry(b)
                        .or_default()
                        .insert(prompt);
                    pairs
                        .entry(b)
                        .or_default()
                        .entry(a)
                        .or_default()
                        .insert(prompt);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (viewer, others) in pairs {
        let repeated: Vec<(&str, &BTreeSet<&str>)> = others
            .iter()
            .filter(|(_, ps)| ps.len() >= s.together_min.max(1))
            .map(|(o, ps)| (*o, ps))
            .collect();
        if repeated.is_empty() {
            continue;
        }
        let prompts: BTreeSet<&str> = repeated
            .iter()
            .flat_map(|(_, ps)| ps.iter().copied())
            .collect();
        out.push((
            viewer.to_owned(),
            Reason::SharedDevice {
                others: repeated.iter().map(|(o, _)| (*o).to_owned()).collect(),
                prompts: prompts.into_iter().map(str::to_owned).collect(),
                together_ms: s.together_ms,
            },
        ));
    }
    out
}

fn no_page(connections: &[Connection]) -> Vec<(String, Reason)> {
    let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for c in connections {
        let Some(loaded) = c.page_loaded else {
            continue;
        };
        let e = per.entry(&c.viewer).or_default();
        e.1 += 1;
        if !loaded {
            e.0 += 1;
        }
    }
    per.into_iter()
        .filter(|(_, (count, _))| *count > 0)
        .map(|(v, (count, of))| (v.to_owned(), Reason::NoPage { count, of }))
        .collect()
}
