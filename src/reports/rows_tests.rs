//! The export's rows and summary for a small forum written out in full (the tests of
//! `rows.rs`, kept in their own file so that one stays a few screens long).

use super::*;
use crate::domain::forum::catalogue::Catalogue;
use crate::domain::forum::config;
use crate::domain::log::{Event, EventBody};
use crate::domain::time::{MINUTE, parse_rfc3339};
use crate::reports::summary::{Counts, Registered, summarise, summary_header, summary_rows};

const FORUM: &str = r#"
[forum]
id = "f"
title = "Форум"
timezone = "Europe/Moscow"
prompt_window_seconds = 120

[[hall]]
id = "h1"
title = "Зал №1"
stream_url = "https://example.org/1.m3u8"

[[session]]
id = "s1"
hall = "h1"
title = "Первая"
starts = "2026-04-01T10:00"
ends = "2026-04-01T10:30"
credits = 1
min_minutes = 20
prompts = 1
prompts_required = 1
audience.higher = ["рентгенология", "кардиология"]
"#;

fn t(min: i64) -> i64 {
    parse_rfc3339("2026-04-01T10:00:00+03:00").unwrap() + min * MINUTE
}

fn log() -> Vec<Event> {
    let viewer = |id: &str, name: &str, spec: &str, edu| {
        Event::new(
            t(-60),
            EventBody::Viewer {
                viewer: id.into(),
                name: name.into(),
                email: format!("{id}@example.org"),
                education: edu,
                specialty: spec.into(),
            },
        )
    };
    let mut ev = vec![
        viewer("a", "Иванова Анна", "рентгенология", Education::Higher),
        viewer("b", "Петров Пётр", "Рентгенология ", Education::Higher),
        viewer("c", "Сидорова Вера", "рентгенология", Education::Secondary),
        Event::new(
            t(10),
            EventBody::Prompt {
                prompt: "p1".into(),
                hall: "h1".into(),
                closes: t(12),
            },
        ),
    ];
    for (v, until) in [("a", 30), ("b", 5), ("c", 30)] {
        let conn = format!("{v}-c");
        ev.push(Event::new(
            t(0),
            EventBody::Connect {
                viewer: v.into(),
                conn: conn.as_str().into(),
                hall: "h1".into(),
            },
        ));
        ev.push(Event::new(
            t(until),
            EventBody::Disconnect {
                conn: conn.as_str().into(),
            },
        ));
    }
    ev.push(Event::new(
        t(11),
        EventBody::Confirm {
            viewer: "a".into(),
            conn: "a-c".into(),
            prompt: "p1".into(),
        },
    ));
    ev
}

#[test]
fn rows_and_summary_of_a_small_forum() {
    let forum = config::parse(FORUM, "f.toml", &Catalogue::shipped()).unwrap();
    let events = log();
    let facts = Facts::build(&events);
    let codes: Codes = HashMap::from([(
        "s1".to_owned(),
        HashMap::from([("a".to_owned(), "ABCDEF123456".to_owned())]),
    )]);
    let decided = InForce::default();
    let src = Sources::new(&forum, &facts, &codes, &decided, Params::default());
    let outs = outcomes(&forum, &facts, Params::default(), &decided, None);
    let rows: Vec<Vec<Cell>> = outs.iter().map(|o| src.cells(o)).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        src.rows(&outs).collect::<Vec<_>>(),
        rows,
        "made in parallel, in order"
    );
    let by_id = |id: &str| rows.iter().find(|r| r[5].text() == id).unwrap();
    let a = by_id("a");
    assert_eq!(a.len(), header("Europe/Moscow").len());
    assert_eq!(a[1].text(), "01.04.2026 10:00–10:30");
    assert_eq!(a[2].text(), "Зал №1");
    assert_eq!(a[6].text(), "Иванова Анна");
    assert_eq!(a[8].text(), "высшее образование");
    assert_eq!(a[10], Cell::Int(30));
    assert_eq!((a[12].clone(), a[13].clone()), (Cell::Int(1), Cell::Int(1)));
    assert_eq!(a[15].text(), "10:10:00 — Подтверждено в 10:11:00");
    assert_eq!(a[16].text(), "да");
    assert_eq!(a[18].text(), "ABCDEF123456");
    assert!(
        a[17].text().starts_with("✓ Засчитано 30 из 20 мин; ✓ "),
        "{a:?}"
    );
    let b = by_id("b");
    assert_eq!((b[10].clone(), b[16].text()), (Cell::Int(5), "нет".into()));
    assert!(
        b[17]
            .text()
            .starts_with("✗ Засчитано 5 из 20 мин (не хватает 15 мин)"),
        "{b:?}"
    );
    // Pyotr left before the prompt: not shown, so not counted among his shown prompts.
    assert_eq!(b[13], Cell::Int(0));
    assert_eq!(
        b[15].text(),
        "10:10:00 — Не показано: во время окна не было подключения"
    );
    let c = by_id("c");
    assert!(c[17].text().contains("только для уровня"), "{c:?}");

    let registered = vec![
        Registered {
            education: Education::Higher,
            specialty: "рентгенология".into(),
            count: 2,
        },
        Registered {
            education: Education::Secondary,
            specialty: "рентгенология".into(),
            count: 1,
        },
    ];
    let sums = summarise(&src, &outs, &registered, None);
    assert_eq!(sums.len(), 1);
    let s = &sums[0];
    assert_eq!(
        s.total,
        Counts {
            registered: 2,
            attended: 3,
            eligible: 1,
            codes: 1
        }
    );
    assert_eq!(s.credits_earned(), 1);
    let line = |e, name: &str| {
        s.lines
            .iter()
            .find(|l| l.education == Some(e) && l.specialty == name)
            .unwrap_or_else(|| panic!("no line {name}: {:?}", s.lines))
    };
    let radio = line(Education::Higher, "рентгенология");
    assert!(radio.accredited);
    assert_eq!((radio.counts.attended, radio.counts.eligible), (2, 1));
    assert_eq!(
        line(Education::Higher, "кардиология").counts,
        Counts::default()
    );
    let nurses = line(Education::Secondary, "рентгенология");
    assert!(!nurses.accredited);
    assert_eq!((nurses.counts.registered, nurses.counts.attended), (1, 1));
    let table = summary_rows(&forum, &sums);
    assert_eq!(table.len(), 1 + s.lines.len());
    assert_eq!(table[0][6].text(), "Итого по сессии");
    assert!(table.iter().all(|r| r.len() == summary_header("x").len()));
}
