//! Photos in the store: kept once by content, recorded as operations,
//! queued for upload; a bad file or a closed inspection changes nothing.

mod common;

use common::*;
use image::{ImageBuffer, ImageFormat, Rgb};
use kiemtra_core::error::{Error, LifecycleError};
use kiemtra_core::photo::PhotoError;
use kiemtra_core::store::Store;
use sha2::{Digest, Sha256};

fn camera_png(width: u32, height: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn files(store: &Store) -> usize {
    std::fs::read_dir(store.path().join("photos")).unwrap().count()
}

#[test]
fn a_photo_is_normalised_recorded_queued_and_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = started_inspection(&store);
    let bytes = camera_png(2400, 1800);
    let photo = store
        .add_photo(id, Some("D4"), &bytes, Some("Máy dập không có che chắn"))
        .unwrap();
    assert_eq!((photo.image.width, photo.image.height), (1600, 1200));
    assert_eq!((photo.thumbnail.width, photo.thumbnail.height), (320, 240));
    assert_eq!(photo.original_sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(photo.original_size, bytes.len() as u64);
    // The stored blob is exactly what its hash says.
    let blob = store.blob(&photo.image.sha256).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&blob)), photo.image.sha256);
    assert_eq!(blob.len() as u64, photo.image.size);
    assert!(store.upload_queue().unwrap().contains(&photo.thumbnail.sha256));
    let ops = store.pending_operations().unwrap();
    assert_eq!(ops.last().unwrap().payload.kind(), "add_photo");

    // The same photo again: one blob, one photo.
    let again = store
        .add_photo(id, Some("D4"), &bytes, Some("Máy dập không có che chắn"))
        .unwrap();
    assert_eq!(again.image.sha256, photo.image.sha256);
    assert_eq!(files(&store), 2);
    assert_eq!(store.photos(id).unwrap().len(), 1);
    // The same photo on another item is another piece of evidence, same blobs.
    store.add_photo(id, Some("D5"), &bytes, None).unwrap();
    assert_eq!(store.photos(id).unwrap().len(), 2);
    assert_eq!(files(&store), 2);

    // After reopening, everything is there.
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.photos(id).unwrap().len(), 2);
    assert_eq!(store.upload_queue().unwrap().len(), 2);
}

#[test]
fn bad_photos_and_closed_inspections_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = started_inspection(&store);
    let ops_before = store.operations().unwrap().len();

    assert!(matches!(
        store.add_photo(id, None, b"", None),
        Err(Error::Photo(PhotoError::Empty))
    ));
    assert!(matches!(
        store.add_photo(id, None, b"this is a text file named photo.jpg", None),
        Err(Error::Photo(PhotoError::UnsupportedFormat))
    ));
    let mut truncated = camera_png(64, 64);
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(
        store.add_photo(id, None, &truncated, None),
        Err(Error::Photo(_))
    ));
    assert!(matches!(
        store.add_photo(id, Some("Z9"), &camera_png(64, 64), None),
        Err(Error::Answer(_))
    ));
    assert_eq!(store.operations().unwrap().len(), ops_before);
    assert_eq!(files(&store), 0);
    assert!(store.upload_queue().unwrap().is_empty());

    answer_all(&store, id, &[], &[]);
    store.close_findings(id).unwrap();
    let ops_before = store.operations().unwrap().len();
    let err = store.add_photo(id, None, &camera_png(64, 64), None).unwrap_err();
    assert!(
        matches!(err, Error::Lifecycle(LifecycleError::NotAllowed { .. })),
        "{err}"
    );
    assert_eq!(store.operations().unwrap().len(), ops_before);
    assert_eq!(files(&store), 0);
}
