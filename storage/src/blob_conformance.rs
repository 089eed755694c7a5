//! The suite every [`BlobStore`] must pass (the folder store here, the S3
//! store in `kiemtra-blobs-s3`), the way [`crate::conformance`] is for
//! [`crate::Storage`]: each check is a function over a [`BlobHarness`], and
//! `kiemtra_storage::blob_store_conformance!(its_harness())` runs them all.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{BlobError, BlobStore};

/// Opens the blob store under test.
pub trait BlobHarness {
    /// Opens the harness's store: the same one each time (callers may drop
    /// the previous handle first, as a restarted server would).
    fn open(&self) -> Arc<dyn BlobStore>;
}

/// Expands to one `#[test]` per check, for the harness expression given.
#[macro_export]
macro_rules! blob_store_conformance {
    ($harness:expr) => {
        $crate::blob_store_conformance!(@tests $harness;
            chunks_make_a_blob_that_reads_back,
            an_upload_resumes_on_a_reopened_store,
            a_wrong_offset_is_refused_with_the_offset_held,
            a_hash_mismatch_discards_the_upload,
            a_complete_blob_takes_no_more_bytes,
            malformed_names_and_chunks_past_the_total_are_invalid,
            concurrent_uploads_of_different_blobs,
            a_blob_is_read_in_chunks_and_in_ranges,
            missing_names_what_is_not_complete,
        );
    };
    (@tests $harness:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::blob_conformance::$check(&$harness);
            }
        )*
    };
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `n` bytes that differ from one `seed` to another.
pub fn test_bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| ((i as u64).wrapping_mul(2_654_435_761) >> 7) as u8 ^ seed)
        .collect()
}

/// Sends `data[from..to]` as `hash` in `chunk`-byte chunks, checking the
/// progress after each; the last answer.
pub fn upload(
    store: &dyn BlobStore,
    hash: &str,
    data: &[u8],
    from: usize,
    to: usize,
    chunk: usize,
) -> (u64, bool) {
    let mut last = (from as u64, false);
    let mut at = from;
    while at < to {
        let end = (at + chunk).min(to);
        last = store
            .put_chunk(hash, at as u64, data.len() as u64, &data[at..end])
            .expect("a chunk is taken");
        assert_eq!(last.0, end as u64, "progress after the chunk at {at}");
        at = end;
    }
    last
}

pub fn chunks_make_a_blob_that_reads_back(h: &dyn BlobHarness) {
    let store = h.open();
    let data = test_bytes(300_000, 1);
    let hash = sha256_hex(&data);
    assert_eq!(store.status(&hash).unwrap(), (0, false));
    assert_eq!(store.get(&hash).unwrap(), None);
    assert!(!store.exists(&hash).unwrap());
    assert_eq!(
        upload(&*store, &hash, &data, 0, data.len(), 64 * 1024),
        (300_000, true)
    );
    assert_eq!(store.status(&hash).unwrap(), (300_000, true));
    assert!(store.exists(&hash).unwrap());
    assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&data[..]));
    // The empty blob is a blob too: one empty chunk.
    let empty = sha256_hex(b"");
    assert_eq!(store.put_chunk(&empty, 0, 0, b"").unwrap(), (0, true));
    assert_eq!(store.get(&empty).unwrap(), Some(vec![]));
}

pub fn an_upload_resumes_on_a_reopened_store(h: &dyn BlobHarness) {
    let data = test_bytes(1_000_000, 2);
    let hash = sha256_hex(&data);
    {
        let first = h.open();
        assert_eq!(
            upload(&*first, &hash, &data, 0, 900_000, 100_000),
            (900_000, false)
        );
    }
    let second = h.open();
    assert_eq!(second.status(&hash).unwrap(), (900_000, false));
    assert_eq!(second.get(&hash).unwrap(), None);
    assert_eq!(
        upload(&*second, &hash, &data, 900_000, data.len(), 100_000),
        (1_000_000, true)
    );
    assert_eq!(second.get(&hash).unwrap().as_deref(), Some(&data[..]));
}

pub fn a_wrong_offset_is_refused_with_the_offset_held(h: &dyn BlobHarness) {
    let store = h.open();
    let data = test_bytes(50_000, 3);
    let hash = sha256_hex(&data);
    upload(&*store, &hash, &data, 0, 20_000, 10_000);
    for offset in [0usize, 10_000, 25_000] {
        match store.put_chunk(&hash, offset as u64, 50_000, &data[offset..offset + 5_000]) {
            Err(BlobError::Offset { received }) => assert_eq!(received, 20_000),
            other => panic!("offset {offset}: expected the offset refused, got {other:?}"),
        }
    }
    assert_eq!(store.status(&hash).unwrap(), (20_000, false));
    assert_eq!(
        upload(&*store, &hash, &data, 20_000, 50_000, 10_000),
        (50_000, true)
    );
    assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&data[..]));
}

pub fn a_hash_mismatch_discards_the_upload(h: &dyn BlobHarness) {
    let store = h.open();
    let data = test_bytes(30_000, 4);
    let wrong_name = sha256_hex(&test_bytes(30_000, 5));
    assert_eq!(
        upload(&*store, &wrong_name, &data, 0, 20_000, 10_000),
        (20_000, false)
    );
    let r = store.put_chunk(&wrong_name, 20_000, 30_000, &data[20_000..]);
    assert!(matches!(r, Err(BlobError::HashMismatch)), "{r:?}");
    // Nothing visible, nothing kept: the upload starts again from 0.
    assert_eq!(store.status(&wrong_name).unwrap(), (0, false));
    assert_eq!(store.get(&wrong_name).unwrap(), None);
    assert!(!store.exists(&wrong_name).unwrap());
}

pub fn a_complete_blob_takes_no_more_bytes(h: &dyn BlobHarness) {
    let store = h.open();
    let data = test_bytes(40_000, 6);
    let hash = sha256_hex(&data);
    upload(&*store, &hash, &data, 0, data.len(), 15_000);
    // Any offset, any bytes: the blob is already here, and unchanged.
    assert_eq!(
        store.put_chunk(&hash, 0, 40_000, &data[..10_000]).unwrap(),
        (40_000, true)
    );
    assert_eq!(
        store.put_chunk(&hash, 7, 40_000, b"other bytes").unwrap(),
        (40_000, true)
    );
    assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&data[..]));
}

pub fn malformed_names_and_chunks_past_the_total_are_invalid(h: &dyn BlobHarness) {
    let store = h.open();
    for name in [
        "",
        "NOT-A-HASH",
        &"A".repeat(64),
        &"a".repeat(63),
        "../../etc/passwd",
    ] {
        assert!(
            matches!(store.status(name), Err(BlobError::Invalid(_))),
            "{name:?}"
        );
        assert!(
            matches!(store.put_chunk(name, 0, 1, b"x"), Err(BlobError::Invalid(_))),
            "{name:?}"
        );
        assert!(matches!(store.get(name), Err(BlobError::Invalid(_))), "{name:?}");
    }
    let data = test_bytes(20_000, 7);
    let hash = sha256_hex(&data);
    upload(&*store, &hash, &data, 0, 10_000, 10_000);
    assert!(matches!(
        store.put_chunk(&hash, 10_000, 15_000, &data[10_000..]),
        Err(BlobError::Invalid(_))
    ));
    assert_eq!(store.status(&hash).unwrap(), (10_000, false));
}

pub fn concurrent_uploads_of_different_blobs(h: &dyn BlobHarness) {
    let store = h.open();
    let blobs: Vec<Vec<u8>> = (0..6)
        .map(|i| test_bytes(200_000 + i * 1_111, 10 + i as u8))
        .collect();
    std::thread::scope(|s| {
        for data in &blobs {
            let store = store.clone();
            s.spawn(move || {
                let hash = sha256_hex(data);
                assert_eq!(
                    upload(&*store, &hash, data, 0, data.len(), 32 * 1024),
                    (data.len() as u64, true)
                );
            });
        }
    });
    for data in &blobs {
        assert_eq!(store.get(&sha256_hex(data)).unwrap().as_deref(), Some(&data[..]));
    }
}

/// The chunks of `reader`, checked against its range; their sizes.
fn drain(reader: crate::BlobReader) -> (Vec<u8>, Vec<usize>) {
    let (start, end) = (reader.start, reader.end);
    let mut bytes = Vec::new();
    let mut sizes = Vec::new();
    for chunk in reader.chunks {
        let chunk = chunk.expect("a chunk is read");
        sizes.push(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    assert_eq!(bytes.len() as u64, end - start, "the chunks hold the range");
    (bytes, sizes)
}

pub fn a_blob_is_read_in_chunks_and_in_ranges(h: &dyn BlobHarness) {
    let store = h.open();
    let data = test_bytes(1_500_000, 20);
    let hash = sha256_hex(&data);
    assert!(store.open(&hash, 0, None).unwrap().is_none());
    upload(&*store, &hash, &data, 0, 700_000, 350_000);
    // Half uploaded is not there to read.
    assert!(store.open(&hash, 0, None).unwrap().is_none());
    upload(&*store, &hash, &data, 700_000, data.len(), 400_000);

    let whole = store.open(&hash, 0, None).unwrap().expect("the blob");
    assert_eq!((whole.len, whole.start, whole.end), (1_500_000, 0, 1_500_000));
    let (bytes, sizes) = drain(whole);
    assert_eq!(bytes, data);
    // Streamed: many bounded chunks, never the blob at once.
    assert!(sizes.len() >= 4, "{} chunks", sizes.len());
    assert!(sizes.iter().all(|&n| n > 0 && n <= 1024 * 1024), "{sizes:?}");

    for (start, end, expect) in [
        (100u64, Some(5_000u64), 100..5_000usize),
        (1_000_000, None, 1_000_000..1_500_000),
        // An end past the blob's end reads to the end.
        (1_499_990, Some(9_999_999), 1_499_990..1_500_000),
        (1_500_000, None, 1_500_000..1_500_000),
        (7, Some(7), 7..7),
    ] {
        let r = store.open(&hash, start, end).unwrap().expect("the blob");
        assert_eq!(r.len, 1_500_000);
        assert_eq!((r.start, r.end), (expect.start as u64, expect.end as u64));
        assert_eq!(drain(r).0, &data[expect], "{start}..{end:?}");
    }
    assert!(
        matches!(
            store.open(&hash, 1_500_001, None),
            Err(BlobError::Range { len: 1_500_000 })
        ),
        "a start past the end"
    );
    assert!(matches!(
        store.open("NOT-A-HASH", 0, None),
        Err(BlobError::Invalid(_))
    ));
    // `get` is the whole read.
    assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&data[..]));
    // Reads at once, each a stream of its own.
    std::thread::scope(|s| {
        for i in 0..4u64 {
            let store = store.clone();
            let (hash, data) = (&hash, &data);
            s.spawn(move || {
                let from = i * 300_000;
                let r = store.open(hash, from, None).unwrap().expect("the blob");
                assert_eq!(drain(r).0, &data[from as usize..]);
            });
        }
    });
}

/// `missing` and `names` tell complete blobs from unfinished and absent ones.
pub fn missing_names_what_is_not_complete(h: &dyn BlobHarness) {
    let store = h.open();
    let here = test_bytes(10_000, 30);
    let partial = test_bytes(10_000, 31);
    let absent = test_bytes(10_000, 32);
    upload(&*store, &sha256_hex(&here), &here, 0, here.len(), 10_000);
    upload(&*store, &sha256_hex(&partial), &partial, 0, 5_000, 5_000);
    let names: Vec<String> = [&absent, &here, &partial].iter().map(|d| sha256_hex(d)).collect();
    assert_eq!(
        store.missing(&names).unwrap(),
        vec![names[0].clone(), names[2].clone()]
    );
    assert_eq!(store.missing(&[]).unwrap(), Vec::<String>::new());
    // Listed: the complete blob, not the unfinished upload.
    let listed = store.names().unwrap();
    assert!(listed.contains(&names[1]), "{listed:?}");
    assert!(
        !listed.contains(&names[0]) && !listed.contains(&names[2]),
        "{listed:?}"
    );
    assert!(listed.iter().all(|n| crate::is_blob_name(n)), "{listed:?}");
    assert!(matches!(
        store.missing(&["bad".to_string()]),
        Err(BlobError::Invalid(_))
    ));
}
