//! The reader and the writer together: every kind read, bad lines numbered, blocks and threads
//! agreeing with a plain line-by-line read.

use jiff::tz::TimeZone;

use super::read::read_in;
use super::*;
use crate::domain::log::EventBody;

#[test]
fn reads_every_kind_and_numeric_ids() {
    let text = r#"{"ts":"2026-04-01T09:00:00+03:00","kind":"viewer","viewer":7,"name":"Иванова","email":"a@b.ru","education":"higher","specialty":"рентгенология"}
{"ts":"2026-04-01T09:01:00.5+03:00","kind":"connect","viewer":7,"conn":"c1","hall":"hall-1","ua":"ignored"}

{"ts":"2026-04-01T06:02:00Z","kind":"heartbeat","conn":"c1"}
{"ts":"2026-04-01T09:03:00+03:00","kind":"prompt","prompt":"p1","hall":"hall-1","closes":"2026-04-01T09:05:00+03:00"}
{"ts":"2026-04-01T09:03:30+03:00","kind":"wrong_answer","viewer":"7","conn":"c1","prompt":"p1"}
{"ts":"2026-04-01T09:04:00+03:00","kind":"confirm","viewer":"7","conn":"c1","prompt":"p1"}
{"ts":"2026-04-01T09:06:00+03:00","kind":"disconnect","conn":"c1"}
"#;
    let log = read(text.as_bytes(), OnError::Stop).unwrap().unwrap();
    assert_eq!(log.events.len(), 7);
    assert_eq!(log.events[4].body.kind(), "wrong_answer");
    assert!(log.skipped.is_empty());
    assert_eq!(log.events[1].ts - log.events[0].ts, 60_500);
    let tz = TimeZone::get("Europe/Moscow").unwrap();
    let mut buf = Vec::new();
    write(&mut buf, &log.events, &tz).unwrap();
    let again = read(&buf[..], OnError::Stop).unwrap().unwrap();
    assert_eq!(
        again.events, log.events,
        "export and re-import give the same events"
    );
}

#[test]
fn malformed_lines_are_reported_with_their_numbers() {
    let text = "{\"ts\":\"2026-04-01T09:00:00+03:00\",\"kind\":\"heartbeat\",\"conn\":\"c\"}\nnot json\n{\"ts\":\"yesterday\",\"kind\":\"heartbeat\",\"conn\":\"c\"}\n{\"ts\":\"2026-04-01T09:00:00+03:00\",\"kind\":\"hello\"}\n{\"ts\":\"2026-04-01T09:00:00+03:00\",\"kind\":\"connect\",\"viewer\":\"v\"}\n";
    let log = read(text.as_bytes(), OnError::Skip).unwrap().unwrap();
    assert_eq!(log.events.len(), 1);
    let lines: Vec<usize> = log.skipped.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5]);
    assert!(log.skipped[2].message.contains("hello"));
    assert!(log.skipped[3].message.contains("conn"));
    let stop = read(text.as_bytes(), OnError::Stop).unwrap().unwrap_err();
    assert_eq!(stop.line, 2);
}

/// The old reader, one line at a time: what the block-parallel one must agree with.
fn line_by_line(text: &[u8], on_error: OnError) -> Result<ReadLog, LineError> {
    let mut out = ReadLog::default();
    for (i, line) in text.split(|&c| c == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let parsed = std::str::from_utf8(line)
            .map_err(|_| "Строка не в кодировке UTF-8".to_owned())
            .and_then(parse_line);
        match parsed {
            Ok(Some(e)) => out.events.push(e),
            Ok(None) => {}
            Err(message) => {
                let err = LineError {
                    line: i + 1,
                    message,
                };
                if on_error == OnError::Stop {
                    return Err(err);
                }
                out.skipped.push(err);
            }
        }
    }
    Ok(out)
}

#[test]
fn blocks_and_threads_keep_the_order_and_the_line_numbers() {
    let tz = TimeZone::get("Europe/Moscow").unwrap();
    let mut text = Vec::new();
    for n in 0..500i64 {
        let e = Event::new(
            1_775_000_000_000 + n * 1_500,
            EventBody::Connect {
                viewer: format!("v{}", n % 7).into(),
                conn: format!("c{n}").into(),
                hall: "hall-1".into(),
            },
        );
        write(&mut text, &[e], &tz).unwrap();
        match n % 61 {
            3 => text.extend_from_slice(b"not json\n"),
            5 => text.extend_from_slice(b"\n"),
            7 => {
                text.extend_from_slice(b"{\"ts\":\"2026-04-01T09:00:00+03:00\",\"kind\":\"x\"}\r\n")
            }
            11 => text.extend_from_slice(b"{\"ts\":\"\xff\"}\n"),
            _ => {}
        }
    }
    text.extend_from_slice(
        b"{\"ts\":\"2026-04-01T09:00:00Z\",\"kind\":\"heartbeat\",\"conn\":\"c1\"}",
    );
    let want = line_by_line(&text, OnError::Skip).unwrap();
    assert!(want.skipped.len() > 20 && want.events.len() == 501);
    let stop = line_by_line(&text, OnError::Stop).unwrap_err();
    for (block, part) in [(64, 1), (1000, 100), (7_000, 3_000), (1 << 20, 1 << 20)] {
        let got = read_in(&text[..], OnError::Skip, block, part)
            .unwrap()
            .unwrap();
        assert_eq!(got.events, want.events, "block {block}, part {part}");
        assert_eq!(got.skipped, want.skipped, "block {block}, part {part}");
        let got = read_in(&text[..], OnError::Stop, block, part).unwrap();
        assert_eq!(got.unwrap_err(), stop, "block {block}, part {part}");
    }
}
