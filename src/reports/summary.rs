//! The summary of the commission's export: per session, and per specialty within it, how many
//! registered, attended, met the conditions and got a code, and the ЗЕТ earned.

use std::collections::{BTreeMap, HashMap};

use super::rows::{Cell, Outcome, Sources, education_label, yes_no};
use super::{hall_title, session_when};
use crate::domain::forum::{Education, Forum, Session, specialty_key};

/// Registered viewers with one (education, specialty), as the store counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub education: Education,
    pub specialty: String,
    pub count: u64,
}

/// Counts for one (education, specialty) in a session, or for the whole session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Registered viewers; for a session's total, those whose specialty is accredited for it.
    pub registered: u64,
    /// Viewers the rules have a result for (counted time or a valid confirmation).
    pub attended: u64,
    pub eligible: u64,
    pub codes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialtyLine {
    /// `None` for viewers without a profile.
    pub education: Option<Education>,
    pub specialty: String,
    /// Whether this (education, specialty) is accredited for the session.
    pub accredited: bool,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary<'a> {
    pub session: &'a Session,
    pub total: Counts,
    /// Accredited specialties (even with nobody registered), then any other that attended.
    pub lines: Vec<SpecialtyLine>,
}

impl SessionSummary<'_> {
    /// ЗЕТ earned in this session by everyone who met its conditions.
    pub fn credits_earned(&self) -> u64 {
        self.total.eligible * u64::from(self.session.credits)
    }
}

/// The summary of each session (of `only`, when given), in forum order.
pub fn summarise<'a>(
    src: &Sources<'a>,
    outcomes: &[Outcome],
    registered: &[Registered],
    only: Option<&str>,
) -> Vec<SessionSummary<'a>> {
    // Registered counts by (education, specialty key), merging spellings of one specialty.
    let mut reg: HashMap<(Education, String), u64> = HashMap::new();
    for r in registered {
        *reg.entry((r.education, specialty_key(&r.specialty)))
            .or_default() += r.count;
    }
    let mut out = Vec::new();
    for (ix, s) in src.forum.sessions.iter().enumerate() {
        if only.is_some_and(|id| id != s.id) {
            continue;
        }
        // Keyed by (education, key) so lines sort by level, then name; the value keeps the
        // name to show (the catalogue's spelling from the audience when there is one).
        let mut lines: BTreeMap<(Option<Education>, String), SpecialtyLine> = BTreeMap::new();
        for education in [Education::Higher, Education::Secondary] {
            for name in s.audience.list(education) {
                let key = specialty_key(name);
                let registered = reg.get(&(education, key.clone())).copied().unwrap_or(0);
                lines.insert(
                    (Some(education), key),
                    SpecialtyLine {
                        education: Some(education),
                        specialty: name.clone(),
                        accredited: true,
                        counts: Counts {
                            registered,
                            ..Counts::default()
                        },
                    },
                );
            }
        }
        let mut total = Counts {
            registered: lines.values().map(|l| l.counts.registered).sum(),
            ..Counts::default()
        };
        for o in outcomes.iter().filter(|o| o.session as usize == ix) {
            let profile = src.facts.viewers[o.viewer as usize].profile.as_ref();
            let key = profile.map_or((None, String::new()), |p| {
                (Some(p.education), specialty_key(p.specialty))
            });
            let line = lines.entry(key.clone()).or_insert_with(|| SpecialtyLine {
                education: key.0,
                specialty: profile.map_or("без анкеты".to_owned(), |p| {
                    p.specialty.trim().into()
                }),
                accredited: false,
                counts: Counts {
                    registered: key
                        .0
                        .map_or(0, |e| reg.get(&(e, key.1)).copied().unwrap_or(0)),
                    ..Counts::default()
                },
            });
            let has_code = src.code(o).is_some();
            for c in [&mut line.counts, &mut total] {
                c.attended += u64::from(o.judged);
                c.eligible += u64::from(o.eligible);
                c.codes += u64::from(has_code);
            }
        }
        out.push(SessionSummary {
            session: s,
            total,
            lines: lines.into_values().collect(),
        });
    }
    out
}

/// The summary table's header.
pub fn summary_header(zone: &str) -> Vec<String> {
    [
        "Сессия",
        &format!("Дата и время ({zone})"),
        "Зал",
        "Название сессии",
        "ЗЕТ за сессию",
        "Уровень образования",
        "Специальность",
        "Аккредитована",
        "Зарегистрировано",
        "Присутствовали",
        "Выполнили условия",
        "Выдано кодов",
        "ЗЕТ выполнившим",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The summary as table rows: each session's total («Итого»), then its specialties.
pub fn summary_rows(forum: &Forum, summaries: &[SessionSummary]) -> Vec<Vec<Cell>> {
    let tz = forum.tz();
    let mut rows = Vec::new();
    for sum in summaries {
        let s = sum.session;
        let lead = |c: &mut Vec<Cell>| {
            c.push(s.id.as_str().into());
            c.push(session_when(s, &tz).into());
            c.push(hall_title(forum, &s.hall).into());
            c.push(s.title.as_str().into());
            c.push(s.credits.into());
        };
        let counts = |c: &mut Vec<Cell>, n: &Counts| {
            c.push(Cell::Int(n.registered as i64));
            c.push(Cell::Int(n.attended as i64));
            c.push(Cell::Int(n.eligible as i64));
            c.push(Cell::Int(n.codes as i64));
            c.push(Cell::Int((n.eligible * u64::from(s.credits)) as i64));
        };
        let mut total = Vec::with_capacity(13);
        lead(&mut total);
        total.extend(["все".into(), "Итого по сессии".into(), "".into()]);
        counts(&mut total, &sum.total);
        rows.push(total);
        for line in &sum.lines {
            let mut row = Vec::with_capacity(13);
            lead(&mut row);
            row.push(education_label(line.education).into());
            row.push(line.specialty.as_str().into());
            row.push(yes_no(line.accredited).into());
            counts(&mut row, &line.counts);
            rows.push(row);
        }
    }
    rows
}
