//! Forums for tests (the crate's own and the integration tests'), built in a line or two: one place that knows every field of a
//! [`Forum`] and a [`Session`], so a test says only what it is about.
//!
//! Defaults: a forum in `Europe/Moscow` with one-minute prompt windows and gaps and no margin;
//! a hall titled by its id without a stream; a session of 1 ЗЕТ needing one minute and no
//! prompts, open to nobody, with one-minute prompt windows. Change a field with struct update
//! syntax: `Session { min_minutes: 85, ..session("s1", "h1", 0, 2 * HOUR) }`.

use super::{Audience, Forum, Hall, Session};
use crate::domain::time::{MINUTE, Millis};

/// A forum `id` (titled the same) with `halls` and `sessions`.
pub fn forum(id: &str, halls: &[&str], sessions: Vec<Session>) -> Forum {
    Forum {
        id: id.into(),
        title: id.into(),
        timezone: "Europe/Moscow".into(),
        prompt_window_ms: MINUTE,
        prompt_min_gap_ms: MINUTE,
        prompt_margin_ms: 0,
        halls: halls.iter().map(|h| hall(h)).collect(),
        sessions,
        codes_note: None,
        keep_personal_data_years: None,
        organiser: None,
    }
}

/// A hall titled by its id, without a stream.
pub fn hall(id: &str) -> Hall {
    Hall {
        id: id.into(),
        title: id.into(),
        stream_url: String::new(),
    }
}

/// A session `id` in `hall` from `starts` to `ends`.
pub fn session(id: &str, hall: &str, starts: Millis, ends: Millis) -> Session {
    Session {
        id: id.into(),
        hall: hall.into(),
        title: id.into(),
        starts,
        ends,
        credits: 1,
        min_minutes: 1,
        prompts: 0,
        prompts_required: 0,
        audience: Audience::default(),
        excluded: vec![],
        pause_on_missed: false,
        prompt_window_ms: MINUTE,
    }
}

/// The shipped example forum (`config/forum.toml`), built into the test binary: the domain
/// reads no files.
pub fn shipped() -> Forum {
    super::config::parse(
        include_str!("../../../config/forum.toml"),
        "config/forum.toml",
        &super::catalogue::Catalogue::shipped(),
    )
    .expect("the shipped forum is valid")
}
