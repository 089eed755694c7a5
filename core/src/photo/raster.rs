//! The in-memory picture passed between the pipeline's steps.

/// Tightly packed 8-bit RGB, row after row, no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgb8 {
    pub pixels: Vec<u8>,
    pub width: u32,
    pub height: u32,
}
