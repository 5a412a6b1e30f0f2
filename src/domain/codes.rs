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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

/// Length of a code.
pub const CODE_LEN: usize = 12;

const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

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

/// Result of a successful pool import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolImport {
    /// Codes added by this import.
    pub added: usize,
    /// Codes in the session's pool after it, used or not.
    pub size: usize,
    /// Unused codes after it.
    pub left: usize,
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

/// One bad line of a pool file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineProblem {
    /// 1-based, as an editor shows it.
    pub line: usize,
    pub problem: String,
}

/// How many line problems an error message lists before summarising the rest.
const PROBLEMS_SHOWN: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("Пул кодов для сессии «{session}» не загружен: в файле нет ни одного кода")]
    Empty { session: String },
    #[error(
        "Пул кодов для сессии «{session}» не загружен, ни один код не добавлен; исправьте файл \
         и загрузите его целиком снова. Ошибки ({}):\n{}",
        problems.len(),
        list_problems(problems)
    )]
    Invalid {
        session: String,
        problems: Vec<LineProblem>,
    },
}

fn list_problems(problems: &[LineProblem]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(PROBLEMS_SHOWN)
        .map(|p| format!("Строка {}: {}", p.line, p.problem))
        .collect();
    if problems.len() > PROBLEMS_SHOWN {
        lines.push(format!("…и ещё {}", problems.len() - PROBLEMS_SHOWN));
    }
    lines.join("\n")
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

    /// Imports a pool file for `session`: one code per line, blank lines skipped. Adds to the
    /// session's pool, after any codes imported before. All or nothing: any bad line, duplicate
    /// within the file or code already known to the forum refuses the whole file, with every
    /// problem listed by line number.
    pub fn import_pool(&mut self, session: &str, text: &str) -> Result<PoolImport, PoolError> {
        let mut problems = Vec::new();
        let mut codes = Vec::new();
        let mut seen: HashMap<Code, usize> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            // Spreadsheet exports often start with a byte-order mark.
            let raw = if i == 0 {
                raw.trim_start_matches('\u{feff}')
            } else {
                raw
            };
            if raw.trim().is_empty() {
                continue;
            }
            let code = match Code::parse(raw) {
                Ok(code) => code,
                Err(e) => {
                    problems.push(LineProblem {
                        line,
                        problem: e.to_string(),
                    });
                    continue;
                }
            };
            if let Some(first) = seen.get(&code) {
                problems.push(LineProblem {
                    line,
                    problem: format!("код {code} уже был в строке {first}"),
                });
                continue;
            }
            if let Some(holder) = self.holder(&code) {
                let whose = match holder {
                    Holder::Issued { session, .. } => format!("уже выдан в сессии «{session}»"),
                    Holder::Pooled { session } => {
                        format!("уже есть в пуле сессии «{session}»")
                    }
                };
                problems.push(LineProblem {
                    line,
                    problem: format!("код {code} {whose}"),
                });
                continue;
            }
            seen.insert(code.clone(), line);
            codes.push(code);
        }
        if !problems.is_empty() {
            return Err(PoolError::Invalid {
                session: session.to_string(),
                problems,
            });
        }
        if codes.is_empty() {
            return Err(PoolError::Empty {
                session: session.to_string(),
            });
        }
        let added = codes.len();
        for code in &codes {
            self.pooled.insert(code.clone(), session.to_string());
        }
        self.pools
            .entry(session.to_string())
            .or_default()
            .extend(codes);
        let status = self.pool_status(session).unwrap_or(PoolStatus {
            size: 0,
            used: 0,
            left: 0,
        });
        Ok(PoolImport {
            added,
            size: status.size,
            left: status.left,
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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::from_seed([42; 32])
    }

    fn viewers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn code(text: &str) -> Code {
        Code::parse(text).unwrap()
    }

    /// Pool text of `n` distinct codes derived from `tag`.
    fn pool_text(tag: char, n: usize) -> String {
        (0..n)
            .map(|i| format!("{tag}{i:011}\n"))
            .collect::<String>()
    }

    /// The guarantees that must hold after any sequence of operations.
    fn check_invariants(book: &CodeBook) {
        let parts = book.to_parts();
        let mut codes = BTreeSet::new();
        for row in &parts.issued {
            assert!(codes.insert(row.code.clone()), "{} issued twice", row.code);
        }
        assert_eq!(CodeBook::from_parts(parts).unwrap(), *book);
    }

    #[test]
    fn code_format() {
        assert_eq!(code(" ab12cd34ef56 ").as_str(), "AB12CD34EF56");
        assert_eq!(code("AB12CD34EF56").to_string(), "AB12CD34EF56");
        assert!(matches!(
            Code::parse("AB12CD34EF5"),
            Err(CodeError::Length { len: 11, .. })
        ));
        assert!(matches!(
            Code::parse("AB12CD34EF567"),
            Err(CodeError::Length { len: 13, .. })
        ));
        assert!(matches!(
            Code::parse("AB12-D34EF56"),
            Err(CodeError::Symbol { symbol: '-', .. })
        ));
        assert!(matches!(
            Code::parse("AB12 D34EF56"),
            Err(CodeError::Symbol { symbol: ' ', .. })
        ));
        // Cyrillic «А» in place of Latin A.
        let e = Code::parse("\u{0410}B12CD34EF56").unwrap_err();
        assert!(matches!(e, CodeError::Cyrillic { .. }));
        assert!(e.to_string().contains("кириллическая"), "{e}");
        assert!(Code::parse("").is_err());
        assert_eq!(
            serde_json::to_string(&code("AB12CD34EF56")).unwrap(),
            "\"AB12CD34EF56\""
        );
        assert!(serde_json::from_str::<Code>("\"short\"").is_err());
    }

    #[test]
    fn generated_codes_are_valid_unique_and_use_every_symbol() {
        let mut rng = rng();
        let mut all = BTreeSet::new();
        let mut counts = [0u32; 36];
        for _ in 0..100_000 {
            let c = Code::generate(&mut rng);
            assert_eq!(Code::parse(c.as_str()).unwrap(), c);
            for b in c.as_str().bytes() {
                let i = ALPHABET.iter().position(|&a| a == b).unwrap();
                counts[i] += 1;
            }
            assert!(all.insert(c));
        }
        // 1.2M symbols, ~33 333 each; a bias of a few percent would show.
        let expected = 1_200_000.0 / 36.0;
        for (i, &n) in counts.iter().enumerate() {
            let dev = (f64::from(n) - expected).abs() / expected;
            assert!(
                dev < 0.02,
                "symbol {} deviates by {dev}",
                ALPHABET[i] as char
            );
        }
    }

    #[test]
    fn generated_issuance_is_idempotent() {
        let mut book = CodeBook::new();
        let mut rng = rng();
        let first = book
            .issue("d1", &viewers(&["ann", "bob", "ann"]), &mut rng)
            .unwrap();
        assert_eq!(first.len(), 2);
        assert!(first.iter().all(|i| i.source == Source::Generated));
        let before = book.clone();

        let again = book
            .issue("d1", &viewers(&["bob", "ann"]), &mut rng)
            .unwrap();
        assert_eq!(book, before, "issuing again changes nothing");
        assert!(again.iter().all(|i| i.source == Source::Existing));
        assert_eq!(again[0].code, first[1].code);
        assert_eq!(again[1].code, first[0].code);

        let more = book
            .issue("d1", &viewers(&["ann", "cat"]), &mut rng)
            .unwrap();
        assert_eq!(more[0].source, Source::Existing);
        assert_eq!(more[1].source, Source::Generated);
        assert!(more[1].is_new());

        // The same viewer gets a different code for another session.
        let other = book.issue("d2", &viewers(&["ann"]), &mut rng).unwrap();
        assert_ne!(other[0].code, first[0].code);
        assert_eq!(book.code_for("ann", "d2"), Some(&other[0].code));
        assert_eq!(
            book.holder(&other[0].code),
            Some(Holder::Issued {
                session: "d2",
                viewer: "ann"
            })
        );
        assert_eq!(book.issued_in("d1").count(), 3);
        check_invariants(&book);
    }

    #[test]
    fn pool_import_and_issuance_in_pool_order() {
        let mut book = CodeBook::new();
        let text = "\u{feff}AAAAAAAAAAA1\r\n\r\n  bbbbbbbbbbb2 \nCCCCCCCCCCC3\n";
        let imp = book.import_pool("d1", text).unwrap();
        assert_eq!(
            imp,
            PoolImport {
                added: 3,
                size: 3,
                left: 3
            }
        );
        assert_eq!(
            book.holder(&code("BBBBBBBBBBB2")),
            Some(Holder::Pooled { session: "d1" })
        );
        let got = book
            .issue("d1", &viewers(&["zed", "amy"]), &mut rng())
            .unwrap();
        assert_eq!(got[0].code, code("AAAAAAAAAAA1"));
        assert_eq!(got[1].code, code("BBBBBBBBBBB2"));
        assert_eq!(got[0].source, Source::Pool);
        assert_eq!(
            book.pool_status("d1"),
            Some(PoolStatus {
                size: 3,
                used: 2,
                left: 1
            })
        );
        assert_eq!(book.pool_status("d2"), None);
        check_invariants(&book);
    }

    #[test]
    fn bad_pool_reports_every_line_and_imports_nothing() {
        let mut book = CodeBook::new();
        book.import_pool("d1", "AAAAAAAAAAA1\n").unwrap();
        let issued = book.issue("d2", &viewers(&["ann"]), &mut rng()).unwrap();
        let before = book.clone();

        let text = format!(
            "XXXXXXXXXXX1\nshort\n\nXXXXXXXXXXX1\nAAAAAAAAAAA1\n{}\nXXXX-XXXXXX2\nXXXXXXXXXXX3\n",
            issued[0].code
        );
        let err = book.import_pool("d3", &text).unwrap_err();
        assert_eq!(book, before, "nothing imported");
        let PoolError::Invalid { problems, .. } = &err else {
            panic!("{err:?}");
        };
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 4, 5, 6, 7]);
        assert!(problems[1].problem.contains("строке 1"), "{problems:?}");
        assert!(problems[2].problem.contains("пуле сессии «d1»"));
        assert!(problems[3].problem.contains("выдан в сессии «d2»"));
        let text = err.to_string();
        assert!(text.contains("Строка 2:"), "{text}");
        assert!(text.contains("ни один код не добавлен"), "{text}");

        assert!(matches!(
            book.import_pool("d3", "\n  \n"),
            Err(PoolError::Empty { .. })
        ));
        assert_eq!(book.pool_status("d3"), None);
    }

    #[test]
    fn long_problem_lists_are_summarised() {
        let mut book = CodeBook::new();
        let text = "bad\n".repeat(30);
        let msg = book.import_pool("d1", &text).unwrap_err().to_string();
        assert!(msg.contains("Ошибки (30)"), "{msg}");
        assert!(msg.contains("…и ещё 10"), "{msg}");
    }

    #[test]
    fn exhausted_pool_issues_nothing() {
        let mut book = CodeBook::new();
        book.import_pool("d1", &pool_text('A', 2)).unwrap();
        book.issue("d1", &viewers(&["ann"]), &mut rng()).unwrap();
        let before = book.clone();
        let err = book
            .issue("d1", &viewers(&["ann", "bob", "cat"]), &mut rng())
            .unwrap_err();
        assert_eq!(
            err,
            IssueError::PoolExhausted {
                session: "d1".into(),
                needed: 2,
                available: 1
            }
        );
        assert!(err.to_string().contains("ни один код не выдан"));
        assert_eq!(book, before);

        // A second import tops the pool up; its codes follow the earlier ones.
        let imp = book.import_pool("d1", &pool_text('B', 5)).unwrap();
        assert_eq!((imp.added, imp.size, imp.left), (5, 7, 6));
        let got = book
            .issue("d1", &viewers(&["ann", "bob", "cat"]), &mut rng())
            .unwrap();
        assert_eq!(got[1].code, code("A00000000001"));
        assert_eq!(got[2].code, code("B00000000000"));
        check_invariants(&book);
    }

    #[test]
    fn restore_refuses_broken_parts_and_serde_round_trips() {
        let mut book = CodeBook::new();
        book.import_pool("d1", &pool_text('A', 3)).unwrap();
        book.issue("d1", &viewers(&["ann", "bob"]), &mut rng())
            .unwrap();
        book.issue("d2", &viewers(&["ann"]), &mut rng()).unwrap();
        let json = serde_json::to_string(&book).unwrap();
        assert_eq!(serde_json::from_str::<CodeBook>(&json).unwrap(), book);

        let good = book.to_parts();
        let mut twice = good.clone();
        twice.issued.push(IssuedCode {
            session: "d2".into(),
            viewer: "cat".into(),
            code: good.issued[0].code.clone(),
        });
        assert!(matches!(
            CodeBook::from_parts(twice),
            Err(RestoreError::DuplicateCode { .. })
        ));

        let mut two_codes = good.clone();
        two_codes.issued.push(IssuedCode {
            session: "d1".into(),
            viewer: "ann".into(),
            code: code("ZZZZZZZZZZZZ"),
        });
        assert!(matches!(
            CodeBook::from_parts(two_codes),
            Err(RestoreError::TwoCodes { .. })
        ));

        let mut cross = good.clone();
        cross.pools.insert("d2".into(), vec![code("A00000000002")]);
        assert!(CodeBook::from_parts(cross).is_err());

        let mut pooled_elsewhere = good;
        pooled_elsewhere.issued.push(IssuedCode {
            session: "d2".into(),
            viewer: "dan".into(),
            code: code("A00000000002"),
        });
        let e = CodeBook::from_parts(pooled_elsewhere).unwrap_err();
        assert!(e.to_string().contains("пул сессии «d1»"), "{e}");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Import(u8, u8, u8),
        Issue(u8, Vec<u8>),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..3, 0u8..4, 0u8..6).prop_map(|(s, tag, n)| Op::Import(s, tag, n)),
            (0u8..3, proptest::collection::vec(0u8..8, 0..6)).prop_map(|(s, v)| Op::Issue(s, v)),
        ]
    }

    proptest! {
        #[test]
        fn no_code_for_two_people_and_issued_codes_never_change(
            ops in proptest::collection::vec(op(), 1..25),
            seed in any::<[u8; 32]>(),
        ) {
            let mut rng = ChaCha20Rng::from_seed(seed);
            let mut book = CodeBook::new();
            let mut ever: BTreeMap<(String, String), Code> = BTreeMap::new();
            for op in ops {
                let before = book.clone();
                match op {
                    Op::Import(s, tag, n) => {
                        // Tags overlap on purpose, so some imports collide and must change nothing.
                        let text: String = (0..n).map(|i| format!("P{tag}{i:010}\n")).collect();
                        if book.import_pool(&format!("s{s}"), &text).is_err() {
                            prop_assert_eq!(&book, &before);
                        }
                    }
                    Op::Issue(s, vs) => {
                        let session = format!("s{s}");
                        let vs: Vec<String> = vs.iter().map(|v| format!("v{v}")).collect();
                        match book.issue(&session, &vs, &mut rng) {
                            Ok(out) => {
                                for i in out {
                                    prop_assert_eq!(book.code_for(&i.viewer, &session), Some(&i.code));
                                }
                            }
                            Err(_) => prop_assert_eq!(&book, &before),
                        }
                    }
                }
                for (session, viewers) in &book.issued {
                    for (viewer, code) in viewers {
                        let key = (session.clone(), viewer.clone());
                        if let Some(old) = ever.get(&key) {
                            prop_assert_eq!(old, code, "issued code changed");
                        }
                        ever.insert(key, code.clone());
                    }
                }
                check_invariants(&book);
            }
        }
    }
}
