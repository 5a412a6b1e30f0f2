//! `yavka export-log`: the stored attendance log as the core's JSON Lines, for the whole forum
//! or a time range, and with `--decisions FILE` the forum's corrections and decisions beside it. `yavka
//! evaluate` on the export (with `--decisions` on the second file) gives the server's verdicts.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::decisions_file;
use crate::domain::decisions::Record;
use crate::domain::log::jsonl;
use crate::domain::time::{Span, parse_local, parse_rfc3339};
use crate::settings::Settings;
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// С этого момента (RFC 3339 или местное время форума, например 2026-04-01T09:00).
    #[arg(long, value_name = "ВРЕМЯ")]
    pub from: Option<String>,
    /// До этого момента (не включая его).
    #[arg(long, value_name = "ВРЕМЯ")]
    pub to: Option<String>,
    /// Файл результата; без него — стандартный вывод.
    #[arg(long, short, value_name = "ФАЙЛ")]
    pub out: Option<PathBuf>,
    /// Ещё и файл решений и поправок форума (JSON Lines) для `yavka evaluate --decisions`.
    #[arg(long, value_name = "ФАЙЛ")]
    pub decisions: Option<PathBuf>,
    /// Файл настроек сервера (база, адрес); переменные окружения важнее его.
    #[arg(long, value_name = "ФАЙЛ", default_value = "config/yavka.toml")]
    pub settings: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.settings)?;
    let forum = match crate::forum_file::load(&settings.forum.config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let tz = forum.tz();
    let instant = |text: &str| {
        parse_rfc3339(text)
            .or_else(|_| parse_local(text, &tz))
            .map_err(|e| anyhow::anyhow!(e))
    };
    let range = match (&args.from, &args.to) {
        (None, None) => None,
        (from, to) => Some(Span::new(
            from.as_deref()
                .map(instant)
                .transpose()?
                .unwrap_or(i64::MIN),
            to.as_deref().map(instant).transpose()?.unwrap_or(i64::MAX),
        )),
    };
    let (events, corrections, decisions) = tokio::runtime::Runtime::new()?.block_on(async {
        let store = Store::connect(&settings.store.url).await?;
        let events = store.events(&forum.id, range).await?;
        let corrections = store.corrections(&forum.id).await?;
        let decisions = store.decisions(&forum.id).await?;
        store.close().await;
        anyhow::Ok((events, corrections, decisions))
    })?;
    if let Some(path) = &args.decisions {
        // Every correction and decision of the forum, whatever the range: they apply to whole
        // sessions. Decisions in the order recorded, as the server reads them.
        let (n_corrections, n_decisions) = (corrections.len(), decisions.len());
        let records: Vec<Record> = corrections
            .into_iter()
            .map(Record::Correction)
            .chain(decisions.into_iter().map(Record::Decision))
            .collect();
        let mut out = BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("Не удалось создать файл {}", path.display()))?,
        );
        decisions_file::write(&mut out, &records)?;
        out.flush()?;
        eprintln!("Выгружено поправок: {n_corrections}, решений: {n_decisions}.");
    }
    match &args.out {
        Some(path) => {
            let mut out = BufWriter::new(std::fs::File::create(path)?);
            jsonl::write(&mut out, &events, &tz)?;
            out.flush()?;
        }
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            jsonl::write(&mut out, &events, &tz)?;
            out.flush()?;
        }
    }
    eprintln!("Выгружено событий: {}.", events.len());
    Ok(ExitCode::SUCCESS)
}
