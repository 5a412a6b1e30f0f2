//! `[evidence]`: how much of a viewer's connection is kept as integrity evidence (issue 15).

use serde::Deserialize;

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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceSettings {
    pub address: AddressMode,
}
