//! The operation log in sled: tree `log` maps the server sequence number
//! (8 bytes big-endian, so key order is log order) to the scope and the
//! operation's CBOR; tree `log_index` maps an operation id to its number.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use kiemtra_core::durable::Durability;
use kiemtra_core::ids::{DelegationId, OpId};

use super::{NewEntry, OpLog, Scope, StorageError, StoredEntry};

const SCOPE_EVERYONE: u8 = 0;
const SCOPE_DELEGATION: u8 = 1;

pub struct SledOpLog {
    db: sled::Db,
    log: sled::Tree,
    index: sled::Tree,
    /// The next sequence number; the mutex also makes appends one at a time.
    next: Mutex<u64>,
    durability: Mutex<Durability>,
    durable_head: AtomicU64,
}

impl SledOpLog {
    /// Opens the log in `db`, whose folder is `dir`. The server's other trees
    /// live in the same database, so [`OpLog::sync`] makes them durable too.
    pub fn open(db: &sled::Db, dir: &Path) -> Result<Self, StorageError> {
        let log = db.open_tree("log")?;
        let index = db.open_tree("log_index")?;
        let head = match log.last()? {
            Some((k, _)) => u64_key(&k)?,
            None => 0,
        };
        let durability = Durability::open(dir)?;
        Ok(Self {
            db: db.clone(),
            log,
            index,
            next: Mutex::new(head + 1),
            durability: Mutex::new(durability),
            // What is in the tree at open survived the last run, so it is durable.
            durable_head: AtomicU64::new(head),
        })
    }
}

fn u64_key(k: &[u8]) -> Result<u64, StorageError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| StorageError::Corrupt("log key is not 8 bytes".into()))
}

fn encode(scope: Scope, bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 17);
    match scope {
        Scope::Everyone => v.push(SCOPE_EVERYONE),
        Scope::Delegation(d) => {
            v.push(SCOPE_DELEGATION);
            v.extend_from_slice(d.as_bytes());
        }
    }
    v.extend_from_slice(bytes);
    v
}

fn decode(server_seq: u64, v: &[u8]) -> Result<StoredEntry, StorageError> {
    let corrupt = || StorageError::Corrupt(format!("log entry {server_seq} has no scope"));
    let (scope, rest) = match v.split_first().ok_or_else(corrupt)? {
        (&SCOPE_EVERYONE, rest) => (Scope::Everyone, rest),
        (&SCOPE_DELEGATION, rest) if rest.len() >= 16 => {
            let (id, rest) = rest.split_at(16);
            let id = <[u8; 16]>::try_from(id).map_err(|_| corrupt())?;
            (Scope::Delegation(DelegationId::from_bytes(id)), rest)
        }
        _ => return Err(corrupt()),
    };
    Ok(StoredEntry {
        server_seq,
        scope,
        bytes: rest.to_vec(),
    })
}

impl OpLog for SledOpLog {
    fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<u64>, StorageError> {
        let mut next = self
            .next
            .lock()
            .map_err(|_| StorageError::Io("a log writer panicked".into()))?;
        let mut log = sled::Batch::default();
        let mut index = sled::Batch::default();
        let mut seqs = Vec::with_capacity(entries.len());
        let mut seq = *next;
        for e in entries {
            log.insert(&seq.to_be_bytes(), encode(e.scope, &e.bytes));
            index.insert(e.op.as_bytes(), &seq.to_be_bytes());
            seqs.push(seq);
            seq += 1;
        }
        // The index first: an entry is never in the log without its index, so
        // a retried push after a crash finds it and answers "duplicate".
        self.index.apply_batch(index)?;
        self.log.apply_batch(log)?;
        *next = seq;
        Ok(seqs)
    }

    fn sync(&self) -> Result<(), StorageError> {
        let head = *self
            .next
            .lock()
            .map_err(|_| StorageError::Io("a log writer panicked".into()))?
            - 1;
        let mut d = self
            .durability
            .lock()
            .map_err(|_| StorageError::Io("a committer panicked".into()))?;
        d.commit(&self.db)?;
        // Only now may readers see these entries (see the trait's promise).
        self.durable_head.fetch_max(head, Ordering::AcqRel);
        Ok(())
    }

    fn since(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError> {
        let head = self.durable_head.load(Ordering::Acquire);
        if since >= head {
            return Ok(Vec::new());
        }
        let start = since.saturating_add(1).to_be_bytes();
        let end = head.to_be_bytes();
        let mut out = Vec::new();
        for kv in self.log.range(start..=end).take(max) {
            let (k, v) = kv?;
            out.push(decode(u64_key(&k)?, &v)?);
        }
        Ok(out)
    }

    fn seq_of(&self, op: OpId) -> Result<Option<u64>, StorageError> {
        match self.index.get(op.as_bytes())? {
            None => Ok(None),
            Some(v) => u64_key(&v).map(Some),
        }
    }

    fn durable_head(&self) -> u64 {
        self.durable_head.load(Ordering::Acquire)
    }
}
