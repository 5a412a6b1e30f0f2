//! НМО codes (ИКП): generation, imported pools and issuance.
//!
//! Each eligible (viewer, session) gets one 12-character code of `A–Z0–9`, which the viewer
//! enters on the Ministry's portal. Codes either come from a pool the accreditation commission
//! sent for the session, or, for a session that never had a pool, are generated from a CSPRNG.
//!
//! The [`CodeBook`] is plain data. Its guarantees are what an organiser must be able to promise:
//! a code once issued never changes, no code is ever given to two people (or to two sessions),
//! and a failed import or issuance changes nothing. It serialises as its parts (issued codes and
//! pools), and deserialising re-checks those guarantees, just as [`CodeBook::from_parts`] does
//! for a store rebuilding it from rows.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

mod code;
mod pool;

pub use code::{CODE_LEN, Code, CodeError};
pub use pool::{LineProblem, PoolError, PoolImport};

/// One issued code, as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IssuedCode {
    pub session: String,
    pub viewer: String,
    pub code: Code,
}

/// Everything a [`CodeBook`] is made of; the form it is persisted in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeBookParts {
    /// Sorted by session, then viewer.
    pub issued: Vec<IssuedCode>,
    /// Every code ever imported for each session, in import order, used or not.
    pub pools: BTreeMap<String, Vec<Code>>,
}

/// Where a code returned by [`CodeBook::issue`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Issued earlier and unchanged.
    Existing,
    /// Newly taken from the session's pool.
    Pool,
    /// Newly generated.
    Generated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub viewer: String,
    pub code: Code,
    pub source: Source,
}

impl Issued {
    pub fn is_new(&self) -> bool {
        self.source != Source::Existing
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolStatus {
    pub size: usize,
    pub used: usize,
    pub left: usize,
}

/// Who holds a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<'a> {
    Issued {
        session: &'a str,
        viewer: &'a str,
    },
    /// In a session's pool, not issued yet.
    Pooled {
        session: &'a str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    #[error(
        "Для сессии «{session}» не хватает кодов в пуле: нужно {needed}, осталось {available}; \
         ни один код не выдан — загрузите дополнительные коды и повторите выдачу"
    )]
    PoolExhausted {
        session: String,
        needed: usize,
        available: usize,
    },
}

/// Persisted parts that break a guarantee.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    #[error("Код {code} встречается дважды: {first} и {second}")]
    DuplicateCode {
        code: Code,
        first: String,
        second: String,
    },
    #[error("Участнику «{viewer}» в сессии «{session}» выдано два кода: {first} и {second}")]
    TwoCodes {
        session: String,
        viewer: String,
        first: Code,
        second: Code,
    },
}

/// Issued codes and pools of one forum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CodeBookParts", into = "CodeBookParts")]
pub struct CodeBook {
    /// session → viewer → code.
    issued: BTreeMap<String, BTreeMap<String, Code>>,
    /// session → every code imported for it, in import order.
    pools: BTreeMap<String, Vec<Code>>,
    /// Every issued code → (session, viewer).
    holders: BTreeMap<Code, (String, String)>,
    /// Every pooled code → its session.
    pooled: BTreeMap<Code, String>,
}

impl CodeBook {
    pub fn new() -> CodeBook {
        CodeBook::default()
    }

    /// Rebuilds a book from persisted rows, refusing rows that break a guarantee: a code held
    /// twice (by two viewers, or in two pools, or issued in one session while pooled for
    /// another) or two codes for one (viewer, session).
    pub fn from_parts(parts: CodeBookParts) -> Result<CodeBook, RestoreError> {
        let mut book = CodeBook::new();
        for (session, codes) in parts.pools {
            for code in &codes {
                if let Some(other) = book.pooled.insert(code.clone(), session.clone()) {
                    return Err(RestoreError::DuplicateCode {
                        code: code.clone(),
                        first: format!("пул сессии «{other}»"),
                        second: format!("пул сессии «{session}»"),
                    });
                }
            }
            book.pools.insert(session, codes);
        }
        for row in parts.issued {
            if let Some((s, v)) = book.holders.get(&row.code) {
                return Err(RestoreError::DuplicateCode {
                    code: row.code.clone(),
                    first: format!("выдан «{v}» в сессии «{s}»"),
                    second: format!("выдан «{}» в сессии «{}»", row.viewer, row.session),
                });
            }
            if let Some(pool_session) = book.pooled.get(&row.code)
                && *pool_session != row.session
            {
                return Err(RestoreError::DuplicateCode {
                    code: row.code.clone(),
                    first: format!("пул сессии «{pool_session}»"),
                    second: format!("выдан «{}» в сессии «{}»", row.viewer, row.session),
                });
            }
            let per_session = book.issued.entry(row.session.clone()).or_default();
            if let Some(first) = per_session.get(&row.viewer) {
                return Err(RestoreError::TwoCodes {
                    session: row.session,
                    viewer: row.viewer,
                    first: first.clone(),
                    second: row.code,
                });
            }
            per_session.insert(row.viewer.clone(), row.code.clone());
            book.holders.insert(row.code, (row.session, row.viewer));
        }
        Ok(book)
    }

    /// The persisted form; `from_parts(book.to_parts())` gives the same book.
    pub fn to_parts(&self) -> CodeBookParts {
        let issued = self
            .issued
            .iter()
            .flat_map(|(session, viewers)| {
                viewers.iter().map(move |(viewer, code)| IssuedCode {
                    session: session.clone(),
                    viewer: viewer.clone(),
                    code: code.clone(),
                })
            })
            .collect();
        CodeBookParts {
            issued,
            pools: self.pools.clone(),
        }
    }

    /// Whether the forum already knows `code`, issued or pooled.
    pub fn is_known(&self, code: &Code) -> bool {
        self.holders.contains_key(code) || self.pooled.contains_key(code)
    }

    pub fn code_for(&self, viewer: &str, session: &str) -> Option<&Code> {
        self.issued.get(session)?.get(viewer)
    }

    /// Who holds `code`, for a public verification page.
    pub fn holder(&self, code: &Code) -> Option<Holder<'_>> {
        if let Some((session, viewer)) = self.holders.get(code) {
            return Some(Holder::Issued { session, viewer });
        }
        self.pooled
            .get(code)
            .map(|session| Holder::Pooled { session })
    }

    /// Codes issued for `session`, by viewer.
    pub fn issued_in(&self, session: &str) -> impl Iterator<Item = (&str, &Code)> {
        self.issued
            .get(session)
            .into_iter()
            .flat_map(|m| m.iter().map(|(v, c)| (v.as_str(), c)))
    }

    /// `None` when the session never had a pool (its codes are generated).
    pub fn pool_status(&self, session: &str) -> Option<PoolStatus> {
        let pool = self.pools.get(session)?;
        let used = pool
            .iter()
            .filter(|c| self.holders.contains_key(*c))
            .count();
        Some(PoolStatus {
            size: pool.len(),
            used,
            left: pool.len() - used,
        })
    }

    /// Gives every eligible viewer of `session` a code and returns them all, in the given order
    /// (duplicates dropped). Viewers who already have one keep it ([`Source::Existing`]). New
    /// codes come from the session's pool in import order if it ever had a pool, else are
    /// generated. If the pool has too few unused codes, nothing at all is issued.
    pub fn issue<R: rand::CryptoRng + ?Sized>(
        &mut self,
        session: &str,
        eligible_viewers: &[String],
        rng: &mut R,
    ) -> Result<Vec<Issued>, IssueError> {
        let mut seen = BTreeSet::new();
        let viewers: Vec<&String> = eligible_viewers
            .iter()
            .filter(|v| seen.insert(v.as_str()))
            .collect();
        let needed = viewers
            .iter()
            .filter(|v| self.code_for(v, session).is_none())
            .count();

        let mut fresh: Vec<(Code, Source)> = Vec::with_capacity(needed);
        if let Some(pool) = self.pools.get(session) {
            fresh.extend(
                pool.iter()
                    .filter(|c| !self.holders.contains_key(*c))
                    .take(needed)
                    .map(|c| (c.clone(), Source::Pool)),
            );
            if fresh.len() < needed {
                return Err(IssueError::PoolExhausted {
                    session: session.to_string(),
                    needed,
                    available: fresh.len(),
                });
            }
        } else {
            let mut batch = BTreeSet::new();
            while fresh.len() < needed {
                let code = Code::generate(rng);
                // A collision is astronomically unlikely (36^12 ≈ 4.7·10^18), but uniqueness is
                // a promise, not a probability.
                if !self.is_known(&code) && batch.insert(code.clone()) {
                    fresh.push((code, Source::Generated));
                }
            }
        }

        // Nothing can fail from here on.
        let mut fresh = fresh.into_iter();
        let mut out = Vec::with_capacity(viewers.len());
        for viewer in viewers {
            if let Some(code) = self.code_for(viewer, session) {
                out.push(Issued {
                    viewer: viewer.clone(),
                    code: code.clone(),
                    source: Source::Existing,
                });
                continue;
            }
            let Some((code, source)) = fresh.next() else {
                unreachable!("one fresh code was prepared per viewer without one");
            };
            self.issued
                .entry(session.to_string())
                .or_default()
                .insert(viewer.clone(), code.clone());
            self.holders
                .insert(code.clone(), (session.to_string(), viewer.clone()));
            out.push(Issued {
                viewer: viewer.clone(),
                code,
                source,
            });
        }
        Ok(out)
    }
}

impl TryFrom<CodeBookParts> for CodeBook {
    type Error = RestoreError;
    fn try_from(parts: CodeBookParts) -> Result<Self, Self::Error> {
        CodeBook::from_parts(parts)
    }
}

impl From<CodeBook> for CodeBookParts {
    fn from(book: CodeBook) -> CodeBookParts {
        book.to_parts()
    }
}

#[cfg(test)]
mod tests;
