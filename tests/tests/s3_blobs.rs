//! `serve --blob-store s3://…`: photos go to an S3 object store (a real
//! SeaweedFS), not to the data folder, and come back to another device.

use kiemtra_core::sync::{self, device};
use kiemtra_tests::field::{png, Phone};
use kiemtra_tests::inspectorate::{assign, enterprise, team, Team};
use kiemtra_tests::seaweedfs::Seaweed;
use kiemtra_tests::Server;

#[test]
fn photos_go_to_the_object_store_and_come_back() {
    let weed = Seaweed::start();
    let data = tempfile::tempdir().unwrap();
    let (inspection, codes) = {
        let mut w = kiemtra_server::admin::open_writer(data.path()).unwrap();
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
    };
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
    let mut config = kiemtra_blobs_s3::S3Config::from_url(&address).unwrap();
    config.access_key_id = Some(weed.access_key.clone());
    config.secret_access_key = Some(weed.secret_key.clone());
    let bucket = kiemtra_blobs_s3::S3BlobStore::open(&config).unwrap();
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
    assert_eq!(
        minh.store.blob(&photo.image.sha256).unwrap(),
        lan.store.blob(&photo.image.sha256).unwrap()
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
