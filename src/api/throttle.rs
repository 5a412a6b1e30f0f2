//! Throttles on what a script could repeat: organiser sign-in (per login and per client
//! address), self-registration and lost-link letters (per client address).
//!
//! Each is a keyed GCRA limiter (governor): `burst` attempts at once, then one every
//! `60 / per_minute` seconds. Beyond it the answer is 429 with `Retry-After` and a Russian
//! sentence saying when to try again. The limiters live in this process: on several nodes each
//! node throttles on its own, which still turns "300 registrations in 0.7 s" into a trickle.
//!
//! A client address is the socket's peer, or, behind a reverse proxy, the address the proxy
//! names in `[server] trusted_proxy_header`. IPv6 addresses are keyed by their /64 network,
//! because one home or phone gets a whole /64 and could otherwise rotate through it.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AppState;
use super::error::ApiError;
use crate::settings::{LimitsSettings, Rate};

/// One throttle; `None` inside when switched off (`per_minute = 0`).
struct Throttle<K: std::hash::Hash + Eq + Clone>(Option<DefaultKeyedRateLimiter<K>>);

impl<K: std::hash::Hash + Eq + Clone> Throttle<K> {
    fn new(rate: Rate) -> Self {
        let (Some(per_minute), Some(burst)) = (
            NonZeroU32::new(rate.per_minute),
            NonZeroU32::new(rate.burst),
        ) else {
            return Throttle(None);
        };
        Throttle(Some(DefaultKeyedRateLimiter::keyed(
            Quota::per_minute(per_minute).allow_burst(burst),
        )))
    }

    /// Takes one attempt for `key`; `Err(seconds)` to wait when there is none left.
    fn check(&self, key: &K) -> Result<(), u64> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets keys whose attempts have all been given back, so the map does not grow with
    /// every address ever seen.
    fn sweep(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |l| l.len())
    }
}

/// Every throttle of the API; one per process, shared by the handlers.
pub struct Throttles {
    login_account: Throttle<String>,
    login_address: Throttle<IpAddr>,
    register_address: Throttle<IpAddr>,
    resend_address: Throttle<IpAddr>,
}

impl Throttles {
    pub fn new(limits: &LimitsSettings) -> Throttles {
        Throttles {
            login_account: Throttle::new(limits.login_per_account),
            login_address: Throttle::new(limits.login_per_address),
            register_address: Throttle::new(limits.register_per_address),
            resend_address: Throttle::new(limits.resend_per_address),
        }
    }

    /// One sign-in attempt for `login` (case and spaces do not make a new account).
    pub fn login_attempt(&self, login: &str) -> Result<(), ApiError> {
        self.login_account
            .check(&login.trim().to_lowercase())
            .map_err(|secs| {
                tracing::warn!(login, "organiser sign-in throttled for the account");
                too_many("Слишком много попыток входа под этим логином", secs)
            })
    }

    /// Drops forgotten keys; the app calls it every minute.
    pub fn sweep(&self) {
        self.login_account.sweep();
        self.login_address.sweep();
        self.register_address.sweep();
        self.resend_address.sweep();
    }

    /// Keys currently held, for the metrics.
    pub fn keys(&self) -> usize {
        self.login_account.len()
            + self.login_address.len()
            + self.register_address.len()
            + self.resend_address.len()
    }
}

fn too_many(what: &str, secs: u64) -> ApiError {
    metrics::counter!("yavka_throttled_total").increment(1);
    ApiError::TooManyRequests {
        message: format!("{what}. Повторите через {}.", wait_ru(secs)),
        retry_after: secs,
    }
}

/// «1 секунду», «5 секунд», «2 минуты».
fn wait_ru(secs: u64) -> String {
    let (n, forms) = if secs < 120 {
        (secs.max(1), ["секунду", "секунды", "секунд"])
    } else {
        (secs.div_ceil(60), ["минуту", "минуты", "минут"])
    };
    let form = match (n % 10, n % 100) {
        (_, 11..=14) => forms[2],
        (1, _) => forms[0],
        (2..=4, _) => forms[1],
        _ => forms[2],
    };
    format!("{n} {form}")
}

/// Per-address throttles by route, before the handler reads anything.
pub async fn by_address(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let path = request.uri().path();
        let throttle = match path {
            "/api/org/login" => Some((
                &state.throttles.login_address,
                "Слишком много попыток входа с вашего адреса",
            )),
            "/api/register" => Some((
                &state.throttles.register_address,
                "Слишком много регистраций с вашего адреса",
            )),
            "/api/relink" => Some((
                &state.throttles.resend_address,
                "Слишком много писем со ссылкой запрошено с вашего адреса",
            )),
            _ => None,
        };
        if let Some((throttle, what)) = throttle
            && let Some(ip) = client_ip(&state, &request)
            && let Err(secs) = throttle.check(&network(ip))
        {
            tracing::warn!(%ip, path, "request throttled for the client address");
            return too_many(what, secs).into_response();
        }
    }
    next.run(request).await
}

/// The client's address: from the trusted proxy header when one is configured, else the peer.
pub fn client_ip(state: &AppState, request: &Request) -> Option<IpAddr> {
    client_ip_of(state, request.headers(), request.extensions())
}

/// [`client_ip`] from a request's parts.
pub fn client_ip_of(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    match &state.settings.server.trusted_proxy_header {
        Some(name) => forwarded(headers, name).or(peer),
        None => peer,
    }
}

/// The address a proxy put in `name`: the last of a list, since each proxy appends the
/// address it saw and only the last one was written by ours.
fn forwarded(headers: &HeaderMap, name: &str) -> Option<IpAddr> {
    let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The key of an address: itself for IPv4, its /64 network for IPv6.
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_wait_per_key() {
        let t = Throttle::<String>::new(Rate {
            per_minute: 1,
            burst: 3,
        });
        let a = "a".to_owned();
        assert!((0..3).all(|_| t.check(&a).is_ok()));
        let wait = t.check(&a).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(t.check(&"b".to_owned()).is_ok(), "another key has its own");
        let off = Throttle::<String>::new(Rate {
            per_minute: 0,
            burst: 3,
        });
        assert!((0..100).all(|_| off.check(&a).is_ok()));
    }

    #[test]
    fn addresses_from_a_trusted_header_and_ipv6_by_network() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "203.0.113.9, 10.0.0.1".parse().unwrap());
        assert_eq!(forwarded(&h, "x-forwarded-for"), "10.0.0.1".parse().ok());
        h.insert("x-real-ip", "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(forwarded(&h, "X-Real-IP"), "2001:db8::1".parse().ok());
        assert_eq!(forwarded(&h, "x-missing"), None);
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(network(a), network(b));
        assert_eq!(
            network("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn waits_read_in_russian() {
        assert_eq!(wait_ru(1), "1 секунду");
        assert_eq!(wait_ru(3), "3 секунды");
        assert_eq!(wait_ru(11), "11 секунд");
        assert_eq!(wait_ru(21), "21 секунду");
        assert_eq!(wait_ru(600), "10 минут");
        assert_eq!(wait_ru(125), "3 минуты");
    }
}
