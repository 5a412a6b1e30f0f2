//! STUB (lead's local placeholder until the hub lands): the agreed signatures only.
#![allow(unused_variables, dead_code)]

use std::sync::Arc;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use serde::{Deserialize, Serialize};

use crate::broker::Broker;
use crate::clock::Clock;
use crate::domain::forum::Forum;
use crate::domain::time::Millis;
use crate::store::{EventWriter, Store, ViewerRow};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubSettings {
    pub ping_interval_ms: u64,
    pub pong_timeout_ms: u64,
    pub outbound_queue: usize,
    pub max_message_bytes: usize,
    pub rate_per_sec: u32,
    pub rate_burst: u32,
    pub max_connections: usize,
    pub read_buffer: usize,
    pub write_buffer: usize,
    pub max_write_buffer: usize,
}

impl Default for HubSettings {
    fn default() -> Self {
        HubSettings {
            ping_interval_ms: 20_000,
            pong_timeout_ms: 60_000,
            outbound_queue: 64,
            max_message_bytes: 4096,
            rate_per_sec: 5,
            rate_burst: 20,
            max_connections: 19_000,
            read_buffer: 4096,
            write_buffer: 4096,
            max_write_buffer: 65_536,
        }
    }
}

pub struct Admission;

#[derive(Debug, Clone, Serialize)]
pub struct PromptInfo {
    pub id: String,
    pub hall: String,
    pub ts: Millis,
    pub closes: Millis,
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct HubStats {}

#[derive(Clone)]
pub struct Hub(Arc<()>);

impl Hub {
    pub fn new(
        forum: Arc<Forum>,
        store: Store,
        writer: EventWriter,
        broker: Broker,
        clock: Arc<dyn Clock>,
        settings: HubSettings,
    ) -> Hub {
        todo!()
    }
    pub fn settings(&self) -> &HubSettings {
        todo!()
    }
    pub fn configure(&self, upgrade: WebSocketUpgrade) -> WebSocketUpgrade {
        todo!()
    }
    pub fn try_admit(&self) -> Option<Admission> {
        todo!()
    }
    pub async fn serve(
        &self,
        socket: WebSocket,
        viewer: ViewerRow,
        hall: String,
        admission: Admission,
    ) {
        todo!()
    }
    pub async fn reject(socket: WebSocket, code: u16, reason_ru: &str) {
        todo!()
    }
    pub async fn fire_prompt(
        &self,
        hall: &str,
        window_ms: Millis,
        prompt_id: Option<String>,
    ) -> Result<PromptInfo, HubError> {
        todo!()
    }
    pub fn stats(&self) -> HubStats {
        todo!()
    }
    pub fn revoke_viewer(&self, viewer: &str) {
        todo!()
    }
    pub async fn shutdown(&self) {
        todo!()
    }
}
