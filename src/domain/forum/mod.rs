//! The forum: its model, the TOML configuration that describes it (read and written), its
//! state from draft to archive, and the specialty catalogue.

pub mod catalogue;
pub mod config;
pub mod fixtures;
mod frozen;
pub mod model;
mod state;

pub use frozen::apply_frozen;
pub use model::{Audience, Education, Forum, Hall, Organiser, Session, specialty_key};
pub use state::ForumState;
