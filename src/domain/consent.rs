//! The two texts a registrant accepts — consent to the processing of personal data (152-ФЗ)
//! and the user agreement — and their versions.
//!
//! Organisers edit the texts; every saved edit is a new numbered version and old ones are kept,
//! because a consent is worth only as much as the proof of what it said: each viewer's record
//! names the versions they accepted. A registration form carries the versions it showed, so a
//! person who read version 2 is never recorded as accepting version 3 that they did not see.
//!
//! The shipped defaults (`assets/texts/`) are complete texts for an НМО forum with the
//! organiser's details left as `[…]` fields to fill in; [`placeholders`] finds those.
//!
//! Body format, kept deliberately small so organisers can type it in a text box: paragraphs
//! separated by blank lines, `## ` starts a subheading, `- ` starts a list item.

use serde::{Deserialize, Serialize};

use super::registration::FieldError;

/// Which text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentKind {
    PersonalData,
    Terms,
}

impl ConsentKind {
    pub const ALL: [ConsentKind; 2] = [ConsentKind::PersonalData, ConsentKind::Terms];

    /// The name in URLs and in the store: `personal-data`, `terms`.
    pub fn slug(self) -> &'static str {
        match self {
            ConsentKind::PersonalData => "personal-data",
            ConsentKind::Terms => "terms",
        }
    }

    pub fn parse(slug: &str) -> Option<ConsentKind> {
        ConsentKind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The registration form's check box for this text.
    pub fn field(self) -> &'static str {
        match self {
            ConsentKind::PersonalData => "consent_personal_data",
            ConsentKind::Terms => "consent_terms",
        }
    }

    /// "the consent to …" in the genitive-free form used in messages.
    fn what_ru(self) -> &'static str {
        match self {
            ConsentKind::PersonalData => "согласия на обработку персональных данных",
            ConsentKind::Terms => "пользовательского соглашения",
        }
    }
}

/// A text as shipped or as an organiser saved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentText {
    pub title: String,
    pub body: String,
}

/// The shipped default of a text (version 1 of every forum until an organiser saves another).
pub fn shipped(kind: ConsentKind) -> ConsentText {
    let (title, body) = match kind {
        ConsentKind::PersonalData => (
            "Согласие на обработку персональных данных",
            include_str!("../../assets/texts/personal-data.txt"),
        ),
        ConsentKind::Terms => (
            "Пользовательское соглашение",
            include_str!("../../assets/texts/terms.txt"),
        ),
    };
    ConsentText {
        title: title.into(),
        body: body.trim().into(),
    }
}

/// The versions of both texts: the current ones, or the ones a person accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentVersions {
    pub personal_data: i64,
    pub terms: i64,
}

impl ConsentVersions {
    pub fn get(&self, kind: ConsentKind) -> i64 {
        match kind {
            ConsentKind::PersonalData => self.personal_data,
            ConsentKind::Terms => self.terms,
        }
    }
}

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 50_000;

/// Checks and tidies an organiser's edit: line ends made `\n`, trailing spaces and blank lines
/// at either end dropped, so a save that changes only those is no new version.
pub fn check_edit(title: &str, body: &str) -> Result<ConsentText, Vec<FieldError>> {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = body
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_matches('\n')
        .to_owned();
    let mut errors = Vec::new();
    let error = |field, message: String| FieldError { field, message };
    if title.is_empty() {
        errors.push(error("title", "Укажите заголовок текста.".into()));
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.push(error(
            "title",
            format!("Заголовок длиннее {MAX_TITLE_CHARS} символов."),
        ));
    }
    if body.trim().is_empty() {
        errors.push(error("body", "Текст не может быть пустым.".into()));
    } else if body.chars().count() > MAX_BODY_CHARS {
        errors.push(error(
            "body",
            format!(
                "Текст длиннее {MAX_BODY_CHARS} символов ({}).",
                body.chars().count()
            ),
        ));
    }
    if errors.is_empty() {
        Ok(ConsentText { title, body })
    } else {
        Err(errors)
    }
}

/// Fields still to be filled in: `[…]` fragments of the text, each once (whatever its case),
/// in order.
pub fn placeholders(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let inner = &after[..close];
        if !inner.is_empty() && !inner.contains('\n') && !inner.contains('[') {
            let field = format!("[{inner}]");
            if !found
                .iter()
                .any(|f| f.to_lowercase() == field.to_lowercase())
            {
                found.push(field);
            }
        }
        rest = &after[close + 1..];
    }
    found
}

/// Compares the versions a form showed with the current ones: a form that showed an older
/// text (the organiser saved a new one meanwhile), or none, is refused for that check box.
pub fn check_versions(
    shown_personal_data: Option<i64>,
    shown_terms: Option<i64>,
    current: ConsentVersions,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (kind, shown) in [
        (ConsentKind::PersonalData, shown_personal_data),
        (ConsentKind::Terms, shown_terms),
    ] {
        let now = current.get(kind);
        let message = match shown {
            Some(v) if v == now => continue,
            Some(_) => format!(
                "Текст {} обновлён (редакция {now}). Прочитайте новую редакцию и отметьте \
                 согласие ещё раз.",
                kind.what_ru()
            ),
            None => format!(
                "Не указано, с какой редакцией {} вы согласились. Обновите страницу и \
                 отметьте согласие ещё раз.",
                kind.what_ru()
            ),
        };
        errors.push(FieldError {
            field: kind.field(),
            message,
        });
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_texts_are_complete_and_name_what_152_fz_asks() {
        let pd = shipped(ConsentKind::PersonalData);
        for needle in [
            "152-ФЗ",
            "оператор",
            "Какие данные",
            "Зачем",
            "Как долго",
            "отозвать",
            "территории Российской Федерации",
        ] {
            assert!(
                pd.body.to_lowercase().contains(&needle.to_lowercase()),
                "{needle}"
            );
        }
        let terms = shipped(ConsentKind::Terms);
        assert!(terms.body.contains("Подтвердить участие"));
        for kind in ConsentKind::ALL {
            let t = shipped(kind);
            assert_eq!(check_edit(&t.title, &t.body), Ok(t.clone()), "{kind:?}");
            assert!(placeholders(&t.body).contains(&"[адрес электронной почты]".to_owned()));
        }
    }

    #[test]
    fn kinds_round_trip_through_their_slugs() {
        for kind in ConsentKind::ALL {
            assert_eq!(ConsentKind::parse(kind.slug()), Some(kind));
        }
        assert_eq!(ConsentKind::parse("cookies"), None);
    }

    #[test]
    fn an_edit_is_tidied_and_bounded() {
        let t = check_edit(
            "  Политика \n обработки ",
            "\r\nАбзац 1.  \r\n\r\nАбзац 2.\n\n",
        )
        .unwrap();
        assert_eq!(t.title, "Политика обработки");
        assert_eq!(t.body, "Абзац 1.\n\nАбзац 2.");
        let errors = check_edit(" ", " \n ").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["title", "body"]);
        assert!(
            errors
                .iter()
                .all(|e| e.message.starts_with(char::is_uppercase))
        );
        assert!(check_edit("Т", &"я".repeat(MAX_BODY_CHARS + 1)).is_err());
    }

    #[test]
    fn placeholders_are_listed_once_each() {
        assert_eq!(
            placeholders("[ИНН], [инн] и [адрес]; [] и [неза\nкрытое] и [последнее"),
            ["[ИНН]", "[адрес]"]
        );
    }

    #[test]
    fn a_form_that_showed_an_old_or_no_version_is_refused_per_box() {
        let now = ConsentVersions {
            personal_data: 3,
            terms: 1,
        };
        assert!(check_versions(Some(3), Some(1), now).is_empty());
        let errors = check_versions(Some(2), None, now);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "consent_personal_data");
        assert!(
            errors[0].message.contains("редакция 3"),
            "{}",
            errors[0].message
        );
        assert_eq!(errors[1].field, "consent_terms");
        assert!(errors[1].message.contains("Обновите страницу"));
    }
}
