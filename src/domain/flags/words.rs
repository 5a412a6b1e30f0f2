//! Flags in the words an organiser reads: each names its figures and prompts, and a hint the
//! page reported says it is one.

use super::Reason;
use crate::domain::time::Millis;

/// The most prompts a line names; the JSON keeps them all.
const NAMED: usize = 5;

impl Reason {
    /// The dashboard's heading for this kind of reason.
    pub fn title_ru(&self) -> &'static str {
        match self {
            Reason::Fast { .. } => "Слишком быстрые ответы",
            Reason::Untrusted { .. } => "Ответы без действия человека на странице",
            Reason::SharedDevice { .. } => "Несколько участников с одного устройства",
            Reason::NoPage { .. } => "Подключение без страницы плеера",
        }
    }

    /// One sentence with the figures behind the flag, prompts and viewers named by their ids.
    pub fn text_ru(&self) -> String {
        self.text_ru_with(&|id| id.to_owned())
    }

    /// The same sentence with each prompt and viewer id named by `name` (the API names a
    /// prompt by its time and hall, a viewer by their name: ids mean nothing to a person).
    pub fn text_ru_with(&self, name: &dyn Fn(&str) -> String) -> String {
        let named = |list: &[String]| named(list, name);
        match self {
            Reason::Fast {
                fast,
                timed,
                threshold_ms,
                prompts,
            } => {
                let list: Vec<String> = prompts
                    .iter()
                    .take(NAMED)
                    .map(|(p, ms)| format!("{} — {}", name(p), seconds_ru(*ms)))
                    .collect();
                format!(
                    "{fast} из {timed} ответов быстрее {} после появления окна (измерено сервером): {}{}",
                    seconds_ru(*threshold_ms),
                    list.join(", "),
                    more(prompts.len())
                )
            }
            Reason::Untrusted {
                untrusted,
                not_rendered,
                no_hints,
            } => {
                let mut parts = Vec::new();
                if !untrusted.is_empty() {
                    parts.push(format!("без нажатия человеком: {}", named(untrusted)));
                }
                if !not_rendered.is_empty() {
                    parts.push(format!(
                        "окно не было показано на странице: {}",
                        named(not_rendered)
                    ));
                }
                if !no_hints.is_empty() {
                    parts.push(format!(
                        "страница ничего не сообщила об ответе: {}",
                        named(no_hints)
                    ));
                }
                format!(
                    "{} (сведения от страницы участника — подсказка: программа в обход страницы может их подделать)",
                    capital(&parts.join("; "))
                )
            }
            Reason::SharedDevice {
                others,
                prompts,
                together_ms,
            } => format!(
                "С того же адреса и браузера в пределах {} отвечали также: {} — на окна {}",
                seconds_ru(*together_ms),
                named(others),
                named(prompts)
            ),
            Reason::NoPage { count, of } => {
                format!("{count} из {of} подключений открыты не со страницы плеера")
            }
        }
    }
}

fn named(list: &[String], name: &dyn Fn(&str) -> String) -> String {
    let head: Vec<String> = list.iter().take(NAMED).map(|id| name(id)).collect();
    format!("{}{}", head.join(", "), more(list.len()))
}

fn more(n: usize) -> String {
    if n > NAMED {
        format!(" и ещё {}", n - NAMED)
    } else {
        String::new()
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// «0,35 с» under ten seconds, «12 с» from ten on.
fn seconds_ru(ms: Millis) -> String {
    if ms >= 10_000 {
        format!("{} с", ms / 1000)
    } else {
        format!("{},{:02} с", ms / 1000, (ms % 1000) / 10)
    }
}
