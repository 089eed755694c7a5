//! The calls that wait on the network (`enrol`, `sync`, `download_photos`),
//! exported as async functions: Kotlin `suspend fun`, Swift `async`, Python
//! coroutines. Local store calls stay synchronous: they take milliseconds.
//!
//! The work runs on a thread of its own (the core's HTTP client blocks), and
//! the future the app awaits only waits for that thread's answer, so no async
//! runtime is needed on either side. Cancelling works at the core's step
//! boundaries (each push batch, upload chunk, pulled page and downloaded
//! photo is one durable step): dropping the future (a cancelled Kotlin
//! coroutine or Python task) or calling `CancelToken.cancel()` (what Swift
//! needs: its generated `async` functions do not observe `Task` cancellation)
//! stops the work before the next step. Nothing is half-applied and the next
//! call resumes where this one stopped.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kiemtra_core as core;

use crate::error::{KiemtraError, Result};
use crate::records::Inspector;
use crate::store::KiemtraStore;
use crate::sync::{SyncListener, SyncReport};

/// Cancels a running `sync` or `download_photos` from any thread. The call
/// then fails with `KiemtraError.Cancelled` once the step in flight is done
/// (at most one HTTP request). One token can serve several calls.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelToken {
    cancelled: AtomicBool,
}

#[uniffi::export]
impl CancelToken {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// What the worker thread asks between steps: did the app cancel through its
/// token, or stop awaiting (the future was dropped)?
#[derive(Clone)]
pub(crate) struct Cancel {
    dropped: Arc<AtomicBool>,
    token: Option<Arc<CancelToken>>,
}

impl Cancel {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.dropped.load(Ordering::SeqCst) || self.token.as_ref().is_some_and(|t| t.is_cancelled())
    }
}

/// Marks the operation cancelled when the awaiting future is dropped. A flag
/// of our own, not the app's token: the app may reuse its token afterwards.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Per store, one network operation at a time: a sync started right after a
/// cancelled one waits until the cancelled one has stopped at its step
/// boundary instead of pushing the same batch alongside it.
#[derive(Default)]
pub(crate) struct NetLock(Mutex<()>);

impl NetLock {
    fn hold<T>(&self, work: impl FnOnce() -> T) -> T {
        // The mutex guards no data, only the order of operations, so a
        // poisoned lock (a panicked operation) is still usable.
        let _held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        work()
    }
}

/// Runs `work` on its own thread and returns a future of its result.
fn off_thread<T, F>(
    what: &'static str,
    token: Option<Arc<CancelToken>>,
    work: F,
) -> impl Future<Output = Result<T>> + Send
where
    T: Send + 'static,
    F: FnOnce(Cancel) -> Result<T> + Send + 'static,
{
    let dropped = Arc::new(AtomicBool::new(false));
    let cancel = Cancel {
        dropped: dropped.clone(),
        token,
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("kiemtra-{what}"))
        .spawn(move || {
            // Caught here and re-raised in the future, so a bug reaches the
            // app as uniffi's internal error instead of a hung await.
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(cancel)));
            // The receiver is gone when the app stopped awaiting: nothing to tell.
            let _ = tx.send(result);
        });
    // Made before the future and moved into it: dropping a future that was
    // never polled cancels too.
    let guard = CancelOnDrop(dropped);
    async move {
        let _guard = guard;
        if let Err(e) = spawned {
            return Err(KiemtraError::Storage {
                reason: format!("could not start the {what} thread: {e}"),
            });
        }
        match rx.await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // The thread ends only after sending, so this means it was killed.
            Err(_) => Err(KiemtraError::Storage {
                reason: format!("the {what} thread stopped without an answer"),
            }),
        }
    }
}

/// The core observer: progress to the app's listener, cancellation from `Cancel`.
struct Observer {
    listener: Option<Arc<dyn SyncListener>>,
    cancel: Cancel,
}

impl core::sync::SyncObserver for Observer {
    fn on_progress(&self, progress: core::sync::SyncProgress) {
        if let Some(l) = &self.listener {
            l.on_progress(progress.into());
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

#[uniffi::export]
impl KiemtraStore {
    /// Enrols this device with the server using a one-time code from the
    /// inspectorate; the enrolled inspector becomes the device's user.
    /// `ca_pem` is the inspectorate's CA when the server's TLS certificate is
    /// not public. One request: once sent it is seen through and saved even
    /// if the caller stops awaiting, so an accepted code is never wasted.
    pub async fn enrol(
        self: Arc<Self>,
        server_url: String,
        code: String,
        device_name: String,
        ca_pem: Option<String>,
    ) -> Result<Inspector> {
        off_thread("enrol", None, move |_| {
            self.net().hold(|| {
                let e = core::sync::device::enrol(
                    self.inner(),
                    self.key().clone(),
                    &server_url,
                    &code,
                    &device_name,
                    ca_pem.as_deref(),
                )?;
                Ok(e.inspector.into())
            })
        })
        .await
    }

    /// Pushes pending changes and photos, then pulls what is new, reporting
    /// progress to `listener` (called on the sync thread: hand the work to
    /// the UI thread). Safe to call again after any failure or cancellation:
    /// it resumes, nothing is duplicated.
    #[uniffi::method(default(listener = None, cancel = None))]
    pub async fn sync(
        self: Arc<Self>,
        listener: Option<Arc<dyn SyncListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<SyncReport> {
        off_thread("sync", cancel, move |cancel| {
            self.net().hold(|| {
                let client = core::sync::device::client(self.inner(), self.key().clone())?;
                let observer = Observer { listener, cancel };
                Ok(core::sync::sync(self.inner(), &client, &observer)?.into())
            })
        })
        .await
    }

    /// Fetches the photos of an inspection that colleagues took, thumbnails
    /// first; returns how many were fetched.
    #[uniffi::method(default(cancel = None))]
    pub async fn download_photos(
        self: Arc<Self>,
        inspection_id: String,
        thumbnails_only: bool,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<u64> {
        let id = crate::store::inspection_id(&inspection_id)?;
        off_thread("download", cancel, move |cancel| {
            self.net().hold(|| {
                let client = core::sync::device::client(self.inner(), self.key().clone())?;
                Ok(core::sync::blobs::download_photos_cancellable(
                    self.inner(),
                    &client,
                    id,
                    thumbnails_only,
                    &|| cancel.is_cancelled(),
                )?)
            })
        })
        .await
    }
}
