//! What organisers decide after the rules have spoken: a decision on one viewer's session
//! (grant or withdraw credit) and a forum-wide correction of a session (a prompt that does not
//! count, a stretch of time excluded), each with its reason, its author and its date.
//!
//! The rules' own verdict is never overwritten: a decision is shown beside it and wins, and a
//! correction is applied by the rules engine as an explicit, dated input (the frozen session
//! rules themselves stay as they were). Both travel with the attendance log: `yavka export-log
//! --decisions FILE` writes them as JSON Lines ([`Record`], one per line) and `yavka evaluate
//! --decisions FILE` reads them back, so the offline evaluation still equals the server's.

use serde::{Deserialize, Serialize};

use super::time::Millis;

/// What a decision does to a viewer's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Credit is granted whatever the rules said (e.g. a documented technical failure).
    Grant,
    /// Credit is withdrawn whatever the rules said (e.g. attendance found to be faked).
    Withdraw,
}

/// An organiser's decision on one (viewer, session). The latest decision for a pair is the one
/// in force; earlier ones stay on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub viewer: String,
    pub session: String,
    pub outcome: Outcome,
    /// Required, shown to the viewer and in the export.
    pub reason: String,
    /// The organiser's login.
    pub by: String,
    pub at: Millis,
    /// The appeal this decision answers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<i64>,
}

/// What a forum-wide correction changes in one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The prompt with this id does not count for anyone: it is neither required nor missed.
    VoidPrompt { prompt: String },
    /// `[from, to)` of the session is excluded, like a sponsor talk: never counted, and its
    /// prompts do not count.
    Exclude { from: Millis, to: Millis },
}

/// A forum-wide correction of one session, recorded after the session with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub session: String,
    #[serde(flatten)]
    pub change: Change,
    pub reason: String,
    pub by: String,
    pub at: Millis,
}

/// One line of the decisions file that travels with the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Decision(Decision),
    Correction(Correction),
}

/// Longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;
