//! Sync between a device and the server.
//!
//! - `wire`: the protocol's messages, shared with the server.
//! - `transport`: HTTP behind a trait, with a ureq default.
//! - `client`: enrolment, sessions, signed requests.
//! - `device`: enrolling this device and building its client.
//! - `engine`: one sync (push, upload, pull) with progress.
//! - `blobs`: resumable photo uploads.
//! - `error`: how a sync fails.

pub mod blobs;
pub mod client;
pub mod device;
pub mod engine;
mod error;
pub mod transport;
pub mod wire;

pub use client::SyncClient;
pub use engine::{sync, NoProgress, SyncObserver, SyncPhase, SyncProgress, SyncReport};
pub use error::SyncError;
pub use transport::{HttpRequest, HttpResponse, HttpTransport, UreqTransport};
