//! How photos are normalised and which inputs are refused.

use super::PhotoError;

/// Settings for [`normalise`](super::normalise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoConfig {
    /// Longest side of the stored image, in pixels. Smaller photos are never enlarged.
    pub max_long_side: u32,
    /// Longest side of the thumbnail, in pixels.
    pub thumb_long_side: u32,
    /// JPEG quality of both outputs, 1..=100.
    pub jpeg_quality: u8,
    /// Width × height above which a photo is refused before any pixel is decoded.
    pub max_pixels: u64,
    /// Size of the file above which a photo is refused unread.
    pub max_input_bytes: usize,
}

impl Default for PhotoConfig {
    fn default() -> Self {
        Self {
            max_long_side: 1600,
            thumb_long_side: 320,
            jpeg_quality: 80,
            // 50 MP covers every phone camera in use without pixel binning.
            max_pixels: 50_000_000,
            max_input_bytes: 64 * 1024 * 1024,
        }
    }
}

impl PhotoConfig {
    pub(crate) fn check(&self) -> Result<(), PhotoError> {
        if self.max_long_side == 0 || self.thumb_long_side == 0 {
            return Err(PhotoError::InvalidConfig(
                "max_long_side and thumb_long_side must be at least 1".into(),
            ));
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(PhotoError::InvalidConfig(format!(
                "jpeg_quality must be between 1 and 100, not {}",
                self.jpeg_quality
            )));
        }
        if self.max_pixels == 0 {
            return Err(PhotoError::InvalidConfig("max_pixels must be at least 1".into()));
        }
        Ok(())
    }

    /// Refuses a photo whose header claims more pixels than allowed.
    pub(crate) fn check_pixels(&self, width: u32, height: u32) -> Result<(), PhotoError> {
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(PhotoError::TooManyPixels {
                width,
                height,
                limit: self.max_pixels,
            });
        }
        if width == 0 || height == 0 {
            return Err(PhotoError::Corrupt(format!(
                "the header claims an empty image ({width} × {height})"
            )));
        }
        Ok(())
    }
}
