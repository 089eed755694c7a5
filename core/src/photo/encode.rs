//! Writing the normalised JPEGs.

use sha2::{Digest, Sha256};
use turbojpeg::{Compressor, Image, PixelFormat, Subsamp};

use super::raster::Rgb8;
use super::PhotoError;

/// A JPEG written by the pipeline, with its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedImage {
    pub bytes: Vec<u8>,
    pub sha256: [u8; 32],
    pub width: u32,
    pub height: u32,
}

/// Baseline JPEG, 4:2:0 (half the chroma of 4:4:4, invisible at photo sizes).
/// libjpeg-turbo writes only the JFIF APP0 marker: no EXIF, no ICC, no comment.
pub fn encode(image: &Rgb8, quality: u8) -> Result<EncodedImage, PhotoError> {
    let fail = |e: turbojpeg::Error| PhotoError::Encode(e.to_string());
    let mut compressor = Compressor::new().map_err(fail)?;
    compressor.set_quality(i32::from(quality)).map_err(fail)?;
    compressor.set_subsamp(Subsamp::Sub2x2).map_err(fail)?;
    let width = image.width as usize;
    let bytes = compressor
        .compress_to_vec(Image {
            pixels: image.pixels.as_slice(),
            width,
            pitch: width * 3,
            height: image.height as usize,
            format: PixelFormat::RGB,
        })
        .map_err(fail)?;
    Ok(EncodedImage {
        sha256: sha256(&bytes),
        bytes,
        width: image.width,
        height: image.height,
    })
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
