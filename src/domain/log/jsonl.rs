//! The attendance log as JSON Lines: one event object per line.
//!
//! `{"ts":"2026-04-01T09:20:00.250+03:00","kind":"connect","viewer":"v1","conn":"c1","hall":"hall-1"}`
//!
//! Reading is tolerant of what other writers do (ids may be JSON numbers, extra keys are ignored,
//! blank lines are skipped) and strict about meaning: a line with a bad time, an unknown kind or a
//! missing field is a [`LineError`] with its line number, never silently dropped.

use std::borrow::Cow;
use std::io::{self, Read, Write};

use jiff::tz::TimeZone;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::instant::parse_instant;
use super::{Event, EventBody, Evidence, Hints};
use crate::domain::forum::Education;
use crate::domain::time::{Millis, format_rfc3339};

/// A line that could not be read as an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the input.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Строка {}: {}", self.line, self.message)
    }
}

/// An id as other writers may spell it: a string, or a number. Borrowed from the line when it
/// has no escapes, so reading it costs one allocation (the event's own `String`).
struct Id<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Id<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> de::Visitor<'de> for V<'a> {
            type Value = Id<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an integer id")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id<'a>, E> {
                Ok(Id(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    ts: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    viewer: Option<Id<'a>>,
    #[serde(borrow)]
    conn: Option<Id<'a>>,
    #[serde(borrow)]
    hall: Option<Id<'a>>,
    #[serde(borrow)]
    prompt: Option<Id<'a>>,
    #[serde(borrow)]
    closes: Option<Cow<'a, str>>,
    name: Option<String>,
    email: Option<String>,
    education: Option<String>,
    specialty: Option<String>,
    // Evidence beside a confirm or a connect (`evidence.rs`).
    reaction_ms: Option<Millis>,
    hints: Option<Hints>,
    address: Option<String>,
    browser: Option<String>,
    page_loaded: Option<bool>,
}

fn need<T>(v: Option<T>, field: &str, kind: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("У события «{kind}» нет поля `{field}`"))
}

fn need_id(v: Option<Id>, field: &str, kind: &str) -> Result<String, String> {
    let id = need(v, field, kind)?.0;
    if id.trim().is_empty() {
        return Err(format!("У события «{kind}» пустое поле `{field}`"));
    }
    Ok(id.into_owned())
}

/// Parses one line. Returns `Ok(None)` for a blank line.
pub fn parse_line(text: &str) -> Result<Option<Event>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let w: Wire =
        serde_json::from_str(text).map_err(|e| format!("Не JSON-объект события ({e})"))?;
    let ts = parse_instant(&need(w.ts, "ts", "?")?)?;
    let kind = need(w.kind, "kind", "?")?;
    let k = kind.as_ref();
    let body = match k {
        "viewer" => {
            let education = need(w.education, "education", k)?;
            EventBody::Viewer {
                viewer: need_id(w.viewer, "viewer", k)?,
                name: w.name.unwrap_or_default(),
                email: w.email.unwrap_or_default(),
                education: Education::parse(&education).ok_or_else(|| {
                    format!("education «{education}»: ожидается «higher» или «secondary»")
                })?,
                specialty: need(w.specialty, "specialty", k)?,
            }
        }
        "connect" => EventBody::Connect {
            viewer: need_id(w.viewer, "viewer", k)?,
            conn: need_id(w.conn, "conn", k)?,
            hall: need_id(w.hall, "hall", k)?,
        },
        "heartbeat" => EventBody::Heartbeat {
            conn: need_id(w.conn, "conn", k)?,
        },
        "disconnect" => EventBody::Disconnect {
            conn: need_id(w.conn, "conn", k)?,
        },
        "prompt" => EventBody::Prompt {
            prompt: need_id(w.prompt, "prompt", k)?,
            hall: need_id(w.hall, "hall", k)?,
            closes: parse_instant(&need(w.closes, "closes", k)?)?,
        },
        "confirm" => EventBody::Confirm {
            viewer: need_id(w.viewer, "viewer", k)?,
            conn: need_id(w.conn, "conn", k)?,
            prompt: need_id(w.prompt, "prompt", k)?,
        },
        "wrong_answer" => EventBody::WrongAnswer {
            viewer: need_id(w.viewer, "viewer", k)?,
            conn: need_id(w.conn, "conn", k)?,
            prompt: need_id(w.prompt, "prompt", k)?,
        },
        other => return Err(format!("Неизвестный вид события «{other}»")),
    };
    let evidence = match body {
        EventBody::Confirm { .. } | EventBody::Connect { .. } => Evidence {
            reaction_ms: w.reaction_ms,
            hints: w.hints,
            address: w.address,
            browser: w.browser,
            page_loaded: w.page_loaded,
        },
        _ => Evidence::default(),
    };
    Ok(Some(Event::with_evidence(ts, body, evidence)))
}

/// What to do with a malformed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Report it and go on with the other lines.
    Skip,
    /// Stop at the first malformed line.
    Stop,
}

/// Events read from a log, plus every line that was skipped and why.
#[derive(Debug, Default)]
pub struct ReadLog {
    pub events: Vec<Event>,
    pub skipped: Vec<LineError>,
}

/// Bytes read before their lines are parsed: big enough that the threads parsing one block
/// have work for a while, small enough that a log never sits in memory twice.
const BLOCK: usize = 32 << 20;

/// No thread is started for less than this: below it, starting one costs more than it saves.
const MIN_PART: usize = 1 << 20;

/// Reads a whole log. With [`OnError::Stop`] the first bad line is returned as the error.
///
/// The input is read a block at a time; each block's complete lines are parsed on every core
/// (lines are independent), and the events are kept in file order. A line that is not UTF-8 is
/// a bad line like any other.
pub fn read<R: Read>(input: R, on_error: OnError) -> io::Result<Result<ReadLog, LineError>> {
    read_in(input, on_error, BLOCK, MIN_PART)
}

/// [`read`] with the block size and the smallest part a thread is given (tests make both tiny).
fn read_in<R: Read>(
    mut input: R,
    on_error: OnError,
    block_size: usize,
    min_part: usize,
) -> io::Result<Result<ReadLog, LineError>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = ReadLog::default();
    let mut buf: Vec<u8> = Vec::new();
    // Lines before the start of `buf`.
    let mut lines_before = 0;
    loop {
        let want = block_size.max(buf.len());
        let got = (&mut input).take(want as u64).read_to_end(&mut buf)?;
        let eof = got < want;
        let end = match buf.iter().rposition(|&c| c == b'\n') {
            _ if eof => buf.len(),
            Some(i) => i + 1,
            // One line longer than a block: read on until it ends.
            None => continue,
        };
        let block = &buf[..end];
        match parse_block(block, lines_before, (threads, min_part), on_error, &mut out) {
            Ok(lines) => lines_before += lines,
            Err(e) => return Ok(Err(e)),
        }
        buf.drain(..end);
        if eof {
            return Ok(Ok(out));
        }
    }
}

/// Parses the lines of `block` (whole lines, the first of which is line `lines_before + 1`)
/// in `threads` parts, appending to `out` in file order. Returns the number of line ends in it.
fn parse_block(
    block: &[u8],
    lines_before: usize,
    (threads, min_part): (usize, usize),
    on_error: OnError,
    out: &mut ReadLog,
) -> Result<usize, LineError> {
    // Parts end at line ends, so no line is split between two threads.
    let mut parts: Vec<&[u8]> = Vec::with_capacity(threads);
    let mut rest = block;
    while !rest.is_empty() {
        let want = block.len().div_ceil(threads).max(min_part);
        let cut = if rest.len() <= want {
            rest.len()
        } else {
            rest[want..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(rest.len(), |i| want + i + 1)
        };
        parts.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    let mut first = lines_before;
    let mut starts = Vec::with_capacity(parts.len());
    for p in &parts {
        starts.push(first);
        first += p.iter().filter(|&&c| c == b'\n').count();
    }
    let results: Vec<(Vec<Event>, Vec<LineError>)> = if parts.len() <= 1 {
        parts
            .iter()
            .zip(&starts)
            .map(|(p, &s)| parse_part(p, s, on_error))
            .collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter()
                .zip(&starts)
                .map(|(p, &s)| scope.spawn(move || parse_part(p, s, on_error)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a log reader thread panicked"))
                .collect()
        })
    };
    for (events, mut skipped) in results {
        if on_error == OnError::Stop && !skipped.is_empty() {
            return Err(skipped.swap_remove(0));
        }
        if out.events.is_empty() {
            out.events = events;
        } else {
            out.events.extend(events);
        }
        out.skipped.extend(skipped);
    }
    Ok(first - lines_before)
}

/// The events and bad lines of `part`, whose first line is line `lines_before + 1`. With
/// [`OnError::Stop`] it stops at its first bad line.
fn parse_part(part: &[u8], lines_before: usize, on_error: OnError) -> (Vec<Event>, Vec<LineError>) {
    // About a hundred bytes a line: one allocation instead of a dozen doublings.
    let mut events = Vec::with_capacity(part.len() / 96);
    let mut skipped = Vec::new();
    if part.is_empty() {
        return (events, skipped);
    }
    let body = part.strip_suffix(b"\n").unwrap_or(part);
    for (i, line) in body.split(|&c| c == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let parsed = std::str::from_utf8(line)
            .map_err(|_| "Строка не в кодировке UTF-8".to_owned())
            .and_then(parse_line);
        match parsed {
            Ok(Some(e)) => events.push(e),
            Ok(None) => {}
            Err(message) => {
                skipped.push(LineError {
                    line: lines_before + i + 1,
                    message,
                });
                if on_error == OnError::Stop {
                    break;
                }
            }
        }
    }
    (events, skipped)
}

/// One event as a JSON object, times in `tz` with their offset.
pub fn to_json(event: &Event, tz: &TimeZone) -> serde_json::Value {
    let mut line = body_json(event, tz);
    // Evidence sits on the event's own line (`reaction_ms` on a confirm, `address` on a
    // connect…), so a reader that does not know it still reads the event.
    if let (Some(ev), serde_json::Value::Object(map)) = (event.evidence.as_deref(), &mut line)
        && let Ok(serde_json::Value::Object(extra)) = serde_json::to_value(ev)
    {
        map.extend(extra);
    }
    line
}

fn body_json(event: &Event, tz: &TimeZone) -> serde_json::Value {
    use serde_json::json;
    let ts = format_rfc3339(event.ts, tz);
    match &event.body {
        EventBody::Viewer {
            viewer,
            name,
            email,
            education,
            specialty,
        } => json!({"ts": ts, "kind": "viewer", "viewer": viewer, "name": name, "email": email,
                    "education": education.as_str(), "specialty": specialty}),
        EventBody::Connect { viewer, conn, hall } => {
            json!({"ts": ts, "kind": "connect", "viewer": viewer, "conn": conn, "hall": hall})
        }
        EventBody::Heartbeat { conn } => json!({"ts": ts, "kind": "heartbeat", "conn": conn}),
        EventBody::Disconnect { conn } => json!({"ts": ts, "kind": "disconnect", "conn": conn}),
        EventBody::Prompt {
            prompt,
            hall,
            closes,
        } => json!({"ts": ts, "kind": "prompt", "prompt": prompt, "hall": hall,
                    "closes": format_rfc3339(*closes, tz)}),
        EventBody::Confirm {
            viewer,
            conn,
            prompt,
        } => json!({"ts": ts, "kind": "confirm", "viewer": viewer, "conn": conn, "prompt": prompt}),
        EventBody::WrongAnswer {
            viewer,
            conn,
            prompt,
        } => json!({"ts": ts, "kind": "wrong_answer", "viewer": viewer, "conn": conn,
                    "prompt": prompt}),
    }
}

/// Writes events as JSON Lines.
pub fn write<W: Write>(out: &mut W, events: &[Event], tz: &TimeZone) -> io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut *out, &to_json(e, tz))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    viewer: format!("v{}", n % 7),
                    conn: format!("c{n}"),
                    hall: "hall-1".into(),
                },
            );
            write(&mut text, &[e], &tz).unwrap();
            match n % 61 {
                3 => text.extend_from_slice(b"not json\n"),
                5 => text.extend_from_slice(b"\n"),
                7 => text.extend_from_slice(
                    b"{\"ts\":\"2026-04-01T09:00:00+03:00\",\"kind\":\"x\"}\r\n",
                ),
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
}
