//! `yavka create-organiser LOGIN`: the first (or another) organiser account.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::api::auth::{hash_password, new_token};
use crate::clock::{Clock, SystemClock};
use crate::settings::Settings;
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// The login.
    pub login: String,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
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
        store
            .insert_organiser(&login, &hash, SystemClock.now())
            .await?;
        store.close().await;
        anyhow::Ok(())
    })?;
    println!("организатор «{login}» создан");
    if !args.password_stdin {
        println!("пароль: {password}");
        println!("(сохраните его: он показан один раз)");
    }
    Ok(ExitCode::SUCCESS)
}
