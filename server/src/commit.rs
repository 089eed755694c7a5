//! Group commit: one thread owns the [`Writer`]; requests send it jobs over a
//! channel. It runs every job waiting, each inside its own savepoint, then
//! applies all their changes with one commit (one storage transaction, one
//! fsync), and only then answers each waiter. Under load many pushes share
//! one commit; alone, a push waits for just its own.

use std::sync::{mpsc, Arc};

use tokio::sync::oneshot;

use crate::error::ServerError;
use crate::storage::Receipt;
use crate::writer::Writer;

/// Jobs run per commit at most, so that a flood cannot delay the first waiter forever.
const MAX_JOBS_PER_COMMIT: usize = 512;

/// What a job hands back after running: called with the commit's outcome.
type Finish = Box<dyn FnOnce(Result<Arc<Receipt>, String>) + Send>;
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
            Box::new(move |committed: Result<Arc<Receipt>, String>| {
                let result = match (committed, out) {
                    (Ok(receipt), Ok(out)) => then(out, &receipt),
                    (_, Err(e)) => Err(e),
                    (Err(e), Ok(_)) => Err(ServerError::Storage(e)),
                };
                // The waiter may have gone (client hung up): the work is durable all the same.
                let _ = reply.send(result);
            })
        });
        self.tx.send(job).map_err(|_| ServerError::Unavailable)?;
        answer.await.map_err(|_| ServerError::Unavailable)?
    }
}

fn run(mut writer: Writer, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut finishers = vec![first(&mut writer)];
        while finishers.len() < MAX_JOBS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => finishers.push(job(&mut writer)),
                Err(_) => break,
            }
        }
        let committed = writer.commit().map(Arc::new).map_err(|e| {
            tracing::error!(error = %e, "group commit failed");
            e.to_string()
        });
        tracing::trace!(jobs = finishers.len(), "group commit");
        for finish in finishers {
            finish(committed.clone());
        }
    }
    tracing::debug!("committer stopped");
}
