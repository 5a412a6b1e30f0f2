//! `yavka serve` (also what `yavka` with no command does): run the forum live.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::app::App;
use crate::clock::{Clock, SystemClock};
use crate::domain::forum::Forum;
use crate::domain::time::Millis;
use crate::reports::{clock, date_ru};
use crate::settings::Settings;

#[derive(clap::Args)]
pub struct Args {
    /// Файл настроек сервера (база, адрес, почта); переменные окружения важнее его (см.
    /// README).
    #[arg(long, value_name = "ФАЙЛ", default_value = "config/yavka.toml")]
    pub settings: PathBuf,
    /// Демонстрация: сдвинуть форум так, чтобы сессия шла сейчас, каждые три минуты
    /// показывать окно подтверждения и подключить шесть условных зрителей. У демонстрации
    /// своя база в data/demo/, она удаляется при выходе (DATABASE_URL не используется).
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
    let mut forum = match crate::forum_file::load(&settings.forum.config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    // The demo's own database, removed when this process ends (see `demo::DemoStore`).
    let demo_store = if args.demo {
        crate::demo::shift_to_now(&mut forum, SystemClock.now());
        let store = crate::demo::DemoStore::create(std::path::Path::new(crate::demo::DEMO_DIR))
            .with_context(|| {
                format!(
                    "Не удалось создать базу демонстрации в {}",
                    crate::demo::DEMO_DIR
                )
            })?;
        settings.store.url = store.url();
        // Another process's Redis channels are not the demo's business either.
        settings.broker.redis_url = None;
        // The demo's addresses are nobody's: its letters (personal links) are printed here.
        settings.mail.print_only = true;
        Some(store)
    } else {
        None
    };
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
        if let Some(line) = when_notice(&state.forum, state.clock.now()) {
            println!("  Внимание! {line}");
        }
        for line in &app.notices {
            println!("  Внимание! {line}");
        }
        if args.demo {
            let password = crate::demo::create_organiser(state).await?;
            println!(
                "  демонстрация: своя база, удаляется при выходе (DATABASE_URL и store.url \
                 не используются)"
            );
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
    drop(demo_store);
    Ok(ExitCode::SUCCESS)
}

/// What a newcomer must hear at start-up about the forum's dates: that it is over (and how to
/// see it live), or when it starts. Nothing while a session is on or between days.
pub fn when_notice(forum: &Forum, now: Millis) -> Option<String> {
    let tz = forum.tz();
    let at = |t: Millis| {
        format!(
            "{} в {} ({})",
            date_ru(t, &tz),
            clock(t, &tz),
            forum.timezone
        )
    };
    let (starts, ends) = (forum.starts()?, forum.ends()?);
    if forum.is_over(now) {
        Some(format!(
            "Форум закончился {}: трансляции не идут, регистрация закрыта; результаты, коды и \
             свидетельства — в панели организатора. Посмотреть форум в работе: yavka serve \
             --demo (cargo run --release -- serve --demo; у демонстрации своя база).",
            at(ends)
        ))
    } else if now < starts {
        Some(format!(
            "Форум начнётся {}; регистрация открыта. Посмотреть, как он будет идти: \
             yavka serve --demo.",
            at(starts)
        ))
    } else {
        None
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{MINUTE, parse_rfc3339};

    #[test]
    fn start_up_says_when_the_forum_is() {
        let forum = crate::forum_file::load(std::path::Path::new("config/forum.toml")).unwrap();
        let at = |t: &str| parse_rfc3339(t).unwrap();
        let over = when_notice(&forum, at("2026-11-30T10:00:00Z")).unwrap();
        assert!(
            over.starts_with("Форум закончился 03.04.2026 в 19:05 (Europe/Moscow)"),
            "{over}"
        );
        assert!(over.contains("yavka serve --demo"), "{over}");
        let soon = when_notice(&forum, at("2026-03-01T10:00:00Z")).unwrap();
        assert!(
            soon.starts_with("Форум начнётся 01.04.2026 в 09:00"),
            "{soon}"
        );
        assert_eq!(when_notice(&forum, forum.starts().unwrap() + MINUTE), None);
    }
}
