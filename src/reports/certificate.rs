//! A participant's certificate: which sessions they earned, with date, hall, title, ЗЕТ and the
//! 12-character НМО code of each, and how to enter a code on the Ministry's portal.
//!
//! A code is issued only to a viewer who met a session's conditions and never changes, so the
//! certificate lists exactly the viewer's issued codes; it needs no re-evaluation of the log.
//! [`certificate`] decides what is listed (plain data, tested as such); [`render_pdf`] lays it
//! out on A4 with DejaVu Sans embedded (subset to the glyphs used), so Cyrillic shows and can
//! be copied on any machine, whether or not it has the font.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

use super::{clock, date_ru, forum_dates, forum_zone_label, hall_title};
use crate::domain::forum::{Education, Forum};
use crate::domain::time::Millis;

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Who the certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub name: String,
    pub education: Option<Education>,
    pub specialty: String,
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
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
        })
        .collect();
    Certificate {
        forum_title: forum.title.clone(),
        forum_dates: forum_dates(forum),
        zone: forum_zone_label(forum),
        participant,
        entries,
        issued_on: date_ru(today, &tz),
        verify_base: format!("{}/verify/", public_url.trim_end_matches('/')),
    }
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

// ---- layout --------------------------------------------------------------------------------

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 50.0;
const BOTTOM: f32 = PAGE_H - 60.0;

/// Something to draw, in points from the page's top-left corner (krilla's orientation).
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
    },
    Shade(Rect),
}

/// Measures text with the embedded fonts' advances (no kerning: a little slack in wrapping).
fn width(text: &str, size: f32, bold: bool) -> f32 {
    let Ok(font) = skrifa::FontRef::new(if bold { BOLD } else { REGULAR }) else {
        return text.chars().count() as f32 * size * 0.6;
    };
    let cmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
    text.chars()
        .map(|c| {
            cmap.map(c)
                .and_then(|g| metrics.advance_width(g))
                .unwrap_or(size * 0.6)
        })
        .sum()
}

/// Greedy word wrap to `max` points; a word longer than a line gets a line of its own.
fn wrap(text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && width(&candidate, size, bold) > max {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages of drawing operations, with a cursor that moves down and turns pages.
struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            pages: vec![Vec::new()],
            y: MARGIN + 20.0,
        }
    }

    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn room(&mut self, height: f32) -> bool {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN + 10.0;
            return false;
        }
        true
    }

    fn text_at(&mut self, x: f32, size: f32, bold: bool, text: &str) {
        self.push(Op::Text {
            x,
            y: self.y,
            size,
            bold,
            text: text.to_owned(),
        });
    }

    /// A wrapped paragraph, left-aligned or centred.
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, centred: bool) {
        let max = PAGE_W - 2.0 * MARGIN;
        for line in wrap(text, size, bold, max) {
            self.room(size * 1.4);
            let x = if centred {
                (PAGE_W - width(&line, size, bold)) / 2.0
            } else {
                MARGIN
            };
            self.text_at(x, size, bold, &line);
            self.y += size * 1.4;
        }
    }

    fn gap(&mut self, points: f32) {
        self.y += points;
    }

    fn rule(&mut self, y: f32) {
        self.push(Op::Line {
            x1: MARGIN,
            y1: y,
            x2: PAGE_W - MARGIN,
            y2: y,
        });
    }
}

/// Column x positions and widths of the codes table.
const COLUMNS: [(f32, &str); 6] = [
    (62.0, "Дата"),
    (64.0, "Время"),
    (50.0, "Зал"),
    (186.0, "Сессия"),
    (30.0, "ЗЕТ"),
    (103.28, "Код НМО"),
];

fn column_x(i: usize) -> f32 {
    MARGIN + COLUMNS[..i].iter().map(|(w, _)| w).sum::<f32>()
}

fn table_header(l: &mut Layout) {
    l.room(22.0);
    let top = l.y;
    if let Some(r) = Rect::from_xywh(MARGIN, top, PAGE_W - 2.0 * MARGIN, 18.0) {
        l.push(Op::Shade(r));
    }
    l.y = top + 12.5;
    for (i, (_, name)) in COLUMNS.iter().enumerate() {
        l.text_at(column_x(i) + 3.0, 9.0, true, name);
    }
    l.y = top + 18.0;
    l.rule(l.y);
}

fn table_row(l: &mut Layout, e: &Entry) {
    let title = wrap(&e.title, 9.5, false, COLUMNS[3].0 - 6.0);
    let hall = wrap(&e.hall, 9.5, false, COLUMNS[2].0 - 6.0);
    let lines = title.len().max(hall.len()).max(1);
    let height = lines as f32 * 12.0 + 8.0;
    if !l.room(height) {
        table_header(l);
    }
    let top = l.y;
    l.y = top + 13.0;
    l.text_at(column_x(0) + 3.0, 9.5, false, &e.date);
    l.text_at(column_x(1) + 3.0, 9.5, false, &e.time);
    l.text_at(column_x(4) + 3.0, 9.5, false, &e.credits.to_string());
    l.text_at(column_x(5) + 3.0, 10.0, true, &e.code);
    for (k, line) in hall.iter().enumerate() {
        l.y = top + 13.0 + 12.0 * k as f32;
        l.text_at(column_x(2) + 3.0, 9.5, false, line);
    }
    for (k, line) in title.iter().enumerate() {
        l.y = top + 13.0 + 12.0 * k as f32;
        l.text_at(column_x(3) + 3.0, 9.5, false, line);
    }
    l.y = top + height;
    l.rule(l.y);
}

fn layout(c: &Certificate) -> Layout {
    let mut l = Layout::new();
    l.paragraph("СВИДЕТЕЛЬСТВО", 22.0, true, true);
    l.paragraph(
        "об участии в образовательном мероприятии непрерывного медицинского образования",
        11.0,
        false,
        true,
    );
    l.gap(8.0);
    l.paragraph(&c.forum_title, 14.0, true, true);
    l.paragraph(&c.forum_dates, 11.0, false, true);
    l.gap(18.0);
    l.paragraph("Настоящим подтверждается, что", 11.0, false, false);
    l.gap(4.0);
    l.paragraph(&c.participant.name, 16.0, true, false);
    let level = c
        .participant
        .education
        .map_or(String::new(), |e| format!("{}, ", e.label_ru()));
    l.paragraph(
        &format!("{level}специальность «{}»", c.participant.specialty.trim()),
        11.0,
        false,
        false,
    );
    l.gap(6.0);
    l.paragraph(
        &format!(
            "выполнил(а) условия получения баллов НМО в следующих сессиях форума и получил(а) \
             индивидуальные коды подтверждения (время — {}):",
            c.zone
        ),
        11.0,
        false,
        false,
    );
    l.gap(6.0);
    table_header(&mut l);
    for e in &c.entries {
        table_row(&mut l, e);
    }
    l.gap(16.0);
    l.paragraph(
        &format!("Всего: {} ЗЕТ (кредитов)", c.total_credits()),
        11.0,
        true,
        false,
    );
    l.gap(14.0);
    l.room(60.0);
    l.paragraph("Как зачислить баллы на портале НМО", 12.0, true, false);
    l.gap(2.0);
    for (i, step) in INSTRUCTION.iter().enumerate() {
        l.paragraph(&format!("{}. {step}", i + 1), 10.0, false, false);
        l.gap(2.0);
    }
    l.gap(8.0);
    l.paragraph(
        &format!("Подлинность кода можно проверить: {}<код>", c.verify_base),
        9.0,
        false,
        false,
    );
    l.paragraph(
        &format!(
            "Дата выдачи: {}. Свидетельство сформировано системой учёта присутствия «Явка».",
            c.issued_on
        ),
        9.0,
        false,
        false,
    );
    l
}

/// The certificate as a PDF (A4, DejaVu Sans subset embedded).
pub fn render_pdf(c: &Certificate) -> Result<Vec<u8>, String> {
    let regular = Font::new(REGULAR.into(), 0).ok_or("встроенный шрифт не читается")?;
    let bold = Font::new(BOLD.into(), 0).ok_or("встроенный шрифт не читается")?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("Свидетельство НМО — {}", c.participant.name))
            .language("ru".into())
            .creator("Явка".into()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("размер страницы")?;
    let black = Fill::default();
    let shade = Fill {
        paint: rgb::Color::new(232, 238, 244).into(),
        ..Fill::default()
    };
    let stroke = Stroke {
        paint: rgb::Color::new(150, 160, 170).into(),
        width: 0.6,
        ..Stroke::default()
    };
    for ops in layout(c).pages {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: b,
                    text,
                } => {
                    surface.set_fill(Some(black.clone()));
                    surface.set_stroke(None);
                    let font = if b { bold.clone() } else { regular.clone() };
                    surface.draw_text(
                        Point::from_xy(x, y),
                        font,
                        size,
                        &text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Line { x1, y1, x2, y2 } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(stroke.clone()));
                        surface.draw_path(&path);
                    }
                }
                Op::Shade(rect) => {
                    let mut pb = PathBuilder::new();
                    pb.push_rect(rect);
                    if let Some(path) = pb.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(shade.clone()));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("PDF не собран: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(entries: usize) -> Certificate {
        Certificate {
            forum_title: "Форум «Онлайн-диагностика 3.0»".into(),
            forum_dates: "01.04.2026–03.04.2026".into(),
            zone: "Europe/Moscow, UTC+03:00".into(),
            participant: Participant {
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
                })
                .collect(),
            issued_on: "01.05.2026".into(),
            verify_base: "http://127.0.0.1:8080/verify/".into(),
        }
    }

    fn texts(l: &Layout) -> Vec<String> {
        l.pages
            .iter()
            .flatten()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_layout_lists_every_code_and_the_total() {
        let c = sample(3);
        let all = texts(&layout(&c));
        for e in &c.entries {
            assert!(all.contains(&e.code), "{} missing", e.code);
        }
        assert!(all.iter().any(|t| t.contains("Всего: 18 ЗЕТ")));
        assert!(all.iter().any(|t| t == "Иванова Мария Игоревна"));
    }

    #[test]
    fn long_lists_turn_pages_and_repeat_the_header() {
        let l = layout(&sample(60));
        assert!(l.pages.len() > 1);
        let headers = texts(&l).iter().filter(|t| *t == "Код НМО").count();
        assert!(
            headers >= 2,
            "the table header is repeated on the next page"
        );
    }

    #[test]
    fn wrapping_respects_the_width() {
        let lines = wrap(
            "Систематизация лучевой диагностики и телемедицина",
            9.5,
            false,
            120.0,
        );
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, 9.5, false) <= 120.0));
    }

    #[test]
    fn the_pdf_is_a_pdf() {
        let pdf = render_pdf(&sample(2)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The font is embedded as a subset, not the whole 750 KB file.
        assert!(pdf.len() < 200_000, "{} bytes", pdf.len());
    }
}
