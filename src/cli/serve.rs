//! `yavka serve` (also what `yavka` with no command does): run the forum live.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::app::App;
use crate::clock::{Clock, SystemClock};
use crate::domain::forum::config;
use crate::settings::Settings;

#[derive(clap::Args)]
pub struct Args {
    /// Server settings file; environment variables override it (see README).
    #[arg(long, default_value = "config/yavka.toml")]
    pub settings: PathBuf,
    /// Move the shipped forum so a session is live now, fire a prompt every few minutes and
    /// run a few simulated viewers (uses data/demo.db unless DATABASE_URL is set).
    #[arg(long)]
    pub demo: bool,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            settings: PathBuf::from("config/yavka.toml"),
            demo: false,
        }
    }
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_tracing();
    let mut settings = Settings::load(&args.settings)?;
    let mut forum = match config::load(&settings.forum.config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    if args.demo {
        crate::demo::shift_to_now(&mut forum, SystemClock.now());
        // The demo's addresses are nobody's: its letters (personal links) are printed here.
        settings.mail.print_only = true;
        if std::env::var_os("DATABASE_URL").is_none() {
            // A fresh demo every time: the shifted forum's rules freeze anew.
            let _ = std::fs::remove_file("data/demo.db");
            settings.store.url = "sqlite://data/demo.db".into();
        }
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let app = App::build(settings.clone(), forum, Arc::new(SystemClock)).await?;
        let state = app.state();
        let url = state.public_url.clone();
        println!("Явка: {} ({})", state.forum.title, state.forum.id);
        println!("  регистрация и плеер: {url}/");
        println!("  панель организатора: {url}/org");
        println!("  здоровье: {url}/healthz, готовность: {url}/readyz, метрики: {url}/metrics");
        println!("  база: {}", redact(&settings.store.url));
        println!(
            "  вход организатора: учётную запись создаёт команда `yavka create-organiser ЛОГИН` \
             (cargo run --release -- create-organiser admin)"
        );
        for line in &app.notices {
            println!("  внимание: {line}");
        }
        if args.demo {
            let password = crate::api::auth::new_token()[..16].to_owned();
            let hash = crate::api::auth::hash_password(&password)?;
            state
                .store
                .insert_organiser("demo", &hash, SystemClock.now())
                .await?;
            println!("  демонстрация: вход организатора — логин demo, пароль {password}");
            println!(
                "  демонстрация: письма не отправляются, а печатаются здесь — зарегистрируйтесь \
                 на {url}/ и откройте ссылку из напечатанного письма"
            );
            tokio::spawn(crate::demo::run(state.clone(), app.port()));
        }
        app.run_until_stopped(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A database URL without its password, for printing.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
