//! Why a photo was refused.

use thiserror::Error;

/// A photo that cannot be normalised. Nothing was stored.
///
/// Each message says what the inspector (or the app) can do about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhotoError {
    #[error("the photo file is empty (0 bytes); take or attach the photo again")]
    Empty,
    #[error("the photo file is {size} bytes, more than the limit of {limit} bytes; attach the camera's original instead of an enlarged export")]
    TooLargeInput { size: usize, limit: usize },
    #[error("the file is not a JPEG, PNG or WebP image (its content was checked, not its name); attach a photo from the camera")]
    UnsupportedFormat,
    #[error("the image claims {width} × {height} pixels, more than the limit of {limit} pixels; attach a smaller photo")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the photo file is cut short (an interrupted copy or download?); copy it from the camera again")]
    Truncated,
    #[error("the photo file is damaged and cannot be read: {0}")]
    Corrupt(String),
    #[error("the photo could not be re-encoded: {0}")]
    Encode(String),
    #[error("invalid photo settings: {0}")]
    InvalidConfig(String),
}
