//! The sync API's handlers, one file per endpoint group (see `docs/api.md`).
//!
//! - `capabilities`: protocol version and limits.
//! - `enrol`: one-time-code enrolment of a device key.
//! - `session`: challenge and session (device authentication).
//! - `ops`: push and pull of operations.
//! - `blobs`: resumable, content-addressed blob upload and download.

pub mod blobs;
pub mod capabilities;
pub mod enrol;
pub mod ops;
pub mod session;
