//! Reading the log's instants quickly: `2026-04-01T09:20:00.250+03:00`, the shape every writer
//! of the log uses, is read by hand; anything else goes to the general parser
//! ([`parse_rfc3339`]), which decides what it means.
//!
//! A log of a big forum has millions of such stamps, and the general parser was the largest
//! part of reading it. The fast path gives exactly the general parser's answer for every text
//! it accepts (tested against it below); it accepts only years 1971–2999 and offsets under a
//! day, where nothing about calendars, ranges or rounding is in doubt (instants are after the
//! epoch, so truncating sub-millisecond digits is rounding towards the past either way).

use crate::domain::time::{Millis, parse_rfc3339};

/// The instant written in `text`, as [`parse_rfc3339`] reads it.
pub fn parse_instant(text: &str) -> Result<Millis, String> {
    match fast(text.as_bytes()) {
        Some(t) => Ok(t),
        None => parse_rfc3339(text),
    }
}

/// Two ASCII digits at `b[i..i + 2]`.
fn two(b: &[u8], i: usize) -> Option<i64> {
    let (x, y) = (
        b.get(i)?.wrapping_sub(b'0'),
        b.get(i + 1)?.wrapping_sub(b'0'),
    );
    (x < 10 && y < 10).then_some(i64::from(x) * 10 + i64::from(y))
}

/// Days from 1970-01-01 to the civil date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, or `None` for anything else.
fn fast(b: &[u8]) -> Option<Millis> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = two(b, 0)? * 100 + two(b, 2)?;
    let (month, day) = (two(b, 5)?, two(b, 8)?);
    let (hour, minute, second) = (two(b, 11)?, two(b, 14)?, two(b, 17)?);
    if !(1971..=2999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        // Digits past the third are truncated towards the past, as the general parser does.
        for k in 0..3 {
            millis *= 10;
            if k < digits {
                millis += i64::from(b[i + k] - b'0');
            }
        }
        i += digits;
    }
    let offset = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (two(b, i + 1)?, two(b, i + 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60;
    Some(seconds * 1_000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_usual_stamps_are_read_by_hand() {
        for text in [
            "2026-04-01T09:20:00.250+03:00",
            "2026-04-01T06:20:00Z",
            "2024-02-29T23:59:59.999999999-11:30",
            "1971-01-01T00:00:00.0001+23:59",
        ] {
            assert!(fast(text.as_bytes()).is_some(), "{text}");
            assert_eq!(parse_instant(text), parse_rfc3339(text), "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_general_parser() {
        for text in [
            "2026-04-01 09:20:00+03:00",
            "2026-04-01t09:20:00+03:00",
            "2026-04-01T09:20:00",
            "2026-04-01T09:20:00+0300",
            "2026-02-29T09:20:00Z",
            "2026-04-31T09:20:00Z",
            "2026-04-01T24:00:00Z",
            "2026-04-01T09:20:60Z",
            "2026-04-01T09:20:00.Z",
            "2026-04-01T09:20:00.1234567890Z",
            "2026-04-01T09:20:00+03:00:00",
            "2026-04-01T09:20:00+03:00 ",
            "+2026-04-01T09:20:00Z",
            "0026-04-01T09:20:00Z",
            "2026-04-01T09:20:00z",
            "２０26-04-01T09:20:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.9999Z",
        ] {
            assert_eq!(fast(text.as_bytes()), None, "{text}");
            assert_eq!(parse_instant(text), parse_rfc3339(text), "{text}");
        }
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_general_parser(
            y in 1890i64..3010, mo in 0i64..14, d in 0i64..33, h in 0i64..26, mi in 0i64..62,
            s in 0i64..62, frac in proptest::option::of("[0-9]{1,10}"),
            off in prop_oneof![Just("Z".to_owned()), "[+-][0-2][0-9]:[0-6][0-9]"],
        ) {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}");
            prop_assert_eq!(parse_instant(&text), parse_rfc3339(&text), "{}", text);
        }
    }
}
