//! A sync cancelled at each kind of step (between push batches, between
//! photo uploads, before a pulled page) keeps what it finished, and the next
//! sync resumes there: the server holds each operation once and every photo
//! whole. The core side of the bindings' async, cancellable `sync`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use kiemtra_core::answer::AnswerValue;
use kiemtra_core::sync::{self, device, SyncError, SyncObserver, SyncPhase, SyncProgress};
use kiemtra_tests::field::{png, Phone};
use kiemtra_tests::inspectorate::{assign, enterprise, team};
use kiemtra_tests::Server;

/// Cancels once `when` holds for a progress report.
struct CancelWhen<F: Fn(&SyncProgress) -> bool + Send + Sync> {
    when: F,
    cancelled: AtomicBool,
}

impl<F: Fn(&SyncProgress) -> bool + Send + Sync> CancelWhen<F> {
    fn new(when: F) -> Self {
        Self {
            when,
            cancelled: AtomicBool::new(false),
        }
    }
}

impl<F: Fn(&SyncProgress) -> bool + Send + Sync> SyncObserver for CancelWhen<F> {
    fn on_progress(&self, p: SyncProgress) {
        if (self.when)(&p) {
            self.cancelled.store(true, Ordering::SeqCst);
        }
    }

    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

#[test]
fn a_sync_cancelled_at_any_step_keeps_what_it_did_and_the_next_resumes() {
    let data = tempfile::tempdir().unwrap();
    let (id, lan_code, minh_code) = {
        let mut w = kiemtra_server::admin::open_writer(data.path()).unwrap();
        let t = team(&mut w);
        let delegation = w
            .create_delegation(
                "Đoàn kiểm tra số 5",
                "Quyết định số 130/QĐ-SNV",
                t.leader,
                &[t.lan, t.minh],
                None,
            )
            .unwrap()
            .id;
        let facility = enterprise(
            &mut w,
            "Công ty CP Cơ khí Lạch Tray",
            "0200123987",
            "hp.ngo-quyen",
        );
        let id = assign(&mut w, delegation, &facility);
        let codes = (
            w.enrol_code(t.lan, 24).unwrap(),
            w.enrol_code(t.minh, 24).unwrap(),
        );
        // Nothing is stored until the writer commits.
        w.commit().unwrap();
        (id, codes.0, codes.1)
    };
    let server = Server::start(data.path(), &[]);
    let lan = Phone::enrolled(&server, &lan_code, "Lan");
    lan.sync().unwrap();
    lan.store.start_inspection(id).unwrap();
    // Two push batches, three photos (six blobs).
    for n in 0..600u64 {
        lan.store
            .set_answer(id, "A1", AnswerValue::Count(n), None)
            .unwrap();
    }
    for n in 0..3u8 {
        lan.store
            .add_photo(id, None, &png(640, 480, n + 20), None)
            .unwrap();
    }
    let pending = lan.store.pending_count();
    let client = device::client(&lan.store, lan.key.clone()).unwrap();
    let cancelled = |observer: &dyn SyncObserver| match sync::sync(&lan.store, &client, observer) {
        Err(SyncError::Cancelled) => {}
        other => panic!("not cancelled: {other:?}"),
    };

    // Photos go first (the server takes no operation before its photos).
    // After the first uploaded blob: five blobs wait, every operation too.
    cancelled(&CancelWhen::new(|p| {
        p.phase == SyncPhase::UploadingPhotos && p.photos_done == 1
    }));
    assert_eq!(lan.store.pending_count(), pending);
    assert_eq!(lan.store.upload_queue().unwrap().len(), 5);
    // After the first push batch: the blobs are up, that batch is recorded,
    // the rest still pending.
    cancelled(&CancelWhen::new(|p| {
        p.phase == SyncPhase::Pushing && p.ops_done > 0
    }));
    assert_eq!(lan.store.upload_queue().unwrap().len(), 0);
    assert_eq!(lan.store.pending_count(), pending - sync::engine::PUSH_BATCH);
    // The next sync resumes: no blob again, the rest of the operations go.
    let report = sync::sync(&lan.store, &client, &sync::NoProgress).unwrap();
    assert_eq!(
        (report.pushed, report.photos_uploaded),
        ((pending - sync::engine::PUSH_BATCH) as u64, 0)
    );

    // A colleague's sync cancelled as its pull begins has applied nothing; the next pulls everything.
    let minh = Phone::enrolled(&server, &minh_code, "Minh");
    let minh_client = device::client(&minh.store, minh.key.clone()).unwrap();
    match sync::sync(
        &minh.store,
        &minh_client,
        &CancelWhen::new(|p| p.phase == SyncPhase::Pulling),
    ) {
        Err(SyncError::Cancelled) => {}
        other => panic!("not cancelled: {other:?}"),
    }
    assert_eq!(minh.store.sync_cursor().unwrap(), 0);
    assert!(minh.store.inspection(id).is_err());
    minh.sync().unwrap();
    assert_eq!(minh.answer(id, "A1")[0].value, AnswerValue::Count(599));
    // The server holds each of Lan's operations once, and every photo whole.
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = minh_client.pull(cursor, 1000).unwrap();
        seen.extend(page.entries.iter().map(|e| e.op.id));
        cursor = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
    assert_eq!(minh.store.photos(id).unwrap().len(), 3);
    assert_eq!(
        sync::blobs::download_photos(&minh.store, &minh_client, id, false).unwrap(),
        6
    );
}
