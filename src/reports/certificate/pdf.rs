//! The certificate's drawing operations as a PDF: krilla with DejaVu Sans embedded (subset to
//! the glyphs used) and each QR code drawn as vector squares, so it stays sharp in print.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use qrcode::{Color, EcLevel, QrCode};

use super::Certificate;
use super::layout::{Ink, Op, PAGE_H, PAGE_W, layout};
use super::text::{BOLD, REGULAR};

fn colour(ink: Ink) -> rgb::Color {
    match ink {
        Ink::Text => rgb::Color::new(27, 34, 48),
        Ink::Muted => rgb::Color::new(79, 91, 109),
        Ink::Accent => rgb::Color::new(29, 90, 166),
        Ink::Rule => rgb::Color::new(190, 200, 214),
        Ink::Shade => rgb::Color::new(236, 241, 248),
    }
}

fn fill(ink: Ink) -> Fill {
    Fill {
        paint: colour(ink).into(),
        ..Fill::default()
    }
}

/// The certificate as a PDF (A4, DejaVu Sans subset embedded).
pub fn render_pdf(c: &Certificate) -> Result<Vec<u8>, String> {
    let regular = Font::new(REGULAR.into(), 0).ok_or("Встроенный шрифт не читается")?;
    let bold = Font::new(BOLD.into(), 0).ok_or("Встроенный шрифт не читается")?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!(
                "Свидетельство НМО № {} — {}",
                c.number, c.participant.name
            ))
            .language("ru".into())
            .creator("Явка".into()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("Размер страницы")?;
    for ops in layout(c).pages {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        frame(&mut surface);
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: b,
                    ink,
                    text,
                } => {
                    surface.set_fill(Some(fill(ink)));
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
                Op::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                    ink,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    stroke(&mut surface, pb, width, ink);
                }
                Op::Rect(x, y, w, h, ink) => {
                    if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(rect);
                        paint(&mut surface, pb, ink);
                    }
                }
                Op::Qr { x, y, size, data } => qr(&mut surface, x, y, size, &data)?,
            }
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("PDF не собран: {e:?}"))
}

fn paint(surface: &mut Surface, pb: PathBuilder, ink: Ink) {
    if let Some(path) = pb.finish() {
        surface.set_stroke(None);
        surface.set_fill(Some(fill(ink)));
        surface.draw_path(&path);
    }
}

fn stroke(surface: &mut Surface, pb: PathBuilder, width: f32, ink: Ink) {
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: colour(ink).into(),
            width,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
    }
}

/// A thin double frame around the page, as certificates have.
fn frame(surface: &mut Surface) {
    for (inset, width) in [(18.0, 1.2), (22.0, 0.4)] {
        if let Some(rect) =
            Rect::from_xywh(inset, inset, PAGE_W - 2.0 * inset, PAGE_H - 2.0 * inset)
        {
            let mut pb = PathBuilder::new();
            pb.push_rect(rect);
            stroke(surface, pb, width, Ink::Accent);
        }
    }
}

/// `data` as a QR code `size` points wide (its quiet zone included): one filled square per dark
/// module, runs of a row merged into one rectangle. Medium error correction survives a crease or a smudge.
fn qr(surface: &mut Surface, x: f32, y: f32, size: f32, data: &str) -> Result<(), String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| format!("QR-код не построен: {e}"))?;
    let n = code.width();
    // Two blank modules all round: scanners need a quiet zone, and the table's rules are near.
    let module = size / (n + 4) as f32;
    let (x, y) = (x + 2.0 * module, y + 2.0 * module);
    let mut pb = PathBuilder::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if code[(col, row)] == Color::Dark {
                let start = col;
                while col < n && code[(col, row)] == Color::Dark {
                    col += 1;
                }
                let w = (col - start) as f32 * module;
                // A hair of overlap so no seam shows between neighbouring squares.
                if let Some(r) = Rect::from_xywh(
                    x + start as f32 * module,
                    y + row as f32 * module,
                    w + 0.05,
                    module + 0.05,
                ) {
                    pb.push_rect(r);
                }
            } else {
                col += 1;
            }
        }
    }
    paint(surface, pb, Ink::Text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn the_pdf_is_a_pdf_with_its_text() {
        let c = sample(2);
        let pdf = render_pdf(&c).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // YAVKA_CERTIFICATE_PDF=/tmp/c.pdf keeps the file, to look at it (pdftoppm -png).
        if let Some(path) = std::env::var_os("YAVKA_CERTIFICATE_PDF") {
            std::fs::write(path, &pdf).unwrap();
        }
        // The font is embedded as a subset, not the whole 750 KB file.
        assert!(pdf.len() < 200_000, "{} bytes", pdf.len());
    }

    #[test]
    fn a_check_address_makes_a_small_qr_code() {
        // A short URL fits version 3 (29 modules): each about 1.7 points at 56 points wide.
        let code = QrCode::with_error_correction_level(
            b"http://127.0.0.1:8080/verify/ABCDEF000001",
            EcLevel::M,
        )
        .unwrap();
        assert!(code.width() <= 33, "{}", code.width());
    }
}
