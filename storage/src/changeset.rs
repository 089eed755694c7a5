//! What one commit writes: table writes and log entries, built up by the
//! writer's logic and applied by [`super::Storage::commit`] all at once.
//!
//! The writer reads its own uncommitted writes through [`Changeset::get`], so
//! that the pushes of one group commit see each other. A savepoint marks
//! where one job (one request) began: a job that fails is rolled back to it
//! and the group's other jobs commit without any half of it.

use std::collections::{HashMap, HashSet};

use kiemtra_core::ids::OpId;

use super::{NewEntry, Table, Write};

type Key = (Table, Vec<u8>);

#[derive(Debug, Default)]
pub struct Changeset {
    /// The last value written per key; `None` deletes it.
    writes: HashMap<Key, Option<Vec<u8>>>,
    log: Vec<NewEntry>,
    /// Position in `log` of each operation appended.
    ops: HashMap<OpId, usize>,
    /// Since the open savepoint: each key's value before its first write.
    undo: Vec<(Key, Option<Option<Vec<u8>>>)>,
    touched: HashSet<Key>,
    open: Option<Savepoint>,
}

/// Where a job began: the log's length then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint {
    log_len: usize,
}

impl Changeset {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.log.is_empty()
    }

    pub fn put(&mut self, table: Table, key: impl Into<Vec<u8>>, value: Vec<u8>) {
        self.write((table, key.into()), Some(value));
    }

    pub fn delete(&mut self, table: Table, key: impl Into<Vec<u8>>) {
        self.write((table, key.into()), None);
    }

    fn write(&mut self, key: Key, value: Option<Vec<u8>>) {
        let before = self.writes.insert(key.clone(), value);
        if self.open.is_some() && self.touched.insert(key.clone()) {
            // Moved, not copied: the first write of a key in a job keeps what it replaced.
            self.undo.push((key, before));
        }
    }

    /// The changeset's own write of `key`: `Some(None)` if it deletes it,
    /// `None` if it does not touch it (read the storage then).
    pub fn get(&self, table: Table, key: &[u8]) -> Option<Option<&[u8]>> {
        self.writes.get(&(table, key.to_vec())).map(|v| v.as_deref())
    }

    /// This changeset's writes to `table`.
    pub fn writes_to(&self, table: Table) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        self.writes
            .iter()
            .filter(move |((t, _), _)| *t == table)
            .map(|((_, k), v)| (k.as_slice(), v.as_deref()))
    }

    /// Appends a log entry; returns its position among this changeset's
    /// entries (the commit's [`super::Receipt`] gives its number).
    pub fn append(&mut self, entry: NewEntry) -> usize {
        let pos = self.log.len();
        self.ops.insert(entry.op, pos);
        self.log.push(entry);
        pos
    }

    /// The position of an operation appended by this changeset.
    pub fn position_of(&self, op: OpId) -> Option<usize> {
        self.ops.get(&op).copied()
    }

    pub fn log(&self) -> &[NewEntry] {
        &self.log
    }

    /// Opens a savepoint (closing any open one: jobs run one at a time).
    pub fn savepoint(&mut self) -> Savepoint {
        self.undo.clear();
        self.touched.clear();
        let sp = Savepoint {
            log_len: self.log.len(),
        };
        self.open = Some(sp);
        sp
    }

    /// Keeps everything written since the savepoint.
    pub fn release(&mut self) {
        self.undo.clear();
        self.touched.clear();
        self.open = None;
    }

    /// Undoes everything written since the savepoint `sp`.
    pub fn rollback(&mut self, sp: Savepoint) {
        debug_assert_eq!(self.open, Some(sp));
        for (key, before) in self.undo.drain(..).rev() {
            match before {
                Some(v) => {
                    self.writes.insert(key, v);
                }
                None => {
                    self.writes.remove(&key);
                }
            }
        }
        for e in self.log.drain(sp.log_len..) {
            self.ops.remove(&e.op);
        }
        self.touched.clear();
        self.open = None;
    }

    /// The writes (table, key, value or delete) and the log entries, for an engine to apply.
    pub fn into_parts(self) -> (Vec<Write>, Vec<NewEntry>) {
        let writes = self.writes.into_iter().map(|((t, k), v)| (t, k, v)).collect();
        (writes, self.log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scope;

    fn entry(byte: u8) -> NewEntry {
        NewEntry {
            op: OpId::new(),
            scope: Scope::Everyone,
            bytes: vec![byte],
        }
    }

    #[test]
    fn reads_its_own_writes_and_deletes() {
        let mut c = Changeset::new();
        assert_eq!(c.get(Table::Meta, b"k"), None);
        c.put(Table::Meta, b"k".to_vec(), b"1".to_vec());
        assert_eq!(c.get(Table::Meta, b"k"), Some(Some(&b"1"[..])));
        c.delete(Table::Meta, b"k".to_vec());
        assert_eq!(c.get(Table::Meta, b"k"), Some(None));
        assert_eq!(c.get(Table::Records, b"k"), None);
    }

    #[test]
    fn a_rolled_back_job_leaves_the_earlier_jobs_writes() {
        let mut c = Changeset::new();
        let kept = entry(1);
        c.savepoint();
        c.put(Table::Meta, b"a".to_vec(), b"first".to_vec());
        c.append(kept.clone());
        c.release();

        let sp = c.savepoint();
        c.put(Table::Meta, b"a".to_vec(), b"second".to_vec());
        c.put(Table::Meta, b"a".to_vec(), b"third".to_vec());
        c.put(Table::Meta, b"b".to_vec(), b"new".to_vec());
        c.delete(Table::Records, b"r".to_vec());
        let dropped = entry(2);
        c.append(dropped.clone());
        c.rollback(sp);

        assert_eq!(c.get(Table::Meta, b"a"), Some(Some(&b"first"[..])));
        assert_eq!(c.get(Table::Meta, b"b"), None);
        assert_eq!(c.get(Table::Records, b"r"), None);
        assert_eq!(c.position_of(kept.op), Some(0));
        assert_eq!(c.position_of(dropped.op), None);
        let (writes, log) = c.into_parts();
        assert_eq!(writes.len(), 1);
        assert_eq!(log, vec![kept]);
    }
}
