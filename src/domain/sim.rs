//! Synthetic attendance: a believable log for a forum, for benchmarks, demos and load tests.
//!
//! Viewers register, watch each day in one hall (sometimes hopping to the other for a while),
//! lose their connection now and then, and press most prompts a little after they appear; a few
//! connections end without a disconnect, as after a server crash. Deterministic for a seed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::forum::{Education, Forum};
use crate::domain::log::{Event, EventBody};
use crate::domain::time::{MINUTE, Millis, SECOND};

/// Shape of the synthetic crowd.
#[derive(Debug, Clone)]
pub struct Crowd {
    pub viewers: usize,
    /// Connections per viewer over the whole forum, roughly.
    pub connections: usize,
    /// Share of prompts a viewer presses, in percent.
    pub diligence: u32,
    pub seed: u64,
}

fn uniform(rng: &mut impl Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        return lo;
    }
    lo + (rng.next_u64() % (hi - lo) as u64) as i64
}

/// Evenly spaced prompts for every session (a stand-in for a planned schedule), one per
/// `session.prompts`, each open for the session's prompt window.
pub fn even_prompts(forum: &Forum) -> Vec<Event> {
    let mut out = Vec::new();
    for s in &forum.sessions {
        let n = i64::from(s.prompts.max(1));
        for i in 0..n {
            let ts = s.starts + (s.ends - s.starts) * (2 * i + 1) / (2 * n);
            let ts = ts - ts.rem_euclid(SECOND);
            out.push(Event::new(
                ts,
                EventBody::Prompt {
                    prompt: format!("{}-p{}", s.id, i + 1).into(),
                    hall: s.hall.as_str().into(),
                    closes: ts + s.prompt_window_ms,
                },
            ));
        }
    }
    out
}

/// A whole forum's log: prompts first, then every viewer's events (not sorted by time).
pub fn crowd_log(forum: &Forum, crowd: &Crowd) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(crowd.seed);
    let prompts = even_prompts(forum);
    let mut events = prompts.clone();

    // Each day: its span over all halls, and the halls that have sessions that day.
    let tz = forum.tz();
    let mut days: Vec<(Millis, Millis, Vec<String>)> = Vec::new();
    for s in &forum.sessions {
        let date = jiff::Timestamp::from_millisecond(s.starts)
            .map(|t| t.to_zoned(tz.clone()).date())
            .ok();
        match days.iter_mut().find(|(a, _, _)| {
            jiff::Timestamp::from_millisecond(*a)
                .map(|t| t.to_zoned(tz.clone()).date())
                .ok()
                == date
        }) {
            Some(d) => {
                d.0 = d.0.min(s.starts);
                d.1 = d.1.max(s.ends);
                if !d.2.contains(&s.hall) {
                    d.2.push(s.hall.clone());
                }
            }
            None => days.push((s.starts, s.ends, vec![s.hall.clone()])),
        }
    }
    let specialties: Vec<(Education, String)> = forum
        .sessions
        .iter()
        .flat_map(|s| {
            let h = s
                .audience
                .higher
                .iter()
                .map(|x| (Education::Higher, x.clone()));
            let m = s
                .audience
                .secondary
                .iter()
                .map(|x| (Education::Secondary, x.clone()));
            h.chain(m)
        })
        .collect();
    let per_day = (crowd.connections / days.len().max(1)).max(1) as i64;

    for n in 0..crowd.viewers {
        let viewer = format!("v{n:06}");
        let (education, specialty) = specialties
            .get(rng.next_u64() as usize % specialties.len().max(1))
            .cloned()
            .unwrap_or((Education::Higher, "рентгенология".into()));
        events.push(Event::new(
            days.first().map_or(0, |d| d.0) - 24 * 60 * MINUTE,
            EventBody::Viewer {
                viewer: viewer.as_str().into(),
                name: format!("Участник {n}"),
                email: format!("viewer{n}@example.org"),
                education,
                specialty,
            },
        ));
        for (d, (day_start, day_end, halls)) in days.iter().enumerate() {
            let home = &halls[rng.next_u64() as usize % halls.len()];
            let slot = (day_end - day_start) / per_day;
            let mut t = day_start - uniform(&mut rng, 0, 20) * MINUTE;
            for k in 0..per_day {
                let conn = format!("{viewer}-d{d}-c{k}");
                let hall = if halls.len() > 1 && rng.next_u64() % 10 == 0 {
                    halls.iter().find(|h| *h != home).unwrap_or(home)
                } else {
                    home
                };
                let end = t + slot - uniform(&mut rng, 0, 3 * MINUTE);
                events.push(Event::new(
                    t,
                    EventBody::Connect {
                        viewer: viewer.as_str().into(),
                        conn: conn.as_str().into(),
                        hall: hall.as_str().into(),
                    },
                ));
                events.push(Event::new(
                    (t + end) / 2,
                    EventBody::Heartbeat {
                        conn: conn.as_str().into(),
                    },
                ));
                for p in &prompts {
                    let EventBody::Prompt {
                        prompt,
                        hall: ph,
                        closes,
                    } = &p.body
                    else {
                        continue;
                    };
                    if ph == hall
                        && p.ts >= t
                        && p.ts < end
                        && rng.next_u32() % 100 < crowd.diligence
                    {
                        let press = p.ts + uniform(&mut rng, 2 * SECOND, closes - p.ts);
                        if press <= end {
                            events.push(Event::new(
                                press,
                                EventBody::Confirm {
                                    viewer: viewer.as_str().into(),
                                    conn: conn.as_str().into(),
                                    prompt: prompt.clone(),
                                },
                            ));
                        }
                    }
                }
                // One connection in twenty is lost without a disconnect, as in a crash.
                if rng.next_u64() % 20 != 0 {
                    events.push(Event::new(end, EventBody::Disconnect { conn: conn.into() }));
                }
                t = end + uniform(&mut rng, 0, 2 * MINUTE);
            }
        }
    }
    events
}

/// A two-hall forum whose sessions (`live-1` in `hall-1`, `live-2` in `hall-2`) started ten
/// minutes before `now` and run for three hours, Moscow time: for tests and benchmarks that run
/// the real server on the real clock. A one-hour prompt margin keeps planned prompts out of
/// the first fifty minutes, so every prompt a test sees is one it fired itself.
pub fn live_forum_toml(id: &str, now: Millis) -> String {
    live_forum_toml_in(id, now, "Europe/Moscow")
}

/// The same forum in the time zone `zone` (an IANA name).
pub fn live_forum_toml_in(id: &str, now: Millis, zone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let local = |t: Millis| {
        jiff::Timestamp::from_millisecond(t)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let (starts, ends) = (local(now - 10 * MINUTE), local(now + 170 * MINUTE));
    let mut text = format!(
        "[forum]\nid = \"{id}\"\ntitle = \"Форум для проверок\"\ntimezone = \"{zone}\"\nprompt_window_seconds = 120\nprompt_margin_minutes = 60\n"
    );
    for n in 1..=2 {
        text += &format!(
            "\n[[hall]]\nid = \"hall-{n}\"\ntitle = \"Зал №{n}\"\nstream_url = \"https://example.org/hall-{n}.m3u8\"\n"
        );
    }
    for n in 1..=2 {
        text += &format!(
            "\n[[session]]\nid = \"live-{n}\"\nhall = \"hall-{n}\"\ntitle = \"Идущая сессия в зале {n}\"\n\
             starts = \"{starts}\"\nends = \"{ends}\"\ncredits = 1\nmin_minutes = 30\nprompts = 2\n\
             prompts_required = 1\naudience.higher = [\"рентгенология\"]\n"
        );
    }
    text
}

/// A whole-hour zone (`Etc/GMT…`) in which `now` is closest to noon: a test that builds its
/// sessions hours either side of `now` then never has one cross local midnight, whatever the
/// hour it runs at (days, "today" and "the session that just ended" all stay on one date).
pub fn midday_zone(now: Millis) -> String {
    let utc_hour = now.rem_euclid(24 * 60 * MINUTE) / (60 * MINUTE);
    // Local hour = UTC hour + offset; the offset that brings it nearest 12, within -12..=14.
    let offset = (12 - utc_hour).clamp(-12, 14);
    // POSIX signs are inverted: Etc/GMT-3 is three hours east of Greenwich.
    match offset {
        0 => "Etc/GMT".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forum::catalogue::Catalogue;

    #[test]
    fn the_midday_zone_puts_now_in_the_noon_hour_at_any_hour() {
        let day = 1_796_083_200_000; // 2026-12-01T00:00Z
        for h in 0..24 {
            let now = day + h * 60 * MINUTE + 17 * MINUTE;
            let zone = midday_zone(now);
            let tz = jiff::tz::TimeZone::get(&zone).expect("a known zone");
            let local = jiff::Timestamp::from_millisecond(now).unwrap().to_zoned(tz);
            assert_eq!(local.hour(), 12, "{zone} at {h}:17 UTC");
        }
    }
    use crate::domain::forum::config;

    #[test]
    fn the_live_forum_is_valid_and_live() {
        let now = crate::domain::time::parse_rfc3339("2026-11-23T01:00:00Z").unwrap();
        let forum = config::parse(
            &live_forum_toml("f", now),
            "live.toml",
            &Catalogue::shipped(),
        )
        .unwrap();
        assert_eq!(forum.sessions.len(), 2);
        assert!(forum.sessions.iter().all(|s| s.window().contains(now)));
        assert_eq!(
            forum.prompt_margin_ms,
            60 * MINUTE,
            "no planned prompt during a test"
        );
    }
}
