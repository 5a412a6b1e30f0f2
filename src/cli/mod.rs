//! The `yavka` command line: one subcommand per job, each in its own file.

mod check_config;
mod evaluate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "yavka",
    version,
    about = "Явка: учёт присутствия на НМО-аккредитованных онлайн-форумах"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a forum configuration and print its sessions as a table.
    CheckConfig(check_config::Args),
    /// Evaluate an attendance log (JSON Lines) against a forum's rules.
    Evaluate(evaluate::Args),
}

/// Parses the arguments and runs the chosen command. Errors are printed in full to stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckConfig(args) => check_config::run(args),
        Command::Evaluate(args) => evaluate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ошибка: {e:#}");
            ExitCode::from(2)
        }
    }
}
