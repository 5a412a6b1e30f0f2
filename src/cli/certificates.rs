//! `yavka certificates -o DIR`: every participant's certificate PDF, one file per viewer who
//! holds codes (`<viewer id>.pdf`), e.g. to archive them or send them by other means.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::export::read_store;
use crate::clock::{Clock, SystemClock};
use crate::reports::certificate::{certificate, render_pdf};
use crate::settings::Settings;

#[derive(clap::Args)]
pub struct Args {
    /// Папка для PDF-файлов (создаётся, если её нет).
    #[arg(long, short, value_name = "ПАПКА")]
    pub out: PathBuf,
    /// Только этот участник (его id).
    #[arg(long, value_name = "ID")]
    pub viewer: Option<String>,
    /// Файл настроек сервера (база, адрес); переменные окружения важнее его.
    #[arg(long, value_name = "ФАЙЛ", default_value = "config/yavka.toml")]
    pub settings: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&args.settings)?;
    let Some((forum, store, rt)) = read_store(&settings)? else {
        return Ok(ExitCode::from(1));
    };
    let (codes, viewers) = rt.block_on(async {
        // Withdrawn sessions are left off, as on the server.
        let codes = store.certified_issued_codes(&forum.id).await?;
        let viewers = store.viewers(&forum.id).await?;
        store.close().await;
        anyhow::Ok((codes, viewers))
    })?;
    let mut held: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (session, holders) in codes {
        for (viewer, code) in holders {
            held.entry(viewer)
                .or_default()
                .push((session.clone(), code));
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("Не удалось создать папку {}", args.out.display()))?;
    let public_url = settings.public_url(settings.server.port);
    let today = SystemClock.now();
    let mut written = 0;
    for v in viewers
        .iter()
        .filter(|v| args.viewer.as_ref().is_none_or(|id| *id == v.id))
    {
        let Some(codes) = held.get(&v.id) else {
            continue;
        };
        let cert = certificate(&forum, v.into(), codes, today, &public_url);
        let pdf = render_pdf(&cert).map_err(|e| anyhow::anyhow!("{}: {e}", v.id))?;
        let path = args.out.join(format!("{}.pdf", v.id));
        std::fs::write(&path, pdf)
            .with_context(|| format!("Не удалось записать {}", path.display()))?;
        written += 1;
    }
    if let Some(id) = &args.viewer
        && written == 0
    {
        eprintln!("У участника «{id}» нет выданных кодов (или такого участника нет).");
        return Ok(ExitCode::from(1));
    }
    eprintln!("Свидетельств: {written}, в папке {}.", args.out.display());
    Ok(ExitCode::SUCCESS)
}
