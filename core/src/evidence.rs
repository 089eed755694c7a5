//! Photo evidence as the inspection records it: the normalised image and its
//! thumbnail by content hash, the original's hash and size (the evidence
//! chain), and the capture time and place read from the camera.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
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

/// Why a blob's bytes are not the image its photo operation declares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobMismatch {
    #[error("the blob is {actual} bytes, the operation declares {declared}")]
    Size { declared: u64, actual: u64 },
    #[error("the blob's bytes do not hash to the SHA-256 the operation declares")]
    Hash,
    #[error("the blob is not a complete JPEG image")]
    NotJpeg,
    #[error(
        "the image is {width} × {height} pixels, the operation declares {declared_width} × {declared_height}"
    )]
    Dimensions {
        width: u32,
        height: u32,
        declared_width: u32,
        declared_height: u32,
    },
}

/// Largest blob a photo operation may declare: what the pipeline makes is
/// far smaller (1600 px JPEG), so this only bounds what a client can claim.
pub const MAX_PHOTO_BLOB_BYTES: u64 = 32 * 1024 * 1024;

/// Largest side a photo operation may declare.
pub const MAX_PHOTO_SIDE: u32 = 16_384;

impl BlobRef {
    /// Whether `bytes` are the image this reference declares: its size, its
    /// hash, a whole JPEG (as every replica's pipeline writes it) of its
    /// dimensions. A device declares the image in the operation and uploads
    /// the bytes separately, so nothing but this check ties the two: bytes
    /// that are HTML or script under an image's name are never an image.
    pub fn check_bytes(&self, bytes: &[u8]) -> Result<(), BlobMismatch> {
        let actual = bytes.len() as u64;
        if actual != self.size {
            return Err(BlobMismatch::Size {
                declared: self.size,
                actual,
            });
        }
        if hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)) != self.sha256 {
            return Err(BlobMismatch::Hash);
        }
        if !(bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.ends_with(&[0xFF, 0xD9])) {
            return Err(BlobMismatch::NotJpeg);
        }
        let header = turbojpeg::read_header(bytes).map_err(|_| BlobMismatch::NotJpeg)?;
        let (width, height) = (
            u32::try_from(header.width).unwrap_or(u32::MAX),
            u32::try_from(header.height).unwrap_or(u32::MAX),
        );
        if (width, height) != (self.width, self.height) {
            return Err(BlobMismatch::Dimensions {
                width,
                height,
                declared_width: self.width,
                declared_height: self.height,
            });
        }
        Ok(())
    }

    /// Whether the reference itself makes sense: a SHA-256 name in lower-case
    /// hex, a size and sides a photo can have.
    pub fn check_shape(&self, field: &'static str) -> Result<(), ValidationError> {
        let invalid = |reason: &str| ValidationError::Invalid {
            field,
            reason: reason.into(),
        };
        if !is_sha256_hex(&self.sha256) {
            return Err(invalid("the blob name is not a SHA-256 in lower-case hex"));
        }
        if self.size == 0 || self.size > MAX_PHOTO_BLOB_BYTES {
            return Err(invalid("the blob size is not one a photo can have"));
        }
        if !(1..=MAX_PHOTO_SIDE).contains(&self.width) || !(1..=MAX_PHOTO_SIDE).contains(&self.height) {
            return Err(invalid("the image sides are not ones a photo can have"));
        }
        Ok(())
    }

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

    /// Checks what a received photo operation declares: its caption by the
    /// caption rule, its blob references' shape, its original's hash.
    pub fn check_shape(&self) -> Result<(), ValidationError> {
        crate::text::CAPTION.check_optional(self.caption.as_deref())?;
        self.image.check_shape("photo image")?;
        self.thumbnail.check_shape("photo thumbnail")?;
        if !is_sha256_hex(&self.original_sha256) {
            return Err(ValidationError::Invalid {
                field: "photo original",
                reason: "the original's hash is not a SHA-256 in lower-case hex".into(),
            });
        }
        Ok(())
    }

    /// The key of the photo in its inspection: the same image attached to
    /// the same item twice is one photo.
    pub fn key(&self) -> String {
        format!("{}|{}", self.image.sha256, self.item.as_deref().unwrap_or(""))
    }
}

/// 64 lower-case hex digits: how blobs are named everywhere.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(bytes: &[u8], width: u32, height: u32) -> BlobRef {
        BlobRef {
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)),
            size: bytes.len() as u64,
            width,
            height,
        }
    }

    fn jpeg(width: usize, height: usize) -> Vec<u8> {
        let pixels = vec![128u8; width * height * 3];
        let image = turbojpeg::Image {
            pixels: pixels.as_slice(),
            width,
            pitch: width * 3,
            height,
            format: turbojpeg::PixelFormat::RGB,
        };
        turbojpeg::compress(image, 80, turbojpeg::Subsamp::Sub2x2)
            .unwrap()
            .to_vec()
    }

    #[test]
    fn only_the_declared_jpeg_matches_its_reference() {
        let good = jpeg(40, 30);
        assert_eq!(reference(&good, 40, 30).check_bytes(&good), Ok(()));
        // Bytes a device declared as an image under their own true hash.
        let html = b"<html><script>alert(1)</script></html>".to_vec();
        assert_eq!(
            reference(&html, 40, 30).check_bytes(&html),
            Err(BlobMismatch::NotJpeg)
        );
        // A JPEG's first bytes with garbage after them.
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0];
        fake.extend_from_slice(&[0x41; 100]);
        fake.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(
            reference(&fake, 40, 30).check_bytes(&fake),
            Err(BlobMismatch::NotJpeg)
        );
        // Another image than declared.
        assert!(matches!(
            reference(&good, 400, 300).check_bytes(&good),
            Err(BlobMismatch::Dimensions {
                width: 40,
                height: 30,
                ..
            })
        ));
        // Cut short: the size no longer matches, nor would the end.
        let r = reference(&good, 40, 30);
        assert!(matches!(
            r.check_bytes(&good[..good.len() - 10]),
            Err(BlobMismatch::Size { .. })
        ));
        let mut other = good.clone();
        other[good.len() / 2] ^= 1;
        assert_eq!(r.check_bytes(&other), Err(BlobMismatch::Hash));
    }

    #[test]
    fn references_are_checked_for_shape() {
        let good = jpeg(8, 8);
        assert!(reference(&good, 8, 8).check_shape("photo image").is_ok());
        let mut upper = reference(&good, 8, 8);
        upper.sha256 = upper.sha256.to_uppercase();
        assert!(upper.check_shape("photo image").is_err());
        let mut path = reference(&good, 8, 8);
        path.sha256 = "../../etc/passwd".into();
        assert!(path.check_shape("photo image").is_err());
        assert!(reference(&good, 0, 8).check_shape("photo image").is_err());
        assert!(reference(&good, 8, MAX_PHOTO_SIDE + 1)
            .check_shape("photo image")
            .is_err());
    }
}
