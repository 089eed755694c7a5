//! `kiemtra-core`: everything a Kiemtra device does, with no UI.
//!
//! One module per concept; [`store::Store`] is the entry point an app opens.

pub mod access_code;
pub mod accident;
pub mod admin_units;
pub mod answer;
pub mod codec;
pub mod durable;
pub mod enrol_link;
pub mod error;
pub mod evidence;
pub mod facility;
pub mod geo;
pub mod identity;
pub mod ids;
pub mod inspection;
pub mod merge;
pub mod minutes;
pub mod ops;
pub mod people;
pub mod photo;
pub mod record;
pub mod remediation;
pub mod sled_open;
pub mod store;
pub mod sync;
pub mod template;
pub mod text;
pub mod violation;

pub use error::{Error, Result};
