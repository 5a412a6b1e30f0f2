//! The accreditation core: what happened during a forum, and who earned which credits.
//!
//! Pure code over plain data. Nothing here touches a network, a database, a file system path
//! chosen by itself, or the wall clock; callers pass configuration text, log events and "now".

pub mod appeals;
pub mod audit;
pub mod codes;
pub mod consent;
pub mod decided;
pub mod decisions;
pub mod flags;
pub mod forum;
pub mod live;
pub mod log;
pub mod mask;
pub mod registration;
pub mod retention;
pub mod roles;
pub mod rules;
pub mod schedule;
pub mod sim;
pub mod text;
pub mod time;
