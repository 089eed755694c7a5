//! Photo normalisation: the inspector's camera file in, upright evidence JPEGs out.
//!
//! The original bytes are kept by the caller and identified here by their
//! SHA-256; what this module makes is what reports and reviewers see: an upright
//! JPEG whose long side is at most [`PhotoConfig::max_long_side`], a thumbnail,
//! and the EXIF facts worth recording (capture time, position). The outputs
//! carry no metadata at all, so nothing the camera wrote (serial numbers,
//! owner names) leaks into reports.
//!
//! Pure: no I/O, no clock, no global state. The same bytes and config give the
//! same outputs, byte for byte, on the same build.

mod config;
mod decode;
mod encode;
mod error;
mod exif;
mod format;
mod jpeg;
mod orient;
mod raster;
mod resize;

use chrono::NaiveDateTime;

pub use config::PhotoConfig;
pub use encode::EncodedImage;
pub use error::PhotoError;
pub use format::SourceFormat;

use crate::geo::GeoPoint;

/// The result of [`normalise`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalisedPhoto {
    /// Upright, long side at most `max_long_side` (never enlarged), JPEG 4:2:0, no metadata.
    pub image: EncodedImage,
    /// Same, long side at most `thumb_long_side`.
    pub thumbnail: EncodedImage,
    pub original_sha256: [u8; 32],
    pub original_size: u64,
    pub source_format: SourceFormat,
    /// As stored in the file, before orientation.
    pub original_width: u32,
    pub original_height: u32,
    /// EXIF orientation that was applied; 1 when there was none.
    pub orientation: u8,
    /// EXIF DateTimeOriginal, else DateTime; camera local time, zone unknown.
    pub captured_at: Option<NaiveDateTime>,
    /// EXIF GPS position.
    pub position: Option<GeoPoint>,
}

/// Decodes, orients, shrinks and re-encodes one photo.
///
/// Refuses, without decoding pixels, files that are empty, too big, not an
/// image, or whose header claims more than `max_pixels` pixels.
pub fn normalise(bytes: &[u8], config: &PhotoConfig) -> Result<NormalisedPhoto, PhotoError> {
    config.check()?;
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > config.max_input_bytes {
        return Err(PhotoError::TooLargeInput {
            size: bytes.len(),
            limit: config.max_input_bytes,
        });
    }
    let source_format = format::sniff(bytes)?;
    let metadata = exif::read(bytes);

    // Hashing the original needs no pixels: do it beside the decode.
    let (decoded, original_sha256) = std::thread::scope(|s| {
        let hash = s.spawn(|| encode::sha256(bytes));
        let decoded = decode::decode(bytes, source_format, config.max_long_side, config);
        let hash = hash.join().unwrap_or_else(|_| encode::sha256(bytes));
        (decoded, hash)
    });
    let decoded = decoded?;
    let (original_width, original_height) = (decoded.original_width, decoded.original_height);
    // Shrink before rotating: orientation does not change the long side, and
    // rotating the smaller buffer is cheaper.
    let full = decoded.image;
    let image = match resize::fit(&full, config.max_long_side)? {
        Some(smaller) => {
            drop(full);
            smaller
        }
        None => full,
    };
    let image = orient::apply(image, metadata.orientation);

    let (encoded, thumbnail) = std::thread::scope(|s| {
        let thumbnail = s.spawn(|| match resize::fit(&image, config.thumb_long_side)? {
            Some(thumb) => encode::encode(&thumb, config.jpeg_quality),
            None => encode::encode(&image, config.jpeg_quality),
        });
        let encoded = encode::encode(&image, config.jpeg_quality);
        let thumbnail = thumbnail
            .join()
            .unwrap_or_else(|_| Err(PhotoError::Encode("the thumbnail worker stopped".into())));
        (encoded, thumbnail)
    });

    Ok(NormalisedPhoto {
        image: encoded?,
        thumbnail: thumbnail?,
        original_sha256,
        original_size: bytes.len() as u64,
        source_format,
        original_width,
        original_height,
        orientation: metadata.orientation,
        captured_at: metadata.captured_at,
        position: metadata.position,
    })
}
