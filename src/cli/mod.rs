//! The `yavka` command line: one subcommand per job, each in its own file.
//!
//! Help texts are the doc comments below and in each command's `Args`: an organiser reads
//! them, so they are in Russian; `help` puts clap's own words and parse errors in Russian too.

mod certificates;
mod check_config;
mod decisions_file;
mod evaluate;
mod export;
mod export_log;
mod forum;
mod help;
mod organiser;
mod pretty_rows;
mod retention;
pub mod serve;
mod timings;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "yavka",
    version,
    about = "Явка: учёт присутствия на НМО-аккредитованных онлайн-форумах",
    long_about = "Явка: учёт присутствия на НМО-аккредитованных онлайн-форумах.\n\n\
        Без команды работает как «yavka serve»: форум из config/forum.toml, база \
        data/yavka.db, адрес http://127.0.0.1:8080. Посмотреть форум в работе: \
        «yavka serve --demo». Справка по команде: «yavka КОМАНДА --help».",
    subcommand_help_heading = "Команды",
    subcommand_value_name = "КОМАНДА",
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Провести форум: трансляция для зрителей, окна подтверждения, панель организатора
    /// (по умолчанию).
    Serve(serve::Args),
    /// Создать учётную запись организатора или сменить ей пароль (--reset).
    CreateOrganiser(organiser::Args),
    /// Выгрузить журнал присутствия из базы в JSON Lines.
    ExportLog(export_log::Args),
    /// Проверить файл форума и показать его сессии таблицей.
    CheckConfig(check_config::Args),
    /// Форумы в базе: список, загрузка файла форума, выгрузка его версии.
    Forum(forum::Args),
    /// Оценить журнал присутствия (JSON Lines) по правилам форума.
    Evaluate(evaluate::Args),
    /// Отчёт для комиссии из базы: CSV (участники или --summary) или XLSX.
    Export(export::Args),
    /// Свидетельства участников (PDF) в папку.
    Certificates(certificates::Args),
}

/// Parses the arguments (help and parse errors in Russian) and runs the chosen command.
/// Errors are printed in full to stderr.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let (text, is_error) = help::render(&e);
            if is_error {
                eprintln!("{}", text.trim_end());
                return ExitCode::from(2);
            }
            // Help piped into `head` may find the pipe closed: that is not an error.
            let _ = writeln!(std::io::stdout(), "{}", text.trim_end());
            return ExitCode::SUCCESS;
        }
    };
    let result = match cli
        .command
        .unwrap_or(Command::Serve(serve::Args::default()))
    {
        Command::Serve(args) => serve::run(args),
        Command::CreateOrganiser(args) => organiser::run(args),
        Command::ExportLog(args) => export_log::run(args),
        Command::CheckConfig(args) => check_config::run(args),
        Command::Forum(args) => forum::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Export(args) => export::run(args),
        Command::Certificates(args) => certificates::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", capitalised(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

/// The text with its first letter in upper case: every message is a sentence.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse_error(args: &[&str]) -> (String, bool) {
        match Cli::try_parse_from(args) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(e) => help::render(&e),
        }
    }

    /// Latin words a Russian help page may contain: names of commands, flags, files, formats.
    fn english_words(text: &str) -> Vec<String> {
        let allowed = [
            "yavka",
            "purge",
            "personal",
            "yes",
            "serve",
            "create",
            "organiser",
            "export",
            "log",
            "check",
            "config",
            "evaluate",
            "certificates",
            "help",
            "settings",
            "toml",
            "demo",
            "reset",
            "password",
            "stdin",
            "forum",
            "events",
            "format",
            "json",
            "csv",
            "xlsx",
            "strict",
            "delimiter",
            "decisions",
            "timings",
            "session",
            "summary",
            "out",
            "viewer",
            "from",
            "to",
            "jsonl",
            "data",
            "db",
            "http",
            "url",
            "store",
            "database",
            "sqlite",
            "postgres",
            "pdf",
            "rfc",
            "id",
            "lines",
            "excel",
            "version",
            "europe",
            "moscow",
            "nmo",
            "readme",
            "utf",
            "bom",
            "role",
            "admin",
            "moderator",
            "auditor",
            "list",
            "import",
        ];
        text.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() > 1)
            .map(str::to_lowercase)
            .filter(|w| !allowed.contains(&w.as_str()))
            .collect()
    }

    #[test]
    fn every_help_page_is_russian() {
        let mut root = Cli::command();
        root.build();
        let mut pages = vec![(
            "yavka".to_owned(),
            help::russian(&root.render_long_help().to_string()),
        )];
        for sub in root.get_subcommands_mut() {
            let name = sub.get_name().to_owned();
            pages.push((name, help::russian(&sub.render_long_help().to_string())));
        }
        assert_eq!(pages.len(), 9);
        for (name, page) in pages {
            let english = english_words(&page);
            assert!(english.is_empty(), "{name}: {english:?}\n{page}");
            assert!(page.contains("Использование:"), "{name}:\n{page}");
        }
    }

    #[test]
    fn parse_errors_are_russian_sentences_with_the_usage() {
        let (text, is_error) = parse_error(&["yavka", "export", "--fromat", "csv"]);
        assert!(is_error);
        assert!(
            text.starts_with("Неизвестный параметр «--fromat»."),
            "{text}"
        );
        assert!(
            text.contains("Возможно, имелось в виду «--format"),
            "{text}"
        );
        assert!(text.contains("Использование: yavka export"), "{text}");
        let (text, _) = parse_error(&["yavka", "export", "--format", "pdf"]);
        assert!(
            text.starts_with("Недопустимое значение «pdf» для --format"),
            "{text}"
        );
        let (text, _) = parse_error(&["yavka", "evalute"]);
        assert!(text.starts_with("Неизвестная команда «evalute»."), "{text}");
        assert!(text.contains("«evaluate»"), "{text}");
        let (text, _) = parse_error(&["yavka", "create-organiser"]);
        assert!(
            text.starts_with("Не указано обязательное: <ЛОГИН>"),
            "{text}"
        );
        let (text, is_error) = parse_error(&["yavka", "--help"]);
        assert!(!is_error && text.contains("Команды:"), "{text}");
    }

    #[test]
    fn messages_start_with_a_capital_letter() {
        assert_eq!(capitalised("база недоступна"), "База недоступна");
        assert_eq!(capitalised(""), "");
    }
}
