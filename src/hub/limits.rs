//! Per-connection inbound rate limit: a token bucket.
//!
//! A player sends a confirm now and then and perhaps an application ping; anything faster is a
//! script or a bug. Time is passed in (milliseconds on a monotonic clock) so the bucket is pure.

/// Holds up to `burst` tokens, refilled at `rate_per_sec`; each message takes one.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate_per_sec: f64,
    burst: f64,
    tokens: f64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket at instant `now_ms`.
    pub fn new(rate_per_sec: u32, burst: u32, now_ms: u64) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate_per_sec: f64::from(rate_per_sec),
            burst,
            tokens: burst,
            last_ms: now_ms,
        }
    }

    /// Takes a token if there is one.
    pub fn try_take(&mut self, now_ms: u64) -> bool {
        let elapsed = now_ms.saturating_sub(self.last_ms) as f64 / 1000.0;
        self.last_ms = self.last_ms.max(now_ms);
        self.tokens = (self.tokens + elapsed * self.rate_per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse() {
        let mut b = TokenBucket::new(5, 20, 0);
        assert!((0..20).all(|_| b.try_take(0)));
        assert!(!b.try_take(0));
    }

    #[test]
    fn refills_at_the_rate_up_to_the_burst() {
        let mut b = TokenBucket::new(5, 20, 0);
        (0..20).for_each(|_| {
            b.try_take(0);
        });
        assert!(!b.try_take(100));
        assert!(b.try_take(200)); // 5/s: one token per 200 ms
        assert!(!b.try_take(200));
        // A long pause refills to the burst, no more.
        assert_eq!((0..30).filter(|_| b.try_take(60_000)).count(), 20);
    }

    #[test]
    fn steady_traffic_at_the_rate_is_never_refused() {
        let mut b = TokenBucket::new(5, 1, 0);
        assert!((0..1000u64).all(|i| b.try_take(i * 200)));
    }

    #[test]
    fn a_clock_going_backwards_does_not_mint_tokens() {
        let mut b = TokenBucket::new(5, 2, 10_000);
        assert!(b.try_take(10_000));
        assert!(b.try_take(10_000));
        assert!(!b.try_take(5_000));
        assert!(!b.try_take(10_000));
    }
}
