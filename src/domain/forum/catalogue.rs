//! The catalogue of official НМО specialty names, per education level.
//!
//! A session is accredited for a list of specialties, and a viewer's certificate is only valid
//! if their specialty is on it, so a misspelt name in a forum configuration silently locks
//! people out. The configuration therefore only accepts names from this catalogue, and a miss
//! comes with the closest catalogue names as suggestions. The shipped catalogue is
//! `config/specialties.toml`, embedded in the binary so that validation needs no files.

use serde::Deserialize;

use super::model::{Education, specialty_key};

/// The text of `config/specialties.toml`, compiled in.
const SHIPPED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/config/specialties.toml"
));

/// Suggestions below this similarity (0..1) are noise rather than help: Jaro–Winkler gives
/// about 0.6 to unrelated names that merely share a few letters.
const SUGGESTION_THRESHOLD: f64 = 0.7;

/// Suggestions this much worse than the best one are dropped, so that a clear match is not
/// followed by two distractions.
const SUGGESTION_SPREAD: f64 = 0.15;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    /// Specialties of higher medical and pharmaceutical education, lower case.
    pub higher: Vec<String>,
    /// Specialties of secondary medical and pharmaceutical education, lower case.
    pub secondary: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    higher: Vec<String>,
    secondary: Vec<String>,
}

impl Catalogue {
    /// The catalogue shipped in `config/specialties.toml`, embedded in the binary.
    pub fn shipped() -> Catalogue {
        // A unit test parses the same text, so this cannot fail in a tested build.
        Catalogue::parse(SHIPPED).expect("config/specialties.toml is a valid catalogue")
    }

    /// Parses a catalogue in the format of `config/specialties.toml`: two arrays of names,
    /// `higher` and `secondary`. Names must be non-empty, lower case, trimmed and unique within
    /// their list; every problem is reported, one per line.
    pub fn parse(text: &str) -> Result<Catalogue, String> {
        let raw: RawCatalogue =
            toml::from_str(text).map_err(|e| format!("Каталог специальностей: {}", e.message()))?;
        let mut problems = Vec::new();
        for (education, list) in [
            (Education::Higher, &raw.higher),
            (Education::Secondary, &raw.secondary),
        ] {
            let mut seen = std::collections::HashSet::new();
            for name in list {
                if name.is_empty() || specialty_key(name) != *name {
                    problems.push(format!(
                        "Каталог специальностей ({}): «{name}» должно быть непустым, строчными \
                         буквами, без пробелов по краям",
                        education.label_ru()
                    ));
                }
                if !seen.insert(name.as_str()) {
                    problems.push(format!(
                        "Каталог специальностей ({}): «{name}» указано дважды",
                        education.label_ru()
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(Catalogue {
                higher: raw.higher,
                secondary: raw.secondary,
            })
        } else {
            Err(problems.join("\n"))
        }
    }

    pub fn list(&self, education: Education) -> &[String] {
        match education {
            Education::Higher => &self.higher,
            Education::Secondary => &self.secondary,
        }
    }

    /// The catalogue's own spelling of `name` for `education`, comparing as
    /// [`specialty_key`] does (case and surrounding spaces ignored).
    pub fn lookup(&self, education: Education, name: &str) -> Option<&str> {
        let key = specialty_key(name);
        // Entries are stored as their own key (lower case, trimmed: checked on loading), so
        // they compare as they are; keying each entry again made a CSV import of many rows
        // spend most of its time here.
        self.list(education)
            .iter()
            .find(|s| **s == key)
            .map(String::as_str)
    }

    /// Up to `limit` catalogue names of `education` closest to `name`, best first.
    ///
    /// Similarity is the better of Jaro–Winkler (good at shared beginnings and abbreviations
    /// such as «организация ЗО и общ здоровье») and normalised Levenshtein (good at typos and
    /// OCR damage such as «рентгеноэндovasкулярные»), on lower-cased names.
    pub fn suggest(&self, education: Education, name: &str, limit: usize) -> Vec<&str> {
        let key = specialty_key(name);
        let mut scored: Vec<(f64, &str)> = self
            .list(education)
            .iter()
            .map(|s| {
                let score =
                    strsim::jaro_winkler(&key, s).max(strsim::normalized_levenshtein(&key, s));
                (score, s.as_str())
            })
            .filter(|(score, _)| *score >= SUGGESTION_THRESHOLD)
            .collect();
        // Ties broken by name so that messages are deterministic.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let best = scored.first().map_or(0.0, |(score, _)| *score);
        scored
            .into_iter()
            .take_while(|(score, _)| *score >= best - SUGGESTION_SPREAD)
            .take(limit)
            .map(|(_, s)| s)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogue_parses_and_has_both_levels() {
        let c = Catalogue::shipped();
        assert!(
            c.higher.len() >= 100,
            "{} higher specialties",
            c.higher.len()
        );
        assert!(
            c.secondary.len() >= 30,
            "{} secondary specialties",
            c.secondary.len()
        );
        for name in [
            "рентгенология",
            "рентгенэндоваскулярные диагностика и лечение",
            "организация здравоохранения и общественное здоровье",
            "санитарно-гигиенические лабораторные исследования",
            "эндоскопия",
            "эпидемиология",
        ] {
            assert_eq!(c.lookup(Education::Higher, name), Some(name));
        }
        for name in [
            "сестринское дело",
            "рентгенология",
            "фармация",
            "операционное дело",
        ] {
            assert_eq!(c.lookup(Education::Secondary, name), Some(name));
        }
        assert_eq!(c.lookup(Education::Secondary, "кардиология"), None);
    }

    #[test]
    fn lookup_ignores_case_and_spaces() {
        let c = Catalogue::shipped();
        assert_eq!(
            c.lookup(Education::Higher, "  Рентгенология "),
            Some("рентгенология")
        );
    }

    #[test]
    fn suggestions_repair_ocr_damage_and_abbreviations() {
        let c = Catalogue::shipped();
        let s = c.suggest(
            Education::Higher,
            "рентгеноэндovasкулярные диагностика и лечение",
            3,
        );
        assert_eq!(s[0], "рентгенэндоваскулярные диагностика и лечение");
        let s = c.suggest(Education::Higher, "организация ЗО и общ здоровье", 3);
        assert_eq!(s, ["организация здравоохранения и общественное здоровье"]);
        // Several close names are all offered, best first.
        let s = c.suggest(Education::Higher, "стоматология детска", 3);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0], "стоматология детская");
        let s = c.suggest(Education::Higher, "кардиолгия", 3);
        assert_eq!(s[0], "кардиология");
        assert!(s.len() <= 3);
        assert!(c.suggest(Education::Higher, "zzzzzz", 3).is_empty());
    }

    #[test]
    fn parse_reports_every_bad_name() {
        let err = Catalogue::parse(
            r#"
higher = ["Кардиология", "терапия", "терапия"]
secondary = [""]
"#,
        )
        .unwrap_err();
        assert!(err.contains("«Кардиология»"), "{err}");
        assert!(err.contains("«терапия» указано дважды"), "{err}");
        assert_eq!(err.lines().count(), 3, "{err}");
        assert!(Catalogue::parse("higher = []\nsecondary = []\nother = 1").is_err());
    }
}
