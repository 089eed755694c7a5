//! From file bytes to RGB pixels: JPEG through the fast path, the rest through `image`.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::format::{png_dimensions, SourceFormat};
use super::raster::Rgb8;
use super::{jpeg, PhotoConfig, PhotoError};

/// Pixels as decoded, possibly already shrunk, before orientation.
pub struct Decoded {
    pub image: Rgb8,
    /// Size stored in the file, before any shrink-on-load or orientation.
    pub original_width: u32,
    pub original_height: u32,
}

/// Worst case bytes per pixel a decoder may hand back (RGBA, 16 bits per channel).
const MAX_BYTES_PER_PIXEL: u64 = 8;

pub fn decode(
    bytes: &[u8],
    format: SourceFormat,
    target_long_side: u32,
    config: &PhotoConfig,
) -> Result<Decoded, PhotoError> {
    match format {
        SourceFormat::Jpeg => {
            let d = jpeg::decode(bytes, target_long_side, config)?;
            Ok(Decoded {
                image: d.image,
                original_width: d.original_width,
                original_height: d.original_height,
            })
        }
        SourceFormat::Png => {
            let (width, height) = png_dimensions(bytes)?;
            config.check_pixels(width, height)?;
            decode_general(bytes, ImageFormat::Png, config)
        }
        SourceFormat::Webp => decode_general(bytes, ImageFormat::WebP, config),
    }
}

fn decode_general(bytes: &[u8], format: ImageFormat, config: &PhotoConfig) -> Result<Decoded, PhotoError> {
    let max_bytes = config.max_pixels.saturating_mul(MAX_BYTES_PER_PIXEL);
    // `image`'s defaults only cap allocations, and some decoders ignore that:
    // cap the sides too, and check the area ourselves once the header is read.
    let max_side = u32::try_from(config.max_pixels).unwrap_or(u32::MAX);
    let mut limits = Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    limits.max_alloc = Some(max_bytes);

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(map_error)?;
    let (width, height) = decoder.dimensions();
    config.check_pixels(width, height)?;
    if decoder.total_bytes() > max_bytes {
        return Err(PhotoError::TooManyPixels {
            width,
            height,
            limit: config.max_pixels,
        });
    }
    let image = DynamicImage::from_decoder(decoder).map_err(map_error)?;
    let rgb = flatten(image);
    Ok(Decoded {
        image: rgb,
        original_width: width,
        original_height: height,
    })
}

/// Any depth and channel layout to 8-bit RGB; transparency is laid over white,
/// as a transparent area looks in a printed report.
fn flatten(image: DynamicImage) -> Rgb8 {
    let (width, height) = (image.width(), image.height());
    if !image.color().has_alpha() {
        return Rgb8 {
            pixels: image.into_rgb8().into_raw(),
            width,
            height,
        };
    }
    let rgba = image.into_rgba8().into_raw();
    let mut pixels = Vec::with_capacity(rgba.len() / 4 * 3);
    for px in rgba.chunks_exact(4) {
        let a = u32::from(px[3]);
        for &c in &px[..3] {
            let v = (u32::from(c) * a + 255 * (255 - a) + 127) / 255;
            pixels.push(v as u8);
        }
    }
    Rgb8 {
        pixels,
        width,
        height,
    }
}

fn map_error(e: ImageError) -> PhotoError {
    match e {
        ImageError::Limits(l) => PhotoError::Corrupt(format!("image exceeds decoding limits: {l}")),
        ImageError::Unsupported(u) => PhotoError::Corrupt(format!("unsupported variant: {u}")),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => PhotoError::Truncated,
        other => {
            let message = other.to_string();
            if message.contains("EOF") || message.contains("eof") || message.contains("end of") {
                PhotoError::Truncated
            } else {
                PhotoError::Corrupt(message)
            }
        }
    }
}
