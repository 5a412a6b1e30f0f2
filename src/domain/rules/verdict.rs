//! Verdicts and their reasons, in the words an organiser or a doctor reads (rule 7).

use serde::Serialize;

use super::evaluate::PlannedSession;
use super::facts::Profile;
use super::prompts::{PromptOutcome, Status};
use crate::domain::time::{MINUTE, Millis, SECOND, Span};

/// Why a confirm did or did not count (rule 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmCheck {
    Valid,
    UnknownPrompt,
    BeforePrompt,
    Late,
    ConnectionNotAlive,
    OtherHall,
    NotActiveHall,
    /// Pressed after the limit of wrong answers to this prompt was reached.
    TooManyWrongAnswers,
}

impl ConfirmCheck {
    pub fn describe_ru(self) -> &'static str {
        match self {
            ConfirmCheck::Valid => "засчитано",
            ConfirmCheck::UnknownPrompt => "такого окна подтверждения не было",
            ConfirmCheck::BeforePrompt => "нажато до появления окна",
            ConfirmCheck::Late => "нажато после закрытия окна",
            ConfirmCheck::ConnectionNotAlive => "соединение в этот момент не было активно",
            ConfirmCheck::OtherHall => "окно относилось к другому залу",
            ConfirmCheck::NotActiveHall => "в этот момент зритель смотрел другой зал",
            ConfirmCheck::TooManyWrongAnswers => "нажато после слишком многих неверных ответов",
        }
    }
}

/// The rules' result for one viewer in one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionResult {
    pub session: String,
    /// Counted time: sorted, disjoint spans.
    pub counted: Vec<Span>,
    pub counted_ms: Millis,
    /// Time removed by pausing on missed prompts (rule 5).
    pub paused_ms: Millis,
    /// Every prompt of the session with its one status for this viewer, in log order.
    pub prompts: Vec<PromptOutcome>,
    pub confirmed: u32,
    /// Prompts shown to this viewer: confirmed, or present for (see [`PromptOutcome::shown`]).
    pub shown: u32,
    pub required: u32,
    /// Whether the viewer's (education, specialty) is in the session's audience.
    pub admitted: bool,
    pub eligible: bool,
    pub reasons: Vec<Reason>,
}

/// One condition of a verdict in words, and whether it is met: pages show met ones as met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub ok: bool,
    pub text: String,
}

impl Reason {
    fn new(ok: bool, text: String) -> Reason {
        Reason { ok, text }
    }

    /// Reasons as one line of text, for a table cell: «Засчитано …; Подтверждено …; …».
    pub fn join(reasons: &[Reason]) -> String {
        let texts: Vec<&str> = reasons.iter().map(|r| r.text.as_str()).collect();
        texts.join("; ")
    }

    /// The same, each marked met (✓) or not (✗), for people reading a table: «✓ Засчитано …;
    /// ✗ Подтверждено …».
    pub fn join_marked(reasons: &[Reason]) -> String {
        let texts: Vec<String> = reasons
            .iter()
            .map(|r| format!("{} {}", if r.ok { '✓' } else { '✗' }, r.text))
            .collect();
        texts.join("; ")
    }
}

impl SessionResult {
    /// Indices into `Facts::prompts` of the prompts with `status`, in log order.
    pub fn with_status(&self, status: Status) -> impl Iterator<Item = u32> + '_ {
        self.prompts
            .iter()
            .filter(move |p| p.status() == status)
            .map(|p| p.prompt)
    }

    /// Whole seconds of counted time, rounded down.
    pub fn seconds(&self) -> i64 {
        self.counted_ms.div_euclid(SECOND)
    }

    /// Whole minutes of counted time, rounded down.
    pub fn minutes(&self) -> i64 {
        self.counted_ms.div_euclid(MINUTE)
    }
}

/// The few numbers a verdict's reasons are worded from: what an export keeps per row instead
/// of the reasons' text, so 100,000 viewers' results stay small until each row is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub counted_ms: Millis,
    pub paused_ms: Millis,
    pub confirmed: u32,
    /// Prompts of the session shown to this viewer (confirmed, or present for).
    pub shown: u32,
    pub required: u32,
    pub admitted: bool,
}

impl Tally {
    pub fn of(r: &SessionResult) -> Tally {
        Tally {
            counted_ms: r.counted_ms,
            paused_ms: r.paused_ms,
            confirmed: r.confirmed,
            shown: r.shown,
            required: r.required,
            admitted: r.admitted,
        }
    }

    /// Whole minutes of counted time, rounded down.
    pub fn minutes(&self) -> i64 {
        self.counted_ms.div_euclid(MINUTE)
    }
}

/// The reasons of a verdict, in Russian: time, confirmations, audience — always all three, each
/// marked met or not, so a participant sees what was met as well as what was not.
pub fn reasons(ps: &PlannedSession, profile: Option<&Profile>, r: &SessionResult) -> Vec<Reason> {
    reasons_for(ps, profile, &Tally::of(r))
}

/// «Подтверждено 3 из 4 показанных (нужно 4)»: the one wording of confirmations everywhere.
pub fn confirmations_ru(confirmed: u32, shown: u32, required: u32) -> String {
    format!("Подтверждено {confirmed} из {shown} показанных (нужно {required})")
}

/// [`reasons`] from a [`Tally`], with the session as planned (its corrections applied, each of
/// which is one more reason, after the three).
pub fn reasons_for(ps: &PlannedSession, profile: Option<&Profile>, r: &Tally) -> Vec<Reason> {
    let s = ps.session;
    let mut out = Vec::with_capacity(3 + ps.notes.len());
    let minutes = r.minutes();
    let time_ok = r.counted_ms >= ps.min_ms;
    let mut time = format!("Засчитано {minutes} из {} мин", ps.min_minutes());
    let mut notes = Vec::new();
    if !time_ok {
        let short = (ps.min_ms - r.counted_ms + MINUTE - 1) / MINUTE;
        notes.push(format!("не хватает {short} мин"));
    }
    if r.paused_ms > 0 {
        notes.push(format!(
            "после пропущенных подтверждений не засчитано {} мин",
            r.paused_ms / MINUTE
        ));
    }
    if !notes.is_empty() {
        time = format!("{time} ({})", notes.join("; "));
    }
    out.push(Reason::new(time_ok, time));
    out.push(Reason::new(
        r.confirmed >= r.required,
        confirmations_ru(r.confirmed, r.shown, r.required),
    ));
    out.push(match profile {
        None => Reason::new(
            false,
            "Нет анкеты участника: специальность неизвестна".to_owned(),
        ),
        Some(p) if r.admitted => Reason::new(
            true,
            format!(
                "Специальность «{}» ({}) аккредитована",
                p.specialty.trim(),
                p.education.label_ru()
            ),
        ),
        Some(p) => {
            let other = p.education.other();
            let text = if s.audience.admits(other, p.specialty) {
                format!(
                    "Специальность «{}» аккредитована для этой сессии только для уровня «{}», а у участника — «{}»",
                    p.specialty.trim(),
                    other.label_ru(),
                    p.education.label_ru()
                )
            } else {
                format!(
                    "Специальность «{}» не аккредитована для этой сессии",
                    p.specialty.trim()
                )
            };
            Reason::new(false, text)
        }
    });
    out.extend(ps.notes.iter().map(|n| Reason::new(true, n.clone())));
    out
}
