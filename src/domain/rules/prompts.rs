//! One status per (viewer, prompt), decided here and nowhere else.
//!
//! Everything that tells what became of a prompt — the player's tally, the organiser's evidence
//! panel, the printable report, the commission's export — shows a [`PromptOutcome`] and its
//! [`PromptOutcome::label`], so no two of them can disagree, nor disagree with the verdict:
//! "shown" here is exactly the verdict's "present" (the viewer had counted time in the prompt's
//! hall at some moment of its window), and a prompt is missed in the verdict (rule 5) exactly
//! when its status is [`Status::NotConfirmed`].

use jiff::tz::TimeZone;
use serde::Serialize;

use super::evaluate::{Plan, ViewerEvaluation};
use super::facts::{Facts, HallIx, ViewerFacts};
use super::timeline::ActiveSpan;
use super::verdict::ConfirmCheck;
use crate::domain::forum::Forum;
use crate::domain::time::{Millis, Span, format_clock_seconds, local_date};

/// What became of a prompt for one viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Shown and confirmed in time.
    Confirmed,
    /// Shown (the viewer was present) and not confirmed: a missed prompt.
    NotConfirmed,
    /// The viewer was not present while it was open.
    NotShown,
    /// Still open, not confirmed yet (only when judged before it closes).
    Open,
    /// Not in any session's window: it counts for nothing.
    OutsideSession,
    /// Voided by a correction of its session: neither required nor missed for anyone.
    Voided,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::NotConfirmed => "not_confirmed",
            Status::NotShown => "not_shown",
            Status::Open => "open",
            Status::OutsideSession => "outside_session",
            Status::Voided => "voided",
        }
    }
}

/// Why a prompt has its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A valid confirm at `at`, on the viewer's connection `conn` (index into their `conns`).
    Confirmed { at: Millis, conn: u32 },
    /// Shown; it closed with no valid confirm and no press.
    NoAnswer,
    /// Shown; the limit of wrong answers was reached, so it could no longer be confirmed.
    TooManyWrong,
    /// Shown; pressed (see [`PromptOutcome::press`]), but the press did not count.
    Refused,
    /// Not shown: no connection of the viewer was active during the window.
    NotConnected,
    /// Not shown: another hall was the viewer's active hall during the window.
    OtherHall(HallIx),
    /// Not shown: in the hall during the window only when time is not counted (an excluded
    /// part such as a sponsor talk, or after the session's end).
    NotCounted,
    /// Still open and not confirmed yet.
    Open,
    /// Not in any session's window.
    OutsideSession,
    /// Voided by a correction recorded at `at` (see [`super::corrections`]).
    Voided { at: Millis },
}

/// A press of «Подтвердить» that did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Press {
    pub at: Millis,
    pub check: ConfirmCheck,
}

/// One prompt's status for one viewer, with what it is decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptOutcome {
    /// Index into [`Facts::prompts`].
    pub prompt: u32,
    pub why: Why,
    /// Shown to the viewer: confirmed, or present at some moment of the window. This is what
    /// «подтверждено 3 из 4 показанных» counts.
    pub shown: bool,
    /// Wrong answers the viewer chose for it.
    pub wrong: u32,
    /// The viewer's last press of it that did not count, if any.
    pub press: Option<Press>,
}

impl PromptOutcome {
    pub fn status(&self) -> Status {
        match self.why {
            Why::Confirmed { .. } => Status::Confirmed,
            Why::NoAnswer | Why::TooManyWrong | Why::Refused => Status::NotConfirmed,
            Why::NotConnected | Why::OtherHall(_) | Why::NotCounted => Status::NotShown,
            Why::Open => Status::Open,
            Why::OutsideSession => Status::OutsideSession,
            Why::Voided { .. } => Status::Voided,
        }
    }

    /// The status in the words every page shows, e.g. «Подтверждено в 11:09:12» or «Не
    /// показано: в это время смотрели Зал №2». Times are in `tz`, to the second.
    pub fn label(&self, forum: &Forum, facts: &Facts, tz: &TimeZone) -> String {
        let hall = |h: HallIx| {
            let id = facts.halls[h as usize];
            forum.hall(id).map_or(id, |x| x.title.as_str()).to_owned()
        };
        let at = |t: Millis| format_clock_seconds(t, tz);
        let refused = |p: &Press| -> String {
            let t = at(p.at);
            match p.check {
                ConfirmCheck::Late => format!("нажато в {t}, после закрытия окна"),
                ConfirmCheck::BeforePrompt => format!("нажато в {t}, до появления окна"),
                ConfirmCheck::ConnectionNotAlive => {
                    format!("нажато в {t} на уже закрытом соединении")
                }
                ConfirmCheck::OtherHall => format!("нажато в {t} во вкладке другого зала"),
                ConfirmCheck::NotActiveHall => {
                    format!("нажато в {t} во вкладке на паузе (активен был другой зал)")
                }
                ConfirmCheck::TooManyWrongAnswers => {
                    format!("нажато в {t} после слишком многих неверных ответов")
                }
                ConfirmCheck::Valid | ConfirmCheck::UnknownPrompt => format!("нажато в {t}"),
            }
        };
        let not_counted_press = || {
            self.press.map_or(String::new(), |p| {
                format!(" (нажатие в {} не засчитано)", at(p.at))
            })
        };
        match self.why {
            Why::Confirmed { at: t, .. } => format!("Подтверждено в {}", at(t)),
            Why::NoAnswer if self.wrong == 0 => "Не подтверждено: окно закрылось без ответа".into(),
            Why::NoAnswer => format!(
                "Не подтверждено: окно закрылось без верного ответа ({})",
                wrong_answers_ru(self.wrong)
            ),
            Why::TooManyWrong => format!("Не подтверждено: {}", wrong_answers_ru(self.wrong)),
            Why::Refused => match &self.press {
                Some(p) => format!("Не подтверждено: {}", refused(p)),
                None => "Не подтверждено".into(),
            },
            Why::NotConnected => format!(
                "Не показано: во время окна не было подключения{}",
                not_counted_press()
            ),
            Why::OtherHall(h) => format!(
                "Не показано: в это время смотрели {}{}",
                hall(h),
                not_counted_press()
            ),
            Why::NotCounted => {
                "Не учитывается: окно пришлось на время, которое не засчитывается".into()
            }
            Why::Open => format!(
                "Открыто до {}",
                at(facts.prompts[self.prompt as usize].closes)
            ),
            Why::OutsideSession => "Вне сессии: в это время в зале не было сессии".into(),
            Why::Voided { at: t } => format!(
                "Не учитывается ни для кого: поправка от {}",
                super::corrections::date_ru(t, tz)
            ),
        }
    }
}

/// «1 неверный ответ», «3 неверных ответа», «5 неверных ответов».
pub fn wrong_answers_ru(n: u32) -> String {
    let form = match (n % 10, n % 100) {
        (1, m) if m != 11 => "неверный ответ",
        (2..=4, m) if !(12..=14).contains(&m) => "неверных ответа",
        _ => "неверных ответов",
    };
    format!("{n} {form}")
}

/// A viewer's facts and what the rules made of them, as [`decide`] needs them.
pub(super) struct Viewing<'v, 'a> {
    pub v: &'v ViewerFacts<'a>,
    /// The check of each of `v.confirms`.
    pub checks: &'v [ConfirmCheck],
    pub active: &'v [ActiveSpan],
}

/// The status of prompt `p` of a session, given the viewer's counted time in that session
/// before any pause (rule 5 pauses *because of* missed prompts, so presence is judged first).
pub(super) fn decide(
    plan: &Plan,
    facts: &Facts,
    w: &Viewing,
    p: u32,
    counted: &[Span],
) -> PromptOutcome {
    let prompt = &facts.prompts[p as usize];
    let window = Span::new(prompt.ts, prompt.closes);
    let mut valid = None;
    let mut press = None;
    for (c, check) in w.v.confirms.iter().zip(w.checks) {
        if c.prompt != Some(p) {
            continue;
        }
        if *check == ConfirmCheck::Valid {
            valid = valid.or(Some((c.ts, c.conn)));
        } else {
            press = Some(Press {
                at: c.ts,
                check: *check,
            });
        }
    }
    let wrong = w.v.wrong_answers_to(p, Millis::MAX);
    let present = counted.iter().any(|c| c.overlaps(&window));
    let why = if let Some(at) = plan.voided_at(p) {
        // Voided before anything else: a confirm of it counts for nothing either.
        Why::Voided { at }
    } else if let Some((at, conn)) = valid {
        Why::Confirmed { at, conn }
    } else if present && wrong >= plan.params.max_wrong_answers {
        Why::TooManyWrong
    } else if prompt.closes >= plan.params.as_of {
        Why::Open
    } else if present && press.is_some() {
        Why::Refused
    } else if present {
        Why::NoAnswer
    } else {
        absent(w.active, prompt.hall, &window)
    };
    PromptOutcome {
        prompt: p,
        why,
        shown: !matches!(why, Why::Voided { .. }) && (valid.is_some() || present),
        wrong,
        press,
    }
}

/// Why a viewer who was not present for a prompt in `hall` open over `window` did not see it.
fn absent(active: &[ActiveSpan], hall: HallIx, window: &Span) -> Why {
    let mut elsewhere: Option<(Millis, HallIx)> = None;
    let mut in_hall = false;
    for a in active.iter().filter(|a| a.span.overlaps(window)) {
        if a.hall == hall {
            in_hall = true;
        } else {
            // The hall watched longest during the window is the one to name.
            let len = a.span.intersect(window).len();
            if elsewhere.is_none_or(|(longest, _)| len > longest) {
                elsewhere = Some((len, a.hall));
            }
        }
    }
    match (in_hall, elsewhere) {
        (true, _) => Why::NotCounted,
        (false, Some((_, h))) => Why::OtherHall(h),
        (false, None) => Why::NotConnected,
    }
}

/// The statuses of the prompts of `plan.sessions[session]` for a viewer evaluated into `eval`
/// (with [`super::evaluate_viewer`] or [`super::evaluate_viewer_in`] over the same plan), in
/// log order: the session result's own when the viewer has one, else each decided with no
/// counted time.
pub fn session_prompts(
    plan: &Plan,
    facts: &Facts,
    v: &ViewerFacts,
    eval: &ViewerEvaluation,
    session: usize,
) -> Vec<PromptOutcome> {
    let ps = &plan.sessions[session];
    if let Some(r) = eval.sessions.iter().find(|r| r.session == ps.session.id) {
        return r.prompts.clone();
    }
    let w = Viewing {
        v,
        checks: &eval.checks,
        active: &eval.active,
    };
    ps.prompts
        .iter()
        .map(|&p| decide(plan, facts, &w, p, &[]))
        .collect()
}

/// Every prompt that concerns a viewer, with its status, in log order: the prompts of every
/// session with a result, and every other prompt of the halls they connected to on the days
/// (in `tz`) they were connected, so a prompt shown while they were away is listed too.
pub fn for_viewer(
    plan: &Plan,
    facts: &Facts,
    v: &ViewerFacts,
    eval: &ViewerEvaluation,
    tz: &TimeZone,
) -> Vec<PromptOutcome> {
    let halls: Vec<HallIx> = v.conns.iter().map(|c| c.hall).collect();
    let days: Vec<jiff::civil::Date> = v
        .conns
        .iter()
        .flat_map(|c| [local_date(c.start, tz), local_date(c.end, tz)])
        .collect();
    let w = Viewing {
        v,
        checks: &eval.checks,
        active: &eval.active,
    };
    let mut out = Vec::new();
    for (ix, prompt) in facts.prompts.iter().enumerate() {
        let ix = ix as u32;
        let judged = eval
            .sessions
            .iter()
            .flat_map(|r| &r.prompts)
            .find(|o| o.prompt == ix);
        if let Some(o) = judged {
            out.push(*o);
            continue;
        }
        if !halls.contains(&prompt.hall) || !days.contains(&local_date(prompt.ts, tz)) {
            continue;
        }
        match plan.sessions.iter().find(|ps| ps.prompts.contains(&ix)) {
            Some(_) => out.push(decide(plan, facts, &w, ix, &[])),
            None => {
                let mut o = decide(plan, facts, &w, ix, &[]);
                o.why = Why::OutsideSession;
                o.shown = false;
                out.push(o);
            }
        }
    }
    out
}
