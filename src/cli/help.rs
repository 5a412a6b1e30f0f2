//! Clap in Russian: its help headings and its parse errors.
//!
//! Clap writes a few words itself («Usage», «Options», «[OPTIONS]», «[default: …]») and has no
//! way to localise them, so the rendered help is passed through [`russian`]. Parse errors are
//! rebuilt from the error's kind and context (the argument, the value, clap's suggestion)
//! rather than translated phrase by phrase, so they read as Russian sentences; an error kind
//! not listed here still gets the translated headings.

use std::error::Error as _;

use clap::error::{ContextKind, ContextValue, Error, ErrorKind};

/// Clap's own words in help and usage text, and their Russian.
const WORDS: [(&str, &str); 11] = [
    ("Possible values:", "Варианты:"),
    ("Usage:", "Использование:"),
    ("Commands:", "Команды:"),
    ("Arguments:", "Аргументы:"),
    ("Options:", "Параметры:"),
    ("[OPTIONS]", "[ПАРАМЕТРЫ]"),
    ("[default: ", "[по умолчанию: "),
    ("[possible values: ", "[варианты: "),
    (
        "Print help (see a summary with '-h')",
        "Показать справку (кратко: -h)",
    ),
    (
        "Print help (see more with '--help')",
        "Показать справку (подробно: --help)",
    ),
    ("For more information, try '--help'.", "Подробнее: --help."),
];

/// Help or usage text with clap's English words replaced.
pub fn russian(text: &str) -> String {
    let mut out = text.to_owned();
    for (english, russian) in WORDS {
        out = out.replace(english, russian);
    }
    out.replace("Print help", "Показать справку")
        .replace("Print version", "Показать версию")
}

/// What to print for a parse error (or for `--help` / `--version`, which clap reports as
/// errors of their own kinds), and whether it is an error (stderr, exit code 2).
pub fn render(e: &Error) -> (String, bool) {
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            (russian(&e.render().to_string()), e.use_stderr())
        }
        _ => (format!("{}\n{}", sentence(e), usage_of(e)), true),
    }
}

/// The error as one Russian sentence, with clap's suggestion when it has one.
fn sentence(e: &Error) -> String {
    let get = |kind| e.get(kind).map(plain).unwrap_or_default();
    let arg = get(ContextKind::InvalidArg);
    let value = get(ContextKind::InvalidValue);
    let mut text = match e.kind() {
        ErrorKind::UnknownArgument => format!("Неизвестный параметр «{arg}»."),
        ErrorKind::InvalidSubcommand => {
            format!(
                "Неизвестная команда «{}».",
                get(ContextKind::InvalidSubcommand)
            )
        }
        ErrorKind::InvalidValue if value.is_empty() => format!("Для {arg} нужно значение."),
        ErrorKind::InvalidValue => format!(
            "Недопустимое значение «{value}» для {arg}; допустимо: {}.",
            get(ContextKind::ValidValue)
        ),
        ErrorKind::ValueValidation => {
            let why = e.source().map(|s| format!(" ({s})")).unwrap_or_default();
            format!("Значение «{value}» не подходит для {arg}{why}.")
        }
        ErrorKind::MissingRequiredArgument => format!("Не указано обязательное: {arg}."),
        ErrorKind::MissingSubcommand => "Не указана команда.".to_owned(),
        ErrorKind::ArgumentConflict => match get(ContextKind::PriorArg) {
            prior if prior == arg || prior.is_empty() => {
                format!("{arg} указан больше одного раза.")
            }
            prior => format!("{arg} нельзя указывать вместе с {prior}."),
        },
        ErrorKind::TooManyValues => format!("Лишнее значение «{value}»."),
        ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!("Неверное число значений для {arg}.")
        }
        ErrorKind::NoEquals => format!("Значение для {arg} указывается через «=»."),
        _ => return russian(e.render().to_string().trim_end()),
    };
    for kind in [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand] {
        if let Some(s) = e.get(kind) {
            text.push_str(&format!(" Возможно, имелось в виду «{}».", plain(s)));
        }
    }
    text
}

/// The «Использование: …» line of the command that failed, and where to read more.
fn usage_of(e: &Error) -> String {
    match e.get(ContextKind::Usage) {
        Some(usage) => format!(
            "\n{}\n\nПодробнее: --help.",
            russian(plain(usage).trim_end())
        ),
        None => "Подробнее: yavka --help.".to_owned(),
    }
}

fn plain(v: &ContextValue) -> String {
    match v {
        ContextValue::String(s) => s.clone(),
        ContextValue::Strings(list) => list.join(", "),
        ContextValue::StyledStr(s) => s.to_string(),
        ContextValue::StyledStrs(list) => list
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        ContextValue::Number(n) => n.to_string(),
        ContextValue::Bool(b) => b.to_string(),
        ContextValue::None => String::new(),
        _ => String::new(),
    }
}
