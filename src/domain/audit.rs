//! The audit trail's vocabulary: which organiser actions are recorded, their codes and Russian
//! names, and an entry as plain data.
//!
//! Entries are appended by the API (one call per action, see `api::audit`) and by the command
//! line, kept in the store with no way to change or remove them, and read back newest first.

use serde::Serialize;
use serde_json::Value;

use super::time::Millis;

/// A recorded action. The code is what the store keeps and the API filters on; adding an
/// action means adding a variant here (its title and code follow from the tables below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    SignIn,
    SignInFailed,
    SignOut,
    AccessDenied,
    PromptFired,
    ViewersImported,
    CodesImported,
    CodesIssued,
    LinkReissued,
    LettersQueued,
    LetterResent,
    TextChanged,
    AccountCreated,
    RoleChanged,
    AccountDisabled,
    AccountEnabled,
    PasswordChanged,
    PasswordReset,
    AppealAnswered,
    DecisionRecorded,
    CorrectionRecorded,
    ForumCreated,
    ForumSaved,
    ForumStateChanged,
    /// Participants' personal data removed at the end of its retention period.
    PersonalDataRemoved,
    /// An organiser reviewed a viewer's integrity flags, with a note.
    FlagReviewed,
}

impl Action {
    pub const ALL: [Action; 26] = [
        Action::SignIn,
        Action::SignInFailed,
        Action::SignOut,
        Action::AccessDenied,
        Action::PromptFired,
        Action::ViewersImported,
        Action::CodesImported,
        Action::CodesIssued,
        Action::LinkReissued,
        Action::LettersQueued,
        Action::LetterResent,
        Action::TextChanged,
        Action::AccountCreated,
        Action::RoleChanged,
        Action::AccountDisabled,
        Action::AccountEnabled,
        Action::PasswordChanged,
        Action::PasswordReset,
        Action::AppealAnswered,
        Action::DecisionRecorded,
        Action::CorrectionRecorded,
        Action::ForumCreated,
        Action::ForumSaved,
        Action::ForumStateChanged,
        Action::PersonalDataRemoved,
        Action::FlagReviewed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignInFailed => "sign_in_failed",
            Action::SignOut => "sign_out",
            Action::AccessDenied => "access_denied",
            Action::PromptFired => "prompt_fired",
            Action::ViewersImported => "viewers_imported",
            Action::CodesImported => "codes_imported",
            Action::CodesIssued => "codes_issued",
            Action::LinkReissued => "link_reissued",
            Action::LettersQueued => "letters_queued",
            Action::LetterResent => "letter_resent",
            Action::TextChanged => "text_changed",
            Action::AccountCreated => "account_created",
            Action::RoleChanged => "role_changed",
            Action::AccountDisabled => "account_disabled",
            Action::AccountEnabled => "account_enabled",
            Action::PasswordChanged => "password_changed",
            Action::PasswordReset => "password_reset",
            Action::AppealAnswered => "appeal_answered",
            Action::DecisionRecorded => "decision_recorded",
            Action::CorrectionRecorded => "correction_recorded",
            Action::ForumCreated => "forum_created",
            Action::ForumSaved => "forum_saved",
            Action::ForumStateChanged => "forum_state_changed",
            Action::PersonalDataRemoved => "personal_data_removed",
            Action::FlagReviewed => "flag_reviewed",
        }
    }

    /// The name shown in the dashboard's filter and the CSV.
    pub fn title(self) -> &'static str {
        match self {
            Action::SignIn => "Вход",
            Action::SignInFailed => "Неудачный вход",
            Action::SignOut => "Выход",
            Action::AccessDenied => "Отказ в доступе",
            Action::PromptFired => "Окно подтверждения вручную",
            Action::ViewersImported => "Импорт участников",
            Action::CodesImported => "Загрузка кодов НМО",
            Action::CodesIssued => "Выдача кодов НМО",
            Action::LinkReissued => "Новая персональная ссылка",
            Action::LettersQueued => "Рассылка писем",
            Action::LetterResent => "Повторная отправка письма",
            Action::TextChanged => "Изменён текст для участников",
            Action::AccountCreated => "Создана учётная запись",
            Action::RoleChanged => "Изменена роль",
            Action::AccountDisabled => "Учётная запись отключена",
            Action::AccountEnabled => "Учётная запись включена",
            Action::PasswordChanged => "Смена своего пароля",
            Action::PasswordReset => "Сброс пароля",
            Action::AppealAnswered => "Ответ на обращение",
            Action::DecisionRecorded => "Решение по участнику",
            Action::CorrectionRecorded => "Поправка к сессии",
            Action::ForumCreated => "Создан форум",
            Action::ForumSaved => "Сохранена версия форума",
            Action::ForumStateChanged => "Изменено состояние форума",
            Action::PersonalDataRemoved => "Удалены персональные данные участников",
            Action::FlagReviewed => "Проверка признаков автоматизации",
        }
    }

    pub fn parse(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code.trim())
    }
}

/// Who acted and from where, as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// The organiser's login; for a failed sign-in, the login that was typed; for the command
    /// line, [`CONSOLE`].
    pub login: String,
    /// Their role at that moment (`None` for a failed sign-in and the command line).
    pub role: Option<super::roles::Role>,
    /// The client address; `None` when the server did not see one.
    pub address: Option<String>,
}

/// The actor of what is done at the server's own command line.
pub const CONSOLE: &str = "командная строка";

/// One entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub at: Millis,
    /// The forum the server was running, if any.
    pub forum: Option<String>,
    pub actor: Actor,
    pub action: Action,
    /// A Russian sentence: what happened, with names a person recognises.
    pub description: String,
    /// What changed, for a machine: ids, counts, before and after.
    pub details: Value,
}

/// One stored entry. The action stays a code, so entries written by a newer version still read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: Millis,
    pub forum: Option<String>,
    pub actor: String,
    pub role: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub description: String,
    pub details: Value,
}

impl Entry {
    /// The action's Russian name, or its code when this version does not know it.
    pub fn action_title(&self) -> &str {
        match Action::parse(&self.action) {
            Some(a) => a.title(),
            None => &self.action,
        }
    }

    /// The role's Russian name, if the entry has a known one.
    pub fn role_title(&self) -> Option<&'static str> {
        self.role
            .as_deref()
            .and_then(super::roles::Role::parse)
            .map(super::roles::Role::title)
    }
}

/// What a read of the trail asks for; every field narrows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Entries of this actor (exact login).
    pub actor: Option<String>,
    pub action: Option<Action>,
    /// From this instant, inclusive.
    pub from: Option<Millis>,
    /// Up to this instant, exclusive.
    pub to: Option<Millis>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_distinct_and_read_back() {
        let codes: HashSet<&str> = Action::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(codes.len(), Action::ALL.len());
        let titles: HashSet<&str> = Action::ALL.iter().map(|a| a.title()).collect();
        assert_eq!(titles.len(), Action::ALL.len());
        for a in Action::ALL {
            assert_eq!(Action::parse(a.code()), Some(a));
            assert!(a.title().starts_with(char::is_uppercase), "{a:?}");
        }
        assert_eq!(Action::parse("drop_table"), None);
    }

    #[test]
    fn unknown_codes_show_as_they_are() {
        let e = Entry {
            id: 1,
            at: 0,
            forum: None,
            actor: "anna".into(),
            role: Some("auditor".into()),
            address: None,
            action: "future_action".into(),
            description: String::new(),
            details: Value::Null,
        };
        assert_eq!(e.action_title(), "future_action");
        assert_eq!(e.role_title(), Some("аудитор"));
    }
}
