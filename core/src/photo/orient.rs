//! Turning the stored pixels upright, as EXIF orientation says a viewer should.

use super::raster::Rgb8;

/// Applies EXIF orientation 1..=8 (TIFF 6.0 / EXIF 2.3 definitions).
/// Values outside 1..=8 are treated as 1.
pub fn apply(image: Rgb8, orientation: u8) -> Rgb8 {
    if !(2..=8).contains(&orientation) {
        return image;
    }
    let (w, h) = (image.width as usize, image.height as usize);
    let swaps = orientation >= 5;
    let (ow, oh) = if swaps { (h, w) } else { (w, h) };
    let src = &image.pixels;
    let mut out = vec![0u8; ow * oh * 3];
    for oy in 0..oh {
        for ox in 0..ow {
            // Where the upright pixel (ox, oy) sits in the stored image.
            let (sx, sy) = match orientation {
                2 => (w - 1 - ox, oy),
                3 => (w - 1 - ox, h - 1 - oy),
                4 => (ox, h - 1 - oy),
                5 => (oy, ox),
                6 => (oy, h - 1 - ox),
                7 => (w - 1 - oy, h - 1 - ox),
                _ => (w - 1 - oy, ox),
            };
            let s = (sy * w + sx) * 3;
            let d = (oy * ow + ox) * 3;
            out[d..d + 3].copy_from_slice(&src[s..s + 3]);
        }
    }
    Rgb8 {
        pixels: out,
        width: ow as u32,
        height: oh as u32,
    }
}
