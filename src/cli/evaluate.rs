//! `yavka evaluate`: verdicts for every viewer and session from a forum and a log.
//! (Being written.)

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub forum: PathBuf,
    #[arg(long)]
    pub events: PathBuf,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
