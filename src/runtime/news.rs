//! Node-wide news: with Redis, a node that publishes, takes back or archives a forum says so
//! on one channel shared by every node (`announce`), and the others start or stop that forum
//! as the store now says (`follow`). A node that missed news (Redis was away) reads every
//! forum's state and version again when the channel is back (`catch_up`); until then it opens
//! a forum at the first request that names it ([`Forums::open`]).

use std::sync::{Arc, Weak};

use super::{Forums, Inner};
use crate::broker::Broker;
use crate::domain::forum::ForumState;
use crate::settings::Settings;

/// The broker name of the node-wide channel: no forum id has a `/`.
const NEWS: &str = "/forums";

/// What goes on the node-wide channel: forum `forum`'s state changed on `node`.
#[derive(serde::Serialize, serde::Deserialize)]
struct News {
    node: String,
    forum: String,
}

/// The node-wide channel, with Redis; `None` without it (a lone node has no one to tell) or
/// when Redis cannot be reached (logged: other nodes then catch up at their next request).
pub(super) fn channel(settings: &Settings, node: &str) -> Option<Broker> {
    let url = settings.broker.redis_url.as_deref()?;
    Broker::redis(url, NEWS, node, settings.broker.capacity)
        .map_err(|e| tracing::error!(error = %e, "no node-wide channel: other nodes will not follow forums' states"))
        .ok()
}

impl Forums {
    /// Tells the other nodes that forum `id`'s state changed (published, archived, taken back):
    /// each starts or stops it as this node did (`follow`). Without Redis there are none.
    pub fn announce(&self, id: &str) {
        let Some(news) = &self.0.news else { return };
        let payload = serde_json::to_vec(&News {
            node: self.0.node.clone(),
            forum: id.to_owned(),
        })
        .expect("news always serialise");
        let message = crate::broker::BusMessage {
            topic: crate::broker::Topic::Forum,
            payload: payload.into(),
        };
        if let Err(e) = news.publish(message) {
            tracing::warn!(forum = %id, error = %e, "other nodes not told of a forum's new state");
        }
    }

    /// Starts the stored forum `id` if its state calls for it (see [`Forums::runs_in`]), or
    /// stops it if not: what the editor calls after changing a forum's state.
    pub async fn follow(&self, id: &str) -> anyhow::Result<()> {
        let i = &self.0;
        let Some(row) = i.store.forum_row(id).await? else {
            self.stop(id).await;
            return Ok(());
        };
        let state = ForumState::current(row.state, &row.forum, i.clock.now());
        self.saw(state);
        if Self::runs_in(state) {
            // A bundle opened for the forum while it was archived has no prompter loop.
            if self.is_archived(id) {
                self.stop(id).await;
            }
            let forum = self.load(&row.forum).await?;
            self.start_forum(Arc::new(forum)).await?;
        } else {
            self.stop(id).await;
        }
        Ok(())
    }
}

impl Forums {
    /// Everything the news could have said, read from the store: every stored forum started or
    /// stopped as its state says, and every running one in its latest saved version.
    pub async fn catch_up(&self) -> anyhow::Result<()> {
        for row in self.0.store.forums().await? {
            self.follow(&row.forum.id).await?;
        }
        for running in self.all() {
            self.refresh(&running.forum.id).await?;
        }
        Ok(())
    }
}

/// Starts or stops the forums other nodes say changed state, until the server is dropped.
pub(super) async fn follow_news(forums: Weak<Inner>, mut news: crate::broker::Subscription) {
    loop {
        let message = match news.recv().await {
            Ok(message) => message,
            Err(crate::broker::RecvError::Closed) => return,
            // Missed news (Redis was away, or this node fell behind): the store says what
            // runs and in which version, so everything is read again from it.
            Err(e) => {
                tracing::warn!(error = %e, "node-wide news lost: catching up from the store");
                let Some(inner) = forums.upgrade() else {
                    return;
                };
                if let Err(e) = Forums(inner).catch_up().await {
                    tracing::error!(
                        error = format!("{e:#}"),
                        "could not catch up with forums' states"
                    );
                }
                continue;
            }
        };
        let Some(inner) = forums.upgrade() else {
            return;
        };
        let Ok(said) = serde_json::from_slice::<News>(&message.payload) else {
            continue;
        };
        if said.node == inner.node {
            continue;
        }
        if let Err(e) = Forums(inner).follow(&said.forum).await {
            tracing::error!(forum = %said.forum, error = format!("{e:#}"), "could not follow a forum's state changed on another node");
        }
    }
}
