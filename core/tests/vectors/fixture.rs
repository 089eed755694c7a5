//! Fixtures for the minutes tests, example and bench (included with `#[path]`):
//! a deterministic document with fixed ids and times (for the test vector),
//! and a realistic inspection recorded through the `Store`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
use kiemtra_core::facility::{Address, Facility, FacilityKind, NewFacility, TaxCode};
use kiemtra_core::geo::GeoPoint;
use kiemtra_core::identity::{DeviceKey, KeyStore};
use kiemtra_core::ids::{DelegationId, FacilityId, InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::{Inspection, InspectionKind, Status};
use kiemtra_core::merge::Version;
use kiemtra_core::minutes::{Hash32, MinutesInfo, Person, PhotoRef, Statement};
use kiemtra_core::people::{Delegation, DelegationMember, Inspector, Role};
use kiemtra_core::record::InspectionRecord;
use kiemtra_core::store::{InspectionSnapshot, NewInspection, Store};
use kiemtra_core::template::{osh_general, AnswerType, Item};
use uuid::Uuid;

pub const AGENCY: &str = "Sở Nội vụ thành phố Hải Phòng";
pub const VERIFY_URL: &str = "https://kiemtra.haiphong.example/xac-minh";

/// "No" to these items: they become violations.
const NO_ITEMS: [&str; 4] = ["B2", "B5", "E1", "G2"];

/// The answer the fixtures give an item.
pub fn answer_for(item: &Item) -> (AnswerValue, Option<&'static str>) {
    match (item.answer, item.code.as_str()) {
        (AnswerType::Count, "A1") => (AnswerValue::Count(350), None),
        (AnswerType::Count, "A2") => (
            AnswerValue::Count(24),
            Some("Vận hành xe nâng, nồi hơi, cầu trục"),
        ),
        (AnswerType::Count, _) => (AnswerValue::Count(6), None),
        (AnswerType::Ratio, "C1") => (
            AnswerValue::Ratio {
                numerator: 45,
                denominator: 50,
            },
            Some("5 người mới tuyển chưa được huấn luyện"),
        ),
        (AnswerType::Ratio, _) => (
            AnswerValue::Ratio {
                numerator: 6,
                denominator: 6,
            },
            None,
        ),
        (AnswerType::YesNoNa, c) if NO_ITEMS.contains(&c) => (
            AnswerValue::YesNoNa(YesNoNa::No),
            Some("Chưa xuất trình được hồ sơ <script>alert(1)</script>"),
        ),
        (AnswerType::YesNoNa, _) => (AnswerValue::YesNoNa(YesNoNa::Yes), None),
        (AnswerType::Text, _) => (AnswerValue::Text("Đã ghi nhận".into()), None),
    }
}

fn uuid(n: u128) -> Uuid {
    // Fixed v7-shaped ids: a constant timestamp prefix and a counter.
    Uuid::from_u128(0x0195_6000_0000_7000_8000_0000_0000_0000 | n)
}

pub fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("fixture time")
}

pub struct Fixture {
    pub snapshot: InspectionSnapshot,
    pub delegation: Delegation,
    pub inspectors: Vec<Inspector>,
    /// Leader, member, secretary.
    pub keys: Vec<DeviceKey>,
}

impl Fixture {
    pub fn leader(&self) -> InspectorId {
        self.inspectors[0].id
    }
    pub fn member(&self) -> InspectorId {
        self.inspectors[1].id
    }
    pub fn secretary(&self) -> InspectorId {
        self.inspectors[2].id
    }

    pub fn info(&self, statement: Statement) -> MinutesInfo {
        let mut member_keys = BTreeMap::new();
        for (i, k) in self.inspectors.iter().zip(&self.keys) {
            member_keys.insert(i.id, k.public_key().expect("key"));
        }
        let refused = matches!(statement, Statement::Refused { .. });
        MinutesInfo {
            number: "15/BB-ĐKT".into(),
            issuing_body: vec!["SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG".into(), "ĐOÀN KIỂM TRA".into()],
            subject: MinutesInfo::OSH_SUBJECT.into(),
            extra_grounds: vec![
                "Kế hoạch số 45/KH-SNV ngày 10/01/2025 về kiểm tra công tác ATVSLĐ năm 2025.".into(),
            ],
            city: "Hải Phòng".into(),
            place: "Văn phòng Công ty TNHH Cơ khí Hải Phòng, số 5 đường Lạch Tray".into(),
            location: Some(GeoPoint {
                lat_e7: 208_449_120,
                lon_e7: 1_066_880_840,
            }),
            made_elsewhere_reason: None,
            started_at: t("2025-03-05T08:30:00+07:00"),
            ended_at: t("2025-03-05T11:45:00+07:00"),
            representative: Some(Person {
                name: "Trần Văn Hùng".into(),
                title: "Giám đốc".into(),
            }),
            others_present: vec![Person {
                name: "Lê Thị Mai".into(),
                title: "Cán bộ an toàn".into(),
            }],
            statement,
            copies: 3,
            photos: vec![
                PhotoRef {
                    sha256: Hash32::sha256(&photo_bytes(1)),
                    caption: "Cầu trục chưa kiểm định".into(),
                    item: Some("B5".into()),
                },
                PhotoRef {
                    sha256: Hash32::sha256(&photo_bytes(2)),
                    caption: "Toàn cảnh xưởng".into(),
                    item: None,
                },
            ],
            member_keys,
            representative_signature_png_sha256: if refused {
                None
            } else {
                Some(Hash32::sha256(&drawn_signature()))
            },
            report_to: Some(AGENCY.into()),
            previous: None,
        }
    }
}

/// Stand-ins for photo files (the minutes only cite their hashes).
pub fn photo_bytes(n: u8) -> Vec<u8> {
    let mut v = b"\xff\xd8\xff\xe0JFIF fixture photo ".to_vec();
    v.extend(std::iter::repeat_n(n, 4096));
    v
}

pub fn drawn_signature() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n fixture signature".to_vec();
    v.extend(std::iter::repeat_n(7u8, 512));
    v
}

pub fn statement() -> Statement {
    Statement::Statement {
        text: "Đơn vị nhất trí với kết quả kiểm tra và cam kết khắc phục đúng thời hạn.".into(),
    }
}

pub fn refusal() -> Statement {
    Statement::Refused {
        reason: "Giám đốc cho rằng cần xin ý kiến công ty mẹ trước khi ký".into(),
        witness: Some(kiemtra_core::minutes::Witness {
            name: "Phạm Văn Tâm".into(),
            title: "Phó Chủ tịch UBND phường".into(),
            role: "Đại diện UBND phường Lạch Tray".into(),
        }),
    }
}

fn people(ids: [InspectorId; 3]) -> Vec<Inspector> {
    vec![
        Inspector::new(ids[0], "Nguyễn Văn An", "Thanh tra viên chính", AGENCY).expect("inspector"),
        Inspector::new(ids[1], "Đỗ Thị Bình", "Thanh tra viên", AGENCY).expect("inspector"),
        Inspector::new(ids[2], "Vũ Minh Châu", "Chuyên viên", AGENCY).expect("inspector"),
    ]
}

fn fixed_keys() -> Vec<DeviceKey> {
    (1u8..=3)
        .map(|n| DeviceKey::from_secret_bytes(&[n; 32]).expect("key"))
        .collect()
}

/// A document with fixed ids, times and keys: the same bytes on every run.
pub fn fixed() -> Fixture {
    let ids = [
        InspectorId::from_uuid(uuid(1)),
        InspectorId::from_uuid(uuid(2)),
        InspectorId::from_uuid(uuid(3)),
    ];
    let inspectors = people(ids);
    let delegation = Delegation {
        id: DelegationId::from_uuid(uuid(10)),
        name: "Đoàn kiểm tra số 2".into(),
        decision: "Quyết định số 12/QĐ-SNV ngày 20/02/2025 của Giám đốc Sở Nội vụ thành phố Hải Phòng về việc thành lập Đoàn kiểm tra".into(),
        members: vec![
            DelegationMember { inspector: ids[0], role: Role::Leader },
            DelegationMember { inspector: ids[1], role: Role::Member },
            DelegationMember { inspector: ids[2], role: Role::Secretary },
        ],
    };
    let template = osh_general();
    let facility = Facility {
        id: FacilityId::from_uuid(uuid(20)),
        kind: FacilityKind::Enterprise,
        name: "Công ty TNHH Cơ khí Hải Phòng".into(),
        tax_code: Some(TaxCode::parse("0200123456").expect("tax code")),
        address: Address {
            street: "Số 5 đường Lạch Tray".into(),
            unit: "hp.ngo-quyen".into(),
        },
        sector: "Cơ khí chế tạo".into(),
        workforce: 350,
        high_risk: true,
    };
    let at: DateTime<Utc> = "2025-03-05T01:30:00Z".parse().expect("time");
    let inspection = Inspection {
        id: InspectionId::from_uuid(uuid(30)),
        kind: InspectionKind::Inspection,
        facility: facility.id,
        template: template.key(),
        delegation: delegation.id,
        planned_date: NaiveDate::from_ymd_opt(2025, 3, 5).expect("date"),
        location: None,
        status: Status::FindingsClosed,
        created_by: Some(ids[0]),
        created_at: at,
        started_at: Some(at),
        accident: None,
    };
    let mut record = InspectionRecord::new(inspection);
    let mut n = 100;
    for (_, item) in template.items() {
        if !record.is_asked(item, facility.kind) {
            continue;
        }
        let (value, note) = answer_for(item);
        n += 1;
        let version = Version {
            op: OpId::from_uuid(uuid(n)),
            author: Some(ids[1]),
            at,
            value: AnswerEntry {
                value,
                note: note.map(str::to_string),
            },
        };
        record
            .answers
            .entry(item.code.clone())
            .or_default()
            .apply(version, &[]);
    }
    Fixture {
        snapshot: InspectionSnapshot {
            record,
            template,
            facility,
        },
        delegation,
        inspectors,
        keys: fixed_keys(),
    }
}

/// A realistic inspection recorded through the store in `dir`, with fresh keys.
pub fn recorded(dir: &std::path::Path) -> Fixture {
    let store = Store::open(dir).expect("store");
    let a = store
        .add_inspector("Nguyễn Văn An", "Thanh tra viên chính", AGENCY)
        .expect("inspector");
    let b = store
        .add_inspector("Đỗ Thị Bình", "Thanh tra viên", AGENCY)
        .expect("inspector");
    let c = store
        .add_inspector("Vũ Minh Châu", "Chuyên viên", AGENCY)
        .expect("inspector");
    store.set_identity(a.id).expect("identity");
    let delegation = store
        .add_delegation(
            "Đoàn kiểm tra số 2",
            "Quyết định số 12/QĐ-SNV ngày 20/02/2025 của Giám đốc Sở Nội vụ thành phố Hải Phòng",
            a.id,
            vec![
                DelegationMember {
                    inspector: b.id,
                    role: Role::Member,
                },
                DelegationMember {
                    inspector: c.id,
                    role: Role::Secretary,
                },
            ],
        )
        .expect("delegation");
    let facility = store
        .add_facility(NewFacility {
            kind: FacilityKind::Enterprise,
            name: "Công ty TNHH Cơ khí Hải Phòng".into(),
            tax_code: Some("0200123456".into()),
            street: "Số 5 đường Lạch Tray".into(),
            unit: "hp.ngo-quyen".into(),
            sector: "Cơ khí chế tạo".into(),
            workforce: 350,
            high_risk: true,
        })
        .expect("facility");
    let template = osh_general();
    store.install_template(&template).expect("template");
    let inspection = store
        .create_inspection(NewInspection {
            kind: InspectionKind::Inspection,
            facility: facility.id,
            template: template.key(),
            delegation: delegation.id,
            planned_date: NaiveDate::from_ymd_opt(2025, 3, 5).expect("date"),
            location: Some(GeoPoint {
                lat_e7: 208_449_120,
                lon_e7: 1_066_880_840,
            }),
        })
        .expect("inspection");
    store.start_inspection(inspection.id).expect("start");
    for (_, item) in template.items() {
        let snap = store.snapshot(inspection.id).expect("snapshot");
        if !snap.record.is_asked(item, facility.kind) {
            continue;
        }
        let (value, note) = answer_for(item);
        store
            .set_answer(inspection.id, &item.code, value, note)
            .expect("answer");
    }
    // One proposal is dismissed: it stays in the minutes, marked, not numbered.
    store
        .dismiss_violation(inspection.id, "G2", "Đã khắc phục ngay trong buổi kiểm tra")
        .expect("dismiss");
    store.close_findings(inspection.id).expect("close");
    Fixture {
        snapshot: store.snapshot(inspection.id).expect("snapshot"),
        delegation,
        inspectors: vec![a, b, c],
        keys: (0..3).map(|_| DeviceKey::generate().expect("key")).collect(),
    }
}
