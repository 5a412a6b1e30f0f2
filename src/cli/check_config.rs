//! `yavka check-config FORUM.toml`: validate a forum and print its sessions.
//!
//! For organisers preparing a forum: either every mistake in the file (on stderr, exit code 1)
//! or a table of the sessions as the system understood them, to compare with the accreditation
//! documents line by line before the forum starts.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::domain::forum::{Education, Forum, Session};
use crate::domain::time::{MINUTE, format_clock, measure};

#[derive(clap::Args)]
pub struct Args {
    /// Файл форума (TOML), например config/forum.toml.
    #[arg(value_name = "ФАЙЛ")]
    pub forum: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match crate::forum_file::load(&args.forum) {
        Ok(forum) => {
            print!("{}", render(&forum));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for message in &e.messages {
                eprintln!("{message}");
            }
            eprintln!("Ошибок: {}", e.messages.len());
            Ok(ExitCode::from(1))
        }
    }
}

const HEADERS: [&str; 10] = [
    "сессия",
    "зал",
    "дата",
    "время",
    "ЗЕТ",
    "мин",
    "подтв.",
    "аудитория",
    "исключено",
    "пауза",
];

/// The forum line and the session table, aligned by characters (the text is Cyrillic, so byte
/// lengths would misalign).
fn render(forum: &Forum) -> String {
    let tz = forum.tz();
    let mut out = format!(
        "{} ({}), часовой пояс {}; залов: {}, сессий: {}\n\n",
        forum.title,
        forum.id,
        forum.timezone,
        forum.halls.len(),
        forum.sessions.len()
    );
    let rows: Vec<Vec<String>> = forum.sessions.iter().map(|s| row(s, &tz)).collect();
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let headers: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    out.push_str(&line(&headers));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&rule));
    for (r, s) in rows.iter().zip(&forum.sessions) {
        out.push_str(&line(r));
        out.push_str(&format!("    {}\n", s.title));
    }
    out.push_str(
        "\nмин — минимальное время просмотра; подтв. — сколько подтверждений нужно из \
         запланированных; аудитория — число специальностей по уровню образования; исключено — \
         интервалы, которые не засчитываются; пауза — остановка учёта после пропущенного \
         подтверждения.\n",
    );
    out
}

fn row(s: &Session, tz: &jiff::tz::TimeZone) -> Vec<String> {
    let date = jiff::Timestamp::from_millisecond(s.starts)
        .map(|t| t.to_zoned(tz.clone()).strftime("%d.%m.%Y").to_string())
        .unwrap_or_default();
    let mut audience = Vec::new();
    for education in [Education::Higher, Education::Secondary] {
        let n = s.audience.list(education).len();
        if n > 0 {
            let level = match education {
                Education::Higher => "высшее",
                Education::Secondary => "среднее",
            };
            audience.push(format!("{level}: {n}"));
        }
    }
    let excluded = if s.excluded.is_empty() {
        "—".to_string()
    } else {
        format!(
            "{} ({} мин)",
            s.excluded.len(),
            measure(&s.excluded) / MINUTE
        )
    };
    vec![
        s.id.clone(),
        s.hall.clone(),
        date,
        format!(
            "{}–{}",
            format_clock(s.starts, tz),
            format_clock(s.ends, tz)
        ),
        s.credits.to_string(),
        s.min_minutes.to_string(),
        format!("{} из {}", s.prompts_required, s.prompts),
        audience.join(", "),
        excluded,
        if s.pause_on_missed { "да" } else { "нет" }.to_string(),
    ]
}
