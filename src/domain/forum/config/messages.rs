//! Russian messages for structural errors: TOML syntax and serde's "unknown field", "missing
//! field", "invalid type" and friends, with the file, line and column they point at.
//!
//! Organisers edit the file by hand and may not read English, so the toml parser's syntax
//! errors and the common serde phrases are translated; anything not recognised is passed
//! through (after «Ошибка TOML:») rather than lost. Every message starts with a capital letter.

/// `config/forum.toml:12:5` for a byte offset into `text`; lines and columns count from 1 and
/// columns count characters, not bytes, because the file is mostly Cyrillic.
pub(super) fn position(text: &str, origin: &str, offset: usize) -> String {
    let (line, column) = line_column(text, offset);
    format!("{origin}:{line}:{column}")
}

/// The line and column (from 1, columns in characters) of a byte offset into `text`.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
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
    let message = sentence(&translate(&error.message().replace('\n', "; ")));
    match part {
        Some(part) => format!("{place}: {part}: {message}"),
        None => format!("{place}: {message}"),
    }
}

/// The text with its first letter in upper case: each message is a sentence of its own.
pub(super) fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Translates serde's and toml's usual phrases; unknown ones are kept as they are.
pub(super) fn translate(message: &str) -> String {
    if let Some(russian) = syntax(message) {
        return russian;
    }
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

/// The toml parser's syntax errors: `<description>[, expected <what>, <what>…]`.
fn syntax(message: &str) -> Option<String> {
    let (description, expected) = match message.split_once(", expected ") {
        Some((d, e)) => (d, Some(e)),
        None => (message, None),
    };
    let russian = SYNTAX
        .iter()
        .find(|(english, _)| *english == description)
        .map(|(_, russian)| *russian)?;
    // What the parser expected is added only where it tells more than the sentence: not
    // «нет «]»; ожидается «]»», and not "a literal string" for a value without quotes.
    let items: Vec<String> = match expected {
        Some(list) if description != "string values must be quoted" => list
            .split(", ")
            .filter(|item| *item != "nothing")
            .map(expected_token)
            .filter(|item| !russian.contains(item.as_str()))
            .collect(),
        _ => Vec::new(),
    };
    Some(if items.is_empty() {
        russian.to_owned()
    } else {
        format!("{russian}; ожидается {}", items.join(" или "))
    })
}

/// One thing the parser expected: a literal (`` `]` ``) or a description (`key`).
fn expected_token(item: &str) -> String {
    if let Some(literal) = item.strip_prefix('`').and_then(|i| i.strip_suffix('`')) {
        return format!("«{literal}»");
    }
    let ru = match item {
        "key" => "ключ",
        "value" => "значение",
        "nothing" => "конец строки",
        "digits" | "numbers" => "цифры",
        "letters" => "буквы",
        "characters" | "printable characters" => "символы",
        "basic string" => "строка в кавычках",
        "literal string" => "строка в апострофах",
        "multi-line basic string" => "многострочная строка",
        "unicode hexadecimal value" => "код символа Unicode",
        other => return other.to_owned(),
    };
    ru.to_owned()
}

/// The toml parser's descriptions (toml_parser 1.x) in Russian.
const SYNTAX: &[(&str, &str)] = &[
    (
        "`_` may only go between digits",
        "знак «_» допустим только между цифрами",
    ),
    (
        "carriage return must be followed by newline",
        "после возврата каретки нет перевода строки",
    ),
    ("duplicate key", "ключ указан дважды"),
    ("extra `=`", "лишний знак «=»"),
    (
        "extra assignment between key-value pairs",
        "лишнее «=» между парами ключ = значение",
    ),
    ("extra comma in array", "лишняя запятая в массиве"),
    (
        "extra comma in inline table",
        "лишняя запятая в таблице { … }",
    ),
    (
        "integers with a radix cannot be signed",
        "у чисел 0x, 0o, 0b не бывает знака",
    ),
    (
        "invalid comment character",
        "недопустимый символ в комментарии",
    ),
    (
        "invalid inline table element",
        "неверный элемент таблицы { … }",
    ),
    ("invalid key-value pair", "неверная пара ключ = значение"),
    (
        "invalid unquoted key",
        "в ключе без кавычек допустимы только буквы, цифры, «_» и «-»",
    ),
    ("invalid key", "неверный ключ"),
    ("invalid table", "неверный заголовок раздела"),
    ("invalid value", "недопустимое значение"),
    ("invalid string", "неверная строка"),
    ("invalid basic string", "неверная строка в кавычках"),
    ("invalid literal string", "неверная строка в апострофах"),
    (
        "invalid multi-line basic string",
        "неверная многострочная строка",
    ),
    (
        "invalid multi-line literal string",
        "неверная многострочная строка",
    ),
    ("invalid boolean", "ожидается true или false"),
    ("invalid date-time", "неверная дата и время"),
    ("invalid integer number", "неверное целое число"),
    ("invalid binary number", "неверное двоичное число"),
    ("invalid octal number", "неверное восьмеричное число"),
    (
        "invalid hexadecimal number",
        "неверное шестнадцатеричное число",
    ),
    ("invalid float", "неверное дробное число"),
    ("invalid exponent", "неверная степень в числе"),
    ("invalid fraction", "неверная дробная часть числа"),
    ("invalid mantissa", "неверное число"),
    ("key with no value", "у ключа нет значения"),
    (
        "keys cannot be multi-line basic strings",
        "ключ не может быть многострочной строкой",
    ),
    (
        "keys cannot be multi-line literal strings",
        "ключ не может быть многострочной строкой",
    ),
    ("missing array opening", "нет открывающей скобки «[»"),
    (
        "missing assignment between key-value pairs",
        "нет знака «=» между ключом и значением",
    ),
    (
        "missing comma between array elements",
        "нет запятой между элементами массива",
    ),
    (
        "missing comma between key-value pairs",
        "нет запятой между парами ключ = значение",
    ),
    (
        "missing comment start",
        "нет знака «#» в начале комментария",
    ),
    ("missing escaped value", "после «\\» нет символа"),
    ("missing inline table opening", "нет открывающей скобки «{»"),
    (
        "missing key for inline table element",
        "у элемента таблицы { … } нет ключа",
    ),
    ("missing opening quote", "нет открывающей кавычки"),
    ("missing table open", "нет открывающей скобки «[» заголовка"),
    ("missing value for key", "у ключа нет значения"),
    ("missing value", "нет значения"),
    (
        "radix must be lowercase",
        "префикс числа пишется строчными: 0x, 0o, 0b",
    ),
    ("redundant integer number prefix", "лишний префикс числа"),
    ("redundant numeric sign", "лишний знак числа"),
    (
        "string values must be quoted",
        "текст пишется в кавычках: \"…\"",
    ),
    (
        "too few unicode value digits",
        "мало цифр в коде символа Unicode",
    ),
    ("unclosed array table", "заголовок [[…]] не закрыт"),
    ("unclosed array", "массив не закрыт: нет «]»"),
    ("unclosed inline table", "таблица { … } не закрыта: нет «}»"),
    ("unclosed table", "заголовок раздела не закрыт: нет «]»"),
    ("unexpected `=` in array", "лишний знак «=» в массиве"),
    (
        "unexpected content between comment and newline",
        "лишний текст в конце строки",
    ),
    ("unexpected content", "лишний текст"),
    ("unexpected key or value", "лишний ключ или значение"),
    (
        "unexpected leading zero",
        "число не может начинаться с нуля",
    ),
    ("unexpected sign", "лишний знак «+» или «-»"),
    (
        "unquoted keys cannot be empty",
        "ключ без кавычек не может быть пустым",
    ),
    (
        "cannot recurse further; max recursion depth met",
        "слишком глубокая вложенность",
    ),
    ("recursion limit", "слишком глубокая вложенность"),
];

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

    #[test]
    fn syntax_errors_are_translated_with_what_was_expected() {
        assert_eq!(
            translate("unclosed table, expected `]`"),
            "заголовок раздела не закрыт: нет «]»"
        );
        assert_eq!(
            translate("key with no value, expected `=`"),
            "у ключа нет значения; ожидается «=»"
        );
        assert_eq!(
            translate("string values must be quoted, expected literal string"),
            "текст пишется в кавычках: \"…\""
        );
        assert_eq!(translate("duplicate key"), "ключ указан дважды");
    }

    /// Every syntax mistake an organiser is likely to make, through the real parser: Russian,
    /// with the place, and not a word of the parser's English.
    #[test]
    fn real_syntax_errors_come_out_in_russian() {
        for (text, line) in [
            ("[forum]\nid = \"x\ntitle = 1\n", 2),
            ("[forum\nid = 1\n", 1),
            ("[forum]\ntitle = Форум\n", 2),
            ("[forum]\nid = \"a\"\nid = \"b\"\n", 3),
            ("[forum]\nid = [1, 2\n", 2),
            ("[forum]\nid\n", 2),
            ("[forum]\nid = 1 2\n", 2),
            ("[forum]\nid = { a = 1 \n", 2),
            ("[[hall]\n", 1),
            ("[forum]\nid = 01\n", 2),
        ] {
            let e = toml::de::DeTable::parse(text).unwrap_err();
            let message = toml_error(text, "f.toml", None, &e);
            assert!(
                message.starts_with(&format!("f.toml:{line}:")),
                "{text:?}: {message}"
            );
            let after = message.splitn(4, ':').nth(3).unwrap().trim();
            assert!(
                after.chars().next().is_some_and(char::is_uppercase),
                "{text:?}: {message}"
            );
            let english: Vec<&str> = after
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| w.len() > 2 && *w != "TOML")
                .collect();
            assert!(english.is_empty(), "{text:?}: {message}");
        }
    }
}
