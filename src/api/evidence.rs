//! What the server observes of a viewer's connection, as integrity evidence (issue 15): the
//! client address as the operator chose to keep it, the browser, and whether the socket came
//! from a browser that loaded this server's player page.
//!
//! "Loaded the page" is a signed cookie the player page (`/watch`) sets: a script that talks to
//! the socket with a personal link but never fetched the page has none. It is not bound to the
//! viewer, because one browser may hold several viewers' tabs; the flag says "no player page",
//! not "someone else's page". The key is shared by every node through the store, so a page
//! served by one node vouches for a socket on another.

use std::net::IpAddr;

use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use axum_extra::extract::cookie::{Cookie, SameSite};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::log::{Evidence, MAX_BROWSER, bounded};
use crate::domain::time::{MINUTE, Millis};
use crate::settings::AddressMode;

const HOUR: Millis = 60 * MINUTE;

/// The player page's cookie.
pub const PAGE_COOKIE: &str = "yavka_page";
/// How long a loaded page vouches for the sockets it opens (a forum day, with room).
const PAGE_VALID: Millis = 36 * HOUR;

/// The installation's evidence key (`Store::secret("evidence")`).
#[derive(Clone)]
pub struct EvidenceKey(Vec<u8>);

impl EvidenceKey {
    pub fn new(secret: &str) -> EvidenceKey {
        EvidenceKey(secret.as_bytes().to_vec())
    }

    fn mac(&self, label: &str, text: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.update(b"|");
        mac.update(text.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The cookie value a page served at `now` carries: the instant and its signature.
    pub fn page_value(&self, now: Millis) -> String {
        format!("{now}.{}", self.mac("page", &now.to_string()))
    }

    /// Whether `value` is a page cookie this installation signed within `PAGE_VALID` of `now`.
    pub fn page_is_valid(&self, value: &str, now: Millis) -> bool {
        let Some((at, sig)) = value.split_once('.') else {
            return false;
        };
        let Ok(t) = at.parse::<Millis>() else {
            return false;
        };
        let fresh = t <= now + HOUR && now - t <= PAGE_VALID;
        // Comparing two hex strings of a MAC the client cannot compute: timing reveals nothing
        // useful, but a constant-time check costs nothing either.
        fresh && constant_eq(sig.as_bytes(), self.mac("page", at).as_bytes())
    }

    /// The address as `mode` keeps it.
    pub fn address(&self, ip: IpAddr, mode: AddressMode) -> String {
        match mode {
            AddressMode::Full => ip.to_string(),
            AddressMode::Truncated => match ip {
                IpAddr::V4(v4) => {
                    let [a, b, c, _] = v4.octets();
                    format!("{a}.{b}.{c}.0/24")
                }
                IpAddr::V6(v6) => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
                }
            },
            AddressMode::Hashed => format!("ключ {}", &self.mac("address", &ip.to_string())[..12]),
        }
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie the player page sets.
pub fn page_cookie(key: &EvidenceKey, now: Millis) -> Cookie<'static> {
    Cookie::build((PAGE_COOKIE, key.page_value(now)))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build()
}

/// What a socket's upgrade request shows: address, browser, page cookie.
pub fn at_connect(
    key: &EvidenceKey,
    mode: AddressMode,
    ip: Option<IpAddr>,
    headers: &HeaderMap,
    page_cookie: Option<&str>,
    now: Millis,
) -> Evidence {
    let browser = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| bounded(b, MAX_BROWSER));
    Evidence {
        address: ip.map(|ip| key.address(ip, mode)),
        browser,
        page_loaded: Some(page_cookie.is_some_and(|v| key.page_is_valid(v, now))),
        ..Evidence::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_cookie_vouches_for_a_day_and_a_made_up_one_never() {
        let key = EvidenceKey::new("k1");
        let now = 1_000 * HOUR;
        let v = key.page_value(now);
        assert!(key.page_is_valid(&v, now + 30 * HOUR));
        assert!(!key.page_is_valid(&v, now + 40 * HOUR));
        assert!(!EvidenceKey::new("k2").page_is_valid(&v, now));
        assert!(!key.page_is_valid(&format!("{now}.00000000000000000000000000000000"), now));
        assert!(!key.page_is_valid("garbage", now));
    }

    #[test]
    fn addresses_full_truncated_or_hashed() {
        let key = EvidenceKey::new("k");
        let v4: IpAddr = "203.0.113.57".parse().unwrap();
        let v6: IpAddr = "2001:db8:abcd:12::7".parse().unwrap();
        assert_eq!(key.address(v4, AddressMode::Full), "203.0.113.57");
        assert_eq!(key.address(v4, AddressMode::Truncated), "203.0.113.0/24");
        assert_eq!(
            key.address(v6, AddressMode::Truncated),
            "2001:db8:abcd::/48"
        );
        let h = key.address(v4, AddressMode::Hashed);
        assert_eq!(h, key.address(v4, AddressMode::Hashed));
        assert!(!h.contains("203"), "{h}");
        assert_ne!(
            h,
            EvidenceKey::new("other").address(v4, AddressMode::Hashed)
        );
    }
}
