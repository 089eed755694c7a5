//! The sync API's handlers, one file per endpoint group (see `docs/api.md`).
//!
//! - `admin`: online administration (revoking a device at once).
//! - `capabilities`: protocol version and limits.
//! - `enrol`: one-time-code enrolment of a device key.
//! - `session`: challenge and session (device authentication).
//! - `ops`: push and pull of operations.
//! - `blobs`: resumable, content-addressed blob upload and download.

pub mod admin;
pub mod blobs;
pub mod capabilities;
pub mod enrol;
pub mod ops;
pub mod session;
