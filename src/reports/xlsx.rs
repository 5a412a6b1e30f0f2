//! The export as an Excel workbook: a «Сводка» sheet (per session and specialty) and an
//! «Участники» sheet (one row per viewer and session).
//!
//! Both sheets use rust_xlsxwriter's constant-memory mode: each row goes to a temporary file as
//! soon as the next one starts, so 100,000 participants cost one row of memory, not a sheet.
//! The price is that rows must come in order, which they do. The finished workbook is zipped
//! straight into the given `Write` (no seeking), so it can be streamed too.

use std::io::Write;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::rows::Cell;

/// What the workbook says above its tables.
pub struct Titles<'a> {
    /// The forum's title and dates.
    pub forum: &'a str,
    /// E.g. «Время — Europe/Moscow, UTC+03:00».
    pub zone_note: &'a str,
}

/// Writes the workbook; returns how many participant rows it holds.
pub fn write_workbook<W: Write + Send>(
    out: W,
    titles: &Titles,
    summary_header: &[String],
    summary: &[Vec<Cell>],
    header: &[String],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> Result<u64, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(13);

    let sheet = book.add_worksheet_with_constant_memory()?;
    sheet.set_name("Сводка")?;
    sheet.write_string_with_format(0, 0, titles.forum, &title)?;
    sheet.write_string(1, 0, titles.zone_note)?;
    sheet.write_string(
        2,
        0,
        "«Зарегистрировано» в строке «Итого» — участники с аккредитованными для сессии \
         специальностью и уровнем образования; «Присутствовали» — у кого есть засчитанное \
         время или подтверждение.",
    )?;
    write_header(sheet, 4, summary_header, &bold)?;
    for (i, row) in summary.iter().enumerate() {
        write_cells(sheet, 5 + i as u32, row)?;
    }
    widths(
        sheet,
        &[
            12.0, 24.0, 10.0, 40.0, 8.0, 22.0, 34.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0,
        ],
    )?;
    sheet.set_freeze_panes(5, 0)?;

    let sheet = book.add_worksheet_with_constant_memory()?;
    sheet.set_name("Участники")?;
    write_header(sheet, 0, header, &bold)?;
    let mut n: u64 = 0;
    for row in rows {
        n += 1;
        // Excel's limit is 1,048,576 rows; a forum is far below it, but say so if not.
        let r = u32::try_from(n).map_err(|_| XlsxError::RowColumnLimitError)?;
        write_cells(sheet, r, &row)?;
    }
    widths(
        sheet,
        &[
            12.0, 24.0, 10.0, 36.0, 6.0, 20.0, 30.0, 28.0, 20.0, 30.0, 9.0, 9.0, 9.0, 9.0, 9.0,
            9.0, 60.0, 15.0,
        ],
    )?;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, n as u32, header.len().saturating_sub(1) as u16)?;

    book.save_to_writer(out)?;
    Ok(n)
}

fn write_header(
    sheet: &mut Worksheet,
    row: u32,
    header: &[String],
    bold: &Format,
) -> Result<(), XlsxError> {
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, h, bold)?;
    }
    Ok(())
}

fn write_cells(sheet: &mut Worksheet, row: u32, cells: &[Cell]) -> Result<(), XlsxError> {
    for (c, cell) in cells.iter().enumerate() {
        match cell {
            Cell::Text(s) if s.is_empty() => {}
            Cell::Text(s) => {
                sheet.write_string(row, c as u16, s)?;
            }
            Cell::Int(n) => {
                sheet.write_number(row, c as u16, *n as f64)?;
            }
        }
    }
    Ok(())
}

fn widths(sheet: &mut Worksheet, widths: &[f64]) -> Result<(), XlsxError> {
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, *w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_is_a_zip_with_both_sheets() {
        let mut out = Vec::new();
        let n = write_workbook(
            &mut out,
            &Titles {
                forum: "Форум",
                zone_note: "Время — Europe/Moscow",
            },
            &["Сессия".into()],
            &[vec![Cell::from("s1")]],
            &["ФИО".into(), "Минут".into()],
            vec![vec![Cell::from("Иванова Анна"), Cell::Int(30)]],
        )
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(&out[..2], b"PK", "an XLSX file is a zip archive");
    }
}
