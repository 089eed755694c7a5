//! A storage that fails on request, to test that a storage failure is an
//! error to retry and never a verdict on the input.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use kiemtra_core::ids::OpId;

use super::{Applied, Changeset, Receipt, Rows, Storage, StorageError, StoredEntry, Table};

/// Wraps a storage; each counter makes that many next calls of its kind fail.
pub struct Faulty {
    inner: Arc<dyn Storage>,
    failing_reads: AtomicU32,
    /// Reads of one table that fail, and how many more.
    failing_table: Mutex<Option<(Table, u32)>>,
    failing_commits: AtomicU32,
    failing_syncs: AtomicU32,
    /// While true, `make_durable` waits: a group stays in flight.
    syncs_paused: (Mutex<bool>, Condvar),
}

impl Faulty {
    pub fn new(inner: Arc<dyn Storage>) -> Self {
        Self {
            inner,
            failing_reads: AtomicU32::new(0),
            failing_table: Mutex::new(None),
            failing_commits: AtomicU32::new(0),
            failing_syncs: AtomicU32::new(0),
            syncs_paused: (Mutex::new(false), Condvar::new()),
        }
    }

    /// The next `n` reads of tables (`get`, `scan`) fail.
    pub fn fail_reads(&self, n: u32) {
        self.failing_reads.store(n, Ordering::SeqCst);
    }

    /// The next `n` reads of `table` fail.
    pub fn fail_reads_of(&self, table: Table, n: u32) {
        *self.failing_table.lock().unwrap_or_else(|p| p.into_inner()) = Some((table, n));
    }

    /// The next `n` commits fail before anything is written.
    pub fn fail_commits(&self, n: u32) {
        self.failing_commits.store(n, Ordering::SeqCst);
    }

    /// The next `n` calls of `make_durable` fail, after their commit was applied.
    pub fn fail_syncs(&self, n: u32) {
        self.failing_syncs.store(n, Ordering::SeqCst);
    }

    /// Calls of `make_durable` wait from now until [`Faulty::resume_syncs`].
    pub fn pause_syncs(&self) {
        *self.syncs_paused.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
    }

    pub fn resume_syncs(&self) {
        *self.syncs_paused.0.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.syncs_paused.1.notify_all();
    }

    fn take(counter: &AtomicU32) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn read_fault(&self, table: Table) -> Result<(), StorageError> {
        let fail = Err(StorageError::Io("injected read failure".into()));
        if Self::take(&self.failing_reads) {
            return fail;
        }
        let mut t = self.failing_table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((failing, n)) = t.as_mut() {
            if *failing == table && *n > 0 {
                *n -= 1;
                return fail;
            }
        }
        Ok(())
    }
}

impl Storage for Faulty {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.read_fault(table)?;
        self.inner.get(table, key)
    }

    fn scan(&self, table: Table) -> Result<Rows, StorageError> {
        self.read_fault(table)?;
        self.inner.scan(table)
    }

    fn log_since(&self, since: u64, max: usize) -> Result<Vec<StoredEntry>, StorageError> {
        self.inner.log_since(since, max)
    }

    fn log_head(&self) -> Result<u64, StorageError> {
        self.inner.log_head()
    }

    fn seq_of(&self, op: OpId) -> Result<Option<u64>, StorageError> {
        self.inner.seq_of(op)
    }

    fn commit(&self, changes: Changeset) -> Result<Receipt, StorageError> {
        if Self::take(&self.failing_commits) {
            return Err(StorageError::Io("injected commit failure".into()));
        }
        self.inner.commit(changes)
    }

    fn apply(&self, changes: Changeset) -> Result<Applied, StorageError> {
        if Self::take(&self.failing_commits) {
            return Err(StorageError::Io("injected commit failure".into()));
        }
        self.inner.apply(changes)
    }

    fn make_durable(&self, applied: &Applied) -> Result<(), StorageError> {
        let (paused, resumed) = &self.syncs_paused;
        let mut p = paused.lock().unwrap_or_else(|p| p.into_inner());
        while *p {
            p = resumed.wait(p).unwrap_or_else(|p| p.into_inner());
        }
        drop(p);
        if Self::take(&self.failing_syncs) {
            return Err(StorageError::Io("injected fsync failure".into()));
        }
        self.inner.make_durable(applied)
    }

    fn begin_turn(&self) -> Result<Option<Box<dyn crate::Turn>>, StorageError> {
        self.inner.begin_turn()
    }
}
