//! [`Expiring`] in the process's memory: the store of short-lived entries
//! for sled, whose folder lock makes it single-instance anyway, and for
//! tests. The process's monotonic clock decides expiry (a restart forgets
//! everything, as the maps it replaces did).
//!
//! Bounded: each kind holds at most its capacity of entries. A kind that is
//! full purges its expired entries (at most once a second, so a full kind
//! is not rescanned on every call) and, if still full, refuses the new
//! entry with a retryable error. It never drops a live entry to make room:
//! a nonce dropped early would let its request be replayed.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::expiring::{Expiring, Kind, Window};
use crate::StorageError;

/// Longer lives are cut to this (an `Instant` cannot reach every `Duration`).
const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// A kind that is full is purged at most this often.
const FULL_PURGE_EVERY: Duration = Duration::from_secs(1);

/// The entries of each kind held at most by default. The nonces are the
/// many (every signed request of the last half hour); the rest are one per
/// device, client address or sign-in.
fn default_capacity(kind: Kind) -> usize {
    match kind {
        Kind::Nonce => 2_000_000,
        Kind::PendingSignIn | Kind::PendingSignInWrong => 10_000,
        // Each holds a report that may list thousands of refused lines.
        Kind::Import => 1_000,
        _ => 100_000,
    }
}

struct Entry {
    value: Vec<u8>,
    count: u64,
    expires: Instant,
}

struct Shelf {
    entries: HashMap<Vec<u8>, Entry>,
    capacity: usize,
    /// New entries since the last purge: purging after as many as the shelf
    /// holds keeps the cost of purging constant per entry.
    added_since_purge: usize,
    last_full_purge: Option<Instant>,
}

impl Shelf {
    fn live(&self, key: &[u8], now: Instant) -> Option<&Entry> {
        self.entries.get(key).filter(|e| e.expires > now)
    }

    fn purge(&mut self, now: Instant) {
        self.entries.retain(|_, e| e.expires > now);
        self.added_since_purge = 0;
    }

    /// Makes room for one more entry under `key`, or says the kind is full.
    fn room_for(&mut self, kind: Kind, key: &[u8], now: Instant) -> Result<(), StorageError> {
        if self.entries.contains_key(key) {
            return Ok(());
        }
        if self.added_since_purge >= self.entries.len().max(1024) {
            self.purge(now);
        }
        if self.entries.len() >= self.capacity {
            let recently = self
                .last_full_purge
                .is_some_and(|t| now.duration_since(t) < FULL_PURGE_EVERY);
            if !recently {
                self.last_full_purge = Some(now);
                self.purge(now);
            }
        }
        if self.entries.len() >= self.capacity {
            return Err(StorageError::Io(format!(
                "the in-memory store holds its most {} entries ({}); try again later",
                kind.name(),
                self.capacity
            )));
        }
        self.added_since_purge += 1;
        Ok(())
    }
}

/// One map per kind, each behind its own lock.
pub struct MemoryExpiring {
    shelves: Vec<Mutex<Shelf>>,
}

impl Default for MemoryExpiring {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryExpiring {
    /// With each kind's default capacity.
    pub fn new() -> Self {
        Self::build(default_capacity)
    }

    /// With `capacity` entries at most of every kind (tests of the bound).
    pub fn with_capacity(capacity: usize) -> Self {
        Self::build(|_| capacity)
    }

    fn build(capacity: impl Fn(Kind) -> usize) -> Self {
        Self {
            shelves: Kind::ALL
                .iter()
                .map(|k| {
                    Mutex::new(Shelf {
                        entries: HashMap::new(),
                        capacity: capacity(*k),
                        added_since_purge: 0,
                        last_full_purge: None,
                    })
                })
                .collect(),
        }
    }

    fn shelf(&self, kind: Kind) -> Result<MutexGuard<'_, Shelf>, StorageError> {
        self.shelves[kind.index()]
            .lock()
            .map_err(|_| StorageError::Io("a thread panicked holding short-lived entries".into()))
    }
}

fn until(now: Instant, ttl: Duration) -> Instant {
    now + ttl.min(MAX_TTL)
}

impl Expiring for MemoryExpiring {
    fn put(&self, kind: Kind, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), StorageError> {
        let now = Instant::now();
        let mut shelf = self.shelf(kind)?;
        shelf.room_for(kind, key, now)?;
        shelf.entries.insert(
            key.to_vec(),
            Entry {
                value: value.to_vec(),
                count: 0,
                expires: until(now, ttl),
            },
        );
        Ok(())
    }

    fn insert_new(&self, kind: Kind, key: &[u8], value: &[u8], ttl: Duration) -> Result<bool, StorageError> {
        let now = Instant::now();
        let mut shelf = self.shelf(kind)?;
        if shelf.live(key, now).is_some() {
            return Ok(false);
        }
        shelf.room_for(kind, key, now)?;
        shelf.entries.insert(
            key.to_vec(),
            Entry {
                value: value.to_vec(),
                count: 0,
                expires: until(now, ttl),
            },
        );
        Ok(true)
    }

    fn take(&self, kind: Kind, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let now = Instant::now();
        let taken = self.shelf(kind)?.entries.remove(key);
        Ok(taken.filter(|e| e.expires > now).map(|e| e.value))
    }

    fn get(&self, kind: Kind, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let now = Instant::now();
        Ok(self.shelf(kind)?.live(key, now).map(|e| e.value.clone()))
    }

    fn delete(&self, kind: Kind, key: &[u8]) -> Result<(), StorageError> {
        self.shelf(kind)?.entries.remove(key);
        Ok(())
    }

    fn count(&self, kind: Kind, key: &[u8], window: Duration) -> Result<Window, StorageError> {
        let now = Instant::now();
        let mut shelf = self.shelf(kind)?;
        if let Some(e) = shelf.entries.get_mut(key).filter(|e| e.expires > now) {
            e.count = e.count.saturating_add(1);
            return Ok(Window {
                count: e.count,
                ends_in: e.expires.duration_since(now),
            });
        }
        shelf.room_for(kind, key, now)?;
        let expires = until(now, window);
        shelf.entries.insert(
            key.to_vec(),
            Entry {
                value: Vec::new(),
                count: 1,
                expires,
            },
        );
        Ok(Window {
            count: 1,
            ends_in: expires.duration_since(now),
        })
    }

    fn counted(&self, kind: Kind, key: &[u8]) -> Result<Option<Window>, StorageError> {
        let now = Instant::now();
        Ok(self.shelf(kind)?.live(key, now).map(|e| Window {
            count: e.count,
            ends_in: e.expires.duration_since(now),
        }))
    }
}
