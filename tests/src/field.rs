//! Phones for the end-to-end tests: a core store and a device key in a
//! folder of their own, enrolled with the real server, and the inspection
//! work the tests repeat (answering a checklist, the minutes' particulars,
//! a generated photo).

use std::sync::Arc;

use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
use kiemtra_core::identity::FileKeyStore;
use kiemtra_core::ids::InspectionId;
use kiemtra_core::record::AnswerState;
use kiemtra_core::store::Store;
use kiemtra_core::sync::{self, device, NoProgress, SyncError};

use crate::Server;

/// A phone: its store and its key, in its own folder.
pub struct Phone {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub key: Arc<FileKeyStore>,
}

impl Phone {
    pub fn enrolled(server: &Server, code: &str, name: &str) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("store")).unwrap();
        let key = Arc::new(FileKeyStore::open_or_create(dir.path().join("device-key")).unwrap());
        device::enrol(&store, key.clone(), &server.url(""), code, name, None).unwrap();
        Phone {
            _dir: dir,
            store,
            key,
        }
    }

    /// The same phone after the app was closed and opened again.
    pub fn reopened(self) -> Phone {
        let Phone { _dir, store, key } = self;
        drop(store);
        let store = Store::open(_dir.path().join("store")).unwrap();
        Phone { _dir, store, key }
    }

    pub fn sync(&self) -> Result<sync::SyncReport, SyncError> {
        let client = device::client(&self.store, self.key.clone())?;
        sync::sync(&self.store, &client, &NoProgress)
    }

    /// Answers every asked, unanswered item compliantly.
    pub fn answer_rest(&self, id: InspectionId) {
        self.answer_rest_except(id, &[]);
    }

    /// The live versions of an answer: none, one, or several in a conflict.
    pub fn answer(&self, id: InspectionId, item: &str) -> Vec<AnswerEntry> {
        let snap = self.store.snapshot(id).unwrap();
        snap.record
            .answers
            .get(item)
            .map(|r| r.versions().iter().map(|v| v.value.clone()).collect())
            .unwrap_or_default()
    }

    /// Answers every asked, unanswered item: compliant, except the items in
    /// `non_compliant`, answered "no" (violations).
    pub fn answer_rest_except(&self, id: InspectionId, non_compliant: &[&str]) {
        answer_rest_except(&self.store, id, non_compliant);
    }
}

/// Answers every asked, unanswered item of a store's inspection: compliant,
/// except the items in `non_compliant`, answered "no" (violations).
pub fn answer_rest_except(store: &Store, id: InspectionId, non_compliant: &[&str]) {
    loop {
        let snap = store.snapshot(id).unwrap();
        let todo: Vec<_> = snap
            .checklist()
            .into_iter()
            .filter(|l| l.asked && l.answer == AnswerState::Unanswered)
            .map(|l| (l.item.code.clone(), l.item.answer))
            .collect();
        if todo.is_empty() {
            return;
        }
        for (code, t) in todo {
            use kiemtra_core::template::AnswerType as T;
            let v = match t {
                T::YesNoNa if non_compliant.contains(&code.as_str()) => AnswerValue::YesNoNa(YesNoNa::No),
                T::YesNoNa => AnswerValue::YesNoNa(YesNoNa::Yes),
                T::Count => AnswerValue::Count(if code == "A1" { 350 } else { 4 }),
                T::Ratio => AnswerValue::Ratio {
                    numerator: 4,
                    denominator: 4,
                },
                T::Text => AnswerValue::Text("Ghi nhận".into()),
            };
            store.set_answer(id, &code, v, None).unwrap();
        }
    }
}

pub fn minutes_info() -> kiemtra_core::minutes::MinutesInfo {
    use kiemtra_core::minutes::{MinutesInfo, Person, Statement};
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    MinutesInfo {
        number: "21/BB-ĐKT".into(),
        issuing_body: vec!["SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG".into(), "ĐOÀN KIỂM TRA".into()],
        subject: MinutesInfo::OSH_SUBJECT.into(),
        extra_grounds: vec![],
        city: "Hải Phòng".into(),
        place: "Nhà máy, số 3 Phan Đình Phùng".into(),
        location: None,
        made_elsewhere_reason: None,
        started_at: t("2025-03-05T08:00:00+07:00"),
        ended_at: t("2025-03-05T11:30:00+07:00"),
        representative: Some(Person {
            name: "Vũ Đức Thắng".into(),
            title: "Phó Giám đốc".into(),
        }),
        others_present: vec![],
        statement: Statement::Refused {
            reason: "Không đồng ý với kết luận về thiết bị nâng".into(),
            witness: Some(kiemtra_core::minutes::Witness {
                name: "Đỗ Thị Hoa".into(),
                title: "Phó Chủ tịch UBND phường".into(),
                role: "Đại diện chính quyền địa phương".into(),
            }),
        },
        copies: 2,
        photos: vec![],
        member_keys: Default::default(),
        representative_signature_png_sha256: None,
        report_to: None,
        previous: None,
    }
}

pub fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::ImageBuffer::from_fn(w, h, |x, y| {
        image::Rgb([(x as u8).wrapping_mul(seed), (y as u8).wrapping_add(seed), seed])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}
