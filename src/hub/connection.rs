//! One socket, from its welcome to its recorded disconnect.
//!
//! One task per socket, split into a reader and a writer half run under one `select!`: whichever
//! ends first ends the other. The writer owns the bounded outbound queue, the protocol pings and
//! the close signal; the reader parses, rate-limits and answers client messages. Every way out
//! (a close, an error, a vanished client, a panic, the task being dropped) records exactly one
//! `disconnect`, through [`DisconnectGuard`].

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};

use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;
use crate::store::{StoreError, ViewerRow};

use super::bus::BusEvent;
use super::challenge;
use super::limits::TokenBucket;
use super::outbox::{Next, Outbox};
use super::protocol::{
    BadInput, ClientMsg, ErrorCode, HallInfo, ServerMsg, SessionInfo, ViewerInfo, Welcome, close,
    parse_client,
};
use super::registry::{CloseReason, ConnHandle};
use super::viewer::ViewerLive;
use super::{Admission, Hub};
use crate::ids::random_hex;

mod answers;

/// The client did not read fast enough: its outbound queue filled up.
pub(super) const SLOW: CloseReason = CloseReason {
    code: close::TOO_SLOW,
    reason: "клиент не успевает получать сообщения",
    metric: "slow_client",
};
const FLOOD: CloseReason = CloseReason {
    code: close::POLICY,
    reason: "слишком много сообщений",
    metric: "rate_limited",
};
const GARBAGE: CloseReason = CloseReason {
    code: close::POLICY,
    reason: "слишком много непонятных сообщений",
    metric: "bad_message",
};
const TOO_BIG: CloseReason = CloseReason {
    code: close::TOO_BIG,
    reason: "сообщение слишком длинное",
    metric: "oversize",
};
const PONG_TIMEOUT: CloseReason = CloseReason {
    code: close::PONG_TIMEOUT,
    reason: "нет ответа на ping",
    metric: "pong_timeout",
};

/// Sent before close 1011 when the connect cannot be recorded (the close frame carries the
/// first 123 bytes).
const STORE_AWAY: &str =
    "Подключение не записано: база данных временно недоступна. Переподключимся автоматически.";

/// Unreadable messages tolerated per connection (each answered with an error) before closing.
const MAX_BAD_MESSAGES: u32 = 5;
/// How long a close frame may take to leave before the socket is simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

pub(super) async fn reject(mut socket: WebSocket, code: u16, reason_ru: &str) {
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

/// How a socket ended.
enum Ending {
    /// The server closes it, with this reason.
    Close(CloseReason),
    /// The client sent a close frame.
    ClientClosed,
    /// The client vanished without one.
    Gone,
    /// Reading or writing failed (metric label).
    Failed(&'static str),
}

/// What [`open`] hands to the steady part of [`run`].
struct Opened {
    ctx: Ctx,
    socket: WebSocket,
    guard: DisconnectGuard,
}

/// Opens the connection, then hands the live socket to a task of its own and returns.
///
/// The upgrade's task carries everything the opening needed (the request's extractors, the
/// viewer's row, the welcome); a socket that lasts for hours should not. Its own task holds
/// only the steady state: measured with massif, the upgrade task's cell was 4 KiB per viewer.
/// Returns when the socket is live (or refused); [`Hub::shutdown`] waits for every socket.
pub(super) async fn run(
    hub: Hub,
    socket: WebSocket,
    viewer: ViewerRow,
    hall: String,
    admission: Admission,
) {
    if let Some(opened) = open(hub, socket, viewer, hall).await {
        tokio::spawn(live(opened, admission));
    }
}

/// The socket from its welcome to its recorded disconnect.
async fn live(opened: Opened, admission: Admission) {
    let _admission = admission;
    let Opened {
        ctx,
        socket,
        mut guard,
    } = opened;
    let hub = ctx.hub.clone();
    let (mut sink, mut stream) = socket.split();
    let ending = tokio::select! {
        e = ctx.read_loop(&mut stream) => e,
        e = ctx.write_loop(&mut sink) => e,
    };
    let mut disconnect_at = hub.now();
    match ending {
        Ending::Close(reason) => {
            if !matches!(reason.metric, "shutdown" | "revoked") {
                metrics::counter!("yavka_ws_errors_total", "reason" => reason.metric).increment(1);
            }
            if reason.metric == PONG_TIMEOUT.metric {
                // The viewer was last seen then, not now.
                disconnect_at = ctx.last_seen_clock.load(Ordering::Relaxed);
            }
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
        Ending::Failed(metric) => {
            metrics::counter!("yavka_ws_errors_total", "reason" => metric).increment(1);
        }
        Ending::ClientClosed | Ending::Gone => {}
    }
    drop(ctx);
    Box::pin(guard.finish(disconnect_at)).await;
}

/// Everything up to the live socket: the durable connect, the viewer's state, the welcome.
async fn open(hub: Hub, socket: WebSocket, viewer: ViewerRow, hall: String) -> Option<Opened> {
    if *hub.0.stopping.borrow() {
        reject(socket, close::GOING_AWAY, "сервер перезапускается").await;
        return None;
    }
    let Some(hall_info) = hub.0.forum.hall(&hall) else {
        reject(socket, close::UNKNOWN_HALL, "такого зала нет").await;
        return None;
    };
    let hall_info = HallInfo {
        id: hall_info.id.clone(),
        title: hall_info.title.clone(),
        stream_url: hall_info.stream_url.clone(),
    };
    let conn: Arc<str> = random_hex(16).into();
    let live = LiveToken::new(&hub);
    let connect = Event::new(
        hub.now(),
        EventBody::Connect {
            viewer: viewer.id.clone(),
            conn: conn.to_string(),
            hall: hall.clone(),
        },
    );
    // Durable before the viewer is told they are counted. While the store is away this is
    // refused within the writer's `give_up_ms`; the player reconnects with backoff.
    if let Err(e) = Box::pin(hub.0.writer.record_durable(connect.clone())).await {
        tracing::error!(viewer = %viewer.id, error = %e, "could not record a connect");
        metrics::counter!("yavka_ws_errors_total", "reason" => "store").increment(1);
        reject(socket, close::INTERNAL, STORE_AWAY).await;
        return None;
    }
    let state = hub.viewer_enter(&viewer.id);
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
    Box::pin(hub.load_viewer(&viewer.id, &state)).await;
    if let Err(e) = Box::pin(hub.ensure_prompts()).await {
        tracing::warn!(error = %e, "could not load the day's prompts");
    }

    let outbox = Arc::new(Outbox::new(hub.0.settings.outbound_queue.max(4)));
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
        session: hub.session_for(&hall, now).map(|s| SessionInfo {
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
    hub.0.registry.insert(handle.clone());
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
    };
    Some(Opened { ctx, socket, guard })
}

/// What the two halves share.
struct Ctx {
    hub: Hub,
    conn: Arc<str>,
    viewer: String,
    hall: String,
    state: Arc<Mutex<ViewerLive>>,
    handle: ConnHandle,
    started: Instant,
    /// Milliseconds after `started` of the last frame from the client.
    last_seen: AtomicU64,
    /// The same instant on the hub's clock, for the log.
    last_seen_clock: AtomicI64,
    last_heartbeat: AtomicI64,
}

impl Ctx {
    async fn read_loop(&self, stream: &mut SplitStream<WebSocket>) -> Ending {
        let s = &self.hub.0.settings;
        let mut bucket = TokenBucket::new(s.rate_per_sec, s.rate_burst, 0);
        let mut bad = 0;
        loop {
            let msg = match stream.next().await {
                None => return Ending::Gone,
                Some(Err(e)) => {
                    let text = e.to_string();
                    if text.contains("Space limit exceeded") || text.contains("too long") {
                        return Ending::Close(TOO_BIG);
                    }
                    tracing::debug!(conn = %self.conn, error = %text, "read failed");
                    return Ending::Failed("read_error");
                }
                Some(Ok(m)) => m,
            };
            if let Some(heartbeat) = self.seen() {
                self.record_heartbeat(heartbeat);
            }
            let text = match msg {
                // Pongs answer our pings (one per interval); they are not rate limited.
                Message::Pong(_) => continue,
                Message::Close(_) => return Ending::ClientClosed,
                other => {
                    if !bucket.try_take(self.started.elapsed().as_millis() as u64) {
                        return Ending::Close(FLOOD);
                    }
                    match other {
                        Message::Text(t) => t,
                        Message::Binary(_) => {
                            bad += 1;
                            if bad > MAX_BAD_MESSAGES {
                                return Ending::Close(GARBAGE);
                            }
                            metrics::counter!("yavka_ws_errors_total", "reason" => "binary")
                                .increment(1);
                            self.reply(ServerMsg::error(ErrorCode::BinaryNotSupported));
                            continue;
                        }
                        _ => continue, // pings are answered by the library
                    }
                }
            };
            match parse_client(&text, s.max_message_bytes) {
                Err(BadInput::TooBig) => return Ending::Close(TOO_BIG),
                Err(BadInput::Garbage) => {
                    bad += 1;
                    if bad > MAX_BAD_MESSAGES {
                        return Ending::Close(GARBAGE);
                    }
                    metrics::counter!("yavka_ws_errors_total", "reason" => "bad_message")
                        .increment(1);
                    self.reply(ServerMsg::error(ErrorCode::BadMessage));
                }
                Ok(ClientMsg::Ping) => {
                    let now = self.hub.now();
                    self.reply(ServerMsg::Pong { now });
                }
                Ok(ClientMsg::Confirm { prompt, answer }) => {
                    if let Err(code) = Box::pin(self.confirm(&prompt, &answer)).await {
                        self.reply(ServerMsg::error(code));
                    }
                }
            }
        }
    }

    async fn write_loop(&self, sink: &mut SplitSink<WebSocket, Message>) -> Ending {
        let s = &self.hub.0.settings;
        let outbox = &self.handle.outbox;
        let period = Duration::from_millis(s.ping_interval_ms.max(1));
        let timeout = Duration::from_millis(s.pong_timeout_ms);
        let mut ping = tokio::time::interval_at(Instant::now() + period, period);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let write = tokio::select! {
                biased;
                next = outbox.next() => match next {
                    Next::Close(reason) => return Ending::Close(reason),
                    Next::Send(first) => Some(first),
                },
                _ = ping.tick() => {
                    let silent = self.started.elapsed()
                        .saturating_sub(Duration::from_millis(self.last_seen.load(Ordering::Relaxed)));
                    if silent > timeout {
                        return Ending::Close(PONG_TIMEOUT);
                    }
                    None
                }
            };
            // Whatever is queued goes out in one flush. Writing waits for the client; a close
            // request (e.g. the queue overflowed meanwhile) cuts the wait short.
            let io = async {
                match write {
                    Some(first) => {
                        sink.feed(Message::Text(first)).await?;
                        while let Some(more) = outbox.try_pop() {
                            sink.feed(Message::Text(more)).await?;
                        }
                        sink.flush().await
                    }
                    None => sink.send(Message::Ping(Bytes::new())).await,
                }
            };
            tokio::select! {
                r = io => if r.is_err() { return Ending::Failed("write_error") },
                reason = outbox.closing() => return Ending::Close(reason),
            }
        }
    }

    /// A frame arrived: the client is alive. Gives a heartbeat to record at most once per ping
    /// interval.
    fn seen(&self) -> Option<Event> {
        let now = self.hub.now();
        self.last_seen
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.last_seen_clock.store(now, Ordering::Relaxed);
        let interval = self.hub.0.settings.ping_interval_ms as Millis;
        let last = self.last_heartbeat.load(Ordering::Relaxed);
        if now - last < interval {
            return None;
        }
        self.last_heartbeat.store(now, Ordering::Relaxed);
        Some(Event::new(
            now,
            EventBody::Heartbeat {
                conn: self.conn.to_string(),
            },
        ))
    }

    /// Never waits: the reader must keep reading (pongs included) whatever the store does.
    /// A heartbeat that finds the writer's queue full is skipped and the next frame tries
    /// again; only the latest one counts anyway.
    fn record_heartbeat(&self, event: Event) {
        if !self.hub.0.writer.try_record(event) {
            // "Long ago": the next frame records one.
            self.last_heartbeat.store(0, Ordering::Relaxed);
        }
    }

    /// Answers the client; one that does not read its answers is closed like any slow one.
    fn reply(&self, msg: ServerMsg) {
        self.handle.offer(msg.to_json().into(), SLOW);
    }

    /// Checks a confirm, records it durably and only then acknowledges it.
    async fn confirm(&self, prompt: &str, answer: &str) -> Result<(), ErrorCode> {
        let hub = &self.hub;
        let now = hub.now();
        let mut entry = hub.lock_prompts().get(prompt).cloned();
        if entry.is_none() {
            // Fired on another node while the broker was away? The store knows every prompt.
            hub.catch_up_prompts(true).await;
            entry = hub.lock_prompts().get(prompt).cloned();
        }
        let entry = entry.ok_or(ErrorCode::UnknownPrompt)?;
        if !entry.open_at(now) {
            return Err(ErrorCode::PromptClosed);
        }
        if entry.hall != self.hall {
            return Err(ErrorCode::WrongHall);
        }
        let wrong = {
            let mut st = self.state.lock().expect("viewer lock");
            if st.active_hall() != Some(self.hall.as_str()) {
                return Err(ErrorCode::NotActive);
            }
            if st.has_confirmed(prompt) {
                return Err(ErrorCode::AlreadyConfirmed);
            }
            let limit = hub.0.settings.max_wrong_answers;
            if st.wrong_answers(prompt) >= limit {
                return Err(ErrorCode::TooManyWrongAnswers);
            }
            let (challenge, _) = challenge::for_prompt(prompt);
            if challenge::is_right(&challenge, answer) {
                st.begin_confirm(prompt);
                None
            } else {
                // Counted here, under the lock, so answers racing in cannot pass the limit. An
                // identical one (same instant) changes nothing and is not recorded either.
                let event = Event::new(
                    now,
                    EventBody::WrongAnswer {
                        viewer: self.viewer.clone(),
                        conn: self.conn.to_string(),
                        prompt: prompt.to_owned(),
                    },
                );
                let new = st.apply(&event);
                let n = st.wrong_answers(prompt);
                Some((new.then_some(event), n, n >= limit))
            }
        };
        if let Some((event, n, locked)) = wrong {
            return Box::pin(self.wrong_answer(prompt, event, n, locked)).await;
        }
        let event = Event::new(
            now,
            EventBody::Confirm {
                viewer: self.viewer.clone(),
                conn: self.conn.to_string(),
                prompt: prompt.to_owned(),
            },
        );
        let recorded = hub.0.writer.record_durable(event.clone()).await;
        {
            let mut st = self.state.lock().expect("viewer lock");
            if recorded.is_ok() {
                st.apply(&event);
            }
            st.end_confirm(prompt);
        }
        if let Err(e) = recorded {
            tracing::error!(conn = %self.conn, prompt, error = %e, "could not record a confirm");
            return Err(ErrorCode::Unavailable);
        }
        metrics::counter!("yavka_confirms_total").increment(1);
        if let Some(p) = hub.lock_prompts().get_mut(prompt) {
            p.confirmed += 1;
        }
        hub.publish_viewer_event(&self.viewer, event);
        self.reply(ServerMsg::Confirmed {
            prompt: prompt.to_owned(),
        });
        if let Some(t) = hub.tally_json(&self.state, &self.hall) {
            self.handle.offer(t.into(), SLOW);
        }
        hub.viewer_changed(&self.viewer, Some(&self.conn), Some(prompt));
        Ok(())
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // Whatever ended the socket, stop fan-out to it before the disconnect is recorded.
        self.handle.close(SLOW);
    }
}

/// Keeps `Hub::shutdown` waiting while a socket has not recorded its disconnect.
struct LiveToken(Hub);

impl LiveToken {
    fn new(hub: &Hub) -> LiveToken {
        hub.0.live.send_modify(|n| *n += 1);
        LiveToken(hub.clone())
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.0.0.live.send_modify(|n| *n -= 1);
    }
}

struct Cleanup {
    hub: Hub,
    conn: Arc<str>,
    viewer: String,
    hall: String,
    state: Arc<Mutex<ViewerLive>>,
    _live: LiveToken,
}

impl Cleanup {
    async fn run(self, at: Millis) {
        let hub = &self.hub;
        hub.0.registry.remove(&self.hall, &self.conn);
        let event = Event::new(
            at,
            EventBody::Disconnect {
                conn: self.conn.to_string(),
            },
        );
        // Waited for, so that `Hub::shutdown` returns with every disconnect stored; but only
        // for the writer's `give_up_ms`: through a store outage the writer keeps it and
        // writes it when the store is back.
        match hub.0.writer.record_kept(event.clone()).await {
            Ok(()) => {}
            Err(StoreError::Unavailable(_)) => {
                tracing::warn!(conn = %self.conn, "disconnect held until the store is back");
            }
            Err(e) => {
                tracing::error!(conn = %self.conn, error = %e, "could not record a disconnect");
                metrics::counter!("yavka_ws_errors_total", "reason" => "store").increment(1);
            }
        }
        let changed = self.state.lock().expect("viewer lock").apply(&event);
        hub.publish_viewer_event(&self.viewer, event);
        if changed {
            hub.viewer_changed(&self.viewer, None, None);
        }
        hub.viewer_leave(&self.viewer);
        tracing::debug!(conn = %self.conn, viewer = %self.viewer, "connection closed");
    }
}

/// Records the disconnect exactly once: by [`DisconnectGuard::finish`] on the normal path, or
/// from `Drop` (a panic, or the task dropped mid-way) on a fresh task.
struct DisconnectGuard(Option<Cleanup>);

impl DisconnectGuard {
    async fn finish(&mut self, at: Millis) {
        if let Some(c) = self.0.take() {
            c.run(at).await;
        }
    }
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            let at = c.hub.now();
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(c.run(at));
                }
                Err(_) => tracing::error!(conn = %c.conn, "disconnect not recorded: no runtime"),
            }
        }
    }
}

impl Hub {
    /// The viewer's live state, created if this is their first socket here.
    fn viewer_enter(&self, viewer: &str) -> Arc<Mutex<ViewerLive>> {
        let mut map = self.0.viewers.lock().expect("viewers lock");
        let state = map
            .entry(viewer.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(ViewerLive::new(viewer))));
        state.lock().expect("viewer lock").local += 1;
        state.clone()
    }

    /// Drops the viewer's live state with their last socket here.
    fn viewer_leave(&self, viewer: &str) {
        let mut map = self.0.viewers.lock().expect("viewers lock");
        if let Some(state) = map.get(viewer) {
            let mut st = state.lock().expect("viewer lock");
            st.local -= 1;
            if st.local == 0 {
                drop(st);
                map.remove(viewer);
            }
        }
    }

    /// Merges the viewer's stored events, once per live state.
    async fn load_viewer(&self, viewer: &str, state: &Mutex<ViewerLive>) {
        if state.lock().expect("viewer lock").loaded {
            return;
        }
        match self.0.store.viewer_events(&self.0.forum.id, viewer).await {
            Ok(events) => {
                let mut st = state.lock().expect("viewer lock");
                for e in &events {
                    st.apply(e);
                }
                st.loaded = true;
            }
            // The tally shown may be short until the next connection; the log is intact.
            Err(e) => tracing::warn!(viewer, error = %e, "could not load a viewer's events"),
        }
    }

    /// Tells every node about one of `viewer`'s recorded events, caused here.
    fn publish_viewer_event(&self, viewer: &str, event: Event) {
        self.publish_logged(&BusEvent::Viewer {
            viewer: viewer.to_owned(),
            event,
            node: self.node().to_owned(),
        });
    }

    fn publish_logged(&self, event: &BusEvent) {
        if let Err(e) = self.publish(event) {
            tracing::warn!(error = %e, "could not publish to the broker");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        for r in [
            SLOW,
            FLOOD,
            GARBAGE,
            TOO_BIG,
            PONG_TIMEOUT,
            super::super::REVOKED,
        ] {
            assert!(r.reason.len() <= 123, "{}", r.reason);
        }
        let revoked = super::super::REVOKED;
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
