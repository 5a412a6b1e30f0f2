//! The decisions in force and what they do to a rules verdict: one place that says whether a
//! viewer's session counts once organisers have spoken, so every page, the export, code
//! issuance and certificates agree.
//!
//! The rules' verdict is never changed: [`InForce::credited`] overlays the latest decision on
//! it, and the wording ([`Outcome::title_ru`], [`mark_ru`]) shows both side by side.

use std::collections::HashMap;

use super::decisions::{Decision, MAX_REASON_CHARS, Outcome};
use super::rules::corrections::date_ru;
use super::rules::{Reason, Verdict};

impl Outcome {
    /// `grant` or `withdraw`, as stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Grant => "grant",
            Outcome::Withdraw => "withdraw",
        }
    }

    pub fn parse(code: &str) -> Option<Outcome> {
        match code.trim() {
            "grant" => Some(Outcome::Grant),
            "withdraw" => Some(Outcome::Withdraw),
            _ => None,
        }
    }

    /// «засчитано» or «не засчитано».
    pub fn title_ru(self) -> &'static str {
        match self {
            Outcome::Grant => "засчитано",
            Outcome::Withdraw => "не засчитано",
        }
    }

    /// Whether the session counts under this decision.
    pub fn credits(self) -> bool {
        self == Outcome::Grant
    }
}

/// «решение организатора: засчитано — причина».
pub fn mark_ru(d: &Decision) -> String {
    format!(
        "решение организатора: {} — {}",
        d.outcome.title_ru(),
        d.reason
    )
}

/// «Засчитано — причина»: the decision as a line under «Решение организатора».
pub fn said_ru(d: &Decision) -> String {
    let title = d.outcome.title_ru();
    let mut chars = title.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    format!(
        "{}{} — {}",
        first.unwrap_or_default(),
        chars.as_str(),
        d.reason
    )
}

/// A verdict as a one-table document words it once organisers have spoken (the results CSV,
/// `yavka evaluate --decisions --format csv`): `eligible` is what counts, and the decision in
/// force, if any, is its last reason, «Решение организатора от 12.04.2026: участие засчитано —
/// причина: …». The commission export has a column of its own for it instead.
pub fn worded(v: &Verdict, decided: &InForce, tz: &jiff::tz::TimeZone) -> Verdict {
    let mut out = v.clone();
    if let Some(d) = decided.get(&v.viewer, &v.session) {
        out.eligible = d.outcome.credits();
        let what = match d.outcome {
            Outcome::Grant => "участие засчитано",
            Outcome::Withdraw => "участие не засчитано",
        };
        out.reasons.push(Reason {
            ok: out.eligible,
            text: format!(
                "Решение организатора от {}: {what} — причина: {}",
                date_ru(d.at, tz),
                d.reason.trim()
            ),
        });
    }
    out
}

/// A reason as kept: trimmed, required, at most [`MAX_REASON_CHARS`] characters. The error
/// is a Russian sentence for the organiser.
pub fn check_reason(reason: &str) -> Result<String, String> {
    super::text::kept(
        reason,
        MAX_REASON_CHARS,
        "Укажите причину решения: участник увидит её на своей странице.",
        |n| format!("Причина слишком длинная: {n} знаков, можно не больше {MAX_REASON_CHARS}."),
    )
}

/// The latest decision of each (viewer, session): the one in force. Earlier ones stay on
/// record elsewhere; here they are only passed over.
#[derive(Debug, Clone, Default)]
pub struct InForce {
    latest: HashMap<(String, String), Decision>,
}

impl InForce {
    /// From decisions in the order they were recorded: of two for one pair, the later `at`
    /// wins, and of two with the same `at`, the one recorded later.
    pub fn new(decisions: impl IntoIterator<Item = Decision>) -> InForce {
        let mut latest: HashMap<(String, String), Decision> = HashMap::new();
        for d in decisions {
            let key = (d.viewer.clone(), d.session.clone());
            match latest.get(&key) {
                Some(old) if old.at > d.at => {}
                _ => {
                    latest.insert(key, d);
                }
            }
        }
        InForce { latest }
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }

    /// The decision in force for (viewer, session), if any.
    pub fn get(&self, viewer: &str, session: &str) -> Option<&Decision> {
        self.latest.get(&(viewer.to_owned(), session.to_owned()))
    }

    /// Whether the session counts for the viewer: the decision if there is one, else the rules.
    pub fn credited(&self, viewer: &str, session: &str, rules_eligible: bool) -> bool {
        self.get(viewer, session)
            .map_or(rules_eligible, |d| d.outcome.credits())
    }

    /// Every decision in force for `session`.
    pub fn in_session<'a>(&'a self, session: &'a str) -> impl Iterator<Item = &'a Decision> + 'a {
        self.latest.values().filter(move |d| d.session == session)
    }

    /// Who gets a code in `session`: the rules' eligible viewers without a withdrawal, and
    /// every viewer granted credit (even one the rules have no result for). Sorted, no repeats.
    pub fn holders(&self, session: &str, rules_eligible: &[String]) -> Vec<String> {
        let mut out: Vec<String> = rules_eligible
            .iter()
            .filter(|v| self.credited(v, session, true))
            .cloned()
            .chain(
                self.in_session(session)
                    .filter(|d| d.outcome.credits())
                    .map(|d| d.viewer.clone()),
            )
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(viewer: &str, session: &str, outcome: Outcome, at: i64) -> Decision {
        Decision {
            viewer: viewer.into(),
            session: session.into(),
            outcome,
            reason: "сбой трансляции".into(),
            by: "admin".into(),
            at,
            appeal: None,
        }
    }

    #[test]
    fn the_latest_decision_wins_over_the_rules() {
        let f = InForce::new([
            d("anna", "s1", Outcome::Grant, 10),
            d("anna", "s1", Outcome::Withdraw, 20),
            d("petr", "s1", Outcome::Grant, 5),
        ]);
        assert_eq!(f.get("anna", "s1").unwrap().outcome, Outcome::Withdraw);
        assert!(!f.credited("anna", "s1", true));
        assert!(f.credited("petr", "s1", false));
        assert!(f.credited("ivan", "s1", true), "no decision: the rules");
        assert!(!f.credited("ivan", "s1", false));
        assert!(
            !f.credited("petr", "s2", false),
            "a decision is per session"
        );
    }

    #[test]
    fn an_earlier_decision_recorded_later_does_not_win() {
        let f = InForce::new([
            d("anna", "s1", Outcome::Withdraw, 20),
            d("anna", "s1", Outcome::Grant, 10),
        ]);
        assert_eq!(f.get("anna", "s1").unwrap().outcome, Outcome::Withdraw);
        let same = InForce::new([
            d("anna", "s1", Outcome::Withdraw, 20),
            d("anna", "s1", Outcome::Grant, 20),
        ]);
        assert_eq!(same.get("anna", "s1").unwrap().outcome, Outcome::Grant);
    }

    #[test]
    fn code_holders_follow_the_decisions() {
        let f = InForce::new([
            d("anna", "s1", Outcome::Withdraw, 1),
            d("petr", "s1", Outcome::Grant, 1),
            d("olga", "s2", Outcome::Grant, 1),
        ]);
        let rules = vec!["anna".to_owned(), "ivan".to_owned(), "petr".to_owned()];
        assert_eq!(f.holders("s1", &rules), ["ivan", "petr"]);
        assert_eq!(f.holders("s2", &[]), ["olga"]);
    }

    #[test]
    fn reasons_are_required_and_bounded() {
        assert!(
            check_reason("  ")
                .unwrap_err()
                .starts_with("Укажите причину")
        );
        assert_eq!(check_reason(" сбой ").unwrap(), "сбой");
        let long = "я".repeat(MAX_REASON_CHARS + 1);
        assert!(check_reason(&long).unwrap_err().contains("слишком длинная"));
        assert!(check_reason(&"я".repeat(MAX_REASON_CHARS)).is_ok());
    }

    #[test]
    fn outcomes_round_trip_and_read_in_russian() {
        for o in [Outcome::Grant, Outcome::Withdraw] {
            assert_eq!(Outcome::parse(o.code()), Some(o));
        }
        assert_eq!(Outcome::parse("maybe"), None);
        let mark = mark_ru(&d("anna", "s1", Outcome::Grant, 1));
        assert_eq!(mark, "решение организатора: засчитано — сбой трансляции");
        let said = said_ru(&d("anna", "s1", Outcome::Withdraw, 1));
        assert_eq!(said, "Не засчитано — сбой трансляции");
    }
}
