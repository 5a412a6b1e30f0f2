//! `yavka create-organiser LOGIN`: the first (or another) organiser account, and with
//! `--reset` a new password for an existing one (which also ends its sign-ins).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::api::auth::{hash_password, new_token};
use crate::clock::{Clock, SystemClock};
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
    /// Логин уже есть: задать ему новый пароль и завершить все его входы.
    #[arg(long)]
    pub reset: bool,
    /// Файл настроек сервера (база, адрес); переменные окружения важнее его.
    #[arg(long, value_name = "ФАЙЛ", default_value = "config/yavka.toml")]
    pub settings: PathBuf,
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
        let outcome = if args.reset {
            store.reset_organiser_password(&login, &hash).await?
        } else {
            match store
                .insert_organiser(&login, &hash, SystemClock.now())
                .await
            {
                Ok(()) => true,
                Err(StoreError::Conflict(_)) => false,
                Err(e) => return Err(e.into()),
            }
        };
        store.close().await;
        anyhow::Ok(outcome)
    })?;
    match (args.reset, outcome) {
        (false, true) => println!("Организатор «{login}» создан."),
        (true, true) => println!(
            "Организатору «{login}» задан новый пароль; все его входы завершены, войти \
             можно только с новым паролем."
        ),
        (false, false) => {
            eprintln!(
                "Организатор «{login}» уже есть. Чтобы задать ему новый пароль (и завершить \
                 его входы), добавьте --reset: yavka create-organiser {login} --reset"
            );
            return Ok(ExitCode::from(1));
        }
        (true, false) => {
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
