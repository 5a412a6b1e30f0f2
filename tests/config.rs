//! The shipped `config/forum.toml` against the organiser's memo, row by row, and the
//! `check-config` command on it and on a broken copy.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use yavka::domain::forum::Education;
use yavka::domain::time::format_local;
use yavka::forum_file::load;

const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/forum.toml");

/// The 18 specialties of 1 April, hall 1.
const DAY1_HALL1: [&str; 18] = [
    "рентгенология",
    "ультразвуковая диагностика",
    "функциональная диагностика",
    "клиническая лабораторная диагностика",
    "кардиология",
    "колопроктология",
    "онкология",
    "неврология",
    "нейрохирургия",
    "организация здравоохранения и общественное здоровье",
    "пульмонология",
    "радиология",
    "радиотерапия",
    "урология",
    "лечебное дело",
    "рентгенэндоваскулярные диагностика и лечение",
    "санитарно-гигиенические лабораторные исследования",
    "эндокринология",
];

const DAY1_HALL2: [&str; 5] = [
    "рентгенология",
    "ультразвуковая диагностика",
    "функциональная диагностика",
    "организация здравоохранения и общественное здоровье",
    "рентгенэндоваскулярные диагностика и лечение",
];

/// The 18 specialties of 2 April, hall 2: hall 1's list of 1 April without «санитарно-
/// гигиенические лабораторные исследования», with «травматология и ортопедия».
fn day2_hall2() -> Vec<&'static str> {
    let mut list: Vec<&str> = DAY1_HALL1
        .iter()
        .copied()
        .filter(|s| *s != "санитарно-гигиенические лабораторные исследования")
        .collect();
    list.push("травматология и ортопедия");
    list
}

struct Row {
    id: &'static str,
    hall: &'static str,
    starts: &'static str,
    ends: &'static str,
    credits: u32,
    min_minutes: u32,
    prompts: u32,
    required: u32,
    education: Education,
    specialties: Vec<&'static str>,
}

#[allow(clippy::too_many_arguments)]
fn row(
    id: &'static str,
    hall: &'static str,
    (starts, ends): (&'static str, &'static str),
    credits: u32,
    min_minutes: u32,
    (required, prompts): (u32, u32),
    education: Education,
    specialties: Vec<&'static str>,
) -> Row {
    Row {
        id,
        hall,
        starts,
        ends,
        credits,
        min_minutes,
        prompts,
        required,
        education,
        specialties,
    }
}

/// The memo's table (seed 003), one row per accredited session.
fn memo() -> Vec<Row> {
    use Education::{Higher, Secondary};
    let radiology = || vec!["рентгенология"];
    vec![
        row(
            "day1-hall1",
            "hall-1",
            ("2026-04-01T09:15", "2026-04-01T14:30"),
            6,
            270,
            (4, 6),
            Higher,
            DAY1_HALL1.to_vec(),
        ),
        row(
            "day1-hall2",
            "hall-2",
            ("2026-04-01T09:00", "2026-04-01T19:30"),
            6,
            270,
            (4, 7),
            Higher,
            DAY1_HALL2.to_vec(),
        ),
        row(
            "day2-hall1-1",
            "hall-1",
            ("2026-04-02T09:15", "2026-04-02T10:50"),
            2,
            85,
            (2, 2),
            Higher,
            radiology(),
        ),
        row(
            "day2-hall1-2",
            "hall-1",
            ("2026-04-02T12:10", "2026-04-02T13:40"),
            2,
            85,
            (2, 2),
            Secondary,
            radiology(),
        ),
        row(
            "day2-hall1-3",
            "hall-1",
            ("2026-04-02T15:00", "2026-04-02T16:00"),
            1,
            55,
            (1, 1),
            Higher,
            radiology(),
        ),
        row(
            "day2-hall1-4",
            "hall-1",
            ("2026-04-02T17:20", "2026-04-02T18:50"),
            2,
            85,
            (2, 2),
            Secondary,
            radiology(),
        ),
        row(
            "day2-hall2",
            "hall-2",
            ("2026-04-02T09:15", "2026-04-02T18:50"),
            6,
            270,
            (5, 9),
            Higher,
            day2_hall2(),
        ),
        row(
            "day3-hall1",
            "hall-1",
            ("2026-04-03T09:15", "2026-04-03T18:10"),
            6,
            270,
            (4, 6),
            Higher,
            vec!["ультразвуковая диагностика", "функциональная диагностика"],
        ),
        row(
            "day3-hall2",
            "hall-2",
            ("2026-04-03T09:15", "2026-04-03T19:05"),
            6,
            270,
            (5, 7),
            Higher,
            radiology(),
        ),
    ]
}

#[test]
fn shipped_forum_matches_the_memo_row_by_row() {
    let forum = load(Path::new(SHIPPED)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forum.id, "online-diagnostics-3");
    assert_eq!(forum.timezone, "Europe/Moscow");
    let halls: Vec<(&str, &str)> = forum
        .halls
        .iter()
        .map(|h| (h.id.as_str(), h.title.as_str()))
        .collect();
    assert_eq!(halls, [("hall-1", "Зал №1"), ("hall-2", "Зал №2")]);
    let tz = forum.tz();
    let memo = memo();
    let ids: Vec<&str> = forum.sessions.iter().map(|s| s.id.as_str()).collect();
    let expected_ids: Vec<&str> = memo.iter().map(|r| r.id).collect();
    assert_eq!(ids, expected_ids);

    for (s, r) in forum.sessions.iter().zip(&memo) {
        let id = r.id;
        assert_eq!(s.hall, r.hall, "{id}");
        assert_eq!(format_local(s.starts, &tz), r.starts, "{id}");
        assert_eq!(format_local(s.ends, &tz), r.ends, "{id}");
        assert_eq!(s.credits, r.credits, "{id}");
        assert_eq!(s.min_minutes, r.min_minutes, "{id}");
        assert_eq!(s.prompts, r.prompts, "{id}");
        assert_eq!(s.prompts_required, r.required, "{id}");
        let other = match r.education {
            Education::Higher => Education::Secondary,
            Education::Secondary => Education::Higher,
        };
        assert!(
            s.audience.list(other).is_empty(),
            "{id}: only {:?}",
            r.education
        );
        let got: BTreeSet<&str> = s
            .audience
            .list(r.education)
            .iter()
            .map(String::as_str)
            .collect();
        let want: BTreeSet<&str> = r.specialties.iter().copied().collect();
        assert_eq!(
            got.len(),
            s.audience.list(r.education).len(),
            "{id}: duplicates"
        );
        assert_eq!(got, want, "{id}");
        assert!(s.excluded.is_empty() && !s.pause_on_missed, "{id}");
    }
    assert_eq!(forum.sessions[0].audience.higher.len(), 18);
    assert_eq!(forum.sessions[1].audience.higher.len(), 5);
    assert_eq!(forum.sessions[6].audience.higher.len(), 18);
}

fn yavka(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_yavka"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("yavka runs")
}

#[test]
fn check_config_prints_every_session() {
    let out = yavka(&["check-config", "config/forum.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Форум «Онлайн-диагностика 3.0»"),
        "{stdout}"
    );
    assert!(stdout.contains("Europe/Moscow"), "{stdout}");
    for r in memo() {
        assert!(stdout.contains(r.id), "{} missing:\n{stdout}", r.id);
    }
    assert!(stdout.contains("09:15–14:30"), "{stdout}");
}

#[test]
fn check_config_on_a_broken_file_names_session_and_field() {
    let text = std::fs::read_to_string(SHIPPED).unwrap();
    let broken = text
        .replacen(
            "ends = \"2026-04-01T14:30\"",
            "ends = \"2026-04-01T09:00\"",
            1,
        )
        .replacen("prompts_required = 5", "prompts_required = 10", 1);
    let dir = std::env::temp_dir().join(format!("yavka-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("forum.toml");
    std::fs::write(&path, broken).unwrap();

    let out = yavka(&["check-config", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("сессия «day1-hall1», поле ends: Окончание 2026-04-01T09:00 раньше начала 2026-04-01T09:15"),
        "{stderr}"
    );
    assert!(
        stderr.contains("сессия «day2-hall2», поле prompts_required"),
        "{stderr}"
    );
    assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
}
