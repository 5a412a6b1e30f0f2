//! STUB (lead's local placeholder until the broker lands).
#[derive(Clone)]
pub enum Broker {
    Memory,
}
impl Broker {
    pub fn memory(_capacity: usize) -> Broker {
        Broker::Memory
    }
}
