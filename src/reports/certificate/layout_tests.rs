//! The layout's tests: what the page says, where, and how it fills or turns pages.

use super::*;
use crate::reports::certificate::tests::sample;

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
fn the_layout_lists_every_code_its_address_and_qr_and_the_total() {
    let c = sample(3);
    let l = layout(&c);
    let all = texts(&l);
    for e in &c.entries {
        assert!(all.contains(&e.code), "{} missing", e.code);
        let check = format!("Проверить код: {}", e.verify_url);
        assert!(all.contains(&check), "{check} missing");
    }
    let qrs: Vec<&str> = l
        .pages
        .iter()
        .flatten()
        .filter_map(|op| match op {
            Op::Qr { data, .. } => Some(data.as_str()),
            _ => None,
        })
        .collect();
    let urls: Vec<&str> = c.entries.iter().map(|e| e.verify_url.as_str()).collect();
    assert_eq!(qrs, urls, "one QR code per code, of its own address");
    assert!(all.iter().any(|t| t.contains("Всего: 18 ЗЕТ")));
    assert!(all.iter().any(|t| t == "Иванова Мария Игоревна"));
    assert!(
        all.iter()
            .any(|t| t == "Свидетельство № 2026-3F9A-C21B-7D04")
    );
    assert!(all.iter().any(|t| t.starts_with("MRO — Центр диагностики")));
    assert!(
        all.iter().all(|t| !t.contains('‹')),
        "no placeholder for a code"
    );
}

/// The lowest drawn text of the body (not the footer), in points from the top.
fn body_end(l: &Layout) -> f32 {
    l.pages[0]
        .iter()
        .filter_map(|op| match op {
            Op::Text { y, .. } if *y < BOTTOM => Some(*y),
            _ => None,
        })
        .fold(0.0, f32::max)
}

#[test]
fn a_short_certificate_fills_its_page() {
    for n in [1, 4] {
        let l = layout(&sample(n));
        assert_eq!(l.pages.len(), 1);
        let end = body_end(&l);
        assert!(
            end > BOTTOM - 0.2 * PAGE_H,
            "{n} sessions: the body ends at {end:.0} of {PAGE_H:.0} points"
        );
    }
}

#[test]
fn long_lists_turn_pages_and_repeat_the_header() {
    let l = layout(&sample(30));
    assert!(l.pages.len() > 1);
    let headers = texts(&l).iter().filter(|t| *t == "Код НМО").count();
    assert!(
        headers >= 2,
        "the table header is repeated on the next page"
    );
    let all = texts(&l);
    assert!(
        all.iter()
            .any(|t| t == &format!("Страница 2 из {}", l.pages.len()))
    );
    for op in l.pages.iter().flatten() {
        if let Op::Text {
            x,
            text,
            size,
            bold,
            ..
        } = op
        {
            let right = x + width(text, *size, *bold);
            assert!(right <= PAGE_W - MARGIN + 0.5, "«{text}» runs off the page");
        }
    }
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
