//! The attendance log as JSON Lines: one event object per line.
//!
//! `{"ts":"2026-04-01T09:20:00.250+03:00","kind":"connect","viewer":"v1","conn":"c1","hall":"hall-1"}`
//!
//! Reading is tolerant of what other writers do (ids may be JSON numbers, extra keys are ignored,
//! blank lines are skipped) and strict about meaning: a line with a bad time, an unknown kind or a
//! missing field is a [`LineError`] with its line number, never silently dropped.
//!
//! One line is read in `line.rs`, a whole log (in blocks, on every core) in `read.rs`, and
//! written in `write.rs`.

mod line;
mod read;
#[cfg(test)]
mod tests;
mod write;

pub use line::parse_line;
pub use read::read;
pub use write::{to_json, write};

use super::Event;

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
