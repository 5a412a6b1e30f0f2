//! `yavka export`: the commission's report from the stored log, the same file the dashboard
//! downloads — CSV (participants or `--summary`) or XLSX (both sheets).
//!
//! Reads the store like `export-log` and changes nothing in it; a session that has started is
//! judged under its frozen rules, as the server judges it.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::clock::Clock;
use crate::domain::forum::Forum;
use crate::reports::csv;
use crate::reports::export::{self, Input, Table};
use crate::settings::Settings;
use crate::store::Store;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// CSV (UTF-8 с BOM): участники или сводка.
    Csv,
    /// XLSX: оба листа.
    Xlsx,
}

#[derive(clap::Args)]
pub struct Args {
    /// Формат файла.
    #[arg(long, value_enum, value_name = "ФОРМАТ", default_value = "csv")]
    pub format: Format,
    /// Только эта сессия (её id); без него — весь форум.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Разделитель полей CSV: «;» (русский Excel) или «,».
    #[arg(long, value_name = "СИМВОЛ", default_value = ";")]
    pub delimiter: char,
    /// CSV: сводка по сессиям вместо списка участников (в XLSX всегда оба листа).
    #[arg(long)]
    pub summary: bool,
    /// Файл результата; без него — стандартный вывод.
    #[arg(long, short, value_name = "ФАЙЛ")]
    pub out: Option<PathBuf>,
    /// Файл настроек сервера (база, адрес); переменные окружения важнее его.
    #[arg(long, value_name = "ФАЙЛ", default_value = "config/yavka.toml")]
    pub settings: PathBuf,
}

/// The forum as the server judges it, and the export's inputs, from the store.
pub(super) fn read_store(
    settings: &Settings,
) -> anyhow::Result<Option<(Forum, Store, tokio::runtime::Runtime)>> {
    let configured = match crate::forum_file::load(&settings.forum.config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(None);
        }
    };
    let rt = tokio::runtime::Runtime::new()?;
    let (forum, store) = rt.block_on(async {
        let store = Store::connect(&settings.store.url)
            .await
            .context("Не удалось открыть базу данных (store.url / DATABASE_URL)")?;
        let forum = store.effective_forum(&configured).await?;
        anyhow::Ok((forum, store))
    })?;
    Ok(Some((forum, store, rt)))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.settings)?;
    let delimiter = csv::delimiter(args.delimiter).map_err(|e| anyhow::anyhow!(e))?;
    let Some((forum, store, rt)) = read_store(&settings)? else {
        return Ok(ExitCode::from(1));
    };
    if let Some(s) = &args.session
        && forum.session(s).is_none()
    {
        let known: Vec<&str> = forum.sessions.iter().map(|s| s.id.as_str()).collect();
        eprintln!("Сессии «{s}» нет; есть: {}.", known.join(", "));
        return Ok(ExitCode::from(1));
    }
    let input = rt.block_on(async {
        let read = store.export_input(&forum.id).await?;
        let rules = crate::domain::rules::Params {
            corrections: store.corrections(&forum.id).await?.into(),
            ..settings.rules_params(crate::clock::SystemClock.now())
        };
        let input = Input::from_store(read, rules);
        store.close().await;
        anyhow::Ok(input)
    })?;
    let session = args.session.as_deref();
    let write = |out: &mut dyn WriteSend| -> anyhow::Result<u64> {
        match args.format {
            Format::Csv => {
                let table = if args.summary {
                    Table::Summary
                } else {
                    Table::Participants
                };
                export::write_csv(out, &forum, &input, session, delimiter, table)
            }
            Format::Xlsx => export::write_xlsx(out, &forum, &input, session),
        }
    };
    let rows = match &args.out {
        Some(path) => {
            let mut out = BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("Не удалось создать {}", path.display()))?,
            );
            let n = write(&mut out)?;
            out.flush()?;
            n
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout());
            let n = write(&mut out)?;
            out.flush()?;
            n
        }
    };
    eprintln!(
        "Строк: {rows} (время — {}).",
        crate::reports::forum_zone_label(&forum)
    );
    Ok(ExitCode::SUCCESS)
}

/// `Write + Send` as one object type, so both outputs share one closure.
trait WriteSend: Write + Send {}
impl<T: Write + Send> WriteSend for T {}
