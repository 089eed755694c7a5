//! Fixtures shared by the core's integration tests.
#![allow(dead_code)]

use kiemtra_core::answer::{AnswerValue, YesNoNa};
use kiemtra_core::facility::{FacilityKind, NewFacility};
use kiemtra_core::ids::InspectionId;
use kiemtra_core::inspection::InspectionKind;
use kiemtra_core::people::{DelegationMember, Role};
use kiemtra_core::record::AnswerState;
use kiemtra_core::store::{NewInspection, Store};
use kiemtra_core::template::{osh_general, AnswerType};

pub fn facility(workforce: u32) -> NewFacility {
    NewFacility {
        kind: FacilityKind::Enterprise,
        name: "Công ty TNHH Cơ khí Lạch Tray".into(),
        tax_code: Some("0200123456".into()),
        street: "Số 5 đường Lạch Tray".into(),
        unit: "hp.ngo-quyen".into(),
        sector: "Cơ khí chế tạo".into(),
        workforce,
        high_risk: true,
    }
}

/// A store with an identity, the built-in template, a facility, a delegation and a started inspection.
pub fn started_inspection(store: &Store) -> InspectionId {
    let leader = store
        .add_inspector(
            "Trần Văn Hùng",
            "Chánh Thanh tra",
            "Sở Nội vụ thành phố Hải Phòng",
        )
        .unwrap();
    let member = store
        .add_inspector(
            "Nguyễn Thị Lan",
            "Thanh tra viên",
            "Sở Nội vụ thành phố Hải Phòng",
        )
        .unwrap();
    store.set_identity(member.id).unwrap();
    let template = osh_general();
    store.install_template(&template).unwrap();
    let facility = store.add_facility(facility(350)).unwrap();
    let delegation = store
        .add_delegation(
            "Đoàn kiểm tra ATVSLĐ số 3",
            "Quyết định số 125/QĐ-SNV ngày 20/02/2025",
            leader.id,
            vec![DelegationMember {
                inspector: member.id,
                role: Role::Member,
            }],
        )
        .unwrap();
    let inspection = store
        .create_inspection(NewInspection {
            kind: InspectionKind::Inspection,
            facility: facility.id,
            template: template.key(),
            delegation: delegation.id,
            planned_date: "2025-03-05".parse().unwrap(),
            location: None,
        })
        .unwrap();
    store.start_inspection(inspection.id).unwrap();
    inspection.id
}

/// Answers every asked item, looping because answers open conditional items.
/// `No` for the codes in `no`, a short ratio for those in `short`.
pub fn answer_all(store: &Store, id: InspectionId, no: &[&str], short: &[&str]) {
    loop {
        let snap = store.snapshot(id).unwrap();
        let todo: Vec<_> = snap
            .checklist()
            .into_iter()
            .filter(|l| l.asked && l.answer == AnswerState::Unanswered)
            .map(|l| (l.item.code.clone(), l.item.answer))
            .collect();
        if todo.is_empty() {
            break;
        }
        for (code, ty) in todo {
            let value = match ty {
                AnswerType::YesNoNa if no.contains(&code.as_str()) => AnswerValue::YesNoNa(YesNoNa::No),
                AnswerType::YesNoNa => AnswerValue::YesNoNa(YesNoNa::Yes),
                AnswerType::Count => AnswerValue::Count(if code == "A1" { 350 } else { 12 }),
                AnswerType::Ratio if short.contains(&code.as_str()) => AnswerValue::Ratio {
                    numerator: 40,
                    denominator: 50,
                },
                AnswerType::Ratio => AnswerValue::Ratio {
                    numerator: 50,
                    denominator: 50,
                },
                AnswerType::Text => AnswerValue::Text("Ghi nhận tại hiện trường".into()),
            };
            store.set_answer(id, &code, value, None).unwrap();
        }
    }
}

/// Minutes details for a test inspection, with the signers' keys.
pub fn minutes_info(
    keys: &[(
        kiemtra_core::ids::InspectorId,
        &dyn kiemtra_core::identity::KeyStore,
    )],
) -> kiemtra_core::minutes::MinutesInfo {
    use kiemtra_core::minutes::{MinutesInfo, Person, Statement};
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    MinutesInfo {
        number: "15/BB-ĐKT".into(),
        issuing_body: vec!["SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG".into(), "ĐOÀN KIỂM TRA".into()],
        subject: MinutesInfo::OSH_SUBJECT.into(),
        extra_grounds: vec![],
        city: "Hải Phòng".into(),
        place: "Văn phòng công ty, số 5 đường Lạch Tray".into(),
        location: None,
        made_elsewhere_reason: None,
        started_at: t("2025-03-05T08:30:00+07:00"),
        ended_at: t("2025-03-05T11:45:00+07:00"),
        representative: Some(Person {
            name: "Lê Văn Nam".into(),
            title: "Giám đốc".into(),
        }),
        others_present: vec![],
        statement: Statement::Statement {
            text: "Công ty thống nhất với kết quả kiểm tra.".into(),
        },
        copies: 2,
        photos: vec![],
        member_keys: keys.iter().map(|(i, k)| (*i, k.public_key().unwrap())).collect(),
        representative_signature_png_sha256: None,
        report_to: None,
        previous: None,
    }
}
