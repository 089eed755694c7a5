//! JPEG fast path: libjpeg-turbo, shrinking during the inverse DCT.
//!
//! Decoding a 12 MP phone photo at full size dominates the pipeline's time and
//! memory; asking the decoder for 1/2, 1/4 or 1/8 of the size skips most of
//! the work and never holds the full-size pixels.

use turbojpeg::{Colorspace, Decompressor, Image, PixelFormat, ScalingFactor};

use super::raster::Rgb8;
use super::{PhotoConfig, PhotoError};

/// Progressive JPEGs with more scans than this are refused: a few KB of crafted
/// scans can otherwise keep the decoder busy for minutes.
const MAX_SCANS: u32 = 500;

pub struct DecodedJpeg {
    pub image: Rgb8,
    pub original_width: u32,
    pub original_height: u32,
}

/// Decodes at the smallest DCT scale whose long side still reaches `target_long_side`,
/// so that the final resize only ever shrinks.
pub fn decode(bytes: &[u8], target_long_side: u32, config: &PhotoConfig) -> Result<DecodedJpeg, PhotoError> {
    let mut decompressor = Decompressor::new().map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    let header = decompressor.read_header(bytes).map_err(map_error)?;
    let width = u32::try_from(header.width).map_err(|_| too_many(u32::MAX, u32::MAX, config))?;
    let height = u32::try_from(header.height).map_err(|_| too_many(u32::MAX, u32::MAX, config))?;
    config.check_pixels(width, height)?;

    let scale = if header.is_lossless {
        ScalingFactor::ONE
    } else {
        dct_scale(width.max(height), target_long_side)
    };
    decompressor.set_scaling_factor(scale).map_err(map_error)?;
    decompressor.set_scan_limit(MAX_SCANS).map_err(map_error)?;
    // The output is resized again afterwards, so libjpeg-turbo's smoothing
    // ("fancy") chroma upsampling buys nothing visible and costs decode time.
    decompressor.set_fast_upsample(true).map_err(map_error)?;
    let scaled = header.scaled(scale);

    let cmyk = matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK);
    // libjpeg-turbo cannot convert CMYK to RGB itself.
    let format = if cmyk { PixelFormat::CMYK } else { PixelFormat::RGB };
    let pitch = scaled.width * format.size();
    let mut pixels = vec![0u8; pitch * scaled.height];
    decompressor
        .decompress(
            bytes,
            Image {
                pixels: pixels.as_mut_slice(),
                width: scaled.width,
                pitch,
                height: scaled.height,
                format,
            },
        )
        .map_err(map_error)?;
    if cmyk {
        cmyk_to_rgb_in_place(&mut pixels);
    }
    Ok(DecodedJpeg {
        image: Rgb8 {
            pixels,
            // Both fit: they are no larger than the header's u32 dimensions.
            width: scaled.width as u32,
            height: scaled.height as u32,
        },
        original_width: width,
        original_height: height,
    })
}

/// The smallest of 1/8, 1/4, 1/2 that keeps the long side at or above the target.
/// Only powers of two: libjpeg-turbo has SIMD code for those, and they are what
/// libvips uses, so the two pipelines resample from the same intermediate.
fn dct_scale(long_side: u32, target: u32) -> ScalingFactor {
    [
        ScalingFactor::ONE_EIGHTH,
        ScalingFactor::ONE_QUARTER,
        ScalingFactor::ONE_HALF,
    ]
    .into_iter()
    .find(|s| s.scale(long_side as usize) >= target as usize)
    .unwrap_or(ScalingFactor::ONE)
}

/// Photoshop and libjpeg-turbo store CMYK JPEGs inverted (0 = full ink), so
/// each channel times K is already the RGB value.
fn cmyk_to_rgb_in_place(pixels: &mut Vec<u8>) {
    let count = pixels.len() / 4;
    for i in 0..count {
        let (c, m, y, k) = (
            u16::from(pixels[4 * i]),
            u16::from(pixels[4 * i + 1]),
            u16::from(pixels[4 * i + 2]),
            u16::from(pixels[4 * i + 3]),
        );
        // Writing at 3i never overtakes reading at 4i.
        pixels[3 * i] = ((c * k + 127) / 255) as u8;
        pixels[3 * i + 1] = ((m * k + 127) / 255) as u8;
        pixels[3 * i + 2] = ((y * k + 127) / 255) as u8;
    }
    pixels.truncate(count * 3);
    pixels.shrink_to_fit();
}

fn too_many(width: u32, height: u32, config: &PhotoConfig) -> PhotoError {
    PhotoError::TooManyPixels {
        width,
        height,
        limit: config.max_pixels,
    }
}

/// libjpeg-turbo reports a file that ends early as a warning, which TurboJPEG
/// turns into an error; every other complaint means the data is damaged.
fn map_error(e: turbojpeg::Error) -> PhotoError {
    let message = e.to_string();
    if message.contains("Premature end") || message.contains("premature end") {
        PhotoError::Truncated
    } else {
        PhotoError::Corrupt(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_smallest_scale_that_still_reaches_the_target() {
        assert_eq!(dct_scale(4000, 1600), ScalingFactor::ONE_HALF);
        assert_eq!(dct_scale(4000, 320), ScalingFactor::ONE_EIGHTH);
        assert_eq!(dct_scale(4000, 1000), ScalingFactor::ONE_QUARTER);
        assert_eq!(dct_scale(1600, 1600), ScalingFactor::ONE);
        assert_eq!(dct_scale(3200, 1600), ScalingFactor::ONE_HALF);
        assert_eq!(dct_scale(800, 1600), ScalingFactor::ONE);
    }

    #[test]
    fn converts_inverted_cmyk() {
        let mut px = vec![255, 0, 0, 255, 255, 255, 255, 0];
        cmyk_to_rgb_in_place(&mut px);
        assert_eq!(px, vec![255, 0, 0, 0, 0, 0]);
    }
}
