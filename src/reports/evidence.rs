//! The evidence report for an appeal: one viewer's connections, active hall over time, every
//! prompt shown in their halls and what they did with it, and each session's verdict with its
//! reasons — as a printable HTML page an organiser can save as PDF and send to the participant
//! or to the commission.
//!
//! [`build`] turns the rules' view of one viewer into lines of text (all times in the forum's
//! zone, to the second); [`render_html`] prints them. Every value is HTML-escaped. What became
//! of each prompt is the rules' own status and wording (`rules::prompts`), as everywhere else.

use std::fmt::Write;

use super::{clock_seconds, date_ru, hall_title, session_when, zone_label};
use crate::domain::decided::{InForce, said_ru};
use crate::domain::forum::Education;
use crate::domain::rules::facts::ViewerFacts;
use crate::domain::rules::{
    Facts, Plan, Reason, Status, ViewerEvaluation, confirmations_ru, prompts,
};
use crate::domain::time::{MINUTE, Millis, measure};

/// Who the report is about, as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerInfo {
    pub id: String,
    pub name: String,
    pub email: String,
    pub education: Option<Education>,
    pub specialty: String,
    /// Further rows of the participant's table (the viewer's own copy of their data shows
    /// phone, СНИЛС and consents; the organiser's report does not need them).
    pub more: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnLine {
    pub hall: String,
    pub start: String,
    pub end: String,
    /// «закрыто» or «обрыв: последний признак жизни».
    pub ending: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveLine {
    pub hall: String,
    pub start: String,
    pub end: String,
    pub minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptLine {
    pub id: String,
    pub hall: String,
    /// The session the prompt belonged to, if any.
    pub session: String,
    pub shown: String,
    pub closes: String,
    pub status: Status,
    /// The status in the rules' words.
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLine {
    pub title: String,
    pub when: String,
    pub min_minutes: i64,
    pub minutes: i64,
    /// Counted stretches, `10:00:00–10:30:00`.
    pub counted: Vec<String>,
    /// «Подтверждено 1 из 2 показанных (нужно 2)».
    pub confirmations: String,
    pub eligible: bool,
    pub reasons: Vec<Reason>,
    pub code: Option<String>,
    /// The organiser's decision in force, shown beside the rules' verdict: whether the
    /// session counts, and «Засчитано — причина».
    pub decision: Option<(bool, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceReport {
    pub forum_title: String,
    pub zone: String,
    pub generated: String,
    pub viewer: ViewerInfo,
    pub connections: Vec<ConnLine>,
    pub active: Vec<ActiveLine>,
    pub prompts: Vec<PromptLine>,
    pub sessions: Vec<SessionLine>,
    /// Integrity flags (`domain::flags`): each reason's heading and sentence. `None` where the
    /// report does not show them (the viewer's own copy, which must not name other viewers).
    pub flags: Option<Vec<(String, String)>>,
}

/// The report of one viewer. `v` and `eval` come from `facts` (the viewer's own events plus
/// every prompt) judged with `plan`; `codes` are the viewer's (session, code); `now` is when it
/// is generated; `decided` holds the organisers' decisions in force.
pub fn build(
    plan: &Plan,
    facts: &Facts,
    v: Option<(&ViewerFacts, &ViewerEvaluation)>,
    viewer: ViewerInfo,
    codes: &[(String, String)],
    decided: &InForce,
    now: Millis,
) -> EvidenceReport {
    let forum = plan.forum;
    let tz = forum.tz();
    let at = |t: Millis| format!("{} {}", date_ru(t, &tz), clock_seconds(t, &tz));
    let hall = |h: u32| hall_title(forum, facts.halls[h as usize]).to_owned();
    let mut report = EvidenceReport {
        forum_title: forum.title.clone(),
        zone: zone_label(forum, now),
        generated: at(now),
        viewer,
        connections: Vec::new(),
        active: Vec::new(),
        prompts: Vec::new(),
        sessions: Vec::new(),
        flags: None,
    };
    let Some((v, eval)) = v else {
        return report;
    };
    report.connections = v
        .conns
        .iter()
        .map(|c| ConnLine {
            hall: hall(c.hall),
            start: at(c.start),
            end: at(c.end),
            ending: if c.closed {
                "закрыто"
            } else {
                "обрыв: последний признак жизни"
            },
        })
        .collect();
    report.active = eval
        .active
        .iter()
        .map(|a| ActiveLine {
            hall: hall(a.hall),
            start: at(a.span.start),
            end: at(a.span.end),
            minutes: a.span.len() / MINUTE,
        })
        .collect();

    for o in prompts::for_viewer(plan, facts, v, eval, &tz) {
        let p = &facts.prompts[o.prompt as usize];
        report.prompts.push(PromptLine {
            id: p.id.to_owned(),
            hall: hall(p.hall),
            session: plan
                .sessions
                .iter()
                .find(|ps| ps.prompts.contains(&o.prompt))
                .map_or(String::new(), |ps| ps.session.title.clone()),
            shown: at(p.ts),
            closes: clock_seconds(p.closes, &tz),
            status: o.status(),
            outcome: o.label(forum, facts, &tz),
        });
    }

    for r in &eval.sessions {
        let Some(s) = forum.session(&r.session) else {
            continue;
        };
        debug_assert_eq!(measure(&r.counted), r.counted_ms);
        report.sessions.push(SessionLine {
            title: s.title.clone(),
            when: session_when(s, &tz),
            // The minimum as the rules applied it: a correction may have lowered it.
            min_minutes: plan
                .index_of(&s.id)
                .map_or(s.min_minutes.into(), |i| plan.sessions[i].min_minutes()),
            minutes: r.minutes(),
            counted: r
                .counted
                .iter()
                .map(|c| {
                    format!(
                        "{}–{}",
                        clock_seconds(c.start, &tz),
                        clock_seconds(c.end, &tz)
                    )
                })
                .collect(),
            confirmations: confirmations_ru(r.confirmed, r.shown, r.required),
            eligible: r.eligible,
            reasons: r.reasons.clone(),
            code: codes
                .iter()
                .find(|(session, _)| *session == s.id)
                .map(|(_, c)| c.clone()),
            decision: decided
                .get(&report.viewer.id, &s.id)
                .map(|d| (d.outcome.credits(), said_ru(d))),
        });
    }
    report
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:11pt;margin:2em;color:#111}\
h1{font-size:16pt;margin:0 0 .2em}h2{font-size:13pt;margin:1.4em 0 .4em;border-bottom:1px solid #999}\
table{border-collapse:collapse;width:100%;margin:.3em 0}th,td{border:1px solid #bbb;padding:.2em .4em;\
text-align:left;vertical-align:top;font-size:10pt}th{background:#eef2f6}.ok{color:#155724}.no{color:#8a1c1c}\
.muted{color:#555;font-size:9.5pt}ul{margin:.2em 0 .2em 1.2em;padding:0}ul.checks{list-style:none;margin-left:0}\
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}\
@media (max-width:600px){body{margin:.6em}td{overflow-wrap:anywhere}\
th,td{font-size:8.5pt;padding:.15em .25em}}";

/// The report as a self-contained printable page (no scripts, no external files).
pub fn render_html(r: &EvidenceReport) -> String {
    let e = escape;
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Отчёт о присутствии — {name}</title><style>{STYLE}</style></head><body><main>\
         <h1>Отчёт о присутствии участника</h1><p>{forum}</p>\
         <p class=\"muted\">Все времена — {zone}. Отчёт сформирован {generated} по журналу \
         подключений и подтверждений тем же расчётом, что и итоговые результаты.</p>\
         <h2>Участник</h2><table><tr><th>ФИО</th><td>{name}</td></tr>\
         <tr><th>ID</th><td>{id}</td></tr><tr><th>E-mail</th><td>{email}</td></tr>\
         <tr><th>Уровень образования</th><td>{edu}</td></tr>\
         <tr><th>Специальность</th><td>{spec}</td></tr>{more}</table>",
        name = e(&r.viewer.name),
        forum = e(&r.forum_title),
        zone = e(&r.zone),
        generated = e(&r.generated),
        id = e(&r.viewer.id),
        email = e(&r.viewer.email),
        edu = r.viewer.education.map_or("", |x| x.label_ru()),
        spec = e(&r.viewer.specialty),
        more = r
            .viewer
            .more
            .iter()
            .map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", e(k), e(v)))
            .collect::<String>(),
    );

    h.push_str("<h2>Итоги по сессиям</h2>");
    if r.sessions.is_empty() {
        h.push_str("<p>Ни в одной сессии нет засчитанного времени или подтверждений.</p>");
    }
    for s in &r.sessions {
        let (class, verdict) = if s.eligible {
            ("ok", "Условия выполнены")
        } else {
            ("no", "Условия не выполнены")
        };
        let _ = write!(
            h,
            "<h3>{title} <span class=\"muted\">{when}</span></h3><table>\
             <tr><th>Итог</th><td class=\"{class}\">{verdict}</td></tr>\
             <tr><th>Засчитано минут</th><td>{minutes} из {min}</td></tr>\
             <tr><th>Подтверждения</th><td>{confirmations}</td></tr>\
             <tr><th>Засчитанное время</th><td>{counted}</td></tr>\
             <tr><th>Условия</th><td><ul class=\"checks\">{reasons}</ul></td></tr>\
             {decision}<tr><th>Код НМО</th><td>{code}</td></tr></table>",
            title = e(&s.title),
            when = e(&s.when),
            minutes = s.minutes,
            min = s.min_minutes,
            confirmations = e(&s.confirmations),
            counted = if s.counted.is_empty() {
                "—".to_owned()
            } else {
                e(&s.counted.join(", "))
            },
            reasons = s
                .reasons
                .iter()
                .map(|x| {
                    let (class, mark, said) = if x.ok {
                        ("ok", "✓", "выполнено")
                    } else {
                        ("no", "✗", "не выполнено")
                    };
                    format!(
                        "<li class=\"{class}\"><span role=\"img\" aria-label=\"{said}\">{mark}</span> {}</li>",
                        e(&x.text)
                    )
                })
                .collect::<String>(),
            code = s.code.as_deref().map_or("не выдан".to_owned(), e),
            decision = s.decision.as_ref().map_or(String::new(), |(credits, mark)| {
                format!(
                    "<tr><th>Решение организатора</th><td class=\"{}\">{}</td></tr>",
                    if *credits { "ok" } else { "no" },
                    e(mark)
                )
            }),
        );
    }

    h.push_str(
        "<h2>Окна «Подтвердить участие»</h2><table><tr><th>Показано в зале</th><th>Закрылось</th>\
         <th>Зал</th><th>Сессия</th><th>Окно</th><th>Итог для участника</th></tr>",
    );
    for p in &r.prompts {
        let class = match p.status {
            Status::Confirmed => "ok",
            Status::NotConfirmed => "no",
            _ => "muted",
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
            e(&p.shown),
            e(&p.closes),
            e(&p.hall),
            e(&p.session),
            e(&p.id),
            e(&p.outcome)
        );
    }
    if r.prompts.is_empty() {
        h.push_str("<tr><td colspan=\"6\">Окон в залах участника не было.</td></tr>");
    }
    h.push_str("</table>");

    h.push_str(
        "<h2>Активный зал по времени</h2><p class=\"muted\">В каждый момент время идёт только \
         в одном зале — в том, что участник открыл последним из открытых.</p><table>\
         <tr><th>С</th><th>По</th><th>Зал</th><th>Минут</th></tr>",
    );
    for a in &r.active {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&a.start),
            e(&a.end),
            e(&a.hall),
            a.minutes
        );
    }
    h.push_str("</table>");

    h.push_str(
        "<h2>Подключения</h2><table><tr><th>Открыто</th><th>Закрыто</th><th>Зал</th>\
         <th>Как закончилось</th></tr>",
    );
    for c in &r.connections {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&c.start),
            e(&c.end),
            e(&c.hall),
            c.ending
        );
    }
    if r.connections.is_empty() {
        h.push_str("<tr><td colspan=\"4\">Подключений не было.</td></tr>");
    }
    h.push_str("</table>");
    if let Some(flags) = &r.flags {
        h.push_str(
            "<h2>Требуют внимания</h2><p class=\"muted\">Признаки того, что отвечал не человек на \
             странице. Сами по себе они не меняют решения: решает организатор.</p>",
        );
        if flags.is_empty() {
            h.push_str("<p>Признаков нет.</p>");
        } else {
            h.push_str("<ul>");
            for (title, text) in flags {
                let _ = write!(h, "<li><strong>{}.</strong> {}</li>", e(title), e(text));
            }
            h.push_str("</ul>");
        }
    }
    h.push_str(
        "<p class=\"muted\">Чтобы сохранить отчёт в PDF, выберите в браузере «Печать» \
         → «Сохранить как PDF».</p></main></body></html>",
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<b>\"Иванова\" & 'Ко'</b>"),
            "&lt;b&gt;&quot;Иванова&quot; &amp; &#39;Ко&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn an_empty_report_renders_and_escapes_the_name() {
        let r = EvidenceReport {
            forum_title: "Форум".into(),
            zone: "Europe/Moscow, UTC+03:00".into(),
            generated: "01.04.2026 12:00:00".into(),
            viewer: ViewerInfo {
                id: "v-1".into(),
                name: "<script>alert(1)</script>".into(),
                email: "a@example.org".into(),
                education: Some(Education::Higher),
                specialty: "рентгенология".into(),
                more: vec![],
            },
            connections: vec![],
            active: vec![],
            prompts: vec![],
            sessions: vec![],
            flags: Some(vec![(
                "Слишком быстрые ответы".into(),
                "3 из 3 <быстрее>".into(),
            )]),
        };
        let html = render_html(&r);
        assert!(html.contains("Требуют внимания") && html.contains("&lt;быстрее&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("Подключений не было"));
        assert!(html.contains("Europe/Moscow, UTC+03:00"));
    }
}
