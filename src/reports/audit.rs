//! The audit trail as a spreadsheet: one row per entry, times in the forum's zone, every text
//! cell formula-safe (a failed sign-in records whatever login was typed, `=HYPERLINK(…)`
//! included).
//!
//! Written page by page (`write_page`), so the HTTP download streams a long trail with bounded
//! memory: the first page carries the byte-order mark and the header.

use std::io::Write;

use jiff::tz::TimeZone;

use super::csv::{neutralise, write_table};
use super::rows::Cell;
use super::{clock_seconds, date_ru};
use crate::domain::audit::Entry;

/// The header; `zone` is the forum's zone as documents name it.
pub fn header(zone: &str) -> Vec<String> {
    [
        "№",
        &format!("Время ({zone})"),
        "Кто",
        "Роль",
        "Откуда",
        "Действие",
        "Код действия",
        "Описание",
        "Подробности (JSON)",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// One entry as cells.
pub fn row(e: &Entry, tz: &TimeZone) -> Vec<Cell> {
    vec![
        Cell::Int(e.id),
        Cell::from(format!("{} {}", date_ru(e.at, tz), clock_seconds(e.at, tz))),
        Cell::from(e.actor.as_str()),
        Cell::from(e.role_title().unwrap_or("")),
        Cell::from(e.address.as_deref().unwrap_or("")),
        Cell::from(e.action_title()),
        Cell::from(e.action.as_str()),
        Cell::from(e.description.as_str()),
        Cell::from(e.details.to_string()),
    ]
}

/// Writes one page of entries; the first page (`header` given) starts the file.
pub fn write_page<W: Write>(
    out: W,
    delimiter: u8,
    header: Option<&[String]>,
    entries: &[Entry],
    tz: &TimeZone,
) -> anyhow::Result<()> {
    let rows = entries.iter().map(|e| row(e, tz));
    match header {
        Some(header) => {
            write_table(out, delimiter, header, rows)?;
        }
        None => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(out);
            for cells in rows {
                w.write_record(cells.iter().map(|c| match c {
                    Cell::Text(t) => neutralise(t).into_owned(),
                    Cell::Int(_) => c.text().into_owned(),
                }))?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(id: i64, actor: &str) -> Entry {
        Entry {
            id,
            at: 1_775_026_800_000, // 2026-04-01T10:00:00+03:00
            forum: Some("f".into()),
            actor: actor.into(),
            role: None,
            address: Some("203.0.113.7".into()),
            action: "sign_in_failed".into(),
            description: format!("Неудачная попытка входа под логином «{actor}»"),
            details: json!({ "reason": "wrong_password" }),
        }
    }

    #[test]
    fn pages_join_into_one_safe_file() {
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let mut out = Vec::new();
        let h = header("Europe/Moscow, UTC+03:00");
        write_page(&mut out, b';', Some(&h), &[entry(2, "anna")], &tz).unwrap();
        write_page(&mut out, b';', None, &[entry(1, "=HYPERLINK(\"x\")")], &tz).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\u{feff}').count(), 1, "{text}");
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].starts_with("№;Время (Europe/Moscow, UTC+03:00);Кто;"),
            "{text}"
        );
        assert!(
            lines[1].starts_with(
                "2;01.04.2026 10:00:00;anna;;203.0.113.7;Неудачный вход;sign_in_failed;"
            ),
            "{text}"
        );
        assert!(lines[2].contains(";\"'=HYPERLINK(\"\"x\"\")\";"), "{text}");
    }
}
