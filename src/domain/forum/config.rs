//! Reading and validating a forum configuration (TOML) into the [`Forum`] model.
//!
//! Two stages. First the TOML is parsed and every part — the `[forum]` table, each `[[hall]]`,
//! each `[[session]]` — is deserialised on its own into a plain "raw" struct that refuses
//! unknown keys; doing it part by part means one broken session does not hide the mistakes in
//! the others. Then [`validate`] checks what the values mean (windows, quotas, halls,
//! specialties) and builds the model. Every message is in Russian for organisers and names the
//! file, the part and the field; all of them are collected before giving up.
//!
//! Submodules: `messages` turns serde/TOML errors into Russian with line numbers; `validate`
//! holds the semantic checks and `audience` the specialty checks; `write` the way back, a
//! forum as TOML ([`to_toml`]); `places` where each key of the file is, so that every
//! [`Problem`] carries the path of the field it concerns (`session[3].min_minutes`) and its
//! line and column; `tests` the unit tests.

mod audience;
mod messages;
mod places;
mod validate;
mod window;
mod write;

pub use write::to_toml;

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue, ValueDeserializer};

use places::Places;

use super::catalogue::Catalogue;
use super::model::Forum;

/// Everything wrong with a configuration, each message naming the file, the session and the
/// field. `messages` are the texts `yavka check-config` prints; `problems` the same texts, one
/// for one and in the same order, with the place each concerns, for a page to show beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub messages: Vec<String>,
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// One message about the input as a whole (a file that cannot be read, say).
    pub fn general(text: String) -> ConfigError {
        ConfigError::new(vec![Problem::general(text)])
    }

    fn new(problems: Vec<Problem>) -> ConfigError {
        ConfigError {
            messages: problems.iter().map(|p| p.text.clone()).collect(),
            problems,
        }
    }
}

/// One mistake: its message, the line and column it points at (from 1, columns in characters)
/// and the path of the field (`forum.timezone`, `hall[1].stream_url`, `session[3].audience.higher`,
/// entries counted from 0), each when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub text: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub path: Option<String>,
}

impl Problem {
    /// A message about the file as a whole.
    fn general(text: String) -> Problem {
        Problem {
            text,
            line: None,
            column: None,
            path: None,
        }
    }

    /// A message about a field, placed later by [`Problem::place`].
    fn about(text: String, path: String) -> Problem {
        Problem {
            path: Some(path),
            ..Problem::general(text)
        }
    }

    /// A message pointing at a byte of the file; its path is the key written there.
    fn at(text: String, source: &str, places: &Places, offset: usize) -> Problem {
        let (line, column) = messages::line_column(source, offset);
        Problem {
            text,
            line: Some(line),
            column: Some(column),
            path: places.path_at(offset),
        }
    }

    /// Fills the line and column of a field's message from where the field is written.
    fn place(mut self, source: &str, places: &Places) -> Problem {
        if self.line.is_none()
            && let Some(offset) = self.path.as_deref().and_then(|p| places.offset_of(p))
        {
            let (line, column) = messages::line_column(source, offset);
            (self.line, self.column) = (Some(line), Some(column));
        }
        self
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.messages.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// `[forum]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForum {
    id: String,
    title: String,
    timezone: String,
    prompt_window_seconds: i64,
    #[serde(default = "default_min_gap")]
    prompt_min_gap_minutes: i64,
    #[serde(default = "default_margin")]
    prompt_margin_minutes: i64,
    /// When and how participants get their codes, in the organiser's words (the player shows
    /// it after a session and on the results page).
    codes_note: Option<String>,
    /// Years participants' personal data is kept after the last session (default six).
    keep_personal_data_years: Option<i64>,
}

fn default_min_gap() -> i64 {
    10
}

fn default_margin() -> i64 {
    5
}

/// `[organiser]` as written: who issues the certificates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganiser {
    name: String,
    #[serde(default)]
    details: Vec<String>,
}

/// One `[[hall]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHall {
    /// Its place among the file's `[[hall]]` entries, from 0 (not written: counted).
    #[serde(skip)]
    index: usize,
    id: String,
    title: String,
    stream_url: String,
}

/// One `[[session]]` as written; times are still local text.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    /// Its place among the file's `[[session]]` entries, from 0 (not written: counted).
    #[serde(skip)]
    index: usize,
    id: String,
    hall: String,
    title: String,
    starts: String,
    ends: String,
    credits: u32,
    min_minutes: u32,
    prompts: u32,
    prompts_required: u32,
    audience: RawAudience,
    #[serde(default)]
    excluded: Vec<(String, String)>,
    #[serde(default)]
    pause_on_missed: bool,
    prompt_window_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    #[serde(default)]
    higher: Vec<String>,
    #[serde(default)]
    secondary: Vec<String>,
}

/// What the structural stage could read. Parts that failed to deserialise are missing here
/// (their errors are already reported); `broken_halls` keeps the ids of such halls so that
/// sessions pointing at them do not also get an "unknown hall" error.
#[derive(Debug, Default)]
struct RawConfig {
    forum: Option<RawForum>,
    organiser: Option<RawOrganiser>,
    halls: Vec<RawHall>,
    sessions: Vec<RawSession>,
    broken_halls: Vec<String>,
}

/// Parses forum configuration text; `origin` names the file in messages.
pub fn parse(text: &str, origin: &str, catalogue: &Catalogue) -> Result<Forum, ConfigError> {
    let mut errors = Vec::new();
    let mut places = Places::default();
    let forum = read_raw(text, origin, &mut places, &mut errors)
        .and_then(|raw| validate::validate(raw, origin, catalogue, &mut errors));
    match forum {
        Some(forum) if errors.is_empty() => Ok(forum),
        _ => Err(ConfigError::new(
            errors.into_iter().map(|p| p.place(text, &places)).collect(),
        )),
    }
}

/// The structural stage. `None` only when the text is not TOML at all.
fn read_raw(
    text: &str,
    origin: &str,
    places: &mut Places,
    errors: &mut Vec<Problem>,
) -> Option<RawConfig> {
    let root = match DeTable::parse(text) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            let message = messages::toml_error(text, origin, None, &e);
            errors.push(match e.span() {
                Some(span) => Problem::at(message, text, places, span.start),
                None => Problem::general(message),
            });
            return None;
        }
    };
    *places = Places::of(&root);
    let source = Source {
        text,
        origin,
        places,
    };
    let mut raw = RawConfig::default();
    let mut forum_seen = false;
    for (key, value) in root {
        let span = key.span();
        match key.get_ref().as_ref() {
            "forum" => {
                forum_seen = true;
                raw.forum = read_part(&source, "раздел [forum]", "forum", value, errors);
            }
            "organiser" => {
                raw.organiser =
                    read_part(&source, "раздел [organiser]", "organiser", value, errors);
            }
            "hall" => {
                for (i, item) in items(&source, "hall", value, errors)
                    .into_iter()
                    .enumerate()
                {
                    let id = id_of(&item);
                    let label = part_label("зал", id.as_deref(), i);
                    let path = format!("hall[{i}]");
                    match read_part::<RawHall>(&source, &label, &path, item, errors) {
                        Some(hall) => raw.halls.push(RawHall { index: i, ..hall }),
                        None => raw.broken_halls.extend(id),
                    }
                }
            }
            "session" => {
                for (i, item) in items(&source, "session", value, errors)
                    .into_iter()
                    .enumerate()
                {
                    let label = part_label("сессия", id_of(&item).as_deref(), i);
                    let path = format!("session[{i}]");
                    raw.sessions.extend(
                        read_part::<RawSession>(&source, &label, &path, item, errors)
                            .map(|s| RawSession { index: i, ..s }),
                    );
                }
            }
            other => errors.push(Problem::at(
                format!(
                    "{}: Неизвестный раздел `{other}`, допустимы: [forum], [organiser], \
                     [[hall]], [[session]]",
                    messages::position(text, origin, span.start)
                ),
                text,
                places,
                span.start,
            )),
        }
    }
    if !forum_seen {
        errors.push(Problem::about(
            format!("{origin}: Нет обязательного раздела [forum]"),
            "forum".into(),
        ));
    }
    Some(raw)
}

/// The file being read: its text, its name in messages and where its keys are.
struct Source<'a> {
    text: &'a str,
    origin: &'a str,
    places: &'a Places,
}

/// The elements of `[[name]]`: an array of tables. Anything else is reported.
fn items<'i>(
    source: &Source,
    name: &str,
    value: toml::Spanned<DeValue<'i>>,
    errors: &mut Vec<Problem>,
) -> Vec<toml::Spanned<DeValue<'i>>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(array) => array.into_iter().collect(),
        _ => {
            errors.push(Problem::at(
                format!(
                    "{}: Раздел `{name}` должен быть массивом таблиц: каждая запись начинается с [[{name}]]",
                    messages::position(source.text, source.origin, span.start)
                ),
                source.text,
                source.places,
                span.start,
            ));
            Vec::new()
        }
    }
}

/// Deserialises one part, reporting a failure under `label` («сессия «day1-hall1»») and
/// `path` (`session[0]`, or the key the error points at).
fn read_part<T: for<'de> Deserialize<'de>>(
    source: &Source,
    label: &str,
    path: &str,
    value: toml::Spanned<DeValue<'_>>,
    errors: &mut Vec<Problem>,
) -> Option<T> {
    match T::deserialize(ValueDeserializer::from(value)) {
        Ok(part) => Some(part),
        Err(e) => {
            let text = messages::toml_error(source.text, source.origin, Some(label), &e);
            // A missing field has no place of its own: the path names it inside its part.
            let missing = e
                .message()
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .map(|field| format!("{path}.{field}"));
            let mut problem = match e.span() {
                Some(span) => Problem::at(text, source.text, source.places, span.start),
                None => Problem::general(text),
            };
            let inside = |p: &String| p == path || p.starts_with(&format!("{path}."));
            problem.path = missing
                .or(problem.path.filter(inside))
                .or(Some(path.to_owned()));
            errors.push(problem);
            None
        }
    }
}

/// The `id` string of a part, if it has one, to name the part in messages about it.
fn id_of(item: &toml::Spanned<DeValue<'_>>) -> Option<String> {
    let id = item.get_ref().as_table()?.get("id")?.get_ref().as_str()?;
    Some(id.to_string())
}

/// «сессия «day1-hall1»», or «сессия №3» when the id is missing or empty.
fn part_label(kind: &str, id: Option<&str>, index: usize) -> String {
    match id {
        Some(id) if !id.trim().is_empty() => format!("{kind} «{id}»"),
        _ => format!("{kind} №{}", index + 1),
    }
}

#[cfg(test)]
mod tests;
