//! `serve --blob-store s3://…`: photos go to an S3 object store (a real
//! SeaweedFS), not to the data folder, come back to another device streamed
//! (in ranges too), and an object store that dies mid-use costs a retry,
//! never an operation that refers to a photo the server does not hold.

use std::collections::HashSet;

use kiemtra_core::ids::InspectionId;
use kiemtra_core::sync::wire::LogEntry;
use kiemtra_core::sync::{self, client::SyncClient, device, SyncError};
use kiemtra_storage::BlobStore;
use kiemtra_tests::field::{png, Phone};
use kiemtra_tests::inspectorate::{assign, enterprise, team, Team};
use kiemtra_tests::seaweedfs::Seaweed;
use kiemtra_tests::Server;

/// A delegation of Lan and Minh with one inspection, in the data folder
/// `data`; the inspection and the two enrolment codes.
fn world(data: &std::path::Path) -> (InspectionId, [String; 2]) {
    let mut w = kiemtra_server::admin::open_writer(data).unwrap();
    let Team { leader, lan, minh } = team(&mut w);
    let delegation = w
        .create_delegation(
            "Đoàn kiểm tra số 5",
            "Quyết định số 130/QĐ-SNV",
            leader,
            &[lan, minh],
            None,
        )
        .unwrap()
        .id;
    let facility = enterprise(&mut w, "Công ty Cơ khí Lạch Tray", "0200111222", "hp.ngo-quyen");
    let inspection = assign(&mut w, delegation, &facility);
    let codes = [w.enrol_code(lan, 24).unwrap(), w.enrol_code(minh, 24).unwrap()];
    w.commit().unwrap();
    (inspection, codes)
}

/// Every entry of the server's log that `client`'s inspector may pull.
fn log(client: &SyncClient) -> Vec<LogEntry> {
    let mut entries = Vec::new();
    let mut cursor = 0;
    loop {
        let page = client.pull(cursor, 1000).unwrap();
        entries.extend(page.entries);
        cursor = page.next;
        if !page.more {
            return entries;
        }
    }
}

#[test]
fn photos_go_to_the_object_store_and_come_back() {
    let weed = Seaweed::start();
    let data = tempfile::tempdir().unwrap();
    let (inspection, codes) = world(data.path());
    let address = weed.address();
    let server = Server::start_with_env(
        data.path(),
        "127.0.0.1:0",
        &["--blob-store", &address],
        &weed.env(),
    );
    let lan = Phone::enrolled(&server, &codes[0], "Lan");
    let minh = Phone::enrolled(&server, &codes[1], "Minh");
    lan.sync().unwrap();
    lan.store.start_inspection(inspection).unwrap();
    let photo = lan
        .store
        .add_photo(inspection, None, &png(900, 600, 7), None)
        .unwrap();
    // The image and its thumbnail.
    assert_eq!(lan.sync().unwrap().photos_uploaded, 2);

    // In the bucket, under its hash; nothing in the data folder.
    let bucket = weed.open();
    let mut keys = bucket.keys().unwrap();
    keys.sort();
    let mut expected = vec![
        format!("blobs/{}", photo.image.sha256),
        format!("blobs/{}", photo.thumbnail.sha256),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    let local = data.path().join(kiemtra_server::app::BLOB_DIR);
    let files: Vec<_> = std::fs::read_dir(&local)
        .map(|d| d.filter_map(Result::ok).filter(|e| e.path().is_file()).collect())
        .unwrap_or_default();
    assert!(files.is_empty(), "blobs in {}: {files:?}", local.display());

    // Another device gets the photo back, whole.
    minh.sync().unwrap();
    let client = device::client(&minh.store, minh.key.clone()).unwrap();
    assert_eq!(
        sync::blobs::download_photos(&minh.store, &client, inspection, false).unwrap(),
        2
    );
    let image = lan.store.blob(&photo.image.sha256).unwrap();
    assert_eq!(minh.store.blob(&photo.image.sha256).unwrap(), image);
    // A download cut short resumes where it stopped: the rest, from S3's range.
    let cut = image.len() / 3;
    assert_eq!(
        client.download_from(&photo.image.sha256, cut as u64).unwrap(),
        &image[cut..]
    );
    assert_eq!(
        client
            .download_from(&photo.image.sha256, image.len() as u64 - 1)
            .unwrap(),
        &image[image.len() - 1..]
    );
    // A range past the end is refused (416), not answered with nothing.
    match client.download_from(&photo.image.sha256, image.len() as u64 + 5) {
        Err(SyncError::Refused(m)) => assert!(m.starts_with("416"), "{m}"),
        other => panic!("a range past the end: {other:?}"),
    }
    server.stop();
}

#[test]
fn an_object_store_killed_mid_use_fails_uploads_retryably_and_no_operation_lacks_its_photo() {
    let weed_dir = tempfile::tempdir().unwrap();
    let weed = Seaweed::start_in(weed_dir.path(), None);
    let ports = weed.ports.clone();
    let data = tempfile::tempdir().unwrap();
    let (inspection, codes) = world(data.path());
    let address = weed.address();
    let server = Server::start_with_env(
        data.path(),
        "127.0.0.1:0",
        &["--blob-store", &address],
        &weed.env(),
    );
    let lan = Phone::enrolled(&server, &codes[0], "Lan");
    let client = device::client(&lan.store, lan.key.clone()).unwrap();
    lan.sync().unwrap();
    lan.store.start_inspection(inspection).unwrap();

    // 1. The store is up. A push of a photo's operation before its blobs is
    // refused whole (409 blob_missing, naming them), nothing of it taken.
    let first = lan
        .store
        .add_photo(inspection, None, &png(800, 600, 1), None)
        .unwrap();
    let before = log(&client).len();
    let batch = lan.store.pending_batch(500).unwrap();
    match client.push(&batch, &[]) {
        Err(SyncError::BlobsMissing(missing)) => {
            let missing: HashSet<String> = missing.into_iter().collect();
            let expected: HashSet<String> =
                [first.image.sha256.clone(), first.thumbnail.sha256.clone()].into();
            assert_eq!(missing, expected);
        }
        other => panic!("a push before its photo's upload: {other:?}"),
    }
    assert_eq!(
        log(&client).len(),
        before,
        "nothing of the refused push is in the log"
    );
    // A sync sends the photo first, then the operations.
    let report = lan.sync().unwrap();
    assert_eq!((report.photos_uploaded, report.refused), (2, 0));
    assert_eq!(lan.store.pending_count(), 0);

    // 2. The object store crashes. The next photo's upload fails with a
    // retryable 503 (blob_store_unavailable), the push that refers to it too,
    // and nothing else changes.
    weed.kill_store();
    let second = lan
        .store
        .add_photo(inspection, None, &png(640, 480, 2), None)
        .unwrap();
    let pending = lan.store.pending_count();
    let before = log(&client);
    let unavailable = |r: Result<_, SyncError>, what: &str| match r {
        Err(SyncError::Server(m)) => {
            assert!(
                m.starts_with("503 ") && m.contains("blob store is unavailable"),
                "{what}: {m}"
            )
        }
        Err(e) => panic!("{what}: not a retryable server error: {e:?}"),
        Ok(_) => panic!("{what} succeeded with the object store down"),
    };
    unavailable(client.upload_status(&second.image.sha256).map(|_| ()), "status");
    let image = lan.store.blob(&second.image.sha256).unwrap();
    unavailable(
        client
            .upload_chunk(&second.image.sha256, 0, image.len() as u64, image.clone())
            .map(|_| ()),
        "a chunk",
    );
    unavailable(lan.sync().map(|_| ()), "a sync");
    let batch = lan.store.pending_batch(500).unwrap();
    unavailable(
        client.push(&batch, &[]).map(|_| ()),
        "a push of the photo's operation",
    );
    // The device keeps everything to retry; the server took nothing.
    assert_eq!(lan.store.pending_count(), pending);
    assert_eq!(lan.store.upload_queue().unwrap().len(), 2);
    assert_eq!(log(&client), before);
    // What needs no blob still works: pulling (above), the server's pages.
    assert_eq!(server.get_json("/health")["status"], "ok");

    // 3. The store comes back on its data folder and ports: the device's
    // next sync completes, and every operation refers to a stored blob.
    weed.stop();
    let weed = Seaweed::start_in(weed_dir.path(), Some(&ports));
    let report = lan.sync().unwrap();
    assert_eq!((report.photos_uploaded, report.refused), (2, 0));
    assert_eq!(lan.store.pending_count(), 0);
    let bucket = weed.open();
    let entries = log(&client);
    let ids: HashSet<_> = entries.iter().map(|e| e.op.id).collect();
    assert_eq!(ids.len(), entries.len(), "each operation once");
    let referred: Vec<String> = entries.iter().flat_map(|e| e.op.payload.blobs()).collect();
    assert_eq!(referred.len(), 4, "two photos, each an image and a thumbnail");
    for sha in [&first.image.sha256, &second.thumbnail.sha256] {
        assert!(referred.contains(sha));
    }
    assert_eq!(bucket.missing(&referred).unwrap(), Vec::<String>::new());
    assert_eq!(
        client.download(&second.image.sha256).unwrap(),
        image,
        "the photo comes back whole"
    );
    server.stop();
}

#[test]
fn a_blob_store_that_does_not_answer_stops_the_server_at_start() {
    let data = tempfile::tempdir().unwrap();
    // Nothing listens on the discard port of loopback.
    let out = std::process::Command::new(kiemtra_tests::server_binary())
        .args(["serve", "--data"])
        .arg(data.path())
        .args(["--addr", "127.0.0.1:0"])
        .args(["--blob-store", "s3://kiemtra?endpoint=http://127.0.0.1:9"])
        .envs([("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not answer"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening on"));
}
