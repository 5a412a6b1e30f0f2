//! Forums for integration tests, in one place: the test forum every server test runs
//! ([`TEST_FORUM`]), its variants as edited TOML, the shipped example, and builders of a
//! [`Forum`] in code — the crate's own `domain::forum::fixtures`, shared with its unit tests: a
//! test says only what it is about.
//!
//! Builders' defaults: a forum in `Europe/Moscow` with one-minute prompt windows and gaps and
//! no margin; a hall titled by its id without a stream; a session of 1 ЗЕТ needing one minute
//! and no prompts, open to nobody, with one-minute prompt windows. Change a field with struct
//! update syntax: `Session { min_minutes: 20, ..session("s1", "h1", starts, ends) }`.

#![allow(dead_code)]

use std::path::Path;

use yavka::domain::forum::catalogue::Catalogue;
use yavka::domain::forum::{Forum, config};

#[allow(unused_imports)] // only some test binaries build forums in code
pub use yavka::domain::forum::fixtures::{forum, hall, session};

/// A forum of two halls with one short session each, on 1 April 2026 (Moscow time):
/// `s1` in hall 1 and `s2` in hall 2, both 10:00–10:30, two prompts each.
pub const TEST_FORUM: &str = r#"
[forum]
id = "test-forum"
title = "Тестовый форум"
timezone = "Europe/Moscow"
prompt_window_seconds = 120
prompt_min_gap_minutes = 5
prompt_margin_minutes = 2

[[hall]]
id = "hall-1"
title = "Зал №1"
stream_url = "https://example.org/hall-1.m3u8"

[[hall]]
id = "hall-2"
title = "Зал №2"
stream_url = "https://example.org/hall-2.m3u8"

[[session]]
id = "s1"
hall = "hall-1"
title = "Первая сессия"
starts = "2026-04-01T10:00"
ends = "2026-04-01T10:30"
credits = 1
min_minutes = 20
prompts = 2
prompts_required = 2
audience.higher = ["рентгенология"]

[[session]]
id = "s2"
hall = "hall-2"
title = "Вторая сессия"
starts = "2026-04-01T10:00"
ends = "2026-04-01T10:30"
credits = 1
min_minutes = 20
prompts = 2
prompts_required = 1
audience.higher = ["рентгенология"]
"#;

pub fn test_forum() -> Forum {
    parse(TEST_FORUM, "test-forum.toml")
}

/// The test forum with `edit` applied to its TOML, named `file` in messages.
pub fn test_forum_edited(file: &str, edit: impl FnOnce(&str) -> String) -> Forum {
    parse(&edit(TEST_FORUM), file)
}

/// A forum's TOML as the server reads it, with the shipped catalogue; panics if invalid.
pub fn parse(toml: &str, file: &str) -> Forum {
    config::parse(toml, file, &Catalogue::shipped())
        .unwrap_or_else(|e| panic!("{file} is a valid forum: {e:?}"))
}

/// The shipped example forum, `config/forum.toml`.
pub fn shipped() -> Forum {
    yavka::forum_file::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/forum.toml"))
        .expect("the shipped forum is valid")
}
