//! The wire protocol's tests: parsing what a tab sends, and the JSON of what it is sent.

use super::*;
use crate::domain::rules::Status;

#[test]
fn parses_known_messages() {
    assert_eq!(
        parse_client(r#"{"type":"confirm","prompt":"p1","answer":"47"}"#, 4096),
        Ok(ClientMsg::Confirm {
            prompt: "p1".into(),
            answer: "47".into(),
            hints: None,
        })
    );
    assert_eq!(
        parse_client(r#"{"type":"ping"}"#, 4096),
        Ok(ClientMsg::Ping)
    );
}

#[test]
fn a_confirm_keeps_the_pages_hints_and_is_never_refused_over_them() {
    let with = r#"{"type":"confirm","prompt":"p1","answer":"47","hints":{"trusted":true,"input":"touch","visible":true,"focused":false,"rendered":true}}"#;
    let Ok(ClientMsg::Confirm { hints, .. }) = parse_client(with, 4096) else {
        panic!("not a confirm");
    };
    let h = hints.expect("hints kept");
    assert!(h.trusted && h.rendered && !h.focused);
    assert_eq!(h.input, crate::domain::log::Input::Touch);
    let odd = r#"{"type":"confirm","prompt":"p1","answer":"47","hints":{"trusted":"yes"}}"#;
    assert!(matches!(
        parse_client(odd, 4096),
        Ok(ClientMsg::Confirm { hints: None, .. })
    ));
}

#[test]
fn the_writer_recognises_prompts_by_their_tag() {
    let p = ServerMsg::Pong { now: 5 }.to_json();
    assert_eq!(prompt_id_of(&p), None);
    assert_eq!(
        prompt_id_of(r#"{"type":"prompt","id":"p-7","hall":"a","ts":1,"closes":2}"#).as_deref(),
        Some("p-7")
    );
}

#[test]
fn refuses_garbage_unknown_types_and_missing_fields() {
    for text in [
        "",
        "+",
        "not json",
        r#"{"type":"dance"}"#,
        r#"{"prompt":"p1"}"#,
        r#"{"type":"confirm","prompt":"p1"}"#,
        r#"{"type":"confirm","prompt":1,"answer":"2"}"#,
        "[1,2,3]",
    ] {
        assert_eq!(parse_client(text, 4096), Err(BadInput::Garbage), "{text}");
    }
}

#[test]
fn refuses_oversize_before_parsing() {
    let big = format!(
        r#"{{"type":"confirm","prompt":"{}","answer":"1"}}"#,
        "x".repeat(5000)
    );
    assert_eq!(parse_client(&big, 4096), Err(BadInput::TooBig));
    assert!(parse_client(&big, 10_000).is_ok());
}

#[test]
fn server_messages_have_the_documented_shape() {
    let t = ServerMsg::Tally(Tally {
        session: "s1".into(),
        counted_ms: 60_000,
        min_ms: 270 * 60_000,
        confirmed: 1,
        required: 4,
        prompts_shown: 2,
        counting: true,
        as_of: 5,
        prompts: vec![TallyPrompt {
            id: "p1".into(),
            ts: 1,
            closes: 2,
            status: Status::Confirmed,
            label: "Подтверждено в 10:00:01".into(),
        }],
        eligible: false,
        reasons: vec![],
        session_over: false,
    });
    let v: serde_json::Value = serde_json::from_str(&t.to_json()).unwrap();
    assert_eq!(v["type"], "tally");
    assert_eq!(v["session"], "s1");
    assert_eq!(v["counting"], true);
    assert_eq!(v["prompts"][0]["status"], "confirmed");
    assert_eq!(v["session_over"], false);
    let e: serde_json::Value =
        serde_json::from_str(&ServerMsg::error(ErrorCode::AlreadyConfirmed).to_json()).unwrap();
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "already_confirmed");
    assert_eq!(e["message"], "Участие уже подтверждено.");
    let p: serde_json::Value = serde_json::from_str(
        &ServerMsg::Paused {
            active_hall: "h2".into(),
        }
        .to_json(),
    )
    .unwrap();
    assert_eq!(p, serde_json::json!({"type":"paused","active_hall":"h2"}));
    assert_eq!(ServerMsg::Resumed.to_json(), r#"{"type":"resumed"}"#);
    let h: serde_json::Value = serde_json::from_str(
        &ServerMsg::Hall {
            hall: HallInfo {
                id: "h1".into(),
                title: "Большой зал".into(),
                stream_url: "https://s/2".into(),
            },
        }
        .to_json(),
    )
    .unwrap();
    assert_eq!(
        h,
        serde_json::json!({"type":"hall","hall":{"id":"h1","title":"Большой зал","stream_url":"https://s/2"}})
    );
}
