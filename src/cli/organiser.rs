//! `yavka create-organiser LOGIN [--role admin|moderator|auditor]`: the first (or another)
//! organiser account (an administrator unless another role is named), and with `--reset` a
//! new password for an existing one (which also ends its sign-ins). Both are recorded in the
//! audit trail as done at the command line.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::api::auth::{hash_password, new_token};
use crate::clock::{Clock, SystemClock};
use crate::domain::audit::{Action, Actor, CONSOLE, NewEntry};
use crate::domain::roles::Role;
use crate::domain::time::Millis;
use crate::settings::Settings;
use crate::store::{Store, StoreError};

#[derive(clap::Args)]
pub struct Args {
    /// Логин организатора.
    #[arg(value_name = "ЛОГИН")]
    pub login: String,
    /// Прочитать пароль со стандартного ввода, а не создавать его.
    #[arg(long)]
    pub password_stdin: bool,
    /// Роль: admin (администратор, всё, включая учётные записи), moderator (модератор:
    /// окна подтверждения, цифры), auditor (аудитор: только чтение и журнал действий).
    #[arg(long, value_name = "РОЛЬ", default_value = "admin", value_parser = parse_role)]
    pub role: Role,
    /// Логин уже есть: задать ему новый пароль и завершить все его входы (роль не меняется).
    #[arg(long)]
    pub reset: bool,
    /// Файл настроек сервера (база, адрес); переменные окружения важнее его.
    #[arg(long, value_name = "ФАЙЛ", default_value = "config/yavka.toml")]
    pub settings: PathBuf,
}

/// What the command did to the store.
enum Outcome {
    Created,
    Exists,
    Reset,
    NoSuchLogin,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let login = args.login.trim().to_owned();
    anyhow::ensure!(
        !login.is_empty() && login.len() <= 64 && !login.contains(char::is_whitespace),
        "Логин: от 1 до 64 символов без пробелов."
    );
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(
            p.chars().count() >= 10,
            "Пароль должен быть не короче 10 символов."
        );
        p
    } else {
        new_token()[..20].to_owned()
    };
    let settings = Settings::load(&args.settings)?;
    let hash = hash_password(&password)?;
    let outcome = tokio::runtime::Runtime::new()?.block_on(async {
        let store = Store::connect(&settings.store.url)
            .await
            .context("Не удалось открыть базу данных (store.url / DATABASE_URL)")?;
        let now = SystemClock.now();
        let outcome = if args.reset {
            match store.set_password(&login, &hash, None).await? {
                Some(_) => {
                    record(&store, &login, Action::PasswordReset, now, None).await;
                    Outcome::Reset
                }
                None => Outcome::NoSuchLogin,
            }
        } else {
            match store
                .insert_organiser_as(&login, &hash, args.role, now)
                .await
            {
                Ok(()) => {
                    record(&store, &login, Action::AccountCreated, now, Some(args.role)).await;
                    Outcome::Created
                }
                Err(StoreError::Conflict(_)) => Outcome::Exists,
                Err(e) => return Err(e.into()),
            }
        };
        store.close().await;
        anyhow::Ok(outcome)
    })?;
    match outcome {
        Outcome::Created => println!("Организатор «{login}» создан, роль: {}.", args.role.title()),
        Outcome::Reset => println!(
            "Организатору «{login}» задан новый пароль; все его входы завершены, войти можно \
             только с новым паролем."
        ),
        Outcome::Exists => {
            eprintln!(
                "Организатор «{login}» уже есть. Чтобы задать ему новый пароль (и завершить \
                 его входы), добавьте --reset: yavka create-organiser {login} --reset"
            );
            return Ok(ExitCode::from(1));
        }
        Outcome::NoSuchLogin => {
            eprintln!(
                "Организатора «{login}» нет, менять пароль некому. Создать его: \
                 yavka create-organiser {login}"
            );
            return Ok(ExitCode::from(1));
        }
    }
    if !args.password_stdin {
        println!("Пароль: {password}");
        println!("Сохраните его: он показан один раз.");
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("Роли «{text}» нет: admin, moderator или auditor."))
}

/// The audit trail's entry for an account made or given a new password here; a failure to
/// write it is said, not fatal (the change is made by then).
async fn record(store: &Store, login: &str, action: Action, now: Millis, role: Option<Role>) {
    let description = match role {
        Some(role) => format!(
            "Создана учётная запись «{login}», роль «{}» (командой yavka create-organiser)",
            role.title()
        ),
        None => format!(
            "Учётной записи «{login}» задан новый пароль, её входы завершены (командой yavka \
             create-organiser --reset)"
        ),
    };
    let entry = NewEntry {
        at: now,
        forum: None,
        actor: Actor {
            login: CONSOLE.into(),
            role: None,
            address: None,
        },
        action,
        description,
        details: serde_json::json!({ "login": login, "role": role }),
    };
    if let Err(e) = store.append_audit(&entry).await {
        eprintln!("Внимание: запись в журнал действий не сделана: {e}");
    }
}
