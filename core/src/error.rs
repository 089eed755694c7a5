//! The core's error types.
//!
//! Each concern has its own enum so that a caller can match on what went
//! wrong; [`Error`] gathers them for functions that can fail in several ways.
//! Messages name the field or item at fault, never personal data.

use thiserror::Error;

use crate::inspection::Status;

/// Input that does not satisfy the domain's rules. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long ({len} characters, at most {max})")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    /// Received text that is not what normalising it would give (NFC,
    /// trimmed, `\n` line breaks): the sender skipped the rule.
    #[error("{field} is not in normal form (Unicode NFC, trimmed, line breaks as \\n)")]
    NotNormal { field: &'static str },
    #[error("invalid tax code: {reason}")]
    TaxCode { reason: String },
    #[error("{field} is out of range: {reason}")]
    OutOfRange { field: &'static str, reason: String },
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// A checklist template that cannot be loaded or used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error("template file is not valid JSON: {0}")]
    Syntax(String),
    #[error("template {template}: {reason}")]
    Template { template: String, reason: String },
    #[error("template {template}, item {item}: {reason}")]
    Item {
        template: String,
        item: String,
        reason: String,
    },
    #[error("unknown template {id} version {version}")]
    Unknown { id: String, version: u32 },
    #[error("template {id} version {version} is already published with other content; publish a new version instead")]
    AlreadyPublished { id: String, version: u32 },
}

/// An answer that does not fit the item it is given for.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("item {0} is not in this inspection's template")]
    UnknownItem(String),
    #[error("item {item} expects {expected}, got {got}")]
    WrongType {
        item: String,
        expected: &'static str,
        got: &'static str,
    },
    #[error("item {item}: {reason}")]
    Invalid { item: String, reason: String },
    #[error("item {item} is not asked: its condition on {depends_on} is not met")]
    NotAsked { item: String, depends_on: String },
    #[error("item {item} does not apply to this kind of establishment")]
    NotApplicable { item: String },
}

/// An inspection lifecycle step taken out of order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LifecycleError {
    #[error("cannot go from {from} to {to}")]
    Transition { from: Status, to: Status },
    #[error("the inspection is {status}: {action} is not allowed")]
    NotAllowed { status: Status, action: &'static str },
    /// After the leader's seal the only ways forward are delivery and signed
    /// amended minutes; nothing goes back.
    #[error("the inspection is {status} and its minutes are sealed: it can only be delivered or amended with signed minutes, not moved to {to}")]
    Sealed { status: Status, to: Status },
    #[error("cannot close findings: {count} asked items have no answer (first: {first})")]
    Unanswered { count: usize, first: String },
    #[error("cannot close findings: {count} answers are in conflict (first: {first})")]
    Conflicts { count: usize, first: String },
}

/// Every way a core operation can fail.
#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Photo(#[from] crate::photo::PhotoError),
    #[error(transparent)]
    Minutes(#[from] crate::minutes::MinutesError),
    #[error(transparent)]
    Identity(#[from] crate::identity::IdentityError),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("stored data could not be decoded: {0}")]
    Codec(#[from] crate::codec::CodecError),
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("the store was written by a newer Kiemtra (format {found}, this build reads up to {supported})")]
    FormatTooNew { found: u32, supported: u32 },
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
