//! The way back: a [`Forum`] written as the same TOML that `config/forum.toml` is written in,
//! so that a forum kept in the store can be exported, edited by hand and imported again.
//!
//! The model keeps instants in UTC milliseconds and a prompt window on every session; the file
//! keeps local times in the forum's zone and a session's window only where it differs from
//! the forum's. This is the one place that converts that way ([`super::parse`] converts back);
//! `parse(to_toml(f)) == f` for every forum that came from a file (tested with the shipped one).

use serde::Serialize;

use crate::domain::forum::model::{Forum, Session};
use crate::domain::time::{MINUTE, SECOND, format_local};

#[derive(Serialize)]
struct File<'a> {
    forum: ForumPart<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organiser: Option<OrganiserPart<'a>>,
    hall: Vec<HallPart<'a>>,
    session: Vec<SessionPart<'a>>,
}

#[derive(Serialize)]
struct ForumPart<'a> {
    id: &'a str,
    title: &'a str,
    timezone: &'a str,
    prompt_window_seconds: i64,
    prompt_min_gap_minutes: i64,
    prompt_margin_minutes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    codes_note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_personal_data_years: Option<u32>,
}

#[derive(Serialize)]
struct OrganiserPart<'a> {
    name: &'a str,
    details: &'a [String],
}

#[derive(Serialize)]
struct HallPart<'a> {
    id: &'a str,
    title: &'a str,
    stream_url: &'a str,
}

#[derive(Serialize)]
struct SessionPart<'a> {
    id: &'a str,
    hall: &'a str,
    title: &'a str,
    starts: String,
    ends: String,
    credits: u32,
    min_minutes: u32,
    prompts: u32,
    prompts_required: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    excluded: Vec<(String, String)>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pause_on_missed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_window_seconds: Option<i64>,
    // Last: a table written after it would otherwise swallow the keys that follow.
    audience: AudiencePart<'a>,
}

#[derive(Serialize)]
struct AudiencePart<'a> {
    higher: &'a [String],
    secondary: &'a [String],
}

/// The forum as a configuration file.
pub fn to_toml<'a>(forum: &'a Forum) -> String {
    let tz = forum.tz();
    let session = |s: &'a Session| -> SessionPart<'a> {
        SessionPart {
            id: &s.id,
            hall: &s.hall,
            title: &s.title,
            starts: format_local(s.starts, &tz),
            ends: format_local(s.ends, &tz),
            credits: s.credits,
            min_minutes: s.min_minutes,
            prompts: s.prompts,
            prompts_required: s.prompts_required,
            excluded: s
                .excluded
                .iter()
                .map(|e| (format_local(e.start, &tz), format_local(e.end, &tz)))
                .collect(),
            pause_on_missed: s.pause_on_missed,
            prompt_window_seconds: (s.prompt_window_ms != forum.prompt_window_ms)
                .then_some(s.prompt_window_ms / SECOND),
            audience: AudiencePart {
                higher: &s.audience.higher,
                secondary: &s.audience.secondary,
            },
        }
    };
    let file = File {
        forum: ForumPart {
            id: &forum.id,
            title: &forum.title,
            timezone: &forum.timezone,
            prompt_window_seconds: forum.prompt_window_ms / SECOND,
            prompt_min_gap_minutes: forum.prompt_min_gap_ms / MINUTE,
            prompt_margin_minutes: forum.prompt_margin_ms / MINUTE,
            codes_note: forum.codes_note.as_deref(),
            keep_personal_data_years: forum.keep_personal_data_years,
        },
        organiser: forum.organiser.as_ref().map(|o| OrganiserPart {
            name: &o.name,
            details: &o.details,
        }),
        hall: forum
            .halls
            .iter()
            .map(|h| HallPart {
                id: &h.id,
                title: &h.title,
                stream_url: &h.stream_url,
            })
            .collect(),
        session: forum.sessions.iter().map(session).collect(),
    };
    // Plain strings, numbers and arrays of them always serialise; a failure here is a bug.
    toml::to_string_pretty(&file).expect("a forum serialises to TOML")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forum::catalogue::Catalogue;
    use crate::domain::forum::config::parse;
    use crate::domain::forum::fixtures::shipped;

    #[test]
    fn the_shipped_forum_comes_back_the_same() {
        let shipped = shipped();
        let text = to_toml(&shipped);
        let again = parse(&text, "export.toml", &Catalogue::shipped())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(again, shipped);
        assert_eq!(to_toml(&again), text, "writing is stable");
    }

    #[test]
    fn breaks_and_own_windows_are_written_only_where_they_are() {
        let mut f = shipped();
        let s = &mut f.sessions[0];
        s.excluded = vec![crate::domain::time::Span::new(
            s.starts + MINUTE,
            s.starts + 2 * MINUTE,
        )];
        s.prompt_window_ms = 90 * SECOND;
        s.pause_on_missed = true;
        let text = to_toml(&f);
        assert_eq!(
            text.matches("prompt_window_seconds = 90").count(),
            1,
            "{text}"
        );
        assert_eq!(text.matches("excluded").count(), 1, "{text}");
        let again = parse(&text, "export.toml", &Catalogue::shipped()).unwrap();
        assert_eq!(again, f);
    }
}
