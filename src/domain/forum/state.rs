//! A forum's life: черновик → регистрация открыта → идёт → завершён → архив.
//!
//! Two of the states are set by people (a draft is published, a finished forum is archived);
//! the three in between follow from the programme's dates, so a published forum opens, goes
//! live and finishes without anyone pressing a button at midnight. The store keeps the state
//! last set by hand; [`ForumState::current`] says what it is at a given moment.

use serde::Serialize;

use super::Forum;
use crate::domain::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ForumState {
    /// Being set up: nobody sees it but organisers.
    Draft,
    /// Published, before its first session: viewers register.
    Registration,
    /// Between the start of the first session and the end of the last.
    Live,
    /// After the last session: results, codes, appeals.
    Finished,
    /// Put away: its codes still verify, it is no longer listed for viewers or organisers' day.
    Archived,
}

impl ForumState {
    pub const ALL: [ForumState; 5] = [
        ForumState::Draft,
        ForumState::Registration,
        ForumState::Live,
        ForumState::Finished,
        ForumState::Archived,
    ];

    /// The code the store keeps and the API sends.
    pub fn code(self) -> &'static str {
        match self {
            ForumState::Draft => "draft",
            ForumState::Registration => "registration",
            ForumState::Live => "live",
            ForumState::Finished => "finished",
            ForumState::Archived => "archived",
        }
    }

    pub fn parse(code: &str) -> Option<ForumState> {
        ForumState::ALL
            .into_iter()
            .find(|s| s.code() == code.trim())
    }

    /// «Черновик», «Регистрация открыта», «Идёт», «Завершён», «Архив».
    pub fn label(self) -> &'static str {
        match self {
            ForumState::Draft => "Черновик",
            ForumState::Registration => "Регистрация открыта",
            ForumState::Live => "Идёт",
            ForumState::Finished => "Завершён",
            ForumState::Archived => "Архив",
        }
    }

    /// The state that follows from the dates alone: registration before the first session,
    /// live during the programme, finished after it. A forum without sessions has no dates
    /// yet and stays open for registration.
    pub fn by_dates(forum: &Forum, now: Millis) -> ForumState {
        match (forum.starts(), forum.ends()) {
            (Some(starts), _) if now < starts => ForumState::Registration,
            (Some(_), Some(ends)) if now < ends => ForumState::Live,
            (Some(_), _) => ForumState::Finished,
            (None, _) => ForumState::Registration,
        }
    }

    /// The state at `now` of a forum whose state set by hand is `stored`: a draft and an
    /// archive stay what they are; any other state follows the dates.
    pub fn current(stored: ForumState, forum: &Forum, now: Millis) -> ForumState {
        match stored {
            ForumState::Draft | ForumState::Archived => stored,
            _ => ForumState::by_dates(forum, now),
        }
    }

    /// Whether viewers see the forum (`GET /api/forums`, the list on `/`).
    pub fn is_public(self) -> bool {
        matches!(self, ForumState::Registration | ForumState::Live)
    }

    /// Checks a change an organiser asks for, from the forum's current state; the error is a
    /// Russian sentence saying why not and what can be done instead. Only the two ends are set
    /// by hand: publishing (or taking back a draft before its first session), archiving a
    /// finished forum (or a draft nobody needs) and bringing an archived forum back.
    pub fn change(self, to: ForumState) -> Result<ForumState, String> {
        use ForumState::*;
        let allowed = matches!(
            (self, to),
            (Draft, Registration)
                | (Registration, Draft)
                | (Draft, Archived)
                | (Finished, Archived)
                | (Archived, Finished)
        );
        if allowed {
            return Ok(to);
        }
        if self == to {
            return Err(format!("Форум уже в состоянии «{}».", self.label()));
        }
        let why = match (self, to) {
            (Live, _) => {
                "форум идёт: его состояние изменится само, когда закончится последняя сессия"
            }
            (_, Live) | (_, Finished) => "«Идёт» и «Завершён» наступают сами по датам программы",
            (Registration, Archived) => {
                "в архив убирают завершённый форум или черновик; открытый форум сначала верните в черновик"
            }
            (Finished, _) => "завершённый форум можно только убрать в архив",
            (Archived, _) => "архивный форум можно только вернуть из архива в «Завершён»",
            _ => "такого перехода нет",
        };
        Err(format!(
            "Нельзя перевести форум из состояния «{}» в «{}»: {why}.",
            self.label(),
            to.label()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forum::fixtures::{forum, session};
    use crate::domain::time::MINUTE;

    const HOUR: Millis = 60 * MINUTE;

    #[test]
    fn a_published_forum_follows_its_dates_and_the_ends_stay_put() {
        let f = forum("f", &["h"], vec![session("s", "h", 10 * HOUR, 12 * HOUR)]);
        let at = |now| ForumState::current(ForumState::Registration, &f, now);
        assert_eq!(at(HOUR), ForumState::Registration);
        assert_eq!(at(10 * HOUR), ForumState::Live);
        assert_eq!(at(12 * HOUR), ForumState::Finished);
        for kept in [ForumState::Draft, ForumState::Archived] {
            assert_eq!(ForumState::current(kept, &f, 11 * HOUR), kept);
        }
        assert!(ForumState::Live.is_public() && !ForumState::Draft.is_public());
    }

    #[test]
    fn only_the_ends_are_set_by_hand_and_a_refusal_says_why() {
        use ForumState::*;
        assert_eq!(Draft.change(Registration), Ok(Registration));
        assert_eq!(Finished.change(Archived), Ok(Archived));
        assert_eq!(Archived.change(Finished), Ok(Finished));
        let e = Live.change(Archived).unwrap_err();
        assert!(
            e.starts_with("Нельзя перевести форум из состояния «Идёт» в «Архив»"),
            "{e}"
        );
        assert!(Registration.change(Live).is_err());
        assert!(Draft.change(Draft).unwrap_err().contains("уже"));
        for s in ForumState::ALL {
            assert_eq!(ForumState::parse(s.code()), Some(s));
        }
    }
}
