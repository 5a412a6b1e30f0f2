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
    /// A seed drawn from `rng`, which the caller owns (the domain reads no random source).
    /// Only a cryptographic generator keeps schedules unpredictable.
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
#[path = "schedule_tests.rs"]
mod tests;
