//! The suite every [`Expiring`] implementation must pass (the in-memory one
//! here, PostgreSQL's in `kiemtra-storage-postgres`). Each check takes two
//! handles from the harness, as two server instances on one store would
//! have: what one does, the other sees; single-use stays single-use and
//! counts add up across both, also when threads race on the two.
//!
//! `kiemtra_storage::expiring_conformance!(its_harness())` runs it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::expiring::{Expiring, Kind};

/// Opens the store under test.
pub trait ExpiringHarness {
    /// A handle on the harness's store: each call another instance's handle
    /// on the same entries.
    fn open(&self) -> Arc<dyn Expiring>;
}

/// Expands to one `#[test]` per check, for the harness expression given.
#[macro_export]
macro_rules! expiring_conformance {
    ($harness:expr) => {
        $crate::expiring_conformance!(@tests $harness;
            put_get_and_delete,
            kinds_are_separate_key_spaces,
            insert_new_refuses_a_live_key_from_any_handle,
            a_taken_entry_is_gone_for_every_handle,
            entries_expire,
            counts_add_up_across_handles_until_the_window_ends,
            racing_handles_take_once_insert_once_and_count_everything,
        );
    };
    (@tests $harness:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::expiring_conformance::$check(&$harness);
            }
        )*
    };
}

const LONG: Duration = Duration::from_secs(600);
/// A life short enough to wait out, long enough to outlast a slow call.
const SHORT: Duration = Duration::from_millis(800);
/// Waited after a `SHORT` life: well past it.
const PAST_SHORT: Duration = Duration::from_millis(2000);

fn two(h: &dyn ExpiringHarness) -> (Arc<dyn Expiring>, Arc<dyn Expiring>) {
    (h.open(), h.open())
}

pub fn put_get_and_delete(h: &dyn ExpiringHarness) {
    let (a, b) = two(h);
    assert_eq!(b.get(Kind::DeviceSession, b"k").unwrap(), None);
    a.put(Kind::DeviceSession, b"k", b"one", LONG).unwrap();
    assert_eq!(b.get(Kind::DeviceSession, b"k").unwrap(), Some(b"one".to_vec()));
    b.put(Kind::DeviceSession, b"k", b"two", LONG).unwrap();
    assert_eq!(a.get(Kind::DeviceSession, b"k").unwrap(), Some(b"two".to_vec()));
    // Reading does not use an entry up.
    assert_eq!(a.get(Kind::DeviceSession, b"k").unwrap(), Some(b"two".to_vec()));
    a.put(Kind::DeviceSession, b"empty", b"", LONG).unwrap();
    assert_eq!(b.get(Kind::DeviceSession, b"empty").unwrap(), Some(Vec::new()));
    b.delete(Kind::DeviceSession, b"k").unwrap();
    assert_eq!(a.get(Kind::DeviceSession, b"k").unwrap(), None);
    // Deleting what is not there is no error.
    a.delete(Kind::DeviceSession, b"k").unwrap();
    a.delete(Kind::DeviceSession, b"never").unwrap();
}

pub fn kinds_are_separate_key_spaces(h: &dyn ExpiringHarness) {
    let (a, b) = two(h);
    a.put(Kind::Challenge, b"same", b"challenge", LONG).unwrap();
    a.put(Kind::PendingSignIn, b"same", b"pending", LONG).unwrap();
    assert_eq!(
        b.get(Kind::Challenge, b"same").unwrap(),
        Some(b"challenge".to_vec())
    );
    assert_eq!(
        b.get(Kind::PendingSignIn, b"same").unwrap(),
        Some(b"pending".to_vec())
    );
    assert_eq!(b.get(Kind::Import, b"same").unwrap(), None);
    assert_eq!(
        b.take(Kind::Challenge, b"same").unwrap(),
        Some(b"challenge".to_vec())
    );
    assert_eq!(
        a.get(Kind::PendingSignIn, b"same").unwrap(),
        Some(b"pending".to_vec())
    );
    assert_eq!(a.count(Kind::PortalGuesses, b"ip", LONG).unwrap().count, 1);
    assert_eq!(a.counted(Kind::StaffGuesses, b"ip").unwrap(), None);
}

pub fn insert_new_refuses_a_live_key_from_any_handle(h: &dyn ExpiringHarness) {
    let (a, b) = two(h);
    assert!(a.insert_new(Kind::Nonce, b"n1", b"first", LONG).unwrap());
    assert!(!b.insert_new(Kind::Nonce, b"n1", b"second", LONG).unwrap());
    assert!(!a.insert_new(Kind::Nonce, b"n1", b"third", LONG).unwrap());
    assert_eq!(b.get(Kind::Nonce, b"n1").unwrap(), Some(b"first".to_vec()));
    assert!(b.insert_new(Kind::Nonce, b"n2", b"", LONG).unwrap());
    // An expired entry does not hold its key.
    assert!(a.insert_new(Kind::Nonce, b"short", b"old", SHORT).unwrap());
    std::thread::sleep(PAST_SHORT);
    assert!(b.insert_new(Kind::Nonce, b"short", b"new", LONG).unwrap());
    assert_eq!(a.get(Kind::Nonce, b"short").unwrap(), Some(b"new".to_vec()));
}

pub fn a_taken_entry_is_gone_for_every_handle(h: &dyn ExpiringHarness) {
    let (a, b) = two(h);
    a.put(Kind::Challenge, b"c", b"device", LONG).unwrap();
    assert_eq!(b.take(Kind::Challenge, b"c").unwrap(), Some(b"device".to_vec()));
    assert_eq!(a.take(Kind::Challenge, b"c").unwrap(), None);
    assert_eq!(b.take(Kind::Challenge, b"c").unwrap(), None);
    assert_eq!(a.get(Kind::Challenge, b"c").unwrap(), None);
    assert_eq!(a.take(Kind::Challenge, b"never").unwrap(), None);
    // An expired entry cannot be taken.
    a.put(Kind::Challenge, b"late", b"device", SHORT).unwrap();
    std::thread::sleep(PAST_SHORT);
    assert_eq!(b.take(Kind::Challenge, b"late").unwrap(), None);
}

pub fn entries_expire(h: &dyn ExpiringHarness) {
    let (a, b) = two(h);
    a.put(Kind::DeviceSession, b"short", b"v", SHORT).unwrap();
    a.put(Kind::DeviceSession, b"long", b"v", LONG).unwrap();
    a.put(Kind::DeviceSession, b"renewed", b"v", SHORT).unwrap();
    assert_eq!(b.get(Kind::DeviceSession, b"short").unwrap(), Some(b"v".to_vec()));
    // Putting again restarts the entry's life.
    b.put(Kind::DeviceSession, b"renewed", b"w", LONG).unwrap();
    std::thread::sleep(PAST_SHORT);
    assert_eq!(b.get(Kind::DeviceSession, b"short").unwrap(), None);
    assert_eq!(a.get(Kind::DeviceSession, b"short").unwrap(), None);
    assert_eq!(a.get(Kind::DeviceSession, b"long").unwrap(), Some(b"v".to_vec()));
    assert_eq!(
        a.get(Kind::DeviceSession, b"renewed").unwrap(),
        Some(b"w".to_vec())
    );
    // A zero life is over at once.
    a.put(Kind::DeviceSession, b"zero", b"v", Duration::ZERO).unwrap();
    assert_eq!(b.get(Kind::DeviceSession, b"zero").unwrap(), None);
}

pub fn counts_add_up_across_handles_until_the_window_ends(h: &dyn ExpiringHarness) {
    let (a, b) = two(h);
    let window = Duration::from_secs(60);
    assert_eq!(a.counted(Kind::PortalGuesses, b"192.0.2.7").unwrap(), None);
    for n in 1..=10u64 {
        let by = if n % 2 == 0 { &a } else { &b };
        let w = by.count(Kind::PortalGuesses, b"192.0.2.7", window).unwrap();
        assert_eq!(w.count, n);
        assert!(w.ends_in <= window, "{:?}", w.ends_in);
        // The window began at the first count and does not move.
        assert!(w.ends_in > window - Duration::from_secs(30), "{:?}", w.ends_in);
    }
    let seen = a.counted(Kind::PortalGuesses, b"192.0.2.7").unwrap().unwrap();
    assert_eq!(seen.count, 10);
    assert_eq!(
        b.counted(Kind::PortalGuesses, b"192.0.2.7")
            .unwrap()
            .unwrap()
            .count,
        10
    );
    assert_eq!(b.counted(Kind::PortalGuesses, b"192.0.2.8").unwrap(), None);

    // A window that ends starts again at 1.
    for _ in 0..3 {
        a.count(Kind::StaffGuesses, b"ip", SHORT).unwrap();
    }
    assert_eq!(b.counted(Kind::StaffGuesses, b"ip").unwrap().unwrap().count, 3);
    std::thread::sleep(PAST_SHORT);
    assert_eq!(b.counted(Kind::StaffGuesses, b"ip").unwrap(), None);
    let again = b.count(Kind::StaffGuesses, b"ip", window).unwrap();
    assert_eq!(again.count, 1);
    assert!(again.ends_in > window - Duration::from_secs(30));
    a.delete(Kind::StaffGuesses, b"ip").unwrap();
    assert_eq!(b.counted(Kind::StaffGuesses, b"ip").unwrap(), None);
}

pub fn racing_handles_take_once_insert_once_and_count_everything(h: &dyn ExpiringHarness) {
    const KEYS: u32 = 40;
    const THREADS: usize = 6;
    let handles = [h.open(), h.open()];
    for i in 0..KEYS {
        handles[0]
            .put(Kind::Challenge, &i.to_be_bytes(), b"device", LONG)
            .unwrap();
    }
    let results: Vec<(Vec<u32>, Vec<u32>, Vec<u64>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let store = handles[t % 2].clone();
                scope.spawn(move || {
                    let (mut taken, mut inserted, mut counts) = (Vec::new(), Vec::new(), Vec::new());
                    for i in 0..KEYS {
                        let key = i.to_be_bytes();
                        if store.take(Kind::Challenge, &key).unwrap().is_some() {
                            taken.push(i);
                        }
                        if store.insert_new(Kind::Nonce, &key, b"", LONG).unwrap() {
                            inserted.push(i);
                        }
                        counts.push(store.count(Kind::SessionRequests, b"one", LONG).unwrap().count);
                    }
                    (taken, inserted, counts)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut taken: Vec<u32> = results.iter().flat_map(|r| r.0.clone()).collect();
    taken.sort_unstable();
    assert_eq!(
        taken,
        (0..KEYS).collect::<Vec<_>>(),
        "a challenge was taken twice or never"
    );
    let mut inserted: Vec<u32> = results.iter().flat_map(|r| r.1.clone()).collect();
    inserted.sort_unstable();
    assert_eq!(inserted, (0..KEYS).collect::<Vec<_>>(), "a nonce was new twice");
    let counts: HashSet<u64> = results.iter().flat_map(|r| r.2.clone()).collect();
    let total = u64::from(KEYS) * THREADS as u64;
    assert_eq!(
        counts,
        (1..=total).collect::<HashSet<_>>(),
        "counts were lost or repeated"
    );
    let last = handles[1]
        .counted(Kind::SessionRequests, b"one")
        .unwrap()
        .unwrap();
    assert_eq!(last.count, total);
}
