//! The embedded default: one sled database in the data folder.
//!
//! Layout 2 keeps everything in sled's default tree, each key prefixed with
//! a tag byte: [`Table::tag`] for the tables, [`LOG`] for the log (the
//! sequence number, 8 bytes big-endian, so key order is log order, mapped to
//! the scope and the operation's CBOR) and [`INDEX`] for the op-id index
//! (an operation id mapped to its number).
//!
//! One tree, because a commit is then one `apply_batch`: atomic (sled
//! recovers a prefix of its writes after a crash and a batch is one unit of
//! that prefix) and written without reading. A sled transaction over several
//! trees is atomic too, but reads every key it writes first (to return the
//! old value), which cost about a sixth of the server's saturation throughput
//! (the commit benchmark, `cargo bench -p kiemtra-server --bench storage`).
//! The only writer of the tree is [`SledStorage::commit`], one at a time
//! under its mutex (and sled's folder lock keeps other processes out), so a
//! duplicate check made under that mutex still holds when the batch lands.
//!
//! After the batch, the fsync discipline of [`kiemtra_core::durable::Durability`]:
//! sled's own `flush()` is not enough. sled's quirks (the folder lock
//! released late, flush, fsync) stay here.
//!
//! Layout 1 (one named tree per table, `log` and `log_index`) is migrated
//! when the folder is first opened: see [`migrate_layout_1`].

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use kiemtra_core::durable::Durability;
use kiemtra_core::ids::{DelegationId, OpId};

use super::{Changeset, Receipt, Rows, Scope, Storage, StorageError, StoredEntry, Table};

const SCOPE_EVERYONE: u8 = 0;
const SCOPE_DELEGATION: u8 = 1;

/// Tag of the log's keys (after the tables' tags, far from them).
const LOG: u8 = 0xF0;
/// Tag of the op-id index's keys.
const INDEX: u8 = 0xF1;
/// The key holding the layout version (tag 0xFF: nothing else uses it).
const LAYOUT_KEY: &[u8] = b"\xFFlayout";
const LAYOUT: u32 = 2;
/// The trees of layout 1 besides the tables': the log and its index.
const LAYOUT_1_LOG: &str = "log";
const LAYOUT_1_INDEX: &str = "log_index";

pub struct SledStorage {
    db: sled::Db,
    /// Commits one at a time; holds the durability handles and the next number.
    committer: Mutex<Committer>,
    /// The highest sequence number on stable storage, the one readers may see.
    durable_head: AtomicU64,
    /// Set when an fsync failed: Linux may have dropped the dirty pages, so
    /// a later fsync that succeeds proves nothing. Commits are refused until
    /// the server restarts and recovers from what is really on disk (the
    /// rule PostgreSQL adopted after "fsyncgate").
    broken: AtomicBool,
}

struct Committer {
    durability: Durability,
    next: u64,
}

fn key_of(tag: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(tag);
    k.extend_from_slice(key);
    k
}

fn log_key(seq: u64) -> [u8; 9] {
    let mut k = [LOG; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn index_key(op: OpId) -> [u8; 17] {
    let mut k = [INDEX; 17];
    k[1..].copy_from_slice(op.as_bytes());
    k
}

impl SledStorage {
    /// Opens (or creates) the database in the folder `dir`, waiting briefly
    /// for a lock that a closing handle still holds, and migrating a folder
    /// of layout 1.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)?;
        let db = kiemtra_core::sled_open::open(&sled::Config::new().path(dir).cache_capacity(cache_bytes))?;
        let mut durability = Durability::open(dir)?;
        match db.get(LAYOUT_KEY)? {
            Some(v) => {
                let found = u32_value(&v)?;
                if found != LAYOUT {
                    return Err(StorageError::Corrupt(format!(
                        "the sled layout is {found}; this build reads layout {LAYOUT}"
                    )));
                }
                // A migration that stopped after its batch left the old trees behind.
                drop_layout_1(&db, &mut durability)?;
            }
            None => migrate_layout_1(&db, &mut durability)?,
        }
        let head = match db.range(log_key(0)..=log_key(u64::MAX)).next_back() {
            Some(kv) => u64_key(&kv?.0[1..])?,
            None => 0,
        };
        Ok(Self {
            db,
            committer: Mutex::new(Committer {
                durability,
                next: head + 1,
            }),
            // What is in the tree at open survived the last run: it is durable.
            durable_head: AtomicU64::new(head),
            broken: AtomicBool::new(false),
        })
    }
}

/// Copies a folder of layout 1 (or a new, empty one) into layout 2 in one
/// batch with the layout marker, makes it durable, then drops the old trees.
/// A crash before the batch is durable leaves layout 1 as it was (the next
/// open migrates again); a crash after it leaves old trees that the next
/// open drops. The batch holds the whole folder in memory once: a one-time
/// cost, a few hundred MB for a million operations.
fn migrate_layout_1(db: &sled::Db, durability: &mut Durability) -> Result<(), StorageError> {
    let mut batch = sled::Batch::default();
    let mut moved = 0u64;
    for t in Table::ALL {
        if !has_tree(db, t.name())? {
            continue;
        }
        for kv in db.open_tree(t.name())?.iter() {
            let (k, v) = kv?;
            batch.insert(key_of(t.tag(), &k), v);
            moved += 1;
        }
    }
    if has_tree(db, LAYOUT_1_LOG)? {
        for kv in db.open_tree(LAYOUT_1_LOG)?.iter() {
            let (k, v) = kv?;
            batch.insert(key_of(LOG, &k), v);
            moved += 1;
        }
    }
    if has_tree(db, LAYOUT_1_INDEX)? {
        for kv in db.open_tree(LAYOUT_1_INDEX)?.iter() {
            let (k, v) = kv?;
            batch.insert(key_of(INDEX, &k), v);
            moved += 1;
        }
    }
    batch.insert(LAYOUT_KEY, &LAYOUT.to_be_bytes());
    db.apply_batch(batch)?;
    durability.commit(db)?;
    if moved > 0 {
        tracing::info!(
            entries = moved,
            "storage migrated to sled layout {LAYOUT} (one tree)"
        );
    }
    drop_layout_1(db, durability)
}

fn drop_layout_1(db: &sled::Db, durability: &mut Durability) -> Result<(), StorageError> {
    let mut dropped = false;
    let names = Table::ALL
        .iter()
        .map(|t| t.name())
        .chain([LAYOUT_1_LOG, LAYOUT_1_INDEX]);
    for name in names {
        if has_tree(db, name)? {
            db.drop_tree(name)?;
            dropped = true;
        }
    }
    if dropped {
        durability.commit(db)?;
    }
    Ok(())
}

fn has_tree(db: &sled::Db, name: &str) -> Result<bool, StorageError> {
    Ok(db.tree_names().iter().any(|n| n.as_ref() == name.as_bytes()))
}

fn u64_key(k: &[u8]) -> Result<u64, StorageError> {
    <[u8; 8]>::try_from(k)
        .map(u64::from_be_bytes)
        .map_err(|_| StorageError::Corrupt("a log key or index value is not 8 bytes".into()))
}

fn u32_value(v: &[u8]) -> Result<u32, StorageError> {
    <[u8; 4]>::try_from(v)
        .map(u32::from_be_bytes)
        .map_err(|_| StorageError::Corrupt("the layout version is not 4 bytes".into()))
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
        Ok(self.db.get(key_of(table.tag(), key))?.map(|v| v.to_vec()))
    }

    fn scan(&self, table: Table) -> Result<Rows, StorageError> {
        self.db
            .scan_prefix([table.tag()])
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k[1..].to_vec(), v.to_vec()))
            })
            .collect()
    }

    fn log_since(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError> {
        let head = self.durable_head.load(Ordering::Acquire);
        if since >= head || max == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for kv in self.db.range(log_key(since + 1)..=log_key(head)).take(max) {
            let (k, v) = kv?;
            out.push(decode(u64_key(&k[1..])?, &v)?);
        }
        Ok(out)
    }

    fn log_head(&self) -> Result<u64, StorageError> {
        Ok(self.durable_head.load(Ordering::Acquire))
    }

    fn seq_of(&self, op: OpId) -> Result<Option<u64>, StorageError> {
        let Some(v) = self.db.get(index_key(op))? else {
            return Ok(None);
        };
        let seq = u64_key(&v)?;
        // Appended by a commit whose fsync has not returned yet: not committed.
        Ok((seq <= self.durable_head.load(Ordering::Acquire)).then_some(seq))
    }

    fn commit(&self, changes: Changeset) -> Result<Receipt, StorageError> {
        let mut c = self.committer.lock().map_err(poisoned)?;
        if self.broken.load(Ordering::Acquire) {
            return Err(StorageError::Io(
                "an earlier fsync failed; restart the server to recover from what is on disk".into(),
            ));
        }
        if changes.is_empty() {
            return Ok(Receipt::default());
        }
        let first = c.next;
        let (writes, log) = changes.into_parts();
        // Duplicates: within the changeset, and against the log. Only this
        // method writes the tree, under the mutex held here, so what the
        // index says now still holds when the batch lands.
        let mut seen = HashSet::with_capacity(log.len());
        for e in &log {
            if !seen.insert(e.op) || self.db.contains_key(index_key(e.op))? {
                return Err(StorageError::DuplicateOp(e.op));
            }
        }
        let mut batch = sled::Batch::default();
        for (i, e) in log.iter().enumerate() {
            let seq = first + i as u64;
            batch.insert(&index_key(e.op), &seq.to_be_bytes());
            batch.insert(&log_key(seq), encode(e.scope, &e.bytes));
        }
        for (table, key, value) in writes {
            match value {
                Some(v) => batch.insert(key_of(table.tag(), &key), v),
                None => batch.remove(key_of(table.tag(), &key)),
            }
        }
        self.db.apply_batch(batch)?;
        // The entries are in the tree now: the next commit numbers after them
        // whatever the fsync below says.
        let n = log.len() as u64;
        c.next = first + n;
        if let Err(e) = c.durability.commit(&self.db) {
            self.broken.store(true, Ordering::Release);
            return Err(StorageError::Io(format!("making the commit durable failed: {e}")));
        }
        if n > 0 {
            // Only now may readers see the entries (the trait's promise).
            self.durable_head.store(first + n - 1, Ordering::Release);
        }
        Ok(Receipt {
            seqs: (first..first + n).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::NewEntry;

    /// Writes a folder as layout 1 did: a tree per table, `log` and `log_index`.
    fn write_layout_1(dir: &Path, op: OpId) {
        let db = sled::Config::new().path(dir).open().expect("open");
        db.open_tree("records")
            .expect("tree")
            .insert(b"r1", b"record")
            .expect("insert");
        db.open_tree("meta")
            .expect("tree")
            .insert(b"format_version", &1u32.to_be_bytes())
            .expect("insert");
        let mut value = vec![SCOPE_EVERYONE];
        value.extend_from_slice(b"op-bytes");
        db.open_tree("log")
            .expect("tree")
            .insert(1u64.to_be_bytes(), value)
            .expect("insert");
        db.open_tree("log_index")
            .expect("tree")
            .insert(op.as_bytes(), &1u64.to_be_bytes())
            .expect("insert");
        db.flush().expect("flush");
    }

    #[test]
    fn a_layout_1_folder_is_migrated_whole_and_its_old_trees_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let op = OpId::new();
        write_layout_1(dir.path(), op);
        let s = SledStorage::open(dir.path(), 1 << 20).expect("open");
        assert_eq!(
            s.get(Table::Records, b"r1").expect("get"),
            Some(b"record".to_vec())
        );
        assert_eq!(s.log_head().expect("head"), 1);
        assert_eq!(s.seq_of(op).expect("seq"), Some(1));
        let entries = s.log_since(0, 10).expect("log");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].bytes, b"op-bytes");
        assert_eq!(entries[0].scope, Scope::Everyone);
        for name in ["records", "meta", "log", "log_index"] {
            assert!(!has_tree(&s.db, name).expect("names"), "{name} was not dropped");
        }
        // The next number follows the migrated log, and the index still finds duplicates.
        let mut c = Changeset::new();
        c.append(NewEntry {
            op,
            scope: Scope::Everyone,
            bytes: b"again".to_vec(),
        });
        assert!(matches!(s.commit(c), Err(StorageError::DuplicateOp(o)) if o == op));
        let mut c = Changeset::new();
        c.append(NewEntry {
            op: OpId::new(),
            scope: Scope::Everyone,
            bytes: b"next".to_vec(),
        });
        assert_eq!(s.commit(c).expect("commit").seqs, vec![2]);
        drop(s);
        // Opened again: layout 2 as it is, nothing migrated twice.
        let s = SledStorage::open(dir.path(), 1 << 20).expect("reopen");
        assert_eq!(s.log_head().expect("head"), 2);
        assert_eq!(s.scan(Table::Records).expect("scan").len(), 1);
    }
}
