//! The suite every [`Storage`] implementation must pass (sled and memory
//! here, PostgreSQL in `kiemtra-storage-postgres`). Each check is a function
//! over a [`Harness`], so an engine in another crate runs the same suite with
//! `kiemtra_storage::storage_conformance!(its_harness())`.
//!
//! The crash check needs a process to kill: [`crash_child`] commits until it
//! is killed, [`check_after_crash`] inspects what is left.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kiemtra_core::ids::OpId;

use super::{Changeset, NewEntry, Scope, Storage, StorageError, Table};

/// Opens the engine under test.
pub trait Harness {
    /// Opens the harness's store: the same one each time (an engine that
    /// keeps data across opens reopens it; callers drop the previous handle first).
    fn open(&self) -> Arc<dyn Storage>;
}

/// Expands to one `#[test]` per check, for the harness expression given.
#[macro_export]
macro_rules! storage_conformance {
    ($harness:expr) => {
        $crate::storage_conformance!(@tests $harness;
            numbering_has_no_gaps,
            a_commit_is_all_or_nothing,
            a_duplicate_inside_one_changeset_is_refused,
            writes_deletes_and_scans,
            readers_never_see_part_of_a_commit,
            committed_data_is_there_after_reopening,
            an_empty_commit_changes_nothing,
            applied_commits_are_committed_once_made_durable,
            a_duplicate_of_an_applied_commit_is_refused,
        );
    };
    (@tests $harness:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::conformance::$check(&$harness);
            }
        )*
    };
}

/// An operation id that says which commit and entry it is.
pub fn op_id(commit: u64, entry: u32) -> OpId {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&commit.to_be_bytes());
    b[8..12].copy_from_slice(&entry.to_be_bytes());
    b[12] = 0x6b; // never the all-zero id
    OpId::from_bytes(b)
}

fn entry(commit: u64, i: u32) -> NewEntry {
    NewEntry {
        op: op_id(commit, i),
        scope: Scope::Everyone,
        bytes: format!("{commit}/{i}").into_bytes(),
    }
}

/// Commit number `n`: `per` log entries and the key `n` in `Records`.
pub fn numbered_commit(n: u64, per: u32) -> Changeset {
    let mut c = Changeset::new();
    for i in 0..per {
        c.append(entry(n, i));
    }
    c.put(
        Table::Records,
        n.to_be_bytes().to_vec(),
        n.to_string().into_bytes(),
    );
    c
}

fn all_entries(s: &dyn Storage) -> Vec<super::StoredEntry> {
    s.log_since(0, usize::MAX).expect("read the log")
}

pub fn numbering_has_no_gaps(h: &dyn Harness) {
    let s = h.open();
    assert_eq!(s.log_head().unwrap(), 0);
    assert!(all_entries(&*s).is_empty());
    let r1 = s.commit(numbered_commit(1, 3)).unwrap();
    assert_eq!(r1.seqs, vec![1, 2, 3]);
    // A commit of table writes only takes no number.
    let mut only_writes = Changeset::new();
    only_writes.put(Table::Meta, b"k".to_vec(), b"v".to_vec());
    assert!(s.commit(only_writes).unwrap().seqs.is_empty());
    let r2 = s.commit(numbered_commit(2, 5)).unwrap();
    assert_eq!(r2.seqs, vec![4, 5, 6, 7, 8]);
    assert_eq!(s.log_head().unwrap(), 8);
    let seqs: Vec<u64> = all_entries(&*s).iter().map(|e| e.server_seq).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    let page = s.log_since(3, 2).unwrap();
    assert_eq!(page.iter().map(|e| e.server_seq).collect::<Vec<_>>(), vec![4, 5]);
    assert_eq!(page[0].bytes, b"2/0");
    assert!(s.log_since(8, 10).unwrap().is_empty());
    assert!(s.log_since(3, 0).unwrap().is_empty());
    assert_eq!(s.seq_of(op_id(2, 4)).unwrap(), Some(8));
    assert_eq!(s.seq_of(op_id(9, 0)).unwrap(), None);
}

pub fn a_commit_is_all_or_nothing(h: &dyn Harness) {
    let s = h.open();
    s.commit(numbered_commit(1, 2)).unwrap();
    // Writes and new entries, then one entry already in the log.
    let mut c = numbered_commit(2, 3);
    c.put(Table::Facilities, b"f".to_vec(), b"x".to_vec());
    c.delete(Table::Records, 1u64.to_be_bytes().to_vec());
    c.append(entry(1, 1));
    match s.commit(c) {
        Err(StorageError::DuplicateOp(op)) => assert_eq!(op, op_id(1, 1)),
        other => panic!("expected DuplicateOp, got {other:?}"),
    }
    assert_eq!(s.log_head().unwrap(), 2);
    assert_eq!(s.seq_of(op_id(2, 0)).unwrap(), None);
    assert_eq!(s.get(Table::Facilities, b"f").unwrap(), None);
    assert_eq!(s.get(Table::Records, &2u64.to_be_bytes()).unwrap(), None);
    assert_eq!(
        s.get(Table::Records, &1u64.to_be_bytes()).unwrap(),
        Some(b"1".to_vec()),
        "the refused commit's delete was applied"
    );
    // Numbering goes on where it was.
    assert_eq!(s.commit(numbered_commit(3, 1)).unwrap().seqs, vec![3]);
}

pub fn a_duplicate_inside_one_changeset_is_refused(h: &dyn Harness) {
    let s = h.open();
    let mut c = numbered_commit(1, 2);
    c.append(entry(1, 0));
    assert!(matches!(s.commit(c), Err(StorageError::DuplicateOp(_))));
    assert_eq!(s.log_head().unwrap(), 0);
    assert_eq!(s.get(Table::Records, &1u64.to_be_bytes()).unwrap(), None);
}

pub fn writes_deletes_and_scans(h: &dyn Harness) {
    let s = h.open();
    let mut c = Changeset::new();
    for k in [b"b", b"a", b"c"] {
        c.put(Table::Templates, k.to_vec(), k.to_vec());
    }
    c.put(Table::Devices, b"a".to_vec(), b"device".to_vec());
    s.commit(c).unwrap();
    let mut c = Changeset::new();
    c.delete(Table::Templates, b"b".to_vec());
    c.put(Table::Templates, b"c".to_vec(), b"new".to_vec());
    s.commit(c).unwrap();
    let scanned = s.scan(Table::Templates).unwrap();
    assert_eq!(
        scanned,
        vec![(b"a".to_vec(), b"a".to_vec()), (b"c".to_vec(), b"new".to_vec())],
        "in key order, the delete applied, the overwrite kept"
    );
    assert_eq!(s.get(Table::Devices, b"a").unwrap(), Some(b"device".to_vec()));
    assert_eq!(s.get(Table::Templates, b"b").unwrap(), None);
    assert!(s.scan(Table::AdminSessions).unwrap().is_empty());
}

/// A reader polling while commits of 10 entries go on sees whole commits
/// only: the log's head is always a multiple of 10, every visible entry has
/// its index entry, and its commit's table write.
pub fn readers_never_see_part_of_a_commit(h: &dyn Harness) {
    const PER: u32 = 10;
    const COMMITS: u64 = 60;
    let s = h.open();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let s = s.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut looks = 0u64;
            while !done.load(Ordering::Acquire) || looks < 10 {
                let entries = all_entries(&*s);
                let n = entries.len() as u64;
                assert_eq!(n % u64::from(PER), 0, "saw {n} entries: part of a commit");
                for (i, e) in entries.iter().enumerate() {
                    assert_eq!(e.server_seq, i as u64 + 1, "a gap in the visible log");
                }
                if let Some(last) = entries.last() {
                    let commit = last.server_seq.div_ceil(u64::from(PER));
                    assert!(s.get(Table::Records, &commit.to_be_bytes()).unwrap().is_some());
                    assert_eq!(s.seq_of(op_id(commit, PER - 1)).unwrap(), Some(last.server_seq));
                }
                looks += 1;
            }
            looks
        })
    };
    for n in 1..=COMMITS {
        s.commit(numbered_commit(n, PER)).unwrap();
    }
    done.store(true, Ordering::Release);
    let looks = reader.join().expect("the reader saw part of a commit");
    assert!(looks >= 10);
    assert_eq!(s.log_head().unwrap(), COMMITS * u64::from(PER));
}

pub fn committed_data_is_there_after_reopening(h: &dyn Harness) {
    {
        let s = h.open();
        s.commit(numbered_commit(1, 4)).unwrap();
        let mut c = Changeset::new();
        c.put(Table::PortalSessions, b"s".to_vec(), b"grant".to_vec());
        s.commit(c).unwrap();
    }
    let s = h.open();
    assert_eq!(s.log_head().unwrap(), 4);
    assert_eq!(s.seq_of(op_id(1, 3)).unwrap(), Some(4));
    assert_eq!(
        s.get(Table::PortalSessions, b"s").unwrap(),
        Some(b"grant".to_vec())
    );
    // Numbering resumes after the last entry.
    assert_eq!(s.commit(numbered_commit(2, 1)).unwrap().seqs, vec![5]);
}

pub fn an_empty_commit_changes_nothing(h: &dyn Harness) {
    let s = h.open();
    s.commit(numbered_commit(1, 1)).unwrap();
    assert!(s.commit(Changeset::new()).unwrap().seqs.is_empty());
    assert_eq!(s.log_head().unwrap(), 1);
}

/// The committer's split commit (`apply`, then `make_durable` on another
/// thread): numbers are given at apply, an applied commit's table writes
/// are readable at once, and one `make_durable` covers every commit applied
/// before it. Log entries may be hidden until then (sled) or visible at once
/// (an engine whose apply is durable), never visible and then gone.
pub fn applied_commits_are_committed_once_made_durable(h: &dyn Harness) {
    {
        let s = h.open();
        let first = s.apply(numbered_commit(1, 2)).unwrap();
        let second = s.apply(numbered_commit(2, 3)).unwrap();
        assert_eq!(first.receipt.seqs, vec![1, 2]);
        assert_eq!(second.receipt.seqs, vec![3, 4, 5]);
        assert!(
            s.get(Table::Records, &2u64.to_be_bytes()).unwrap().is_some(),
            "the next group cannot build on an applied commit"
        );
        let head = s.log_head().unwrap();
        assert!(
            head == 0 || head == 5,
            "the head shows part of the applied commits: {head}"
        );
        s.make_durable(&second).unwrap();
        assert_eq!(s.log_head().unwrap(), 5);
        assert_eq!(all_entries(&*s).len(), 5);
        assert_eq!(s.seq_of(op_id(1, 1)).unwrap(), Some(2));
        // Already covered by the later one's fsync.
        s.make_durable(&first).unwrap();
        let empty = s.apply(Changeset::new()).unwrap();
        assert!(empty.receipt.seqs.is_empty());
        s.make_durable(&empty).unwrap();
    }
    let s = h.open();
    assert_eq!(
        all_entries(&*s).len(),
        5,
        "a commit made durable is gone after reopening"
    );
    assert_eq!(s.apply(numbered_commit(3, 1)).unwrap().receipt.seqs, vec![6]);
}

/// A commit that appends an operation of an applied (not yet durable)
/// commit is refused whole: the index holds the applied ones too.
pub fn a_duplicate_of_an_applied_commit_is_refused(h: &dyn Harness) {
    let s = h.open();
    let applied = s.apply(numbered_commit(1, 2)).unwrap();
    let mut again = numbered_commit(2, 1);
    again.append(entry(1, 1));
    assert!(matches!(s.apply(again), Err(StorageError::DuplicateOp(op)) if op == op_id(1, 1)));
    s.make_durable(&applied).unwrap();
    assert_eq!(all_entries(&*s).len(), 2);
    assert!(s.get(Table::Records, &2u64.to_be_bytes()).unwrap().is_none());
    assert_eq!(s.apply(numbered_commit(3, 1)).unwrap().receipt.seqs, vec![3]);
}

/// Entries per commit in the crash check.
pub const CRASH_PER_COMMIT: u32 = 7;

/// Commits numbered changesets forever (until killed), from the first
/// number not yet committed, the way the server's committer does: one thread
/// applies the next commit while another makes the last one durable and
/// then announces its number on stdout.
pub fn crash_child(s: &dyn Storage) -> ! {
    let mut n = s.log_head().expect("head") / u64::from(CRASH_PER_COMMIT) + 1;
    let (to_syncer, applied) = std::sync::mpsc::sync_channel::<(u64, super::Applied)>(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for (n, a) in applied {
                s.make_durable(&a).expect("make durable");
                println!("committed {n}");
            }
        });
        loop {
            let a = s.apply(numbered_commit(n, CRASH_PER_COMMIT)).expect("apply");
            to_syncer.send((n, a)).expect("the syncer stopped");
            n += 1;
        }
    })
}

/// After a kill mid-commit: the log holds whole commits 1..=k with no gap,
/// each with its table write, and nothing of commit k+1. Returns k.
pub fn check_after_crash(s: &dyn Storage) -> u64 {
    let per = u64::from(CRASH_PER_COMMIT);
    let entries = all_entries(s);
    let head = s.log_head().expect("head");
    assert_eq!(entries.len() as u64, head);
    assert_eq!(head % per, 0, "the log ends inside a commit ({head} entries)");
    let k = head / per;
    let mut seen = HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(e.server_seq, seq, "a gap in the log");
        let (commit, j) = ((seq - 1) / per + 1, ((seq - 1) % per) as u32);
        assert_eq!(
            e.bytes,
            format!("{commit}/{j}").into_bytes(),
            "entry {seq} is another's"
        );
        assert_eq!(s.seq_of(op_id(commit, j)).unwrap(), Some(seq));
        assert!(seen.insert(op_id(commit, j)));
    }
    for n in 1..=k {
        assert!(
            s.get(Table::Records, &n.to_be_bytes()).unwrap().is_some(),
            "commit {n}'s entries without its table write"
        );
    }
    assert_eq!(
        s.get(Table::Records, &(k + 1).to_be_bytes()).unwrap(),
        None,
        "commit {}'s table write without its entries",
        k + 1
    );
    assert_eq!(
        s.seq_of(op_id(k + 1, 0)).unwrap(),
        None,
        "an index entry without its log entry"
    );
    k
}
