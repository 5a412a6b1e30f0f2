//! The attendance log as JSON Lines: one event object per line.
//!
//! `{"ts":"2026-04-01T09:20:00.250+03:00","kind":"connect","viewer":"v1","conn":"c1","hall":"hall-1"}`
//!
//! Reading is tolerant of what other writers do (ids may be JSON numbers, extra keys are ignored,
//! blank lines are skipped) and strict about meaning: a line with a bad time, an unknown kind or a
//! missing field is a [`LineError`] with its line number, never silently dropped.

use std::io::{self, BufRead, Write};

use jiff::tz::TimeZone;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{Event, EventBody};
use crate::domain::forum::Education;
use crate::domain::time::{format_rfc3339, parse_rfc3339};

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

/// An id as other writers may spell it: a string, or a number.
struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an integer id")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    ts: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    viewer: Option<Id>,
    conn: Option<Id>,
    hall: Option<Id>,
    prompt: Option<Id>,
    closes: Option<String>,
    name: Option<String>,
    email: Option<String>,
    education: Option<String>,
    specialty: Option<String>,
}

fn need<T>(v: Option<T>, field: &str, kind: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("У события «{kind}» нет поля `{field}`"))
}

fn need_id(v: Option<Id>, field: &str, kind: &str) -> Result<String, String> {
    let id = need(v, field, kind)?.0;
    if id.trim().is_empty() {
        return Err(format!("У события «{kind}» пустое поле `{field}`"));
    }
    Ok(id)
}

/// Parses one line. Returns `Ok(None)` for a blank line.
pub fn parse_line(text: &str) -> Result<Option<Event>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let w: Wire =
        serde_json::from_str(text).map_err(|e| format!("Не JSON-объект события ({e})"))?;
    let ts = parse_rfc3339(&need(w.ts, "ts", "?")?)?;
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
            closes: parse_rfc3339(&need(w.closes, "closes", k)?)?,
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
    Ok(Some(Event { ts, body }))
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

/// Reads a whole log. With [`OnError::Stop`] the first bad line is returned as the error.
pub fn read<R: BufRead>(input: R, on_error: OnError) -> io::Result<Result<ReadLog, LineError>> {
    let mut out = ReadLog::default();
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        match parse_line(&line) {
            Ok(Some(e)) => out.events.push(e),
            Ok(None) => {}
            Err(message) => {
                let err = LineError {
                    line: i + 1,
                    message,
                };
                if on_error == OnError::Stop {
                    return Ok(Err(err));
                }
                out.skipped.push(err);
            }
        }
    }
    Ok(Ok(out))
}

/// One event as a JSON object, times in `tz` with their offset.
pub fn to_json(event: &Event, tz: &TimeZone) -> serde_json::Value {
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
}
