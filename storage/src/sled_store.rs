//! The embedded default: one sled database in the data folder. Every table is
//! a tree; tree `log` maps the sequence number (8 bytes big-endian, so key
//! order is log order) to the scope and the operation's CBOR, and tree
//! `log_index` maps an operation id to its number.
//!
//! A commit is one sled multi-tree transaction over all of them (sled
//! recovers a prefix of its writes after a crash, and a transaction is one
//! unit of that prefix), then the fsync discipline of
//! [`kiemtra_core::durable::Durability`]: sled's own `flush()` is not enough.
//! The two halves are separate ([`Storage::apply`], [`Storage::make_durable`])
//! so that the committer can apply one group while the last one is fsynced;
//! one fsync covers every transaction applied before it began.
//! sled's quirks (the folder lock released late, flush, fsync) stay here.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use kiemtra_core::durable::Durability;
use kiemtra_core::ids::{DelegationId, OpId};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use super::{Applied, Changeset, Receipt, Rows, Scope, Storage, StorageError, StoredEntry, Table};

const SCOPE_EVERYONE: u8 = 0;
const SCOPE_DELEGATION: u8 = 1;

/// Positions of the log trees after the tables in the transaction's tree list.
const LOG: usize = Table::ALL.len();
const INDEX: usize = Table::ALL.len() + 1;

pub struct SledStorage {
    db: sled::Db,
    /// The tables in [`Table::ALL`] order, then `log` and `log_index`.
    trees: Vec<sled::Tree>,
    /// Applies one commit at a time; holds the next number.
    applier: Mutex<Applier>,
    /// Makes applied commits durable, one fsync at a time (beside the next apply).
    syncer: Mutex<Syncer>,
    /// The highest sequence number on stable storage, the one readers may see.
    durable_head: AtomicU64,
    /// Set when an fsync failed: Linux may have dropped the dirty pages, so
    /// a later fsync that succeeds proves nothing. Commits are refused until
    /// the server restarts and recovers from what is really on disk (the
    /// rule PostgreSQL adopted after "fsyncgate").
    broken: AtomicBool,
}

struct Applier {
    next: u64,
    /// Commits applied since the database was opened.
    ticket: u64,
}

struct Syncer {
    durability: Durability,
    /// The applier's ticket when the last successful fsync began.
    durable_ticket: u64,
}

impl SledStorage {
    /// Opens (or creates) the database in the folder `dir`, waiting briefly
    /// for a lock that a closing handle still holds.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)?;
        let db = kiemtra_core::sled_open::open(&sled::Config::new().path(dir).cache_capacity(cache_bytes))?;
        let mut trees = Table::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()?;
        trees.push(db.open_tree("log")?);
        trees.push(db.open_tree("log_index")?);
        let head = match trees[LOG].last()? {
            Some((k, _)) => u64_key(&k)?,
            None => 0,
        };
        let durability = Durability::open(dir)?;
        Ok(Self {
            db,
            trees,
            applier: Mutex::new(Applier {
                next: head + 1,
                ticket: 0,
            }),
            syncer: Mutex::new(Syncer {
                durability,
                durable_ticket: 0,
            }),
            // What is in the tree at open survived the last run: it is durable.
            durable_head: AtomicU64::new(head),
            broken: AtomicBool::new(false),
        })
    }

    fn tree(&self, t: Table) -> &sled::Tree {
        &self.trees[t.index()]
    }

    fn refuse_if_broken(&self) -> Result<(), StorageError> {
        if self.broken.load(Ordering::Acquire) {
            return Err(StorageError::Io(
                "an earlier fsync failed; restart the server to recover from what is on disk".into(),
            ));
        }
        Ok(())
    }
}

fn u64_key(k: &[u8]) -> Result<u64, StorageError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| StorageError::Corrupt("a log key or index value is not 8 bytes".into()))
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

fn poisoned<T>(_: T) -> StorageError {
    StorageError::Io("a committer panicked".into())
}

impl Storage for SledStorage {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.tree(table).get(key)?.map(|v| v.to_vec()))
    }

    fn scan(&self, table: Table) -> Result<Rows, StorageError> {
        self.tree(table)
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k.to_vec(), v.to_vec()))
            })
            .collect()
    }

    fn log_since(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError> {
        let head = self.durable_head.load(Ordering::Acquire);
        if since >= head || max == 0 {
            return Ok(Vec::new());
        }
        let start = since.saturating_add(1).to_be_bytes();
        let end = head.to_be_bytes();
        let mut out = Vec::new();
        for kv in self.trees[LOG].range(start..=end).take(max) {
            let (k, v) = kv?;
            out.push(decode(u64_key(&k)?, &v)?);
        }
        Ok(out)
    }

    fn log_head(&self) -> Result<u64, StorageError> {
        Ok(self.durable_head.load(Ordering::Acquire))
    }

    fn seq_of(&self, op: OpId) -> Result<Option<u64>, StorageError> {
        let Some(v) = self.trees[INDEX].get(op.as_bytes())? else {
            return Ok(None);
        };
        let seq = u64_key(&v)?;
        // Appended by a commit whose fsync has not returned yet: not committed.
        Ok((seq <= self.durable_head.load(Ordering::Acquire)).then_some(seq))
    }

    fn commit(&self, changes: Changeset) -> Result<Receipt, StorageError> {
        let applied = self.apply(changes)?;
        self.make_durable(&applied)?;
        Ok(applied.receipt)
    }

    fn apply(&self, changes: Changeset) -> Result<Applied, StorageError> {
        let mut a = self.applier.lock().map_err(poisoned)?;
        self.refuse_if_broken()?;
        if changes.is_empty() {
            // Durable as soon as everything before it is.
            return Ok(Applied {
                receipt: Receipt::default(),
                ticket: a.ticket,
            });
        }
        let first = a.next;
        let (writes, log) = changes.into_parts();
        // Encoded before the transaction: its closure may run more than once.
        let entries: Vec<([u8; 8], Vec<u8>, OpId)> = log
            .iter()
            .enumerate()
            .map(|(i, e)| ((first + i as u64).to_be_bytes(), encode(e.scope, &e.bytes), e.op))
            .collect();
        let result: Result<(), TransactionError<OpId>> = self.trees.as_slice().transaction(|tx| {
            for (seq, value, op) in &entries {
                // One index access per entry: the insert returns what it replaced,
                // and a replaced entry (a duplicate) aborts the whole transaction.
                if tx[INDEX].insert(op.as_bytes(), seq)?.is_some() {
                    return Err(ConflictableTransactionError::Abort(*op));
                }
                tx[LOG].insert(seq, value.as_slice())?;
            }
            for (table, key, value) in &writes {
                let tree = &tx[table.index()];
                match value {
                    Some(v) => tree.insert(key.as_slice(), v.as_slice())?,
                    None => tree.remove(key.as_slice())?,
                };
            }
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(TransactionError::Abort(op)) => return Err(StorageError::DuplicateOp(op)),
            Err(TransactionError::Storage(e)) => return Err(e.into()),
        }
        // The entries are in the trees now: the next commit numbers after them
        // whatever the fsync says.
        let n = entries.len() as u64;
        a.next = first + n;
        a.ticket += 1;
        Ok(Applied {
            receipt: Receipt {
                seqs: (first..first + n).collect(),
            },
            ticket: a.ticket,
        })
    }

    fn make_durable(&self, applied: &Applied) -> Result<(), StorageError> {
        let mut d = self.syncer.lock().map_err(poisoned)?;
        self.refuse_if_broken()?;
        if d.durable_ticket >= applied.ticket {
            // An fsync that began after this commit was applied covered it.
            return Ok(());
        }
        // Everything applied up to here is covered by the fsync below,
        // including commits applied after `applied`.
        let (ticket, head) = {
            let a = self.applier.lock().map_err(poisoned)?;
            (a.ticket, a.next - 1)
        };
        if let Err(e) = d.durability.commit(&self.db) {
            self.broken.store(true, Ordering::Release);
            return Err(StorageError::Io(format!("making the commit durable failed: {e}")));
        }
        d.durable_ticket = ticket;
        // Only now may readers see the entries (the trait's promise).
        self.durable_head.fetch_max(head, Ordering::AcqRel);
        Ok(())
    }
}
