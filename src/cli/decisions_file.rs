//! The decisions file that travels with the log: JSON Lines of [`Record`], one decision or
//! correction per line, written by `yavka export-log --decisions` and read by `yavka evaluate
//! --decisions`, so the offline evaluation equals the server's.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};

use crate::domain::decisions::{Correction, Decision, Outcome, Record};
use crate::domain::rules::{Reason, Verdict};
use crate::domain::time::Millis;

/// Writes `records`, one JSON object per line.
pub fn write<W: Write>(out: &mut W, records: &[Record]) -> io::Result<()> {
    for r in records {
        serde_json::to_writer(&mut *out, r)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// What a decisions file holds.
#[derive(Debug, Default)]
pub struct Records {
    pub decisions: Vec<Decision>,
    pub corrections: Vec<Correction>,
}

/// Reads a decisions file; a line that is not a record stops the reading, and the error names
/// its number (from 1) and why, in Russian. Blank lines are allowed.
pub fn read<R: BufRead>(input: R) -> Result<Records, String> {
    let mut out = Records::default();
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("строка {}: не прочитана ({e})", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(&line) {
            Ok(Record::Decision(d)) => out.decisions.push(d),
            Ok(Record::Correction(c)) => out.corrections.push(c),
            Err(e) => {
                return Err(format!(
                    "строка {}: это не решение и не поправка ({e})",
                    n + 1
                ));
            }
        }
    }
    Ok(out)
}

/// The decision in force for each (viewer, session): the latest by `at` (the later line when
/// two share an instant).
fn in_force(decisions: &[Decision]) -> HashMap<(&str, &str), &Decision> {
    let mut out: HashMap<(&str, &str), &Decision> = HashMap::new();
    for d in decisions {
        let key = (d.viewer.as_str(), d.session.as_str());
        if out.get(&key).is_none_or(|e| e.at <= d.at) {
            out.insert(key, d);
        }
    }
    out
}

/// One output row: the rules' verdict with the decision in force beside it. `eligible` is the
/// final answer (the decision's when there is one); `rules_eligible` stays what the rules said.
#[derive(Debug, serde::Serialize)]
pub struct Decided<'a> {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub rules_eligible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<&'a Decision>,
}

/// Applies the decisions in force on top of the verdicts: a decision's outcome sets `eligible`
/// and adds its reason, «Решение организатора от 12.04.2026: …», after the rules' own.
pub fn overlay<'a>(
    verdicts: Vec<Verdict>,
    decisions: &'a [Decision],
    tz: &jiff::tz::TimeZone,
) -> Vec<Decided<'a>> {
    let force = in_force(decisions);
    verdicts
        .into_iter()
        .map(|mut v| {
            let rules_eligible = v.eligible;
            let decision = force.get(&(v.viewer.as_str(), v.session.as_str())).copied();
            if let Some(d) = decision {
                v.eligible = d.outcome == Outcome::Grant;
                v.reasons.push(Reason {
                    ok: v.eligible,
                    text: words(d, tz),
                });
            }
            Decided {
                verdict: v,
                rules_eligible,
                decision,
            }
        })
        .collect()
}

fn words(d: &Decision, tz: &jiff::tz::TimeZone) -> String {
    let what = match d.outcome {
        Outcome::Grant => "участие засчитано",
        Outcome::Withdraw => "участие не засчитано",
    };
    format!(
        "Решение организатора от {}: {what} — причина: {}",
        date(d.at, tz),
        d.reason.trim()
    )
}

fn date(t: Millis, tz: &jiff::tz::TimeZone) -> String {
    crate::domain::rules::corrections::date_ru(t, tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(viewer: &str, outcome: Outcome, at: Millis) -> Decision {
        Decision {
            viewer: viewer.into(),
            session: "s1".into(),
            outcome,
            reason: "Сбой у провайдера".into(),
            by: "admin".into(),
            at,
            appeal: None,
        }
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let text = "{\"kind\":\"correction\",\"session\":\"s1\",\"change\":\"void_prompt\",\
                    \"prompt\":\"p2\",\"reason\":\"Сбой\",\"by\":\"admin\",\"at\":1}\n\n{\"kind\":\"x\"}\n";
        let err = read(text.as_bytes()).unwrap_err();
        assert!(
            err.starts_with("строка 3: это не решение и не поправка"),
            "{err}"
        );
        let ok = read(text.lines().next().unwrap().as_bytes()).unwrap();
        assert_eq!(ok.corrections.len(), 1);
    }

    #[test]
    fn the_latest_decision_is_in_force() {
        let ds = [
            decision("anna", Outcome::Grant, 20),
            decision("anna", Outcome::Withdraw, 10),
        ];
        assert_eq!(in_force(&ds)[&("anna", "s1")].outcome, Outcome::Grant);
    }
}
