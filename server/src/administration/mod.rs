//! The inspectorate's administration, as actions: each one a request (what
//! an official asks for, as JSON), the area of work it belongs to (which
//! roles may ask), and a function that does it on the writer with its audit
//! entry in the same commit.
//!
//! Three front ends share them, so an action means the same wherever it
//! comes from: the JSON API (`api/admin.rs`, for scripts and for
//! `kiemtra-server admin --server URL`), the staff pages (`staff/`), and
//! `kiemtra-server admin` on the data folder of a stopped server (the first
//! administrator of an empty folder, say).

mod people;
mod plan;
mod publish;
mod registers;
mod sanctions;

pub use people::*;
pub use plan::*;
pub use publish::*;
pub use registers::*;
pub use sanctions::*;

use serde::{Deserialize, Serialize};

/// The id of what an action made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
}

/// What a publication did: `new` is false when the same content was
/// already published (publishing is idempotent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub new: bool,
    /// What was published, e.g. `osh-general@2` or `128 administrative units`.
    pub what: String,
    /// The sentence that says so, as the command prints it.
    pub message: String,
}
