//! Documents made after a forum: the commission's export (CSV and XLSX), each participant's
//! PDF certificate, the printable evidence report for appeals, and the masked name shown by the
//! public code check.
//!
//! Everything here is plain Rust over plain data: the forum, the replayed facts, issued codes
//! and a few counts from the store go in; rows, bytes or HTML come out. No database, no HTTP,
//! no clock reads (a "today" is passed in), so each document is tested as a function and the
//! API, the CLI and the mailer only fetch inputs and move bytes.
//!
//! - [`rows`]: one export row per (viewer, session), with each prompt's status.
//! - [`summary`]: the per-session and per-specialty summary.
//! - [`csv`] and [`xlsx`]: the two writers over any `Write`, row by row.
//! - [`export`]: the whole export from the log, codes and registration counts.
//! - [`certificate`]: what a certificate lists, and its PDF with an embedded Cyrillic font.
//! - [`evidence`]: one viewer's timeline, prompts and verdicts as printable HTML.
//! - [`audit`]: the organisers' audit trail as CSV.
//! - [`mask`]: «И***а А. С.» for the public `/verify` page.

pub mod audit;
pub mod certificate;
pub mod csv;
pub mod evidence;
pub mod export;
pub mod mask;
pub mod rows;
pub mod summary;
pub mod xlsx;

use jiff::tz::TimeZone;

use crate::domain::forum::{Forum, Session};
use crate::domain::time::Millis;

/// `01.04.2026`, in `tz`.
pub fn date_ru(t: Millis, tz: &TimeZone) -> String {
    zoned(t, tz).strftime("%d.%m.%Y").to_string()
}

/// `09:15`, in `tz`.
pub fn clock(t: Millis, tz: &TimeZone) -> String {
    zoned(t, tz).strftime("%H:%M").to_string()
}

/// `10:05:12`, in `tz`: the resolution an appeal is argued at.
pub fn clock_seconds(t: Millis, tz: &TimeZone) -> String {
    crate::domain::time::format_clock_seconds(t, tz)
}

/// `01.04.2026 09:15–14:30`: a session's window in the forum's zone.
pub fn session_when(s: &Session, tz: &TimeZone) -> String {
    format!(
        "{} {}–{}",
        date_ru(s.starts, tz),
        clock(s.starts, tz),
        clock(s.ends, tz)
    )
}

/// `Europe/Moscow, UTC+03:00` at `t`: how every document labels its times, because an
/// organiser must never have to guess whether a time is local or UTC.
pub fn zone_label(forum: &Forum, t: Millis) -> String {
    let offset = zoned(t, &forum.tz()).strftime("%:z").to_string();
    format!("{}, UTC{offset}", forum.timezone)
}

/// The label at the forum's first session (a forum does not straddle a clock change in
/// practice; if one did, every time is still converted at its own instant).
pub fn forum_zone_label(forum: &Forum) -> String {
    let first = forum.sessions.iter().map(|s| s.starts).min().unwrap_or(0);
    zone_label(forum, first)
}

/// The forum's days as `01.04.2026–03.04.2026` (or one date).
pub fn forum_dates(forum: &Forum) -> String {
    let tz = forum.tz();
    let first = forum.sessions.iter().map(|s| s.starts).min();
    let last = forum.sessions.iter().map(|s| s.ends).max();
    match (first, last) {
        (Some(a), Some(b)) if date_ru(a, &tz) != date_ru(b, &tz) => {
            format!("{}–{}", date_ru(a, &tz), date_ru(b, &tz))
        }
        (Some(a), _) => date_ru(a, &tz),
        _ => String::new(),
    }
}

fn zoned(t: Millis, tz: &TimeZone) -> jiff::Zoned {
    jiff::Timestamp::from_millisecond(t)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
}

/// The hall's title, or its id when the forum does not know it.
pub fn hall_title<'a>(forum: &'a Forum, hall: &'a str) -> &'a str {
    forum.hall(hall).map_or(hall, |h| h.title.as_str())
}
