//! Frozen session rules: once a session has started, the rules it started with are the ones its
//! attendance is judged by, whatever the configuration says later. The store keeps the frozen
//! copies; this decides what the effective forum is and what the organiser is told.

use super::{Forum, Session};

/// The configuration with frozen rules in place of configured ones, and a Russian line for
/// every frozen session whose configuration was changed or removed. A frozen session missing
/// from the configuration is kept: its attendance is judged under the rules it started with.
/// When there are such lines, the last one says what the organiser can do about them.
pub fn apply_frozen(config: &Forum, frozen: Vec<Session>) -> (Forum, Vec<String>) {
    let mut effective = config.clone();
    let mut ignored = Vec::new();
    for rules in frozen {
        match effective.sessions.iter_mut().find(|s| s.id == rules.id) {
            Some(s) => {
                if *s != rules {
                    ignored.push(format!(
                        "Сессия «{}» уже началась: её правила заморожены, изменения в \
                         конфигурации ({}) не применяются",
                        rules.id,
                        rules.changed_fields(s).join(", ")
                    ));
                }
                *s = rules;
            }
            None => {
                ignored.push(format!(
                    "Сессия «{}» уже началась: её правила заморожены, она остаётся, хотя \
                     удалена из конфигурации",
                    rules.id
                ));
                effective.sessions.push(rules);
            }
        }
    }
    if !ignored.is_empty() {
        ignored.push(format!(
            "Что можно сделать: вернуть в файле форума прежние значения этих сессий (тогда \
             предупреждение исчезнет); если это новый форум, а не правка прошедшего, дать ему \
             новый id в разделе [forum] (сейчас «{}»), и его сессии начнутся с чистого листа; \
             если по-другому должна идти одна сессия, описать её как новую, с другим id.",
            config.id
        ));
    }
    (effective, ignored)
}
