//! Where the server keeps everything, behind one interface whose only write
//! is an atomic, durable changeset, so that another engine (PostgreSQL) can
//! replace the embedded default without touching the handlers, and so that
//! nothing a crash interrupts is ever half-written.
//!
//! - `table`: [`Table`], the named key-value tables beside the log.
//! - `changeset`: [`Changeset`], what one commit writes, with read-your-writes and savepoints.
//! - `sled_store`: [`SledStorage`], the embedded default (one sled multi-tree transaction, then fsync).
//! - `memory`: [`MemoryStorage`], for fast tests of the writer's logic.
//! - `faulty`: [`Faulty`], a wrapper that injects storage failures, for tests.
//! - `conformance`: the suite every implementation must pass.
//! - `fs_blobs`: [`FsBlobStore`], content-addressed blobs in a local folder (`DATA/blob-store/`).
//! - `blob_conformance`: the suite every [`BlobStore`] must pass.
//! - `expiring`: [`Expiring`], short-lived entries every server instance
//!   shares (sessions, nonces, guessing limits), outside the changesets.
//! - `memory_expiring`: [`MemoryExpiring`], those entries in memory (sled's).
//! - `expiring_conformance`: the suite every [`Expiring`] must pass.

pub mod blob_conformance;
mod changeset;
pub mod conformance;
pub mod expiring;
pub mod expiring_conformance;
mod faulty;
mod fs_blobs;
mod memory;
mod memory_expiring;
mod sled_store;
mod table;

use kiemtra_core::ids::{DelegationId, OpId};

pub use changeset::{Changeset, Savepoint};
pub use expiring::{Expiring, Kind, Window};
pub use faulty::Faulty;
pub use fs_blobs::FsBlobStore;
pub use memory::MemoryStorage;
pub use memory_expiring::MemoryExpiring;
pub use sled_store::SledStorage;
pub use table::Table;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// The engine failed (I/O, a lost connection): nothing is known to be
    /// wrong with the data or the request; try again.
    #[error("storage failure: {0}")]
    Io(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A changeset appended an operation the log already holds: its writer
    /// missed a duplicate (another instance committed it first). Nothing of
    /// the changeset was written.
    #[error("operation {0} is already in the log")]
    DuplicateOp(OpId),
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub op: OpId,
    pub scope: Scope,
    /// The operation's CBOR, stored and served as is.
    pub bytes: Vec<u8>,
}

/// An entry of the log as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub server_seq: u64,
    pub scope: Scope,
    pub bytes: Vec<u8>,
}

/// A table's entries: (key, value) pairs in key order.
pub type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// One write of a commit: put `Some(value)` or delete (`None`) a key of a table.
pub type Write = (Table, Vec<u8>, Option<Vec<u8>>);

/// What a commit did: the sequence numbers given to the changeset's log
/// entries, in the order they were appended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    pub seqs: Vec<u64>,
}

/// A commit that [`Storage::apply`] applied: numbered and final unless a
/// crash takes it back whole, and not yet known to be durable. Nothing
/// outside the writer may treat it as committed before
/// [`Storage::make_durable`] returns for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub receipt: Receipt,
    /// The engine's count of applied commits, this one included (0 for an
    /// engine whose `apply` is already durable).
    pub ticket: u64,
}

/// Everything the server keeps: the operation log (numbered from 1 with no
/// gaps), its op-id index, and the tables of [`Table`].
///
/// The only write is [`Storage::commit`]: all of a changeset or nothing, on
/// stable storage when it returns `Ok`, and readers see all of it or none of
/// it. Log entries become visible to [`Storage::log_since`] only once durable,
/// so a cursor a device received never points past what a crash could take
/// back. Every failure is an error to retry, never a verdict on the data.
pub trait Storage: Send + Sync + 'static {
    /// The value of `key` in `table`, as last committed.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Every entry of `table`, in key order.
    fn scan(&self, table: Table) -> Result<Rows, StorageError>;
    /// Up to `max` committed entries with `server_seq > since`, in order.
    fn log_since(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError>;
    /// The highest committed sequence number (0 for an empty log).
    fn log_head(&self) -> Result<u64, StorageError>;
    /// The sequence number of a committed operation.
    fn seq_of(&self, op: OpId) -> Result<Option<u64>, StorageError>;
    /// Applies `changes` atomically and durably: its log entries get the next
    /// sequence numbers in order. An entry whose operation is already in the
    /// log fails the whole commit with [`StorageError::DuplicateOp`].
    fn commit(&self, changes: Changeset) -> Result<Receipt, StorageError>;

    /// The first half of [`Storage::commit`], for a committer that makes one
    /// group durable while it works on the next (see `commit.rs`): applies
    /// all of `changes` or nothing and numbers its log entries, but may
    /// return before they are on stable storage. Its table writes may be
    /// read at once (the writer's next jobs build on them); its log entries
    /// stay hidden from `log_since`, `log_head` and `seq_of` until
    /// [`Storage::make_durable`]. A crash before then may take it back,
    /// whole. One writer at a time; an engine without the split commits here.
    fn apply(&self, changes: Changeset) -> Result<Applied, StorageError> {
        Ok(Applied {
            receipt: self.commit(changes)?,
            ticket: 0,
        })
    }

    /// Returns once `applied`, and every commit applied before it, is on
    /// stable storage; only then are its log entries visible. If this fails
    /// the commit may or may not survive a crash: the engine refuses every
    /// later commit until it restarts from what is really on disk.
    fn make_durable(&self, applied: &Applied) -> Result<(), StorageError> {
        let _ = applied;
        Ok(())
    }

    /// For an engine that several server instances share: waits until no
    /// other handle is committing, and returns the turn, which keeps every
    /// other handle's commits waiting until it commits or is dropped. A
    /// writer reads, decides and commits inside one turn, so what it read is
    /// still what is stored when its changes land (two instances merging
    /// the same inspection would otherwise each overwrite the other's
    /// merge). `None` for an engine only one process can open (sled locks
    /// its folder; memory is one process's): its one writer needs no turn.
    fn begin_turn(&self) -> Result<Option<Box<dyn Turn>>, StorageError> {
        Ok(None)
    }
}

/// The exclusive right to commit to a shared engine (see
/// [`Storage::begin_turn`]). Dropping it without committing gives the turn
/// up and writes nothing.
pub trait Turn: Send {
    /// How many commits the store had made when the turn began. A writer
    /// that last saw another number learns that another instance committed
    /// since, and drops what it cached.
    fn generation(&self) -> u64;
    /// Commits `changes` as [`Storage::commit`] does (atomic, durable,
    /// numbered), as the store's commit number `generation() + 1`, and
    /// ends the turn. An empty changeset commits nothing and leaves the
    /// generation as it was.
    fn commit(self: Box<Self>, changes: Changeset) -> Result<Receipt, StorageError>;
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
    /// A read that starts past the end of a blob of `len` bytes.
    #[error("the blob has {len} bytes; the range starts past its end")]
    Range { len: u64 },
    /// The blob store could not be reached (an object store that does not
    /// answer): nothing is known about the blob; try again later.
    #[error("the blob store is unavailable: {0}")]
    Unavailable(String),
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
    /// Reads bytes `start..end` (`end` past the blob's end, or `None`: to
    /// its end) of a complete blob, a chunk at a time, or `None` if there is
    /// no complete blob of that name. A `start` past the end is
    /// [`BlobError::Range`] (a `start` equal to the length reads nothing).
    /// Downloads go through here so that a server serving many photos at
    /// once holds a few chunks of each, never whole blobs.
    fn open(&self, hash: &str, start: u64, end: Option<u64>) -> Result<Option<BlobReader>, BlobError>;
    /// The whole content of a complete blob, or `None`: only for callers that
    /// need all of the bytes at once anyway (decoding a photo for the portal,
    /// bundling minutes), never to serve a download.
    fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match self.open(hash, 0, None)? {
            Some(reader) => reader.read_all().map(Some),
            None => Ok(None),
        }
    }
    fn exists(&self, hash: &str) -> Result<bool, BlobError> {
        Ok(self.status(hash)?.1)
    }
    /// The names of every complete blob, in no set order (for backups and
    /// checks: unfinished uploads are not listed).
    fn names(&self) -> Result<Vec<String>, BlobError>;
    /// Those of `hashes` that are not complete blobs here, in their order.
    /// A store with slow round trips (S3) asks about several at once.
    fn missing(&self, hashes: &[String]) -> Result<Vec<String>, BlobError> {
        let mut missing = Vec::new();
        for hash in hashes {
            if !self.exists(hash)? {
                missing.push(hash.clone());
            }
        }
        Ok(missing)
    }
}

/// The chunks of a read, in order; each is a few tens of KiB at most.
pub type BlobChunks = Box<dyn Iterator<Item = Result<Vec<u8>, BlobError>> + Send>;

/// A complete blob opened by [`BlobStore::open`]: where the read lies in
/// it, and its bytes, pulled a chunk at a time (from a blocking thread: a
/// chunk may wait for the disk or the network).
pub struct BlobReader {
    /// The whole blob's length.
    pub len: u64,
    /// The first byte read.
    pub start: u64,
    /// Past the last byte read: `start..end` is what the chunks hold.
    pub end: u64,
    pub chunks: BlobChunks,
}

impl BlobReader {
    /// The bytes of the read, all in memory.
    pub fn read_all(self) -> Result<Vec<u8>, BlobError> {
        let mut out = Vec::with_capacity(usize::try_from(self.end - self.start).unwrap_or(0));
        for chunk in self.chunks {
            out.extend_from_slice(&chunk?);
        }
        if out.len() as u64 != self.end - self.start {
            return Err(BlobError::Storage(StorageError::Io(format!(
                "the blob store gave {} bytes for a read of {}",
                out.len(),
                self.end - self.start
            ))));
        }
        Ok(out)
    }
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("len", &self.len)
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

/// The part `start..end` of a blob of `len` bytes that a read covers:
/// `end` is clamped to `len`, a `start` past `len` is [`BlobError::Range`].
pub fn read_range(len: u64, start: u64, end: Option<u64>) -> Result<(u64, u64), BlobError> {
    if start > len {
        return Err(BlobError::Range { len });
    }
    let end = end.map_or(len, |e| e.min(len)).max(start);
    Ok((start, end))
}

/// Whether `s` is a blob name: 64 lowercase hex digits.
pub fn is_blob_name(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
