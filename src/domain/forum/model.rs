//! The forum as the rules see it: halls, sessions and their accreditation norms.
//!
//! These types are the validated form of a forum configuration (see `config.rs`): every instant
//! is already in UTC milliseconds, every specialty is a catalogue name, every reference resolves.
//! They serialise to JSON so that the store can freeze a session's rules once it has started.

use serde::{Deserialize, Serialize};

use crate::domain::time::{Millis, Span, measure, normalize, subtract};

/// Education level of a participant, and of an accredited audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Education {
    /// Высшее медицинское или фармацевтическое образование.
    Higher,
    /// Среднее медицинское или фармацевтическое образование.
    Secondary,
}

impl Education {
    pub fn parse(text: &str) -> Option<Education> {
        match text.trim() {
            "higher" => Some(Education::Higher),
            "secondary" => Some(Education::Secondary),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Education::Higher => "higher",
            Education::Secondary => "secondary",
        }
    }

    /// The other level: a specialty may be accredited for one and not the other.
    pub fn other(self) -> Education {
        match self {
            Education::Higher => Education::Secondary,
            Education::Secondary => Education::Higher,
        }
    }

    /// «высшее образование» / «среднее образование».
    pub fn label_ru(self) -> &'static str {
        match self {
            Education::Higher => "высшее образование",
            Education::Secondary => "среднее образование",
        }
    }
}

/// Normalised form used whenever specialties are compared: lower case, surrounding spaces trimmed.
pub fn specialty_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forum {
    pub id: String,
    pub title: String,
    /// IANA zone name, e.g. `Europe/Moscow`: the zone of every local time in the configuration
    /// and of every time shown to organisers.
    pub timezone: String,
    /// Default time a presence prompt stays open, in milliseconds.
    pub prompt_window_ms: Millis,
    /// Planned prompts of one session are never closer to each other than this.
    pub prompt_min_gap_ms: Millis,
    /// No planned prompt in the first or last `prompt_margin_ms` of a session.
    pub prompt_margin_ms: Millis,
    pub halls: Vec<Hall>,
    pub sessions: Vec<Session>,
    /// When and how participants get their НМО codes, in the organiser's words; shown after a
    /// session and on the participant's results page.
    #[serde(default)]
    pub codes_note: Option<String>,
    /// Who runs the forum, as printed on certificates; `None` when the file does not say.
    #[serde(default)]
    pub organiser: Option<Organiser>,
    /// Years after the forum's last session during which participants' personal data is kept
    /// (`None`: [`crate::domain::retention::DEFAULT_YEARS`], what accreditors ask records to be
    /// kept for). See [`crate::domain::retention`].
    #[serde(default)]
    pub keep_personal_data_years: Option<u32>,
}

/// The organiser as a certificate names them: `[organiser]` in the forum TOML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organiser {
    /// «Центр диагностики и телемедицины (MRO)».
    pub name: String,
    /// Lines under the name: address, licence, site, e-mail — as the organiser writes them.
    pub details: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hall {
    pub id: String,
    pub title: String,
    /// What the player embeds: an HLS playlist or an iframe page.
    pub stream_url: String,
}

/// One accredited event: a hall's window with its own norms, audience and codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub hall: String,
    pub title: String,
    pub starts: Millis,
    pub ends: Millis,
    /// ЗЕТ (credits).
    pub credits: u32,
    pub min_minutes: u32,
    /// Planned presence prompts.
    pub prompts: u32,
    pub prompts_required: u32,
    pub audience: Audience,
    /// Sponsor talks and breaks: sorted, disjoint, inside the window; never counted.
    pub excluded: Vec<Span>,
    /// Rule 5: a missed prompt stops counting until the viewer confirms a later one.
    pub pause_on_missed: bool,
    /// How long this session's prompts stay open, in milliseconds.
    pub prompt_window_ms: Millis,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// Catalogue names of specialties accredited for higher education.
    pub higher: Vec<String>,
    /// Catalogue names of specialties accredited for secondary education.
    pub secondary: Vec<String>,
}

impl Audience {
    pub fn list(&self, education: Education) -> &[String] {
        match education {
            Education::Higher => &self.higher,
            Education::Secondary => &self.secondary,
        }
    }

    /// Whether `(education, specialty)` is accredited, comparing specialties ignoring case and
    /// surrounding spaces.
    pub fn admits(&self, education: Education, specialty: &str) -> bool {
        let key = specialty_key(specialty);
        self.list(education).iter().any(|s| specialty_key(s) == key)
    }
}

impl Session {
    pub fn window(&self) -> Span {
        Span::new(self.starts, self.ends)
    }

    /// The parts of the window that count: the window minus the excluded ranges.
    pub fn counted_parts(&self) -> Vec<Span> {
        subtract(&[self.window()], &normalize(self.excluded.clone()))
    }

    /// Length of the counted part of the window, in milliseconds.
    pub fn counted_length(&self) -> Millis {
        measure(&self.counted_parts())
    }

    pub fn min_ms(&self) -> Millis {
        Millis::from(self.min_minutes) * crate::domain::time::MINUTE
    }

    /// The configuration fields (as named in the forum TOML) in which `other` differs, so an
    /// organiser is told what of their edit was not applied.
    pub fn changed_fields(&self, other: &Session) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut differ = |name, changed: bool| {
            if changed {
                fields.push(name);
            }
        };
        differ("hall", self.hall != other.hall);
        differ("title", self.title != other.title);
        differ("starts", self.starts != other.starts);
        differ("ends", self.ends != other.ends);
        differ("credits", self.credits != other.credits);
        differ("min_minutes", self.min_minutes != other.min_minutes);
        differ("prompts", self.prompts != other.prompts);
        differ(
            "prompts_required",
            self.prompts_required != other.prompts_required,
        );
        differ("audience", self.audience != other.audience);
        differ("excluded", self.excluded != other.excluded);
        differ(
            "pause_on_missed",
            self.pause_on_missed != other.pause_on_missed,
        );
        differ(
            "prompt_window_seconds",
            self.prompt_window_ms != other.prompt_window_ms,
        );
        fields
    }
}

impl Forum {
    /// When the first session starts; `None` for a forum without sessions.
    pub fn starts(&self) -> Option<Millis> {
        self.sessions.iter().map(|s| s.starts).min()
    }

    /// When the last session ends: after it, nothing is counted and nobody need register.
    pub fn ends(&self) -> Option<Millis> {
        self.sessions.iter().map(|s| s.ends).max()
    }

    /// Whether every session has ended by `now`.
    pub fn is_over(&self, now: Millis) -> bool {
        self.ends().is_some_and(|end| now >= end)
    }

    pub fn hall(&self, id: &str) -> Option<&Hall> {
        self.halls.iter().find(|h| h.id == id)
    }

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// The zone of the forum. Validation guarantees the name resolves; UTC is a last resort for
    /// a hand-built `Forum` with a bad name.
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// The session of `hall` whose window contains `t`, if any.
    pub fn session_at(&self, hall: &str, t: Millis) -> Option<&Session> {
        self.sessions
            .iter()
            .find(|s| s.hall == hall && s.window().contains(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_ignores_case_and_spaces() {
        let a = Audience {
            higher: vec!["рентгенология".into()],
            secondary: vec![],
        };
        assert!(a.admits(Education::Higher, "  Рентгенология "));
        assert!(!a.admits(Education::Secondary, "рентгенология"));
        assert!(!a.admits(Education::Higher, "кардиология"));
    }
}
