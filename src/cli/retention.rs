//! `yavka forum purge-personal-data ID [--yes]`: removes a forum's participants' personal data
//! on demand (see `domain::retention`). Without `--yes` it says what it would do and when the
//! data is due for removal; with it, it purges and writes an audit entry.

use std::process::ExitCode;

use serde_json::json;

use crate::clock::{Clock, SystemClock};
use crate::domain::audit::{Action, Actor, CONSOLE, NewEntry};
use crate::domain::retention;
use crate::domain::time::format_local;
use crate::store::Store;

pub async fn purge(store: &Store, id: &str, yes: bool) -> anyhow::Result<ExitCode> {
    let Some(row) = store.forum_row(id).await? else {
        eprintln!("Форума «{id}» нет. Список: yavka forum list");
        return Ok(ExitCode::from(1));
    };
    let forum = &row.forum;
    let tz = forum.tz();
    if let Some(at) = store.personal_data_removed_at(id).await? {
        println!(
            "Персональные данные участников форума «{}» уже удалены {}.",
            forum.title,
            format_local(at, &tz)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let due = retention::due(forum).map_or_else(
        || "срок не определён: в форуме нет сессий".to_owned(),
        |t| format!("срок хранения истекает {}", format_local(t, &tz)),
    );
    if !yes {
        println!(
            "Форум «{}» ({id}): {due} ({} лет после последней сессии).\n\
             Будут сокращены ФИО до «И***а А. С.», стёрты e-mail, телефоны и СНИЛС участников \
             (в анкетах, журнале и почте). Итоги, коды НМО и их проверка останутся.\n\
             Это необратимо. Удалить: yavka forum purge-personal-data {id} --yes",
            forum.title,
            retention::years(forum)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let now = SystemClock.now();
    let purged = store.purge_personal_data(id, now).await?;
    let said = format!(
        "Удалены персональные данные участников форума «{}»: анкет {}, записей журнала {}, писем {}",
        forum.title, purged.viewers, purged.records, purged.letters
    );
    println!("{said}.");
    let entry = NewEntry {
        at: now,
        forum: Some(id.to_owned()),
        actor: Actor {
            login: CONSOLE.into(),
            role: None,
            address: None,
        },
        action: Action::PersonalDataRemoved,
        description: format!("{said} (командой yavka forum purge-personal-data; {due})"),
        details: json!({ "forum": id, "viewers": purged.viewers, "records": purged.records,
                         "letters": purged.letters }),
    };
    if let Err(e) = store.append_audit(&entry).await {
        eprintln!("Внимание: запись в журнал действий не сделана: {e}");
    }
    Ok(ExitCode::SUCCESS)
}
