//! The short-lived entries' suite on the in-memory store (two handles are
//! two clones of one store, as sled serves one instance), and its bound.

use std::sync::Arc;
use std::time::Duration;

use kiemtra_storage::expiring_conformance::ExpiringHarness;
use kiemtra_storage::{Expiring, Kind, MemoryExpiring, StorageError};

struct Memory(Arc<MemoryExpiring>);

impl ExpiringHarness for Memory {
    fn open(&self) -> Arc<dyn Expiring> {
        self.0.clone()
    }
}

mod memory {
    use super::*;
    kiemtra_storage::expiring_conformance!(Memory(Arc::new(MemoryExpiring::new())));
}

/// A full kind refuses new entries (an error to retry) rather than drop a
/// live one; expired entries make room again; other kinds are not affected.
#[test]
fn a_full_kind_refuses_new_entries_and_never_drops_live_ones() {
    let store = MemoryExpiring::with_capacity(3);
    let long = Duration::from_secs(600);
    for key in [b"a", b"b", b"c"] {
        assert!(store.insert_new(Kind::Nonce, key, b"", long).unwrap());
    }
    match store.insert_new(Kind::Nonce, b"d", b"", long) {
        Err(StorageError::Io(_)) => {}
        other => panic!("expected a retryable refusal, got {other:?}"),
    }
    assert!(matches!(
        store.count(Kind::Nonce, b"d", long),
        Err(StorageError::Io(_))
    ));
    // The live ones are all still there, and replacing one needs no room.
    for key in [b"a", b"b", b"c"] {
        assert!(!store.insert_new(Kind::Nonce, key, b"", long).unwrap());
    }
    store.put(Kind::Nonce, b"a", b"again", long).unwrap();
    assert!(store.insert_new(Kind::Challenge, b"d", b"", long).unwrap());
    store.delete(Kind::Nonce, b"b").unwrap();
    assert!(store.insert_new(Kind::Nonce, b"d", b"", long).unwrap());

    // Expired entries are purged to make room.
    let short = MemoryExpiring::with_capacity(2);
    short
        .put(Kind::Challenge, b"x", b"", Duration::from_millis(50))
        .unwrap();
    short
        .put(Kind::Challenge, b"y", b"", Duration::from_millis(50))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    short.put(Kind::Challenge, b"z", b"", long).unwrap();
    assert_eq!(short.get(Kind::Challenge, b"z").unwrap(), Some(Vec::new()));
}
