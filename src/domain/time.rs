//! Instants and spans of time, as the rules see them.
//!
//! Every instant in the domain is a count of milliseconds since the Unix epoch (`Millis`): the
//! attendance log is in milliseconds, databases store integers, and integer arithmetic keeps
//! the rules exact and deterministic. Conversions to and from text live here too: RFC 3339
//! for the log, and the forum's local wall-clock time for configuration and display.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;

/// A half-open span of time `[start, end)`. Empty when `end <= start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: Millis,
    pub end: Millis,
}

impl Span {
    pub const fn new(start: Millis, end: Millis) -> Self {
        Span { start, end }
    }

    pub fn len(&self) -> Millis {
        (self.end - self.start).max(0)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: Millis) -> bool {
        self.start <= t && t < self.end
    }

    pub fn intersect(&self, other: &Span) -> Span {
        Span::new(self.start.max(other.start), self.end.min(other.end))
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        !self.intersect(other).is_empty()
    }
}

/// Total length of a list of disjoint spans.
pub fn measure(spans: &[Span]) -> Millis {
    spans.iter().map(Span::len).sum()
}

/// Sorts spans and merges those that overlap or touch; drops empty ones.
pub fn normalize(mut spans: Vec<Span>) -> Vec<Span> {
    spans.retain(|s| !s.is_empty());
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// `spans` minus `holes`. Both must be sorted and disjoint (see [`normalize`]); so is the result.
pub fn subtract(spans: &[Span], holes: &[Span]) -> Vec<Span> {
    let mut out = Vec::with_capacity(spans.len());
    let mut h = 0;
    for s in spans {
        let mut cur = *s;
        while h < holes.len() && holes[h].end <= cur.start {
            h += 1;
        }
        let mut k = h;
        while k < holes.len() && holes[k].start < cur.end {
            let hole = holes[k];
            if hole.start > cur.start {
                out.push(Span::new(cur.start, hole.start));
            }
            cur.start = cur.start.max(hole.end);
            if cur.is_empty() {
                break;
            }
            k += 1;
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// Parses an RFC 3339 instant with an offset (`2026-04-01T09:15:00.250+03:00` or `…Z`).
/// Sub-millisecond digits are truncated towards the past.
pub fn parse_rfc3339(text: &str) -> Result<Millis, String> {
    let ts: Timestamp = text.parse().map_err(|e| {
        format!("«{text}» не является моментом времени RFC 3339 со смещением ({e})")
    })?;
    Ok(ts.as_millisecond())
}

/// Formats an instant as RFC 3339 in the given zone, with milliseconds when they are not zero.
pub fn format_rfc3339(t: Millis, tz: &TimeZone) -> String {
    let zoned = Timestamp::from_millisecond(t)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone());
    if t.rem_euclid(SECOND) == 0 {
        zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    } else {
        zoned.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
    }
}

/// Parses a local wall-clock time (`2026-04-01T09:15`, seconds optional) in `tz`.
/// A time that does not exist or is ambiguous there (a daylight-saving change) is refused
/// rather than guessed, because a session window must mean one thing.
pub fn parse_local(text: &str, tz: &TimeZone) -> Result<Millis, String> {
    let dt: DateTime = text.trim().parse().map_err(|_| {
        no_such_moment(text.trim()).unwrap_or_else(|| {
            format!("«{text}» не является местным временем вида 2026-04-01T09:15")
        })
    })?;
    let ambiguous = tz.to_ambiguous_zoned(dt);
    let zoned = ambiguous.unambiguous().map_err(|_| {
        format!("Местного времени «{text}» нет или оно неоднозначно в этом часовом поясе")
    })?;
    Ok(zoned.timestamp().as_millisecond())
}

const MONTHS_PREPOSITIONAL: [&str; 12] = [
    "январе",
    "феврале",
    "марте",
    "апреле",
    "мае",
    "июне",
    "июле",
    "августе",
    "сентябре",
    "октябре",
    "ноябре",
    "декабре",
];

/// For text shaped like `2026-04-31T09:15` (time optional, seconds optional) whose numbers name no real date
/// or time, what is wrong with it: «2026-04-31» is a typo for a day, not a format error, and
/// an organiser should be told which. `None` when the text does not have that shape.
fn no_such_moment(text: &str) -> Option<String> {
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, time),
        None => (text, "00:00"),
    };
    let number = |part: &str, len: usize| {
        (part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<i32>().ok())
            .flatten()
    };
    let date: Vec<&str> = date.split('-').collect();
    let time: Vec<&str> = time.split(':').collect();
    if date.len() != 3 || !(2..=3).contains(&time.len()) {
        return None;
    }
    let (year, month, day) = (
        number(date[0], 4)?,
        number(date[1], 2)?,
        number(date[2], 2)?,
    );
    let clock: Vec<i32> = time.iter().map(|p| number(p, 2)).collect::<Option<_>>()?;
    if !(1..=12).contains(&month) {
        return Some(format!(
            "В дате «{text}» месяц {month}: месяцы нумеруются от 01 до 12"
        ));
    }
    let month_index = usize::try_from(month - 1).ok()?;
    let first = jiff::civil::Date::new(i16::try_from(year).ok()?, month as i8, 1).ok()?;
    let days = i32::from(first.days_in_month());
    if !(1..=days).contains(&day) {
        return Some(format!(
            "Такого дня нет: в {} {year} года {days} дней, а указано {day}-е число («{text}»)",
            MONTHS_PREPOSITIONAL[month_index]
        ));
    }
    if clock[0] > 23 || clock[1] > 59 || clock.get(2).is_some_and(|s| *s > 59) {
        return Some(format!(
            "Такого времени нет: «{text}»; часы от 00 до 23, минуты и секунды от 00 до 59"
        ));
    }
    None
}

/// Formats an instant as local wall-clock time `2026-04-01T09:15` (seconds shown when not zero).
pub fn format_local(t: Millis, tz: &TimeZone) -> String {
    let zoned = Timestamp::from_millisecond(t)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone());
    if zoned.second() == 0 && zoned.subsec_nanosecond() == 0 {
        zoned.strftime("%Y-%m-%dT%H:%M").to_string()
    } else {
        zoned.strftime("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

/// Formats only the local clock time `09:15`.
pub fn format_clock(t: Millis, tz: &TimeZone) -> String {
    let zoned = Timestamp::from_millisecond(t)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone());
    zoned.strftime("%H:%M").to_string()
}

/// `10:05:12` in `tz`: the resolution an appeal is argued at. Written from the zone's offset at
/// `t` rather than through `strftime`: an export formats a few million of these.
pub fn format_clock_seconds(t: Millis, tz: &TimeZone) -> String {
    let at = Timestamp::from_millisecond(t).unwrap_or(Timestamp::UNIX_EPOCH);
    let local = (at.as_second() + i64::from(tz.to_offset(at).seconds())).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        local / 3600,
        local / 60 % 60,
        local % 60
    )
}

/// The local date of `t` in `tz`.
pub fn local_date(t: Millis, tz: &TimeZone) -> jiff::civil::Date {
    Timestamp::from_millisecond(t)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
        .date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: i64, b: i64) -> Span {
        Span::new(a, b)
    }

    #[test]
    fn clock_seconds_are_local_even_across_a_clock_change() {
        let moscow = TimeZone::get("Europe/Moscow").unwrap();
        let t = parse_rfc3339("2026-04-01T11:09:43.999+03:00").unwrap();
        assert_eq!(format_clock_seconds(t, &moscow), "11:09:43");
        // Berlin moves its clocks at 02:00 on 29 March 2026: every second around it agrees
        // with the zone's own formatting.
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let change = parse_rfc3339("2026-03-29T01:00:00Z").unwrap();
        for t in (change - 5_000..change + 5_000).step_by(500) {
            let zoned = Timestamp::from_millisecond(t)
                .unwrap()
                .to_zoned(berlin.clone());
            assert_eq!(
                format_clock_seconds(t, &berlin),
                zoned.strftime("%H:%M:%S").to_string()
            );
        }
    }

    #[test]
    fn normalize_merges_touching_and_drops_empty() {
        let v = normalize(vec![s(5, 7), s(0, 2), s(2, 3), s(9, 9), s(6, 8)]);
        assert_eq!(v, vec![s(0, 3), s(5, 8)]);
    }

    #[test]
    fn subtract_cuts_holes_out() {
        let v = subtract(&[s(0, 10), s(20, 30)], &[s(2, 3), s(5, 22), s(29, 40)]);
        assert_eq!(v, vec![s(0, 2), s(3, 5), s(22, 29)]);
        assert_eq!(subtract(&[s(0, 10)], &[]), vec![s(0, 10)]);
        assert_eq!(subtract(&[s(0, 10)], &[s(-5, 15)]), vec![]);
    }

    #[test]
    fn rfc3339_with_offset_and_millis() {
        let a = parse_rfc3339("2026-04-01T09:15:00+03:00").unwrap();
        let b = parse_rfc3339("2026-04-01T06:15:00.250Z").unwrap();
        assert_eq!(b - a, 250);
        assert!(
            parse_rfc3339("2026-04-01T09:15:00").is_err(),
            "an offset is required"
        );
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        assert_eq!(format_rfc3339(b, &tz), "2026-04-01T09:15:00.250+03:00");
        assert_eq!(format_rfc3339(a, &tz), "2026-04-01T09:15:00+03:00");
    }

    #[test]
    fn local_time_in_moscow() {
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let t = parse_local("2026-04-01T09:15", &tz).unwrap();
        assert_eq!(t, parse_rfc3339("2026-04-01T06:15:00Z").unwrap());
        assert_eq!(format_local(t, &tz), "2026-04-01T09:15");
        assert_eq!(format_clock(t, &tz), "09:15");
        assert!(parse_local("01.04.2026 09:15", &tz).is_err());
    }

    #[test]
    fn a_day_that_does_not_exist_is_named_as_such() {
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let e = parse_local("2026-04-31T09:15", &tz).unwrap_err();
        assert_eq!(
            e,
            "Такого дня нет: в апреле 2026 года 30 дней, а указано 31-е число \
             («2026-04-31T09:15»)"
        );
        let e = parse_local("2027-02-29T09:15", &tz).unwrap_err();
        assert!(e.contains("в феврале 2027 года 28 дней"), "{e}");
        assert!(parse_local("2028-02-29T09:15", &tz).is_ok(), "a leap year");
        let e = parse_local("2026-13-01T09:15", &tz).unwrap_err();
        assert!(e.contains("месяц 13"), "{e}");
        let e = parse_local("2026-04-01T24:15", &tz).unwrap_err();
        assert!(e.starts_with("Такого времени нет"), "{e}");
        let e = parse_local("1 апреля", &tz).unwrap_err();
        assert!(
            e.contains("вида 2026-04-01T09:15"),
            "a format error stays one: {e}"
        );
    }

    #[test]
    fn nonexistent_local_time_is_refused() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        assert!(parse_local("2026-03-29T02:30", &tz).is_err());
    }
}
