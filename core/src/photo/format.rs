//! Which kind of file a photo is, told from its first bytes.

use serde::{Deserialize, Serialize};

use super::PhotoError;

/// The container the inspector's photo came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Webp,
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Tells the format from magic bytes: file names and MIME types lie.
pub fn sniff(bytes: &[u8]) -> Result<SourceFormat, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return Ok(SourceFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(SourceFormat::Webp);
    }
    // A few bytes of a real format's signature: the file was cut short, not mistyped.
    if (bytes.len() < 3 && [0xFF, 0xD8, 0xFF].starts_with(bytes))
        || (bytes.len() < PNG_SIGNATURE.len() && PNG_SIGNATURE.starts_with(bytes))
    {
        return Err(PhotoError::Truncated);
    }
    Err(PhotoError::UnsupportedFormat)
}

/// Width and height from a PNG's IHDR, read by hand so that a bomb is refused
/// before any decoder (and its limits) sees the file.
pub fn png_dimensions(bytes: &[u8]) -> Result<(u32, u32), PhotoError> {
    let ihdr = bytes.get(8..24).ok_or(PhotoError::Truncated)?;
    if &ihdr[4..8] != b"IHDR" {
        return Err(PhotoError::Corrupt(
            "PNG does not start with an IHDR chunk".into(),
        ));
    }
    let width = u32::from_be_bytes([ihdr[8], ihdr[9], ihdr[10], ihdr[11]]);
    let height = u32::from_be_bytes([ihdr[12], ihdr[13], ihdr[14], ihdr[15]]);
    Ok((width, height))
}
