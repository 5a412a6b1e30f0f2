//! One НМО code: twelve characters of `A–Z0–9`, checked when parsed, generated from a CSPRNG
//! when a session has no pool.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Length of a code.
pub const CODE_LEN: usize = 12;

pub(super) const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A valid code: exactly 12 of `A–Z0–9`, upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

/// Text that is not a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("Код «{text}» должен состоять ровно из 12 символов, а в нём {len}")]
    Length { text: String, len: usize },
    #[error(
        "В коде «{text}» недопустимый символ «{symbol}»: разрешены только латинские буквы A–Z и цифры 0–9"
    )]
    Symbol { text: String, symbol: char },
    #[error(
        "В коде «{text}» кириллическая буква «{symbol}»: в кодах НМО только латинские буквы A–Z и цифры 0–9"
    )]
    Cyrillic { text: String, symbol: char },
}

impl Code {
    /// Parses a code, ignoring surrounding spaces and accepting lower case (stored upper case).
    pub fn parse(text: &str) -> Result<Code, CodeError> {
        let trimmed = text.trim();
        for c in trimmed.chars() {
            if !c.is_ascii_alphanumeric() {
                // Cyrillic А, В, Е, К, М, Н, О, Р, С, Т, Х look exactly like Latin letters; name
                // the cause, or nobody will see the difference.
                let err = if ('\u{0400}'..='\u{04FF}').contains(&c) {
                    CodeError::Cyrillic {
                        text: trimmed.to_string(),
                        symbol: c,
                    }
                } else {
                    CodeError::Symbol {
                        text: trimmed.to_string(),
                        symbol: c,
                    }
                };
                return Err(err);
            }
        }
        if trimmed.len() != CODE_LEN {
            return Err(CodeError::Length {
                text: trimmed.to_string(),
                len: trimmed.chars().count(),
            });
        }
        Ok(Code(trimmed.to_ascii_uppercase()))
    }

    /// A uniformly random code. Requires a cryptographic generator: codes are credentials worth
    /// credits, so they must not be guessable from other codes.
    pub fn generate<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> Code {
        let mut out = String::with_capacity(CODE_LEN);
        let mut buf = [0u8; 16];
        while out.len() < CODE_LEN {
            rng.fill_bytes(&mut buf);
            for &b in &buf {
                // 252 = 7 × 36: rejecting the top four byte values leaves no modulo bias.
                if b < 252 && out.len() < CODE_LEN {
                    out.push(char::from(ALPHABET[usize::from(b % 36)]));
                }
            }
        }
        Code(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Code {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::parse(s)
    }
}

impl TryFrom<String> for Code {
    type Error = CodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Code::parse(&value)
    }
}

impl From<Code> for String {
    fn from(code: Code) -> String {
        code.0
    }
}
