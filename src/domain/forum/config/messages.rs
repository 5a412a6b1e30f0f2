//! Russian messages for structural errors: TOML syntax and serde's "unknown field", "missing
//! field", "invalid type" and friends, with the file, line and column they point at.
//!
//! Organisers edit the file by hand and may not read English, so the common serde phrases are
//! translated; anything not recognised is passed through rather than lost.

/// `config/forum.toml:12:5` for a byte offset into `text`; lines and columns count from 1 and
/// columns count characters, not bytes, because the file is mostly Cyrillic.
pub(super) fn position(text: &str, origin: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    format!("{origin}:{line}:{column}")
}

/// One message for a TOML or deserialisation error, naming `part` when known.
pub(super) fn toml_error(
    text: &str,
    origin: &str,
    part: Option<&str>,
    error: &toml::de::Error,
) -> String {
    let place = match error.span() {
        Some(span) => position(text, origin, span.start),
        None => origin.to_string(),
    };
    // The raw message may carry a second line of detail; keep it on one line.
    let message = translate(&error.message().replace('\n', "; "));
    match part {
        Some(part) => format!("{place}: {part}: {message}"),
        None => format!("{place}: {message}"),
    }
}

/// Translates serde's and toml's usual phrases; unknown ones are kept as they are.
pub(super) fn translate(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return match rest.split_once(", expected one of ") {
            Some((field, allowed)) => format!("неизвестное поле {field}, допустимы: {allowed}"),
            None => match rest.split_once(", expected ") {
                Some((field, allowed)) => {
                    format!("неизвестное поле {field}, допустимо только {allowed}")
                }
                None => match rest.split_once(", there are no fields") {
                    Some((field, _)) => format!("неизвестное поле {field}, полей здесь нет"),
                    None => format!("неизвестное поле {rest}"),
                },
            },
        };
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("нет обязательного поля {field}");
    }
    if let Some(field) = message.strip_prefix("duplicate field ") {
        return format!("поле {field} указано дважды");
    }
    if let Some(key) = message.strip_prefix("duplicate key ") {
        return format!("ключ {key} указан дважды");
    }
    for (english, russian) in [
        ("invalid type: ", "неверный тип"),
        ("invalid value: ", "недопустимое значение"),
    ] {
        if let Some(rest) = message.strip_prefix(english) {
            return match rest.split_once(", expected ") {
                Some((got, expected)) => format!(
                    "{russian}: {}, ожидается {}",
                    unexpected(got),
                    expected_ru(expected)
                ),
                None => format!("{russian}: {rest}"),
            };
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        return match rest.split_once(", expected ") {
            Some((n, expected)) => {
                format!("неверная длина {n}, ожидается {}", expected_ru(expected))
            }
            None => format!("неверная длина {rest}"),
        };
    }
    format!("ошибка TOML: {message}")
}

/// serde's description of the value found (`string "6"`, `integer `-1``, `sequence`).
fn unexpected(got: &str) -> String {
    for (english, russian) in [
        ("boolean ", "логическое значение "),
        ("integer ", "целое число "),
        ("floating point ", "дробное число "),
        ("string ", "строка "),
        ("sequence", "массив"),
        ("map", "таблица"),
    ] {
        if let Some(rest) = got.strip_prefix(english) {
            return format!("{russian}{rest}");
        }
    }
    got.to_string()
}

/// serde's description of what was wanted (`u32`, `a string`, `a tuple of size 2`).
fn expected_ru(expected: &str) -> String {
    let ru = match expected {
        "u32" => "целое число не меньше 0",
        "i64" => "целое число",
        "a string" => "строка в кавычках",
        "a boolean" => "true или false",
        "a sequence" => "массив […]",
        "a tuple of size 2" => "пара [\"начало\", \"конец\"]",
        other if other.starts_with("struct ") => "таблица",
        other => return other.to_string(),
    };
    ru.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_characters_and_lines_from_one() {
        let text = "а = 1\nбб = 2\n";
        assert_eq!(position(text, "f.toml", 0), "f.toml:1:1");
        let offset = text.find("= 2").unwrap();
        assert_eq!(position(text, "f.toml", offset), "f.toml:2:4");
    }

    #[test]
    fn serde_phrases_are_translated() {
        assert_eq!(
            translate("unknown field `foo`, expected one of `id`, `title`"),
            "неизвестное поле `foo`, допустимы: `id`, `title`"
        );
        assert_eq!(
            translate("missing field `ends`"),
            "нет обязательного поля `ends`"
        );
        assert_eq!(
            translate("invalid type: string \"6\", expected u32"),
            "неверный тип: строка \"6\", ожидается целое число не меньше 0"
        );
        assert_eq!(
            translate("invalid value: integer `-1`, expected u32"),
            "недопустимое значение: целое число `-1`, ожидается целое число не меньше 0"
        );
        assert_eq!(translate("something else"), "ошибка TOML: something else");
    }
}
