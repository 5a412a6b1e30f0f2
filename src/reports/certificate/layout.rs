//! Where everything of a certificate goes on A4 pages, as drawing operations in points from
//! the page's top-left corner (krilla's orientation). No PDF here: the operations are plain
//! data, so tests read what a page says and where.
//!
//! The page: the organiser and the certificate's number at the top, the title, the holder and
//! the forum centred below, then the table of earned sessions — each row with its code, the
//! code's own check address and its QR code — the total, how to enter a code on the portal,
//! and a footer. A short certificate is spread over the page (up to a limit per gap) instead
//! of leaving its lower third blank; a long one turns pages and repeats the table's header.

use super::text::{width, wrap};
use super::{Certificate, Entry, INSTRUCTION};

pub(super) const PAGE_W: f32 = 595.28;
pub(super) const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 44.0;
const WIDTH: f32 = PAGE_W - 2.0 * MARGIN;
/// Body text stops here; the footer lives below.
const BOTTOM: f32 = PAGE_H - 62.0;
/// The side of each code's QR code.
const QR: f32 = 50.0;
/// Most a short certificate's gaps grow to fill its page.
const MAX_STRETCH: f32 = 30.0;

/// Size, weight and colour of a piece of text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Style(f32, bool, Ink);

const TITLE: Style = Style(28.0, true, Ink::Accent);
const NAME: Style = Style(20.0, true, Ink::Text);
const FORUM: Style = Style(15.0, true, Ink::Text);
const LEAD: Style = Style(10.5, false, Ink::Text);
const PLAIN: Style = Style(10.0, false, Ink::Text);
const QUIET: Style = Style(10.0, false, Ink::Muted);
const SMALL: Style = Style(9.5, false, Ink::Text);
const CELL: Style = SMALL;
const ORGANISER: Style = Style(12.0, true, Ink::Accent);
const DETAIL: Style = Style(8.5, false, Ink::Muted);
const NUMBER: Style = Style(9.5, true, Ink::Text);
const NOTE: Style = Style(9.0, false, Ink::Muted);
const HEAD: Style = Style(8.5, true, Ink::Text);
const CODE: Style = Style(11.5, true, Ink::Accent);
const TINY: Style = Style(7.5, false, Ink::Muted);
const BOLD_CELL: Style = Style(10.0, true, Ink::Text);
const TOTAL: Style = Style(11.0, true, Ink::Text);
const PANEL: Style = Style(10.5, true, Ink::Text);

/// The few colours of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ink {
    Text,
    Muted,
    Accent,
    Rule,
    Shade,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        ink: Ink,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        ink: Ink,
    },
    /// A filled rectangle: x, y, width, height.
    Rect(f32, f32, f32, f32, Ink),
    /// A QR code of `data` with its top-left corner at (x, y).
    Qr {
        x: f32,
        y: f32,
        size: f32,
        data: String,
    },
}

/// Pages of drawing operations, with a cursor that moves down and turns pages.
pub(super) struct Layout {
    pub(super) pages: Vec<Vec<Op>>,
    y: f32,
    /// Added to every gap between the page's parts (see [`layout`]).
    stretch: f32,
}

impl Layout {
    fn push(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn room(&mut self, height: f32) -> bool {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN + 8.0;
            return false;
        }
        true
    }

    fn text(&mut self, x: f32, y: f32, style: Style, text: &str) {
        let Style(size, bold, ink) = style;
        self.push(Op::Text {
            x,
            y,
            size,
            bold,
            ink,
            text: text.to_owned(),
        });
    }

    /// A wrapped paragraph over the page's width, centred.
    fn centred(&mut self, text: &str, style: Style) {
        self.block(text, style, true, MARGIN, WIDTH);
    }

    /// A wrapped paragraph of width `w` at `x`.
    fn block(&mut self, text: &str, style: Style, centred: bool, x: f32, w: f32) {
        let Style(size, bold, _) = style;
        for line in wrap(text, size, bold, w) {
            self.room(size * 1.45);
            self.y += size;
            let at = if centred {
                x + (w - width(&line, size, bold)) / 2.0
            } else {
                x
            };
            self.text(at, self.y, style, &line);
            self.y += size * 0.45;
        }
    }

    /// A gap between parts of the page: `points`, plus the stretch of a short certificate.
    fn gap(&mut self, points: f32) {
        self.y += points + self.stretch;
    }

    fn rule(&mut self, y: f32, width: f32, ink: Ink) {
        self.push(Op::Line {
            x1: MARGIN,
            y1: y,
            x2: PAGE_W - MARGIN,
            y2: y,
            width,
            ink,
        });
    }
}

/// The certificate laid out: first as it comes, then, when it fits one page with room to
/// spare, again with the spare room shared among the gaps between its parts.
pub(super) fn layout(c: &Certificate) -> Layout {
    let tight = lay(c, 0.0);
    if tight.pages.len() > 1 {
        return tight;
    }
    let spare = BOTTOM - tight.y;
    lay(c, (spare / GAPS).clamp(0.0, MAX_STRETCH))
}

/// How many gaps of [`lay`] take a share of the stretch.
const GAPS: f32 = 6.0;

fn lay(c: &Certificate, stretch: f32) -> Layout {
    let mut l = Layout {
        pages: vec![Vec::new()],
        y: MARGIN,
        stretch,
    };
    header(&mut l, c);
    l.gap(6.0);
    l.centred("СВИДЕТЕЛЬСТВО", TITLE);
    l.y += 2.0;
    l.centred("об участии в образовательном мероприятии", LEAD);
    l.centred("непрерывного медицинского образования (НМО)", LEAD);
    l.gap(10.0);
    l.centred("Настоящим подтверждается, что", QUIET);
    l.y += 3.0;
    l.centred(&c.participant.name, NAME);
    let level = c
        .participant
        .education
        .map_or(String::new(), |e| format!("{}, ", e.label_ru()));
    let specialty = c.participant.specialty.trim();
    l.centred(&format!("{level}специальность «{specialty}»"), QUIET);
    l.gap(8.0);
    l.centred("принял(а) участие в мероприятии", QUIET);
    l.y += 2.0;
    l.centred(&c.forum_title, FORUM);
    l.centred(&c.forum_dates, PLAIN);
    l.y += 3.0;
    l.centred(
        "и выполнил(а) условия получения баллов НМО в сессиях, перечисленных ниже;",
        SMALL,
    );
    l.centred(
        &format!("за каждую выдан свой код. Время — {}.", c.zone),
        SMALL,
    );
    l.gap(10.0);
    table_header(&mut l);
    for e in &c.entries {
        table_row(&mut l, e);
    }
    l.y += 8.0;
    l.room(16.0);
    let total = format!("Всего: {} ЗЕТ (кредитов)", c.total_credits());
    l.y += 11.0;
    let x = PAGE_W - MARGIN - width(&total, 11.0, true);
    l.text(x, l.y, TOTAL, &total);
    l.gap(14.0);
    instructions(&mut l);
    l.gap(0.0);
    footer(&mut l, c);
    l
}

/// The organiser's name and details at the left; the number and the date at the right.
fn header(l: &mut Layout, c: &Certificate) {
    let top = l.y;
    let right = PAGE_W - MARGIN;
    let number = format!("Свидетельство № {}", c.number);
    let issued = format!("Дата выдачи: {}", c.issued_on);
    let right_w = width(&number, 9.5, true).max(width(&issued, 9.0, false));
    let left_w = WIDTH - right_w - 16.0;
    match &c.organiser {
        Some(o) => {
            l.block(&o.name, ORGANISER, false, MARGIN, left_w);
            for line in &o.details {
                l.block(line, DETAIL, false, MARGIN, left_w);
            }
        }
        None => l.block(&c.forum_title, ORGANISER, false, MARGIN, left_w),
    }
    let left_end = l.y;
    l.text(
        right - width(&number, 9.5, true),
        top + 11.0,
        NUMBER,
        &number,
    );
    l.text(
        right - width(&issued, 9.0, false),
        top + 24.0,
        NOTE,
        &issued,
    );
    l.y = left_end.max(top + 28.0) + 6.0;
    l.rule(l.y, 1.4, Ink::Accent);
}

/// Column widths of the table: date, hall, session, ЗЕТ, code; the QR code takes the rest.
const COLUMNS: [(f32, &str); 5] = [
    (70.0, "Дата, время"),
    (54.0, "Зал"),
    (165.0, "Сессия"),
    (34.0, "ЗЕТ"),
    (122.0, "Код НМО"),
];

fn column_x(i: usize) -> f32 {
    MARGIN + COLUMNS[..i].iter().map(|(w, _)| w).sum::<f32>()
}

fn table_header(l: &mut Layout) {
    l.room(24.0);
    let top = l.y;
    l.push(Op::Rect(MARGIN, top, WIDTH, 18.0, Ink::Shade));
    for (i, (_, name)) in COLUMNS.iter().enumerate() {
        l.text(column_x(i) + 4.0, top + 12.5, HEAD, name);
    }
    l.text(column_x(5) + 4.0, top + 12.5, HEAD, "Проверка");
    l.y = top + 18.0;
    l.rule(l.y, 0.6, Ink::Rule);
}

fn table_row(l: &mut Layout, e: &Entry) {
    let title = wrap(&e.title, 9.5, false, COLUMNS[2].0 - 8.0);
    let hall = wrap(&e.hall, 9.5, false, COLUMNS[1].0 - 8.0);
    let lines = title.len().max(hall.len()).max(2) as f32;
    // The cells, then the code's check address on a line of its own under them.
    let cells = lines * 12.5;
    let height = (cells + 22.0).max(QR + 8.0);
    if !l.room(height) {
        table_header(l);
    }
    let top = l.y;
    let first = top + 14.0;
    l.text(column_x(0) + 4.0, first, CELL, &e.date);
    l.text(column_x(0) + 4.0, first + 12.5, DETAIL, &e.time);
    for (k, line) in hall.iter().enumerate() {
        l.text(column_x(1) + 4.0, first + 12.5 * k as f32, CELL, line);
    }
    for (k, line) in title.iter().enumerate() {
        l.text(column_x(2) + 4.0, first + 12.5 * k as f32, CELL, line);
    }
    let credits = e.credits.to_string();
    l.text(column_x(3) + 4.0, first, BOLD_CELL, &credits);
    l.text(column_x(4) + 4.0, first + 0.5, CODE, &e.code);
    l.text(
        column_x(1) + 4.0,
        top + height - 7.0,
        TINY,
        &format!("Проверить код: {}", e.verify_url),
    );
    l.push(Op::Qr {
        x: PAGE_W - MARGIN - QR,
        y: top + (height - QR) / 2.0,
        size: QR,
        data: e.verify_url.clone(),
    });
    l.y = top + height;
    l.rule(l.y, 0.6, Ink::Rule);
}

/// How to enter the codes, on a shaded panel in two columns (steps 1–2 and 3–4), so that a
/// certificate of four sessions still fits one page.
fn instructions(l: &mut Layout) {
    const SIZE: f32 = 8.5;
    const STEP: Style = Style(SIZE, false, Ink::Text);
    const LINE: f32 = SIZE * 1.4;
    let column = (WIDTH - 36.0) / 2.0;
    let steps: Vec<Vec<String>> = INSTRUCTION
        .iter()
        .enumerate()
        .map(|(i, step)| wrap(&format!("{}. {step}", i + 1), SIZE, false, column))
        .collect();
    let half = steps.len().div_ceil(2);
    let column_height =
        |part: &[Vec<String>]| -> f32 { part.iter().map(|s| s.len() as f32 * LINE + 3.0).sum() };
    let (left, right) = steps.split_at(half);
    let height = 32.0 + column_height(left).max(column_height(right));
    l.room(height);
    let top = l.y;
    l.push(Op::Rect(MARGIN, top, WIDTH, height, Ink::Shade));
    l.text(
        MARGIN + 12.0,
        top + 18.0,
        PANEL,
        "Как зачислить баллы на портале НМО",
    );
    for (part, x) in [(left, MARGIN + 12.0), (right, MARGIN + 24.0 + column)] {
        let mut y = top + 24.0;
        for step in part {
            for line in step {
                y += LINE;
                l.text(x, y, STEP, line);
            }
            y += 3.0;
        }
    }
    l.y = top + height;
}

/// Under the body of every page: what the certificate is and how to check it, and the page.
fn footer(l: &mut Layout, c: &Certificate) {
    let count = l.pages.len();
    let text = format!(
        "Свидетельство № {} сформировано системой учёта присутствия «Явка» {}. Подлинность \
         каждого кода можно проверить по адресу в его строке таблицы или по QR-коду рядом с ним \
         (камерой телефона).",
        c.number, c.issued_on
    );
    for (n, page) in l.pages.iter_mut().enumerate() {
        let mut y = PAGE_H - 50.0;
        page.push(Op::Line {
            x1: MARGIN,
            y1: y,
            x2: PAGE_W - MARGIN,
            y2: y,
            width: 0.6,
            ink: Ink::Rule,
        });
        if count > 1 {
            let label = format!("Страница {} из {count}", n + 1);
            page.push(Op::Text {
                x: PAGE_W - MARGIN - width(&label, 7.5, false),
                y: y - 4.0,
                size: 7.5,
                bold: false,
                ink: Ink::Muted,
                text: label,
            });
        }
        for line in wrap(&text, 7.5, false, WIDTH) {
            y += 10.5;
            page.push(Op::Text {
                x: MARGIN,
                y,
                size: 7.5,
                bold: false,
                ink: Ink::Muted,
                text: line,
            });
        }
    }
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
