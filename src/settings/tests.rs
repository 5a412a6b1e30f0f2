//! The settings file: defaults, partial files, unknown keys and environment overrides.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn wrong_answers_must_leave_room_for_a_right_one() {
    let s = Settings::from_parts("[hub]\nmax_wrong_answers = 5\n", env(&[]), "x").unwrap();
    assert_eq!(s.hub.max_wrong_answers, 5);
    assert_eq!(
        Settings::from_parts("", env(&[]), "x")
            .unwrap()
            .hub
            .max_wrong_answers,
        3
    );
    let e =
        Settings::from_parts("", env(&[("YAVKA__HUB__MAX_WRONG_ANSWERS", "0")]), "x").unwrap_err();
    assert!(e.to_string().contains("1 или больше"), "{e}");
}

#[test]
fn defaults_need_no_file() {
    let s = Settings::from_parts("", env(&[]), "x").unwrap();
    assert_eq!(s.server.port, 8080);
    assert_eq!(s.store.url, "sqlite://data/yavka.db");
    assert!(s.broker.redis_url.is_none());
}

#[test]
fn environment_overrides_the_file() {
    let s = Settings::from_parts(
        "[server]\nport = 9000\n",
        env(&[
            ("YAVKA__SERVER__PORT", "0"),
            ("DATABASE_URL", "postgres://127.0.0.1/test"),
            ("YAVKA__HUB__MAX_CONNECTIONS", "10"),
            ("PATH", "/bin"),
        ]),
        "x",
    )
    .unwrap();
    assert_eq!(s.server.port, 0);
    assert_eq!(s.store.url, "postgres://127.0.0.1/test");
    assert_eq!(s.hub.max_connections, 10);
}

#[test]
fn the_shipped_settings_file_reads_and_says_the_defaults() {
    let shipped = Settings::from_parts(
        include_str!("../../config/yavka.toml"),
        env(&[]),
        "yavka.toml",
    )
    .unwrap();
    let defaults = Settings::default();
    assert_eq!(format!("{shipped:?}"), format!("{defaults:?}"));
}

#[test]
fn a_typo_is_an_error() {
    let err = Settings::from_parts("[server]\nprot = 1\n", env(&[]), "yavka.toml").unwrap_err();
    assert!(format!("{err:#}").contains("prot"), "{err:#}");
    assert!(Settings::from_parts("", env(&[("YAVKA__SERVER__PORTT", "1")]), "x").is_err());
}
