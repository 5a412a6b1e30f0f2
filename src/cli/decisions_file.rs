//! The decisions file that travels with the log: JSON Lines of [`Record`], one decision or
//! correction per line, written by `yavka export-log --decisions` and read by `yavka evaluate
//! --decisions`, so the offline evaluation equals the server's.

use std::io::{self, BufRead, Write};

use crate::domain::decided::InForce;
use crate::domain::decisions::{Correction, Decision, Record};
use crate::domain::rules::Verdict;

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

/// One output row, shaped as the server's results (`/api/org/results`): the rules' verdict as
/// it is (`eligible` stays what the rules said), `credited` — what counts once the decision in
/// force is applied — and that decision. The CSV words it with [`crate::domain::decided::worded`].
#[derive(Debug, serde::Serialize)]
pub struct Decided {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub credited: bool,
    pub decision: Option<Decision>,
}

/// Lays the decisions in force (the server's [`InForce`]: the latest per viewer and session)
/// beside the verdicts.
pub fn overlay(verdicts: Vec<Verdict>, decisions: &[Decision]) -> Vec<Decided> {
    let force = InForce::new(decisions.iter().cloned());
    verdicts
        .into_iter()
        .map(|v| {
            let decision = force.get(&v.viewer, &v.session).cloned();
            Decided {
                credited: force.credited(&v.viewer, &v.session, v.eligible),
                verdict: v,
                decision,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::decided::worded;
    use crate::domain::decisions::Outcome;
    use crate::domain::time::Millis;

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
    fn the_latest_decision_wins_over_the_rules_which_stay_beside_it() {
        let verdict = |viewer: &str| Verdict {
            viewer: viewer.into(),
            session: "s1".into(),
            seconds: 0,
            minutes: 0,
            confirmed: 0,
            required: 2,
            prompts: 2,
            shown: 0,
            eligible: false,
            reasons: Vec::new(),
            name: None,
            email: None,
            education: None,
            specialty: None,
        };
        let ds = [
            decision("anna", Outcome::Grant, 20),
            decision("anna", Outcome::Withdraw, 10),
        ];
        let rows = overlay(vec![verdict("anna"), verdict("petr")], &ds);
        assert!(rows[0].credited && !rows[0].verdict.eligible);
        assert_eq!(rows[0].decision.as_ref().unwrap().at, 20);
        let force = InForce::new(ds.iter().cloned());
        let worded = worded(&rows[0].verdict, &force, &jiff::tz::TimeZone::UTC);
        assert!(worded.eligible);
        assert!(worded.reasons[0].text.contains("участие засчитано"));
        assert!(!rows[1].credited && rows[1].decision.is_none());
    }
}
