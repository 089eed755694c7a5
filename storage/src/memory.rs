//! Everything in memory, for fast tests of the writer's logic: the same
//! promises as the durable engines, minus surviving the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use kiemtra_core::ids::OpId;

use super::{Changeset, Receipt, Rows, Storage, StorageError, StoredEntry, Table};

#[derive(Default)]
struct Inner {
    tables: Vec<BTreeMap<Vec<u8>, Vec<u8>>>,
    log: Vec<StoredEntry>,
    index: HashMap<OpId, u64>,
}

/// One lock over everything: a commit is applied while readers wait, so they
/// see all of it or none of it.
pub struct MemoryStorage {
    inner: RwLock<Inner>,
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self {
            inner: RwLock::new(Inner {
                tables: Table::ALL.iter().map(|_| BTreeMap::new()).collect(),
                ..Inner::default()
            }),
        }
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Inner>, StorageError> {
        self.inner
            .read()
            .map_err(|_| StorageError::Io("a committer panicked".into()))
    }
}

impl Storage for MemoryStorage {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.read()?.tables[table.index()].get(key).cloned())
    }

    fn scan(&self, table: Table) -> Result<Rows, StorageError> {
        Ok(self.read()?.tables[table.index()]
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn log_since(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError> {
        let inner = self.read()?;
        let start = usize::try_from(since).unwrap_or(usize::MAX).min(inner.log.len());
        Ok(inner.log[start..].iter().take(max).cloned().collect())
    }

    fn log_head(&self) -> Result<u64, StorageError> {
        Ok(self.read()?.log.len() as u64)
    }

    fn seq_of(&self, op: OpId) -> Result<Option<u64>, StorageError> {
        Ok(self.read()?.index.get(&op).copied())
    }

    fn commit(&self, changes: Changeset) -> Result<Receipt, StorageError> {
        let mut inner = self
            .inner
            .write()
            .map_err(|_| StorageError::Io("a committer panicked".into()))?;
        let (writes, log) = changes.into_parts();
        // Checked before anything is applied: all or nothing.
        let mut seen = std::collections::HashSet::new();
        for e in &log {
            if inner.index.contains_key(&e.op) || !seen.insert(e.op) {
                return Err(StorageError::DuplicateOp(e.op));
            }
        }
        let mut seqs = Vec::with_capacity(log.len());
        for e in log {
            let seq = inner.log.len() as u64 + 1;
            inner.index.insert(e.op, seq);
            inner.log.push(StoredEntry {
                server_seq: seq,
                scope: e.scope,
                bytes: e.bytes,
            });
            seqs.push(seq);
        }
        for (table, key, value) in writes {
            let t = &mut inner.tables[table.index()];
            match value {
                Some(v) => {
                    t.insert(key, v);
                }
                None => {
                    t.remove(&key);
                }
            }
        }
        Ok(Receipt { seqs })
    }
}
