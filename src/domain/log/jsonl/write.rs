//! Writing events as JSON Lines, times in the forum's zone with their offset.

use std::io::{self, Write};

use jiff::tz::TimeZone;

use crate::domain::log::{Event, EventBody};
use crate::domain::time::format_rfc3339;

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
