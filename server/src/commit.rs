//! Group commit: one thread owns the [`Writer`]; requests send it jobs over a
//! channel. It runs every job waiting, each inside its own savepoint, then
//! applies all their changes with one commit (one storage transaction, one
//! fsync), and only then answers each waiter. Under load many pushes share
//! one commit; alone, a push waits for just its own.
//!
//! The fsync is the slow half of a commit and needs no CPU, so it runs on a
//! second thread, the syncer: while it makes group N durable, the committer
//! runs the jobs of group N+1 on top of N (applied, not yet durable). Before
//! it applies N+1 it waits for N's outcome; if N could not be made durable,
//! N+1's jobs built on something a restart may not have, and they fail too.
//! Nobody is answered before the fsync that covers their group.
//!
//! On an engine several server instances share (PostgreSQL), each group
//! runs inside the writer's turn (`Writer::begin_group`): the instances'
//! groups take turns, and each reads the others' latest commits.

use std::sync::{mpsc, Arc};

use tokio::sync::oneshot;

use crate::error::ServerError;
use crate::storage::{Applied, Receipt, Storage};
use crate::writer::Writer;

/// Jobs run per commit at most, so that a flood cannot delay the first waiter forever.
const MAX_JOBS_PER_COMMIT: usize = 512;

/// Why a group's commit failed, as its waiters are told.
#[derive(Debug, Clone)]
enum CommitFailure {
    /// The storage could not be reached (a database restarting): nothing
    /// was committed, and a retry may well succeed at once.
    Unavailable(String),
    /// Anything else (an fsync that failed, after which the engine refuses
    /// commits until a restart).
    Failed(String),
}

impl CommitFailure {
    fn of(e: &ServerError) -> Self {
        match e {
            ServerError::StorageUnavailable(m) => Self::Unavailable(m.clone()),
            e => Self::Failed(e.to_string()),
        }
    }
}

impl From<CommitFailure> for ServerError {
    fn from(f: CommitFailure) -> Self {
        match f {
            CommitFailure::Unavailable(m) => ServerError::StorageUnavailable(m),
            CommitFailure::Failed(m) => ServerError::Storage(m),
        }
    }
}

/// What a job hands back after running: called with the commit's outcome.
type Finish = Box<dyn FnOnce(Result<Arc<Receipt>, CommitFailure>) + Send>;
type Job = Box<dyn FnOnce(&mut Writer) -> Finish + Send>;

/// A handle to the committer thread; cheap to clone.
#[derive(Clone)]
pub struct CommitHandle {
    tx: mpsc::Sender<Job>,
}

impl CommitHandle {
    /// Starts the committer thread, which owns `writer` until every handle is dropped.
    pub fn start(writer: Writer) -> Result<Self, ServerError> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("kiemtra-committer".into())
            .spawn(move || run(writer, rx))?;
        Ok(Self { tx })
    }

    /// Runs `f` on the writer and returns its result once it is durable.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ServerError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer) -> Result<T, ServerError> + Send + 'static,
    {
        self.run_then(f, |out, _| Ok(out)).await
    }

    /// Runs `f` on the writer, then, once the commit is durable, `then` with
    /// its result and the commit's receipt (the numbers of the log entries).
    pub async fn run_then<T, U, F, G>(&self, f: F, then: G) -> Result<U, ServerError>
    where
        T: Send + 'static,
        U: Send + 'static,
        F: FnOnce(&mut Writer) -> Result<T, ServerError> + Send + 'static,
        G: FnOnce(T, &Receipt) -> Result<U, ServerError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |w: &mut Writer| {
            let out = match w.begin_job() {
                Ok(()) => f(w),
                Err(e) => Err(e),
            };
            // A failed job leaves nothing in the group's changeset.
            w.end_job(out.is_ok());
            Box::new(move |committed: Result<Arc<Receipt>, CommitFailure>| {
                let result = match (committed, out) {
                    (Ok(receipt), Ok(out)) => then(out, &receipt),
                    (_, Err(e)) => Err(e),
                    (Err(e), Ok(_)) => Err(e.into()),
                };
                // The waiter may have gone (client hung up): the work is durable all the same.
                let _ = reply.send(result);
            })
        });
        self.tx.send(job).map_err(|_| ServerError::Unavailable)?;
        answer.await.map_err(|_| ServerError::Unavailable)?
    }
}

/// A group applied and handed to the syncer, with the waiters to answer.
struct Group {
    applied: Applied,
    finishers: Vec<Finish>,
}

fn run(mut writer: Writer, rx: mpsc::Receiver<Job>) {
    let (to_syncer, groups) = mpsc::channel::<Group>();
    let (outcome_tx, outcomes) = mpsc::channel::<Result<(), CommitFailure>>();
    let store = writer.storage().clone();
    let syncer = std::thread::Builder::new()
        .name("kiemtra-syncer".into())
        .spawn(move || sync(&*store, groups, outcome_tx));
    if let Err(e) = syncer {
        tracing::error!(error = %e, "cannot start the syncer thread");
        return;
    }
    // Whether a group was handed to the syncer and its outcome not yet read.
    let mut in_flight = false;
    while let Ok(first) = rx.recv() {
        // On a shared engine, the group's turn: no other instance commits
        // between what these jobs read and what they write.
        writer.begin_group();
        let mut finishers = vec![first(&mut writer)];
        while finishers.len() < MAX_JOBS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => finishers.push(job(&mut writer)),
                Err(_) => break,
            }
        }
        if std::mem::take(&mut in_flight) {
            let outcome = outcomes
                .recv()
                .unwrap_or_else(|_| Err(CommitFailure::Failed("the syncer thread stopped".into())));
            if let Err(e) = outcome {
                // These jobs built on a group that may not survive a restart.
                writer.durability_failed();
                fail(finishers, e);
                continue;
            }
        }
        match writer.apply() {
            Ok(applied) => {
                tracing::trace!(jobs = finishers.len(), "group applied");
                if let Err(mpsc::SendError(group)) = to_syncer.send(Group { applied, finishers }) {
                    writer.durability_failed();
                    fail(
                        group.finishers,
                        CommitFailure::Failed("the syncer thread stopped".into()),
                    );
                } else {
                    in_flight = true;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                fail(finishers, CommitFailure::of(&e));
            }
        }
    }
    tracing::debug!("committer stopped");
}

/// The syncer: makes each group durable, tells the committer, then answers
/// the group's waiters (their answers are built here, off the committer).
fn sync(
    store: &dyn Storage,
    groups: mpsc::Receiver<Group>,
    outcomes: mpsc::Sender<Result<(), CommitFailure>>,
) {
    for group in groups {
        let outcome = store.make_durable(&group.applied).map_err(|e| {
            tracing::error!(error = %e, "making a group commit durable failed");
            CommitFailure::Failed(e.to_string())
        });
        // First the committer, which waits for it before applying the next group.
        let _ = outcomes.send(outcome.clone());
        let committed = outcome.map(|()| Arc::new(group.applied.receipt));
        for finish in group.finishers {
            finish(committed.clone());
        }
    }
}

fn fail(finishers: Vec<Finish>, failure: CommitFailure) {
    for finish in finishers {
        finish(Err(failure.clone()));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::server_key::ServerKey;
    use crate::storage::{Faulty, MemoryStorage};

    fn started() -> (Arc<Faulty>, CommitHandle) {
        let faults = Arc::new(Faulty::new(Arc::new(MemoryStorage::new())));
        let writer = Writer::new(faults.clone(), Arc::new(ServerKey::generate().unwrap())).unwrap();
        (faults, CommitHandle::start(writer).unwrap())
    }

    async fn applied_past(faults: &Faulty, head: u64) {
        // Memory applies durably: the head moves when the committer applied.
        while faults.log_head().unwrap() == head {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Nobody hears "done" before the fsync that covers their group; the
    /// jobs of the next group run meanwhile; when the fsync fails, the group
    /// and the one built on it both fail, and the committer goes on.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_built_on_one_that_was_not_made_durable_fails_too() {
        let (faults, handle) = started();
        let head = faults.log_head().unwrap();
        faults.pause_syncs();
        faults.fail_syncs(1);

        let h = handle.clone();
        let first = tokio::spawn(async move {
            h.run(|w| w.create_inspector("Lê Văn An", "Thanh tra viên", "Sở Nội vụ"))
                .await
        });
        applied_past(&faults, head).await;
        let ran = Arc::new(AtomicBool::new(false));
        let (h, r) = (handle.clone(), ran.clone());
        let second = tokio::spawn(async move {
            h.run(move |w| {
                r.store(true, Ordering::SeqCst);
                w.create_inspector("Phạm Thị Bình", "Thanh tra viên", "Sở Nội vụ")
            })
            .await
        });
        // The next group's job runs while the first waits for its fsync.
        while !ran.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(!first.is_finished(), "answered before its group was durable");
        faults.resume_syncs();

        let first = first.await.unwrap();
        assert!(matches!(first, Err(ServerError::Storage(_))), "{first:?}");
        let second = second.await.unwrap();
        assert!(
            matches!(second, Err(ServerError::Storage(_))),
            "a job built on a group that was not made durable was answered {second:?}"
        );
        let third = handle
            .run(|w| w.create_inspector("Đỗ Văn Cường", "Thanh tra viên", "Sở Nội vụ"))
            .await;
        assert!(third.is_ok(), "{third:?}");
    }

    /// Under load the committer keeps applying groups while the syncer
    /// makes them durable: every job is answered, after its group's fsync.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_jobs_through_the_pipeline_get_distinct_numbers() {
        let (faults, handle) = started();
        let head = faults.log_head().unwrap();
        let jobs = (0..200).map(|i| {
            let h = handle.clone();
            tokio::spawn(async move {
                h.run_then(
                    move |w| {
                        w.create_inspector(&format!("Thanh tra viên {i}"), "Thanh tra viên", "Sở Nội vụ")
                    },
                    |_, receipt| Ok(receipt.seqs.clone()),
                )
                .await
            })
        });
        let mut seqs = Vec::new();
        for j in jobs.collect::<Vec<_>>() {
            let group = j.await.unwrap().unwrap();
            assert!(!group.is_empty());
            seqs.extend(group);
        }
        seqs.sort_unstable();
        seqs.dedup();
        // Every number the groups were given is in the durable log, with no gap.
        let last = faults.log_head().unwrap();
        assert_eq!(seqs, (head + 1..=last).collect::<Vec<_>>());
        assert!(last - head >= 200, "fewer log entries than jobs");
    }
}
