//! Forum-wide corrections of a session (after an outage), applied by the rules when the
//! session's verdicts are computed. The frozen session rules are never edited: a correction is
//! an explicit, dated input the rules read beside them, and every verdict of a corrected session
//! names it in its reasons.
//!
//! What a correction does:
//! - **A voided prompt** ([`Change::VoidPrompt`]) is neither required nor missed for anyone: its
//!   status is [`super::Status::Voided`], it is not among the prompts shown or confirmed, and it
//!   does not pause counting. The number of confirmations required drops by one for each voided
//!   prompt of the session. Why by one rather than "at most what is left": the session keeps the
//!   slack it was planned with (with 4 of 5 required one prompt may be missed, and after voiding
//!   one, 3 of 4 still allow one miss). Keeping the requirement would make a 4-of-4 session
//!   impossible, and "at most what is left" would make a 3-of-5 session stricter (3 of 4) and
//!   take credit away from a viewer who had confirmed the voided prompt. With "one less" a
//!   viewer loses at most the one confirmation the requirement also loses, so a correction
//!   never withdraws credit.
//! - **An excluded range** ([`Change::Exclude`], `[from, to)`) is treated like a sponsor talk:
//!   time in it is not counted, and the prompts shown in it are voided as above. The minimum
//!   minutes shrink by the counted time the range removes from the window: the outage took those
//!   minutes from everyone, so a viewer who watched everything that was left must still be able
//!   to reach the minimum, and one who had reached it keeps it (they lose at most the excluded
//!   minutes, which is what the minimum loses).
//!
//! A correction naming another session changes nothing here.

use jiff::tz::TimeZone;

use super::facts::Facts;
use crate::domain::decisions::{Change, Correction};
use crate::domain::forum::Session;
use crate::domain::time::{
    MINUTE, Millis, Span, format_clock, format_clock_seconds, local_date, measure, normalize,
    subtract,
};

/// What the corrections of one session make of its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Applied {
    /// The window minus the session's own excluded ranges and the corrections' ones.
    pub counted_parts: Vec<Span>,
    /// The minimum counted time, less the counted time the corrections excluded.
    pub min_ms: Millis,
    /// Confirmations required, less one per voided prompt.
    pub required: u32,
    /// Indices into `Facts::prompts` of the voided prompts, with the date of the correction
    /// that voided each (the earliest, if several did).
    pub voided: Vec<(u32, Millis)>,
    /// Each correction in words, in the order they were recorded.
    pub notes: Vec<String>,
}

/// Applies to `session` (whose prompts are `prompts`, indices into `facts.prompts`) the
/// corrections that name it, in the order they were recorded.
pub(super) fn apply(
    session: &Session,
    prompts: &[u32],
    facts: &Facts,
    corrections: &[Correction],
    tz: &TimeZone,
) -> Applied {
    let base = session.counted_parts();
    let mut mine: Vec<&Correction> = corrections
        .iter()
        .filter(|c| c.session == session.id)
        .collect();
    mine.sort_by_key(|c| c.at);
    let mut voided: Vec<(u32, Millis)> = Vec::new();
    let mut void = |p: u32, at: Millis| {
        if !voided.iter().any(|(q, _)| *q == p) {
            voided.push((p, at));
        }
    };
    let mut holes = Vec::new();
    let mut notes = Vec::new();
    for c in &mine {
        let what = match &c.change {
            Change::VoidPrompt { prompt } => {
                let found = prompts
                    .iter()
                    .copied()
                    .find(|&p| facts.prompts[p as usize].id == prompt);
                match found {
                    Some(p) => {
                        void(p, c.at);
                        let shown = format_clock_seconds(facts.prompts[p as usize].ts, tz);
                        format!("окно подтверждения в {shown} не учитывается ни для кого")
                    }
                    None => format!("окно подтверждения «{prompt}» не учитывается ни для кого"),
                }
            }
            Change::Exclude { from, to } => {
                let range = Span::new(*from, *to);
                holes.push(range);
                for &p in prompts {
                    if range.contains(facts.prompts[p as usize].ts) {
                        void(p, c.at);
                    }
                }
                format!(
                    "время {}–{} не засчитывается, окна подтверждения в нём не учитываются",
                    format_clock(*from, tz),
                    format_clock(*to, tz)
                )
            }
        };
        notes.push(format!(
            "Поправка от {}: {what} — причина: {}",
            date_ru(c.at, tz),
            c.reason.trim()
        ));
    }
    let counted_parts = subtract(&base, &normalize(holes));
    let lost = measure(&base) - measure(&counted_parts);
    Applied {
        min_ms: (session.min_ms() - lost).max(0),
        required: session.prompts_required.saturating_sub(voided.len() as u32),
        counted_parts,
        voided,
        notes,
    }
}

/// `12.04.2026` in `tz`.
pub fn date_ru(t: Millis, tz: &TimeZone) -> String {
    let d = local_date(t, tz);
    format!("{:02}.{:02}.{}", d.day(), d.month(), d.year())
}

/// Whole minutes of `ms`, rounded up: a minimum of 44.5 minutes is shown as 45.
pub(super) fn minutes_up(ms: Millis) -> Millis {
    (ms + MINUTE - 1).div_euclid(MINUTE)
}

/// `c` in the words every verdict of its session shows, «Поправка от 12.04.2026: …», with
/// prompts as `plan` (built over `facts`) knows them; `None` if the plan has no such session.
pub fn describe(plan: &super::Plan, facts: &Facts, c: &Correction) -> Option<String> {
    let ps = &plan.sessions[plan.index_of(&c.session)?];
    let tz = plan.forum.tz();
    apply(ps.session, &ps.prompts, facts, std::slice::from_ref(c), &tz)
        .notes
        .pop()
}
