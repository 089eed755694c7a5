//! QR codes as PNG images in `data:` URLs: the pages load nothing from
//! elsewhere and run no scripts (the CSP allows `img-src data:`), and a
//! PNG is what a phone's camera and a test's decoder both read.

use base64::Engine;
use image::{GrayImage, Luma};
use qrcode::{Color, EcLevel, QrCode};

use crate::error::ServerError;

/// Pixels per module; with the quiet zone a link of ~120 characters
/// makes an image of about 300 pixels.
const SCALE: u32 = 6;
/// Modules of white around the code, as the standard asks.
const QUIET: u32 = 4;

/// `text` as a QR code, `data:image/png;base64,…`.
pub fn data_url(text: &str) -> Result<String, ServerError> {
    // Medium error correction: a screen's glare or a smudge still scans.
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| ServerError::Invalid(format!("cannot make a QR code: {e}")))?;
    let width = code.width() as u32;
    let side = (width + 2 * QUIET) * SCALE;
    let colors = code.to_colors();
    let img = GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / SCALE, y / SCALE);
        let dark = mx >= QUIET
            && my >= QUIET
            && mx < QUIET + width
            && my < QUIET + width
            && colors[((my - QUIET) * width + (mx - QUIET)) as usize] == Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| ServerError::Storage(format!("cannot encode the QR code: {e}")))?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png.into_inner())
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_becomes_a_png() {
        let url = super::data_url("kiemtra://enrol?server=https%3A%2F%2Fa&code=1f0c-2a3b").unwrap();
        assert!(url.starts_with("data:image/png;base64,iVBORw0KGgo"), "{url}");
    }
}
