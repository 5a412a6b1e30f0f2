//! `yavka evaluate --forum FORUM.toml --events LOG.jsonl [--decisions FILE] [--format json|csv]`:
//! verdicts for every viewer and session, from a forum configuration and an attendance log
//! written by anyone, with the organisers' corrections and decisions when given.
//!
//! Verdicts go to stdout; what could not be read or credited is summarised on stderr, so the
//! output stays machine-readable while nothing is silently ignored. With `--timings`, the time
//! of each stage and the peak memory go to stderr too (see `timings.rs`).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{decisions_file, pretty_rows};
use crate::domain::decided::{InForce, worded};
use crate::domain::log::jsonl::{self, OnError};
use crate::domain::rules;
use crate::reports::csv::write_verdicts_csv;

use super::timings::Stages;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// JSON: массив строк.
    Json,
    /// CSV: таблица для Excel.
    Csv,
}

#[derive(clap::Args)]
pub struct Args {
    /// Файл форума (TOML).
    #[arg(long, value_name = "ФАЙЛ")]
    pub forum: PathBuf,
    /// Журнал присутствия (JSON Lines); «-» — читать стандартный ввод.
    #[arg(long, value_name = "ФАЙЛ")]
    pub events: PathBuf,
    /// Формат результата.
    #[arg(long, value_enum, value_name = "ФОРМАТ", default_value = "json")]
    pub format: Format,
    /// Напечатать в поток ошибок время каждого этапа, процессорное время и пиковую память.
    #[arg(long)]
    pub timings: bool,
    /// Остановиться на первой испорченной строке, а не пропускать её (о ней сообщается в
    /// любом случае).
    #[arg(long)]
    pub strict: bool,
    /// Решения и поправки (JSON Lines из `yavka export-log --decisions`): поправки к сессиям
    /// применяются правилами, решения по участникам — поверх их итога.
    #[arg(long, value_name = "ФАЙЛ")]
    pub decisions: Option<PathBuf>,
    /// Разделитель полей CSV: «,» или «;» (русский Excel ждёт «;»).
    #[arg(long, value_name = "СИМВОЛ", default_value = ",")]
    pub delimiter: char,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut clock = Stages::start(args.timings);
    let forum = match crate::forum_file::load(&args.forum) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let on_error = if args.strict {
        OnError::Stop
    } else {
        OnError::Skip
    };
    let read = if args.events.as_os_str() == "-" {
        jsonl::read(io::stdin().lock(), on_error)
    } else {
        let file = File::open(&args.events)
            .with_context(|| format!("Не удалось открыть журнал {}", args.events.display()))?;
        // Read in large blocks by the reader itself: no `BufReader` in between.
        jsonl::read(file, on_error)
    }
    .with_context(|| format!("Не удалось прочитать журнал {}", args.events.display()))?;
    let log = match read {
        Ok(log) => log,
        Err(line) => {
            eprintln!("{}: {line}", args.events.display());
            return Ok(ExitCode::from(1));
        }
    };
    for bad in &log.skipped {
        eprintln!("{}: пропущена {bad}", args.events.display());
    }
    clock.lap("чтение журнала");

    let records = match &args.decisions {
        None => decisions_file::Records::default(),
        Some(path) => {
            let file = File::open(path)
                .with_context(|| format!("Не удалось открыть файл решений {}", path.display()))?;
            match decisions_file::read(BufReader::new(file)) {
                Ok(r) => r,
                Err(why) => {
                    eprintln!("{}: {why}", path.display());
                    return Ok(ExitCode::from(1));
                }
            }
        }
    };
    let params = rules::Params {
        corrections: records.corrections.into(),
        ..rules::Params::default()
    };
    let evaluation = rules::evaluate_with(&forum, &log.events, params);
    clock.lap("правила");
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    let decided = args
        .decisions
        .is_some()
        .then(|| decisions_file::overlay(evaluation.verdicts.clone(), &records.decisions));
    match (args.format, &decided) {
        (Format::Json, None) => {
            pretty_rows::write(&mut out, &evaluation.verdicts)?;
            writeln!(out)?;
        }
        (Format::Json, Some(rows)) => {
            pretty_rows::write(&mut out, rows)?;
            writeln!(out)?;
        }
        (Format::Csv, None) => {
            write_verdicts_csv(&mut out, &evaluation.verdicts, args.delimiter, None)?
        }
        (Format::Csv, Some(rows)) => {
            let (tz, force) = (forum.tz(), InForce::new(records.decisions.iter().cloned()));
            let rows: Vec<_> = rows
                .iter()
                .map(|d| worded(&d.verdict, &force, &tz))
                .collect();
            write_verdicts_csv(&mut out, &rows, args.delimiter, None)?
        }
    }
    out.flush()?;
    drop(out);
    clock.lap("запись результата");

    let eligible = match &decided {
        Some(rows) => rows.iter().filter(|d| d.credited).count(),
        None => evaluation.verdicts.iter().filter(|v| v.eligible).count(),
    };
    eprintln!(
        "Событий: {}, пропущено строк: {}, строк результата: {}, выполнили условия: {}.",
        log.events.len(),
        log.skipped.len(),
        evaluation.verdicts.len(),
        eligible
    );
    let anomalies = evaluation.anomalies.summary();
    if !anomalies.is_empty() {
        eprintln!("Аномалии (не засчитаны): {}.", anomalies.join("; "));
        for example in &evaluation.anomalies.examples {
            eprintln!("  например: {example}");
        }
    }
    clock.finish();
    // The process ends here: freeing millions of events and verdicts one by one would only
    // delay its exit (a second on a forum of 100,000 viewers); the system takes the memory back.
    std::mem::forget((log, evaluation, decided));
    Ok(ExitCode::SUCCESS)
}
