//! The confirm decision: may a viewer's answer to a prompt on a tab in `hall` be judged now?
//! The prompt must be known, open, of the tab's hall; the tab's hall must be the viewer's
//! active hall; the prompt not confirmed yet (nor being confirmed) and not locked by too many
//! wrong answers. Whether the answer itself is right is the challenge's business (the hub's).

use super::LiveViewer;
use crate::domain::time::Millis;

/// A prompt as the confirm decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptWindow<'a> {
    pub hall: &'a str,
    pub ts: Millis,
    pub closes: Millis,
}

impl PromptWindow<'_> {
    /// Open at `now`, both ends included (rule 4).
    pub fn open_at(&self, now: Millis) -> bool {
        self.ts <= now && now <= self.closes
    }
}

/// Why a confirm is refused; the protocol's error code of the same name says it to the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownPrompt,
    PromptClosed,
    WrongHall,
    NotActive,
    AlreadyConfirmed,
    TooManyWrongAnswers,
}

impl LiveViewer {
    /// Whether an answer to `prompt` (`window` if the prompt is known) from a tab in `hall` may
    /// be judged at `now`, under a limit of `max_wrong` wrong answers per prompt. The checks
    /// run in the order the viewer should hear about them.
    pub fn may_answer(
        &self,
        prompt: &str,
        window: Option<PromptWindow>,
        hall: &str,
        now: Millis,
        max_wrong: u32,
    ) -> Result<(), Refusal> {
        let window = window.ok_or(Refusal::UnknownPrompt)?;
        if !window.open_at(now) {
            return Err(Refusal::PromptClosed);
        }
        if window.hall != hall {
            return Err(Refusal::WrongHall);
        }
        if self.active_hall() != Some(hall) {
            return Err(Refusal::NotActive);
        }
        if self.has_confirmed(prompt) {
            return Err(Refusal::AlreadyConfirmed);
        }
        if self.wrong_answers(prompt) >= max_wrong {
            return Err(Refusal::TooManyWrongAnswers);
        }
        Ok(())
    }
}
