//! The storage conformance suite on every engine of this crate (sled, the
//! embedded default, and memory), and sled killed mid-commit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use kiemtra_storage::conformance::{check_after_crash, crash_child, Harness};
use kiemtra_storage::{MemoryStorage, SledStorage, Storage};

struct Memory(Mutex<Option<Arc<dyn Storage>>>);

impl Harness for Memory {
    fn open(&self) -> Arc<dyn Storage> {
        // The same store each time: "reopening" memory keeps what it held.
        self.0
            .lock()
            .unwrap()
            .get_or_insert_with(|| Arc::new(MemoryStorage::new()))
            .clone()
    }
}

struct Sled(tempfile::TempDir);

impl Harness for Sled {
    fn open(&self) -> Arc<dyn Storage> {
        Arc::new(SledStorage::open(self.0.path(), 8 * 1024 * 1024).unwrap())
    }
}

mod memory {
    use super::*;
    kiemtra_storage::storage_conformance!(Memory(Mutex::new(None)));
}

mod sled {
    use super::*;
    kiemtra_storage::storage_conformance!(Sled(tempfile::tempdir().unwrap()));
}

const CHILD_DIR: &str = "KIEMTRA_CRASH_CHILD_DIR";

/// Not a test of its own: the process the crash test kills. It commits
/// numbered changesets into the folder it is given until it is killed.
#[test]
#[ignore = "run by sled_killed_mid_commit_keeps_whole_commits_only"]
fn crash_child_process() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let s = SledStorage::open(std::path::Path::new(&dir), 8 * 1024 * 1024).unwrap();
    crash_child(&s);
}

/// SIGKILL a process that commits in a loop, at many moments, then check
/// the folder: whole commits only, numbered without a gap, each with its
/// table write, and the next commit's work nowhere.
#[test]
fn sled_killed_mid_commit_keeps_whole_commits_only() {
    let kills: u64 = std::env::var("KIEMTRA_STORAGE_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut committed = 0;
    for round in 0..kills {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child_process",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Let it commit a varying number of times, then kill it wherever it is.
        let wait_for = 1 + (round * 7919) % 23;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while seen < wait_for {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("committed ") => seen += 1,
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let s = SledStorage::open(dir.path(), 8 * 1024 * 1024).unwrap();
        let k = check_after_crash(&s);
        assert!(
            k >= committed + seen,
            "round {round}: {k} commits kept, {} announced",
            committed + seen
        );
        committed = k;
    }
    assert!(
        committed > kills,
        "the child committed too little to test anything"
    );
}

/// sled's split commit: an applied commit is in the trees (the committer's
/// next jobs read its table writes) but no log reader sees its entries
/// before the fsync that covers it, so no device is given a cursor or a
/// "duplicate" that a crash could take back.
#[test]
fn sled_hides_an_applied_commit_from_log_readers_until_it_is_durable() {
    use kiemtra_storage::conformance::{numbered_commit, op_id};
    use kiemtra_storage::Table;
    let dir = tempfile::tempdir().unwrap();
    let s = SledStorage::open(dir.path(), 8 * 1024 * 1024).unwrap();
    let applied = s.apply(numbered_commit(1, 3)).unwrap();
    assert_eq!(applied.receipt.seqs, vec![1, 2, 3]);
    assert!(s.get(Table::Records, &1u64.to_be_bytes()).unwrap().is_some());
    assert_eq!(s.log_head().unwrap(), 0);
    assert!(s.log_since(0, 10).unwrap().is_empty());
    assert_eq!(s.seq_of(op_id(1, 0)).unwrap(), None);
    s.make_durable(&applied).unwrap();
    assert_eq!(s.log_head().unwrap(), 3);
    assert_eq!(s.log_since(0, 10).unwrap().len(), 3);
    assert_eq!(s.seq_of(op_id(1, 2)).unwrap(), Some(3));
}
