//! One sync: upload photos, push pending operations, pull what is new.
//!
//! Every step is durable on both sides before the next begins, so a sync
//! cut anywhere (network, server, battery) is resumed by the next one:
//! re-pushed operations come back as duplicates, re-uploaded photos resume
//! at the byte the server holds, pulls restart at the stored cursor.

use super::client::SyncClient;
use super::SyncError;
use crate::store::Store;

/// Operations per push; the server accepts at least this many.
pub const PUSH_BATCH: usize = 500;
/// Operations per pulled page.
pub const PULL_PAGE: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPhase {
    Pushing,
    /// The first phase: the server takes no operation before the photos it refers to.
    UploadingPhotos,
    Pulling,
    Done,
}

/// Where a sync stands, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    pub ops_done: u64,
    pub ops_total: u64,
    pub photos_done: u64,
    pub photos_total: u64,
    pub pulled: u64,
}

/// Receives progress; called on the syncing thread, so keep it quick.
pub trait SyncObserver: Send + Sync {
    fn on_progress(&self, progress: SyncProgress);

    /// Asked between steps (each push batch, upload chunk and pulled page is
    /// one durable step): `true` stops the sync there with
    /// `SyncError::Cancelled`. A request already sent is not interrupted.
    fn cancelled(&self) -> bool {
        false
    }
}

/// Stops between steps when the observer asks to: what is done stays done,
/// which is what makes a cancelled sync resumable.
fn check(observer: &dyn SyncObserver) -> Result<(), SyncError> {
    if observer.cancelled() {
        Err(SyncError::Cancelled)
    } else {
        Ok(())
    }
}

/// An observer that ignores progress.
pub struct NoProgress;

impl SyncObserver for NoProgress {
    fn on_progress(&self, _: SyncProgress) {}
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: u64,
    pub accepted: u64,
    pub refused: u64,
    pub photos_uploaded: u64,
    pub pulled: u64,
}

pub fn sync(
    store: &Store,
    client: &SyncClient,
    observer: &dyn SyncObserver,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let mut progress = SyncProgress {
        phase: SyncPhase::UploadingPhotos,
        ops_done: 0,
        ops_total: store.pending_count() as u64,
        photos_done: 0,
        photos_total: 0,
        pulled: 0,
    };
    observer.on_progress(progress);

    // Photos before the operations that refer to them: the server accepts
    // no operation whose blobs it does not hold (a photo it could never
    // show), so a push of them before their upload would only be refused.
    super::blobs::upload_all(
        store,
        client,
        &mut |done, total| {
            progress.photos_done = done;
            progress.photos_total = total;
            observer.on_progress(progress);
        },
        &|| observer.cancelled(),
    )
    .map(|n| report.photos_uploaded = n)?;

    progress.phase = SyncPhase::Pushing;
    observer.on_progress(progress);
    loop {
        check(observer)?;
        let batch = store.pending_batch(PUSH_BATCH)?;
        if batch.is_empty() {
            break;
        }
        let codes = store.access_codes_for(&batch)?;
        let response = match client.push(&batch, &codes) {
            // A photo taken while this sync ran, or a server that lost
            // blobs this device sent before: send them, then push again, once.
            Err(SyncError::BlobsMissing(missing)) => {
                report.photos_uploaded +=
                    super::blobs::upload_missing(store, client, &missing, &|| observer.cancelled())?;
                client.push(&batch, &codes)?
            }
            other => other?,
        };
        store.record_push_results(&batch, &response.results)?;
        for r in &response.results {
            match r.outcome {
                super::wire::PushOutcome::Refused { .. } => report.refused += 1,
                _ => report.accepted += 1,
            }
        }
        report.pushed += batch.len() as u64;
        progress.ops_done += batch.len() as u64;
        progress.ops_total = progress.ops_total.max(progress.ops_done);
        observer.on_progress(progress);
    }

    progress.phase = SyncPhase::Pulling;
    observer.on_progress(progress);
    loop {
        check(observer)?;
        let page = client.pull(store.sync_cursor()?, PULL_PAGE)?;
        let more = page.more;
        let applied = store.apply_pulled(&page)?;
        report.pulled += applied as u64;
        progress.pulled = report.pulled;
        observer.on_progress(progress);
        // A device that joined a delegation rewinds its cursor to fetch the
        // delegation's earlier operations (see `Store::apply_pulled`).
        let rewound = store.sync_cursor()? < page.next;
        if !more && !rewound {
            break;
        }
    }
    progress.phase = SyncPhase::Done;
    observer.on_progress(progress);
    Ok(report)
}
