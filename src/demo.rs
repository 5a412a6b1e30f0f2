//! `yavka serve --demo`: the shipped forum moved so that its first day is live now, a prompt
//! every few minutes in every live hall, and a handful of simulated viewers who connect over
//! real websockets, answer most prompts and sometimes change halls — so a newcomer sees every
//! part move within minutes.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::RngExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::api::AppState;
use crate::api::viewers::create_viewer;
use crate::domain::forum::{Education, Forum};
use crate::domain::registration::Registration;
use crate::domain::time::{MINUTE, Millis};

/// Moves every session by one offset so that the earliest one started 15 minutes before `now`
/// (whole minutes, so local times stay readable), and gives the demo its own forum id so its
/// data never mixes with a real forum's.
pub fn shift_to_now(forum: &mut Forum, now: Millis) {
    let Some(first) = forum.sessions.iter().map(|s| s.starts).min() else {
        return;
    };
    let target = now - 15 * MINUTE;
    let offset = (target - first).div_euclid(MINUTE) * MINUTE;
    for s in &mut forum.sessions {
        s.starts += offset;
        s.ends += offset;
        for x in &mut s.excluded {
            x.start += offset;
            x.end += offset;
        }
    }
    forum.id = format!("{}-demo", forum.id);
    forum.title = format!("{} (демонстрация)", forum.title);
}

const NAMES: [&str; 6] = [
    "Иванова Анна Сергеевна",
    "Петров Пётр Николаевич",
    "Смирнова Ольга Викторовна",
    "Кузнецов Андрей Павлович",
    "Соколова Елена Игоревна",
    "Морозов Дмитрий Олегович",
];

/// Runs the demo's prompts and viewers until the process ends.
pub async fn run(state: AppState, port: u16) {
    for (i, name) in NAMES.iter().enumerate() {
        let reg = Registration {
            name: (*name).into(),
            email: format!("demo{}@example.org", i + 1),
            phone: format!("+7916000000{i}"),
            education: Education::Higher,
            specialty: "рентгенология".into(),
            snils: None,
        };
        match create_viewer(&state, &reg).await {
            Ok((_, token)) => {
                let halls: Vec<String> = state.forum.halls.iter().map(|h| h.id.clone()).collect();
                tokio::spawn(bot(port, token, halls, i));
            }
            Err(e) => tracing::warn!(error = %e, "demo viewer not created"),
        }
    }
    let mut every = tokio::time::interval(Duration::from_secs(180));
    loop {
        every.tick().await;
        let now = state.clock.now();
        for hall in &state.forum.halls {
            if let Some(s) = state.forum.session_at(&hall.id, now)
                && let Err(e) = state
                    .hub
                    .fire_prompt(&hall.id, s.prompt_window_ms, None)
                    .await
            {
                tracing::warn!(error = %e, "demo prompt not fired");
            }
        }
    }
}

/// One simulated viewer: watches a hall, answers most prompts after a human-like pause, and
/// now and then hops to the other hall for a while.
async fn bot(port: u16, token: String, halls: Vec<String>, n: usize) {
    let mut hall = halls[n % halls.len()].clone();
    loop {
        let url = format!("ws://127.0.0.1:{port}/ws?token={token}&hall={hall}");
        let Ok((ws, _)) = tokio_tungstenite::connect_async(url).await else {
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        };
        let (mut tx, mut rx) = ws.split();
        let stay = Duration::from_secs(rand::rng().random_range(300..1200));
        let until = tokio::time::Instant::now() + stay;
        loop {
            let msg = tokio::select! {
                m = rx.next() => m,
                _ = tokio::time::sleep_until(until) => break,
            };
            let Some(Ok(Message::Text(text))) = msg else {
                if matches!(msg, None | Some(Err(_)) | Some(Ok(Message::Close(_)))) {
                    break;
                }
                continue;
            };
            let Ok(m) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if m["type"] == "prompt" && rand::rng().random_range(0..10) < 8 {
                let pause = Duration::from_secs(rand::rng().random_range(3..40));
                tokio::time::sleep(pause).await;
                let reply =
                    json!({"type": "confirm", "prompt": m["id"], "answer": m["challenge"]["ask"]});
                if tx.send(Message::text(reply.to_string())).await.is_err() {
                    break;
                }
            }
        }
        let _ = tx.close().await;
        if halls.len() > 1 && rand::rng().random_range(0..3) == 0 {
            hall = halls[rand::rng().random_range(0..halls.len())].clone();
        }
        let pause = Duration::from_secs(rand::rng().random_range(2..20));
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forum::config;
    use std::path::Path;

    #[test]
    fn the_shifted_forum_is_live_now_under_its_own_id() {
        let mut forum = config::load(Path::new("config/forum.toml")).unwrap();
        let original = forum.clone();
        let now = crate::domain::time::parse_rfc3339("2026-11-23T12:34:56Z").unwrap();
        shift_to_now(&mut forum, now);
        assert_eq!(forum.id, "online-diagnostics-3-demo");
        assert!(forum.sessions.iter().any(|s| s.window().contains(now)));
        let first = forum.sessions.iter().map(|s| s.starts).min().unwrap();
        assert!((now - 16 * MINUTE..=now - 15 * MINUTE).contains(&first));
        for (a, b) in forum.sessions.iter().zip(&original.sessions) {
            assert_eq!(
                a.ends - a.starts,
                b.ends - b.starts,
                "windows keep their length"
            );
            assert_eq!(a.min_minutes, b.min_minutes, "norms are untouched");
        }
    }
}
