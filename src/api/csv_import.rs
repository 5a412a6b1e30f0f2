//! Reading the organiser's CSV of viewers: the file's encoding, its header, its rows as
//! registration forms, and a check of every row that keeps only the first errors.
//!
//! A file of half a million bad rows once came back as a 287 MB answer after five seconds,
//! the server peaking at 2.7 GB: every error was collected. Here the check counts every error
//! but keeps only the first `shown`, and nothing holds the rows: the import reads the text
//! twice (check, then insert), so memory is the file itself plus what is kept.
//!
//! Russian Excel saves «CSV (разделители — запятые)» in Windows-1251, so a file that is not
//! UTF-8 is read as Windows-1251 when it plausibly is one (its letters are Cyrillic and words
//! are not mixed-case gibberish, which is what KOI8-R read as Windows-1251 looks like); the
//! answer says which encoding was used. Anything else is refused with advice to save as UTF-8.

use axum::body::Bytes;

use crate::api::error::ApiError;
use crate::domain::consent::ConsentVersions;
use crate::domain::forum::catalogue::Catalogue;
use crate::domain::registration::{FieldError, RegistrationForm, validate};

/// The file as text, and the encoding it was read in (`utf-8` or `windows-1251`).
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

const SAVE_AS_UTF8: &str =
    "Сохраните таблицу как «CSV UTF-8 (разделитель — запятая)» и загрузите файл снова.";

pub fn decode(bytes: Bytes) -> Result<Decoded, ApiError> {
    // UTF-16 first: its Cyrillic and Latin text is all bytes below 0x80 and NULs, which is
    // valid UTF-8 and would be read as garbage.
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") || bytes.contains(&0) {
        return Err(ApiError::BadRequest(format!(
            "Файл в кодировке UTF-16, а нужна UTF-8. {SAVE_AS_UTF8}"
        )));
    }
    // The body's own buffer becomes the text: a large file is held once, not twice.
    let mut raw = Vec::from(bytes);
    if raw.starts_with(b"\xef\xbb\xbf") {
        raw.drain(..3);
    }
    let raw = match String::from_utf8(raw) {
        Ok(text) => {
            return Ok(Decoded {
                text,
                encoding: "utf-8",
            });
        }
        Err(e) => e.into_bytes(),
    };
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&raw);
    if !plausibly_russian(&text) {
        return Err(ApiError::BadRequest(format!(
            "Не удалось понять кодировку файла: это не UTF-8 и не Windows-1251. {SAVE_AS_UTF8}"
        )));
    }
    Ok(Decoded {
        text: text.into_owned(),
        encoding: "windows-1251",
    })
}

/// Whether text decoded as Windows-1251 reads as Russian: nearly every non-ASCII character a
/// Cyrillic letter, and almost no word with a capital letter after a small one (KOI8-R read as
/// Windows-1251 swaps the cases: «Иванова» becomes «йБЮМНБЮ»).
fn plausibly_russian(text: &str) -> bool {
    let cyrillic = |c: char| matches!(c, 'А'..='я' | 'Ё' | 'ё');
    let non_ascii = text.chars().filter(|c| !c.is_ascii()).count();
    let letters = text.chars().filter(|&c| cyrillic(c)).count();
    let mut words = 0;
    let mut mixed = 0;
    for word in text.split(|c: char| !cyrillic(c)).filter(|w| !w.is_empty()) {
        words += 1;
        let chars: Vec<char> = word.chars().collect();
        if chars
            .windows(2)
            .any(|w| w[0].is_lowercase() && w[1].is_uppercase())
        {
            mixed += 1;
        }
    }
    letters * 10 >= non_ascii * 9 && mixed * 10 <= words
}

/// Where each column is; `snils` is optional.
struct Columns {
    name: usize,
    email: usize,
    phone: usize,
    education: usize,
    specialty: usize,
    snils: Option<usize>,
}

/// The rows of a CSV as registration forms, with the line each starts on. `,` or `;`
/// separated (whichever the header uses more), header names in any case.
pub struct Rows<'a> {
    reader: csv::Reader<&'a [u8]>,
    /// The texts' versions the organiser's import records as accepted.
    consents: ConsentVersions,
    columns: Columns,
    record: csv::StringRecord,
}

impl<'a> Rows<'a> {
    pub fn new(text: &'a str, consents: ConsentVersions) -> Result<Rows<'a>, ApiError> {
        let first = text.lines().next().unwrap_or_default();
        let delimiter = if first.matches(';').count() > first.matches(',').count() {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| {
                tracing::debug!(error = %e, "CSV header unreadable");
                ApiError::BadRequest("Не удалось прочитать первую строку CSV (заголовок).".into())
            })?
            .iter()
            .map(str::to_lowercase)
            .collect();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let required = ["name", "email", "phone", "education", "specialty"];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| col(c).is_none())
            .collect();
        let (Some(name), Some(email), Some(phone), Some(education), Some(specialty)) = (
            col("name"),
            col("email"),
            col("phone"),
            col("education"),
            col("specialty"),
        ) else {
            return Err(ApiError::BadRequest(format!(
                "В заголовке CSV нет столбцов: {}. Первая строка файла должна называть столбцы: \
                 name, email, phone, education, specialty и, если есть, snils.",
                missing.join(", ")
            )));
        };
        let columns = Columns {
            name,
            email,
            phone,
            education,
            specialty,
            snils: col("snils"),
        };
        Ok(Rows {
            reader,
            consents,
            columns,
            record: csv::StringRecord::new(),
        })
    }
}

impl Iterator for Rows<'_> {
    /// The line the row starts on, and its form or why it could not be read.
    type Item = (u64, Result<RegistrationForm, String>);

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.reader.position().line();
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(line, |p| p.line());
                let get = |c: usize| self.record.get(c).unwrap_or("").to_owned();
                let c = &self.columns;
                Some((
                    line,
                    Ok(RegistrationForm {
                        name: get(c.name),
                        email: get(c.email),
                        phone: get(c.phone),
                        education: get(c.education),
                        specialty: get(c.specialty),
                        snils: Some(c.snils.map(get).unwrap_or_default()),
                        consent_personal_data: true,
                        consent_terms: true,
                        consent_personal_data_version: Some(self.consents.personal_data),
                        consent_terms_version: Some(self.consents.terms),
                    }),
                ))
            }
            Err(e) => {
                tracing::debug!(error = %e, line, "CSV row unreadable");
                // The reader cannot go on past a broken record of an in-memory text only if
                // the text ends; report the row and continue.
                Some((line, Err("строку не удалось разобрать как CSV".into())))
            }
        }
    }
}

/// What checking every row found.
#[derive(Debug, Default)]
pub struct Check {
    pub rows: usize,
    pub bad_rows: usize,
    pub error_count: usize,
    /// The first errors, at most `shown`.
    pub errors: Vec<FieldError>,
}

/// Checks every row as registration would, keeping only the first `shown` errors. CPU-bound
/// for a large file: run it on a blocking thread.
pub fn check(
    text: &str,
    catalogue: &Catalogue,
    consents: ConsentVersions,
    shown: usize,
) -> Result<Check, ApiError> {
    let mut check = Check::default();
    for (line, row) in Rows::new(text, consents)? {
        check.rows += 1;
        let errors = match row {
            Ok(form) => match validate(&form, catalogue, consents) {
                Ok(_) => continue,
                Err(fields) => fields,
            },
            Err(message) => vec![FieldError {
                field: "csv",
                message,
            }],
        };
        check.bad_rows += 1;
        check.error_count += errors.len();
        for f in errors {
            if check.errors.len() >= shown {
                break;
            }
            check.errors.push(FieldError {
                field: f.field,
                message: format!("Строка {line}, {}: {}", f.field, f.message),
            });
        }
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: ConsentVersions = ConsentVersions {
        personal_data: 1,
        terms: 1,
    };

    #[test]
    fn utf8_with_or_without_a_bom_and_windows_1251_are_read() {
        let csv = "name,email\nИванова Анна,a@b.ru\n";
        let bytes = |b: &[u8]| Bytes::copy_from_slice(b);
        assert_eq!(decode(bytes(csv.as_bytes())).unwrap().encoding, "utf-8");
        let bom = [b"\xef\xbb\xbf".as_slice(), csv.as_bytes()].concat();
        assert_eq!(decode(bytes(&bom)).unwrap().text, csv);
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(csv);
        let d = decode(bytes(&cp1251)).unwrap();
        assert_eq!((d.encoding, d.text.as_str()), ("windows-1251", csv));
    }

    #[test]
    fn other_encodings_are_refused_with_advice() {
        let csv = "name,email\nИванова Анна Сергеевна,a@b.ru\nПетров Пётр,p@b.ru\n";
        let (koi8, _, _) = encoding_rs::KOI8_R.encode(csv);
        let utf16: Vec<u8> = csv.encode_utf16().flat_map(u16::to_le_bytes).collect();
        for bytes in [koi8.into_owned(), utf16] {
            let Err(ApiError::BadRequest(m)) = decode(bytes.into()) else {
                panic!("refused");
            };
            assert!(m.contains("UTF-8"), "{m}");
        }
    }

    #[test]
    fn rows_know_their_lines_and_the_check_keeps_only_the_first_errors() {
        let catalogue = Catalogue::shipped();
        let mut text = String::from("name;email;phone;education;specialty\n");
        text.push_str("Иванова Анна;anna@example.org;+79161234567;higher;рентгенология\n");
        text.push_str("\"Петров\nПётр\";x;1;higher;рентгенология\n");
        for _ in 0..1000 {
            text.push_str("Кто;x;1;higher;нет\n");
        }
        let check = check(&text, &catalogue, V, 5).unwrap();
        assert_eq!((check.rows, check.bad_rows), (1002, 1001));
        assert!(check.error_count >= 3000, "{check:?}");
        assert_eq!(check.errors.len(), 5);
        assert!(
            check.errors[0].message.starts_with("Строка 3, "),
            "{check:?}"
        );
        let lines: Vec<u64> = Rows::new(&text, V)
            .unwrap()
            .map(|(l, _)| l)
            .take(3)
            .collect();
        assert_eq!(
            lines,
            [2, 3, 5],
            "a quoted line break makes the row two lines long"
        );
    }

    #[test]
    fn a_header_without_the_columns_is_refused() {
        let Err(ApiError::BadRequest(m)) = Rows::new("ФИО,почта\n", V).map(|_| ()) else {
            panic!("refused");
        };
        assert!(
            m.contains("name, email, phone, education, specialty"),
            "{m}"
        );
    }
}
