//! Devices and the real server binary on loopback: two inspectors of one
//! delegation work one inspection offline, sync, see each other's answers
//! and photos, get a visible conflict, the leader seals, a late edit is
//! refused and shown, and a server killed mid-push loses and duplicates nothing.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use kiemtra_core::answer::{AnswerValue, YesNoNa};
use kiemtra_core::facility::{FacilityKind, NewFacility};
use kiemtra_core::identity::{FileKeyStore, KeyStore};
use kiemtra_core::ids::{InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::{InspectionKind, Status};
use kiemtra_core::minutes::Hash32;
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::store::Store;
use kiemtra_core::sync::wire::{PushOutcome, RefusalKind};
use kiemtra_core::sync::{self, device, SyncError, SyncObserver, SyncProgress};
use kiemtra_core::template::osh_general;
use kiemtra_tests::field::{minutes_info, png, Phone};
use kiemtra_tests::inspectorate::{team, Team};
use kiemtra_tests::Server;

/// The inspectorate's set-up, done with the admin writer while the server is stopped.
struct Setup {
    leader: InspectorId,
    lan: InspectorId,
    minh: InspectorId,
    inspection: InspectionId,
    codes: Vec<(InspectorId, String)>,
}

fn set_up(data: &Path) -> Setup {
    let mut w = kiemtra_server::admin::open_writer(data).unwrap();
    let Team { leader, lan, minh } = team(&mut w);
    let delegation = w
        .create_delegation(
            "Đoàn kiểm tra số 3",
            "Quyết định số 125/QĐ-SNV",
            leader,
            &[lan, minh],
            None,
        )
        .unwrap()
        .id;
    let facility = NewFacility {
        kind: FacilityKind::Enterprise,
        name: "Công ty TNHH Đóng tàu Bạch Đằng".into(),
        tax_code: Some("0200765432".into()),
        street: "Số 3 Phan Đình Phùng".into(),
        unit: "hp.hong-bang".into(),
        sector: "Đóng tàu".into(),
        workforce: 350,
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
            "2025-03-05".parse().unwrap(),
            InspectionKind::Inspection,
        )
        .unwrap()
        .id;
    let mut codes = Vec::new();
    for who in [leader, lan, minh, lan, lan] {
        codes.push((who, w.enrol_code(who, 24).unwrap()));
    }
    w.commit().unwrap();
    Setup {
        leader,
        lan,
        minh,
        inspection,
        codes,
    }
}

impl Setup {
    /// The `nth` enrolment code issued for `who`.
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

#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<SyncProgress>>);

impl SyncObserver for Recorder {
    fn on_progress(&self, p: SyncProgress) {
        self.0.lock().unwrap().push(p);
    }
}

#[test]
fn two_inspectors_one_inspection_offline_conflict_seal_and_late_edit() {
    let data = tempfile::tempdir().unwrap();
    let s = set_up(data.path());
    let server = Server::start(data.path(), &[]);
    let code = |who: InspectorId, nth: usize| s.code(who, nth);
    let lan = Phone::enrolled(&server, &code(s.lan, 0), "Điện thoại của Lan");
    let minh = Phone::enrolled(&server, &code(s.minh, 0), "Điện thoại của Minh");
    let leader = Phone::enrolled(&server, &code(s.leader, 0), "Điện thoại trưởng đoàn");
    // A used code is refused.
    let dir = tempfile::tempdir().unwrap();
    let stranger = Store::open(dir.path().join("s")).unwrap();
    let key = Arc::new(FileKeyStore::open_or_create(dir.path().join("k")).unwrap());
    let err = device::enrol(&stranger, key, &server.url(""), &code(s.lan, 0), "x", None).unwrap_err();
    assert!(matches!(err, SyncError::Auth(_) | SyncError::Refused(_)), "{err}");

    // First sync: the assignment, template and facility arrive.
    let progress = Recorder::default();
    let client = device::client(&lan.store, lan.key.clone()).unwrap();
    sync::sync(&lan.store, &client, &progress).unwrap();
    assert!(progress
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|p| p.phase == sync::SyncPhase::Done));
    minh.sync().unwrap();
    leader.sync().unwrap();
    let id = s.inspection;
    assert_eq!(lan.store.inspection(id).unwrap().status, Status::Draft);

    // Offline: Lan starts and answers section A and B and takes a photo;
    // Minh (after seeing the start) answers other items.
    lan.store.start_inspection(id).unwrap();
    lan.sync().unwrap();
    minh.sync().unwrap();
    assert_eq!(minh.store.inspection(id).unwrap().status, Status::InProgress);
    lan.store
        .set_answer(id, "A1", AnswerValue::Count(350), None)
        .unwrap();
    lan.store
        .set_answer(
            id,
            "B1",
            AnswerValue::YesNoNa(YesNoNa::Yes),
            Some("Có quyết định"),
        )
        .unwrap();
    let photo = lan
        .store
        .add_photo(id, Some("D4"), &png(900, 600, 3), Some("Máy dập"))
        .unwrap();
    minh.store
        .set_answer(id, "D4", AnswerValue::YesNoNa(YesNoNa::No), None)
        .unwrap();
    // Both answer B2 without seeing each other: a conflict.
    lan.store
        .set_answer(id, "B2", AnswerValue::YesNoNa(YesNoNa::Yes), None)
        .unwrap();
    minh.store
        .set_answer(id, "B2", AnswerValue::YesNoNa(YesNoNa::No), None)
        .unwrap();

    let report = lan.sync().unwrap();
    assert_eq!(report.refused, 0);
    assert_eq!(report.photos_uploaded, 2);
    minh.sync().unwrap();
    lan.sync().unwrap();
    // Each sees the other's answers.
    assert_eq!(minh.answer(id, "B1")[0].note.as_deref(), Some("Có quyết định"));
    assert_eq!(lan.answer(id, "D4")[0].value, AnswerValue::YesNoNa(YesNoNa::No));
    // The conflict is visible on both, with both values.
    for phone in [&lan, &minh] {
        let values: HashSet<_> = phone
            .answer(id, "B2")
            .into_iter()
            .map(|e| format!("{:?}", e.value))
            .collect();
        assert_eq!(values.len(), 2, "expected a conflict of yes and no");
    }
    // Minh sees Lan's photo, thumbnail first, and its bytes match the hash.
    assert_eq!(minh.store.photos(id).unwrap().len(), 1);
    let client = device::client(&minh.store, minh.key.clone()).unwrap();
    assert_eq!(
        sync::blobs::download_photos(&minh.store, &client, id, true).unwrap(),
        1
    );
    assert!(minh.store.has_blob(&photo.thumbnail.sha256).unwrap());
    assert!(!minh.store.has_blob(&photo.image.sha256).unwrap());
    assert_eq!(
        sync::blobs::download_photos(&minh.store, &client, id, false).unwrap(),
        1
    );
    assert_eq!(
        minh.store.blob(&photo.image.sha256).unwrap(),
        lan.store.blob(&photo.image.sha256).unwrap()
    );

    // Lan resolves the conflict; everyone converges.
    lan.store
        .set_answer(id, "B2", AnswerValue::YesNoNa(YesNoNa::No), None)
        .unwrap();
    lan.answer_rest(id);
    lan.sync().unwrap();
    minh.sync().unwrap();
    assert_eq!(minh.answer(id, "B2").len(), 1);
    assert_eq!(
        minh.store.snapshot(id).unwrap().record.answers,
        lan.store.snapshot(id).unwrap().record.answers
    );

    // A third device (Lan's tablet) synced earlier, then edits offline while
    // the findings are closed, the minutes drawn up, signed and sealed.
    let tablet = Phone::enrolled(&server, &code(s.lan, 1), "Máy tính bảng của Lan");
    tablet.sync().unwrap();
    tablet
        .store
        .set_answer(id, "B4", AnswerValue::YesNoNa(YesNoNa::No), Some("sửa muộn"))
        .unwrap();

    lan.store.close_findings(id).unwrap();
    // Each member signs on their own phone, with its certified key.
    let mut info = minutes_info();
    for (who, phone) in [(s.leader, &leader), (s.lan, &lan), (s.minh, &minh)] {
        let key = phone.key.public_key().unwrap();
        assert!(lan
            .store
            .trusted_keys()
            .unwrap()
            .find(&who.to_string(), &Hash32(key))
            .is_some());
        info.member_keys.insert(who, key);
    }
    lan.store.draw_up_minutes(id, info).unwrap();
    lan.store.sign_minutes(id, s.lan, lan.key.as_ref()).unwrap();
    lan.sync().unwrap();
    minh.sync().unwrap();
    minh.store.sign_minutes(id, s.minh, minh.key.as_ref()).unwrap();
    minh.sync().unwrap();
    leader.sync().unwrap();
    let sealed = leader
        .store
        .sign_minutes(id, s.leader, leader.key.as_ref())
        .unwrap();
    assert!(sealed.is_sealed());
    leader.sync().unwrap();
    lan.sync().unwrap();
    assert_eq!(lan.store.inspection(id).unwrap().status, Status::Sealed);
    // The sealed minutes verify on any device with the certified keys.
    let bundle = lan.store.minutes_bundle(id, None).unwrap();
    let report = kiemtra_core::minutes::verify_bundle_with(&bundle, &lan.store.trusted_keys().unwrap());
    assert!(report.is_valid(), "{report}");

    // The tablet's late edit is refused, kept with the reason, and its state follows the server.
    let report = tablet.sync().unwrap();
    assert_eq!(report.refused, 1);
    let refused = tablet.store.refused_operations().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].op.payload.kind(), "set_answer");
    assert!(!refused[0].reason.is_empty());
    assert_eq!(tablet.store.inspection(id).unwrap().status, Status::Sealed);
    let b4 = tablet.answer(id, "B4");
    assert_eq!(b4.len(), 1);
    assert_eq!(b4[0].note, None);
    assert_eq!(
        tablet.store.snapshot(id).unwrap().record,
        leader.store.snapshot(id).unwrap().record
    );
    minh.sync().unwrap();
    let signers = |p: &Phone| -> Vec<String> {
        p.store
            .current_minutes(id)
            .unwrap()
            .signatures()
            .iter()
            .map(|s| s.signer.clone())
            .collect()
    };
    assert_eq!(signers(&minh).len(), 3);
    assert_eq!(signers(&minh), signers(&leader));
    // And once sealed, the device itself refuses changes.
    assert!(lan
        .store
        .set_answer(id, "B4", AnswerValue::YesNoNa(YesNoNa::No), None)
        .is_err());
}

/// The stopped server's data folder passes the replay check without repair.
fn assert_merge_of_log(data: &Path) {
    let store = kiemtra_server::storage::SledStorage::open(data, 16 << 20).unwrap();
    let report = kiemtra_server::replay::check(&store).unwrap();
    assert!(report.holds(), "{report}");
}

#[test]
fn a_server_killed_mid_push_loses_and_duplicates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let s = set_up(data.path());
    let server = Server::start(data.path(), &[]);
    let addr = server.addr.clone();
    let lan = Phone::enrolled(&server, &s.codes[1].1, "Lan");
    lan.sync().unwrap();
    let id = s.inspection;
    lan.store.start_inspection(id).unwrap();
    // Many small edits: several push batches.
    for n in 0..1500u64 {
        lan.store
            .set_answer(id, "A1", AnswerValue::Count(n), None)
            .unwrap();
    }
    for n in 0..4u8 {
        lan.store
            .add_photo(id, None, &png(700, 500, n + 10), None)
            .unwrap();
    }
    let local_ops: HashSet<_> = lan.store.operations().unwrap().iter().map(|o| o.id).collect();

    // Kill the server while the device is pushing.
    let sync_thread = std::thread::scope(|scope| {
        let handle = scope.spawn(|| lan.sync());
        std::thread::sleep(std::time::Duration::from_millis(150));
        server.kill();
        handle.join().unwrap()
    });
    // Either it finished before the kill or it failed with a network error; never anything else.
    if let Err(e) = &sync_thread {
        assert!(matches!(e, SyncError::Network(_)), "{e}");
    }
    // Whatever the kill interrupted, the records are the merge of the log.
    assert_merge_of_log(data.path());

    // Restart on the same address and sync again: it resumes.
    let server = Server::start_on(data.path(), &addr, &[]);
    lan.sync().unwrap();
    assert_eq!(lan.store.pending_count(), 0);
    assert!(lan.store.upload_queue().unwrap().is_empty());

    // A colleague's fresh device pulls everything: each of Lan's operations exactly once.
    let minh = Phone::enrolled(&server, &s.codes[2].1, "Minh");
    let client = device::client(&minh.store, minh.key.clone()).unwrap();
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = client.pull(cursor, 1000).unwrap();
        seen.extend(page.entries.iter().map(|e| e.op.id));
        cursor = page.next;
        if !page.more {
            break;
        }
    }
    let unique: HashSet<_> = seen.iter().copied().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "an operation appears twice in the server's log"
    );
    let lan_ops_on_server = unique.intersection(&local_ops).count();
    assert_eq!(lan_ops_on_server, local_ops.len());
    minh.sync().unwrap();
    assert_eq!(minh.answer(id, "A1")[0].value, AnswerValue::Count(1499));
    // Every photo blob is on the server, whole.
    let photos = minh.store.photos(id).unwrap();
    assert_eq!(photos.len(), 4);
    assert_eq!(
        sync::blobs::download_photos(&minh.store, &client, id, false).unwrap(),
        8
    );
    server.kill();
    assert_merge_of_log(data.path());
}

#[test]
fn after_the_seal_the_server_refuses_transitions_back_from_a_stale_device() {
    let data = tempfile::tempdir().unwrap();
    let s = set_up(data.path());
    let server = Server::start(data.path(), &[]);
    let code = |who: InspectorId, nth: usize| s.code(who, nth);
    let lan = Phone::enrolled(&server, &code(s.lan, 0), "Điện thoại của Lan");
    let minh = Phone::enrolled(&server, &code(s.minh, 0), "Điện thoại của Minh");
    let leader = Phone::enrolled(&server, &code(s.leader, 0), "Điện thoại trưởng đoàn");
    let tablet = Phone::enrolled(&server, &code(s.lan, 1), "Máy tính bảng của Lan");
    let id = s.inspection;
    lan.sync().unwrap();
    lan.store.start_inspection(id).unwrap();
    lan.answer_rest(id);
    lan.sync().unwrap();
    // Lan's tablet saw the inspection in progress, then went offline and,
    // not knowing what happened since, closed the findings itself.
    tablet.sync().unwrap();
    tablet.store.close_findings(id).unwrap();

    lan.store.close_findings(id).unwrap();
    let mut info = minutes_info();
    for (who, phone) in [(s.leader, &leader), (s.lan, &lan), (s.minh, &minh)] {
        info.member_keys.insert(who, phone.key.public_key().unwrap());
    }
    lan.store.draw_up_minutes(id, info).unwrap();
    lan.store.sign_minutes(id, s.lan, lan.key.as_ref()).unwrap();
    lan.sync().unwrap();
    minh.sync().unwrap();
    minh.store.sign_minutes(id, s.minh, minh.key.as_ref()).unwrap();
    minh.sync().unwrap();
    leader.sync().unwrap();
    leader
        .store
        .sign_minutes(id, s.leader, leader.key.as_ref())
        .unwrap();
    leader.sync().unwrap();

    // Sealed on the server: the tablet's late transition is refused with the reason.
    let report = tablet.sync().unwrap();
    assert_eq!(report.refused, 1, "{report:?}");
    let refused = tablet.store.refused_operations().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].op.payload.kind(), "transition");
    assert!(refused[0].reason.contains("sealed"), "{}", refused[0].reason);
    // A client that skips its own checks fares no better: back to draft, in
    // progress, findings closed or "sealed" by a transition are refused.
    let raw = device::client(&tablet.store, tablet.key.clone()).unwrap();
    let author = tablet.store.identity().unwrap();
    let ops: Vec<Operation> = [
        Status::Draft,
        Status::InProgress,
        Status::FindingsClosed,
        Status::Sealed,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, to)| Operation {
        id: OpId::new(),
        device: tablet.store.device_id(),
        seq: 1_000 + i as u64,
        author,
        at: chrono::Utc::now(),
        payload: Payload::Transition { inspection: id, to },
    })
    .collect();
    let pushed = raw.push(&ops, &[]).unwrap();
    for r in &pushed.results {
        match &r.outcome {
            PushOutcome::Refused { kind, reason } => {
                assert_eq!(*kind, RefusalKind::Lifecycle, "{reason}");
                assert!(reason.contains("sealed"), "{reason}");
            }
            other => panic!("a transition after the seal was not refused: {other:?}"),
        }
    }
    // No other device receives any of them: the server's log holds none.
    let client = device::client(&lan.store, lan.key.clone()).unwrap();
    let mut since = 0;
    let mut from_tablet = 0;
    loop {
        let page = client.pull(since, 500).unwrap();
        from_tablet += page
            .entries
            .iter()
            .filter(|e| e.op.device == tablet.store.device_id() && e.op.payload.kind() == "transition")
            .count();
        since = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(from_tablet, 0);
    lan.sync().unwrap();
    assert_eq!(lan.store.inspection(id).unwrap().status, Status::Sealed);
    assert_eq!(tablet.store.inspection(id).unwrap().status, Status::Sealed);
    // Delivery still moves it on, on the device and on the server.
    lan.store.transition(id, Status::Delivered).unwrap();
    let report = lan.sync().unwrap();
    assert_eq!(report.refused, 0);
    leader.sync().unwrap();
    assert_eq!(leader.store.inspection(id).unwrap().status, Status::Delivered);
}
