//! A real server on a port-0 loopback listener, in-process, with reference
//! data set up through the admin writer first (as an administrator would with
//! the server stopped).

#![allow(dead_code)]

use chrono::{NaiveDate, Utc};
use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
use kiemtra_core::facility::{Facility, FacilityKind, NewFacility};
use kiemtra_core::ids::{DelegationId, DeviceId, InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::{InspectionKind, Status};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::template::{osh_general, ChecklistTemplate, TemplateRef};
use std::sync::Arc;

use kiemtra_server::app::AppState;
use kiemtra_server::storage::{Faulty, FsBlobStore};
pub mod raw_client;
pub use raw_client::DeviceClient;

pub const SMALL_TEMPLATE: &str = r#"{
  "format": "kiemtra-template/1",
  "id": "tiny",
  "version": 1,
  "title_vi": "Mẫu thử",
  "sections": [
    { "code": "A", "title_vi": "Phần A", "items": [
      { "code": "A1", "question_vi": "Có nội quy an toàn không?", "answer": "yes_no_na",
        "legal_basis": [{ "instrument": "Luật 84/2015/QH13", "article": "Điều 14" }],
        "compliant_when": { "equals": "yes" }, "severity": "minor",
        "violation_vi": "Không có nội quy an toàn", "remediation_days": 30 }
    ]}
  ]
}"#;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// Arms storage failures under the running server.
    pub faults: Arc<Faulty>,
    pub rt: tokio::runtime::Runtime,
    pub base: String,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Inspector A leads delegation 1; B leads delegation 2.
    pub a: InspectorId,
    pub b: InspectorId,
    pub d1: DelegationId,
    pub d2: DelegationId,
    pub facility: Facility,
    /// Delegation 1, osh-general.
    pub insp1: InspectionId,
    /// Delegation 2, osh-general.
    pub insp2: InspectionId,
    /// Delegation 1, the one-item template.
    pub tiny1: InspectionId,
    pub tiny: ChecklistTemplate,
}

impl Fixture {
    pub fn start() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let tiny = kiemtra_core::template::parse(SMALL_TEMPLATE).unwrap();
        let date = NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
        let (a, b, d1, d2, facility, insp1, insp2, tiny1);
        {
            let mut w = kiemtra_server::admin::open_writer(dir.path()).unwrap();
            w.publish_template(&osh_general()).unwrap();
            w.publish_template(&tiny).unwrap();
            a = w
                .create_inspector("Nguyễn Thị Lan", "Thanh tra viên", "Sở Nội vụ")
                .unwrap()
                .id;
            b = w
                .create_inspector("Trần Văn Hùng", "Thanh tra viên", "Sở Nội vụ")
                .unwrap()
                .id;
            d1 = w.create_delegation("Đoàn 1", "QĐ 1", a, &[], None).unwrap().id;
            d2 = w.create_delegation("Đoàn 2", "QĐ 2", b, &[], None).unwrap().id;
            facility = NewFacility {
                kind: FacilityKind::Enterprise,
                name: "Công ty CP Cơ khí Lạch Tray".into(),
                tax_code: Some("0200123456".into()),
                street: "Số 5 Lạch Tray".into(),
                unit: "hp.ngo-quyen".into(),
                sector: "Cơ khí".into(),
                workforce: 320,
                high_risk: true,
            }
            .validate(Default::default(), w.admin_units())
            .unwrap();
            w.put_facility(&facility).unwrap();
            let osh = osh_general().key();
            insp1 = w
                .assign(d1, facility.id, osh.clone(), date, InspectionKind::Inspection)
                .unwrap()
                .id;
            insp2 = w
                .assign(d2, facility.id, osh, date, InspectionKind::Inspection)
                .unwrap()
                .id;
            tiny1 = w
                .assign(d1, facility.id, tiny.key(), date, InspectionKind::Inspection)
                .unwrap()
                .id;
            w.commit().unwrap();
        }
        // The real sled storage behind a fault injector, idle unless a test arms it.
        let opened = kiemtra_server::writer::open_dir(dir.path(), 16 * 1024 * 1024).unwrap();
        let faults = Arc::new(Faulty::new(opened.store));
        let blobs = Arc::new(FsBlobStore::open(&dir.path().join(kiemtra_server::app::BLOB_DIR)).unwrap());
        let state = AppState::on(faults.clone(), blobs, opened.key, None).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = state.clone();
        rt.spawn(async move {
            kiemtra_server::app::serve(listener, s, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Fixture {
            dir,
            faults,
            rt,
            base,
            state,
            stop: Some(tx),
            a,
            b,
            d1,
            d2,
            facility,
            insp1,
            insp2,
            tiny1,
            tiny,
        }
    }

    /// A fresh one-time code for `inspector`.
    pub fn code(&self, inspector: InspectorId, valid_hours: u32) -> String {
        self.rt
            .block_on(
                self.state
                    .writer
                    .run(move |w| w.enrol_code(inspector, valid_hours)),
            )
            .unwrap()
    }

    /// An enrolled, signed-in device of `inspector`.
    pub fn device(&self, inspector: InspectorId) -> DeviceClient {
        let mut c = DeviceClient::new(&self.base);
        c.enrol(&self.code(inspector, 24), "Điện thoại thử").unwrap();
        c.login().unwrap();
        c
    }

    pub fn revoke(&self, device: DeviceId) {
        self.rt
            .block_on(self.state.writer.run(move |w| w.revoke_device(device)))
            .unwrap();
    }

    pub fn head(&self) -> u64 {
        self.state.db.storage().log_head().unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// An operation of `c`'s device, authored by `author`.
pub fn op(c: &DeviceClient, author: InspectorId, seq: u64, payload: Payload) -> Operation {
    Operation {
        id: OpId::new(),
        device: c.device,
        seq,
        author: Some(author),
        at: Utc::now(),
        payload,
    }
}

pub fn start(inspection: InspectionId) -> Payload {
    Payload::Transition {
        inspection,
        to: Status::InProgress,
    }
}

pub fn answer(inspection: InspectionId, item: &str, value: AnswerValue) -> Payload {
    Payload::SetAnswer {
        inspection,
        item: item.into(),
        entry: AnswerEntry { value, note: None },
        supersedes: vec![],
    }
}

pub fn yes() -> AnswerValue {
    AnswerValue::YesNoNa(YesNoNa::Yes)
}

pub fn template_ref(t: &ChecklistTemplate) -> TemplateRef {
    t.key()
}
