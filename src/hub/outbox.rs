//! A connection's outbound queue and its close request, in one small allocation.
//!
//! Tens of thousands of sockets each need a bounded queue that fan-out can push to without
//! waiting, and a way to be told to close. A tokio `mpsc` channel allocates a block of 32 slots
//! up front (1 KiB per viewer, measured with massif) and a `watch` channel another few hundred
//! bytes; this queue allocates only while messages are waiting. One consumer (the socket's
//! writer), any number of producers.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::Notify;

use super::protocol::close::CloseReason;

#[derive(Debug)]
pub struct Outbox {
    state: Mutex<State>,
    /// Wakes the writer; `notify_one` keeps a permit when it is not waiting, so no wake-up is
    /// lost between its check and its wait.
    wake: Notify,
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Utf8Bytes>,
    close: Option<CloseReason>,
}

/// What [`Outbox::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// The queue holds `capacity` messages: the client is not reading.
    Full,
}

/// What the writer should do next.
#[derive(Debug)]
pub enum Next {
    Send(Utf8Bytes),
    Close(CloseReason),
}

impl Outbox {
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            state: Mutex::default(),
            wake: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a message without waiting.
    pub fn push(&self, text: Utf8Bytes) -> Pushed {
        let mut st = self.lock();
        if st.queue.len() >= self.capacity {
            return Pushed::Full;
        }
        st.queue.push_back(text);
        drop(st);
        self.wake.notify_one();
        Pushed::Queued
    }

    /// Asks the writer to close with `reason`; the first request wins. True if this one did.
    pub fn close(&self, reason: CloseReason) -> bool {
        let mut st = self.lock();
        if st.close.is_some() {
            return false;
        }
        st.close = Some(reason);
        drop(st);
        self.wake.notify_one();
        true
    }

    pub fn close_requested(&self) -> Option<CloseReason> {
        self.lock().close
    }

    /// The next thing to do: a close request goes before queued messages.
    pub async fn next(&self) -> Next {
        loop {
            {
                let mut st = self.lock();
                if let Some(reason) = st.close {
                    return Next::Close(reason);
                }
                if let Some(text) = st.queue.pop_front() {
                    if st.queue.is_empty() {
                        // Keep nothing for an idle connection.
                        st.queue = VecDeque::new();
                    }
                    return Next::Send(text);
                }
            }
            self.wake.notified().await;
        }
    }

    /// A queued message, if any, without waiting (to batch a flush).
    pub fn try_pop(&self) -> Option<Utf8Bytes> {
        let mut st = self.lock();
        if st.close.is_some() {
            return None;
        }
        let text = st.queue.pop_front();
        if st.queue.is_empty() {
            st.queue = VecDeque::new();
        }
        text
    }

    /// Waits for a close request.
    pub async fn closing(&self) -> CloseReason {
        loop {
            if let Some(reason) = self.lock().close {
                return reason;
            }
            self.wake.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::hub::protocol::close::{SHUTDOWN as B, SLOW as A};

    #[tokio::test]
    async fn messages_in_order_then_close_first_reason_wins() {
        let o = Outbox::new(2);
        assert_eq!(o.push("1".into()), Pushed::Queued);
        assert_eq!(o.push("2".into()), Pushed::Queued);
        assert_eq!(o.push("3".into()), Pushed::Full);
        assert!(matches!(o.next().await, Next::Send(t) if t.as_str() == "1"));
        assert_eq!(o.try_pop().as_deref(), Some("2"));
        assert!(o.close(A));
        assert!(!o.close(B));
        assert!(matches!(o.next().await, Next::Close(r) if r == A));
        assert_eq!(o.closing().await, A);
    }

    #[tokio::test]
    async fn a_waiting_writer_is_woken() {
        let o = std::sync::Arc::new(Outbox::new(4));
        let writer = {
            let o = o.clone();
            tokio::spawn(
                async move { matches!(o.next().await, Next::Send(t) if t.as_str() == "x") },
            )
        };
        tokio::task::yield_now().await;
        o.push("x".into());
        assert!(writer.await.unwrap());
    }
}
