//! Random ids and secret tokens: the one place the server draws randomness to name things.
//!
//! Everything here comes from the OS-seeded CSPRNG, so ids cannot be guessed from one another.
//! Tokens are 192 random bits; only their SHA-256 ([`token_hash`]) is stored, so a leaked
//! database does not open anyone's personal link. Lower layers (the hub, the mail worker) and the
//! API all take them from here.

use rand::RngExt;
use sha2::{Digest, Sha256};

/// `bytes` random bytes in lower-case hex (so twice as many characters).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    hex::encode(buf)
}

/// A fresh unguessable token (192 bits, hex).
pub fn new_token() -> String {
    random_hex(24)
}

/// What the store keeps instead of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new viewer's id: `v-` and 64 random bits.
pub fn new_viewer_id() -> String {
    format!("v-{}", random_hex(8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_hex_of_the_asked_length() {
        let a = random_hex(16);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(16));
        assert_eq!(new_token().len(), 48);
        assert_eq!(new_viewer_id().len(), 18);
    }

    #[test]
    fn a_token_hash_is_its_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
