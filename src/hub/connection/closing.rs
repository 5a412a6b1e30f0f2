//! How the server ends a socket: the `error` message the page explains itself with, then the
//! close frame, its reason cut to fit. The codes and reasons themselves are in
//! [`protocol::close`](crate::hub::protocol::close).

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;

use super::CLOSE_GRACE;
use crate::hub::protocol::ErrorCode;
use crate::hub::protocol::close::{self, CloseReason};

pub(in crate::hub) async fn reject(mut socket: WebSocket, code: u16, reason_ru: &str) {
    let error = match code {
        close::UNAUTHORIZED => ErrorCode::Unauthorized,
        close::UNKNOWN_HALL => ErrorCode::UnknownHall,
        close::GOING_AWAY => ErrorCode::ShuttingDown,
        _ => ErrorCode::Unavailable,
    };
    let text = error_message(error, reason_ru);
    let frame = CloseFrame {
        code,
        reason: truncate_utf8(reason_ru, 123).into(),
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        socket.send(Message::Text(text.into())).await?;
        socket.send(Message::Close(Some(frame))).await
    })
    .await;
}

/// `{"type":"error"}` with the close's reason as its message.
fn error_message(code: ErrorCode, reason_ru: &str) -> String {
    serde_json::json!({"type": "error", "code": code, "message": reason_ru}).to_string()
}

/// The `error` message that goes before a close of a live socket, for closes the page must
/// explain rather than retry (a revoked link).
fn error_before_close(code: u16, reason_ru: &str) -> Option<String> {
    (code == close::UNAUTHORIZED).then(|| error_message(ErrorCode::Unauthorized, reason_ru))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Sends the close frame of `reason` on a live socket, preceded by an `error` where the page
/// must explain rather than retry; gives up after [`CLOSE_GRACE`].
pub(super) async fn close_live(sink: &mut SplitSink<WebSocket, Message>, reason: CloseReason) {
    let frame = CloseFrame {
        code: reason.code,
        reason: Utf8Bytes::from_static(reason.reason),
    };
    let send = tokio::time::timeout(CLOSE_GRACE, async {
        // A link revoked while the tab is open is told the way a refused connect is
        // (`error`, then the close), so the page shows the same sentence either way.
        if let Some(error) = error_before_close(reason.code, reason.reason) {
            sink.send(Message::Text(error.into())).await?;
        }
        sink.send(Message::Close(Some(frame))).await
    });
    let _ = Box::pin(send).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        for r in [
            close::SLOW,
            close::FLOOD,
            close::GARBAGE,
            close::OVERSIZE,
            close::SILENT,
            close::REVOKED,
        ] {
            assert!(r.reason.len() <= 123, "{}", r.reason);
        }
        let revoked = close::REVOKED;
        let error = error_before_close(revoked.code, revoked.reason).expect("an error first");
        let json: serde_json::Value = serde_json::from_str(&error).unwrap();
        assert_eq!(json["code"], "unauthorized");
        assert_eq!(json["message"], revoked.reason);
        assert!(error_before_close(close::TOO_SLOW, "x").is_none());
        let long = "я".repeat(100);
        let t = truncate_utf8(&long, 123);
        assert!(t.len() <= 123 && t.chars().all(|c| c == 'я'));
    }
}
