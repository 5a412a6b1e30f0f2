//! How long participants' personal data is kept, and what it becomes afterwards.
//!
//! Accreditors ask for records to be kept six years (ACCME's rule, and what organisers here
//! follow), so that is the default; a forum may say otherwise (`keep_personal_data_years`).
//! When the period is over the organiser removes the data (a command or a dashboard action,
//! never silently): names are masked as `/verify` shows them («И***а А. С.»), e-mails become a
//! placeholder made from the viewer's id, phones and СНИЛС are erased. Verdicts, codes and
//! their verification keep working: they are keyed by viewer id, never by name.

use jiff::ToSpan;

use super::forum::Forum;
use super::time::Millis;

pub use super::mask::mask_name;

/// Years personal data is kept after a forum's last session unless the forum says otherwise.
pub const DEFAULT_YEARS: u32 = 6;

/// The e-mail a removed address becomes: unique per viewer (the store keeps e-mails unique per
/// forum) and undeliverable (`.invalid` is reserved for that).
pub fn masked_email(viewer: &str) -> String {
    format!("{viewer}{MASKED_EMAIL_SUFFIX}")
}

/// What follows the viewer's id in a removed address (the store appends it in SQL too).
pub const MASKED_EMAIL_SUFFIX: &str = "@removed.invalid";

/// The years `forum` keeps personal data.
pub fn years(forum: &Forum) -> u32 {
    forum.keep_personal_data_years.unwrap_or(DEFAULT_YEARS)
}

/// When `forum`'s personal data is due for removal: its last session's end plus [`years`], in
/// the forum's calendar. `None` for a forum without sessions.
pub fn due(forum: &Forum) -> Option<Millis> {
    let last = forum.sessions.iter().map(|s| s.ends).max()?;
    let tz = forum.tz();
    let end = jiff::Timestamp::from_millisecond(last).ok()?.to_zoned(tz);
    let later = end.checked_add(i64::from(years(forum)).years()).ok()?;
    Some(later.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forum::fixtures;
    use crate::domain::time::{format_local, parse_rfc3339};

    #[test]
    fn data_is_due_six_years_after_the_last_session_in_the_forums_calendar() {
        let t0 = parse_rfc3339("2026-04-01T10:00:00+03:00").unwrap();
        let mut f = fixtures::forum(
            "f",
            &["h1"],
            vec![
                fixtures::session("s1", "h1", t0, t0 + 3_600_000),
                fixtures::session("s2", "h1", t0 + 86_400_000, t0 + 86_400_000 + 3_600_000),
            ],
        );
        f.timezone = "Europe/Moscow".into();
        let due = due(&f).unwrap();
        assert_eq!(format_local(due, &f.tz()), "2032-04-02T11:00");
        f.keep_personal_data_years = Some(1);
        assert_eq!(
            format_local(super::due(&f).unwrap(), &f.tz()),
            "2027-04-02T11:00"
        );
        f.sessions.clear();
        assert_eq!(super::due(&f), None);
    }

    #[test]
    fn a_removed_name_stays_masked_and_an_address_undeliverable() {
        let once = mask_name("Иванова Анна Сергеевна");
        assert_eq!(once, "И***а А. С.");
        assert_eq!(mask_name(&once), once, "masking twice changes nothing");
        assert_eq!(masked_email("v-1"), "v-1@removed.invalid");
    }
}
