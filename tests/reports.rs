//! After the forum, on SQLite and on Postgres: the commission's export (CSV with BOM and `;`,
//! XLSX read back), a participant's PDF certificate, the public code check, the printable
//! evidence report, and the same export and certificates from the command line.
//!
//! Each story plays session s1 of the test forum with two doctors: Anna confirms both prompts
//! and earns a code, Pyotr confirms one of two and does not. The last story follows one doctor
//! through a bad morning and checks that every page tells each prompt the same way.

mod support;

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use serde_json::{Value, json};
use support::TestDb;
use support::server::{TEST_FORUM, TestApp, Viewer, at, test_settings};
use yavka::domain::log::EventBody;
use yavka::domain::time::{MINUTE, Millis, SECOND};

const ZONE_HEADER: &str = "Дата и время (Europe/Moscow, UTC+03:00)";

/// Who did what in the played forum.
struct Played {
    anna: String,
    anna_token: String,
    petr: String,
    code: String,
}

/// Plays s1 (Anna confirms both prompts, Pyotr only the first), closes every tab and issues
/// the session's codes.
async fn play(app: &TestApp) -> Played {
    let (anna, anna_token, mut a) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;
    let (petr, _, mut p) = app
        .join("Петров Пётр Петрович", "petr@example.org", "hall-1")
        .await;
    let times = app.planned("s1");
    assert_eq!(times.len(), 2);
    for (k, t) in times.into_iter().enumerate() {
        app.tick_at(t).await;
        a.answer().await;
        if k == 0 {
            p.answer().await;
        } else {
            p.expect("prompt").await;
        }
    }
    app.clock.set(at(31));
    a.close().await;
    p.close().await;
    app.wait_for_log(|events| {
        let n = |f: fn(&EventBody) -> bool| events.iter().filter(|e| f(&e.body)).count();
        n(|b| matches!(b, EventBody::Disconnect { .. })) == 2
    })
    .await;
    let (status, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["issued_now"], 1, "only Anna earned s1: {issued}");
    let code = issued["codes"][0]["code"].as_str().unwrap().to_owned();
    Played {
        anna,
        anna_token,
        petr,
        code,
    }
}

async fn get_bytes(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .expect("request sent");
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, r.bytes().await.unwrap().to_vec())
}

/// What a browser tab shows for `path`: it navigates with the Accept header browsers send.
async fn open_in_tab(client: &reqwest::Client, base: &str, path: &str) -> (u16, String, String) {
    let r = client
        .get(format!("{base}{path}"))
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8",
        )
        .send()
        .await
        .expect("request sent");
    let status = r.status().as_u16();
    let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
    (status, ctype, r.text().await.unwrap())
}

/// A Russian error page, not JSON, with its heading, its sentence and a link back to `back`.
fn assert_error_page(
    page: &(u16, String, String),
    status: u16,
    heading: &str,
    says: &str,
    back: &str,
) {
    let (got, ctype, html) = page;
    assert_eq!(*got, status, "{html}");
    assert!(ctype.starts_with("text/html"), "{ctype}: {html}");
    assert!(!html.contains("{\"error\""), "raw JSON: {html}");
    assert!(
        html.contains(&format!(">{heading}</h1>")),
        "«{heading}» not in {html}"
    );
    assert!(html.contains(says), "«{says}» not in {html}");
    assert!(
        html.contains(&format!("href=\"{back}\"")),
        "no way back to {back}: {html}"
    );
}

/// Parses a CSV download: it must start with a BOM; returns header and rows.
fn read_csv(bytes: &[u8], delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let body = text
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte-order mark first");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column «{name}» in {header:?}"))
}

// ---- 1. The export -------------------------------------------------------------------------

async fn export_story(app: &TestApp, f: &Played, backend: &str) {
    let (status, ctype, bytes) = get_bytes(app, "/api/org/export.csv?delimiter=%3B").await;
    assert_eq!(
        status,
        200,
        "{backend}: {}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    let (header, rows) = read_csv(&bytes, b';');
    assert!(header.contains(&ZONE_HEADER.to_owned()), "{header:?}");
    assert_eq!(
        rows.len(),
        2,
        "{backend}: one row per viewer in s1: {rows:?}"
    );
    let get = |id: &str, col: &str| {
        let row = rows
            .iter()
            .find(|r| r[column(&header, "ID участника")] == id)
            .unwrap_or_else(|| panic!("no row of {id}"));
        row[column(&header, col)].clone()
    };
    assert_eq!(get(&f.anna, "ФИО"), "Иванова Анна Сергеевна");
    assert_eq!(get(&f.anna, "E-mail"), "anna@example.org");
    assert_eq!(get(&f.anna, "Уровень образования"), "высшее образование");
    assert_eq!(get(&f.anna, "Специальность"), "рентгенология");
    assert_eq!(get(&f.anna, "Сессия"), "s1");
    assert_eq!(get(&f.anna, ZONE_HEADER), "01.04.2026 10:00–10:30");
    assert_eq!(get(&f.anna, "Засчитано минут"), "30");
    assert_eq!(get(&f.anna, "Подтверждено"), "2");
    assert_eq!(get(&f.anna, "Окон показано"), "2");
    assert_eq!(get(&f.anna, "Условия выполнены"), "да");
    assert_eq!(get(&f.anna, "Код НМО"), f.code);
    assert_eq!(get(&f.petr, "Условия выполнены"), "нет");
    assert_eq!(get(&f.petr, "Код НМО"), "");
    assert!(
        get(&f.petr, "Условия").contains("✗ Подтверждено 1 из 2 показанных (нужно 2)"),
        "{backend}: {}",
        get(&f.petr, "Условия")
    );
    // Each prompt with the time it was shown and its status for the viewer.
    let statuses = get(&f.petr, "Окна подтверждения");
    let statuses: Vec<&str> = statuses.split("; ").collect();
    assert_eq!(statuses.len(), 2, "{backend}: {statuses:?}");
    assert!(statuses[0].contains(" — Подтверждено в "), "{statuses:?}");
    assert!(
        statuses[1].ends_with(" — Не подтверждено: окно закрылось без ответа"),
        "{statuses:?}"
    );

    // One session, with `,`: the same rows.
    let (status, _, bytes) = get_bytes(app, "/api/org/export.csv?session=s1&delimiter=,").await;
    assert_eq!(status, 200);
    assert_eq!(read_csv(&bytes, b',').1.len(), 2);
    let (status, _, bytes) = get_bytes(app, "/api/org/export.csv?session=s2").await;
    assert_eq!(status, 200);
    assert_eq!(read_csv(&bytes, b';').1.len(), 0, "nobody watched s2");

    // Bad input: a Russian sentence, no file.
    let (status, body) = app.get("/api/org/export.csv?session=nope").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("сессии «nope» нет")
    );
    let (status, body) = app.get("/api/org/export.csv?delimiter=%7C").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("разделитель"),
        "{body}"
    );
    let (status, body) = app.get("/api/org/export.csv?summary=maybe").await;
    assert_eq!(status, 400, "{body}");

    // The summary: per session, then per specialty.
    let (status, _, bytes) = get_bytes(app, "/api/org/export.csv?summary=1").await;
    assert_eq!(status, 200);
    let (header, rows) = read_csv(&bytes, b';');
    let total = |session: &str| {
        rows.iter()
            .find(|r| r[0] == session && r[column(&header, "Специальность")] == "Итого по сессии")
            .unwrap_or_else(|| panic!("no total of {session}: {rows:?}"))
            .clone()
    };
    let s1 = total("s1");
    let n = |row: &[String], col: &str| row[column(&header, col)].clone();
    assert_eq!(n(&s1, "Зарегистрировано"), "2", "{backend}: {s1:?}");
    assert_eq!(n(&s1, "Присутствовали"), "2");
    assert_eq!(n(&s1, "Выполнили условия"), "1");
    assert_eq!(n(&s1, "Выдано кодов"), "1");
    assert_eq!(n(&s1, "ЗЕТ выполнившим"), "1");
    assert_eq!(n(&total("s2"), "Присутствовали"), "0");
    assert!(rows.iter().any(|r| r[0] == "s1"
        && n(r, "Специальность") == "рентгенология"
        && n(r, "Аккредитована") == "да"
        && n(r, "Выполнили условия") == "1"));

    let (status, summary) = app.get("/api/org/summary").await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["sessions"][0]["total"]["eligible"], 1, "{summary}");

    // XLSX, read back: both sheets, numbers as numbers.
    let (status, ctype, bytes) = get_bytes(app, "/api/org/export.xlsx").await;
    assert_eq!(status, 200, "{backend}");
    assert!(ctype.contains("spreadsheetml"), "{ctype}");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX file");
    assert_eq!(book.sheet_names(), ["Сводка", "Участники"]);
    let people = book.worksheet_range("Участники").unwrap();
    let table: Vec<Vec<Data>> = people.rows().map(|r| r.to_vec()).collect();
    assert_eq!(table.len(), 3, "header and two rows");
    let header: Vec<String> = table[0].iter().map(|c| c.to_string()).collect();
    let anna = table
        .iter()
        .find(|r| r[column(&header, "ID участника")].to_string() == f.anna)
        .expect("Anna's row");
    assert_eq!(anna[column(&header, "Засчитано минут")], Data::Float(30.0));
    assert_eq!(anna[column(&header, "Код НМО")].to_string(), f.code);
    let summary = book.worksheet_range("Сводка").unwrap();
    assert!(
        summary.rows().any(|r| r
            .iter()
            .any(|c| *c == Data::String("Итого по сессии".into()))),
        "{backend}: the summary sheet has totals"
    );
    assert!(
        summary
            .rows()
            .any(|r| r.iter().any(|c| c.to_string().contains("Europe/Moscow"))),
        "{backend}: times are labelled with the zone"
    );

    // Organisers only.
    let stranger = reqwest::Client::new();
    let r = stranger
        .get(format!("{}/api/org/export.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commission_export_has_the_rows_and_the_summary() {
    on_every_backend!(export_story after play);
}

// ---- 2. Certificates -----------------------------------------------------------------------

async fn certificate_story(app: &TestApp, f: &Played, backend: &str) {
    let path = format!("/api/org/viewers/{}/certificate.pdf", f.anna);
    let (status, ctype, pdf) = get_bytes(app, &path).await;
    assert_eq!(status, 200, "{backend}: {}", String::from_utf8_lossy(&pdf));
    assert_eq!(ctype, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_extract::extract_text_from_mem(&pdf).expect("the text can be extracted");
    for needle in [
        f.code.as_str(),
        "СВИДЕТЕЛЬСТВО",
        "Иванова Анна Сергеевна",
        "Первая сессия",
        "01.04.2026",
        "Зал №1",
        "edu.rosminzdrav.ru",
        "Всего: 1 ЗЕТ",
    ] {
        assert!(
            text.contains(needle),
            "{backend}: «{needle}» not in:\n{text}"
        );
    }
    // Its number, stable however often it is made, and each code's own check address (the
    // content of the QR code beside it), not a placeholder.
    let number = text
        .split("Свидетельство № ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{backend}: no number in:\n{text}"))
        .to_owned();
    assert!(
        number.starts_with("2026-") && number.len() == 19,
        "{number}"
    );
    let check = format!("{}/verify/{}", app.base, f.code);
    assert!(
        text.contains(&check),
        "{backend}: «{check}» not in:\n{text}"
    );
    assert!(!text.contains("<код>") && !text.contains("‹код"), "{text}");
    let (_, _, again) = get_bytes(app, &path).await;
    let again = pdf_extract::extract_text_from_mem(&again).unwrap();
    assert!(again.contains(&format!("Свидетельство № {number}")));
    look_at(&pdf, backend);

    let raw = String::from_utf8_lossy(&pdf);
    assert!(
        raw.contains("/FontFile2"),
        "{backend}: the font is embedded"
    );
    assert!(raw.contains("DejaVuSans"), "{backend}: DejaVu Sans, subset");

    // Pyotr earned nothing: no certificate, and the answer says why.
    let (status, body) = app
        .get(&format!("/api/org/viewers/{}/certificate.pdf", f.petr))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("кодов нмо")
    );
    let (status, _) = app.get("/api/org/viewers/nobody/certificate.pdf").await;
    assert_eq!(status, 404);

    // Opened from the dashboard in a browser tab, the same refusals are pages with a way back.
    let tab = |path: String| async move { open_in_tab(&app.http, &app.base, &path).await };
    let page = tab(format!("/api/org/viewers/{}/certificate.pdf", f.petr)).await;
    let says = "У участника Петров Пётр Петрович пока нет кодов НМО";
    assert_error_page(&page, 404, "Свидетельство не открылось", says, "/org");
    let page = tab("/api/org/viewers/nobody/certificate.pdf".into()).await;
    assert_error_page(
        &page,
        404,
        "Свидетельство не открылось",
        "Участника «nobody» нет",
        "/org",
    );
    // A signed-out browser is told to sign in; a viewer's bad link sends them to the forum.
    let stranger = reqwest::Client::new();
    let path = format!("/api/org/viewers/{}/certificate.pdf", f.anna);
    let page = open_in_tab(&stranger, &app.base, &path).await;
    assert_error_page(&page, 401, "Нужно войти", "Войдите как организатор", "/org");
    let page = open_in_tab(&stranger, &app.base, "/api/me/certificate.pdf?token=nope").await;
    assert_error_page(
        &page,
        401,
        "Свидетельство не открылось",
        "Ссылка недействительна",
        "/",
    );

    // The organiser's search tells who holds codes, so the dashboard offers their certificate.
    let (status, found) = app
        .get("/api/org/viewers?q=%D0%B8%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0")
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["viewers"][0]["id"], f.anna.as_str(), "{found}");
    assert_eq!(found["viewers"][0]["codes"], 1, "{found}");
    let (_, found) = app.get("/api/org/viewers?q=petr@").await;
    assert_eq!(found["viewers"][0]["codes"], 0, "{found}");

    // Her player learns that she has codes, to offer the certificate.
    let (status, me) = app.get(&format!("/api/me?token={}", f.anna_token)).await;
    assert_eq!(status, 200);
    assert!(!me["codes"].as_array().unwrap().is_empty(), "{me}");

    // Anna downloads her own through her personal link; a wrong token opens nothing.
    let (status, _, mine) = get_bytes(
        app,
        &format!("/api/me/certificate.pdf?token={}", f.anna_token),
    )
    .await;
    assert_eq!(status, 200, "{backend}");
    assert!(mine.starts_with(b"%PDF-"));
    let (status, body) = app.get("/api/me/certificate.pdf?token=nope").await;
    assert_eq!(status, 401, "{body}");
}

/// Renders the certificate's first page to PNG with `pdftoppm` (poppler-utils), when it is
/// installed, for a person to look at: into `$YAVKA_SCREENSHOTS` or a temporary folder.
fn look_at(pdf: &[u8], backend: &str) {
    let dir = match std::env::var_os("YAVKA_SCREENSHOTS") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join("yavka-certificates"),
    };
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(format!("certificate-{backend}.pdf"));
    std::fs::write(&input, pdf).unwrap();
    let png = dir.join(format!("certificate-{backend}"));
    match Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-singlefile"])
        .arg(&input)
        .arg(&png)
        .status()
    {
        Ok(status) => {
            assert!(
                status.success(),
                "pdftoppm could not render the certificate"
            );
            println!("certificate rendered: {}.png", png.display());
        }
        Err(_) => println!("pdftoppm is not installed: the certificate is not rendered"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_lists_the_earned_session_with_its_code() {
    on_every_backend!(certificate_story after play);
}

// ---- 3. The public code check --------------------------------------------------------------

async fn verify_story(app: &TestApp, f: &Played, backend: &str) {
    let public = reqwest::Client::new();
    let page = |path: String| {
        let public = public.clone();
        async move {
            let r = public.get(path).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    let (status, html) = page(format!("{}/verify/{}", app.base, f.code)).await;
    assert_eq!(status, 200, "{backend}: {html}");
    assert!(html.contains("подлинный"), "{html}");
    assert!(
        html.contains("выдан участнику форума «Тестовый форум»"),
        "the forum's title in quotes once: {html}"
    );
    assert!(html.contains("Первая сессия"));
    assert!(html.contains("И***а А. С."), "a masked name: {html}");
    assert!(!html.contains("Иванова"), "never the full name");
    assert!(!html.contains("anna@example.org"), "never the e-mail");

    let (status, j) = app
        .get(&format!("/verify/{}?format=json", f.code.to_lowercase()))
        .await;
    assert_eq!(status, 200, "{backend}: lower case is the same code: {j}");
    assert_eq!(j["genuine"], true);
    assert_eq!(j["session"]["id"], "s1");
    assert_eq!(j["session"]["credits"], 1);
    assert_eq!(j["holder"], "И***а А. С.");
    assert!(!j.to_string().contains("anna@"), "{j}");

    // Made up: not issued.
    let (status, j) = app.get("/verify/ZZZZZZZZZZZZ?format=json").await;
    assert_eq!(status, 404, "{j}");
    assert_eq!(j["genuine"], false);
    assert!(j["error"].as_str().unwrap().contains("не выдавался"), "{j}");
    let (status, html) = page(format!("{}/verify/ZZZZZZZZZZZZ", app.base)).await;
    assert_eq!(status, 404);
    assert!(html.contains("не выдавался"), "{html}");

    // Malformed: says what is wrong with it.
    let (status, j) = app.get("/verify/ABC?format=json").await;
    assert_eq!(status, 400, "{j}");
    assert!(j["error"].as_str().unwrap().contains("12 символов"), "{j}");
    let cyrillic = "АВСDEF123456"; // the first three letters are Cyrillic
    let (status, j) = app.get(&format!("/verify/{cyrillic}?format=json")).await;
    assert_eq!(status, 400, "{j}");
    assert!(
        j["error"].as_str().unwrap().contains("кириллическая"),
        "{j}"
    );

    // A pooled code not given to anyone is not revealed as genuine.
    let (status, body) = app
        .post_text("/api/org/codes/pool?session=s2", "POOLED123456")
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, j) = app.get("/verify/POOLED123456?format=json").await;
    assert_eq!(status, 404, "{backend}: {j}");

    // The form sends to the code's page.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/verify?code={}", app.base, f.code))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let (status, html) = page(format!("{}/verify?code=АВС-DEF123456", app.base)).await;
    assert_eq!(
        status, 400,
        "{backend}: Cyrillic look-alikes survive the redirect"
    );
    assert!(html.contains("кириллическая"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_tells_a_genuine_code_from_a_made_up_or_malformed_one() {
    on_every_backend!(verify_story after play);
}

// ---- 4. The evidence report ----------------------------------------------------------------

async fn evidence_story(app: &TestApp, f: &Played, backend: &str) {
    let (status, ctype, bytes) =
        get_bytes(app, &format!("/api/org/viewers/{}/report", f.petr)).await;
    assert_eq!(status, 200, "{backend}");
    assert!(ctype.starts_with("text/html"), "{ctype}");
    let html = String::from_utf8(bytes).unwrap();
    for needle in [
        "Петров Пётр Петрович",
        "Europe/Moscow, UTC+03:00",
        "Первая сессия",
        "Подтверждено в ",
        "Не подтверждено: окно закрылось без ответа",
        "Подтверждено 1 из 2 показанных (нужно 2)",
        "Условия не выполнены",
        "<li class=\"ok\">",
        "Подключения",
    ] {
        assert!(
            html.contains(needle),
            "{backend}: «{needle}» not in the report"
        );
    }
    assert!(!html.contains("<script"), "a static page");
    let (status, body) = app.get("/api/org/viewers/nobody/report").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Участника «nobody» нет"),
        "{body}"
    );
    let page = open_in_tab(&app.http, &app.base, "/api/org/viewers/nobody/report").await;
    assert_error_page(
        &page,
        404,
        "Отчёт не открылся",
        "раздел «Участники»",
        "/org",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_evidence_report_shows_prompts_and_reasons() {
    on_every_backend!(evidence_story after play);
}

// ---- 5. The command line -------------------------------------------------------------------

fn yavka(dir: &Path, db_url: &str, args: &[&str]) -> std::process::Output {
    support::process::run_ok(dir, db_url, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_writes_the_same_export_and_the_certificates() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let app = TestApp::spawn(&db.url).await;
        app.sign_in_organiser().await;
        let f = play(&app).await;
        let (_, _, served) = get_bytes(&app, "/api/org/export.csv?delimiter=%3B").await;
        app.stop().await;

        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("forum.toml"), TEST_FORUM).unwrap();
        let settings = ["--settings", "absent.toml"];
        yavka(
            d,
            &db.url,
            &[&["export", "-o", "all.csv"][..], &settings].concat(),
        );
        let written = std::fs::read(d.join("all.csv")).unwrap();
        assert_eq!(
            read_csv(&written, b';'),
            read_csv(&served, b';'),
            "{backend}: the CLI writes what the dashboard downloads"
        );

        yavka(
            d,
            &db.url,
            &[
                &["export", "--summary", "--session", "s1", "-o", "s1.csv"][..],
                &settings,
            ]
            .concat(),
        );
        let (_, rows) = read_csv(&std::fs::read(d.join("s1.csv")).unwrap(), b';');
        assert!(rows.iter().all(|r| r[0] == "s1"), "{rows:?}");

        yavka(
            d,
            &db.url,
            &[
                &["export", "--format", "xlsx", "-o", "all.xlsx"][..],
                &settings,
            ]
            .concat(),
        );
        let book: Xlsx<_> =
            open_workbook_from_rs(Cursor::new(std::fs::read(d.join("all.xlsx")).unwrap()))
                .expect("an XLSX file");
        assert_eq!(book.sheet_names(), ["Сводка", "Участники"]);

        yavka(
            d,
            &db.url,
            &[&["certificates", "-o", "certs"][..], &settings].concat(),
        );
        let files: Vec<String> = std::fs::read_dir(d.join("certs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files, [format!("{}.pdf", f.anna)], "{backend}");
        let pdf = std::fs::read(d.join("certs").join(&files[0])).unwrap();
        let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
        assert!(text.contains(&f.code), "{backend}");

        // A session that does not exist: a clear message and exit code 1.
        let out = Command::new(env!("CARGO_BIN_EXE_yavka"))
            .args(["export", "--session", "nope", "--settings", "absent.toml"])
            .current_dir(d)
            .env("DATABASE_URL", &db.url)
            .env("YAVKA__FORUM__CONFIG", d.join("forum.toml"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("Сессии «nope» нет"));
        db.drop().await;
    }
}

// ---- 6. One status per prompt, everywhere --------------------------------------------------

/// The test forum with hour-long sessions and no planned prompts: the story fires its own.
fn story_forum() -> yavka::domain::forum::Forum {
    support::forum::test_forum_edited("story.toml", |toml| {
        toml.replace("ends = \"2026-04-01T10:30\"", "ends = \"2026-04-01T11:00\"")
            .replace("prompts = 2\n", "prompts = 0\n")
            .replace("prompts_required = 2", "prompts_required = 0")
            .replace("prompts_required = 1", "prompts_required = 0")
    })
}

/// 10:00 plus minutes and seconds.
fn hm(minutes: i64, seconds: i64) -> Millis {
    at(minutes) + seconds * SECOND
}

/// Fires prompt `id` in `hall` now, open for two minutes.
async fn fire(app: &TestApp, hall: &str, id: &str, when: Millis) {
    app.clock.set(when);
    app.state
        .hub
        .fire_prompt(hall, 2 * MINUTE, Some(id.into()))
        .await
        .expect("the prompt is fired");
}

/// Waits for the prompt message `id` on a tab (after skipping others).
async fn prompt_on(tab: &mut Viewer, id: &str) -> Value {
    for _ in 0..10 {
        let p = tab.expect("prompt").await;
        if p["id"] == id {
            return p;
        }
    }
    panic!("prompt {id} never came");
}

async fn answer_with(tab: &mut Viewer, prompt: &Value, answer: &Value) -> Value {
    tab.send(json!({"type": "confirm", "prompt": prompt["id"], "answer": answer}))
        .await;
    loop {
        let m = tab.next().await;
        if m["type"] == "error" || m["type"] == "confirmed" {
            return m;
        }
    }
}

fn wrong_choice(prompt: &Value) -> Value {
    let ask = &prompt["challenge"]["ask"];
    prompt["challenge"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| *c != ask)
        .unwrap()
        .clone()
}

/// (prompt id, status, label) as the tally of a fresh tab in `hall` tells them.
async fn tally_says(app: &TestApp, token: &str, hall: &str) -> Vec<(String, String, String)> {
    let mut tab = app.connect(token, hall).await;
    let tally = tab.expect("tally").await;
    tab.close().await;
    tally["prompts"]
        .as_array()
        .unwrap_or_else(|| panic!("no prompts in {tally}"))
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_owned();
            (s("id"), s("status"), s("label"))
        })
        .collect()
}

async fn one_status_per_prompt(app: &TestApp, backend: &str) {
    let (olga, token) = app
        .register("Орлова Ольга Игоревна", "olga@example.org")
        .await;

    // P1 is fired at 10:05 and open until 10:07. Olga arrives mid-prompt, at 10:06:10: her
    // player shows it at once, and she does not answer. She was there, so it was shown.
    fire(app, "hall-1", "p1", hm(5, 0)).await;
    app.clock.set(hm(6, 10));
    let mut a = app.connect(&token, "hall-1").await;
    let welcome = a.expect("welcome").await;
    assert_eq!(welcome["prompt"]["id"], "p1", "{backend}: shown on arrival");

    // 10:10: she opens hall 2 in a second tab; the first is paused.
    app.clock.set(hm(10, 0));
    let mut b = app.connect(&token, "hall-2").await;
    b.expect("welcome").await;
    assert_eq!(a.expect("paused").await["active_hall"], "hall-2");

    // P2 in hall 1 reaches the paused tab; pressing there is refused (and not recorded).
    fire(app, "hall-1", "p2", hm(11, 0)).await;
    let p2 = prompt_on(&mut a, "p2").await;
    let ask = p2["challenge"]["ask"].clone();
    app.clock.set(hm(11, 20));
    assert_eq!(answer_with(&mut a, &p2, &ask).await["code"], "not_active");

    // Q1 in hall 2: one wrong answer, then the right one at 10:12:00.
    fire(app, "hall-2", "q1", hm(11, 30)).await;
    let q1 = prompt_on(&mut b, "q1").await;
    app.clock.set(hm(11, 50));
    let wrong = answer_with(&mut b, &q1, &wrong_choice(&q1)).await;
    assert_eq!(wrong["code"], "wrong_answer", "{backend}: {wrong}");
    app.clock.set(hm(12, 0));
    let ask = q1["challenge"]["ask"].clone();
    assert_eq!(answer_with(&mut b, &q1, &ask).await["type"], "confirmed");

    // 10:15: she closes hall 2 and is back in hall 1.
    app.clock.set(hm(15, 0));
    b.close().await;
    a.expect("resumed").await;

    // P3 at 10:20; her connection drops at 10:20:30 and she reconnects at 10:21:00. The new
    // tab shows P3 and she confirms it at 10:21:10.
    fire(app, "hall-1", "p3", hm(20, 0)).await;
    app.clock.set(hm(20, 30));
    a.close().await;
    app.clock.set(hm(21, 0));
    let mut c = app.connect(&token, "hall-1").await;
    let welcome = c.expect("welcome").await;
    assert_eq!(welcome["prompt"]["id"], "p3", "{backend}: {welcome}");
    app.clock.set(hm(21, 10));
    let p3 = welcome["prompt"].clone();
    let ask = p3["challenge"]["ask"].clone();
    assert_eq!(answer_with(&mut c, &p3, &ask).await["type"], "confirmed");

    // P4 at 10:25: three wrong answers lock it; the right answer after them is refused.
    fire(app, "hall-1", "p4", hm(25, 0)).await;
    let p4 = prompt_on(&mut c, "p4").await;
    let mut codes = Vec::new();
    for k in 1..=3 {
        app.clock.set(hm(25, 10 * k));
        let e = answer_with(&mut c, &p4, &wrong_choice(&p4)).await;
        codes.push(e["code"].as_str().unwrap().to_owned());
    }
    let locked = c.expect("tally").await;
    assert_eq!(
        locked["prompts"][3]["label"], "Не подтверждено: 3 неверных ответа",
        "{backend}: the tally says so at once: {locked}"
    );
    app.clock.set(hm(25, 40));
    let ask = p4["challenge"]["ask"].clone();
    let e = answer_with(&mut c, &p4, &ask).await;
    codes.push(e["code"].as_str().unwrap().to_owned());
    assert_eq!(
        codes,
        [
            "wrong_answer",
            "wrong_answer",
            "too_many_wrong_answers",
            "too_many_wrong_answers"
        ],
        "{backend}"
    );
    app.clock.set(hm(40, 0));
    c.close().await;
    app.wait_for_log(|events| {
        let n = |f: fn(&EventBody) -> bool| events.iter().filter(|e| f(&e.body)).count();
        n(|b| matches!(b, EventBody::Disconnect { .. })) == 3
            && n(|b| matches!(b, EventBody::WrongAnswer { .. })) == 4
    })
    .await;

    // After the session, every page tells every prompt the same way.
    app.clock.set(hm(61, 0));
    let mut tally = tally_says(app, &token, "hall-1").await;
    tally.extend(tally_says(app, &token, "hall-2").await);
    let expected = [
        (
            "p1",
            "not_confirmed",
            "Не подтверждено: окно закрылось без ответа",
        ),
        (
            "p2",
            "not_shown",
            "Не показано: в это время смотрели Зал №2",
        ),
        ("p3", "confirmed", "Подтверждено в 10:21:10"),
        ("p4", "not_confirmed", "Не подтверждено: 3 неверных ответа"),
        ("q1", "confirmed", "Подтверждено в 10:12:00"),
    ];
    let as_owned = |list: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        list.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(tally, as_owned(&expected), "{backend}: the tally");

    let (status, ev) = app.get(&format!("/api/org/viewers/{olga}/evidence")).await;
    assert_eq!(status, 200, "{backend}: {ev}");
    let mut evidence: Vec<(String, String, String)> = ev["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_owned();
            (s("prompt"), s("status"), s("label"))
        })
        .collect();
    evidence.sort();
    assert_eq!(evidence, tally, "{backend}: the evidence JSON");
    assert_eq!(ev["wrong_answers"].as_array().unwrap().len(), 4, "{ev}");

    let (status, html) = app
        .get_text(&format!("/api/org/viewers/{olga}/report"))
        .await;
    assert_eq!(status, 200, "{backend}");
    for (id, _, label) in &tally {
        assert!(
            html.contains(&format!("<td>{id}</td><td class="))
                && html.contains(&format!("\">{label}</td></tr>")),
            "{backend}: the report tells {id} as «{label}»"
        );
        let row = html
            .split("<tr>")
            .find(|r| r.contains(&format!("<td>{id}</td>")))
            .unwrap();
        assert!(row.contains(label.as_str()), "{backend}: {row}");
    }

    let (status, _, bytes) = get_bytes(app, "/api/org/export.csv?delimiter=%3B").await;
    assert_eq!(status, 200, "{backend}");
    let (header, rows) = read_csv(&bytes, b';');
    let cell = |session: &str| {
        rows.iter()
            .find(|r| r[column(&header, "ID участника")] == olga && r[0] == session)
            .unwrap_or_else(|| panic!("{backend}: no {session} row of Olga: {rows:?}"))
            [column(&header, "Окна подтверждения")]
        .clone()
    };
    let export = format!("{}; {}", cell("s1"), cell("s2"));
    let shown_at = ["10:05:00", "10:11:00", "10:20:00", "10:25:00", "10:11:30"];
    let told: Vec<String> = tally
        .iter()
        .zip(shown_at)
        .map(|((_, _, label), t)| format!("{t} — {label}"))
        .collect();
    assert_eq!(export, told.join("; "), "{backend}: the export row");

    // The server's verdict is the one the exported log gives offline.
    let (_, results) = app.get("/api/org/results?session=s1").await;
    let row = &results["rows"][0];
    assert_eq!(
        row["confirmations"], "Подтверждено 1 из 3 показанных (нужно 0)",
        "{backend}: {row}"
    );
    let events = app
        .state
        .store
        .events(&app.state.forum.id, None)
        .await
        .unwrap();
    let offline = yavka::domain::rules::evaluate(&app.state.forum, &events);
    let mine = offline
        .verdicts
        .iter()
        .find(|v| v.viewer == olga && v.session == "s1")
        .unwrap();
    assert_eq!((mine.confirmed, mine.shown), (1, 3), "{backend}");
    assert_eq!(json!(mine.reasons), row["reasons"], "{backend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_tells_each_prompt_the_same_way() {
    for db in TestDb::all().await {
        let app = TestApp::spawn_with(test_settings(&db.url), story_forum(), at(-5)).await;
        app.sign_in_organiser().await;
        one_status_per_prompt(&app, db.backend).await;
        app.stop().await;
        db.drop().await;
    }
}
