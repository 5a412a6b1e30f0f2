//! The `yavka` command line: one subcommand per job, each in its own file.

mod certificates;
mod check_config;
mod evaluate;
mod export;
mod export_log;
mod organiser;
pub mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "yavka",
    version,
    about = "Явка: учёт присутствия на НМО-аккредитованных онлайн-форумах"
)]
struct Cli {
    /// Without a command, `serve` runs with its defaults.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the forum live: viewers' hub, prompts, organiser API (the default).
    Serve(serve::Args),
    /// Create an organiser account (prints a generated password, or reads one with --password-stdin).
    CreateOrganiser(organiser::Args),
    /// Write the stored attendance log as JSON Lines.
    ExportLog(export_log::Args),
    /// Validate a forum configuration and print its sessions as a table.
    CheckConfig(check_config::Args),
    /// Evaluate an attendance log (JSON Lines) against a forum's rules.
    Evaluate(evaluate::Args),
    /// The commission's report from the store: CSV (participants or --summary) or XLSX.
    Export(export::Args),
    /// Every participant's certificate PDF, into a folder.
    Certificates(certificates::Args),
}

/// Parses the arguments and runs the chosen command. Errors are printed in full to stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli
        .command
        .unwrap_or(Command::Serve(serve::Args::default()))
    {
        Command::Serve(args) => serve::run(args),
        Command::CreateOrganiser(args) => organiser::run(args),
        Command::ExportLog(args) => export_log::run(args),
        Command::CheckConfig(args) => check_config::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Export(args) => export::run(args),
        Command::Certificates(args) => certificates::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ошибка: {e:#}");
            ExitCode::from(2)
        }
    }
}
