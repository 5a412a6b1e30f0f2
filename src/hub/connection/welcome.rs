//! The opening of a socket: the durable connect, the viewer's live state, the welcome with the
//! open prompt and the tally, and the registration that starts fan-out to it.

use compact_str::ToCompactString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};

use axum::extract::ws::WebSocket;
use tokio::time::Instant;

use super::closing::reject;
use super::disconnect::{Cleanup, DisconnectGuard, LiveToken};
use super::{Ctx, Opened, Written};
use crate::domain::live;
use crate::domain::log::{Event, EventBody, Evidence};
use crate::hub::Hub;
use crate::hub::outbox::Outbox;
use crate::hub::protocol::close::{self, SLOW};
use crate::hub::protocol::{HallInfo, ServerMsg, SessionInfo, ViewerInfo, Welcome};
use crate::hub::registry::ConnHandle;
use crate::ids::random_hex;
use crate::store::ViewerRow;

/// Everything up to the live socket: the durable connect, the viewer's state, the welcome.
pub(super) async fn open(
    hub: Hub,
    socket: WebSocket,
    viewer: ViewerRow,
    hall: String,
    seen: Evidence,
) -> Option<Opened> {
    if hub.is_stopping() {
        reject(socket, close::GOING_AWAY, close::RESTARTING).await;
        return None;
    }
    // The forum as it runs now, taken once for the whole welcome.
    let forum = hub.forum();
    let Some(hall_info) = forum.hall(&hall).map(HallInfo::of) else {
        reject(socket, close::UNKNOWN_HALL, close::NO_SUCH_HALL).await;
        return None;
    };
    let conn: Arc<str> = random_hex(16).into();
    let live = LiveToken::new(&hub);
    let connect = Event::with_evidence(
        hub.now(),
        EventBody::Connect {
            viewer: viewer.id.as_str().into(),
            conn: conn.to_compact_string(),
            hall: hall.as_str().into(),
        },
        seen,
    );
    let state = hub.viewers().enter(&viewer.id);
    // Durable before the viewer is told they are counted. While the store is away this is
    // refused within the writer's `give_up_ms`; the player reconnects with backoff. The
    // viewer's earlier events are read meanwhile: the two round trips overlap instead of
    // adding up, and the live state takes events in any order and each only once, so it
    // does not matter whether the read sees the new connect.
    let (recorded, ()) = tokio::join!(
        Box::pin(hub.writer().record_durable(connect.clone())),
        Box::pin(hub.load_viewer(&viewer.id, &state)),
    );
    if let Err(e) = recorded {
        hub.viewers().leave(&viewer.id);
        tracing::error!(viewer = %viewer.id, error = %e, "could not record a connect");
        metrics::counter!("yavka_ws_errors_total", "reason" => "store").increment(1);
        reject(socket, close::INTERNAL, close::STORE_AWAY).await;
        return None;
    }
    let guard = DisconnectGuard(Some(Cleanup {
        hub: hub.clone(),
        conn: conn.clone(),
        viewer: viewer.id.clone(),
        hall: hall.clone(),
        state: state.clone(),
        _live: live,
    }));
    state.lock().expect("viewer lock").apply(&connect);
    hub.publish_viewer_event(&viewer.id, connect);
    if let Err(e) = Box::pin(hub.ensure_prompts()).await {
        tracing::warn!(error = %e, "could not load the day's prompts");
    }

    let outbox = Arc::new(Outbox::new(hub.settings().outbound_queue.max(4)));
    let now = hub.now();
    let open: Vec<_> = hub
        .lock_prompts()
        .open_in(&hall, now)
        .into_iter()
        .cloned()
        .collect();
    let (active_hall, open, paused) = {
        let st = state.lock().expect("viewer lock");
        let open: Vec<_> = open
            .into_iter()
            .filter(|p| !st.has_confirmed(&p.id))
            .collect();
        (
            st.active_hall().map(str::to_owned),
            open,
            st.paused_for(&hall).is_some(),
        )
    };
    let welcome_prompt = open.last().map(|p| p.to_msg());
    let welcome = ServerMsg::Welcome(Box::new(Welcome {
        conn: conn.to_string(),
        viewer: ViewerInfo {
            id: viewer.id.clone(),
            name: viewer.name.clone(),
        },
        hall: hall_info,
        session: live::session_for(&forum, &hall, now).map(|s| SessionInfo {
            id: s.id.clone(),
            title: s.title.clone(),
            starts: s.starts,
            ends: s.ends,
            min_minutes: s.min_minutes,
            prompts: s.prompts,
            prompts_required: s.prompts_required,
        }),
        active_hall,
        prompt: welcome_prompt.clone(),
        now,
    }));
    // The queue is new and holds at least four: these cannot fail.
    outbox.push(welcome.to_json().into());
    if let Some(t) = hub.tally_json(&state, &hall) {
        outbox.push(t.into());
    }
    let handle = ConnHandle {
        conn: conn.clone(),
        viewer: viewer.id.as_str().into(),
        hall: hall.as_str().into(),
        outbox,
        paused: Arc::new(AtomicBool::new(paused)),
    };
    hub.registry().insert(handle.clone());
    // A prompt fanned out between building the welcome and registering would be missed.
    for p in hub.lock_prompts().open_in(&hall, hub.now()) {
        let sent = welcome_prompt.as_ref().is_some_and(|w| w.id == p.id);
        if p.fanned_out && !sent && !state.lock().expect("viewer lock").has_confirmed(&p.id) {
            handle.offer(ServerMsg::Prompt(p.to_msg()).to_json().into(), SLOW);
        }
    }
    // Older tabs of this viewer, here and (through the broker) elsewhere, learn they are paused.
    hub.viewer_changed(&viewer.id, Some(&conn), None);
    tracing::debug!(conn = %conn, viewer = %viewer.id, hall, "connection open");

    let ctx = Ctx {
        hub: hub.clone(),
        conn,
        viewer: viewer.id.clone(),
        hall,
        state,
        handle,
        started: Instant::now(),
        last_seen: AtomicU64::new(0),
        last_seen_clock: AtomicI64::new(now),
        last_heartbeat: AtomicI64::new(now),
        written: Written::default(),
    };
    Some(Opened { ctx, socket, guard })
}
