//! A viewer's registration form, checked field by field.
//!
//! Used by self-registration and by the organiser's CSV import alike, so both refuse the same
//! things with the same words. Messages are in Russian: the person filling the form reads them.

use serde::{Deserialize, Serialize};

use crate::domain::consent::{ConsentVersions, check_versions};
use crate::domain::forum::catalogue::Catalogue;
use crate::domain::forum::{Education, Forum};
use crate::domain::time::Millis;

/// What a person typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegistrationForm {
    pub name: String,
    pub email: String,
    pub phone: String,
    /// `higher` or `secondary`.
    pub education: String,
    pub specialty: String,
    #[serde(default)]
    pub snils: Option<String>,
    /// Consent to the processing of personal data (152-ФЗ).
    #[serde(default)]
    pub consent_personal_data: bool,
    /// Acceptance of the user agreement.
    #[serde(default)]
    pub consent_terms: bool,
    /// The versions of the two texts the form showed (see `domain::consent`).
    #[serde(default)]
    pub consent_personal_data_version: Option<i64>,
    #[serde(default)]
    pub consent_terms_version: Option<i64>,
}

/// A registration that passed every check; names are the catalogue's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub name: String,
    /// Lower-cased.
    pub email: String,
    /// Digits with a leading `+`, e.g. `+79161234567`.
    pub phone: String,
    pub education: Education,
    pub specialty: String,
    /// `123-456-789 64`, when given.
    pub snils: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// Why registration is closed at `now`, in Russian, or `None` while it is open: once the
/// forum's last session has ended there is nothing left to watch or earn.
pub fn closed_reason(forum: &Forum, now: Millis) -> Option<String> {
    if !forum.is_over(now) {
        return None;
    }
    let tz = forum.tz();
    let ended = jiff::Timestamp::from_millisecond(forum.ends()?)
        .ok()?
        .to_zoned(tz)
        .strftime("%d.%m.%Y")
        .to_string();
    Some(format!(
        "Регистрация закрыта: форум закончился {ended}. Если вы были зарегистрированы, \
         откройте свою личную ссылку: там ваши результаты и коды НМО."
    ))
}

/// Checks a form against the catalogue and the current versions of the consent texts. Every
/// problem is reported at once, so a person fixes the form in one go.
pub fn validate(
    form: &RegistrationForm,
    catalogue: &Catalogue,
    consents: ConsentVersions,
) -> Result<Registration, Vec<FieldError>> {
    let mut errors = Vec::new();

    let name = form.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.split(' ').filter(|w| !w.is_empty()).count() < 2 {
        errors.push(err("name", "Укажите фамилию, имя и отчество (если есть)"));
    } else if name.chars().count() > 200 {
        errors.push(err("name", "ФИО длиннее 200 символов: сократите его"));
    }

    let email = form.email.trim().to_lowercase();
    if !plausible_email(&email) {
        errors.push(err(
            "email",
            "Укажите адрес электронной почты вида name@example.ru",
        ));
    }

    let phone = normalize_phone(&form.phone);
    if phone.is_none() {
        errors.push(err(
            "phone",
            "Укажите телефон: 10–15 цифр, например +7 916 123-45-67",
        ));
    }

    let education = Education::parse(&form.education);
    if education.is_none() {
        errors.push(err(
            "education",
            "Выберите уровень образования: высшее или среднее",
        ));
    }

    let mut specialty = String::new();
    if let Some(level) = education {
        match catalogue.lookup(level, &form.specialty) {
            Some(name) => specialty = name.to_owned(),
            None if form.specialty.trim().is_empty() => {
                errors.push(err("specialty", "Укажите специальность"))
            }
            None => errors.push(err(
                "specialty",
                format!(
                    "Специальности «{}» нет в перечне для уровня «{}»",
                    form.specialty.trim(),
                    level.label_ru()
                ),
            )),
        }
    }

    let snils = match form
        .snils
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match parse_snils(text) {
            Ok(s) => Some(s),
            Err(m) => {
                errors.push(err("snils", m));
                None
            }
        },
    };

    if !form.consent_personal_data {
        errors.push(err(
            "consent_personal_data",
            "Нужно согласие на обработку персональных данных",
        ));
    }
    if !form.consent_terms {
        errors.push(err(
            "consent_terms",
            "Нужно принять пользовательское соглашение",
        ));
    }
    // A ticked box counts only for the text the person was shown.
    let ticked = |field: &str| match field {
        "consent_personal_data" => form.consent_personal_data,
        _ => form.consent_terms,
    };
    errors.extend(
        check_versions(
            form.consent_personal_data_version,
            form.consent_terms_version,
            consents,
        )
        .into_iter()
        .filter(|e| ticked(e.field)),
    );

    match (errors.is_empty(), education, phone) {
        (true, Some(education), Some(phone)) => Ok(Registration {
            name,
            email,
            phone,
            education,
            specialty,
            snils,
        }),
        _ => Err(errors),
    }
}

/// Whether a lower-cased, trimmed address looks like one (the mail server has the last word).
pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
        && email.len() <= 254
}

/// `+7 (916) 123-45-67`, `8 916 1234567` → `+79161234567`.
pub fn normalize_phone(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let allowed = text
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if !allowed || !(10..=15).contains(&digits.len()) {
        return None;
    }
    // A Russian number written with the domestic 8 prefix.
    let digits = if digits.len() == 11 && digits.starts_with('8') {
        format!("7{}", &digits[1..])
    } else if digits.len() == 10 {
        format!("7{digits}")
    } else {
        digits
    };
    Some(format!("+{digits}"))
}

/// Checks a СНИЛС by its control number and formats it as `123-456-789 64`.
///
/// The control number is the sum of the first nine digits weighted 9…1, taken mod 101, with
/// 100 and 101 written as 00; numbers up to 001-001-998 have no checksum by definition.
pub fn parse_snils(text: &str) -> Result<String, String> {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    let others = text
        .chars()
        .any(|c| !(c.is_ascii_digit() || c == '-' || c == ' '));
    if digits.len() != 11 || others {
        return Err("СНИЛС — 11 цифр, например 112-233-445 95".into());
    }
    let number: u32 = digits[..9].iter().fold(0, |acc, d| acc * 10 + d);
    let control = digits[9] * 10 + digits[10];
    if number > 1_001_998 {
        let sum: u32 = digits[..9]
            .iter()
            .enumerate()
            .map(|(i, d)| d * (9 - i as u32))
            .sum();
        let expected = match sum % 101 {
            100 => 0,
            s => s,
        };
        if expected != control {
            return Err("СНИЛС с ошибкой: контрольное число не сходится".into());
        }
    }
    let s: String = digits
        .iter()
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect();
    Ok(format!(
        "{}-{}-{} {}",
        &s[0..3],
        &s[3..6],
        &s[6..9],
        &s[9..11]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue {
            higher: vec!["рентгенология".into(), "кардиология".into()],
            secondary: vec!["рентгенология".into(), "сестринское дело".into()],
        }
    }

    fn form() -> RegistrationForm {
        RegistrationForm {
            name: "  Иванова   Анна Сергеевна ".into(),
            email: "Anna@Example.RU".into(),
            phone: "8 (916) 123-45-67".into(),
            education: "higher".into(),
            specialty: "Рентгенология".into(),
            snils: Some("112-233-445 95".into()),
            consent_personal_data: true,
            consent_terms: true,
            consent_personal_data_version: Some(1),
            consent_terms_version: Some(2),
        }
    }

    const CURRENT: ConsentVersions = ConsentVersions {
        personal_data: 1,
        terms: 2,
    };

    #[test]
    fn a_good_form_is_normalised() {
        let r = validate(&form(), &catalogue(), CURRENT).unwrap();
        assert_eq!(r.name, "Иванова Анна Сергеевна");
        assert_eq!(r.email, "anna@example.ru");
        assert_eq!(r.phone, "+79161234567");
        assert_eq!(r.specialty, "рентгенология");
        assert_eq!(r.snils.as_deref(), Some("112-233-445 95"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = RegistrationForm {
            name: "Анна".into(),
            email: "anna".into(),
            phone: "12".into(),
            education: "higher".into(),
            specialty: "сестринское дело".into(),
            snils: Some("112-233-445 96".into()),
            consent_personal_data: false,
            consent_terms: false,
            consent_personal_data_version: None,
            consent_terms_version: None,
        };
        let errors = validate(&bad, &catalogue(), CURRENT).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                "name",
                "email",
                "phone",
                "specialty",
                "snils",
                "consent_personal_data",
                "consent_terms"
            ]
        );
        assert!(errors[3].message.contains("высшее образование"));
        assert_eq!(
            errors.len(),
            7,
            "unticked boxes are not also refused for their version"
        );
        for e in &errors {
            let first = e.message.chars().next().unwrap();
            assert!(first.is_uppercase(), "a sentence: {}", e.message);
        }
    }

    #[test]
    fn an_empty_specialty_is_asked_for_not_looked_up() {
        let empty = RegistrationForm {
            specialty: "  ".into(),
            ..form()
        };
        let errors = validate(&empty, &catalogue(), CURRENT).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "specialty");
        assert_eq!(errors[0].message, "Укажите специальность");
    }

    #[test]
    fn registration_closes_when_the_last_session_ends() {
        let forum = crate::domain::forum::fixtures::shipped();
        let end = forum.ends().unwrap();
        assert_eq!(closed_reason(&forum, end - 1), None);
        let reason = closed_reason(&forum, end).unwrap();
        assert!(
            reason.starts_with("Регистрация закрыта: форум закончился 03.04.2026."),
            "{reason}"
        );
    }

    #[test]
    fn a_ticked_box_for_an_old_text_is_refused() {
        let stale = RegistrationForm {
            consent_terms_version: Some(1),
            ..form()
        };
        let errors = validate(&stale, &catalogue(), CURRENT).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "consent_terms");
        assert!(errors[0].message.contains("редакция 2"), "{errors:?}");
    }

    #[test]
    fn snils_checksum() {
        assert!(parse_snils("11223344595").is_ok());
        assert!(parse_snils("112-233-445 00").is_err());
        assert!(
            parse_snils("001-001-998 00").is_ok(),
            "small numbers carry no checksum"
        );
        assert!(parse_snils("112-233-445").is_err());
    }
}
