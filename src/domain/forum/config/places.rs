//! Where each part of a configuration file is: every key's path (`forum.timezone`,
//! `hall[1].stream_url`, `session[3].audience.higher`) with the bytes it covers, so that a
//! message can name the field a page shows beside it and the line an editor jumps to.
//!
//! Paths use the file's own names and count `[[hall]]` and `[[session]]` entries from 0, in
//! the order of the file: the same path addresses the same value in the JSON form of a forum.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// Every key of a parsed file with the range from its name to the end of its value.
#[derive(Debug, Default)]
pub(super) struct Places {
    spans: Vec<(String, Range<usize>)>,
}

impl Places {
    pub(super) fn of(root: &DeTable<'_>) -> Places {
        let mut places = Places::default();
        places.table(root, "");
        places
    }

    fn table(&mut self, table: &DeTable<'_>, prefix: &str) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            let end = value.span().end.max(key.span().end);
            self.spans
                .push((path.clone(), key.span().start.min(value.span().start)..end));
            self.value(value.get_ref(), &path);
        }
    }

    fn value(&mut self, value: &DeValue<'_>, path: &str) {
        match value {
            DeValue::Table(table) => self.table(table, path),
            DeValue::Array(array) => {
                for (i, item) in array.iter().enumerate() {
                    let path = format!("{path}[{i}]");
                    self.spans.push((path.clone(), item.span()));
                    self.value(item.get_ref(), &path);
                }
            }
            _ => {}
        }
    }

    /// The innermost key whose text covers `offset`.
    pub(super) fn path_at(&self, offset: usize) -> Option<String> {
        self.spans
            .iter()
            .filter(|(_, range)| range.contains(&offset))
            .min_by_key(|(_, range)| range.len())
            .map(|(path, _)| path.clone())
    }

    /// Where `path` starts, or the nearest enclosing part that is written in the file (a
    /// field left to its default has no place of its own).
    pub(super) fn offset_of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some((_, range)) = self.spans.iter().find(|(p, _)| p == path) {
                return Some(range.start);
            }
            path = &path[..path.rfind(['.', '['])?];
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::forum::catalogue::Catalogue;
    use crate::domain::forum::config::{Problem, parse};

    const FORUM: &str = r#"[forum]
id = "f"
title = "Форум"
timezone = "Europe/Moscow"
prompt_window_seconds = 120

[[hall]]
id = "hall-1"
title = "Зал №1"
stream_url = "https://example.org/hall-1.m3u8"

[[hall]]
id = "hall-2"
title = "Зал №2"
stream_url = "rtmp://example.org/2"

[[session]]
id = "a"
hall = "hall-1"
title = "Утро"
starts = "2026-04-01T09:00"
ends = "2026-04-01T10:00"
credits = "один"
min_minutes = 45
prompts = 2
prompts_required = 1
audience.higher = ["кардиология"]

[[session]]
id = "b"
hall = "hall-1"
title = "День"
starts = "2026-04-01T11:00"
ends = "2026-04-01T12:00"
credits = 1
min_minutes = 90
prompts = 2
prompts_required = 1
audience.higher = ["кардиолгия"]
"#;

    fn problems(text: &str) -> Vec<Problem> {
        parse(text, "forum.toml", &Catalogue::shipped())
            .unwrap_err()
            .problems
    }

    fn find<'a>(problems: &'a [Problem], path: &str) -> &'a Problem {
        problems
            .iter()
            .find(|p| p.path.as_deref() == Some(path))
            .unwrap_or_else(|| panic!("no problem at {path}: {problems:#?}"))
    }

    /// Every message names the field a page shows it beside and the line an editor opens,
    /// the structural ones (a wrong type) and the semantic ones alike.
    #[test]
    fn each_problem_has_its_path_and_line() {
        let all = problems(FORUM);
        assert_eq!(all.len(), 4, "{all:#?}");
        let url = find(&all, "hall[1].stream_url");
        assert_eq!((url.line, url.column), (Some(15), Some(1)));
        assert!(
            url.text.contains("зал «hall-2», поле stream_url"),
            "{url:?}"
        );
        let credits = find(&all, "session[0].credits");
        assert_eq!(credits.line, Some(23), "{credits:?}");
        assert!(credits.text.starts_with("forum.toml:23:"), "{credits:?}");
        let minimum = find(&all, "session[1].min_minutes");
        assert_eq!(minimum.line, Some(36), "{minimum:?}");
        let audience = find(&all, "session[1].audience.higher");
        assert!(audience.text.contains("«кардиология»"), "{audience:?}");
        assert_eq!(audience.line, Some(39));
    }

    /// The texts are exactly `yavka check-config`'s messages, in the same order.
    #[test]
    fn problems_are_the_messages_one_for_one() {
        let e = parse(FORUM, "forum.toml", &Catalogue::shipped()).unwrap_err();
        let texts: Vec<&String> = e.problems.iter().map(|p| &p.text).collect();
        assert_eq!(texts, e.messages.iter().collect::<Vec<_>>());
    }

    /// A field left out is named inside its part; a forum-wide field by `forum.`; a file that
    /// is not TOML has a line but no path.
    #[test]
    fn missing_fields_forum_fields_and_syntax() {
        let missing = problems(
            &FORUM
                .replace("\"один\"", "1")
                .replace("min_minutes = 45\n", ""),
        );
        find(&missing, "session[0].min_minutes");
        let zone = problems(&FORUM.replace("Europe/Moscow", "Europe/Moskva"));
        assert_eq!(find(&zone, "forum.timezone").line, Some(4));
        let broken = problems("[forum\nid = 1\n");
        assert_eq!(broken.len(), 1);
        assert_eq!((broken[0].line, broken[0].path.as_deref()), (Some(1), None));
    }
}
