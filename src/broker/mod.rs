//! The broker: how the hubs of several nodes tell each other what happened.
//!
//! Every node's hub publishes what it causes (a prompt fired, a viewer's connection opened or
//! closed, a confirm, a revoked link) and subscribes to everything, routing each message to its
//! own sockets. Today there is one in-process implementation; Redis pub/sub will be another
//! variant of [`Broker`] and the hub will not change. Enum dispatch rather than a `dyn` trait:
//! the set of backends is closed and known, and `subscribe` returns a concrete type.

use bytes::Bytes;
use tokio::sync::broadcast;

/// What a message is about; a backend with real channels (Redis) maps each to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Everything addressed to the viewers of one hall (prompts).
    Hall(String),
    /// Everything about one viewer (their connections, confirms, revocation).
    Viewer(String),
    /// Forum-wide news.
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
    /// The broker is gone; no message will ever come.
    #[error("broker closed")]
    Closed,
}

/// Publish/subscribe between the hubs of all nodes; cheap to clone.
#[derive(Debug, Clone)]
pub enum Broker {
    Memory(MemoryBroker),
}

impl Broker {
    /// An in-process broker whose subscribers each buffer up to `capacity` messages.
    pub fn memory(capacity: usize) -> Broker {
        Broker::Memory(MemoryBroker::new(capacity))
    }

    /// Publishes to every subscriber, this node's included.
    pub fn publish(&self, msg: BusMessage) -> Result<(), BrokerError> {
        match self {
            Broker::Memory(b) => b.publish(msg),
        }
    }

    /// Everything published from now on.
    pub fn subscribe(&self) -> Subscription {
        match self {
            Broker::Memory(b) => Subscription::Memory(b.tx.subscribe()),
        }
    }
}

/// A broker inside one process: a tokio broadcast channel.
#[derive(Debug, Clone)]
pub struct MemoryBroker {
    tx: broadcast::Sender<BusMessage>,
}

impl MemoryBroker {
    pub fn new(capacity: usize) -> MemoryBroker {
        let (tx, _) = broadcast::channel(capacity.max(1));
        MemoryBroker { tx }
    }

    fn publish(&self, msg: BusMessage) -> Result<(), BrokerError> {
        // No subscriber is not an error: nobody needed the message.
        let _ = self.tx.send(msg);
        Ok(())
    }
}

/// The receiving end of [`Broker::subscribe`].
#[derive(Debug)]
pub enum Subscription {
    Memory(broadcast::Receiver<BusMessage>),
}

impl Subscription {
    /// The next message. A lagging subscriber gets [`RecvError::Lagged`] once and then the
    /// oldest message still buffered: the caller decides what losing messages means.
    pub async fn recv(&mut self) -> Result<BusMessage, RecvError> {
        match self {
            Subscription::Memory(rx) => rx.recv().await.map_err(|e| match e {
                broadcast::error::RecvError::Lagged(n) => RecvError::Lagged(n),
                broadcast::error::RecvError::Closed => RecvError::Closed,
            }),
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
