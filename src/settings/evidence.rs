//! `[evidence]`: how much of a viewer's connection is kept as integrity evidence (issue 15).

use serde::Deserialize;

use crate::domain::flags;

/// How a connection's client address is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressMode {
    /// The address as seen: the strongest evidence of one device behind several accounts.
    #[default]
    Full,
    /// Its network only (IPv4 /24, IPv6 /48): a household or a hospital, not a machine.
    Truncated,
    /// A keyed hash: equal addresses stay equal, the address itself is not kept.
    Hashed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceSettings {
    pub address: AddressMode,
    /// An answer faster than this (ms, as the server measured it) is "too fast to have read
    /// the task"; a viewer is flagged for `fast_min` such answers making `fast_share_pct` %
    /// of their timed ones.
    pub fast_ms: i64,
    pub fast_min: usize,
    pub fast_share_pct: usize,
    /// Answers of one device's viewers to one prompt this close are "together"; flagged when
    /// together on `together_min` prompts.
    pub together_ms: i64,
    pub together_min: usize,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        let f = flags::Settings::default();
        EvidenceSettings {
            address: AddressMode::default(),
            fast_ms: f.fast_ms,
            fast_min: f.fast_min,
            fast_share_pct: f.fast_share_pct,
            together_ms: f.together_ms,
            together_min: f.together_min,
        }
    }
}

impl EvidenceSettings {
    /// The thresholds the flags are computed with.
    pub fn flags(&self) -> flags::Settings {
        flags::Settings {
            fast_ms: self.fast_ms,
            fast_min: self.fast_min,
            fast_share_pct: self.fast_share_pct,
            together_ms: self.together_ms,
            together_min: self.together_min,
        }
    }
}
