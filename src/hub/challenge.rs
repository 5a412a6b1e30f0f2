//! The anti-auto-click task shown with a prompt: "press 47" among three numbers, in a random
//! order, with a random layout variant.
//!
//! It is not a secret (the page shows `ask`); it only defeats the public scripts that click
//! the one fixed «Подтвердить» button. It is derived from the prompt id (random 64 bits unless
//! an id is given), so every node and a restarted server produce the same task without storing
//! or shipping it.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::protocol::Challenge;

const PREFIX: &[u8] = b"yavka prompt challenge v1\0";

/// The challenge and the layout variant (0..4) of prompt `id`.
pub fn for_prompt(id: &str) -> (Challenge, u8) {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(PREFIX)
        .chain_update(id.as_bytes())
        .finalize()
        .into();
    let mut rng = ChaCha8Rng::from_seed(seed);
    let mut numbers: Vec<u32> = Vec::with_capacity(3);
    while numbers.len() < 3 {
        let n = rng.random_range(10..100);
        if !numbers.contains(&n) {
            numbers.push(n);
        }
    }
    let ask = numbers[rng.random_range(0..3)];
    numbers.shuffle(&mut rng);
    let variant = rng.random_range(0..4u8);
    let challenge = Challenge {
        ask: ask.to_string(),
        choices: numbers.iter().map(u32::to_string).collect(),
    };
    (challenge, variant)
}

/// Whether `answer` solves the challenge (surrounding spaces ignored).
pub fn is_right(challenge: &Challenge, answer: &str) -> bool {
    answer.trim() == challenge.ask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_prompt_same_challenge_everywhere() {
        assert_eq!(
            for_prompt("a1b2c3d4e5f60718"),
            for_prompt("a1b2c3d4e5f60718")
        );
    }

    #[test]
    fn three_distinct_two_digit_choices_including_the_ask() {
        for i in 0..200 {
            let (c, variant) = for_prompt(&format!("p{i}"));
            assert!(variant < 4);
            assert_eq!(c.choices.len(), 3);
            assert!(c.choices.contains(&c.ask));
            let mut d = c.choices.clone();
            d.dedup();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), 3);
            assert!(c.choices.iter().all(|s| s.len() == 2));
        }
    }

    #[test]
    fn the_ask_moves_around_and_prompts_differ() {
        let positions: std::collections::HashSet<usize> = (0..100)
            .map(|i| {
                let (c, _) = for_prompt(&format!("p{i}"));
                c.choices.iter().position(|x| *x == c.ask).unwrap()
            })
            .collect();
        assert_eq!(positions.len(), 3);
        assert_ne!(for_prompt("p1").0, for_prompt("p2").0);
    }

    #[test]
    fn checks_the_answer() {
        let (c, _) = for_prompt("p1");
        assert!(is_right(&c, &c.ask));
        assert!(is_right(&c, &format!(" {} ", c.ask)));
        let wrong = c.choices.iter().find(|x| **x != c.ask).unwrap();
        assert!(!is_right(&c, wrong));
        assert!(!is_right(&c, ""));
    }
}
