//! One line of JSON Lines read as an event: what other writers may spell differently (ids as
//! numbers, extra keys) is accepted, what the rules need is checked.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::domain::forum::Education;
use crate::domain::log::{Event, EventBody, Evidence, Hints, Id, parse_instant};
use crate::domain::time::Millis;

/// An id as other writers may spell it: a string, or a number. Borrowed from the line when it
/// has no escapes, so reading a short id allocates nothing (the event holds it inline).
struct WireId<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for WireId<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> de::Visitor<'de> for V<'a> {
            type Value = WireId<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an integer id")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<WireId<'a>, E> {
                Ok(WireId(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireId<'a>, E> {
                Ok(WireId(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<WireId<'a>, E> {
                Ok(WireId(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireId<'a>, E> {
                Ok(WireId(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireId<'a>, E> {
                Ok(WireId(Cow::Owned(v.to_string())))
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
    viewer: Option<WireId<'a>>,
    #[serde(borrow)]
    conn: Option<WireId<'a>>,
    #[serde(borrow)]
    hall: Option<WireId<'a>>,
    #[serde(borrow)]
    prompt: Option<WireId<'a>>,
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

fn need_id(v: Option<WireId>, field: &str, kind: &str) -> Result<Id, String> {
    let id = need(v, field, kind)?.0;
    if id.trim().is_empty() {
        return Err(format!("У события «{kind}» пустое поле `{field}`"));
    }
    Ok(Id::from(id.as_ref()))
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
