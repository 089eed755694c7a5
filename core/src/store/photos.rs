//! Photo evidence in the store: normalise, keep the blobs, record the photo
//! as an operation, queue the blobs for upload.

use super::{Store, Write, T};
use crate::error::{Error, Result};
use crate::evidence::PhotoRecord;
use crate::ids::InspectionId;
use crate::ops::Payload;
use crate::photo::normalise;
use crate::text;

impl Store {
    /// Adds a photo (JPEG, PNG or WebP as the camera wrote it) to an
    /// inspection or one of its items. The photo is normalised (upright,
    /// 1600 px, JPEG, no metadata) and stored by content hash; a bad file is
    /// a typed error and nothing changes.
    pub fn add_photo(
        &self,
        inspection: InspectionId,
        item: Option<&str>,
        bytes: &[u8],
        caption: Option<&str>,
    ) -> Result<PhotoRecord> {
        let caption = text::CAPTION.optional(caption)?;
        // Cheap checks first: a refused photo should not cost a decode.
        let snap = self.snapshot(inspection)?;
        if !snap.record.inspection.status.findings_open() {
            return Err(crate::error::LifecycleError::NotAllowed {
                status: snap.record.inspection.status,
                action: "adding photos",
            }
            .into());
        }
        let normalised = normalise(bytes, &self.photo_config)?;
        let photo =
            PhotoRecord::from_normalised(&normalised, item.map(str::to_string), caption, self.identity()?);
        // The check runs again under the writer lock in `commit`; this one
        // keeps a refused photo's blobs off the disk.
        let op_preview = crate::ops::Operation {
            id: crate::ids::OpId::new(),
            device: self.device,
            seq: 0,
            author: photo.added_by,
            at: photo.added_at,
            payload: Payload::AddPhoto {
                inspection,
                photo: photo.clone(),
            },
        };
        snap.record.check(&op_preview, &snap.context())?;

        // Blobs first, durably: an operation never names a blob that is not on disk.
        self.blobs.put(&normalised.image.bytes)?;
        self.blobs.put(&normalised.thumbnail.bytes)?;
        let queue = [&photo.image.sha256, &photo.thumbnail.sha256]
            .into_iter()
            .map(|sha| Write::put(T::UploadQueue, sha.as_bytes().to_vec(), Vec::new()))
            .collect();
        self.change_inspection_with(
            inspection,
            Payload::AddPhoto {
                inspection,
                photo: photo.clone(),
            },
            queue,
        )?;
        Ok(photo)
    }

    /// The photos of an inspection, item photos and general ones.
    pub fn photos(&self, inspection: InspectionId) -> Result<Vec<PhotoRecord>> {
        Ok(self.snapshot(inspection)?.record.photos.into_values().collect())
    }

    /// A blob's bytes, by SHA-256 hex.
    pub fn blob(&self, sha256: &str) -> Result<Vec<u8>> {
        self.blobs.get(sha256)
    }

    pub fn has_blob(&self, sha256: &str) -> Result<bool> {
        self.blobs.contains(sha256)
    }

    /// Keeps downloaded bytes that must hash to `sha256` (a colleague's photo).
    pub fn put_downloaded_blob(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        self.blobs.put_expected(sha256, bytes)
    }

    /// Blobs waiting for upload, by SHA-256 hex.
    pub fn upload_queue(&self) -> Result<Vec<String>> {
        self.tree(T::UploadQueue)
            .iter()
            .keys()
            .map(|k| {
                let k = k?;
                String::from_utf8(k.to_vec()).map_err(|_| Error::Storage("bad upload queue key".into()))
            })
            .collect()
    }

    pub fn mark_uploaded(&self, sha256: &str) -> Result<()> {
        let mut writer = self.lock_writer()?;
        self.write_durably(
            &mut writer,
            &[Write::delete(T::UploadQueue, sha256.as_bytes().to_vec())],
        )
    }
}
