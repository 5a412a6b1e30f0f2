//! Yavka: attendance tracking and НМО accreditation for online medical forums.
//!
//! Layout:
//! - [`domain`]: the accreditation core as plain Rust over plain data — the forum model and its
//!   configuration, the attendance log, the rules engine, prompt schedules and НМО codes. No I/O,
//!   no clock reads: time is always passed in.
//! - [`forum_file`]: reading a forum's configuration file.
//! - [`clock`]: the one injectable source of "now" for everything that is not pure.
//! - [`http`]: serving HTTP with a connection cap and timeouts.
//! - [`ids`]: random ids and secret tokens.
//! - [`reports`]: exports, certificates and evidence reports, as plain functions over data.
//! - [`runtime`]: the forums this server runs at once, each with its hub, prompter and mailer.
//! - [`mail`]: the outbox worker that e-mails personal links and certificates over SMTP.
//! - [`cli`]: the `yavka` command line.

pub mod api;
pub mod app;
pub mod broker;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod domain;
pub mod forum_file;
pub mod http;
pub mod hub;
pub mod ids;
pub mod mail;
pub mod prompter;
pub mod reports;
pub mod runtime;
pub mod settings;
pub mod store;
