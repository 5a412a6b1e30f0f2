//! Prompt schedules: when each session's presence prompts fire.
//!
//! A schedule must be unpredictable to viewers (otherwise a script simply waits for the known
//! instants) and reproducible for an auditor who later asks "why did the prompt come at 11:02?".
//! Both follow from planning with a fresh 32-byte [`Seed`] drawn from a CSPRNG and storing the
//! seed beside the schedule: [`plan`] is a pure function of the session, the gap, the margin
//! and the seed.
//!
//! Prompts start only at whole seconds, so that times read nicely in reports, and only where the
//! whole open prompt avoids excluded ranges (sponsor talks, breaks) and the session's margins.

use std::collections::BTreeSet;
use std::fmt;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::forum::model::Session;
use crate::domain::time::{Millis, SECOND, Span, measure, normalize, subtract};

/// The 32 bytes a schedule is derived from. Stored with the schedule (as 64 hex digits) so that
/// an auditor can plan it again and get the same instants.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed(pub [u8; 32]);

/// Text that is not a seed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "«{text}» не является зерном расписания: нужно ровно 64 шестнадцатеричные цифры (0–9, a–f)"
)]
pub struct SeedError {
    pub text: String,
}

impl Seed {
    /// A fresh seed from the thread-local CSPRNG.
    pub fn random() -> Seed {
        Seed::from_rng(&mut rand::rng())
    }

    /// A seed drawn from `rng`. Only a cryptographic generator keeps schedules unpredictable.
    pub fn from_rng<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Seed {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Seed(bytes)
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for b in self.0 {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
        out
    }

    /// Parses 64 hex digits (either case, surrounding spaces ignored).
    pub fn from_hex(text: &str) -> Result<Seed, SeedError> {
        let bad = || SeedError {
            text: text.to_string(),
        };
        let digits = text.trim().as_bytes();
        if digits.len() != 64 {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(bad)?;
            let lo = hex_value(pair[1]).ok_or_else(bad)?;
            bytes[i] = (hi << 4) | lo;
        }
        Ok(Seed(bytes))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seed({})", self.to_hex())
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::str::FromStr for Seed {
    type Err = SeedError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Seed::from_hex(s)
    }
}

impl Serialize for Seed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Seed::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a session's prompts could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "Сессия «{session}»: {prompts} напоминаний с промежутком не меньше {} не помещаются — \
         допустимое для них время {}, а нужно не меньше {}; уменьшите число напоминаний, \
         промежуток между ними или отступы от начала и конца сессии",
        duration_ru(*gap_ms),
        duration_ru(*allowed_ms),
        duration_ru(*needed_ms)
    )]
    Infeasible {
        session: String,
        prompts: u32,
        gap_ms: Millis,
        /// Total length of the instants where a prompt may start.
        allowed_ms: Millis,
        /// `(prompts − 1) × gap`.
        needed_ms: Millis,
    },
    #[error("Сессия «{session}»: {what} не может быть отрицательным ({value} мс)")]
    Negative {
        session: String,
        what: &'static str,
        value: Millis,
    },
}

/// «1 ч 5 мин 30 с», for messages.
fn duration_ru(ms: Millis) -> String {
    let total_s = ms.max(0) / SECOND;
    let (h, m, s) = (total_s / 3600, total_s % 3600 / 60, total_s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} ч"));
    }
    if m > 0 {
        parts.push(format!("{m} мин"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s} с"));
    }
    parts.join(" ")
}

/// The instants where a prompt of `session` may start, as sorted disjoint half-open spans:
/// `t` is allowed iff some span contains it. A prompt starting at `t` stays open until
/// `t + session.prompt_window_ms`; that whole interval stays clear of the margins and of every
/// excluded range.
pub fn allowed_starts(session: &Session, margin: Millis) -> Vec<Span> {
    let window = session.prompt_window_ms.max(0);
    let margin = margin.max(0);
    let first = session.starts.saturating_add(margin);
    let last = session.ends.saturating_sub(margin).saturating_sub(window);
    // `last` itself is allowed: the prompt then closes exactly where the end margin begins.
    let base = Span::new(first, last.saturating_add(1));
    if base.is_empty() {
        return Vec::new();
    }
    // A prompt closing exactly at an excluded range's start would touch it, hence the closed
    // left end; one opening exactly at its end is fine.
    let forbidden = normalize(
        session
            .excluded
            .iter()
            .map(|ex| Span::new(ex.start.saturating_sub(window), ex.end))
            .collect(),
    );
    subtract(&[base], &forbidden)
}

/// Plans the session's `prompts` prompt start times (UTC milliseconds, whole seconds, sorted).
///
/// Every prompt starts inside [`allowed_starts`], and consecutive prompts are at least `min_gap`
/// apart (rounded up to whole seconds, and never less than a second, so no two coincide). Among
/// all such placements on the whole-second grid each one is equally likely.
pub fn plan(
    session: &Session,
    min_gap: Millis,
    margin: Millis,
    seed: &Seed,
) -> Result<Vec<Millis>, ScheduleError> {
    for (what, value) in [
        ("минимальный промежуток между напоминаниями", min_gap),
        ("отступ от начала и конца сессии", margin),
        ("время, пока напоминание открыто", session.prompt_window_ms),
    ] {
        if value < 0 {
            return Err(ScheduleError::Negative {
                session: session.id.clone(),
                what,
                value,
            });
        }
    }
    if session.prompts == 0 {
        return Ok(Vec::new());
    }
    let allowed = allowed_starts(session, margin);

    // Whole seconds `k` with `k × 1000` allowed, as half-open ranges of `k`.
    let grid: Vec<(i64, i64)> = allowed
        .iter()
        .map(|s| (ceil_div(s.start, SECOND), ceil_div(s.end, SECOND)))
        .filter(|(a, b)| a < b)
        .collect();
    let points: u64 = grid.iter().map(|(a, b)| (b - a) as u64).sum();

    let n = u64::from(session.prompts);
    let gap = (ceil_div(min_gap, SECOND) as u64).max(1);
    // Points needed for `n` prompts packed as tightly as the gap allows.
    let needed = (n - 1).checked_mul(gap).and_then(|x| x.checked_add(1));
    let slack = match needed {
        Some(needed) if needed <= points => points - needed,
        _ => {
            return Err(ScheduleError::Infeasible {
                session: session.id.clone(),
                prompts: session.prompts,
                gap_ms: min_gap,
                allowed_ms: measure(&allowed),
                needed_ms: min_gap.saturating_mul(Millis::from(session.prompts - 1)),
            });
        }
    };

    // Placements with gaps ≥ `gap` in the allowed-measure coordinate correspond one-to-one to
    // non-decreasing sequences u_0 ≤ … ≤ u_{n−1} in [0, slack] (y_i = u_i + i·gap), and those to
    // n-subsets of [0, slack + n) (c_i = u_i + i). Drawing the subset uniformly (Floyd's
    // algorithm) makes every placement equally likely.
    let mut rng = ChaCha20Rng::from_seed(seed.0);
    let range = slack + n;
    let mut chosen = BTreeSet::new();
    for j in (range - n)..range {
        let t = below(&mut rng, j + 1);
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    let offsets = chosen
        .into_iter()
        .enumerate()
        .map(|(i, c)| c - i as u64 + i as u64 * gap);

    // Back from the measure coordinate to real seconds. Excluded holes between spans only add
    // real time between two prompts, so the gap still holds.
    let mut out = Vec::with_capacity(session.prompts as usize);
    let mut spans = grid.iter();
    let mut span = spans.next().copied();
    let mut passed: u64 = 0;
    for y in offsets {
        while let Some((a, b)) = span {
            let len = (b - a) as u64;
            if y < passed + len {
                out.push((a + (y - passed) as i64) * SECOND);
                break;
            }
            passed += len;
            span = spans.next().copied();
        }
    }
    debug_assert_eq!(out.len(), session.prompts as usize);
    Ok(out)
}

/// A uniform integer in `[0, n)`, `n ≥ 1`, from raw 64-bit words.
///
/// Deliberately not `rand`'s range sampling: its algorithm is allowed to change between rand
/// versions, which would silently change every stored schedule an auditor re-plans. This is
/// Lemire's multiply-and-reject method, fixed here, over the ChaCha20 stream, which the cipher
/// specification fixes. The pinned-seed test guards the combination.
fn below(rng: &mut ChaCha20Rng, n: u64) -> u64 {
    use rand::Rng;
    debug_assert!(n > 0);
    let mut m = u128::from(rng.next_u64()) * u128::from(n);
    if (m as u64) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(n);
        }
    }
    (m >> 64) as u64
}

fn ceil_div(a: i64, d: i64) -> i64 {
    a.div_euclid(d) + i64::from(a.rem_euclid(d) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forum::model::Audience;
    use crate::domain::time::MINUTE;
    use proptest::prelude::*;

    const T0: Millis = 1_775_024_100_000; // 2026-04-01T06:15:00Z, 09:15 in Moscow

    fn session(len_min: i64, prompts: u32, excluded: Vec<Span>, window: Millis) -> Session {
        Session {
            id: "d1-h1".into(),
            hall: "h1".into(),
            title: "Наука и образование".into(),
            starts: T0,
            ends: T0 + len_min * MINUTE,
            credits: 6,
            min_minutes: 270,
            prompts,
            prompts_required: prompts.saturating_sub(2),
            audience: Audience::default(),
            excluded,
            pause_on_missed: false,
            prompt_window_ms: window,
        }
    }

    fn at(min: i64) -> Millis {
        T0 + min * MINUTE
    }

    fn seed(b: u8) -> Seed {
        Seed([b; 32])
    }

    /// Every invariant a returned schedule must satisfy.
    fn check(s: &Session, gap: Millis, margin: Millis, times: &[Millis]) {
        assert_eq!(times.len(), s.prompts as usize);
        let allowed = allowed_starts(s, margin);
        for (i, &t) in times.iter().enumerate() {
            assert_eq!(t % SECOND, 0, "whole seconds: {t}");
            assert!(allowed.iter().any(|a| a.contains(t)), "{t} not allowed");
            assert!(t >= s.starts + margin, "start margin");
            assert!(t + s.prompt_window_ms <= s.ends - margin, "end margin");
            let open = Span::new(t, t + s.prompt_window_ms.max(1));
            for ex in &s.excluded {
                assert!(!open.overlaps(ex), "prompt {t} overlaps excluded {ex:?}");
                assert!(t + s.prompt_window_ms < ex.start || t >= ex.end);
            }
            if i > 0 {
                assert!(
                    t - times[i - 1] >= gap.max(1),
                    "gap {} < {gap}",
                    t - times[i - 1]
                );
            }
        }
    }

    #[test]
    fn seed_hex_round_trip_and_serde() {
        let s = Seed::from_rng(&mut ChaCha20Rng::from_seed([7; 32]));
        let hex = s.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(Seed::from_hex(&hex).unwrap(), s);
        assert_eq!(
            Seed::from_hex(&format!(" {} ", hex.to_uppercase())).unwrap(),
            s
        );
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<Seed>(&json).unwrap(), s);
        assert!(serde_json::from_str::<Seed>("\"zz\"").is_err());
        assert!(Seed::from_hex(&hex[..62]).is_err());
        let e = Seed::from_hex(&format!("{}g", &hex[..63])).unwrap_err();
        assert!(e.to_string().contains("64 шестнадцатеричные"));
        assert_ne!(Seed::random(), Seed::random());
    }

    #[test]
    fn zero_prompts_is_empty() {
        let s = session(60, 0, vec![], MINUTE);
        assert_eq!(
            plan(&s, 10 * MINUTE, 5 * MINUTE, &seed(1)).unwrap(),
            Vec::<Millis>::new()
        );
    }

    #[test]
    fn invariants_hold_on_a_real_day() {
        // 09:15–14:30 with a sponsor talk 11:00–11:30 and a break 12:30–13:00.
        let ex = vec![Span::new(at(105), at(135)), Span::new(at(195), at(225))];
        let s = session(315, 6, ex, 2 * MINUTE);
        for b in 0..50 {
            let times = plan(&s, 20 * MINUTE, 10 * MINUTE, &seed(b)).unwrap();
            check(&s, 20 * MINUTE, 10 * MINUTE, &times);
        }
    }

    #[test]
    fn allowed_starts_keep_the_window_clear() {
        let s = session(100, 1, vec![Span::new(at(40), at(50))], 2 * MINUTE);
        assert_eq!(
            allowed_starts(&s, 5 * MINUTE),
            vec![Span::new(at(5), at(38)), Span::new(at(50), at(93) + 1)]
        );
    }

    #[test]
    fn deterministic_for_a_seed_and_different_across_seeds() {
        let s = session(315, 6, vec![Span::new(at(105), at(135))], MINUTE);
        let a = plan(&s, 15 * MINUTE, 10 * MINUTE, &seed(3)).unwrap();
        let b = plan(&s, 15 * MINUTE, 10 * MINUTE, &seed(3)).unwrap();
        let c = plan(&s, 15 * MINUTE, 10 * MINUTE, &seed(4)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    /// Pins the algorithm: if this fails, stored seeds no longer reproduce stored schedules.
    /// Change the expectation only together with a versioned algorithm.
    #[test]
    fn known_seed_gives_known_schedule() {
        let s = session(315, 6, vec![Span::new(at(105), at(135))], 2 * MINUTE);
        let seed =
            Seed::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
                .unwrap();
        let times = plan(&s, 20 * MINUTE, 10 * MINUTE, &seed).unwrap();
        let offsets: Vec<Millis> = times.iter().map(|t| (t - T0) / SECOND).collect();
        // Seconds after 09:15; the sponsor talk's forbidden starts are 6180..8100.
        assert_eq!(offsets, [3366, 5593, 8922, 11633, 13777, 16230]);
    }

    #[test]
    fn tight_fit_is_exact_and_too_tight_is_refused() {
        // Allowed starts: minutes 5..=55 of an hour (window 0); 6 prompts 10 min apart fit
        // exactly, 7 do not.
        let s = session(60, 6, vec![], 0);
        let times = plan(&s, 10 * MINUTE, 5 * MINUTE, &seed(9)).unwrap();
        assert_eq!(times, (0..6).map(|i| at(5 + 10 * i)).collect::<Vec<_>>());

        let s = session(60, 7, vec![], 0);
        let err = plan(&s, 10 * MINUTE, 5 * MINUTE, &seed(9)).unwrap_err();
        match &err {
            ScheduleError::Infeasible {
                prompts, needed_ms, ..
            } => {
                assert_eq!(*prompts, 7);
                assert_eq!(*needed_ms, 60 * MINUTE);
            }
            other => panic!("{other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("«d1-h1»"), "{text}");
        assert!(text.contains("7 напоминаний"), "{text}");
        assert!(text.contains("1 ч"), "{text}");
    }

    #[test]
    fn infeasible_even_if_a_smaller_gap_would_do() {
        let s = session(60, 3, vec![], MINUTE);
        assert!(plan(&s, 30 * MINUTE, 5 * MINUTE, &seed(1)).is_err());
        assert!(plan(&s, 10 * MINUTE, 5 * MINUTE, &seed(1)).is_ok());
    }

    #[test]
    fn nothing_allowed_is_infeasible() {
        let s = session(10, 1, vec![], MINUTE);
        assert!(matches!(
            plan(&s, MINUTE, 5 * MINUTE, &seed(1)),
            Err(ScheduleError::Infeasible { allowed_ms: 0, .. })
        ));
        let s = session(60, 1, vec![Span::new(at(0), at(60))], MINUTE);
        assert!(plan(&s, MINUTE, 0, &seed(1)).is_err());
    }

    #[test]
    fn negative_parameters_are_refused() {
        let s = session(60, 1, vec![], MINUTE);
        assert!(matches!(
            plan(&s, -1, 0, &seed(1)),
            Err(ScheduleError::Negative { .. })
        ));
        assert!(plan(&s, 0, -1, &seed(1)).is_err());
    }

    #[test]
    fn odd_millisecond_bounds_still_give_whole_seconds() {
        let mut s = session(60, 5, vec![Span::new(at(20) + 777, at(30) + 3)], 61_500);
        s.starts += 1;
        s.ends -= 999;
        for b in 0..20 {
            let times = plan(&s, 5 * MINUTE + 1, 2 * MINUTE + 7, &seed(b)).unwrap();
            check(&s, 5 * MINUTE + 1, 2 * MINUTE + 7, &times);
        }
    }

    #[test]
    fn placement_is_roughly_uniform() {
        // One prompt in an allowed range of minutes 5..=55: its mean should be near minute 30.
        let s = session(60, 1, vec![], 0);
        let mut sum = 0.0;
        let runs = 2000;
        for i in 0..runs {
            let mut b = [0u8; 32];
            b[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let t = plan(&s, MINUTE, 5 * MINUTE, &Seed(b)).unwrap()[0];
            sum += (t - T0) as f64 / MINUTE as f64;
        }
        let mean = sum / runs as f64;
        assert!((mean - 30.0).abs() < 1.5, "mean {mean}");
    }

    proptest! {
        #[test]
        fn invariants_whenever_ok(
            len_min in 1i64..600,
            prompts in 0u32..12,
            gap_s in 0i64..3600,
            margin_s in 0i64..1800,
            window_s in 0i64..300,
            raw_ex in proptest::collection::vec((0i64..600 * 60, 1i64..3600), 0..4),
            seed_bytes in any::<[u8; 32]>(),
        ) {
            let ex = normalize(
                raw_ex
                    .into_iter()
                    .map(|(a, l)| Span::new(at(0) + a * SECOND, at(0) + (a + l) * SECOND))
                    .map(|sp| sp.intersect(&Span::new(at(0), at(len_min))))
                    .collect(),
            );
            let s = session(len_min, prompts, ex, window_s * SECOND);
            let (gap, margin) = (gap_s * SECOND, margin_s * SECOND);
            match plan(&s, gap, margin, &Seed(seed_bytes)) {
                Ok(times) => check(&s, gap, margin, &times),
                Err(ScheduleError::Infeasible { allowed_ms, needed_ms, .. }) => {
                    // Refused only when the allowed time really is too short (up to the
                    // whole-second grid).
                    let slack = (i64::from(prompts) + s.excluded.len() as i64 + 2) * SECOND;
                    prop_assert!(allowed_ms < needed_ms + slack, "{allowed_ms} vs {needed_ms}");
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}
