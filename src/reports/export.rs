//! The whole commission export from its inputs: replay the log, judge every viewer into
//! compact outcomes, then write CSV or XLSX row by row. Shared by the HTTP download, the
//! `yavka export` command and the export benchmark, so all three produce the same file.

use std::io::Write;

use super::rows::{self, Codes, Sources};
use super::summary::{self, Registered};
use super::{csv, forum_dates, forum_zone_label, xlsx};
use crate::domain::decided::InForce;
use crate::domain::decisions::Decision;
use crate::domain::forum::Forum;
use crate::domain::log::Event;
use crate::domain::rules::{Facts, Params};
use crate::store::reports::ExportRead;

/// What an export reads from the store, and the rules' parameters to judge it with.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The forum's log in the rules' order.
    pub events: Vec<Event>,
    pub codes: Codes,
    /// Organisers' decisions, in the order recorded: the latest per (viewer, session) wins.
    pub decisions: Vec<Decision>,
    pub registered: Vec<Registered>,
    pub rules: Params,
}

impl Input {
    /// What the store read, to be judged with `rules`.
    pub fn from_store(read: ExportRead, rules: Params) -> Input {
        Input {
            events: read.events,
            codes: read.codes,
            decisions: read.decisions,
            registered: read
                .registered
                .into_iter()
                .map(|(education, specialty, count)| Registered {
                    education,
                    specialty,
                    count,
                })
                .collect(),
            rules,
        }
    }
}

/// Which CSV table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per (viewer, session).
    Participants,
    /// Per session and specialty.
    Summary,
}

/// Writes the CSV of the forum (or one session); returns the number of rows.
pub fn write_csv<W: Write>(
    out: W,
    forum: &Forum,
    input: &Input,
    session: Option<&str>,
    delimiter: u8,
    table: Table,
) -> anyhow::Result<u64> {
    let facts = Facts::build(&input.events);
    let decided = InForce::new(input.decisions.iter().cloned());
    let outcomes = rows::outcomes(forum, &facts, input.rules.clone(), &decided, session);
    let src = Sources::new(forum, &facts, &input.codes, &decided, input.rules.clone());
    let zone = forum_zone_label(forum);
    match table {
        Table::Participants => {
            csv::write_table(out, delimiter, &rows::header(&zone), src.rows(&outcomes))
        }
        Table::Summary => {
            let sums = summary::summarise(&src, &outcomes, &input.registered, session);
            csv::write_table(
                out,
                delimiter,
                &summary::summary_header(&zone),
                summary::summary_rows(forum, &sums),
            )
        }
    }
}

/// Writes the XLSX workbook (summary and participants); returns the participant rows.
pub fn write_xlsx<W: Write + Send>(
    out: W,
    forum: &Forum,
    input: &Input,
    session: Option<&str>,
) -> anyhow::Result<u64> {
    let facts = Facts::build(&input.events);
    let decided = InForce::new(input.decisions.iter().cloned());
    let outcomes = rows::outcomes(forum, &facts, input.rules.clone(), &decided, session);
    let src = Sources::new(forum, &facts, &input.codes, &decided, input.rules.clone());
    let zone = forum_zone_label(forum);
    let sums = summary::summarise(&src, &outcomes, &input.registered, session);
    let title = format!("{}, {}", forum.title, forum_dates(forum));
    let note = format!("Время — {zone}");
    let n = xlsx::write_workbook(
        out,
        &xlsx::Titles {
            forum: &title,
            zone_note: &note,
        },
        &summary::summary_header(&zone),
        &summary::summary_rows(forum, &sums),
        &rows::header(&zone),
        src.rows(&outcomes),
    )?;
    Ok(n)
}
