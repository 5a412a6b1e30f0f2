//! What a log held that the rules cannot credit: counted, a few examples kept in words, and
//! reported beside the verdicts (never credited, never extending a connection's life).

/// What the log contained that cannot be credited. Counted and reported; never credited and
/// never extending a connection's life.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anomalies {
    /// A heartbeat, disconnect or confirm for a connection not opened (yet) in the log.
    pub unknown_conn: u64,
    /// A second `connect` with an id already used.
    pub reused_conn: u64,
    /// A confirm or wrong answer whose `viewer` is not the connection's viewer.
    pub viewer_mismatch: u64,
    /// A prompt id announced again; the first announcement stands.
    pub duplicate_prompt: u64,
    /// A heartbeat, confirm or second disconnect after the connection's disconnect.
    pub after_disconnect: u64,
    /// A confirm or wrong answer of a prompt never announced.
    pub unknown_prompt: u64,
    /// The first few anomalies in words, for the report.
    pub examples: Vec<String>,
}

const MAX_EXAMPLES: usize = 20;

impl Anomalies {
    pub fn total(&self) -> u64 {
        self.unknown_conn
            + self.reused_conn
            + self.viewer_mismatch
            + self.duplicate_prompt
            + self.after_disconnect
            + self.unknown_prompt
    }

    pub(super) fn note(&mut self, example: impl FnOnce() -> String) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(example());
        }
    }

    /// One line per kind that occurred, in Russian.
    pub fn summary(&self) -> Vec<String> {
        let kinds = [
            (self.unknown_conn, "события неизвестного соединения"),
            (
                self.reused_conn,
                "повторные connect с уже использованным conn",
            ),
            (self.viewer_mismatch, "подтверждения чужого соединения"),
            (self.duplicate_prompt, "повторные объявления prompt"),
            (self.after_disconnect, "события после disconnect"),
            (self.unknown_prompt, "подтверждения необъявленных prompt"),
        ];
        kinds
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{what}: {n}"))
            .collect()
    }
}
