//! `kiemtra-mobile`: the uniffi surface of `kiemtra-core` for the Android and
//! iOS apps; the Python bindings generated from the same library are the test
//! client (`tests/python`).
//!
//! - `error`: the one error enum the apps see.
//! - `records`: the records and enums that cross the FFI.
//! - `store`: `KiemtraStore`, the offline store object.

uniffi::setup_scaffolding!();

mod error;
mod records;
mod store;

pub use error::KiemtraError;
pub use records::*;
pub use store::KiemtraStore;
