//! Two `kiemtra-server` processes on one PostgreSQL and one S3 object store
//! (SeaweedFS), both started by the project's scripts: phones pushing to
//! different instances at once lose nothing and merge as on one server, a
//! third phone pulls every operation exactly once, an instance killed
//! mid-push loses nothing acknowledged (its phone carries on with the
//! other), and a database that goes away mid-push is a 503 to retry until
//! it is back, after which the server carries on by itself.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use kiemtra_core::answer::AnswerValue;
use kiemtra_core::facility::{FacilityKind, NewFacility};
use kiemtra_core::ids::{InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::sync::{self, device, NoProgress, SyncClient, SyncError, UreqTransport};
use kiemtra_core::template::osh_general;
use kiemtra_server::server_key::ServerKey;
use kiemtra_server::writer::Writer;
use kiemtra_storage::Storage;
use kiemtra_storage_postgres::test_cluster::TestCluster;
use kiemtra_storage_postgres::PgStorage;
use kiemtra_tests::field::{png, Phone};
use kiemtra_tests::inspectorate::{team, Team};
use kiemtra_tests::seaweedfs::Seaweed;
use kiemtra_tests::Server;

/// One inspection of one delegation (leader, Lan, Minh), with enrolment
/// codes, written into the database through the server's writer before
/// any instance starts.
struct Setup {
    inspection: InspectionId,
    codes: Vec<(InspectorId, String)>,
    leader: InspectorId,
    lan: InspectorId,
    minh: InspectorId,
}

impl Setup {
    fn code(&self, who: InspectorId, nth: usize) -> String {
        self.codes
            .iter()
            .filter(|(w, _)| *w == who)
            .nth(nth)
            .unwrap()
            .1
            .clone()
    }
}

fn set_up(url: &str, scratch: &Path) -> Setup {
    let store: Arc<dyn Storage> = Arc::new(PgStorage::open(url).unwrap());
    let key = Arc::new(ServerKey::in_storage(&*store, scratch).unwrap());
    let mut w = Writer::new(store, key).unwrap();
    let Team { leader, lan, minh } = team(&mut w);
    let delegation = w
        .create_delegation(
            "Đoàn kiểm tra số 7",
            "Quyết định số 210/QĐ-SNV",
            leader,
            &[lan, minh],
            None,
        )
        .unwrap()
        .id;
    let facility = NewFacility {
        kind: FacilityKind::Enterprise,
        name: "Công ty Cổ phần Thép Đình Vũ".into(),
        tax_code: Some("0201112223".into()),
        street: "Khu công nghiệp Đình Vũ".into(),
        unit: "hp.hai-an".into(),
        sector: "Luyện kim".into(),
        workforce: 800,
        high_risk: true,
    }
    .validate(Default::default(), w.admin_units())
    .unwrap();
    w.put_facility(&facility).unwrap();
    let inspection = w
        .assign(
            delegation,
            facility.id,
            osh_general().key(),
            "2025-06-10".parse().unwrap(),
            InspectionKind::Inspection,
        )
        .unwrap()
        .id;
    let mut codes = Vec::new();
    for who in [leader, lan, minh, lan] {
        codes.push((who, w.enrol_code(who, 24).unwrap()));
    }
    w.commit().unwrap();
    Setup {
        inspection,
        codes,
        leader,
        lan,
        minh,
    }
}

/// The database and the object store that the instances share.
struct Shared {
    url: String,
    weed: Seaweed,
}

impl Shared {
    fn start(cluster: &TestCluster) -> Shared {
        Shared {
            url: cluster.fresh_database().unwrap(),
            weed: Seaweed::start(),
        }
    }

    /// An instance on the shared database and bucket, with a data folder of its own.
    fn instance(&self, data: &Path) -> Server {
        self.instance_on(data, "127.0.0.1:0")
    }

    fn instance_on(&self, data: &Path, addr: &str) -> Server {
        let blobs = self.weed.address();
        Server::start_with_env(
            data,
            addr,
            &["--database", &self.url, "--blob-store", &blobs],
            &self.weed.env(),
        )
    }
}

/// A client of `phone` talking to `server`, whichever instance enrolled it.
fn client_to(phone: &Phone, server: &Server) -> SyncClient {
    SyncClient::new(
        &server.url(""),
        Arc::new(UreqTransport::new()),
        phone.key.clone(),
        phone.store.device_id(),
    )
}

fn sync_with(phone: &Phone, server: &Server) -> Result<sync::SyncReport, SyncError> {
    sync::sync(&phone.store, &client_to(phone, server), &NoProgress)
}

/// Every operation id in the server's log, in order, pulled page by page as
/// a device pulls (its cursor only ever moves past what it received).
fn pull_all(client: &SyncClient) -> Vec<OpId> {
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = client.pull(cursor, 500).unwrap();
        seen.extend(page.entries.iter().map(|e| e.op.id));
        cursor = page.next;
        if !page.more {
            return seen;
        }
    }
}

fn assert_once_each(seen: &[OpId], expected: &HashSet<OpId>) {
    let unique: HashSet<_> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "an operation was pulled twice");
    let missing = expected.difference(&unique).count();
    assert_eq!(missing, 0, "{missing} acknowledged operations are not in the log");
}

/// The database's records are the merge of its log (what a replay computes).
fn assert_merge_of_log(url: &str) {
    let store = PgStorage::open(url).unwrap();
    let report = kiemtra_server::replay::check(&store).unwrap();
    assert!(report.holds(), "{report}");
}

fn local_ops(phone: &Phone) -> HashSet<OpId> {
    phone.store.operations().unwrap().iter().map(|o| o.id).collect()
}

/// Lan's phone pushes to instance A while Minh's pushes to instance B, many
/// times each and at the same moments, both on the same inspection (and on
/// one same item, a real conflict). Each instance's writer merges what the
/// other committed: the records stay the merge of the log, both phones
/// end with the same answers, and the leader's phone, pulling from B, gets
/// every operation of both exactly once, photos included.
#[test]
fn two_phones_on_two_instances_and_a_third_pulls_every_operation_once() {
    let shared = Shared::start(TestCluster::shared());
    let scratch = tempfile::tempdir().unwrap();
    let s = set_up(&shared.url, scratch.path());
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = shared.instance(data_a.path());
    let b = shared.instance(data_b.path());
    assert_eq!(
        a.get_json("/health")["status"],
        b.get_json("/health")["status"],
        "both instances serve"
    );

    let lan = Phone::enrolled(&a, &s.code(s.lan, 0), "Điện thoại của Lan");
    let minh = Phone::enrolled(&b, &s.code(s.minh, 0), "Điện thoại của Minh");
    let id = s.inspection;
    lan.sync().unwrap();
    lan.store.start_inspection(id).unwrap();
    lan.sync().unwrap();
    minh.sync().unwrap();

    const ROUNDS: u64 = 12;
    std::thread::scope(|scope| {
        let lan_side = scope.spawn(|| {
            for round in 0..ROUNDS {
                for n in 0..20 {
                    lan.store
                        .set_answer(id, "A1", AnswerValue::Count(round * 100 + n), None)
                        .unwrap();
                }
                lan.store
                    .set_answer(id, "A2", AnswerValue::Count(round), None)
                    .unwrap();
                if round % 4 == 0 {
                    lan.store
                        .add_photo(id, None, &png(640, 480, round as u8), None)
                        .unwrap();
                }
                lan.sync().unwrap();
            }
        });
        let minh_side = scope.spawn(|| {
            for round in 0..ROUNDS {
                for n in 0..20 {
                    minh.store
                        .set_answer(id, "A3", AnswerValue::Count(round * 100 + n), None)
                        .unwrap();
                }
                // The same item as Lan: concurrent edits of it conflict or merge, never vanish.
                minh.store
                    .set_answer(id, "A2", AnswerValue::Count(1000 + round), None)
                    .unwrap();
                minh.sync().unwrap();
            }
        });
        lan_side.join().unwrap();
        minh_side.join().unwrap();
    });
    // Each learns what the other pushed through the other instance.
    lan.sync().unwrap();
    minh.sync().unwrap();
    lan.sync().unwrap();
    assert_eq!(lan.store.pending_count(), 0);
    assert_eq!(minh.store.pending_count(), 0);

    let leader = Phone::enrolled(&a, &s.code(s.leader, 0), "Điện thoại trưởng đoàn");
    let from_b = client_to(&leader, &b);
    let seen = pull_all(&from_b);
    let mut expected = local_ops(&lan);
    expected.extend(local_ops(&minh));
    assert_once_each(&seen, &expected);
    // Pulled from A, the same log in the same order.
    assert_eq!(pull_all(&client_to(&leader, &a)), seen);

    sync_with(&leader, &b).unwrap();
    for item in ["A1", "A2", "A3"] {
        let on_leader = leader.answer(id, item);
        assert_eq!(on_leader, lan.answer(id, item), "{item}: Lan's phone differs");
        assert_eq!(on_leader, minh.answer(id, item), "{item}: Minh's phone differs");
    }
    assert_eq!(
        leader.answer(id, "A1")[0].value,
        AnswerValue::Count((ROUNDS - 1) * 100 + 19)
    );
    assert_eq!(
        leader.answer(id, "A3")[0].value,
        AnswerValue::Count((ROUNDS - 1) * 100 + 19)
    );
    // The photos Lan sent to A come whole from the bucket through B.
    assert_eq!(leader.store.photos(id).unwrap().len(), 3);
    assert_eq!(
        sync::blobs::download_photos(&leader.store, &from_b, id, false).unwrap(),
        6
    );
    a.stop();
    b.stop();
    assert_merge_of_log(&shared.url);
}

/// An instance is killed while Lan's phone pushes to it. What it
/// acknowledged is in the database; the phone, told nothing more, carries
/// on with the other instance and gets every operation in exactly once.
#[test]
fn an_instance_killed_mid_push_loses_nothing_and_the_phone_goes_on_with_the_other() {
    let shared = Shared::start(TestCluster::shared());
    let scratch = tempfile::tempdir().unwrap();
    let s = set_up(&shared.url, scratch.path());
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = shared.instance(data_a.path());
    let b = shared.instance(data_b.path());
    let lan = Phone::enrolled(&a, &s.code(s.lan, 0), "Điện thoại của Lan");
    lan.sync().unwrap();
    let id = s.inspection;
    lan.store.start_inspection(id).unwrap();
    for n in 0..1500u64 {
        lan.store
            .set_answer(id, "A1", AnswerValue::Count(n), None)
            .unwrap();
    }
    for n in 0..3u8 {
        lan.store
            .add_photo(id, None, &png(640, 480, n + 40), None)
            .unwrap();
    }
    let ops = local_ops(&lan);

    let interrupted = std::thread::scope(|scope| {
        let pushing = scope.spawn(|| lan.sync());
        std::thread::sleep(std::time::Duration::from_millis(150));
        a.kill();
        pushing.join().unwrap()
    });
    if let Err(e) = &interrupted {
        assert!(matches!(e, SyncError::Network(_)), "{e}");
    }
    // The other instance, and the same database, finish the job.
    sync_with(&lan, &b).unwrap();
    assert_eq!(lan.store.pending_count(), 0);
    assert!(lan.store.upload_queue().unwrap().is_empty());

    let minh = Phone::enrolled(&b, &s.code(s.minh, 0), "Điện thoại của Minh");
    let client = client_to(&minh, &b);
    assert_once_each(&pull_all(&client), &ops);
    minh.sync().unwrap();
    assert_eq!(minh.answer(id, "A1")[0].value, AnswerValue::Count(1499));
    assert_eq!(
        sync::blobs::download_photos(&minh.store, &client, id, false).unwrap(),
        6
    );
    b.stop();
    assert_merge_of_log(&shared.url);
}

/// The database stops while a phone pushes (its connections cut, as when
/// its host dies or fails over). Meanwhile the instance answers 503 with
/// Retry-After, never 500 or a refusal, and its health says so; once the
/// database is back the instance serves again by itself (no restart) and
/// the phone's retry gets everything in exactly once.
#[test]
fn a_database_restart_mid_push_is_a_503_to_retry_and_the_server_recovers_by_itself() {
    // A cluster of this test's own: it is stopped and started.
    let cluster = TestCluster::start().unwrap();
    let shared = Shared::start(&cluster);
    let scratch = tempfile::tempdir().unwrap();
    let s = set_up(&shared.url, scratch.path());
    let data = tempfile::tempdir().unwrap();
    let server = shared.instance(data.path());
    let lan = Phone::enrolled(&server, &s.code(s.lan, 0), "Điện thoại của Lan");
    lan.sync().unwrap();
    let id = s.inspection;
    lan.store.start_inspection(id).unwrap();
    for n in 0..1500u64 {
        lan.store
            .set_answer(id, "A1", AnswerValue::Count(n), None)
            .unwrap();
    }
    let ops = local_ops(&lan);

    let during = std::thread::scope(|scope| {
        let pushing = scope.spawn(|| lan.sync());
        std::thread::sleep(std::time::Duration::from_millis(100));
        cluster.stop_for_a_while().unwrap();
        pushing.join().unwrap()
    });
    // Whatever the push met: done before the stop, or a failure to retry.
    // Whatever the push met: done before the stop, a cut connection, or a
    // 503 (never a 500, a refusal or an authentication failure).
    if let Err(e) = &during {
        assert!(
            matches!(e, SyncError::Server(m) if m.starts_with("503")) || matches!(e, SyncError::Network(_)),
            "a database outage surfaced as {e}"
        );
    }
    // While it is down: a retryable 503 from the sync API.
    for n in 0..1500u64 {
        lan.store
            .set_answer(id, "A2", AnswerValue::Count(n % 7), None)
            .unwrap();
    }
    let retried = lan.sync();
    assert!(
        matches!(&retried, Err(SyncError::Server(m)) if m.starts_with("503")),
        "{retried:?}"
    );
    let res = ureq::get(&server.url("/api/v1/templates")).call();
    match res {
        Err(ureq::Error::StatusCode(503)) => {}
        other => panic!("expected 503 while the database is down, got {other:?}"),
    }
    let raw = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let answer = raw.get(&server.url("/api/v1/templates")).call().unwrap();
    assert_eq!(answer.status(), 503);
    assert!(
        answer.headers().get("retry-after").is_some(),
        "503 without Retry-After"
    );

    cluster.start_again().unwrap();
    // Back by itself: the pool reconnects, the writer reloads.
    let mut attempts = 0;
    let report = loop {
        match lan.sync() {
            Ok(r) => break r,
            Err(SyncError::Server(_) | SyncError::Network(_)) if attempts < 50 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            Err(e) => panic!("after the database came back: {e}"),
        }
    };
    assert_eq!(lan.store.pending_count(), 0, "{report:?}");
    let mut all = ops;
    all.extend(local_ops(&lan));
    let minh = Phone::enrolled(&server, &s.code(s.minh, 0), "Điện thoại của Minh");
    assert_once_each(
        &pull_all(&device::client(&minh.store, minh.key.clone()).unwrap()),
        &all,
    );
    server.stop();
    assert_merge_of_log(&shared.url);
}
