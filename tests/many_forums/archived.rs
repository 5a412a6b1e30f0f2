//! An archived forum's records stay within reach (issue 13): with `forum=ID` the organiser
//! reads its results, downloads its exports, certificates and evidence reports, answers its
//! appeals, imports codes and mails certificates, and a viewer's link still shows their own
//! results; nothing live happens in it (a prompt or a registration is refused with 409), a
//! draft has no records to show (404 saying it is a draft), and neither is deleted (409 saying
//! what to do instead).

use serde_json::json;

use super::{SECOND_ID, TestApp};

/// After the spring forum (`SECOND_ID`) is archived: `anna` is the viewer id of its one viewer,
/// with her personal link `token` and the code she was issued for s1.
pub async fn records_stay_within_reach(
    app: &TestApp,
    backend: &str,
    anna: &str,
    token: &str,
    code: &str,
) {
    let f = format!("forum={SECOND_ID}");
    let (status, results) = app.get(&format!("/api/org/results?session=s1&{f}")).await;
    assert_eq!(status, 200, "{backend}: results of the archive: {results}");
    let row = &results["rows"][0];
    assert_eq!(
        row["name"], "Иванова Анна Сергеевна",
        "{backend}: {results}"
    );
    assert_eq!(row["code"], code, "{backend}: {results}");

    for (what, path) in [
        (
            "results CSV",
            format!("/api/org/results.csv?session=s1&{f}"),
        ),
        ("export CSV", format!("/api/org/export.csv?{f}")),
        (
            "evidence report",
            format!("/api/org/viewers/{anna}/report?{f}"),
        ),
    ] {
        let (status, text) = app.get_text(&path).await;
        assert_eq!(status, 200, "{backend}: {what}: {text}");
        assert!(text.contains("Иванова"), "{backend}: {what} names Anna");
    }
    let pdf = app
        .http
        .get(app.url(&format!("/api/org/viewers/{anna}/certificate.pdf?{f}")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200, "{backend}: the certificate");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"), "{backend}");
    let (status, appeals) = app.get(&format!("/api/org/appeals?{f}")).await;
    assert_eq!(status, 200, "{backend}: {appeals}");

    // The commission's pool for the archived forum is imported, and certificates are mailed.
    let (status, pool) = app
        .post_text(
            &format!("/api/org/codes/pool?session=s1&{f}"),
            "ARCHIVE12345",
        )
        .await;
    assert_eq!(status, 200, "{backend}: a pool for the archive: {pool}");
    assert_eq!(pool["added"], 1, "{backend}: {pool}");
    let before = app.mail.letters_to("anna@example.org").len();
    let (status, queued) = app
        .post(&format!("/api/org/mail/certificates?{f}"), json!({}))
        .await;
    assert_eq!(status, 200, "{backend}: certificates mailed: {queued}");
    let letters = app
        .mail
        .wait_for_letters_to("anna@example.org", before + 1)
        .await;
    assert!(
        letters[before].text().contains(code),
        "{backend}: the certificate letter carries the code"
    );
    let (status, log) = app.get(&format!("/api/org/mail/log?{f}")).await;
    assert_eq!(status, 200, "{backend}: {log}");

    // Anna's link still opens her own results, without naming the forum.
    let (status, me) = app.get(&format!("/api/me/results?token={token}")).await;
    assert_eq!(
        status, 200,
        "{backend}: her results after the archive: {me}"
    );
    assert!(me.to_string().contains(code), "{backend}: {me}");

    // Nothing live happens in the archive.
    let (status, refused) = app
        .post(&format!("/api/org/prompts?{f}"), json!({"hall": "hall-1"}))
        .await;
    assert_eq!(status, 409, "{backend}: {refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("в архиве"),
        "{backend}: {refused}"
    );
    // It is not chosen for a request that names no forum: the live forum is.
    let (status, fired) = app
        .post("/api/org/prompts", json!({"hall": "hall-1"}))
        .await;
    assert_eq!(status, 200, "{backend}: {fired}");
    let (_, public) = app.get("/api/forums").await;
    assert!(
        !public.to_string().contains(SECOND_ID),
        "{backend}: the archive is not offered to viewers: {public}"
    );

    // Nobody registers for the archive.
    super::registration_closed(app, &f, backend).await;

    // A draft has no records, and nobody registers for it: 404 naming its state.
    let draft = super::second_forum_toml("2026-05-01").replace(SECOND_ID, "draft-forum");
    let (status, body) = app
        .post_typed("/api/org/forums", "application/toml", draft.as_bytes())
        .await;
    assert_eq!(status, 201, "{backend}: {body}");
    let (status, none) = app
        .get("/api/org/results?session=s1&forum=draft-forum")
        .await;
    assert_eq!(status, 404, "{backend}: {none}");
    assert!(
        none["error"].as_str().unwrap().contains("Черновик"),
        "{backend}: {none}"
    );
    let form = super::registration_form(app, SECOND_ID, "Поздний Пётр", "late@example.org").await;
    let (status, refused) = app.post("/api/register?forum=draft-forum", form).await;
    assert_eq!(status, 404, "{backend}: {refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("Черновик"),
        "{backend}: {refused}"
    );

    // A forum is never deleted: one with issued codes is archived, a draft left unpublished.
    for (id, says) in [
        (SECOND_ID, "выдано кодов НМО"),
        ("draft-forum", "не удаляются"),
    ] {
        let r = app
            .http
            .delete(app.url(&format!("/api/org/forums/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "{backend}: {id}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains(says),
            "{backend}: {body}"
        );
    }
    let (status, check) = app.get(&format!("/verify/{code}?format=json")).await;
    assert_eq!(
        (status, &check["genuine"]),
        (200, &json!(true)),
        "{backend}"
    );

    // Brought back from the archive, the forum runs again as a finished one.
    let (status, body) = app
        .post(
            &format!("/api/org/forums/{SECOND_ID}/state"),
            json!({"state": "finished"}),
        )
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    assert!(
        !app.state.forums.is_archived(SECOND_ID) && app.state.forums.get(SECOND_ID).is_some(),
        "{backend}: a finished forum runs in full"
    );
}
