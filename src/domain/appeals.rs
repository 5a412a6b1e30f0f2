//! A viewer's appeal against a session's verdict («Я был на трансляции, а кода нет»): what it
//! holds, when one may be filed or edited, and the Russian sentences of each refusal.
//!
//! An appeal is answered once, by an organiser, with a grant or a rejection and a reason the
//! viewer reads. A grant is recorded as a [`Decision`](super::decisions::Decision) that gives
//! credit; a rejection records only the answer: the rules' refusal stands, so no decision is
//! needed, and a later decision by an administrator is still possible.

use serde::Serialize;

use super::time::Millis;

/// Longest appeal text kept, in characters.
pub const MAX_APPEAL_CHARS: usize = 2_000;

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for an organiser; the viewer may still edit it.
    Open,
    /// Answered: closed for good.
    Answered,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Answered => "answered",
        }
    }

    pub fn parse(code: &str) -> Option<State> {
        match code {
            "open" => Some(State::Open),
            "answered" => Some(State::Answered),
            _ => None,
        }
    }
}

/// The organiser's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// Credit granted (true) or the appeal rejected (false).
    pub grant: bool,
    pub reason: String,
    pub by: String,
    pub at: Millis,
}

/// One appeal as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appeal {
    pub id: i64,
    pub viewer: String,
    pub session: String,
    pub text: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub state: State,
    pub answer: Option<Answer>,
}

/// The appeal text as kept: trimmed, 1..=[`MAX_APPEAL_CHARS`] characters.
pub fn check_text(text: &str) -> Result<String, String> {
    super::text::kept(
        text,
        MAX_APPEAL_CHARS,
        "Напишите, что произошло: обращение без текста не отправить.",
        |n| {
            format!(
                "Обращение слишком длинное: {n} знаков, можно не больше {MAX_APPEAL_CHARS}. \
                 Сократите текст."
            )
        },
    )
}

/// Why a new appeal for a session is refused, given where the session stands.
///
/// `ended`: the session is over; `credited`: it counts for the viewer now (by the rules or by
/// a decision); `open`: the viewer already has an open appeal for it.
pub fn may_file(ended: bool, credited: bool, open: bool) -> Result<(), String> {
    if !ended {
        return Err(
            "Обращение можно подать, когда сессия закончится и итог будет известен.".into(),
        );
    }
    if credited {
        return Err("Эта сессия вам засчитана: обращение не нужно.".into());
    }
    if open {
        return Err(
            "По этой сессии уже есть обращение, оно ждёт ответа. Вы можете изменить его текст."
                .into(),
        );
    }
    Ok(())
}

/// Why an appeal cannot be edited (answered ones are closed).
pub fn may_edit(a: &Appeal) -> Result<(), String> {
    match a.state {
        State::Open => Ok(()),
        State::Answered => Err(
            "На это обращение уже ответили, изменить его нельзя. Ответ — на этой странице.".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_required_and_bounded() {
        assert!(check_text(" \n ").unwrap_err().starts_with("Напишите"));
        assert_eq!(check_text("  Был весь день ").unwrap(), "Был весь день");
        assert!(check_text(&"ы".repeat(MAX_APPEAL_CHARS)).is_ok());
        let long = check_text(&"ы".repeat(MAX_APPEAL_CHARS + 1)).unwrap_err();
        assert!(long.contains("2001 знаков"), "{long}");
    }

    #[test]
    fn only_an_ended_session_that_does_not_count_can_be_appealed_once() {
        assert!(may_file(true, false, false).is_ok());
        assert!(
            may_file(false, false, false)
                .unwrap_err()
                .contains("закончится")
        );
        assert!(
            may_file(true, true, false)
                .unwrap_err()
                .contains("засчитана")
        );
        assert!(
            may_file(true, false, true)
                .unwrap_err()
                .contains("уже есть")
        );
    }

    #[test]
    fn answered_appeals_are_closed() {
        let mut a = Appeal {
            id: 1,
            viewer: "v".into(),
            session: "s1".into(),
            text: "t".into(),
            created_at: 0,
            updated_at: 0,
            state: State::Open,
            answer: None,
        };
        assert!(may_edit(&a).is_ok());
        a.state = State::Answered;
        assert!(may_edit(&a).unwrap_err().contains("уже ответили"));
        assert_eq!(State::parse(State::Open.code()), Some(State::Open));
    }
}
