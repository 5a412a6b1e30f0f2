//! A participant's certificate: who issues it (the forum's organiser), its number, who it is
//! for, which sessions they earned — date, hall, title, ЗЕТ and the 12-character НМО code of
//! each, with the address where anyone can check that code and a QR code of it — and how to
//! enter a code on the Ministry's portal.
//!
//! A code is issued only to a viewer who met a session's conditions and never changes, so the
//! certificate lists exactly the viewer's issued codes; it needs no re-evaluation of the log.
//! [`certificate`] decides what is listed (plain data, tested as such); `layout` places it on
//! A4 pages as drawing operations, measuring lines in the fonts of `text`; `pdf` draws them with DejaVu Sans embedded (subset to the
//! glyphs used), so Cyrillic shows and can be copied on any machine.

mod layout;
mod pdf;
mod text;

use sha2::{Digest, Sha256};

use super::{clock, date_ru, forum_dates, forum_zone_label, hall_title};
use crate::domain::forum::{Education, Forum, Organiser};
use crate::domain::time::Millis;
use crate::store::{Store, StoreResult, ViewerRow};

pub use pdf::render_pdf;

/// Who the certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// The viewer's id: with the forum's, it fixes the certificate's number.
    pub viewer: String,
    pub name: String,
    pub education: Option<Education>,
    pub specialty: String,
}

impl From<&ViewerRow> for Participant {
    fn from(v: &ViewerRow) -> Participant {
        Participant {
            viewer: v.id.clone(),
            name: v.name.clone(),
            education: Some(v.education),
            specialty: v.specialty.clone(),
        }
    }
}

/// The certificate of a registered viewer from the codes the store holds for them, less those of
/// sessions whose credit an organiser withdrew; `None` while that leaves none. The one way the
/// dashboard, the viewer's page and the mail worker build it.
pub async fn of_viewer(
    store: &Store,
    forum: &Forum,
    viewer: &ViewerRow,
    today: Millis,
    public_url: &str,
) -> StoreResult<Option<Certificate>> {
    let codes = store.certified_codes(&forum.id, &viewer.id).await?;
    Ok((!codes.is_empty()).then(|| certificate(forum, viewer.into(), &codes, today, public_url)))
}

/// One earned session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub session: String,
    /// `01.04.2026`, in the forum's zone.
    pub date: String,
    /// `09:15–14:30`, in the forum's zone.
    pub time: String,
    pub hall: String,
    pub title: String,
    pub credits: u32,
    pub code: String,
    /// This code's own check page: `{public_url}/verify/{code}` (also the QR code's content).
    pub verify_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// `2026-3F9A-C21B-7D04`: the same for one viewer of one forum however often it is made.
    pub number: String,
    /// Who issues it; `None` when the forum's file has no `[organiser]`.
    pub organiser: Option<Organiser>,
    pub forum_title: String,
    pub forum_dates: String,
    /// `Europe/Moscow, UTC+03:00`.
    pub zone: String,
    pub participant: Participant,
    /// In time order.
    pub entries: Vec<Entry>,
    /// `01.05.2026`.
    pub issued_on: String,
    /// Where anyone can check a code: `{public_url}/verify/`.
    pub verify_base: String,
}

impl Certificate {
    pub fn total_credits(&self) -> u32 {
        self.entries.iter().map(|e| e.credits).sum()
    }
}

/// The certificate of a participant holding `codes` (session id, code). Codes of sessions the
/// forum no longer has are left out rather than printed without a date or title.
pub fn certificate(
    forum: &Forum,
    participant: Participant,
    codes: &[(String, String)],
    today: Millis,
    public_url: &str,
) -> Certificate {
    let tz = forum.tz();
    let verify_base = format!("{}/verify/", public_url.trim_end_matches('/'));
    let mut earned: Vec<_> = codes
        .iter()
        .filter_map(|(session, code)| forum.session(session).map(|s| (s, code)))
        .collect();
    earned.sort_by_key(|(s, _)| (s.starts, s.hall.clone()));
    let entries = earned
        .into_iter()
        .map(|(s, code)| Entry {
            session: s.id.clone(),
            date: date_ru(s.starts, &tz),
            time: format!("{}–{}", clock(s.starts, &tz), clock(s.ends, &tz)),
            hall: hall_title(forum, &s.hall).to_owned(),
            title: s.title.clone(),
            credits: s.credits,
            code: code.clone(),
            verify_url: format!("{verify_base}{code}"),
        })
        .collect();
    let year = forum
        .starts()
        .map_or_else(|| date_ru(today, &tz), |t| date_ru(t, &tz));
    Certificate {
        number: certificate_number(&forum.id, &participant.viewer, &year[6..]),
        organiser: forum.organiser.clone(),
        forum_title: forum.title.clone(),
        forum_dates: forum_dates(forum),
        zone: forum_zone_label(forum),
        participant,
        entries,
        issued_on: date_ru(today, &tz),
        verify_base,
    }
}

/// `2026-3F9A-C21B-7D04`: the forum's year and 48 bits of a hash of the forum and the viewer.
/// Stable (a reissued certificate keeps its number), and among even a million participants
/// two numbers coincide with a chance of about one in six hundred thousand.
pub fn certificate_number(forum: &str, viewer: &str, year: &str) -> String {
    let digest = Sha256::digest(format!("{forum}\n{viewer}").as_bytes());
    let hex = hex::encode_upper(&digest[..6]);
    format!("{year}-{}-{}-{}", &hex[0..4], &hex[4..8], &hex[8..12])
}

/// How to enter a code on the portal, in the order a doctor does it.
pub const INSTRUCTION: [&str; 4] = [
    "Войдите в личный кабинет на портале непрерывного медицинского образования \
     edu.rosminzdrav.ru (по СНИЛС и паролю).",
    "Выберите специальность и нажмите «Перейти в мой план». Добавьте мероприятие в план: \
     найдите его по названию и дате. Мероприятие может появиться на портале через несколько \
     дней после окончания форума.",
    "В строке мероприятия нажмите «Ввести код», введите код из таблицы выше и подтвердите. \
     Код — 12 символов: латинские буквы A–Z и цифры 0–9 (буква O и цифра 0 различаются). \
     Для каждой сессии — свой код.",
    "Баллы появятся в портфолио. Если портал не принимает код, напишите организатору, \
     приложив это свидетельство.",
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A certificate of `entries` sessions, for the layout's and the PDF's tests.
    pub(crate) fn sample(entries: usize) -> Certificate {
        Certificate {
            number: "2026-3F9A-C21B-7D04".into(),
            organiser: Some(Organiser {
                name: "MRO — Центр диагностики и телемедицины".into(),
                details: vec!["По всем вопросам: org@mro.live".into()],
            }),
            forum_title: "Форум «Онлайн-диагностика 3.0»".into(),
            forum_dates: "01.04.2026–03.04.2026".into(),
            zone: "Europe/Moscow, UTC+03:00".into(),
            participant: Participant {
                viewer: "v-1".into(),
                name: "Иванова Мария Игоревна".into(),
                education: Some(Education::Higher),
                specialty: "рентгенология".into(),
            },
            entries: (0..entries)
                .map(|i| Entry {
                    session: format!("s{i}"),
                    date: "01.04.2026".into(),
                    time: "09:15–14:30".into(),
                    hall: "Зал №1".into(),
                    title: "Лучевая диагностика: от простого к сложному, очень длинное название"
                        .into(),
                    credits: 6,
                    code: format!("ABCDEF{i:06}"),
                    verify_url: format!("http://127.0.0.1:8080/verify/ABCDEF{i:06}"),
                })
                .collect(),
            issued_on: "01.05.2026".into(),
            verify_base: "http://127.0.0.1:8080/verify/".into(),
        }
    }

    #[test]
    fn the_number_is_stable_per_viewer_and_forum() {
        let a = certificate_number("forum", "v-1", "2026");
        assert_eq!(a, certificate_number("forum", "v-1", "2026"));
        assert_ne!(a, certificate_number("forum", "v-2", "2026"));
        assert_ne!(a, certificate_number("other", "v-1", "2026"));
        assert!(a.starts_with("2026-") && a.len() == 19, "{a}");
    }

    #[test]
    fn each_code_gets_its_own_check_address() {
        let forum = crate::forum_file::load(std::path::Path::new("config/forum.toml")).unwrap();
        let participant = Participant {
            viewer: "v-1".into(),
            name: "Иванова Мария Игоревна".into(),
            education: Some(Education::Higher),
            specialty: "рентгенология".into(),
        };
        let codes = [
            ("day2-hall2".to_owned(), "BBBBBBBBBBBB".to_owned()),
            ("day1-hall1".to_owned(), "AAAAAAAAAAAA".to_owned()),
        ];
        let c = certificate(&forum, participant, &codes, 0, "https://forum.example/");
        let urls: Vec<&str> = c.entries.iter().map(|e| e.verify_url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://forum.example/verify/AAAAAAAAAAAA",
                "https://forum.example/verify/BBBBBBBBBBBB"
            ],
            "in time order"
        );
        assert!(c.number.starts_with("2026-"), "{}", c.number);
        assert_eq!(c.organiser, forum.organiser);
    }
}
