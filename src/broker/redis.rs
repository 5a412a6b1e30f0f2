//! The broker through Redis pub/sub, for a forum served by several nodes.
//!
//! One Redis channel per forum (`yavka:<forum>:bus`): every node needs every message, so
//! per-hall channels would only multiply subscriptions. A message goes on the wire as
//! `node \n topic \n payload`; a node skips its own messages coming back, because it delivered
//! them to itself at once through the in-process channel. That local path is what keeps a node
//! whole while Redis is away: its viewers still get its prompts and their confirms are still
//! recorded, and only other nodes' news is missing until Redis returns.
//!
//! Two background tasks: a sender that drains a bounded outbox into pipelined PUBLISHes, and a
//! subscriber that reconnects with backoff and announces a [`Delivery::Gap`] after each outage.
//! Nothing waits on Redis on the live path: when the outbox is full or Redis is down, messages
//! for other nodes are dropped, counted and logged once per outage.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::{Instant, timeout};

use super::{BrokerError, BusMessage, Delivery, Topic};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(3);
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Messages sent in one pipeline; a burst (a prompt's confirms) goes out in few round trips.
const PIPELINE: usize = 256;

#[derive(Debug, Clone)]
pub struct RedisBroker {
    pub(super) local: broadcast::Sender<Delivery>,
    outbox: mpsc::Sender<BusMessage>,
    shared: Arc<Shared>,
    pub(super) node: Arc<str>,
}

#[derive(Debug)]
struct Shared {
    /// Whether the subscriber holds a live subscription.
    subscribed: AtomicBool,
    /// Dropped with the last clone of the broker: tells the subscriber to stop.
    _stop: watch::Sender<()>,
}

impl RedisBroker {
    /// Checks the URL and starts the background tasks; does not wait for Redis.
    pub fn start(
        url: &str,
        forum: &str,
        node: &str,
        capacity: usize,
    ) -> Result<RedisBroker, String> {
        let client = redis::Client::open(url).map_err(|e| format!("адрес Redis «{url}»: {e}"))?;
        let capacity = capacity.max(1);
        let (local, _) = broadcast::channel(capacity);
        let (outbox, outbox_rx) = mpsc::channel(capacity);
        let (stop, stop_rx) = watch::channel(());
        let shared = Arc::new(Shared {
            subscribed: AtomicBool::new(false),
            _stop: stop,
        });
        let channel = format!("yavka:{forum}:bus");
        tokio::spawn(send_loop(
            client.clone(),
            channel.clone(),
            node.to_owned(),
            outbox_rx,
        ));
        tokio::spawn(subscribe_loop(
            client,
            channel,
            node.to_owned(),
            local.clone(),
            Arc::downgrade(&shared),
            stop_rx,
        ));
        Ok(RedisBroker {
            local,
            outbox,
            shared,
            node: node.into(),
        })
    }

    pub(super) fn publish(&self, msg: BusMessage) -> Result<(), BrokerError> {
        let _ = self.local.send(Delivery::Message(msg.clone()));
        self.publish_remote(msg)
    }

    /// To the other nodes through Redis, not to this one.
    pub(super) fn publish_remote(&self, msg: BusMessage) -> Result<(), BrokerError> {
        match self.outbox.try_send(msg) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("yavka_broker_dropped_total", "reason" => "outbox_full")
                    .increment(1);
                Err(BrokerError::Unavailable(
                    "the Redis outbox is full; other nodes miss this message".into(),
                ))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(BrokerError::Unavailable(
                "the Redis sender has stopped".into(),
            )),
        }
    }

    pub(super) fn connected(&self) -> bool {
        self.shared.subscribed.load(Ordering::Relaxed)
    }
}

fn encode(node: &str, msg: &BusMessage) -> Vec<u8> {
    let topic = match &msg.topic {
        Topic::Hall(h) => format!("h:{h}"),
        Topic::Viewer(v) => format!("v:{v}"),
        Topic::Forum => "f".to_owned(),
    };
    let mut wire = Vec::with_capacity(node.len() + topic.len() + msg.payload.len() + 2);
    wire.extend_from_slice(node.as_bytes());
    wire.push(b'\n');
    wire.extend_from_slice(topic.as_bytes());
    wire.push(b'\n');
    wire.extend_from_slice(&msg.payload);
    wire
}

/// The sending node and the message, or `None` for bytes that are not ours.
fn decode(wire: &[u8]) -> Option<(&str, BusMessage)> {
    let mut parts = wire.splitn(3, |b| *b == b'\n');
    let node = std::str::from_utf8(parts.next()?).ok()?;
    let topic = std::str::from_utf8(parts.next()?).ok()?;
    let payload = Bytes::copy_from_slice(parts.next()?);
    let topic = match topic.split_once(':') {
        Some(("h", hall)) => Topic::Hall(hall.to_owned()),
        Some(("v", viewer)) => Topic::Viewer(viewer.to_owned()),
        None if topic == "f" => Topic::Forum,
        _ => return None,
    };
    Some((node, BusMessage { topic, payload }))
}

async fn send_loop(
    client: redis::Client,
    channel: String,
    node: String,
    mut outbox: mpsc::Receiver<BusMessage>,
) {
    let mut conn = None;
    let mut retry_at = Instant::now();
    let mut down_since: Option<Instant> = None;
    let mut dropped: u64 = 0;
    let mut batch = Vec::with_capacity(PIPELINE);
    while outbox.recv_many(&mut batch, PIPELINE).await > 0 {
        // Two tries: a connection from before a Redis restart fails only when used, and the
        // batch then goes out on a fresh one. Between reconnection attempts the batch waits
        // (the outbox fills meanwhile, boundedly) rather than being dropped unsent.
        let mut sent = false;
        for _ in 0..2 {
            if conn.is_none() {
                tokio::time::sleep_until(retry_at).await;
                conn = connect(&client).await;
                if conn.is_none() {
                    retry_at = Instant::now() + RETRY_MIN;
                }
            }
            let Some(c) = conn.as_mut() else { break };
            if publish(c, &channel, &node, &batch).await {
                sent = true;
                break;
            }
            conn = None;
        }
        if sent {
            if let Some(since) = down_since.take() {
                tracing::info!(
                    dropped,
                    down_for_s = since.elapsed().as_secs(),
                    "Redis takes messages again; other nodes hear this node's news"
                );
                dropped = 0;
            }
        } else {
            dropped += batch.len() as u64;
            metrics::counter!("yavka_broker_dropped_total", "reason" => "redis_down")
                .increment(batch.len() as u64);
            if down_since.is_none() {
                down_since = Some(Instant::now());
                tracing::error!(
                    "Redis does not take messages: other nodes miss this node's prompts and \
                     viewer news until it returns; viewers here stay connected and attendance \
                     is still recorded"
                );
            }
        }
        batch.clear();
    }
}

async fn connect(client: &redis::Client) -> Option<redis::aio::MultiplexedConnection> {
    match timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection()).await {
        Ok(Ok(c)) => Some(c),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "Redis sender: cannot connect");
            None
        }
        Err(_) => {
            tracing::debug!("Redis sender: connect timed out");
            None
        }
    }
}

async fn publish(
    conn: &mut redis::aio::MultiplexedConnection,
    channel: &str,
    node: &str,
    batch: &[BusMessage],
) -> bool {
    let mut pipe = redis::pipe();
    for msg in batch {
        pipe.publish(channel, encode(node, msg)).ignore();
    }
    match timeout(PUBLISH_TIMEOUT, pipe.query_async::<()>(conn)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "Redis sender: publish failed");
            false
        }
        Err(_) => false,
    }
}

async fn subscribe_loop(
    client: redis::Client,
    channel: String,
    node: String,
    local: broadcast::Sender<Delivery>,
    shared: std::sync::Weak<Shared>,
    mut stop: watch::Receiver<()>,
) {
    let mut backoff = RETRY_MIN;
    let mut ever_subscribed = false;
    let mut trouble_logged = false;
    loop {
        let attempt = async {
            let mut ps = client.get_async_pubsub().await?;
            ps.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(ps)
        };
        let outcome = tokio::select! {
            r = timeout(CONNECT_TIMEOUT, attempt) => r,
            _ = stop.changed() => return,
        };
        match outcome {
            Ok(Ok(ps)) => {
                backoff = RETRY_MIN;
                if ever_subscribed || trouble_logged {
                    // Whatever other nodes said meanwhile is lost: the hub catches up from
                    // the store.
                    let _ = local.send(Delivery::Gap);
                    tracing::info!(%channel, "Redis reachable again: cross-node messages resume");
                } else {
                    tracing::info!(%channel, "subscribed to Redis");
                }
                ever_subscribed = true;
                set_subscribed(&shared, true);
                let mut stream = ps.into_on_message();
                loop {
                    let next = tokio::select! {
                        m = stream.next() => m,
                        _ = stop.changed() => return,
                    };
                    let Some(m) = next else { break };
                    match decode(m.get_payload_bytes()) {
                        Some((from, _)) if from == node => {}
                        Some((_, msg)) => {
                            let _ = local.send(Delivery::Message(msg));
                        }
                        None => tracing::warn!("unreadable message on the Redis channel ignored"),
                    }
                }
                set_subscribed(&shared, false);
                tracing::error!(%channel, "lost the Redis subscription; reconnecting");
                trouble_logged = true;
            }
            Ok(Err(e)) => {
                if !trouble_logged {
                    tracing::error!(error = %e, "cannot subscribe to Redis; retrying in the background");
                    trouble_logged = true;
                }
            }
            Err(_) => {
                if !trouble_logged {
                    tracing::error!("subscribing to Redis timed out; retrying in the background");
                    trouble_logged = true;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(RETRY_MAX);
    }
}

fn set_subscribed(shared: &std::sync::Weak<Shared>, on: bool) {
    if let Some(s) = shared.upgrade() {
        s.subscribed.store(on, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_round_trips() {
        for topic in [
            Topic::Hall("hall-1".into()),
            Topic::Viewer("v:7".into()),
            Topic::Forum,
        ] {
            let msg = BusMessage {
                topic,
                payload: Bytes::from_static(b"{\"a\":\"x\ny\"}"),
            };
            let wire = encode("n1", &msg);
            assert_eq!(decode(&wire), Some(("n1", msg)));
        }
        assert_eq!(decode(b"garbage"), None);
        assert_eq!(decode(b"n\nq:x\n{}"), None);
    }
}
