//! Exports of verdicts for people: CSV that Russian Excel opens correctly.
//!
//! Shared by `yavka evaluate --format csv` and the organiser's results download, so both write
//! the same columns the same way.

use std::io::Write;

use crate::domain::rules::Verdict;

/// Gives a row's НМО code, if it has one.
pub type CodeOf<'a> = &'a dyn Fn(&Verdict) -> Option<String>;

/// Writes verdicts as CSV with a UTF-8 byte-order mark (without it Excel garbles Cyrillic).
/// `code` adds a `code` column with each row's НМО code, when given.
pub fn write_verdicts_csv<W: Write>(
    out: &mut W,
    rows: &[Verdict],
    delimiter: char,
    code: Option<CodeOf<'_>>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        delimiter == ',' || delimiter == ';',
        "разделитель CSV может быть «,» или «;»"
    );
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter as u8)
        .from_writer(out);
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
            v.reasons.join("; "),
            v.name.clone().unwrap_or_default(),
            v.email.clone().unwrap_or_default(),
            v.education.map_or("", |e| e.as_str()).to_owned(),
            v.specialty.clone().unwrap_or_default(),
        ];
        if let Some(code) = code {
            record.push(code(v).unwrap_or_default());
        }
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}
