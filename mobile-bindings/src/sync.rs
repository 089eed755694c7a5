//! Sync records and the progress listener the apps implement.

use kiemtra_core as core;

/// Receives progress during `KiemtraStore.sync`, for a progress bar, the
/// current state first. Called on the sync thread (never the UI thread):
/// keep it quick and hand the work to the UI thread.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, progress: SyncProgress);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncPhase {
    Pushing,
    UploadingPhotos,
    Pulling,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    pub ops_done: u64,
    pub ops_total: u64,
    pub photos_done: u64,
    pub photos_total: u64,
    pub pulled: u64,
}

impl From<core::sync::SyncProgress> for SyncProgress {
    fn from(p: core::sync::SyncProgress) -> Self {
        use core::sync::SyncPhase as P;
        Self {
            phase: match p.phase {
                P::Pushing => SyncPhase::Pushing,
                P::UploadingPhotos => SyncPhase::UploadingPhotos,
                P::Pulling => SyncPhase::Pulling,
                P::Done => SyncPhase::Done,
            },
            ops_done: p.ops_done,
            ops_total: p.ops_total,
            photos_done: p.photos_done,
            photos_total: p.photos_total,
            pulled: p.pulled,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    pub pushed: u64,
    pub accepted: u64,
    pub refused: u64,
    pub photos_uploaded: u64,
    pub pulled: u64,
}

impl From<core::sync::SyncReport> for SyncReport {
    fn from(r: core::sync::SyncReport) -> Self {
        Self {
            pushed: r.pushed,
            accepted: r.accepted,
            refused: r.refused,
            photos_uploaded: r.photos_uploaded,
            pulled: r.pulled,
        }
    }
}

/// A local change the server refused, kept and shown with the reason.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedOperation {
    pub op_id: String,
    pub kind: String,
    pub inspection_id: Option<String>,
    pub reason: String,
}

impl From<core::store::Refusal> for RefusedOperation {
    fn from(r: core::store::Refusal) -> Self {
        Self {
            op_id: r.op.id.to_string(),
            kind: r.op.payload.kind().to_string(),
            inspection_id: r.op.payload.inspection().map(|i| i.to_string()),
            reason: r.reason,
        }
    }
}
