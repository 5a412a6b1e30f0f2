//! Who may do what on the organiser's side: three roles, a handful of permissions, and the one
//! table that joins them.
//!
//! Every organiser endpoint declares the permission it needs (see `api::access`); this module
//! only answers "may this role do that?" and says the answer in Russian, so the rule is tested
//! here as plain data and the dashboard can hide what a role cannot use.

use serde::Serialize;

/// An organiser account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including accounts.
    Admin,
    /// Live operations: fire prompts, watch figures, answer viewers' appeals.
    Moderator,
    /// Read only: results, evidence, exports, the audit log — for a controller or the commission.
    Auditor,
}

/// What an endpoint needs. Not a ladder: a moderator runs the forum but does not read the
/// audit log, an auditor reads it but changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Read the forum, live figures, participants, results, evidence, exports, the mail log.
    View,
    /// Run the forum live: fire prompts by hand.
    Operate,
    /// Change the forum's data: import participants, code pools and issuance, new links, mail,
    /// consent texts.
    Manage,
    /// Create accounts, change their roles, disable them, reset their passwords.
    Accounts,
    /// Answer viewers' appeals (grant credit or reject, with a reason).
    Answer,
    /// Read the audit log and download it.
    Audit,
    /// Set forums up: create a forum, save a new version of its programme, publish or
    /// archive it. Not a moderator's: a changed programme changes who earns credits.
    Setup,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Moderator, Role::Auditor];

    /// The code stored and sent (`admin`, `moderator`, `auditor`).
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code.trim())
    }

    /// «администратор», «модератор», «аудитор».
    pub fn title(self) -> &'static str {
        match self {
            Role::Admin => "администратор",
            Role::Moderator => "модератор",
            Role::Auditor => "аудитор",
        }
    }

    /// The table of rights, in one place.
    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Moderator => matches!(p, View | Operate | Answer),
            Role::Auditor => matches!(p, View | Audit),
        }
    }

    /// Every permission this role has, for the dashboard (it hides what the role cannot use).
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.may(*p))
            .collect()
    }
}

impl Permission {
    pub const ALL: [Permission; 7] = [
        Permission::View,
        Permission::Operate,
        Permission::Manage,
        Permission::Accounts,
        Permission::Audit,
        Permission::Answer,
        Permission::Setup,
    ];

    /// What the permission lets a person do, as the end of «роль … не может …».
    pub fn doing(self) -> &'static str {
        match self {
            Permission::View => "просматривать данные форума",
            Permission::Operate => "вызывать окна подтверждения",
            Permission::Manage => {
                "менять данные форума (участники, коды НМО, ссылки, рассылки, тексты)"
            }
            Permission::Accounts => "управлять учётными записями организаторов",
            Permission::Audit => "читать журнал действий",
            Permission::Answer => "отвечать на обращения участников",
            Permission::Setup => "создавать форумы, менять их программу и состояние",
        }
    }

    /// The roles that have it, in Russian: «администратор, модератор».
    pub fn holders(self) -> String {
        Role::ALL
            .into_iter()
            .filter(|r| r.may(self))
            .map(Role::title)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The sentence a refused person reads.
    pub fn refusal(self, role: Role) -> String {
        format!(
            "Недостаточно прав: роль «{}» не может {}. Это доступно ролям: {}.",
            role.title(),
            self.doing(),
            self.holders()
        )
    }
}

/// Checks a login for a new account: 1 to 64 characters, no spaces (the CLI's rule).
pub fn check_login(login: &str) -> Result<&str, String> {
    let login = login.trim();
    if login.is_empty() || login.chars().count() > 64 || login.contains(char::is_whitespace) {
        return Err("Логин — от 1 до 64 символов без пробелов.".into());
    }
    if login.chars().any(char::is_control) {
        return Err("В логине не должно быть управляющих символов.".into());
    }
    Ok(login)
}

/// The shortest password a person may choose (generated ones are longer).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Checks a password a person chose.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!(
            "Пароль должен быть не короче {MIN_PASSWORD_CHARS} символов (сейчас {n})."
        ));
    }
    if n > 256 {
        return Err("Пароль должен быть не длиннее 256 символов.".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_rights() {
        use Permission::*;
        let table = [
            (Role::Admin, [true, true, true, true, true, true]),
            (Role::Moderator, [true, true, false, false, false, true]),
            (Role::Auditor, [true, false, false, false, true, false]),
        ];
        for (role, rights) in table {
            let got: Vec<bool> = [View, Operate, Manage, Accounts, Audit, Answer]
                .into_iter()
                .map(|p| role.may(p))
                .collect();
            assert_eq!(got, rights, "{role:?}");
        }
        assert_eq!(Role::Auditor.permissions(), vec![View, Audit]);
    }

    #[test]
    fn roles_read_and_refusals_say_who_may() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
        assert_eq!(Role::parse(" moderator "), Some(Role::Moderator));
        assert_eq!(Role::parse("root"), None);
        assert_eq!(
            Permission::Operate.refusal(Role::Auditor),
            "Недостаточно прав: роль «аудитор» не может вызывать окна подтверждения. \
             Это доступно ролям: администратор, модератор."
        );
        assert_eq!(Permission::Accounts.holders(), "администратор");
    }

    #[test]
    fn logins_and_passwords() {
        assert_eq!(check_login("  anna "), Ok("anna"));
        assert!(check_login("").is_err());
        assert!(check_login("анна петрова").is_err());
        assert!(check_login(&"x".repeat(65)).is_err());
        assert!(check_login("a\u{7}b").is_err());
        assert!(
            check_password("short")
                .unwrap_err()
                .contains("не короче 10")
        );
        assert!(check_password("длинный-пароль").is_ok());
    }
}
