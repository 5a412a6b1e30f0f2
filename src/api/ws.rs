//! The websocket entry: `/ws?token=…&hall=…` (protocol in `docs/protocol.md`).
//!
//! A bad token or hall still gets a websocket, closed at once with a code and a Russian
//! reason, because a browser cannot read the HTTP status of a refused upgrade and the player
//! must be able to tell the viewer what is wrong. Only overload is refused before the upgrade.

use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::access::ClientAddress;
use super::auth::token_hash;
use super::evidence::{PAGE_COOKIE, at_connect};
use super::extract::{Json, Query};
use super::pick::Picked;
use crate::hub::protocol::close;
use crate::hub::{Hub, HubSettings};

#[derive(Deserialize)]
pub struct WsQuery {
    pub token: Option<String>,
    pub hall: Option<String>,
}

pub async fn upgrade(
    Picked(state): Picked,
    Query(q): Query<WsQuery>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    cookies: CookieJar,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(admission) = state.hub.try_admit() else {
        tracing::warn!("websocket refused: connection limit reached");
        metrics::counter!("yavka_ws_refused_total").increment(1);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "60")],
            Json(json!({ "error": "Сервер перегружен. Переподключитесь через минуту." })),
        )
            .into_response();
    };
    let token = q.token.unwrap_or_default();
    let viewer = match state
        .store
        .viewer_by_token_hash(&state.forum.id, &token_hash(token.trim()))
        .await
    {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "websocket: viewer lookup failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "60")],
                Json(
                    json!({ "error": "Сервер временно недоступен. Переподключитесь через минуту." }),
                ),
            )
                .into_response();
        }
    };
    // The hall is checked by the hub as the connection opens (close 4404).
    let hall = q.hall.unwrap_or_default();
    let seen = at_connect(
        &state.evidence_key,
        state.settings.evidence.address,
        address.and_then(|a| a.parse().ok()),
        &headers,
        cookies.get(PAGE_COOKIE).map(|c| c.value()),
        state.clock.now(),
    );
    let hub = state.hub.clone();
    configure(upgrade, hub.settings())
        .on_upgrade(move |socket| async move {
            match viewer {
                None => {
                    tracing::info!("websocket closed: unknown or revoked token");
                    Hub::reject(socket, close::UNAUTHORIZED, close::BAD_LINK).await;
                }
                Some(viewer) => hub.serve(socket, viewer, hall, seen, admission).await,
            }
        })
        .into_response()
}

/// Applies the buffer and size limits of the hub's settings to an upgrade. The hard frame and
/// message limit is twice `max_message_bytes`: the hub itself closes anything over
/// `max_message_bytes` with 1009, and the library's limit only guards memory.
pub fn configure(upgrade: WebSocketUpgrade, s: &HubSettings) -> WebSocketUpgrade {
    let hard = s.max_message_bytes.saturating_mul(2).max(256);
    upgrade
        .read_buffer_size(s.read_buffer)
        .write_buffer_size(s.write_buffer)
        .max_write_buffer_size(s.max_write_buffer.max(s.write_buffer + 1))
        .max_message_size(hard)
        .max_frame_size(hard)
}
