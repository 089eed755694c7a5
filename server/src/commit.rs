//! Group commit: one thread owns the [`Writer`]; requests send it jobs over a
//! channel. It runs every job waiting, makes them all durable with one
//! commit (sled flush + fsync), and only then answers each waiter. Under load
//! many pushes share one fsync; alone, a push waits for just its own.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::error::ServerError;
use crate::writer::Writer;

/// Jobs run per commit at most, so that a flood cannot delay the first waiter forever.
const MAX_JOBS_PER_COMMIT: usize = 512;

/// What a job hands back after running: called with the commit's outcome.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
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
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |w: &mut Writer| {
            let out = f(w);
            Box::new(move |committed: Result<(), String>| {
                let result = match committed {
                    Ok(()) => out,
                    Err(e) => Err(ServerError::Storage(e)),
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
        let committed = writer.commit().map_err(|e| {
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
