//! Importing a pool file the accreditation commission sent for a session: all or nothing,
//! with every bad line listed (the organiser fixes the file and loads it whole again).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Code, CodeBook, Holder, PoolStatus};

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

impl CodeBook {
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
}
