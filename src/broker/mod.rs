//! The broker: how the hubs of several nodes tell each other what happened.
//!
//! Every node's hub publishes what it causes (a prompt fired, a viewer's connection opened or
//! closed, a confirm, a revoked link, its live figures) and subscribes to everything, routing
//! each message to its own sockets. Two backends: in-process ([`Broker::memory`], one node) and
//! Redis pub/sub ([`Broker::redis`], any number of nodes). Both deliver a node's own messages
//! to it at once through an in-process channel, so a node works the same while Redis is down;
//! only other nodes' news is missing then, and the subscription says so with
//! [`RecvError::Gap`] when Redis returns, so the hub can catch up from the store.
//!
//! Enum dispatch rather than a `dyn` trait: the set of backends is closed and known.

mod redis;

use bytes::Bytes;
use tokio::sync::broadcast;

pub use self::redis::RedisBroker;

/// What a message is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Everything addressed to the viewers of one hall (prompts).
    Hall(String),
    /// Everything about one viewer (their connections, confirms, revocation).
    Viewer(String),
    /// Forum-wide news (nodes' live figures).
    Forum,
}

/// One published message. The payload is opaque to the broker (the hub puts JSON in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusMessage {
    pub topic: Topic,
    pub payload: Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The backend could not take the message (a network broker that is down).
    #[error("broker unavailable: {0}")]
    Unavailable(String),
}

/// Why [`Subscription::recv`] returned no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The subscriber fell behind and this many messages were lost for it.
    #[error("subscriber lagged behind by {0} messages")]
    Lagged(u64),
    /// The connection to other nodes was lost and is back: their messages in between are lost.
    #[error("messages from other nodes may have been lost while the broker was unreachable")]
    Gap,
    /// The broker is gone; no message will ever come.
    #[error("broker closed")]
    Closed,
}

/// What the in-process channel carries to subscribers.
#[derive(Debug, Clone)]
enum Delivery {
    Message(BusMessage),
    Gap,
}

/// Publish/subscribe between the hubs of all nodes; cheap to clone.
#[derive(Debug, Clone)]
pub enum Broker {
    Memory(MemoryBroker),
    Redis(RedisBroker),
}

impl Broker {
    /// An in-process broker whose subscribers each buffer up to `capacity` messages.
    pub fn memory(capacity: usize) -> Broker {
        Broker::Memory(MemoryBroker::new(capacity))
    }

    /// A broker through Redis at `url`, shared by every node of `forum`. Returns at once: it
    /// connects (and reconnects) in the background, and works locally meanwhile.
    pub fn redis(url: &str, forum: &str, node: &str, capacity: usize) -> Result<Broker, String> {
        RedisBroker::start(url, forum, node, capacity).map(Broker::Redis)
    }

    /// Publishes to every subscriber, this node's included. Never waits: a network backend
    /// queues the message (boundedly) for its sender task.
    pub fn publish(&self, msg: BusMessage) -> Result<(), BrokerError> {
        match self {
            Broker::Memory(b) => b.publish(msg),
            Broker::Redis(b) => b.publish(msg),
        }
    }

    /// Publishes to the other nodes only: for news this node has already applied itself,
    /// whose echo would cost a decoding and a look-up per message for nothing. The in-process
    /// broker has no other node, so it drops the message.
    pub fn publish_to_others(&self, msg: BusMessage) -> Result<(), BrokerError> {
        match self {
            Broker::Memory(_) => Ok(()),
            Broker::Redis(b) => b.publish_remote(msg),
        }
    }

    /// Whether other nodes may hear this one (false for the in-process broker): a message
    /// only for them need not even be built without them.
    pub fn has_others(&self) -> bool {
        matches!(self, Broker::Redis(_))
    }

    /// Everything published from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription(match self {
            Broker::Memory(b) => b.local.subscribe(),
            Broker::Redis(b) => b.local.subscribe(),
        })
    }

    /// This node's name on the bus (random per process).
    pub fn node(&self) -> &str {
        match self {
            Broker::Memory(b) => &b.node,
            Broker::Redis(b) => &b.node,
        }
    }

    /// Whether messages reach other nodes right now (always for the in-process broker).
    pub fn connected(&self) -> bool {
        match self {
            Broker::Memory(_) => true,
            Broker::Redis(b) => b.connected(),
        }
    }
}

/// A broker inside one process: a tokio broadcast channel.
#[derive(Debug, Clone)]
pub struct MemoryBroker {
    local: broadcast::Sender<Delivery>,
    node: std::sync::Arc<str>,
}

impl MemoryBroker {
    pub fn new(capacity: usize) -> MemoryBroker {
        let (local, _) = broadcast::channel(capacity.max(1));
        MemoryBroker {
            local,
            node: "local".into(),
        }
    }

    fn publish(&self, msg: BusMessage) -> Result<(), BrokerError> {
        // No subscriber is not an error: nobody needed the message.
        let _ = self.local.send(Delivery::Message(msg));
        Ok(())
    }
}

/// The receiving end of [`Broker::subscribe`].
#[derive(Debug)]
pub struct Subscription(broadcast::Receiver<Delivery>);

impl Subscription {
    /// The next message. A lagging subscriber gets [`RecvError::Lagged`] once and then the
    /// oldest message still buffered: the caller decides what losing messages means.
    pub async fn recv(&mut self) -> Result<BusMessage, RecvError> {
        match self.0.recv().await {
            Ok(Delivery::Message(m)) => Ok(m),
            Ok(Delivery::Gap) => Err(RecvError::Gap),
            Err(broadcast::error::RecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(broadcast::error::RecvError::Closed) => Err(RecvError::Closed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(n: u8) -> BusMessage {
        BusMessage {
            topic: Topic::Hall("h1".into()),
            payload: Bytes::from(vec![n]),
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_every_message() {
        let b = Broker::memory(8);
        let mut a = b.subscribe();
        let mut c = b.subscribe();
        b.publish(msg(1)).unwrap();
        assert_eq!(a.recv().await.unwrap(), msg(1));
        assert_eq!(c.recv().await.unwrap(), msg(1));
    }

    #[tokio::test]
    async fn publishing_without_subscribers_is_fine() {
        Broker::memory(1).publish(msg(1)).unwrap();
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_told() {
        let b = Broker::memory(2);
        let mut s = b.subscribe();
        for n in 0..5 {
            b.publish(msg(n)).unwrap();
        }
        assert_eq!(s.recv().await, Err(RecvError::Lagged(3)));
        assert_eq!(s.recv().await.unwrap(), msg(3));
    }
}
