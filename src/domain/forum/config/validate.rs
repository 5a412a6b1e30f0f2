//! The semantic stage of reading a forum configuration: what the values mean.
//!
//! Everything here is checked against the memo's kind of mistakes: a window typed backwards, a
//! quota larger than the planned prompts, a minimum that cannot be reached once sponsor talks
//! are cut out, two sessions of one hall at the same time, a specialty name with a typo. Every
//! problem is reported (nothing stops at the first one) as
//! `file: сессия «id», поле field: what is wrong`.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;

use jiff::tz::TimeZone;

use super::audience::check_audience;
use super::messages::sentence;
use super::window::{check_norms_fit, check_window};
use super::{Problem, RawConfig, RawForum, RawHall, RawOrganiser, RawSession, part_label};
use crate::domain::forum::catalogue::Catalogue;
use crate::domain::forum::model::{Forum, Hall, Organiser, Session};
use crate::domain::schedule::{Seed, plan};
use crate::domain::time::{MINUTE, SECOND, format_local};

/// Collects messages in the common format.
pub(super) struct Report<'a> {
    origin: &'a str,
    errors: &'a mut Vec<Problem>,
}

/// A part of the file as messages name it («сессия «day1-hall1»») and as paths do (`session[0]`).
pub(super) struct Part {
    label: String,
    path: String,
}

impl Part {
    fn new(label: impl Into<String>, path: impl Into<String>) -> Part {
        Part {
            label: label.into(),
            path: path.into(),
        }
    }
}

impl Report<'_> {
    pub(super) fn push(&mut self, part: &Part, field: &str, text: impl Display) {
        let text = sentence(&text.to_string());
        self.errors.push(Problem::about(
            format!("{}: {}, поле {field}: {text}", self.origin, part.label),
            format!("{}.{field}", part.path),
        ));
    }
}

/// Checks `raw` and builds the forum. Returns `None` when the forum cannot even be built (no
/// usable `[forum]` table or time zone); otherwise the caller decides by `errors`.
pub(super) fn validate(
    raw: RawConfig,
    origin: &str,
    catalogue: &Catalogue,
    errors: &mut Vec<Problem>,
) -> Option<Forum> {
    let mut report = Report { origin, errors };
    let tz = raw.forum.as_ref().and_then(|f| check_forum(f, &mut report));
    let halls = check_halls(&raw.halls, &mut report);
    let organiser = raw
        .organiser
        .as_ref()
        .map(|o| check_organiser(o, &mut report));

    let mut known_halls: Vec<&str> = raw.halls.iter().map(|h| h.id.as_str()).collect();
    known_halls.extend(raw.broken_halls.iter().map(String::as_str));
    let context = SessionContext {
        tz: tz.as_ref(),
        forum: raw.forum.as_ref(),
        known_halls: &known_halls,
        catalogue,
    };
    let mut seen_ids = HashSet::new();
    let mut sessions = Vec::new();
    // Messages about a built session name it by id; its path is that of its first entry.
    let mut paths: HashMap<&str, String> = HashMap::new();
    for (i, raw_session) in raw.sessions.iter().enumerate() {
        let label = part_label("сессия", Some(&raw_session.id), i);
        let part = Part::new(label, format!("session[{}]", raw_session.index));
        if !raw_session.id.trim().is_empty() && !seen_ids.insert(raw_session.id.as_str()) {
            report.push(&part, "id", "сессия с таким id уже описана выше");
        }
        paths
            .entry(raw_session.id.as_str())
            .or_insert_with(|| part.path.clone());
        if let Some(session) = check_session(raw_session, &part, &context, &mut report) {
            sessions.push(session);
        }
    }
    let part_of = |s: &Session| {
        let path = paths.get(s.id.as_str()).cloned().unwrap_or_default();
        Part::new(format!("сессия «{}»", s.id), path)
    };
    if let Some(tz) = &tz {
        check_overlaps(&sessions, tz, &part_of, &mut report);
    }

    // Without a zone that resolves, no time in the file means anything: no forum to build.
    tz.as_ref()?;
    let forum = raw.forum?;
    let keep_years = forum
        .keep_personal_data_years
        .and_then(|y| u32::try_from(y).ok());
    let gap = forum.prompt_min_gap_minutes * MINUTE;
    let margin = forum.prompt_margin_minutes * MINUTE;
    // The planner is the judge of whether a session's prompts fit; asking it now (with any
    // seed: feasibility does not depend on it) fails the file instead of the forum day.
    for s in sessions.iter().filter(|s| s.prompt_window_ms > 0) {
        if let Err(e) = plan(s, gap, margin, &Seed([0; 32])) {
            let part = part_of(s);
            let text = e.to_string();
            // The planner names the session itself; the report names it already.
            let text = text
                .strip_prefix(&format!("Сессия «{}»: ", s.id))
                .unwrap_or(&text);
            report.push(&part, "prompts", text);
        }
    }
    Some(Forum {
        id: forum.id,
        title: forum.title,
        timezone: forum.timezone,
        prompt_window_ms: forum.prompt_window_seconds * SECOND,
        prompt_min_gap_ms: forum.prompt_min_gap_minutes * MINUTE,
        prompt_margin_ms: forum.prompt_margin_minutes * MINUTE,
        halls,
        sessions,
        codes_note: forum.codes_note.map(|n| n.trim().to_owned()),
        organiser,
        keep_personal_data_years: keep_years,
    })
}

/// `[organiser]`: a name to print, and detail lines without blanks.
fn check_organiser(raw: &RawOrganiser, report: &mut Report) -> Organiser {
    let part = &Part::new("раздел [organiser]", "organiser");
    if raw.name.trim().is_empty() {
        report.push(
            part,
            "name",
            "не может быть пустым: это имя печатается в свидетельствах",
        );
    }
    Organiser {
        name: raw.name.trim().to_owned(),
        details: raw
            .details
            .iter()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect(),
    }
}

/// Checks `[forum]`; returns its zone when the name resolves.
fn check_forum(forum: &RawForum, report: &mut Report) -> Option<TimeZone> {
    let part = &forum_part();
    if forum.id.trim().is_empty() {
        report.push(part, "id", "не может быть пустым");
    }
    if forum.title.trim().is_empty() {
        report.push(part, "title", "не может быть пустым");
    }
    if forum.prompt_window_seconds <= 0 {
        report.push(
            part,
            "prompt_window_seconds",
            format!(
                "время на ответ должно быть больше нуля секунд, указано {}",
                forum.prompt_window_seconds
            ),
        );
    }
    for (field, value) in [
        ("prompt_min_gap_minutes", forum.prompt_min_gap_minutes),
        ("prompt_margin_minutes", forum.prompt_margin_minutes),
    ] {
        if value < 0 {
            report.push(
                part,
                field,
                format!("не может быть отрицательным, указано {value}"),
            );
        }
    }
    if let Some(note) = &forum.codes_note {
        check_codes_note(note, report);
    }
    if let Some(years) = forum.keep_personal_data_years
        && !(1..=MAX_KEEP_YEARS).contains(&years)
    {
        report.push(
            part,
            "keep_personal_data_years",
            format!(
                "от 1 до {MAX_KEEP_YEARS} лет, указано {years}: аккредитующие органы просят хранить записи шесть лет"
            ),
        );
    }
    match TimeZone::get(&forum.timezone) {
        Ok(tz) => Some(tz),
        Err(_) => {
            report.push(
                part,
                "timezone",
                format!(
                    "неизвестный часовой пояс «{}»; нужно имя из базы IANA, например Europe/Moscow",
                    forum.timezone
                ),
            );
            None
        }
    }
}

fn forum_part() -> Part {
    Part::new("раздел [forum]", "forum")
}

/// The longest retention a forum may set: a lifetime of records is not "as long as needed".
const MAX_KEEP_YEARS: i64 = 75;

/// Longest `codes_note`: a few sentences fit; a whole memo does not belong on a status panel.
const CODES_NOTE_MAX_CHARS: usize = 600;

/// `codes_note` is shown to every participant as plain text after each session.
fn check_codes_note(note: &str, report: &mut Report) {
    let part = &forum_part();
    let chars = note.trim().chars().count();
    if chars == 0 {
        report.push(
            part,
            "codes_note",
            "не может быть пустым: напишите, когда и как участники получат коды НМО, или уберите поле",
        );
    } else if chars > CODES_NOTE_MAX_CHARS {
        report.push(
            part,
            "codes_note",
            format!(
                "слишком длинный текст ({chars} символов, можно до {CODES_NOTE_MAX_CHARS}): оставьте одно-два предложения о том, когда и как придут коды"
            ),
        );
    }
}

fn check_halls(raw: &[RawHall], report: &mut Report) -> Vec<Hall> {
    let mut seen = HashSet::new();
    for (i, hall) in raw.iter().enumerate() {
        let label = &Part::new(
            part_label("зал", Some(&hall.id), i),
            format!("hall[{}]", hall.index),
        );
        if hall.id.trim().is_empty() {
            report.push(label, "id", "не может быть пустым");
        } else if !seen.insert(hall.id.as_str()) {
            report.push(label, "id", "зал с таким id уже описан выше");
        }
        if hall.title.trim().is_empty() {
            report.push(label, "title", "не может быть пустым");
        }
        let url = hall.stream_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            report.push(
                label,
                "stream_url",
                format!("ожидается адрес http:// или https://, указано «{url}»"),
            );
        }
    }
    raw.iter()
        .map(|h| Hall {
            id: h.id.clone(),
            title: h.title.clone(),
            stream_url: h.stream_url.trim().to_string(),
        })
        .collect()
}

/// What every session check needs from the rest of the file.
struct SessionContext<'a> {
    /// `None` when the forum's zone is unusable: times cannot be read and are not checked.
    tz: Option<&'a TimeZone>,
    forum: Option<&'a RawForum>,
    known_halls: &'a [&'a str],
    catalogue: &'a Catalogue,
}

/// Checks one session, field by field in the order of the file; builds it when its window
/// could be read.
fn check_session(
    raw: &RawSession,
    label: &Part,
    ctx: &SessionContext,
    report: &mut Report,
) -> Option<Session> {
    if raw.id.trim().is_empty() {
        report.push(label, "id", "не может быть пустым");
    }
    if !ctx.known_halls.contains(&raw.hall.as_str()) {
        let known = if ctx.known_halls.is_empty() {
            "залы не описаны".to_string()
        } else {
            format!("описаны залы: {}", ctx.known_halls.join(", "))
        };
        report.push(
            label,
            "hall",
            format!("неизвестный зал «{}»; {known}", raw.hall),
        );
    }
    if raw.title.trim().is_empty() {
        report.push(label, "title", "не может быть пустым");
    }
    let window = ctx.tz.and_then(|tz| check_window(raw, label, tz, report));
    if raw.credits == 0 {
        report.push(label, "credits", "число ЗЕТ должно быть больше нуля");
    }
    if let Some((window, excluded)) = &window {
        check_norms_fit(raw, *window, excluded, label, report);
    }
    if raw.prompts_required > raw.prompts {
        report.push(
            label,
            "prompts_required",
            format!(
                "требуется {} подтверждений, а запланировано только {} (поле prompts)",
                raw.prompts_required, raw.prompts
            ),
        );
    }
    let audience = check_audience(&raw.audience, label, ctx.catalogue, report);
    if let Some(seconds) = raw.prompt_window_seconds
        && seconds <= 0
    {
        report.push(
            label,
            "prompt_window_seconds",
            format!("время на ответ должно быть больше нуля секунд, указано {seconds}"),
        );
    }

    let (window, excluded) = window?;
    let default_window = ctx.forum.map_or(0, |f| f.prompt_window_seconds);
    Some(Session {
        id: raw.id.clone(),
        hall: raw.hall.clone(),
        title: raw.title.clone(),
        starts: window.start,
        ends: window.end,
        credits: raw.credits,
        min_minutes: raw.min_minutes,
        prompts: raw.prompts,
        prompts_required: raw.prompts_required,
        audience,
        excluded,
        pause_on_missed: raw.pause_on_missed,
        prompt_window_ms: raw.prompt_window_seconds.unwrap_or(default_window) * SECOND,
    })
}

/// Two sessions of one hall at once would make "the session at this moment" ambiguous.
fn check_overlaps(
    sessions: &[Session],
    tz: &TimeZone,
    part_of: &dyn Fn(&Session) -> Part,
    report: &mut Report,
) {
    let shown = |s: &Session| {
        format!(
            "{}–{}",
            format_local(s.starts, tz),
            format_local(s.ends, tz)
        )
    };
    for (j, later) in sessions.iter().enumerate() {
        for earlier in &sessions[..j] {
            if earlier.hall == later.hall && earlier.window().overlaps(&later.window()) {
                report.push(
                    &part_of(later),
                    "starts",
                    format!(
                        "окно {} пересекается с сессией «{}» ({}) в зале «{}»",
                        shown(later),
                        earlier.id,
                        shown(earlier),
                        later.hall
                    ),
                );
            }
        }
    }
}
