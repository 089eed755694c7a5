//! Uploading the store's photo blobs, resumably, in chunks.

use super::client::SyncClient;
use super::SyncError;
use crate::store::Store;

/// Bytes per upload request: small enough that a weak mobile link finishes
/// a chunk, large enough that a 250 KB photo takes one or two.
pub const CHUNK: usize = 256 * 1024;

/// Uploads every queued blob; returns how many were completed. Stops with
/// `SyncError::Cancelled` before the next chunk once `cancelled()` is true:
/// the server keeps the chunks it has, so the next upload resumes there.
pub fn upload_all(
    store: &Store,
    client: &SyncClient,
    progress: &mut dyn FnMut(u64, u64),
    cancelled: &dyn Fn() -> bool,
) -> Result<u64, SyncError> {
    let queue = store.upload_queue()?;
    let total = queue.len() as u64;
    let mut done = 0;
    progress(done, total);
    for sha in queue {
        upload_one(store, client, &sha, cancelled)?;
        done += 1;
        progress(done, total);
    }
    Ok(done)
}

/// Uploads the blobs a push was answered `blob_missing` for, queued or not
/// (a server restored from an older bucket lacks blobs this device already
/// sent). A blob this device does not hold cannot be sent: the error stays.
pub fn upload_missing(
    store: &Store,
    client: &SyncClient,
    missing: &[String],
    cancelled: &dyn Fn() -> bool,
) -> Result<u64, SyncError> {
    if missing.is_empty() || !missing.iter().all(|sha| store.has_blob(sha).unwrap_or(false)) {
        return Err(SyncError::BlobsMissing(missing.to_vec()));
    }
    for sha in missing {
        upload_one(store, client, sha, cancelled)?;
    }
    Ok(missing.len() as u64)
}

/// Uploads one blob from where the server stands, then takes it off the queue.
fn upload_one(
    store: &Store,
    client: &SyncClient,
    sha: &str,
    cancelled: &dyn Fn() -> bool,
) -> Result<(), SyncError> {
    let bytes = store.blob(sha)?;
    let total_len = bytes.len() as u64;
    // Ask the server where it stands: a dropped upload resumes there.
    let mut status = client.upload_status(sha)?;
    while !status.complete {
        if cancelled() {
            return Err(SyncError::Cancelled);
        }
        let start = usize::try_from(status.received)
            .ok()
            .filter(|s| *s <= bytes.len())
            .ok_or_else(|| SyncError::Protocol("the server holds more bytes than the blob has".into()))?;
        let end = (start + CHUNK).min(bytes.len());
        status = client.upload_chunk(sha, status.received, total_len, bytes[start..end].to_vec())?;
    }
    store.mark_uploaded(sha)?;
    Ok(())
}

/// Fetches a colleague's photos of an inspection that this device lacks:
/// every thumbnail first (quick to show), then, unless `thumbnails_only`,
/// the full images. Each download is checked against its hash before it is
/// kept. Returns how many blobs were fetched.
pub fn download_photos(
    store: &Store,
    client: &SyncClient,
    inspection: crate::ids::InspectionId,
    thumbnails_only: bool,
) -> Result<u64, SyncError> {
    download_photos_cancellable(store, client, inspection, thumbnails_only, &|| false)
}

/// `download_photos` that stops with `SyncError::Cancelled` before the next
/// blob once `cancelled()` is true; each blob kept is whole and checked.
pub fn download_photos_cancellable(
    store: &Store,
    client: &SyncClient,
    inspection: crate::ids::InspectionId,
    thumbnails_only: bool,
    cancelled: &dyn Fn() -> bool,
) -> Result<u64, SyncError> {
    // The inspectors' photos and those the establishment sent with its remediation reports.
    let photos = store.photos(inspection)?;
    let remediation = store.remediation_photos(inspection)?;
    let photos: Vec<_> = photos.into_iter().chain(remediation).collect();
    let thumbs = photos.iter().map(|p| &p.thumbnail.sha256);
    let images = photos.iter().map(|p| &p.image.sha256);
    let wanted: Vec<&String> = if thumbnails_only {
        thumbs.collect()
    } else {
        thumbs.chain(images).collect()
    };
    let mut fetched = 0;
    for sha in wanted {
        if store.has_blob(sha)? {
            continue;
        }
        if cancelled() {
            return Err(SyncError::Cancelled);
        }
        let bytes = client.download(sha)?;
        store.put_downloaded_blob(sha, &bytes)?;
        fetched += 1;
    }
    Ok(fetched)
}
