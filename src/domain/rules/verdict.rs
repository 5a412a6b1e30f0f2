//! Verdicts and their reasons, in the words an organiser or a doctor reads (rule 7).

use serde::Serialize;

use super::facts::Profile;
use crate::domain::forum::Session;
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
        }
    }
}

/// The rules' result for one viewer in one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionResult {
    pub session: String,
    /// Counted time: sorted, disjoint spans.
    pub counted: Vec<Span>,
    pub counted_ms: Millis,
    /// Time removed by pausing on missed prompts (rule 5).
    pub paused_ms: Millis,
    /// Indices into `Facts::prompts`: every prompt of the session, then those validly confirmed,
    /// then those the viewer was present for and did not confirm.
    pub prompts_shown: Vec<u32>,
    pub confirmed_prompts: Vec<u32>,
    pub missed_prompts: Vec<u32>,
    pub confirmed: u32,
    pub required: u32,
    /// Whether the viewer's (education, specialty) is in the session's audience.
    pub admitted: bool,
    pub eligible: bool,
    pub reasons: Vec<String>,
}

impl SessionResult {
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
    /// Prompts of the session shown in its hall.
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
            shown: r.prompts_shown.len() as u32,
            required: r.required,
            admitted: r.admitted,
        }
    }

    /// Whole minutes of counted time, rounded down.
    pub fn minutes(&self) -> i64 {
        self.counted_ms.div_euclid(MINUTE)
    }
}

/// The reasons of a verdict, in Russian: time, confirmations, audience — always all three, so a
/// participant sees what was met as well as what was not.
pub fn reasons(s: &Session, profile: Option<&Profile>, r: &SessionResult) -> Vec<String> {
    reasons_for(s, profile, &Tally::of(r))
}

/// [`reasons`] from a [`Tally`].
pub fn reasons_for(s: &Session, profile: Option<&Profile>, r: &Tally) -> Vec<String> {
    let mut out = Vec::with_capacity(4);
    let minutes = r.minutes();
    let time_ok = r.counted_ms >= s.min_ms();
    out.push(if time_ok {
        format!("засчитано {minutes} из {} мин", s.min_minutes)
    } else {
        format!(
            "засчитано {minutes} из {} мин (не хватает {} мин)",
            s.min_minutes,
            (s.min_ms() - r.counted_ms + MINUTE - 1) / MINUTE
        )
    });
    if r.paused_ms > 0 {
        out.push(format!(
            "после пропущенных подтверждений не засчитано {} мин",
            r.paused_ms / MINUTE
        ));
    }
    out.push(format!(
        "подтверждено {} из {} (нужно {})",
        r.confirmed, r.shown, r.required
    ));
    out.push(match profile {
        None => "нет анкеты участника: специальность неизвестна".to_owned(),
        Some(p) if r.admitted => format!(
            "специальность «{}» ({}) аккредитована",
            p.specialty.trim(),
            p.education.label_ru()
        ),
        Some(p) => {
            let other = p.education.other();
            if s.audience.admits(other, p.specialty) {
                format!(
                    "специальность «{}» аккредитована для этой сессии только для уровня «{}», а у участника — «{}»",
                    p.specialty.trim(),
                    other.label_ru(),
                    p.education.label_ru()
                )
            } else {
                format!(
                    "специальность «{}» не аккредитована для этой сессии",
                    p.specialty.trim()
                )
            }
        }
    });
    out
}
