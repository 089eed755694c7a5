//! Where the server keeps its operation log and its blobs, behind two small
//! traits so that a distributed database or an object store can replace the
//! embedded defaults without touching the handlers.
//!
//! - `sled_log`: [`SledOpLog`], the operation log in the server's sled database.
//! - `fs_blobs`: [`FsBlobStore`], content-addressed blobs in a local folder (`DATA/blob-store/`).

mod fs_blobs;
mod sled_log;

use kiemtra_core::ids::{DelegationId, OpId};

pub use fs_blobs::FsBlobStore;
pub use sled_log::SledOpLog;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage failure: {0}")]
    Io(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sled::Error> for StorageError {
    fn from(e: sled::Error) -> Self {
        Self::Io(e.to_string())
    }
}

impl From<std::io::Error> for StorageError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

impl From<kiemtra_core::Error> for StorageError {
    fn from(e: kiemtra_core::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// Who may pull an entry: everyone (reference data), or the members of one delegation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everyone,
    Delegation(DelegationId),
}

/// An operation to append: its id (for idempotency), scope and encoded bytes.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub op: OpId,
    pub scope: Scope,
    /// The operation's CBOR, stored and served as is.
    pub bytes: Vec<u8>,
}

/// An entry of the log as stored.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub server_seq: u64,
    pub scope: Scope,
    pub bytes: Vec<u8>,
}

/// The server's append-only operation log, numbered from 1 with no gaps.
///
/// One writer appends (the committer); readers see only entries made durable
/// by `sync`, so a cursor a device received never points at an entry a crash
/// could take back.
pub trait OpLog: Send + Sync + 'static {
    /// Appends entries in order and returns their server sequence numbers.
    /// Not durable until [`OpLog::sync`] returns.
    fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<u64>, StorageError>;
    /// Makes everything appended so far durable (fsync), then visible to readers.
    fn sync(&self) -> Result<(), StorageError>;
    /// Up to `max` durable entries with `server_seq > since`, in order.
    fn since(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError>;
    /// The server sequence number of an operation already in the log (appended, maybe not yet durable).
    fn seq_of(&self, op: OpId) -> Result<Option<u64>, StorageError>;
    /// The highest durable sequence number (0 for an empty log).
    fn durable_head(&self) -> u64;
}

/// Why a blob chunk was not taken.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the upload is at byte {received}, not at the chunk's offset")]
    Offset { received: u64 },
    #[error("the blob's bytes do not hash to its name; the upload was discarded")]
    HashMismatch,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<kiemtra_core::Error> for BlobError {
    fn from(e: kiemtra_core::Error) -> Self {
        Self::Storage(e.into())
    }
}

impl From<std::io::Error> for BlobError {
    fn from(e: std::io::Error) -> Self {
        Self::Storage(e.into())
    }
}

/// Content-addressed blobs (photos, signed minutes), uploaded in resumable chunks.
/// Names are lowercase hex SHA-256 of the content, checked by the caller.
pub trait BlobStore: Send + Sync + 'static {
    /// Bytes held of `hash` (all of them if complete) and whether it is complete.
    fn status(&self, hash: &str) -> Result<(u64, bool), BlobError>;
    /// Writes `chunk` at `offset` of a blob of `total` bytes. The offset must
    /// equal the bytes received so far. When the last byte arrives the
    /// content's hash is checked and the blob moved into place atomically.
    /// A complete blob takes no more bytes: the call returns complete.
    fn put_chunk(&self, hash: &str, offset: u64, total: u64, chunk: &[u8]) -> Result<(u64, bool), BlobError>;
    /// The content of a complete blob, or `None`.
    fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, BlobError>;
    fn exists(&self, hash: &str) -> Result<bool, BlobError> {
        Ok(self.status(hash)?.1)
    }
}

/// Whether `s` is a blob name: 64 lowercase hex digits.
pub fn is_blob_name(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
