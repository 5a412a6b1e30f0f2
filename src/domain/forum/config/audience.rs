//! The audience of a session: which specialties, at which education level, may earn its
//! credits. Names are mapped to the catalogue's spelling, so that a typo or an OCR-damaged
//! name from an accreditation document is caught here, with suggestions, rather than silently
//! refusing everyone of that specialty on the day.

use std::collections::HashSet;

use super::RawAudience;
use super::validate::{Part, Report};
use crate::domain::forum::catalogue::Catalogue;
use crate::domain::forum::model::{Audience, Education, specialty_key};

/// How many close catalogue names a "no such specialty" message offers.
const SUGGESTIONS: usize = 3;

pub(super) fn check_audience(
    raw: &RawAudience,
    label: &Part,
    catalogue: &Catalogue,
    report: &mut Report,
) -> Audience {
    if raw.higher.is_empty() && raw.secondary.is_empty() {
        report.push(
            label,
            "audience",
            "не указана ни одна специальность: audience.higher и audience.secondary пусты",
        );
    }
    Audience {
        higher: check_specialties(Education::Higher, &raw.higher, label, catalogue, report),
        secondary: check_specialties(
            Education::Secondary,
            &raw.secondary,
            label,
            catalogue,
            report,
        ),
    }
}

/// Maps names to the catalogue's spelling; reports duplicates and names not in the catalogue.
fn check_specialties(
    education: Education,
    names: &[String],
    label: &Part,
    catalogue: &Catalogue,
    report: &mut Report,
) -> Vec<String> {
    let field = format!("audience.{}", education.as_str());
    let other = match education {
        Education::Higher => Education::Secondary,
        Education::Secondary => Education::Higher,
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for name in names {
        if !seen.insert(specialty_key(name)) {
            report.push(
                label,
                &field,
                format!("специальность «{name}» указана дважды"),
            );
            continue;
        }
        if let Some(proper) = catalogue.lookup(education, name) {
            out.push(proper.to_string());
            continue;
        }
        let mut text = format!(
            "специальности «{name}» нет в каталоге ({})",
            education.label_ru()
        );
        let suggestions = catalogue.suggest(education, name, SUGGESTIONS);
        if !suggestions.is_empty() {
            let list: Vec<String> = suggestions.iter().map(|s| format!("«{s}»")).collect();
            text.push_str(&format!("; возможно, имелось в виду: {}", list.join(", ")));
        }
        if catalogue.lookup(other, name).is_some() {
            text.push_str(&format!(
                "; такая специальность есть для уровня «{}»",
                other.label_ru()
            ));
        }
        report.push(label, &field, text);
    }
    out
}
