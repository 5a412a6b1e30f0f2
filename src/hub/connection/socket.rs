//! The live socket: the reader parses, rate-limits and answers client messages; the writer
//! drains the outbound queue in batches, pings, and notices a silent client or a close request.

use compact_str::ToCompactString;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};

use super::{Ctx, Ending, MAX_BAD_MESSAGES, Opened, closing};
use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;
use crate::hub::Admission;
use crate::hub::limits::TokenBucket;
use crate::hub::outbox::Next;
use crate::hub::protocol::close::{FLOOD, GARBAGE, OVERSIZE, SILENT, SLOW};
use crate::hub::protocol::{BadInput, ClientMsg, ErrorCode, ServerMsg, parse_client, prompt_id_of};

/// The socket from its welcome to its recorded disconnect.
pub(super) async fn live(opened: Opened, admission: Admission) {
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
            if reason.metric == SILENT.metric {
                // The viewer was last seen then, not now.
                disconnect_at = ctx.last_seen_clock.load(Ordering::Relaxed);
            }
            Box::pin(closing::close_live(&mut sink, reason)).await;
        }
        Ending::Failed(metric) => {
            metrics::counter!("yavka_ws_errors_total", "reason" => metric).increment(1);
        }
        Ending::ClientClosed | Ending::Gone => {}
    }
    drop(ctx);
    Box::pin(guard.finish(disconnect_at)).await;
}

impl Ctx {
    async fn read_loop(&self, stream: &mut SplitStream<WebSocket>) -> Ending {
        let s = self.hub.settings();
        let mut bucket = TokenBucket::new(s.rate_per_sec, s.rate_burst, 0);
        let mut bad = 0;
        loop {
            let msg = match stream.next().await {
                None => return Ending::Gone,
                Some(Err(e)) => {
                    let text = e.to_string();
                    if text.contains("Space limit exceeded") || text.contains("too long") {
                        return Ending::Close(OVERSIZE);
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
                Err(BadInput::TooBig) => return Ending::Close(OVERSIZE),
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
                Ok(ClientMsg::Confirm {
                    prompt,
                    answer,
                    hints,
                }) => {
                    if let Err(code) = Box::pin(self.confirm(&prompt, &answer, hints)).await {
                        self.reply(ServerMsg::error(code));
                    }
                }
            }
        }
    }

    async fn write_loop(&self, sink: &mut SplitSink<WebSocket, Message>) -> Ending {
        let s = self.hub.settings();
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
                        return Ending::Close(SILENT);
                    }
                    None
                }
            };
            // Whatever is queued goes out in one flush. Writing waits for the client; a close
            // request (e.g. the queue overflowed meanwhile) cuts the wait short.
            let io = async {
                match write {
                    Some(first) => {
                        let mut prompts = Vec::new();
                        prompts.extend(prompt_id_of(first.as_str()));
                        sink.feed(Message::Text(first)).await?;
                        while let Some(more) = outbox.try_pop() {
                            prompts.extend(prompt_id_of(more.as_str()));
                            sink.feed(Message::Text(more)).await?;
                        }
                        sink.flush().await?;
                        // An answer is timed from here: the prompt is on its way to the client.
                        for p in prompts {
                            self.written.note(p, self.hub.now());
                        }
                        Ok(())
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
        let interval = self.hub.settings().ping_interval_ms as Millis;
        let last = self.last_heartbeat.load(Ordering::Relaxed);
        if now - last < interval {
            return None;
        }
        self.last_heartbeat.store(now, Ordering::Relaxed);
        Some(Event::new(
            now,
            EventBody::Heartbeat {
                conn: self.conn.to_compact_string(),
            },
        ))
    }

    /// Never waits: the reader must keep reading (pongs included) whatever the store does.
    /// A heartbeat that finds the writer's queue full is skipped and the next frame tries
    /// again; only the latest one counts anyway.
    fn record_heartbeat(&self, event: Event) {
        if !self.hub.writer().try_record(event) {
            // "Long ago": the next frame records one.
            self.last_heartbeat.store(0, Ordering::Relaxed);
        }
    }

    /// Answers the client; one that does not read its answers is closed like any slow one.
    pub(super) fn reply(&self, msg: ServerMsg) {
        self.handle.offer(msg.to_json().into(), SLOW);
    }
}
