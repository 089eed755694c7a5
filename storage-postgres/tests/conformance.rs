//! The storage conformance suite on PostgreSQL (a fresh database per check,
//! on one throwaway server per test process started by
//! `scripts/postgres.sh`), and what only a shared database can show: two
//! handles committing at once still number the log in commit order.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use kiemtra_storage::conformance::{numbered_commit, op_id, Harness};
use kiemtra_storage::{Storage, StorageError, Table};
use kiemtra_storage_postgres::test_cluster::TestCluster;
use kiemtra_storage_postgres::{PgError, PgStorage, SCHEMA_VERSION};

struct Pg {
    url: String,
}

impl Pg {
    fn fresh() -> Self {
        Self {
            url: TestCluster::shared().fresh_database().expect("create a database"),
        }
    }
}

impl Harness for Pg {
    fn open(&self) -> Arc<dyn Storage> {
        Arc::new(PgStorage::open(&self.url).expect("open the store"))
    }
}

mod postgres_engine {
    use super::*;
    kiemtra_storage::storage_conformance!(Pg::fresh());
}

/// Two handles (as two server instances would) commit from two threads
/// while a third pulls with a cursor the way a device does. The log must
/// come out numbered 1..N without gaps, each commit's entries together, no
/// operation twice, and in commit order: a commit that began after another
/// returned has higher numbers, and the puller, which only ever asks for
/// what follows its cursor, misses nothing (a PostgreSQL sequence fails this:
/// a number taken early but committed late lands behind the cursor).
#[test]
fn two_handles_committing_at_once_number_the_log_in_commit_order() {
    const COMMITS: u64 = 80;
    const PER: u32 = 3;
    let url = TestCluster::shared().fresh_database().unwrap();
    let handles = [PgStorage::open(&url).unwrap(), PgStorage::open(&url).unwrap()];
    let puller_store = PgStorage::open(&url).unwrap();
    // The highest number any commit has returned so far.
    let returned = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let total = 2 * COMMITS * u64::from(PER);

    let (receipts, pulled) = std::thread::scope(|scope| {
        let puller = scope.spawn(|| {
            let mut cursor = 0u64;
            let mut ops = Vec::new();
            loop {
                let finished = done.load(Ordering::Acquire);
                let page = puller_store.log_since(cursor, 50).unwrap();
                for e in &page {
                    assert_eq!(e.server_seq, cursor + 1, "the puller skipped past an entry");
                    cursor = e.server_seq;
                    ops.push(e.bytes.clone());
                }
                if finished && page.is_empty() {
                    break;
                }
            }
            (cursor, ops)
        });
        let writers: Vec<_> = handles
            .iter()
            .enumerate()
            .map(|(w, store)| {
                let returned = &returned;
                scope.spawn(move || {
                    let mut receipts = Vec::new();
                    for i in 1..=COMMITS {
                        let n = w as u64 * 1_000_000 + i;
                        let mut c = numbered_commit(n, PER);
                        // Both writers also write one shared key.
                        c.put(Table::Meta, b"last".to_vec(), n.to_be_bytes().to_vec());
                        let floor = returned.load(Ordering::Acquire);
                        let seqs = store.commit(c).unwrap().seqs;
                        assert!(
                            seqs[0] > floor,
                            "commit {n} began after number {floor} was returned, yet got {seqs:?}"
                        );
                        returned.fetch_max(seqs[seqs.len() - 1], Ordering::AcqRel);
                        receipts.push((n, seqs));
                    }
                    receipts
                })
            })
            .collect();
        // Joined before the verdict: a writer that failed must still stop the puller.
        let joined: Vec<_> = writers.into_iter().map(|w| w.join()).collect();
        done.store(true, Ordering::Release);
        let pulled = puller.join();
        let receipts: Vec<(u64, Vec<u64>)> = joined
            .into_iter()
            .flat_map(|w| w.unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        (receipts, pulled.unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });

    let store = &handles[0];
    assert_eq!(store.log_head().unwrap(), total);
    let log = store.log_since(0, usize::MAX).unwrap();
    assert_eq!(
        log.iter().map(|e| e.server_seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    for (n, seqs) in &receipts {
        let first = seqs[0];
        assert_eq!(
            seqs,
            &(first..first + u64::from(PER)).collect::<Vec<_>>(),
            "commit {n} split"
        );
        for (i, seq) in (0..PER).zip(seqs) {
            assert_eq!(log[(*seq - 1) as usize].bytes, format!("{n}/{i}").into_bytes());
            assert_eq!(store.seq_of(op_id(*n, i)).unwrap(), Some(*seq));
        }
    }
    let distinct: HashSet<_> = log.iter().map(|e| e.bytes.clone()).collect();
    assert_eq!(distinct.len() as u64, total, "an operation is in the log twice");
    let (cursor, pulled) = pulled;
    assert_eq!(cursor, total);
    assert_eq!(pulled, log.iter().map(|e| e.bytes.clone()).collect::<Vec<_>>());
}

#[test]
fn a_database_of_a_newer_schema_is_refused() {
    let url = TestCluster::shared().fresh_database().unwrap();
    drop(PgStorage::open(&url).unwrap());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(SCHEMA_VERSION + 1)],
        )
        .unwrap();
    match PgStorage::open(&url) {
        Err(PgError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        Err(e) => panic!("expected SchemaTooNew, got {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[test]
fn reopening_migrates_nothing_again() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let s = PgStorage::open(&url).unwrap();
    s.commit(numbered_commit(1, 2)).unwrap();
    drop(s);
    let s = PgStorage::open(&url).unwrap();
    assert_eq!(s.log_head().unwrap(), 2);
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let versions: Vec<i32> = admin
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
}

/// A default of `off` (database-wide here, or the role's, or in the URL)
/// does not reach the store's sessions: they set `synchronous_commit` on
/// themselves, and `open` checks it on its connection (it would refuse the
/// database otherwise).
#[test]
fn commits_wait_for_the_flush_whatever_the_defaults() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("ALTER DATABASE {name} SET synchronous_commit = off"))
        .unwrap();
    let mut plain = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let default: String = plain.query_one("SHOW synchronous_commit", &[]).unwrap().get(0);
    assert_eq!(default, "off", "the test did not change the default");
    let s = PgStorage::open(&url).unwrap();
    assert_eq!(s.commit(numbered_commit(1, 1)).unwrap().seqs, vec![1]);
    let in_url = format!("{url}?options=-c%20synchronous_commit%3Doff");
    assert!(PgStorage::open(&in_url).is_ok());
}

/// A connection the server closes (a restart, a failover, an administrator)
/// fails the call that meets it as `Io`, to retry, and the pool replaces it.
#[test]
fn a_lost_connection_is_an_error_to_retry() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let s = PgStorage::open(&url).unwrap();
    s.commit(numbered_commit(1, 1)).unwrap();
    let mut admin = postgres::Client::connect(TestCluster::shared().url(), postgres::NoTls).unwrap();
    let killed = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND application_name = 'kiemtra-server'",
            &[&name],
        )
        .unwrap();
    assert!(killed >= 1);
    let mut failures = 0;
    let head = loop {
        match s.log_head() {
            Ok(head) => break head,
            Err(StorageError::Io(_)) if failures < 10 => failures += 1,
            Err(e) => panic!("expected Io, got {e:?}"),
        }
    };
    assert_eq!(head, 1);
    assert_eq!(s.commit(numbered_commit(2, 1)).unwrap().seqs, vec![2]);
}

/// The server's handlers read the store from async code: on a runtime's
/// worker, and on a current-thread runtime (as `#[tokio::test]` runs), every
/// call works, opening and dropping the store included.
#[test]
fn works_from_async_code_on_either_kind_of_runtime() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let use_it = |url: String, n: u64| async move {
        let s = PgStorage::open(&url).unwrap();
        let seqs = s.commit(numbered_commit(n, 1)).unwrap().seqs;
        assert_eq!(s.log_head().unwrap(), seqs[0]);
        assert!(s.get(Table::Records, &n.to_be_bytes()).unwrap().is_some());
        drop(s);
    };
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    multi.block_on(multi.spawn(use_it(url.clone(), 1))).unwrap();
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    single.block_on(use_it(url, 2));
}

/// The number in `Meta` under `key` (0 when missing).
fn counter(store: &dyn Storage, key: &[u8]) -> u64 {
    store
        .get(Table::Meta, key)
        .unwrap()
        .map(|v| u64::from_be_bytes(v.as_slice().try_into().unwrap()))
        .unwrap_or(0)
}

/// Two instances' writers each read a value, decide, and write it back, many
/// times at once. Inside turns none of their writes is lost: each turn sees
/// what every earlier one committed. (Without turns, the two would read the
/// same value and one of each pair of increments would vanish, the way two
/// instances merging the same inspection would overwrite each other.)
#[test]
fn read_decide_write_inside_turns_loses_no_update_between_two_handles() {
    const EACH: u64 = 60;
    let url = TestCluster::shared().fresh_database().unwrap();
    let handles = [PgStorage::open(&url).unwrap(), PgStorage::open(&url).unwrap()];
    std::thread::scope(|scope| {
        for (w, store) in handles.iter().enumerate() {
            scope.spawn(move || {
                for i in 1..=EACH {
                    let turn = store.begin_turn().unwrap().expect("PostgreSQL takes turns");
                    let seen = counter(store, b"count");
                    let mut c = numbered_commit(w as u64 * 1_000 + i, 1);
                    c.put(Table::Meta, b"count".to_vec(), (seen + 1).to_be_bytes().to_vec());
                    turn.commit(c).unwrap();
                }
            });
        }
    });
    assert_eq!(counter(&handles[0], b"count"), 2 * EACH);
    assert_eq!(handles[1].log_head().unwrap(), 2 * EACH);
}

/// Every commit counts, with or without log entries, through a turn or not;
/// an empty turn and a turn given up count nothing and write nothing.
#[test]
fn the_generation_counts_every_commit_and_nothing_else() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let s = PgStorage::open(&url).unwrap();
    let generation = |s: &PgStorage| s.begin_turn().unwrap().unwrap().generation();
    let g0 = generation(&s);
    s.commit(numbered_commit(1, 2)).unwrap();
    let mut tables_only = kiemtra_storage::Changeset::new();
    tables_only.put(Table::Meta, b"k".to_vec(), b"v".to_vec());
    s.commit(tables_only).unwrap();
    assert_eq!(generation(&s), g0 + 2);

    let turn = s.begin_turn().unwrap().unwrap();
    assert_eq!(
        turn.commit(kiemtra_storage::Changeset::new()).unwrap().seqs,
        Vec::<u64>::new()
    );
    let turn = s.begin_turn().unwrap().unwrap();
    drop(turn);
    assert_eq!(generation(&s), g0 + 2);

    let turn = s.begin_turn().unwrap().unwrap();
    assert_eq!(turn.generation(), g0 + 2);
    assert_eq!(turn.commit(numbered_commit(2, 1)).unwrap().seqs, vec![3]);
    assert_eq!(generation(&s), g0 + 3);
}

/// While one handle holds a turn, another's commit waits (PostgreSQL shows
/// it waiting on a lock), then lands after the turn's, numbered after it.
#[test]
fn a_commit_waits_for_the_turn_of_another_handle() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let (a, b) = (PgStorage::open(&url).unwrap(), PgStorage::open(&url).unwrap());
    let turn = a.begin_turn().unwrap().unwrap();
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| b.commit(numbered_commit(2, 1)).unwrap().seqs);
        // Until PostgreSQL reports a session of this database waiting on a lock.
        let mut admin = postgres::Client::connect(TestCluster::shared().url(), postgres::NoTls).unwrap();
        loop {
            let n: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
                    &[&name],
                )
                .unwrap()
                .get(0);
            if n >= 1 {
                break;
            }
            assert!(
                !waiting.is_finished(),
                "a commit did not wait for another handle's turn"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(turn.commit(numbered_commit(1, 1)).unwrap().seqs, vec![1]);
        assert_eq!(waiting.join().unwrap(), vec![2]);
    });
}

/// An instance that dies holding a turn (its connection ends) neither
/// blocks the others nor leaves anything of its commit: the commit fails
/// as `Io`, to retry.
#[test]
fn a_turn_whose_connection_is_lost_writes_nothing_and_frees_the_others() {
    let url = TestCluster::shared().fresh_database().unwrap();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let (a, b) = (PgStorage::open(&url).unwrap(), PgStorage::open(&url).unwrap());
    let turn = a.begin_turn().unwrap().unwrap();
    let mut admin = postgres::Client::connect(TestCluster::shared().url(), postgres::NoTls).unwrap();
    // The turn's session is the one idle inside a transaction.
    let killed = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND state = 'idle in transaction'",
            &[&name],
        )
        .unwrap();
    assert_eq!(killed, 1);
    assert!(matches!(
        turn.commit(numbered_commit(1, 1)),
        Err(StorageError::Io(_))
    ));
    let seqs = loop {
        match b.commit(numbered_commit(2, 1)) {
            Ok(r) => break r.seqs,
            Err(StorageError::Io(_)) => continue,
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(seqs, vec![1]);
    assert_eq!(a.seq_of(op_id(1, 0)).unwrap(), None);
}
