//! What the camera recorded about the shot: orientation, time, place.
//!
//! Missing or damaged EXIF never refuses a photo: the pixels are the evidence,
//! the metadata is a help. A value that does not make sense is left out rather
//! than guessed.

use std::io::Cursor;

use chrono::{NaiveDate, NaiveDateTime};
use exif::{Exif, In, Tag, Value};

use crate::geo::GeoPoint;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// EXIF orientation 1..=8; 1 when absent or out of range.
    pub orientation: u8,
    pub captured_at: Option<NaiveDateTime>,
    pub position: Option<GeoPoint>,
}

impl Default for Metadata {
    fn default() -> Self {
        Self {
            orientation: 1,
            captured_at: None,
            position: None,
        }
    }
}

/// Reads EXIF from a JPEG (APP1), PNG (eXIf) or WebP (EXIF chunk).
///
/// Leniently: phones and messaging apps routinely write blocks with a small
/// defect (an odd or out-of-range value offset, a next-IFD link into a
/// value, a maker note longer than the block, a truncated block), and a
/// strict reader refuses the whole block for one of them, so a portrait shot
/// would be stored sideways and lose its time and place. Every field that
/// parsed is used; a field the defect destroyed is simply absent.
pub fn read(bytes: &[u8]) -> Metadata {
    let read = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(bytes))
        .or_else(|e| {
            e.distill_partial_result(|errors| {
                tracing::debug!(defects = errors.len(), "EXIF read with defects; kept what parsed");
            })
        });
    let Ok(exif) = read else {
        return Metadata::default();
    };
    Metadata {
        orientation: orientation(&exif),
        captured_at: captured_at(&exif),
        position: position(&exif),
    }
}

fn orientation(exif: &Exif) -> u8 {
    exif.get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .filter(|v| (1..=8).contains(v))
        .unwrap_or(1)
}

fn captured_at(exif: &Exif) -> Option<NaiveDateTime> {
    [Tag::DateTimeOriginal, Tag::DateTime]
        .into_iter()
        .find_map(|tag| date_time(exif, tag))
}

fn date_time(exif: &Exif, tag: Tag) -> Option<NaiveDateTime> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(ref parts) = field.value else {
        return None;
    };
    let dt = exif::DateTime::from_ascii(parts.first()?).ok()?;
    NaiveDate::from_ymd_opt(i32::from(dt.year), u32::from(dt.month), u32::from(dt.day))?.and_hms_opt(
        u32::from(dt.hour),
        u32::from(dt.minute),
        u32::from(dt.second),
    )
}

fn position(exif: &Exif) -> Option<GeoPoint> {
    let lat = coordinate(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = coordinate(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    GeoPoint::from_degrees(lat, lon).ok()
}

/// Degrees, minutes, seconds and a hemisphere letter to signed decimal degrees.
fn coordinate(exif: &Exif, value_tag: Tag, ref_tag: Tag, negative: u8) -> Option<f64> {
    let Value::Rational(ref dms) = exif.get_field(value_tag, In::PRIMARY)?.value else {
        return None;
    };
    let mut degrees = 0.0;
    for (part, divisor) in dms.iter().zip([1.0, 60.0, 3600.0]) {
        if part.denom == 0 {
            return None;
        }
        degrees += part.to_f64() / divisor;
    }
    if dms.is_empty() {
        return None;
    }
    let hemisphere = match exif.get_field(ref_tag, In::PRIMARY)?.value {
        Value::Ascii(ref parts) => *parts.first()?.first()?,
        _ => return None,
    };
    let sign = if hemisphere.eq_ignore_ascii_case(&negative) {
        -1.0
    } else {
        1.0
    };
    Some(sign * degrees)
}
