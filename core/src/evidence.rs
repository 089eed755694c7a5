//! Photo evidence as the inspection records it: the normalised image and its
//! thumbnail by content hash, the original's hash and size (the evidence
//! chain), and the capture time and place read from the camera.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::geo::GeoPoint;
use crate::ids::InspectorId;
use crate::photo::SourceFormat;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    /// SHA-256 of the bytes, lower-case hex: the blob's name everywhere.
    pub sha256: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRecord {
    /// The checklist item the photo supports; `None` for the inspection as a whole.
    pub item: Option<String>,
    pub caption: Option<String>,
    /// The upright JPEG, long side at most 1600 px, no metadata.
    pub image: BlobRef,
    pub thumbnail: BlobRef,
    /// SHA-256 and size of the file as the camera wrote it (not kept on the device).
    pub original_sha256: String,
    pub original_size: u64,
    pub source_format: SourceFormat,
    /// Camera time as the camera wrote it (no time zone in EXIF).
    pub captured_at: Option<NaiveDateTime>,
    pub position: Option<GeoPoint>,
    pub added_by: Option<InspectorId>,
    pub added_at: DateTime<Utc>,
}

impl BlobRef {
    /// The reference of an encoded image: its hash, size and dimensions.
    pub fn of(image: &crate::photo::EncodedImage) -> Self {
        Self {
            sha256: hex::encode(image.sha256),
            size: image.bytes.len() as u64,
            width: image.width,
            height: image.height,
        }
    }
}

impl PhotoRecord {
    /// The record of a photo the pipeline normalised, added now by `added_by`
    /// (`None`: sent by the establishment through the portal).
    pub fn from_normalised(
        n: &crate::photo::NormalisedPhoto,
        item: Option<String>,
        caption: Option<String>,
        added_by: Option<InspectorId>,
    ) -> Self {
        Self {
            item,
            caption,
            image: BlobRef::of(&n.image),
            thumbnail: BlobRef::of(&n.thumbnail),
            original_sha256: hex::encode(n.original_sha256),
            original_size: n.original_size,
            source_format: n.source_format,
            captured_at: n.captured_at,
            position: n.position,
            added_by,
            added_at: chrono::Utc::now(),
        }
    }

    /// The key of the photo in its inspection: the same image attached to
    /// the same item twice is one photo.
    pub fn key(&self) -> String {
        format!("{}|{}", self.image.sha256, self.item.as_deref().unwrap_or(""))
    }
}
