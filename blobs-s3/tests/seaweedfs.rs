//! S3BlobStore against a real SeaweedFS (scripts/seaweedfs.sh), one store
//! per test so that tests neither share state nor wait for each other: what
//! the shared suite (tests/conformance.rs) cannot see, namely the keys in the
//! bucket (nothing staged left, nothing under blobs/ but checked blobs), the
//! multipart path, several instances, and the store killed.

mod common;

use std::sync::Arc;

use common::{bytes, sha256_hex, Seaweed};
use kiemtra_blobs_s3::S3BlobStore;
use kiemtra_storage::{BlobError, BlobStore};

/// Uploads `data[from..to]` as `hash` in chunks of `chunk` bytes; the
/// result of the last call.
fn upload(store: &S3BlobStore, hash: &str, data: &[u8], from: usize, to: usize, chunk: usize) -> (u64, bool) {
    let mut last = (from as u64, false);
    let mut at = from;
    while at < to {
        let end = (at + chunk).min(to);
        last = store
            .put_chunk(hash, at as u64, data.len() as u64, &data[at..end])
            .expect("a chunk is taken");
        assert_eq!(last.0, end as u64, "progress after a chunk");
        at = end;
    }
    last
}

fn keys_under(store: &S3BlobStore, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = store
        .keys()
        .expect("list the bucket")
        .into_iter()
        .filter(|k| k.starts_with(prefix))
        .collect();
    keys.sort();
    keys
}

fn assert_retryable(r: Result<(u64, bool), BlobError>) {
    match r {
        Err(BlobError::Unavailable(_)) => {}
        other => panic!("expected a retryable storage failure, got {other:?}"),
    }
}

#[test]
fn a_blob_uploaded_in_chunks_is_complete_and_reads_back() {
    let weed = Seaweed::start();
    eprintln!("SeaweedFS up in {:?}", weed.started_in);
    let store = weed.open();
    let data = bytes(300_000, 1);
    let hash = sha256_hex(&data);
    assert_eq!(store.status(&hash).unwrap(), (0, false));
    assert_eq!(store.get(&hash).unwrap(), None);
    assert!(!store.exists(&hash).unwrap());

    assert_eq!(
        upload(&store, &hash, &data, 0, data.len(), 64 * 1024),
        (300_000, true)
    );
    assert_eq!(store.status(&hash).unwrap(), (300_000, true));
    assert!(store.exists(&hash).unwrap());
    assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&data[..]));
    // Nothing staged is left; the blob is one object.
    assert_eq!(keys_under(&store, ""), vec![format!("blobs/{hash}")]);

    // The empty blob is a blob too.
    let empty = sha256_hex(b"");
    assert_eq!(store.put_chunk(&empty, 0, 0, b"").unwrap(), (0, true));
    assert_eq!(store.get(&empty).unwrap(), Some(vec![]));
}

#[test]
fn a_large_blob_streams_through_a_multipart_upload() {
    let weed = Seaweed::start();
    let store = weed.open();
    // Past the single-PUT limit (8 MiB), in uneven chunks.
    let data = bytes(11 * 1024 * 1024 + 12_345, 2);
    let hash = sha256_hex(&data);
    assert_eq!(
        upload(&store, &hash, &data, 0, data.len(), 1_000_000),
        (data.len() as u64, true)
    );
    assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&data[..]));
    assert_eq!(keys_under(&store, ""), vec![format!("blobs/{hash}")]);
}

#[test]
fn an_upload_stopped_at_90_percent_resumes_there_on_another_instance() {
    let weed = Seaweed::start();
    let data = bytes(1_000_000, 3);
    let hash = sha256_hex(&data);
    {
        let first = weed.open();
        assert_eq!(
            upload(&first, &hash, &data, 0, 900_000, 100_000),
            (900_000, false)
        );
        // The first instance goes away (a dropped connection, another server).
    }
    let second = weed.open();
    assert_eq!(second.status(&hash).unwrap(), (900_000, false));
    assert_eq!(second.get(&hash).unwrap(), None);
    assert_eq!(
        upload(&second, &hash, &data, 900_000, data.len(), 100_000),
        (1_000_000, true)
    );
    assert_eq!(second.get(&hash).unwrap().as_deref(), Some(&data[..]));
    assert!(keys_under(&second, "partial/").is_empty());
}

#[test]
fn a_hash_mismatch_leaves_nothing_visible_and_nothing_staged() {
    let weed = Seaweed::start();
    let store = weed.open();
    // Small (one PUT) and large (multipart) blobs take different paths.
    for (n, chunk) in [(30_000usize, 10_000usize), (9 * 1024 * 1024, 2 * 1024 * 1024)] {
        let data = bytes(n, 5);
        let wrong_name = sha256_hex(&bytes(n, 6));
        let mut at = 0;
        let result = loop {
            let end = (at + chunk).min(n);
            let r = store.put_chunk(&wrong_name, at as u64, n as u64, &data[at..end]);
            if end == n {
                break r;
            }
            assert_eq!(r.unwrap(), (end as u64, false));
            at = end;
        };
        assert!(matches!(result, Err(BlobError::HashMismatch)), "{result:?}");
        assert_eq!(store.status(&wrong_name).unwrap(), (0, false));
        assert_eq!(store.get(&wrong_name).unwrap(), None);
        assert!(keys_under(&store, "").is_empty(), "{:?}", keys_under(&store, ""));
    }
}

#[test]
fn a_complete_blob_takes_no_more_bytes() {
    let weed = Seaweed::start();
    let store = weed.open();
    let data = bytes(40_000, 7);
    let hash = sha256_hex(&data);
    upload(&store, &hash, &data, 0, data.len(), 15_000);
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
    assert_eq!(keys_under(&store, ""), vec![format!("blobs/{hash}")]);
}

#[test]
fn concurrent_uploads_of_different_blobs() {
    let weed = Seaweed::start();
    let shared = Arc::new(weed.open());
    let other = Arc::new(weed.open());
    let blobs: Vec<Vec<u8>> = (0..6).map(|i| bytes(200_000 + i * 1_111, 10 + i as u8)).collect();
    std::thread::scope(|s| {
        for (i, data) in blobs.iter().enumerate() {
            // Two instances, three uploads each, all at once.
            let store = if i % 2 == 0 { shared.clone() } else { other.clone() };
            s.spawn(move || {
                let hash = sha256_hex(data);
                assert_eq!(
                    upload(&store, &hash, data, 0, data.len(), 32 * 1024),
                    (data.len() as u64, true)
                );
            });
        }
    });
    for data in &blobs {
        assert_eq!(shared.get(&sha256_hex(data)).unwrap().as_deref(), Some(&data[..]));
    }
    assert!(keys_under(&shared, "partial/").is_empty());
}

#[test]
fn a_killed_store_fails_retryably_and_nothing_is_half_visible_after_its_restart() {
    let dir = tempfile::tempdir().unwrap();
    let weed = Seaweed::start_in(dir.path(), None);
    let ports = weed.ports.clone();
    let store = weed.open();
    let data = bytes(500_000, 20);
    let hash = sha256_hex(&data);
    assert_eq!(
        upload(&store, &hash, &data, 0, 400_000, 100_000),
        (400_000, false)
    );

    weed.kill_store();
    // Every call is an error to retry, none a verdict on the upload.
    assert_retryable(store.put_chunk(&hash, 400_000, 500_000, &data[400_000..]));
    assert_retryable(store.status(&hash));
    assert!(matches!(store.get(&hash), Err(BlobError::Unavailable(_))));
    weed.stop();

    // Same data, same ports: the store as it was; the same client reconnects.
    let weed = Seaweed::start_in(dir.path(), Some(&ports));
    assert_eq!(store.get(&hash).unwrap(), None);
    assert_eq!(keys_under(&store, "blobs/"), Vec::<String>::new());
    assert_eq!(store.status(&hash).unwrap(), (400_000, false));
    assert_eq!(
        store
            .put_chunk(&hash, 400_000, 500_000, &data[400_000..])
            .unwrap(),
        (500_000, true)
    );
    assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&data[..]));
    assert!(keys_under(&store, "partial/").is_empty());
    drop(weed);
}

#[test]
fn a_store_killed_while_a_blob_is_assembled_shows_all_of_it_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let weed = Seaweed::start_in(dir.path(), None);
    let ports = weed.ports.clone();
    let store = Arc::new(weed.open());
    // Large enough for a multipart upload that takes a moment.
    let data = Arc::new(bytes(12 * 1024 * 1024, 21));
    let hash = sha256_hex(&data);
    let last = data.len() - 1_000_000;
    upload(&store, &hash, &data, 0, last, 2 * 1024 * 1024);

    let finishing = {
        let (store, data, hash) = (store.clone(), data.clone(), hash.clone());
        std::thread::spawn(move || store.put_chunk(&hash, last as u64, data.len() as u64, &data[last..]))
    };
    std::thread::sleep(std::time::Duration::from_millis(150));
    weed.kill_store();
    let result = finishing.join().unwrap();
    weed.stop();

    let weed = Seaweed::start_in(dir.path(), Some(&ports));
    eprintln!("the last chunk, cut by the kill: {result:?}");
    match result {
        Ok(done) => assert_eq!(done, (data.len() as u64, true)),
        Err(BlobError::Unavailable(_)) => {
            // Not finished: nothing visible, and the staged chunks still there.
            assert_eq!(store.get(&hash).unwrap(), None);
            assert!(keys_under(&store, "blobs/").is_empty());
            assert_eq!(store.status(&hash).unwrap(), (last as u64, false));
            assert_eq!(
                store
                    .put_chunk(&hash, last as u64, data.len() as u64, &data[last..])
                    .unwrap(),
                (data.len() as u64, true)
            );
        }
        Err(e) => panic!("expected success or a retryable failure, got {e:?}"),
    }
    assert_eq!(store.get(&hash).unwrap().as_deref(), Some(&data[..]));
    drop(weed);
}
