//! The forum: its model, the TOML configuration that describes it, and the specialty catalogue.

pub mod catalogue;
pub mod config;
#[cfg(test)]
pub mod fixtures;
mod frozen;
pub mod model;

pub use frozen::apply_frozen;
pub use model::{Audience, Education, Forum, Hall, Organiser, Session, specialty_key};
