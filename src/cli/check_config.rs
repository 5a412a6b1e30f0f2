//! `yavka check-config FORUM.toml`: validate a forum and print its sessions.
//! (Being written.)

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The forum configuration file.
    pub forum: PathBuf,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
