//! `yavka forum list|import FILE|export ID|purge-personal-data ID`: the forums in the store, from the command line.
//!
//! For people who keep forums in git and for scripts: `import` checks a file with the same
//! messages as `yavka check-config` and stores it as a new forum (a draft) or as the next
//! version of an existing one; `export` prints a forum's latest (or a given) version exactly
//! as it was saved; `list` shows every forum with its state. Imports are recorded in the
//! audit trail as done at the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use crate::clock::{Clock, SystemClock};
use crate::domain::audit::{Action, Actor, CONSOLE, NewEntry};
use crate::domain::forum::ForumState;
use crate::domain::time::format_local;
use crate::settings::Settings;
use crate::store::{SaveMode, Store};

#[derive(clap::Args)]
#[command(subcommand_value_name = "КОМАНДА", subcommand_help_heading = "Команды")]
pub struct Args {
    #[command(subcommand)]
    pub action: ForumCommand,
    /// Файл настроек сервера (база); переменные окружения важнее его.
    #[arg(
        long,
        value_name = "ФАЙЛ",
        default_value = "config/yavka.toml",
        global = true
    )]
    pub settings: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum ForumCommand {
    /// Все форумы в базе: id, состояние, даты, число версий, название.
    List,
    /// Проверить файл форума и сохранить его: новый форум (черновиком) или новую версию
    /// форума с тем же id.
    Import {
        /// Файл форума (TOML), как config/forum.toml.
        #[arg(value_name = "ФАЙЛ")]
        file: PathBuf,
    },
    /// Напечатать файл форума (TOML) в том виде, в каком его сохранили.
    Export {
        /// id форума (раздел [forum] его файла).
        #[arg(value_name = "ID")]
        id: String,
        /// Номер версии (по умолчанию последняя).
        #[arg(long, value_name = "N")]
        version: Option<i64>,
    },
    /// Удалить персональные данные участников форума: ФИО сократить до «И***а А. С.», стереть
    /// адреса почты, телефоны и СНИЛС. Итоги, коды и их проверка остаются. Без --yes только
    /// показывает, что будет сделано.
    PurgePersonalData {
        /// id форума.
        #[arg(value_name = "ID")]
        id: String,
        /// Да, удалить (необратимо).
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.settings)?;
    tokio::runtime::Runtime::new()?.block_on(async {
        let store = Store::connect(&settings.store.url)
            .await
            .context("Не удалось открыть базу данных (store.url / DATABASE_URL)")?;
        let code = match args.action {
            ForumCommand::List => list(&store).await?,
            ForumCommand::Import { file } => import(&store, &file).await?,
            ForumCommand::Export { id, version } => export(&store, &id, version).await?,
            ForumCommand::PurgePersonalData { id, yes } => {
                super::retention::purge(&store, &id, yes).await?
            }
        };
        store.close().await;
        Ok(code)
    })
}

async fn list(store: &Store) -> anyhow::Result<ExitCode> {
    let now = SystemClock.now();
    let rows = store.forums().await?;
    if rows.is_empty() {
        println!("В базе нет форумов. Добавить: yavka forum import ФАЙЛ");
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = vec![[
        "id".to_owned(),
        "состояние".to_owned(),
        "даты".to_owned(),
        "версий".to_owned(),
        "название".to_owned(),
    ]];
    for row in &rows {
        let f = &row.forum;
        let tz = f.tz();
        let dates = match (f.starts(), f.ends()) {
            (Some(s), Some(e)) => format!("{} — {}", format_local(s, &tz), format_local(e, &tz)),
            _ => "—".to_owned(),
        };
        let state = ForumState::current(row.state, f, now);
        table.push([
            f.id.clone(),
            state.label().to_owned(),
            dates,
            row.versions.to_string(),
            f.title.clone(),
        ]);
    }
    // Aligned by characters: the text is Cyrillic, so byte lengths would misalign.
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in &table {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

async fn import(store: &Store, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let forum = match crate::forum_file::load(file) {
        Ok(forum) => forum,
        Err(e) => {
            for message in &e.messages {
                eprintln!("{message}");
            }
            eprintln!("Ошибок: {}. Ничего не сохранено.", e.messages.len());
            return Ok(ExitCode::from(1));
        }
    };
    // `load` has read it once already; the stored text is the file as written.
    let text = std::fs::read_to_string(file)?;
    let now = SystemClock.now();
    let mode = match store.forum_row(&forum.id).await? {
        Some(_) => SaveMode::Replace,
        None => SaveMode::Create,
    };
    let saved = store.save_forum(&forum, &text, mode, CONSOLE, now).await?;
    for line in &saved.ignored_changes {
        eprintln!("{line}");
    }
    let (action, said) = match (mode, saved.changed) {
        (_, false) => {
            println!(
                "{} ({}): файл не изменился, действует версия {}.",
                forum.title, forum.id, saved.version
            );
            return Ok(ExitCode::SUCCESS);
        }
        (SaveMode::Create, _) => (
            Action::ForumCreated,
            format!(
                "{} ({}): создан черновиком, версия {}.",
                forum.title, forum.id, saved.version
            ),
        ),
        (SaveMode::Replace, _) => (
            Action::ForumSaved,
            format!(
                "Сохранена версия {} форума: {} ({}).",
                saved.version, forum.title, forum.id
            ),
        ),
    };
    println!("{said}");
    let entry = NewEntry {
        at: now,
        forum: Some(forum.id.clone()),
        actor: Actor {
            login: CONSOLE.into(),
            role: None,
            address: None,
        },
        action,
        description: format!(
            "{} (командой yavka forum import)",
            said.trim_end_matches('.')
        ),
        details: json!({ "forum": forum.id, "version": saved.version, "file": file.display().to_string() }),
    };
    if let Err(e) = store.append_audit(&entry).await {
        eprintln!("Внимание: запись в журнал действий не сделана: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(store: &Store, id: &str, version: Option<i64>) -> anyhow::Result<ExitCode> {
    match store.forum_toml(id, version).await? {
        Some((_, text)) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let known: Vec<String> = store
                .forums()
                .await?
                .into_iter()
                .map(|r| r.forum.id)
                .collect();
            match (version, store.forum_row(id).await?) {
                (Some(n), Some(row)) => {
                    eprintln!("У форума «{id}» нет версии {n}: версий {}.", row.versions)
                }
                _ if known.is_empty() => eprintln!("Форума «{id}» нет: в базе нет форумов."),
                _ => eprintln!("Форума «{id}» нет. Есть: {}.", known.join(", ")),
            }
            Ok(ExitCode::from(1))
        }
    }
}
