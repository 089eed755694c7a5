//! `kiemtra-mobile`: the uniffi surface of `kiemtra-core` for the Android and
//! iOS apps; the Python bindings generated from the same library are the test
//! client (`tests/python`).
//!
//! - `error`: the one error enum the apps see.
//! - `records`: the records and enums that cross the FFI.
//! - `store`: `KiemtraStore`, the offline store object.
//! - `keys`: the device key behind a foreign trait (Keystore, Keychain).
//! - `net`: the async calls that wait on the network, and their cancellation.
//! - `sync`: sync progress and reports.
//! - `enrol_link`: reading a scanned enrolment QR code.
//! - `minutes`: drawing up, signing, exporting and verifying the minutes.

uniffi::setup_scaffolding!();

mod enrol_link;
mod error;
mod keys;
mod minutes;
mod net;
mod records;
mod remediation;
mod store;
mod sync;

pub use enrol_link::{parse_enrol_link, EnrolLink};
pub use error::KiemtraError;
pub use keys::{DeviceKeyStore, SoftwareKey};
pub use minutes::*;
pub use net::CancelToken;
pub use records::*;
pub use store::KiemtraStore;
pub use sync::*;
