//! Backup and restore of a deployment on PostgreSQL and an object store
//! (`scripts/backup.sh`, docs/backup.md), end to end: a server on a real
//! PostgreSQL and a real SeaweedFS takes operations and photos from a phone;
//! the backup is taken while it runs; it is restored into an empty database,
//! an empty bucket and a new data folder; a server started on them, at the
//! address the phones know, carries on: the same phone syncs on (pushes
//! more, pulls), a new phone pulls everything, and every operation and blob
//! from before is there exactly once, under the same server key.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use kiemtra_core::answer::AnswerValue;
use kiemtra_core::ids::InspectionId;
use kiemtra_core::sync::wire::LogEntry;
use kiemtra_core::sync::{self, client::SyncClient, device};
use kiemtra_server::server_key::ServerKey;
use kiemtra_server::writer::Writer;
use kiemtra_storage::{BlobStore, Storage};
use kiemtra_storage_postgres::test_cluster::TestCluster;
use kiemtra_storage_postgres::PgStorage;
use kiemtra_tests::field::{png, Phone};
use kiemtra_tests::inspectorate::{assign, enterprise, team, Team};
use kiemtra_tests::seaweedfs::Seaweed;
use kiemtra_tests::Server;

/// Lan and Minh's delegation and one inspection, written into the database
/// at `url` with the server key of `data`; the inspection and the enrolment
/// codes of Lan, Minh, and Minh's second phone.
fn world(url: &str, data: &Path) -> (InspectionId, [String; 3]) {
    let store: Arc<dyn Storage> = Arc::new(PgStorage::open(url).unwrap());
    // As the server keeps it on PostgreSQL: in the database, no file.
    let key = Arc::new(ServerKey::in_storage(&*store, data).unwrap());
    let mut w = Writer::new(store, key).unwrap();
    let Team { leader, lan, minh } = team(&mut w);
    let delegation = w
        .create_delegation(
            "Đoàn kiểm tra số 7",
            "Quyết định số 145/QĐ-SNV",
            leader,
            &[lan, minh],
            None,
        )
        .unwrap()
        .id;
    let facility = enterprise(&mut w, "Công ty Đóng tàu Bạch Đằng", "0200333444", "hp.ngo-quyen");
    let inspection = assign(&mut w, delegation, &facility);
    let codes = [
        w.enrol_code(lan, 24).unwrap(),
        w.enrol_code(minh, 24).unwrap(),
        w.enrol_code(minh, 24).unwrap(),
    ];
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

/// The public key of the server whose database is at `url`.
fn key_of(url: &str, data: &Path) -> [u8; 32] {
    let store = PgStorage::open(url).unwrap();
    ServerKey::in_storage(&store, data).unwrap().public_key()
}

/// Runs `scripts/backup.sh MODE DIR` on the deployment given.
fn backup_sh(mode: &str, dir: &Path, database: &str, weed: &Seaweed, data: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/backup.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(mode)
        .arg(dir)
        .env("KIEMTRA_DATABASE_URL", database)
        .env("KIEMTRA_BLOB_STORE", weed.address())
        .env("KIEMTRA_DATA", data)
        .env("KIEMTRA_SERVER_BIN", kiemtra_tests::server_binary())
        .envs(weed.env())
        .output()
        .expect("run scripts/backup.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("backup.sh {mode}:\n{stderr}");
    assert!(out.status.success(), "backup.sh {mode} failed: {stderr}");
}

#[test]
fn a_backup_restored_into_empty_servers_carries_on_with_nothing_lost() {
    let cluster = TestCluster::shared();
    let (db_a, weed_a, data_a) = (
        cluster.fresh_database().unwrap(),
        Seaweed::start(),
        tempfile::tempdir().unwrap(),
    );
    let (inspection, codes) = world(&db_a, data_a.path());
    let args = |db: &str, weed: &Seaweed| {
        [
            "--database".to_string(),
            db.to_string(),
            "--blob-store".into(),
            weed.address(),
        ]
    };
    let a_args = args(&db_a, &weed_a);
    let a_args: Vec<&str> = a_args.iter().map(String::as_str).collect();
    let server = Server::start_with_env(data_a.path(), "127.0.0.1:0", &a_args, &weed_a.env());
    let addr = server.addr.clone();

    // A phone's work: answers and two photos; a colleague's phone pulls it.
    let lan = Phone::enrolled(&server, &codes[0], "Lan");
    let minh = Phone::enrolled(&server, &codes[1], "Minh");
    lan.sync().unwrap();
    lan.store.start_inspection(inspection).unwrap();
    lan.store
        .set_answer(inspection, "A1", AnswerValue::Count(3), None)
        .unwrap();
    let photos: Vec<_> = (0..2u8)
        .map(|i| {
            lan.store
                .add_photo(inspection, None, &png(700, 500, 40 + i), None)
                .unwrap()
        })
        .collect();
    let report = lan.sync().unwrap();
    assert_eq!((report.photos_uploaded, report.refused), (4, 0));
    minh.sync().unwrap();
    let lan_client = device::client(&lan.store, lan.key.clone()).unwrap();
    let before = log(&lan_client);
    let blobs_before = weed_a.open().names().unwrap();
    assert_eq!(blobs_before.len(), 4);

    // The backup, while the server runs; then the old deployment is gone.
    let backup = tempfile::tempdir().unwrap();
    let out = backup.path().join("backup");
    backup_sh("backup", &out, &db_a, &weed_a, data_a.path());
    for file in ["database.pgdump", "SHA256SUMS"] {
        assert!(out.join(file).is_file(), "{file} is not in the backup");
    }
    assert!(
        !data_a.path().join("server.key").exists(),
        "the key is in the database, not in a file the backup would have to carry"
    );
    server.stop();
    let key_a = key_of(&db_a, data_a.path());
    drop(weed_a);

    // Restored into an empty database, an empty bucket, a new data folder.
    let (db_b, weed_b, data_b) = (
        cluster.fresh_database().unwrap(),
        Seaweed::start(),
        tempfile::tempdir().unwrap(),
    );
    assert!(weed_b.open().names().unwrap().is_empty());
    backup_sh("restore", &out, &db_b, &weed_b, data_b.path());
    assert_eq!(
        key_of(&db_b, data_b.path()),
        key_a,
        "the server's key survives, in the dump"
    );
    let b_args = args(&db_b, &weed_b);
    let b_args: Vec<&str> = b_args.iter().map(String::as_str).collect();
    let server = Server::start_with_env(data_b.path(), &addr, &b_args, &weed_b.env());

    // The same phone syncs on: more answers and a photo, then it pulls.
    lan.store
        .set_answer(inspection, "A1", AnswerValue::Count(4), None)
        .unwrap();
    let third = lan
        .store
        .add_photo(inspection, None, &png(640, 480, 50), None)
        .unwrap();
    let report = lan.sync().unwrap();
    assert_eq!((report.photos_uploaded, report.refused), (2, 0));
    assert_eq!(lan.store.pending_count(), 0);
    assert_eq!(lan.answer(inspection, "A1")[0].value, AnswerValue::Count(4));

    // Every operation from before, at the same place, once; the new ones after.
    let after = log(&lan_client);
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "the log before the backup, as it was"
    );
    let ids: HashSet<_> = after.iter().map(|e| e.op.id).collect();
    assert_eq!(ids.len(), after.len(), "each operation once");
    assert!(
        after.len() > before.len(),
        "the phone's new operations are in the log"
    );
    assert!(after[before.len()..]
        .iter()
        .any(|e| e.op.payload.blobs().contains(&third.image.sha256)));
    // Every blob from before, and every blob an operation refers to, is in the new bucket.
    let bucket = weed_b.open();
    let names: HashSet<String> = bucket.names().unwrap().into_iter().collect();
    assert!(
        blobs_before.iter().all(|b| names.contains(b)),
        "a blob from before is missing"
    );
    let referred: Vec<String> = after.iter().flat_map(|e| e.op.payload.blobs()).collect();
    assert_eq!(referred.len(), 6);
    assert_eq!(bucket.missing(&referred).unwrap(), Vec::<String>::new());

    // A phone enrolled on the restored server pulls everything, photos whole;
    // the colleague's phone from before syncs on.
    let minh2 = Phone::enrolled(&server, &codes[2], "Minh 2");
    minh2.sync().unwrap();
    minh.sync().unwrap();
    let minh2_client = device::client(&minh2.store, minh2.key.clone()).unwrap();
    assert_eq!(
        sync::blobs::download_photos(&minh2.store, &minh2_client, inspection, false).unwrap(),
        6
    );
    for p in photos.iter().chain([&third]) {
        assert_eq!(
            minh2.store.blob(&p.image.sha256).unwrap(),
            lan.store.blob(&p.image.sha256).unwrap()
        );
    }
    assert_eq!(minh.answer(inspection, "A1")[0].value, AnswerValue::Count(4));
    server.stop();
}
