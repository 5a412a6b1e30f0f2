//! The hub's tuning: the `[hub]` section of the settings file.

use serde::{Deserialize, Serialize};

/// Tuning of the hub; the app's settings file embeds it as a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubSettings {
    /// The server sends a protocol ping this often.
    pub ping_interval_ms: u64,
    /// A connection silent for this long is closed with 4408.
    pub pong_timeout_ms: u64,
    /// Messages waiting for one client; when full, the client is closed as too slow.
    pub outbound_queue: usize,
    /// Longest accepted client message; longer ones close the connection with 1009.
    pub max_message_bytes: usize,
    /// Sustained client messages per second, and the burst allowed above it.
    pub rate_per_sec: u32,
    pub rate_burst: u32,
    /// Sockets this process accepts (one file descriptor each; the machine allows ~20,000).
    pub max_connections: usize,
    /// Websocket buffers per connection: they dominate memory at scale.
    pub read_buffer: usize,
    pub write_buffer: usize,
    pub max_write_buffer: usize,
    /// Wrong answers to one prompt's challenge a viewer may choose; after them that prompt
    /// can no longer be confirmed (the rules judge the same way).
    pub max_wrong_answers: u32,
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
            read_buffer: 1024,
            write_buffer: 4096,
            max_write_buffer: 65_536,
            max_wrong_answers: crate::domain::rules::DEFAULT_MAX_WRONG_ANSWERS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_and_partial_files() {
        let s: HubSettings = toml::from_str("ping_interval_ms = 5000").unwrap();
        assert_eq!(s.ping_interval_ms, 5000);
        assert_eq!(s.outbound_queue, 64);
        assert_eq!(s.max_connections, 19_000);
        assert!(toml::from_str::<HubSettings>("ping_intervl_ms = 1").is_err());
    }
}
