//! The photo pipeline on images made here, in code: every EXIF orientation by
//! pixel position, the formats phones write, and the broken or hostile files
//! an inspector's phone may hand over.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, Rgb, Rgba};
use kiemtra_core::photo::{normalise, PhotoConfig, PhotoError, SourceFormat};
use sha2::{Digest, Sha256};
use turbojpeg::{PixelFormat, Subsamp};

// ---------------------------------------------------------------------------
// Allocation meter: bytes the current thread has live, and the peak since reset.
// Lets the bomb tests prove that no pixel buffer was allocated.

struct Meter;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn on_alloc(size: usize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + size;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn on_dealloc(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_dealloc(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_dealloc(layout.size());
        on_alloc(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static METER: Meter = Meter;

/// Peak bytes allocated on this thread while `f` runs, above what was live before.
fn peak_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get) - base)
}

// ---------------------------------------------------------------------------
// Test images.

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 255, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const YELLOW: [u8; 3] = [255, 255, 0];

/// Width × height RGB with a differently coloured quadrant at each corner:
/// top-left red, top-right green, bottom-left blue, bottom-right yellow.
fn quadrants(width: usize, height: usize) -> Vec<u8> {
    let mut px = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let colour = match (x < width / 2, y < height / 2) {
                (true, true) => RED,
                (false, true) => GREEN,
                (true, false) => BLUE,
                (false, false) => YELLOW,
            };
            px.extend_from_slice(&colour);
        }
    }
    px
}

fn jpeg_from(pixels: &[u8], width: usize, height: usize, format: PixelFormat, subsamp: Subsamp) -> Vec<u8> {
    let image = turbojpeg::Image {
        pixels,
        width,
        pitch: width * format.size(),
        height,
        format,
    };
    turbojpeg::compress(image, 95, subsamp)
        .expect("test JPEG encodes")
        .to_vec()
}

fn quadrant_jpeg(width: usize, height: usize) -> Vec<u8> {
    jpeg_from(
        &quadrants(width, height),
        width,
        height,
        PixelFormat::RGB,
        Subsamp::None,
    )
}

fn png_from(image: DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .expect("test PNG encodes");
    out
}

fn quadrant_png(width: u32, height: u32) -> Vec<u8> {
    let px = quadrants(width as usize, height as usize);
    let buf = ImageBuffer::<Rgb<u8>, _>::from_raw(width, height, px).expect("buffer size");
    png_from(DynamicImage::ImageRgb8(buf))
}

/// An EXIF (TIFF) block holding `fields`.
fn exif_block(fields: &[Field]) -> Vec<u8> {
    let mut writer = Writer::new();
    for field in fields {
        writer.push_field(field);
    }
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, false).expect("EXIF encodes");
    out.into_inner()
}

fn orientation_field(value: u16) -> Field {
    Field {
        tag: Tag::Orientation,
        ifd_num: In::PRIMARY,
        value: Value::Short(vec![value]),
    }
}

/// Inserts an APP1 Exif segment right after SOI, where cameras put it.
fn jpeg_with_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    let len = u16::try_from(2 + 6 + tiff.len()).expect("EXIF fits a segment");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    chunk
}

/// Inserts an eXIf chunk right after IHDR (8-byte signature + 25-byte IHDR).
fn png_with_exif(png: &[u8], tiff: &[u8]) -> Vec<u8> {
    let mut out = png[..33].to_vec();
    out.extend_from_slice(&png_chunk(b"eXIf", tiff));
    out.extend_from_slice(&png[33..]);
    out
}

fn decode_rgb(jpeg: &[u8]) -> turbojpeg::Image<Vec<u8>> {
    turbojpeg::decompress(jpeg, PixelFormat::RGB).expect("output is a valid JPEG")
}

fn pixel(image: &turbojpeg::Image<Vec<u8>>, x: usize, y: usize) -> [u8; 3] {
    let i = y * image.pitch + x * 3;
    [image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]]
}

fn name(colour: [u8; 3]) -> &'static str {
    let candidates = [(RED, "red"), (GREEN, "green"), (BLUE, "blue"), (YELLOW, "yellow")];
    let distance = |c: [u8; 3]| -> i32 {
        (0..3)
            .map(|i| (i32::from(colour[i]) - i32::from(c[i])).pow(2))
            .sum()
    };
    candidates
        .iter()
        .min_by_key(|(c, _)| distance(*c))
        .map(|(_, n)| *n)
        .unwrap_or("none")
}

/// Colour names at the four corners (inset), in order TL, TR, BL, BR.
fn corners(jpeg: &[u8]) -> (usize, usize, [&'static str; 4]) {
    let image = decode_rgb(jpeg);
    let (w, h) = (image.width, image.height);
    let inset = (w.min(h) / 8).max(2);
    let names = [
        name(pixel(&image, inset, inset)),
        name(pixel(&image, w - 1 - inset, inset)),
        name(pixel(&image, inset, h - 1 - inset)),
        name(pixel(&image, w - 1 - inset, h - 1 - inset)),
    ];
    (w, h, names)
}

/// JPEG markers before the scan data.
fn markers(jpeg: &[u8]) -> Vec<u8> {
    let mut found = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() {
        assert_eq!(jpeg[i], 0xFF, "marker expected at {i}");
        let marker = jpeg[i + 1];
        found.push(marker);
        if marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        i += 2 + len;
    }
    found
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// What a viewer must show for each EXIF orientation, given a stored image
/// with red, green, blue, yellow at TL, TR, BL, BR (EXIF 2.3, table of Orientation).
fn expected_corners(orientation: u16) -> (bool, [&'static str; 4]) {
    match orientation {
        1 => (false, ["red", "green", "blue", "yellow"]),
        2 => (false, ["green", "red", "yellow", "blue"]), // mirrored left-right
        3 => (false, ["yellow", "blue", "green", "red"]), // rotated 180°
        4 => (false, ["blue", "yellow", "red", "green"]), // mirrored top-bottom
        5 => (true, ["red", "blue", "green", "yellow"]),  // transposed
        6 => (true, ["blue", "red", "yellow", "green"]),  // rotated 90° clockwise
        7 => (true, ["yellow", "green", "blue", "red"]),  // transversed
        8 => (true, ["green", "yellow", "red", "blue"]),  // rotated 90° counter-clockwise
        _ => unreachable!("EXIF orientation is 1..=8"),
    }
}

fn assert_upright(
    stored_w: usize,
    stored_h: usize,
    photo: &kiemtra_core::photo::NormalisedPhoto,
    orientation: u16,
    what: &str,
) {
    let (swapped, expected) = expected_corners(orientation);
    assert_eq!(photo.orientation, orientation as u8, "{what}");
    assert_eq!(
        (photo.original_width, photo.original_height),
        (stored_w as u32, stored_h as u32),
        "{what}"
    );
    for (label, encoded) in [("image", &photo.image), ("thumbnail", &photo.thumbnail)] {
        let (w, h, names) = corners(&encoded.bytes);
        assert_eq!(
            (w as u32, h as u32),
            (encoded.width, encoded.height),
            "{what} {label}"
        );
        assert_eq!(w > h, !swapped, "{what} {label}: {w}x{h} has the wrong aspect");
        assert_eq!(names, expected, "{what} {label} orientation {orientation}");
    }
}

// ---------------------------------------------------------------------------
// Orientation.

#[test]
fn every_exif_orientation_turns_a_jpeg_upright() {
    let jpeg = quadrant_jpeg(64, 48);
    for orientation in 1..=8 {
        let tagged = jpeg_with_exif(&jpeg, &exif_block(&[orientation_field(orientation)]));
        let photo = normalise(&tagged, &PhotoConfig::default()).expect("normalises");
        assert_eq!(photo.source_format, SourceFormat::Jpeg);
        assert_upright(64, 48, &photo, orientation, "JPEG");
    }
}

#[test]
fn every_exif_orientation_turns_a_png_upright() {
    let png = quadrant_png(64, 48);
    for orientation in 1..=8 {
        let tagged = png_with_exif(&png, &exif_block(&[orientation_field(orientation)]));
        let photo = normalise(&tagged, &PhotoConfig::default()).expect("normalises");
        assert_eq!(photo.source_format, SourceFormat::Png);
        assert_upright(64, 48, &photo, orientation, "PNG");
    }
}

#[test]
fn orientation_is_applied_to_shrunk_photos_too() {
    let jpeg = quadrant_jpeg(1800, 900);
    for orientation in [3, 6, 8] {
        let tagged = jpeg_with_exif(&jpeg, &exif_block(&[orientation_field(orientation)]));
        let photo = normalise(&tagged, &PhotoConfig::default()).expect("normalises");
        assert_upright(1800, 900, &photo, orientation, "shrunk JPEG");
        let expected = if orientation == 3 {
            (1600, 800)
        } else {
            (800, 1600)
        };
        assert_eq!((photo.image.width, photo.image.height), expected);
        assert_eq!(photo.thumbnail.width.max(photo.thumbnail.height), 320);
    }
}

#[test]
fn no_or_nonsense_orientation_leaves_the_image_as_stored() {
    let jpeg = quadrant_jpeg(64, 48);
    let photo = normalise(&jpeg, &PhotoConfig::default()).expect("normalises");
    assert_eq!(photo.orientation, 1);
    assert_eq!(corners(&photo.image.bytes).2, expected_corners(1).1);

    let tagged = jpeg_with_exif(&jpeg, &exif_block(&[orientation_field(9)]));
    let photo = normalise(&tagged, &PhotoConfig::default()).expect("normalises");
    assert_eq!(photo.orientation, 1);
}

// ---------------------------------------------------------------------------
// Metadata.

fn dms(degrees: u32, minutes: u32, seconds_x100: u32) -> Value {
    Value::Rational(vec![
        Rational::from((degrees, 1)),
        Rational::from((minutes, 1)),
        Rational::from((seconds_x100, 100)),
    ])
}

fn ascii(text: &str) -> Value {
    Value::Ascii(vec![text.as_bytes().to_vec()])
}

fn field(tag: Tag, value: Value) -> Field {
    Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    }
}

#[test]
fn reads_capture_time_and_gps_position() {
    let tiff = exif_block(&[
        orientation_field(1),
        field(Tag::DateTime, ascii("2024:06:16 10:00:00")),
        field(Tag::DateTimeOriginal, ascii("2024:06:15 09:15:30")),
        // Hai Phong: 20°51'39.60" N, 106°40'58.80" E
        field(Tag::GPSLatitudeRef, ascii("N")),
        field(Tag::GPSLatitude, dms(20, 51, 3960)),
        field(Tag::GPSLongitudeRef, ascii("E")),
        field(Tag::GPSLongitude, dms(106, 40, 5880)),
    ]);
    let photo = normalise(
        &jpeg_with_exif(&quadrant_jpeg(64, 48), &tiff),
        &PhotoConfig::default(),
    )
    .expect("normalises");
    let expected = chrono::NaiveDate::from_ymd_opt(2024, 6, 15).and_then(|d| d.and_hms_opt(9, 15, 30));
    assert_eq!(photo.captured_at, expected);
    let position = photo.position.expect("GPS read");
    assert_eq!(position.lat_e7, 208_610_000);
    assert_eq!(position.lon_e7, 1_066_830_000);
}

#[test]
fn southern_and_western_hemispheres_are_negative_and_datetime_is_a_fallback() {
    let tiff = exif_block(&[
        field(Tag::DateTime, ascii("2023:01:02 03:04:05")),
        field(Tag::GPSLatitudeRef, ascii("S")),
        field(Tag::GPSLatitude, dms(33, 52, 0)),
        field(Tag::GPSLongitudeRef, ascii("W")),
        field(Tag::GPSLongitude, dms(70, 30, 0)),
    ]);
    let photo = normalise(
        &png_with_exif(&quadrant_png(32, 32), &tiff),
        &PhotoConfig::default(),
    )
    .expect("normalises");
    assert_eq!(
        photo.captured_at,
        chrono::NaiveDate::from_ymd_opt(2023, 1, 2).and_then(|d| d.and_hms_opt(3, 4, 5))
    );
    let position = photo.position.expect("GPS read");
    assert!(position.lat_e7 < 0 && position.lon_e7 < 0, "{position:?}");
}

#[test]
fn impossible_gps_and_dates_are_left_out_not_guessed() {
    let tiff = exif_block(&[
        field(Tag::DateTimeOriginal, ascii("0000:00:00 00:00:00")),
        field(Tag::GPSLatitudeRef, ascii("N")),
        field(Tag::GPSLatitude, dms(95, 0, 0)),
        field(Tag::GPSLongitudeRef, ascii("E")),
        field(Tag::GPSLongitude, Value::Rational(vec![Rational::from((1, 0))])),
    ]);
    let photo = normalise(
        &jpeg_with_exif(&quadrant_jpeg(16, 16), &tiff),
        &PhotoConfig::default(),
    )
    .expect("normalises");
    assert_eq!(photo.captured_at, None);
    assert_eq!(photo.position, None);
}

#[test]
fn outputs_carry_no_metadata_are_420_and_hashes_match() {
    let tiff = exif_block(&[
        orientation_field(6),
        field(Tag::Make, ascii("PhoneMaker")),
        field(Tag::GPSLatitudeRef, ascii("N")),
        field(Tag::GPSLatitude, dms(20, 51, 0)),
        field(Tag::GPSLongitudeRef, ascii("E")),
        field(Tag::GPSLongitude, dms(106, 40, 0)),
    ]);
    let original = jpeg_with_exif(&quadrant_jpeg(900, 600), &tiff);
    let photo = normalise(&original, &PhotoConfig::default()).expect("normalises");
    for encoded in [&photo.image, &photo.thumbnail] {
        let found = markers(&encoded.bytes);
        assert!(found.contains(&0xE0), "JFIF APP0 present: {found:x?}");
        assert!(
            found.iter().all(|&m| !(0xE1..=0xEF).contains(&m) && m != 0xFE),
            "no APP1..APP15 or comment: {found:x?}"
        );
        assert!(!encoded.bytes.windows(10).any(|w| w == b"PhoneMaker"));
        let header = turbojpeg::read_header(&encoded.bytes).expect("valid JPEG");
        assert_eq!(header.subsamp, Subsamp::Sub2x2);
        assert_eq!(encoded.sha256, sha256(&encoded.bytes));
    }
    assert_eq!(photo.original_sha256, sha256(&original));
    assert_eq!(photo.original_size, original.len() as u64);
    assert_eq!(
        normalise(&original, &PhotoConfig::default()).as_ref(),
        Ok(&photo),
        "deterministic"
    );
}

// ---------------------------------------------------------------------------
// Sizes.

#[test]
fn long_side_is_bounded_and_small_photos_are_never_enlarged() {
    let config = PhotoConfig::default();
    for (w, h) in [
        (2000, 1000),
        (1000, 1700),
        (1601, 9),
        (7, 1650),
        (1600, 1200),
        (500, 300),
        (320, 320),
        (321, 100),
        (1, 1),
    ] {
        let photo = normalise(&quadrant_jpeg(w, h), &config).expect("normalises");
        let long = w.max(h) as u32;
        for (encoded, limit) in [
            (&photo.image, config.max_long_side),
            (&photo.thumbnail, config.thumb_long_side),
        ] {
            let out_long = encoded.width.max(encoded.height);
            assert_eq!(out_long, long.min(limit), "{w}x{h} within {limit}");
            // Aspect ratio kept to the pixel.
            let expected_short = (w.min(h) as f64 * f64::from(out_long) / f64::from(long))
                .round()
                .max(1.0);
            assert!(
                (f64::from(encoded.width.min(encoded.height)) - expected_short).abs() <= 1.0,
                "{w}x{h}"
            );
            assert_eq!(encoded.width > encoded.height, w > h, "{w}x{h} orientation kept");
        }
    }
}

#[test]
fn custom_limits_are_honoured() {
    let config = PhotoConfig {
        max_long_side: 100,
        thumb_long_side: 20,
        jpeg_quality: 50,
        ..PhotoConfig::default()
    };
    let photo = normalise(&quadrant_png(300, 200), &config).expect("normalises");
    assert_eq!((photo.image.width, photo.image.height), (100, 67));
    assert_eq!((photo.thumbnail.width, photo.thumbnail.height), (20, 13));
    assert_eq!(corners(&photo.image.bytes).2, expected_corners(1).1);
}

// ---------------------------------------------------------------------------
// Formats phones (and people) produce.

#[test]
fn cmyk_jpeg_keeps_its_colours() {
    // Adobe CMYK JPEGs store inverted ink (255 = no ink).
    let rgb = quadrants(64, 48);
    let cmyk: Vec<u8> = rgb
        .chunks_exact(3)
        .flat_map(|p| {
            let k = p.iter().copied().max().unwrap_or(0);
            let ink = |c: u8| {
                if k == 0 {
                    0
                } else {
                    ((u32::from(c) * 255) / u32::from(k)) as u8
                }
            };
            [ink(p[0]), ink(p[1]), ink(p[2]), k]
        })
        .collect();
    let jpeg = jpeg_from(&cmyk, 64, 48, PixelFormat::CMYK, Subsamp::None);
    let header = turbojpeg::read_header(&jpeg).expect("CMYK JPEG");
    assert!(matches!(
        header.colorspace,
        turbojpeg::Colorspace::YCCK | turbojpeg::Colorspace::CMYK
    ));
    let photo = normalise(&jpeg, &PhotoConfig::default()).expect("normalises");
    assert_eq!(corners(&photo.image.bytes).2, expected_corners(1).1);
}

fn assert_grey(jpeg: &[u8], level: u8) {
    let image = decode_rgb(jpeg);
    let [r, g, b] = pixel(&image, image.width / 2, image.height / 2);
    for c in [r, g, b] {
        assert!(
            (i32::from(c) - i32::from(level)).abs() <= 3,
            "{r},{g},{b} vs {level}"
        );
    }
}

#[test]
fn grayscale_jpeg_and_png() {
    let grey = vec![100u8; 40 * 30];
    let jpeg = jpeg_from(&grey, 40, 30, PixelFormat::GRAY, Subsamp::Gray);
    let photo = normalise(&jpeg, &PhotoConfig::default()).expect("grey JPEG");
    assert_eq!((photo.image.width, photo.image.height), (40, 30));
    assert_grey(&photo.image.bytes, 100);

    let buf = ImageBuffer::<Luma<u8>, _>::from_raw(40, 30, grey).expect("buffer size");
    let photo =
        normalise(&png_from(DynamicImage::ImageLuma8(buf)), &PhotoConfig::default()).expect("grey PNG");
    assert_grey(&photo.image.bytes, 100);
}

#[test]
fn sixteen_bit_png() {
    let px: Vec<u16> = quadrants(64, 48)
        .into_iter()
        .map(|c| u16::from(c) * 257)
        .collect();
    let buf = ImageBuffer::<Rgb<u16>, _>::from_raw(64, 48, px).expect("buffer size");
    let png = png_from(DynamicImage::ImageRgb16(buf));
    let photo = normalise(&png, &PhotoConfig::default()).expect("16-bit PNG");
    assert_eq!(corners(&photo.image.bytes).2, expected_corners(1).1);
}

#[test]
fn transparency_is_laid_over_white() {
    // Left half opaque red, right half fully transparent (colour underneath: black).
    let mut buf = ImageBuffer::<Rgba<u8>, Vec<u8>>::new(64, 32);
    for (x, _, p) in buf.enumerate_pixels_mut() {
        *p = if x < 32 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 0, 0])
        };
    }
    let photo =
        normalise(&png_from(DynamicImage::ImageRgba8(buf)), &PhotoConfig::default()).expect("RGBA PNG");
    let image = decode_rgb(&photo.image.bytes);
    let left = pixel(&image, 8, 16);
    let right = pixel(&image, 56, 16);
    assert!(left[0] > 240 && left[1] < 20 && left[2] < 20, "{left:?}");
    assert!(right.iter().all(|&c| c > 245), "{right:?}");
}

#[test]
fn lossless_webp() {
    let px = quadrants(64, 48);
    let buf = ImageBuffer::<Rgb<u8>, _>::from_raw(64, 48, px).expect("buffer size");
    let mut webp = Vec::new();
    DynamicImage::ImageRgb8(buf)
        .write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP)
        .expect("test WebP encodes");
    let photo = normalise(&webp, &PhotoConfig::default()).expect("WebP");
    assert_eq!(photo.source_format, SourceFormat::Webp);
    assert_eq!(corners(&photo.image.bytes).2, expected_corners(1).1);
}

#[test]
fn source_format_serialises_by_name() {
    assert_eq!(
        serde_json::to_string(&SourceFormat::Jpeg).ok().as_deref(),
        Some("\"Jpeg\"")
    );
}

// ---------------------------------------------------------------------------
// Bad input.

#[test]
fn empty_file() {
    assert_eq!(normalise(&[], &PhotoConfig::default()), Err(PhotoError::Empty));
}

#[test]
fn file_over_the_size_limit_is_refused_unread() {
    let config = PhotoConfig {
        max_input_bytes: 1000,
        ..PhotoConfig::default()
    };
    let jpeg = quadrant_jpeg(200, 200);
    assert_eq!(
        normalise(&jpeg, &config),
        Err(PhotoError::TooLargeInput {
            size: jpeg.len(),
            limit: 1000
        })
    );
}

#[test]
fn text_file_named_jpg_is_not_an_image() {
    let text = b"Bien ban kiem tra an toan lao dong\nNgay 15/06/2024\n";
    assert_eq!(
        normalise(text, &PhotoConfig::default()),
        Err(PhotoError::UnsupportedFormat)
    );
    // GIF: a real image, but not one the pipeline takes.
    assert_eq!(
        normalise(b"GIF89a\x01\x00\x01\x00", &PhotoConfig::default()),
        Err(PhotoError::UnsupportedFormat)
    );
}

#[test]
fn truncated_jpeg() {
    let jpeg = quadrant_jpeg(256, 256);
    for cut in [jpeg.len() / 2, jpeg.len() - 10] {
        assert_eq!(
            normalise(&jpeg[..cut], &PhotoConfig::default()),
            Err(PhotoError::Truncated),
            "cut at {cut}"
        );
    }
    // Cut inside the header: only the signature is left.
    assert_eq!(
        normalise(&jpeg[..2], &PhotoConfig::default()),
        Err(PhotoError::Truncated)
    );
    let early = normalise(&jpeg[..40], &PhotoConfig::default());
    assert!(
        matches!(early, Err(PhotoError::Truncated | PhotoError::Corrupt(_))),
        "{early:?}"
    );
}

#[test]
fn truncated_png() {
    let png = quadrant_png(256, 256);
    let result = normalise(&png[..png.len() / 2], &PhotoConfig::default());
    assert!(
        matches!(result, Err(PhotoError::Truncated | PhotoError::Corrupt(_))),
        "{result:?}"
    );
    assert_eq!(
        normalise(&png[..20], &PhotoConfig::default()),
        Err(PhotoError::Truncated)
    );
}

#[test]
fn garbage_after_a_jpeg_signature_is_corrupt() {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let result = normalise(&bytes, &PhotoConfig::default());
    assert!(
        matches!(result, Err(PhotoError::Corrupt(_) | PhotoError::Truncated)),
        "{result:?}"
    );
}

#[test]
fn png_bomb_is_refused_from_its_header_without_allocating_pixels() {
    // A valid 1×1 PNG whose IHDR is then patched to claim 100,000 × 100,000.
    let mut png = quadrant_png(1, 1);
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let (result, peak) = peak_allocation(|| normalise(&png, &PhotoConfig::default()));
    assert_eq!(
        result,
        Err(PhotoError::TooManyPixels {
            width: 100_000,
            height: 100_000,
            limit: 50_000_000
        })
    );
    assert!(peak < 1 << 20, "allocated {peak} bytes");
}

#[test]
fn jpeg_bomb_is_refused_from_its_header_without_allocating_pixels() {
    // JPEG sides are 16-bit: 65,500 × 65,500 is the largest bomb the format can claim.
    let mut jpeg = quadrant_jpeg(8, 8);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline SOF0");
    jpeg[sof + 5..sof + 7].copy_from_slice(&65_500u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&65_500u16.to_be_bytes());
    let (result, peak) = peak_allocation(|| normalise(&jpeg, &PhotoConfig::default()));
    assert_eq!(
        result,
        Err(PhotoError::TooManyPixels {
            width: 65_500,
            height: 65_500,
            limit: 50_000_000
        })
    );
    assert!(peak < 1 << 20, "allocated {peak} bytes");
}

#[test]
fn pixel_limit_is_configurable() {
    let config = PhotoConfig {
        max_pixels: 100 * 100,
        ..PhotoConfig::default()
    };
    assert!(normalise(&quadrant_jpeg(100, 100), &config).is_ok());
    assert_eq!(
        normalise(&quadrant_jpeg(101, 100), &config),
        Err(PhotoError::TooManyPixels {
            width: 101,
            height: 100,
            limit: 10_000
        })
    );
    assert!(matches!(
        normalise(&quadrant_png(100, 101), &config),
        Err(PhotoError::TooManyPixels { .. })
    ));
}

#[test]
fn nonsense_settings_are_refused() {
    let jpeg = quadrant_jpeg(8, 8);
    for config in [
        PhotoConfig {
            jpeg_quality: 0,
            ..PhotoConfig::default()
        },
        PhotoConfig {
            jpeg_quality: 101,
            ..PhotoConfig::default()
        },
        PhotoConfig {
            max_long_side: 0,
            ..PhotoConfig::default()
        },
        PhotoConfig {
            thumb_long_side: 0,
            ..PhotoConfig::default()
        },
    ] {
        assert!(
            matches!(normalise(&jpeg, &config), Err(PhotoError::InvalidConfig(_))),
            "{config:?}"
        );
    }
}

#[test]
fn error_messages_say_what_to_do() {
    let message = PhotoError::TooManyPixels {
        width: 100_000,
        height: 100_000,
        limit: 50_000_000,
    }
    .to_string();
    assert!(message.contains("100000 × 100000"), "{message}");
    assert!(PhotoError::UnsupportedFormat
        .to_string()
        .contains("JPEG, PNG or WebP"));
}

// ---------------------------------------------------------------------------
// EXIF as real phones and messaging apps write it: small defects that a
// strict reader refuses wholesale. Blocks are laid out by hand so that each
// defect is exactly one change to an otherwise valid block.

/// The defects phones and apps write, one at a time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Damage {
    None,
    /// IFD0's first entry (Make) points at an odd offset that runs past the
    /// end of the block: an editor moved the block by one byte.
    OddOffset,
    /// IFD0's next-IFD link (the thumbnail IFD) points into the middle of a
    /// value (the capture time's text), which then reads as an absurd IFD.
    ValueOverlapsIfd,
    /// The maker note, vendor bytes that never parse as anything, claims
    /// more bytes than the block holds.
    MakerNote,
    /// The Exif IFD links to a "next" IFD, which child IFDs may not have.
    ChildIfdLinked,
    /// The block ends inside IFD0, after its Orientation entry.
    Truncated,
}

/// Byte order of a hand-built TIFF block.
#[derive(Debug, Clone, Copy)]
enum Order {
    /// "II": Android phones.
    Little,
    /// "MM": iPhones.
    Big,
}

struct Tiff {
    order: Order,
    bytes: Vec<u8>,
}

impl Tiff {
    fn u16(&mut self, v: u16) {
        let b = match self.order {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        };
        self.bytes.extend_from_slice(&b);
    }
    fn u32(&mut self, v: u32) {
        let b = match self.order {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        };
        self.bytes.extend_from_slice(&b);
    }
    /// One IFD entry; `value` is the offset, or the inline value left-aligned.
    fn entry(&mut self, tag: u16, kind: u16, count: u32, value: u32) {
        self.u16(tag);
        self.u16(kind);
        self.u32(count);
        self.u32(value);
    }
    /// An inline SHORT: left-aligned in the 4-byte value field, in byte order.
    fn short_entry(&mut self, tag: u16, value: u16) {
        self.u16(tag);
        self.u16(3);
        self.u32(1);
        self.u16(value);
        self.u16(0);
    }
    /// Inline ASCII of up to 4 bytes (the same in either byte order).
    fn ascii_entry(&mut self, tag: u16, text: &[u8; 2]) {
        self.u16(tag);
        self.u16(2);
        self.u32(2);
        self.bytes.extend_from_slice(text);
        self.bytes.extend_from_slice(&[0, 0]);
    }
    fn rationals(&mut self, parts: [(u32, u32); 3]) {
        for (n, d) in parts {
            self.u32(n);
            self.u32(d);
        }
    }
    fn at(&self, offset: usize) {
        assert_eq!(self.bytes.len(), offset, "layout of the hand-built EXIF block");
    }
}

/// Orientation 6 (rotate 90° clockwise to view), Make, DateTimeOriginal
/// 2024:06:15 09:15:30 and a maker note in the Exif IFD, Hai Phong's
/// position in the GPS IFD, a thumbnail IFD1; with `damage` applied.
fn phone_exif(order: Order, damage: Damage) -> Vec<u8> {
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    const UNDEFINED: u16 = 7;
    // Offsets of the layout below.
    const IFD0: u32 = 8;
    const MAKE: u32 = 62;
    const EXIF_IFD: u32 = 78;
    const DATE: u32 = 108;
    const MAKER_NOTE: u32 = 128;
    const GPS_IFD: u32 = 160;
    const LAT: u32 = 214;
    const LON: u32 = 238;
    const IFD1: u32 = 262;
    const END: u32 = 280;

    let mut t = Tiff {
        order,
        bytes: Vec::new(),
    };
    match order {
        Order::Little => t.bytes.extend_from_slice(b"II"),
        Order::Big => t.bytes.extend_from_slice(b"MM"),
    }
    t.u16(42);
    t.u32(IFD0);
    // IFD0: Make, Orientation, Exif pointer, GPS pointer.
    t.u16(4);
    let make_at = if damage == Damage::OddOffset {
        END - 1
    } else {
        MAKE
    };
    t.entry(0x010F, ASCII, 16, make_at);
    t.short_entry(0x0112, 6);
    t.entry(0x8769, LONG, 1, EXIF_IFD);
    t.entry(0x8825, LONG, 1, GPS_IFD);
    t.u32(if damage == Damage::ValueOverlapsIfd {
        DATE
    } else {
        IFD1
    });
    t.at(MAKE as usize);
    t.bytes.extend_from_slice(b"Kiemtra Phone\0\0\0");
    t.at(EXIF_IFD as usize);
    // Exif IFD: DateTimeOriginal, MakerNote.
    t.u16(2);
    t.entry(0x9003, ASCII, 20, DATE);
    let maker_note_len = if damage == Damage::MakerNote { 4096 } else { 32 };
    t.entry(0x927C, UNDEFINED, maker_note_len, MAKER_NOTE);
    t.u32(if damage == Damage::ChildIfdLinked { IFD1 } else { 0 });
    t.at(DATE as usize);
    t.bytes.extend_from_slice(b"2024:06:15 09:15:30\0");
    t.at(MAKER_NOTE as usize);
    // A vendor header and then bytes that parse as nothing.
    t.bytes
        .extend_from_slice(b"Nikon\0\x02\x10\0\0MM\0*\xFF\xFF\xFF\xF0");
    t.bytes.extend_from_slice(&[0xEE; 14]);
    t.at(GPS_IFD as usize);
    // GPS IFD: 20°51'39.60" N, 106°40'58.80" E.
    t.u16(4);
    t.ascii_entry(0x0001, b"N\0");
    t.entry(0x0002, RATIONAL, 3, LAT);
    t.ascii_entry(0x0003, b"E\0");
    t.entry(0x0004, RATIONAL, 3, LON);
    t.u32(0);
    t.at(LAT as usize);
    t.rationals([(20, 1), (51, 1), (3960, 100)]);
    t.at(LON as usize);
    t.rationals([(106, 1), (40, 1), (5880, 100)]);
    t.at(IFD1 as usize);
    // IFD1: Compression = 6 (a JPEG thumbnail would follow).
    t.u16(1);
    t.short_entry(0x0103, 6);
    t.u32(0);
    t.at(END as usize);
    if damage == Damage::Truncated {
        // Header, count, Make and Orientation: 8 + 2 + 2 × 12.
        t.bytes.truncate(34);
    }
    t.bytes
}

const DAMAGES: [Damage; 6] = [
    Damage::None,
    Damage::OddOffset,
    Damage::ValueOverlapsIfd,
    Damage::MakerNote,
    Damage::ChildIfdLinked,
    Damage::Truncated,
];

/// Capture time and GPS position, where the damage left them intact.
fn assert_metadata(photo: &kiemtra_core::photo::NormalisedPhoto, damage: Damage, what: &str) {
    if damage == Damage::Truncated {
        // Both sat beyond the end of the block: gone, and not guessed.
        assert_eq!(photo.captured_at, None, "{what}");
        assert_eq!(photo.position, None, "{what}");
        return;
    }
    let expected = chrono::NaiveDate::from_ymd_opt(2024, 6, 15).and_then(|d| d.and_hms_opt(9, 15, 30));
    assert_eq!(photo.captured_at, expected, "{what}: capture time");
    let position = photo
        .position
        .unwrap_or_else(|| panic!("{what}: GPS position lost"));
    assert_eq!(
        (position.lat_e7, position.lon_e7),
        (208_610_000, 1_066_830_000),
        "{what}"
    );
}

#[test]
fn damaged_exif_from_phones_keeps_a_portrait_upright_with_its_time_and_place() {
    // Stored landscape, shot portrait: orientation 6 turns it upright.
    let jpeg = quadrant_jpeg(64, 32);
    for order in [Order::Little, Order::Big] {
        for damage in DAMAGES {
            let what = format!("{order:?}-endian EXIF, {damage:?}");
            let tagged = jpeg_with_exif(&jpeg, &phone_exif(order, damage));
            let photo = normalise(&tagged, &PhotoConfig::default())
                .unwrap_or_else(|e| panic!("{what}: the photo is refused: {e}"));
            assert_upright(64, 32, &photo, 6, &what);
            assert_eq!((photo.image.width, photo.image.height), (32, 64), "{what}");
            assert_metadata(&photo, damage, &what);
        }
    }
}

#[test]
fn damaged_exif_in_a_png_is_read_as_leniently() {
    let png = quadrant_png(64, 32);
    for order in [Order::Little, Order::Big] {
        for damage in DAMAGES {
            let what = format!("PNG, {order:?}-endian EXIF, {damage:?}");
            let tagged = png_with_exif(&png, &phone_exif(order, damage));
            let photo = normalise(&tagged, &PhotoConfig::default())
                .unwrap_or_else(|e| panic!("{what}: the photo is refused: {e}"));
            assert_upright(64, 32, &photo, 6, &what);
            assert_metadata(&photo, damage, &what);
        }
    }
}

#[test]
fn the_hand_built_blocks_are_damaged_as_described() {
    // Guards the tests above: the undamaged block is valid for a strict
    // reader and every damaged one is refused by it, so the tests above
    // really exercise the lenient reading.
    for order in [Order::Little, Order::Big] {
        for damage in DAMAGES {
            let strict = exif::Reader::new().read_raw(phone_exif(order, damage));
            let error = strict.as_ref().err().map(ToString::to_string);
            assert_eq!(
                strict.is_ok(),
                damage == Damage::None,
                "{order:?} {damage:?}: {error:?}"
            );
        }
    }
}
