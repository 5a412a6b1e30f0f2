//! What the server and the page observed beside an event, kept for integrity checks
//! (`domain::flags`); the rules never read it, so a log with or without it gives the same
//! verdicts.
//!
//! On a `confirm`: the reaction time the server measured, from the moment the prompt was
//! written to that socket to the moment the answer arrived (so a slow network does not look
//! human, nor a fast one like a script), and what the page reported about the answer. On a
//! `connect`: the device (the client address as the operator chose to keep it, and the
//! browser) and whether the socket came from a player page this server served.
//!
//! Every field is optional: a log written before a field was kept has none, and nothing is
//! ever concluded from a missing field.

use serde::{Deserialize, Serialize};

use crate::domain::time::Millis;

/// Evidence beside one event; in the JSON Lines log its fields sit on the event's line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Confirm: milliseconds from the prompt written to the socket to the answer's arrival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_ms: Option<Millis>,
    /// Confirm: what the page reported (hints: a script can send anything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<Hints>,
    /// Connect: the client address, full, truncated or as a keyed hash (the operator's choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Connect: the browser's own name for itself (`User-Agent`), cut to a bounded length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// Connect: the socket came from a browser that loaded this server's player page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_loaded: Option<bool>,
}

impl Evidence {
    /// Nothing observed: such evidence is not kept at all.
    pub fn is_empty(&self) -> bool {
        *self == Evidence::default()
    }

    /// "One device": the address and the browser together, when both were recorded.
    pub fn device(&self) -> Option<String> {
        match (&self.address, &self.browser) {
            (Some(a), Some(b)) => Some(format!("{a} · {b}")),
            _ => None,
        }
    }
}

/// What the page reports at an answer: hints, since a script that skips the page can say
/// anything, but a real page always sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hints {
    /// The click, touch or key press was a trusted user event (`event.isTrusted`).
    pub trusted: bool,
    pub input: Input,
    /// The tab was visible and focused when the answer was given.
    pub visible: bool,
    pub focused: bool,
    /// The prompt was drawn on the page before the answer.
    pub rendered: bool,
}

/// How the answer was given, as the page saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Pointer,
    Touch,
    Keyboard,
    /// No user input at all (e.g. a programmatic click).
    None,
}

/// The longest browser name kept; real ones are under 200 bytes.
pub const MAX_BROWSER: usize = 256;

/// `text` cut to at most `max` bytes at a character boundary.
pub fn bounded(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_needs_both_halves_and_browsers_are_cut_at_a_character() {
        let mut e = Evidence {
            address: Some("203.0.113.0/24".into()),
            ..Evidence::default()
        };
        assert_eq!(e.device(), None);
        e.browser = Some("Firefox".into());
        assert_eq!(e.device().as_deref(), Some("203.0.113.0/24 · Firefox"));
        assert_eq!(bounded("Яндекс", 3), "Я");
        assert!(Evidence::default().is_empty());
    }

    #[test]
    fn a_confirm_line_carries_its_evidence_and_reads_back() {
        use crate::domain::log::{Event, EventBody, jsonl};
        let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
        let e = Event::with_evidence(
            1_775_026_800_000,
            EventBody::Confirm {
                viewer: "v".into(),
                conn: "c".into(),
                prompt: "p".into(),
            },
            Evidence {
                reaction_ms: Some(1_240),
                hints: Some(Hints {
                    trusted: true,
                    input: Input::Keyboard,
                    visible: true,
                    focused: false,
                    rendered: true,
                }),
                ..Evidence::default()
            },
        );
        let line = jsonl::to_json(&e, &tz).to_string();
        assert!(line.contains(r#""reaction_ms":1240"#), "{line}");
        assert_eq!(jsonl::parse_line(&line).unwrap(), Some(e));
        // A heartbeat never carries any, whatever its line says.
        let hb =
            r#"{"ts":"2026-04-01T10:00:00+03:00","kind":"heartbeat","conn":"c","reaction_ms":5}"#;
        assert_eq!(jsonl::parse_line(hb).unwrap().unwrap().evidence, None);
    }

    #[test]
    fn absent_fields_are_not_written() {
        let e = Evidence {
            reaction_ms: Some(812),
            ..Evidence::default()
        };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"reaction_ms":812}"#);
    }
}
