//! Representative values of every wire type, with fixed ids, times and
//! keys so that their bytes are the same on every run: the schema test
//! validates them and the examples page shows them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use kiemtra_core::access_code::AccessCode;
use kiemtra_core::admin_units::{AdminUnit, UnitLevel};
use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
use kiemtra_core::codec::to_cbor;
use kiemtra_core::evidence::{BlobRef, PhotoRecord};
use kiemtra_core::facility::{Address, Facility, FacilityKind, TaxCode};
use kiemtra_core::geo::GeoPoint;
use kiemtra_core::identity::{DeviceKey, KeyStore};
use kiemtra_core::ids::{AccidentId, DelegationId, DeviceId, FacilityId, InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::{Inspection, InspectionKind, Status};
use kiemtra_core::minutes::{signing_message, Hash32, MinutesSignature, Sig64, Statement, Witness};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::people::{Delegation, DelegationMember, Inspector, Role};
use kiemtra_core::photo::SourceFormat;
use kiemtra_core::remediation::{Review, Verdict};
use kiemtra_core::sync::wire::*;
use kiemtra_core::template::{
    AnswerType, ChecklistTemplate, ComplianceRule, Condition, Item, LegalRef, Section, Severity, TemplateRef,
    ViolationSpec,
};
use kiemtra_core::violation::ViolationEdit;
use serde::Serialize;
use uuid::Uuid;

/// One value as CBOR, and the schema rule it must match.
pub struct Sample {
    /// A short name, unique among the samples (the examples page's anchor).
    pub name: String,
    pub rule: &'static str,
    /// The Rust type, as the examples page names it and the test decodes it.
    pub rust: &'static str,
    pub bytes: Vec<u8>,
}

pub fn sample<T: Serialize>(name: &str, rule: &'static str, rust: &'static str, value: &T) -> Sample {
    Sample {
        name: name.into(),
        rule,
        rust,
        bytes: to_cbor("sample", value).expect("samples encode"),
    }
}

/// The schema rule of each payload. No wildcard arm: a new variant does not
/// compile until it is given a rule here (and then the schema test asks for
/// the rule in the schema and a sample of it).
pub fn payload_rule(p: &Payload) -> &'static str {
    match p {
        Payload::PutFacility(_) => "op-put-facility",
        Payload::PutInspector(_) => "op-put-inspector",
        Payload::PutDelegation(_) => "op-put-delegation",
        Payload::CreateInspection(_) => "op-create-inspection",
        Payload::Transition { .. } => "op-transition",
        Payload::SetAnswer { .. } => "op-set-answer",
        Payload::EditViolation { .. } => "op-edit-violation",
        Payload::AddPhoto { .. } => "op-add-photo",
        Payload::DrawUpMinutes { .. } => "op-draw-up-minutes",
        Payload::SignMinutes { .. } => "op-sign-minutes",
        Payload::ReportRemediation { .. } => "op-report-remediation",
        Payload::ReviewRemediation { .. } => "op-review-remediation",
        Payload::PublishTemplate(_) => "op-publish-template",
        Payload::PublishAdminUnits { .. } => "op-publish-admin-units",
        Payload::CertifyDevice(_) => "op-certify-device",
        Payload::RevokeDevice { .. } => "op-revoke-device",
    }
}

pub fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x0195_6000_0000_7000_8000_0000_0000_0000 | n)
}

pub fn time(s: &str) -> DateTime<Utc> {
    s.parse().expect("sample time")
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("sample date")
}

/// The example device's key (a fixed seed: never use it for anything real).
pub fn device_key() -> DeviceKey {
    DeviceKey::from_secret_bytes(&[0x11; 32]).expect("fixed key")
}

/// The example server's key.
pub fn server_key() -> DeviceKey {
    DeviceKey::from_secret_bytes(&[0x22; 32]).expect("fixed key")
}

pub fn device() -> DeviceId {
    DeviceId::from_uuid(uuid(0xd1))
}
pub fn inspector_id() -> InspectorId {
    InspectorId::from_uuid(uuid(0x1))
}
pub fn inspection_id() -> InspectionId {
    InspectionId::from_uuid(uuid(0x100))
}
fn facility_id() -> FacilityId {
    FacilityId::from_uuid(uuid(0xf1))
}
fn op_id(n: u128) -> OpId {
    OpId::from_uuid(uuid(0x1000 + n))
}

pub fn inspector() -> Inspector {
    Inspector {
        id: inspector_id(),
        name: "Nguyễn Thị Lan".into(),
        title: "Thanh tra viên".into(),
        agency: "Sở Nội vụ".into(),
    }
}

pub fn facility() -> Facility {
    Facility {
        id: facility_id(),
        kind: FacilityKind::Enterprise,
        name: "Công ty TNHH Cơ khí Hải Phòng".into(),
        tax_code: Some(TaxCode::parse("0200123456-001").expect("tax code")),
        address: Address {
            street: "Số 5 đường Lạch Tray".into(),
            unit: "hp.ngo-quyen".into(),
        },
        sector: "Cơ khí".into(),
        workforce: 350,
        high_risk: true,
    }
}

pub fn delegation() -> Delegation {
    Delegation {
        id: DelegationId::from_uuid(uuid(0xde1)),
        name: "Đoàn kiểm tra số 2".into(),
        decision: "Quyết định số 12/QĐ-SNV".into(),
        members: vec![
            DelegationMember {
                inspector: inspector_id(),
                role: Role::Leader,
            },
            DelegationMember {
                inspector: InspectorId::from_uuid(uuid(0x2)),
                role: Role::Member,
            },
        ],
    }
}

pub fn geo() -> GeoPoint {
    GeoPoint {
        lat_e7: 208_449_120,
        lon_e7: 1_066_880_840,
    }
}

pub fn inspection(accident: bool) -> Inspection {
    Inspection {
        id: inspection_id(),
        kind: if accident {
            InspectionKind::AccidentInvestigation
        } else {
            InspectionKind::Inspection
        },
        facility: facility_id(),
        template: TemplateRef {
            id: "osh-general".into(),
            version: 1,
        },
        delegation: delegation().id,
        planned_date: date("2025-03-04"),
        location: accident.then(geo),
        status: Status::Draft,
        created_by: Some(inspector_id()),
        created_at: time("2025-03-01T02:00:00Z"),
        started_at: None,
        accident: accident.then(|| AccidentId::from_uuid(uuid(0xacc))),
    }
}

fn blob(n: u8, size: u64, side: u32) -> BlobRef {
    BlobRef {
        sha256: hex::encode([n; 32]),
        size,
        width: side,
        height: side * 3 / 4,
    }
}

pub fn photo(full: bool) -> PhotoRecord {
    PhotoRecord {
        item: full.then(|| "B2".into()),
        caption: full.then(|| "Tủ điện không khoá".into()),
        image: blob(0xa1, 245_112, 1600),
        thumbnail: blob(0xa2, 9_877, 320),
        original_sha256: hex::encode([0xa3; 32]),
        original_size: 3_145_728,
        source_format: if full {
            SourceFormat::Jpeg
        } else {
            SourceFormat::Png
        },
        captured_at: full.then(|| {
            "2025-03-04T14:59:02"
                .parse::<NaiveDateTime>()
                .expect("camera time")
        }),
        position: full.then(geo),
        added_by: full.then(inspector_id),
        added_at: time("2025-03-04T08:01:30.250Z"),
    }
}

pub fn legal_ref() -> LegalRef {
    LegalRef {
        instrument: "Luật 84/2015/QH13".into(),
        article: "Điều 14 khoản 2".into(),
        verified: true,
    }
}

pub fn template() -> ChecklistTemplate {
    let spec = ViolationSpec {
        severity: Severity::Major,
        text_vi: "Không có nội quy an toàn".into(),
        text_en: None,
        requirement_vi: "Ban hành nội quy an toàn".into(),
        remediation_days: 30,
        sanction: Some(LegalRef {
            instrument: "Nghị định 12/2022/NĐ-CP".into(),
            article: "Điều 22 khoản 1".into(),
            verified: false,
        }),
    };
    ChecklistTemplate {
        id: "tiny".into(),
        version: 1,
        title_vi: "Mẫu thử".into(),
        title_en: Some("Test checklist".into()),
        sections: vec![Section {
            code: "A".into(),
            title_vi: "Phần A".into(),
            title_en: None,
            items: vec![
                Item {
                    code: "A1".into(),
                    question_vi: "Số người lao động?".into(),
                    question_en: None,
                    answer: AnswerType::Count,
                    numerator_vi: None,
                    denominator_vi: None,
                    legal_basis: vec![],
                    rule: None,
                    violation: None,
                    applies_to: vec![],
                    feeds_target: vec![],
                    when: None,
                },
                Item {
                    code: "A2".into(),
                    question_vi: "Có nội quy an toàn không?".into(),
                    question_en: Some("Are there safety rules?".into()),
                    answer: AnswerType::YesNoNa,
                    numerator_vi: None,
                    denominator_vi: None,
                    legal_basis: vec![legal_ref()],
                    rule: Some(ComplianceRule::MustBeYes),
                    violation: Some(spec.clone()),
                    applies_to: vec![FacilityKind::Enterprise, FacilityKind::Cooperative],
                    feeds_target: vec![4],
                    when: Some(Condition {
                        item: "A1".into(),
                        at_least: 1,
                    }),
                },
                Item {
                    code: "A3".into(),
                    question_vi: "Số người được huấn luyện?".into(),
                    question_en: None,
                    answer: AnswerType::Ratio,
                    numerator_vi: Some("Đã huấn luyện".into()),
                    denominator_vi: Some("Tổng số".into()),
                    legal_basis: vec![legal_ref()],
                    rule: Some(ComplianceRule::MinRatioPerMille(1000)),
                    violation: Some(spec),
                    applies_to: vec![],
                    feeds_target: vec![5, 7],
                    when: None,
                },
            ],
        }],
    }
}

pub fn admin_units() -> Vec<AdminUnit> {
    vec![
        AdminUnit {
            code: "hp.ngo-quyen".into(),
            name_vi: "Ngô Quyền".into(),
            kind: "quận".into(),
            level: UnitLevel::District,
            valid_from: date("2020-01-01"),
            valid_to: Some(date("2025-06-30")),
            predecessor: None,
            successor: Some("hp.p-gia-vien".into()),
        },
        AdminUnit {
            code: "hp.p-gia-vien".into(),
            name_vi: "Gia Viên".into(),
            kind: "phường".into(),
            level: UnitLevel::Commune,
            valid_from: date("2025-07-01"),
            valid_to: None,
            predecessor: Some("hp.ngo-quyen".into()),
            successor: None,
        },
    ]
}

/// The certificate body the example server signs for the example device.
pub fn certificate_body() -> CertificateBody {
    CertificateBody {
        serial: 7,
        inspector: inspector_id(),
        inspector_name: inspector().name,
        device: device(),
        public_key: device_key().public_key_bytes().to_vec(),
        valid_from: time("2025-03-01T01:00:00Z"),
        valid_to: time("2026-03-01T01:00:00Z"),
    }
}

pub fn certificate() -> Certificate {
    let body = to_cbor("certificate", &certificate_body()).expect("encodes");
    let mut message = SIGN_CERTIFICATE.to_vec();
    message.extend_from_slice(&body);
    let signature = server_key().sign(&message).expect("signs").to_vec();
    Certificate { body, signature }
}

/// The minutes whose hash the sign-minutes example signs: a small stand-in
/// of 32 bytes' hash (the document itself is the minutes-v1 vector).
pub fn minutes_signature(content_hash: &Hash32) -> MinutesSignature {
    let key = device_key();
    let signature = key.sign(&signing_message(content_hash)).expect("signs");
    MinutesSignature {
        signer: inspector_id().to_string(),
        role: Role::Leader,
        public_key: Hash32(key.public_key_bytes()),
        signature: Sig64(signature),
    }
}

/// The access code of the draw-up example (fixed, so never a real one).
pub fn access_code() -> AccessCode {
    AccessCode::parse("7K3MQ-9TXVA-2HC4D-W8RZP").expect("access code")
}

/// One of each payload, with the given canonical minutes bytes (the
/// minutes-v1 vector) and their hash.
pub fn payloads(canonical: &[u8]) -> Vec<Payload> {
    let insp = inspection_id();
    let content_hash = Hash32::sha256(canonical);
    vec![
        Payload::PutFacility(facility()),
        Payload::PutInspector(inspector()),
        Payload::PutDelegation(delegation()),
        Payload::CreateInspection(inspection(false)),
        Payload::Transition {
            inspection: insp,
            to: Status::InProgress,
        },
        Payload::SetAnswer {
            inspection: insp,
            item: "B1".into(),
            entry: AnswerEntry {
                value: AnswerValue::YesNoNa(YesNoNa::Yes),
                note: None,
            },
            supersedes: vec![],
        },
        Payload::EditViolation {
            inspection: insp,
            item: "B2".into(),
            edit: ViolationEdit {
                requirement: Some("Lắp khoá tủ điện".into()),
                deadline: Some(date("2025-04-04")),
                severity: Some(Severity::Critical),
                dismissed: None,
            },
            supersedes: vec![op_id(1)],
        },
        Payload::AddPhoto {
            inspection: insp,
            photo: photo(true),
        },
        Payload::DrawUpMinutes {
            inspection: insp,
            canonical: canonical.to_vec(),
            access_code_hash: Some(access_code().code_hash()),
        },
        Payload::SignMinutes {
            inspection: insp,
            content_hash,
            signature: minutes_signature(&content_hash),
        },
        Payload::ReportRemediation {
            inspection: insp,
            item: "B2".into(),
            facility: facility_id(),
            sent_by: "Trần Văn Minh, quản đốc".into(),
            text: "Đã lắp khoá cho tủ điện.\nẢnh kèm theo.".into(),
            photos: vec![photo(false)],
        },
        Payload::ReviewRemediation {
            inspection: insp,
            item: "B2".into(),
            review: Review {
                report: op_id(2),
                verdict: Verdict::Verified,
                note: Some("Đã kiểm tra ảnh".into()),
            },
            supersedes: vec![],
        },
        Payload::PublishTemplate(template()),
        Payload::PublishAdminUnits { units: admin_units() },
        Payload::CertifyDevice(certificate()),
        Payload::RevokeDevice { device: device() },
    ]
}

/// The example device's operation number `seq` carrying `payload`.
pub fn operation(seq: u64, payload: Payload) -> Operation {
    Operation {
        id: op_id(u128::from(seq)),
        device: device(),
        seq,
        author: Some(inspector_id()),
        at: time("2025-03-04T08:00:00Z"),
        payload,
    }
}

/// A server-authored operation (no author).
pub fn server_operation(seq: u64, payload: Payload) -> Operation {
    Operation {
        id: op_id(0x500 + u128::from(seq)),
        device: DeviceId::from_uuid(uuid(0x5e)),
        seq,
        author: None,
        at: time("2025-03-01T01:00:00Z"),
        payload,
    }
}

/// The push request of the signed-request example.
pub fn push_request() -> PushRequest {
    let insp = inspection_id();
    PushRequest {
        ops: vec![
            operation(
                12,
                Payload::Transition {
                    inspection: insp,
                    to: Status::InProgress,
                },
            ),
            operation(
                13,
                Payload::SetAnswer {
                    inspection: insp,
                    item: "A1".into(),
                    entry: AnswerEntry {
                        value: AnswerValue::Count(350),
                        note: Some("Theo sổ lương tháng 2".into()),
                    },
                    supersedes: vec![],
                },
            ),
        ],
        access_codes: vec![],
    }
}

/// A push of drawn-up minutes: the clear code beside the operation.
pub fn push_request_with_code(canonical: &[u8]) -> PushRequest {
    let draw_up = payloads(canonical)
        .into_iter()
        .find(|p| matches!(p, Payload::DrawUpMinutes { .. }))
        .expect("a draw-up sample");
    PushRequest {
        ops: vec![operation(20, draw_up)],
        access_codes: vec![access_code()],
    }
}

pub fn push_response() -> PushResponse {
    PushResponse {
        results: vec![
            PushResult {
                op: op_id(12),
                outcome: PushOutcome::Accepted { server_seq: 1042 },
            },
            PushResult {
                op: op_id(13),
                outcome: PushOutcome::Duplicate { server_seq: 1001 },
            },
            PushResult {
                op: op_id(14),
                outcome: PushOutcome::Refused {
                    kind: RefusalKind::Lifecycle,
                    reason: "answering is not allowed in status sealed".into(),
                },
            },
        ],
    }
}

pub fn pull_response() -> PullResponse {
    PullResponse {
        entries: vec![
            LogEntry {
                server_seq: 41,
                op: server_operation(3, Payload::RevokeDevice { device: device() }),
            },
            LogEntry {
                server_seq: 42,
                op: operation(
                    12,
                    Payload::Transition {
                        inspection: inspection_id(),
                        to: Status::InProgress,
                    },
                ),
            },
        ],
        next: 42,
        more: true,
        head: 1042,
    }
}

pub fn enrol_request() -> EnrolRequest {
    EnrolRequest {
        code: "3f9c2a1e-7b4d0c55-9e21a8f3-0d6b4c12-a7e95f30".into(),
        device: device(),
        public_key: device_key().public_key_bytes().to_vec(),
        device_name: "Điện thoại của Lan".into(),
    }
}

pub fn enrol_response() -> EnrolResponse {
    EnrolResponse {
        certificate: certificate(),
        server_public_key: server_key().public_key_bytes().to_vec(),
        inspector: inspector(),
    }
}

pub fn challenge() -> Challenge {
    Challenge {
        challenge: (0u8..32).collect(),
        expires_in_secs: 120,
    }
}

/// The session request signed over the example challenge.
pub fn session_request() -> SessionRequest {
    let challenge = challenge().challenge;
    let mut message = SIGN_SESSION.to_vec();
    message.extend_from_slice(&challenge);
    message.extend_from_slice(device().as_bytes());
    SessionRequest {
        device: device(),
        challenge,
        signature: device_key().sign(&message).expect("signs").to_vec(),
    }
}

pub fn session() -> Session {
    Session {
        token: "9f2c".repeat(16),
        expires_in_secs: 1800,
        inspector: inspector_id(),
    }
}

pub fn capabilities() -> Capabilities {
    Capabilities {
        protocol: PROTOCOL_VERSION,
        server_version: "0.1.0".into(),
        max_body_bytes: 8 * 1024 * 1024,
        max_chunk_bytes: 4 * 1024 * 1024,
        max_push_ops: 1000,
    }
}

pub fn refused_statement() -> Statement {
    Statement::Refused {
        reason: "Người đại diện không đồng ý với kết luận".into(),
        witness: Some(Witness {
            name: "Phạm Văn Hải".into(),
            title: "Phó Chủ tịch".into(),
            role: "Đại diện UBND phường Gia Viên".into(),
        }),
    }
}
