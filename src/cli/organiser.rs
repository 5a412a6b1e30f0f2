//! `yavka create-organiser LOGIN [--role admin|moderator|auditor]`: the first (or another)
//! organiser account (an administrator unless another role is named), recorded in the audit
//! trail as done at the command line.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::api::auth::{hash_password, new_token};
use crate::clock::{Clock, SystemClock};
use crate::domain::audit::{Action, Actor, CONSOLE, NewEntry};
use crate::domain::roles::Role;
use crate::settings::Settings;
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// The login.
    pub login: String,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
    /// Роль: admin (администратор, всё, включая учётные записи), moderator (модератор:
    /// окна подтверждения, цифры), auditor (аудитор: только чтение и журнал действий).
    #[arg(long, value_name = "РОЛЬ", default_value = "admin", value_parser = parse_role)]
    pub role: Role,
    #[arg(long, default_value = "config/yavka.toml")]
    pub settings: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let login = args.login.trim().to_owned();
    anyhow::ensure!(
        !login.is_empty() && login.len() <= 64 && !login.contains(char::is_whitespace),
        "логин: от 1 до 64 символов без пробелов"
    );
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(
            p.chars().count() >= 10,
            "пароль должен быть не короче 10 символов"
        );
        p
    } else {
        new_token()[..20].to_owned()
    };
    let settings = Settings::load(&args.settings)?;
    let hash = hash_password(&password)?;
    tokio::runtime::Runtime::new()?.block_on(async {
        let store = Store::connect(&settings.store.url).await?;
        let now = SystemClock.now();
        store
            .insert_organiser_as(&login, &hash, args.role, now)
            .await?;
        record_creation(&store, &login, args.role, now).await;
        store.close().await;
        anyhow::Ok(())
    })?;
    println!("организатор «{login}» создан, роль: {}", args.role.title());
    if !args.password_stdin {
        println!("пароль: {password}");
        println!("(сохраните его: он показан один раз)");
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("Роли «{text}» нет: admin, moderator или auditor."))
}

/// The audit trail's entry for an account made here; a failure to write it is said, not fatal
/// (the account exists by then).
async fn record_creation(store: &Store, login: &str, role: Role, now: crate::domain::time::Millis) {
    let entry = NewEntry {
        at: now,
        forum: None,
        actor: Actor {
            login: CONSOLE.into(),
            role: None,
            address: None,
        },
        action: Action::AccountCreated,
        description: format!(
            "Создана учётная запись «{login}», роль «{}» (командой yavka create-organiser)",
            role.title()
        ),
        details: serde_json::json!({ "login": login, "role": role }),
    };
    if let Err(e) = store.append_audit(&entry).await {
        eprintln!("Внимание: запись в журнал действий не сделана: {e}");
    }
}
