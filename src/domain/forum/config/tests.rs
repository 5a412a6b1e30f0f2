//! Unit tests of the configuration reader: one small file per kind of mistake.

use super::*;
use crate::domain::forum::Education;
use crate::domain::time::{MINUTE, format_local};

const HEAD: &str = r#"
[forum]
id = "f"
title = "Форум"
timezone = "Europe/Moscow"
prompt_window_seconds = 120

[[hall]]
id = "hall-1"
title = "Зал №1"
stream_url = "https://example.org/hall-1.m3u8"
"#;

/// A valid session; `extra` lines are appended inside it (later keys may not repeat earlier ones,
/// so tests that change a key use [`session_with`]).
fn session(id: &str, extra: &str) -> String {
    session_with(id, "2026-04-01T09:15", "2026-04-01T14:30", extra)
}

fn session_with(id: &str, starts: &str, ends: &str, extra: &str) -> String {
    format!(
        r#"
[[session]]
id = "{id}"
hall = "hall-1"
title = "Наука и образование"
starts = "{starts}"
ends = "{ends}"
credits = 6
min_minutes = 270
prompts = 6
prompts_required = 4
audience.higher = ["рентгенология", "ультразвуковая диагностика"]
audience.secondary = []
{extra}
"#
    )
}

fn check(text: &str) -> Result<Forum, ConfigError> {
    parse(text, "forum.toml", &Catalogue::shipped())
}

/// The error messages for `text`, which must be invalid.
fn errors(text: &str) -> Vec<String> {
    match check(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.messages,
    }
}

fn assert_one(text: &str, expected: &[&str]) {
    let messages = errors(text);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    for part in expected {
        assert!(messages[0].contains(part), "«{part}» not in {messages:#?}");
    }
}

#[test]
fn minimal_forum_is_read() {
    let text = format!(
        "{HEAD}{}",
        session(
            "s1",
            "excluded = [[\"2026-04-01T11:20\", \"2026-04-01T11:40\"], [\"2026-04-01T11:00\", \"2026-04-01T11:20\"]]\nprompt_window_seconds = 90"
        )
    );
    let forum = check(&text).unwrap();
    let tz = forum.tz();
    assert_eq!(forum.prompt_window_ms, 120_000);
    assert_eq!(forum.prompt_min_gap_ms, 10 * MINUTE, "default gap");
    assert_eq!(forum.prompt_margin_ms, 5 * MINUTE, "default margin");
    let s = &forum.sessions[0];
    assert_eq!(format_local(s.starts, &tz), "2026-04-01T09:15");
    assert_eq!(s.prompt_window_ms, 90_000);
    assert_eq!(
        s.excluded.len(),
        1,
        "touching ranges are merged: {:?}",
        s.excluded
    );
    assert_eq!(s.excluded[0].len(), 40 * MINUTE);
    assert_eq!(s.counted_length(), (315 - 40) * MINUTE);
    assert!(s.audience.admits(Education::Higher, "Рентгенология"));
}

#[test]
fn specialty_is_stored_in_catalogue_spelling() {
    let text = format!(
        "{HEAD}{}",
        session("s1", "").replace("\"рентгенология\"", "\" Рентгенология \"")
    );
    let forum = check(&text).unwrap();
    assert_eq!(forum.sessions[0].audience.higher[0], "рентгенология");
}

#[test]
fn ends_before_starts() {
    let text = format!(
        "{HEAD}{}",
        session_with("day1-hall1", "2026-04-01T09:15", "2026-04-01T09:00", "")
    );
    assert_one(
        &text,
        &[
            "forum.toml: сессия «day1-hall1», поле ends: Окончание 2026-04-01T09:00 раньше начала 2026-04-01T09:15",
        ],
    );
    let text = format!(
        "{HEAD}{}",
        session_with("s", "2026-04-01T09:15", "2026-04-01T09:15", "")
    );
    assert_one(&text, &["поле ends", "совпадает с началом"]);
}

#[test]
fn unknown_hall_lists_known_ones() {
    let text = format!(
        "{HEAD}{}",
        session("s", "").replace("hall = \"hall-1\"", "hall = \"hall-9\"")
    );
    assert_one(
        &text,
        &["сессия «s», поле hall", "«hall-9»", "описаны залы: hall-1"],
    );
}

#[test]
fn quota_larger_than_prompts() {
    let text = format!(
        "{HEAD}{}",
        session("s", "").replace("prompts_required = 4", "prompts_required = 7")
    );
    assert_one(&text, &["поле prompts_required", "Требуется 7", "только 6"]);
}

#[test]
fn minimum_longer_than_counted_window() {
    // 09:15–14:30 is 315 minutes; cutting 60 leaves 255 < 270.
    let text = format!(
        "{HEAD}{}",
        session(
            "s",
            "excluded = [[\"2026-04-01T11:00\", \"2026-04-01T12:00\"]]"
        )
    );
    assert_one(&text, &["поле min_minutes", "270", "255", "315", "60"]);
}

#[test]
fn excluded_reversed_or_outside() {
    let text = format!(
        "{HEAD}{}",
        session(
            "s",
            "excluded = [[\"2026-04-01T11:20\", \"2026-04-01T11:00\"], [\"2026-04-01T14:20\", \"2026-04-01T14:40\"]]"
        )
    );
    let messages = errors(&text);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages[0].contains("поле excluded") && messages[0].contains("перевёрнут"));
    assert!(messages[1].contains("выходит за окно сессии 2026-04-01T09:15–2026-04-01T14:30"));
}

#[test]
fn overlapping_sessions_name_both() {
    let text = format!(
        "{HEAD}{}{}",
        session("a", ""),
        session_with("b", "2026-04-01T14:00", "2026-04-01T19:00", "")
    );
    assert_one(
        &text,
        &[
            "сессия «b», поле starts",
            "пересекается с сессией «a»",
            "зале «hall-1»",
        ],
    );
}

#[test]
fn duplicate_ids() {
    let hall =
        "\n[[hall]]\nid = \"hall-1\"\ntitle = \"Ещё\"\nstream_url = \"https://example.org/x\"\n";
    let text = format!("{HEAD}{hall}{}", session("s", ""));
    assert_one(&text, &["зал «hall-1», поле id", "уже описан"]);
    let text = format!(
        "{HEAD}{}{}",
        session("s", ""),
        session_with("s", "2026-04-02T09:15", "2026-04-02T14:30", "")
    );
    assert_one(&text, &["сессия «s», поле id", "уже описана"]);
}

#[test]
fn unknown_timezone() {
    let text = format!("{HEAD}{}", session("s", "")).replace("Europe/Moscow", "Europe/Moskow");
    assert_one(&text, &["раздел [forum], поле timezone", "«Europe/Moskow»"]);
}

#[test]
fn bad_local_time_text() {
    let text = format!(
        "{HEAD}{}",
        session_with("s", "01.04.2026 09:15", "2026-04-01T14:30", "")
    );
    assert_one(&text, &["сессия «s», поле starts", "«01.04.2026 09:15»"]);
}

#[test]
fn empty_id_and_title() {
    let text = format!("{HEAD}{}", session("", "")).replace("title = \"Форум\"", "title = \"\"");
    let messages = errors(&text);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages[0].contains("раздел [forum], поле title: Не может быть пустым"));
    assert!(messages[1].contains("сессия №1, поле id: Не может быть пустым"));
}

#[test]
fn zero_credits_and_nonpositive_prompt_window() {
    let text = format!(
        "{HEAD}{}",
        session("s", "prompt_window_seconds = 0").replace("credits = 6", "credits = 0")
    );
    let messages = errors(&text);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages.iter().any(|m| m.contains("поле credits")));
    assert!(
        messages
            .iter()
            .any(|m| m.contains("поле prompt_window_seconds"))
    );
    let text = format!("{HEAD}{}", session("s", ""))
        .replace("prompt_window_seconds = 120", "prompt_window_seconds = -5");
    assert_one(&text, &["раздел [forum], поле prompt_window_seconds", "-5"]);
}

#[test]
fn empty_audience() {
    let text = format!("{HEAD}{}", session("s", "")).replace(
        "audience.higher = [\"рентгенология\", \"ультразвуковая диагностика\"]",
        "audience.higher = []",
    );
    assert_one(&text, &["сессия «s», поле audience", "пусты"]);
}

#[test]
fn duplicated_specialty() {
    let text = format!("{HEAD}{}", session("s", "")).replace(
        "\"ультразвуковая диагностика\"]",
        "\"ультразвуковая диагностика\", \"Рентгенология\"]",
    );
    assert_one(
        &text,
        &["поле audience.higher", "«Рентгенология» указана дважды"],
    );
}

#[test]
fn unknown_specialty_suggests_closest() {
    let text = format!("{HEAD}{}", session("s", "")).replace(
        "\"ультразвуковая диагностика\"]",
        "\"рентгеноэндovasкулярные диагностика и лечение\", \"кардиолгия\"]",
    );
    let messages = errors(&text);
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(
        messages[0].contains("поле audience.higher"),
        "{}",
        messages[0]
    );
    assert!(
        messages[0]
            .contains("возможно, имелось в виду: «рентгенэндоваскулярные диагностика и лечение»"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("«кардиология»"), "{}", messages[1]);
}

#[test]
fn specialty_of_the_other_level_is_pointed_out() {
    let text = format!("{HEAD}{}", session("s", "")).replace(
        "audience.secondary = []",
        "audience.secondary = [\"кардиология\"]",
    );
    assert_one(
        &text,
        &[
            "поле audience.secondary",
            "«кардиология» нет в каталоге (среднее образование)",
            "есть для уровня «высшее образование»",
        ],
    );
}

#[test]
fn prompts_that_cannot_fit_the_window() {
    // 60-minute window, 7 prompts 10 minutes apart need 60 + 2 × 5 minutes.
    let text = format!(
        "{HEAD}{}",
        session_with("s", "2026-04-01T09:00", "2026-04-01T10:00", "")
            .replace("min_minutes = 270", "min_minutes = 55")
            .replace("prompts = 6", "prompts = 7")
    );
    assert_one(&text, &["поле prompts", "не помещаются"]);
}

#[test]
fn all_errors_are_collected() {
    let text = format!(
        "{HEAD}{}{}",
        session_with("a", "2026-04-01T09:15", "2026-04-01T09:00", "")
            .replace("credits = 6", "credits = 0"),
        session("b", "").replace("hall = \"hall-1\"", "hall = \"nope\"")
    );
    assert_eq!(errors(&text).len(), 3, "{:#?}", errors(&text));
}

#[test]
fn unknown_key_names_line_and_allowed_keys() {
    let text = format!("{HEAD}{}", session("day1-hall1", "colour = \"red\""));
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
    let messages = errors(&text);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let expected = format!(
        "forum.toml:{line}:1: сессия «day1-hall1»: Неизвестное поле `colour`, допустимы: `id`, `hall`"
    );
    assert!(messages[0].starts_with(&expected), "{}", messages[0]);
}

#[test]
fn structural_errors_of_several_parts_are_all_reported() {
    let text = format!(
        "{HEAD}{}{}",
        session("a", "").replace("credits = 6", "credits = \"6\""),
        session("b", "").replace("min_minutes = 270\n", "")
    )
    .replace(
        "prompt_window_seconds = 120",
        "prompt_window_seconds = 120\nextra = 1",
    );
    let messages = errors(&text);
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].contains("раздел [forum]: Неизвестное поле `extra`"));
    assert!(messages[1].contains("сессия «a»: Неверный тип: строка \"6\", ожидается целое число"));
    assert!(messages[2].contains("сессия «b»: Нет обязательного поля `min_minutes`"));
}

#[test]
fn unknown_section_and_missing_forum() {
    let messages = errors("[forums]\nid = \"x\"\n");
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(
        messages[0].starts_with("forum.toml:1:2: Неизвестный раздел `forums`"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("Нет обязательного раздела [forum]"));
}

#[test]
fn toml_syntax_error_has_a_line() {
    let messages = errors("[forum]\nid = \"x\ntitle = 1\n");
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].starts_with("forum.toml:2:"), "{}", messages[0]);
}

#[test]
fn the_organiser_is_read_for_certificates() {
    let text = format!(
        "{HEAD}[organiser]\nname = \" Центр диагностики \"\ndetails = [\"г. Москва\", \" \", \"mro.live\"]\n{}",
        session("s", "")
    );
    let organiser = check(&text).unwrap().organiser.unwrap();
    assert_eq!(organiser.name, "Центр диагностики");
    assert_eq!(organiser.details, ["г. Москва", "mro.live"]);
    let without = check(&format!("{HEAD}{}", session("s", ""))).unwrap();
    assert_eq!(without.organiser, None, "the table is optional");
    let typo = format!(
        "{HEAD}[organiser]\nname = \"\"\nsite = 1\n{}",
        session("s", "")
    );
    let messages = errors(&typo);
    assert!(
        messages[0].contains("раздел [organiser]: Неизвестное поле `site`"),
        "{messages:?}"
    );
}

#[test]
fn codes_note_is_optional_trimmed_and_bounded() {
    let plain = check(&format!("{HEAD}{}", session("s", ""))).unwrap();
    assert_eq!(
        plain.codes_note, None,
        "no note unless the organiser writes one"
    );

    let with_note = |note: &str| {
        format!("{HEAD}{}", session("s", "")).replace(
            "prompt_window_seconds = 120\n",
            &format!("prompt_window_seconds = 120\ncodes_note = \"{note}\"\n"),
        )
    };
    let forum = check(&with_note("  Коды придут на почту через 1–2 месяца.  ")).unwrap();
    assert_eq!(
        forum.codes_note.as_deref(),
        Some("Коды придут на почту через 1–2 месяца.")
    );
    assert_one(
        &with_note("   "),
        &["раздел [forum], поле codes_note", "Не может быть пустым"],
    );
    assert_one(
        &with_note(&"Очень длинно. ".repeat(50)),
        &["поле codes_note", "Слишком длинный", "699 символов"],
    );
}
