//! Remediation after sealing: what the establishment may report and an
//! inspector may review, and how a violation's status follows.

use chrono::{DateTime, Utc};
use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
use kiemtra_core::facility::FacilityKind;
use kiemtra_core::ids::{DelegationId, DeviceId, FacilityId, InspectionId, OpId};
use kiemtra_core::inspection::{Inspection, InspectionKind, Status};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::record::{Context, InspectionRecord};
use kiemtra_core::remediation::{Review, Verdict};
use kiemtra_core::template::osh_general;
use kiemtra_core::violation::ViolationStatus;
use kiemtra_core::Error;

fn op(payload: Payload) -> Operation {
    Operation {
        id: OpId::new(),
        device: DeviceId::new(),
        seq: 1,
        author: None,
        at: Utc::now(),
        payload,
    }
}

fn sealed_record(facility: FacilityId) -> InspectionRecord {
    let mut r = InspectionRecord::new(Inspection {
        id: InspectionId::new(),
        kind: InspectionKind::Inspection,
        facility,
        template: osh_general().key(),
        delegation: DelegationId::new(),
        planned_date: "2025-03-05".parse().unwrap(),
        location: None,
        status: Status::InProgress,
        created_by: None,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        started_at: None,
        accident: None,
    });
    for (item, yes) in [("B1", false), ("B2", true)] {
        r.merge(&op(Payload::SetAnswer {
            inspection: r.inspection.id,
            item: item.into(),
            entry: AnswerEntry {
                value: AnswerValue::YesNoNa(if yes { YesNoNa::Yes } else { YesNoNa::No }),
                note: None,
            },
            supersedes: vec![],
        }));
    }
    r
}

fn report(r: &InspectionRecord, item: &str, text: &str) -> Operation {
    op(Payload::ReportRemediation {
        inspection: r.inspection.id,
        item: item.into(),
        facility: r.inspection.facility,
        sent_by: "Vũ Đức Thắng".into(),
        text: text.into(),
        photos: vec![],
    })
}

fn review(r: &InspectionRecord, report: OpId, verdict: Verdict) -> Operation {
    op(Payload::ReviewRemediation {
        inspection: r.inspection.id,
        item: "B1".into(),
        review: Review {
            report,
            verdict,
            note: None,
        },
        supersedes: r.reviews.get("B1").map(|m| m.heads()).unwrap_or_default(),
    })
}

fn status(r: &InspectionRecord, ctx: &Context<'_>) -> ViolationStatus {
    r.violations(ctx).iter().find(|v| v.item == "B1").unwrap().status
}

#[test]
fn only_violations_of_sealed_minutes_take_reports_and_reviews() {
    let template = osh_general();
    let ctx = Context {
        template: &template,
        facility_kind: FacilityKind::Enterprise,
        trusted_keys: None,
    };
    let mut r = sealed_record(FacilityId::new());
    // Before sealing: refused, as a lifecycle error.
    assert!(matches!(
        r.check(&report(&r, "B1", "Đã khắc phục"), &ctx),
        Err(Error::Lifecycle(_))
    ));
    r.inspection.status = Status::Sealed;
    assert!(r.check(&report(&r, "B1", "Đã khắc phục"), &ctx).is_ok());
    // Not a violation, unknown item, another facility, text not normal, no text.
    assert!(matches!(
        r.check(&report(&r, "B2", "x"), &ctx),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        r.check(&report(&r, "Z9", "x"), &ctx),
        Err(Error::NotFound { .. })
    ));
    let mut other = report(&r, "B1", "x");
    if let Payload::ReportRemediation { facility, .. } = &mut other.payload {
        *facility = FacilityId::new();
    }
    assert!(r.check(&other, &ctx).is_err());
    assert!(r.check(&report(&r, "B1", " Đã khắc phục "), &ctx).is_err());
    assert!(
        r.check(&report(&r, "B1", "Đa\u{0303} khắc phục"), &ctx).is_err(),
        "not NFC"
    );
    assert!(r.check(&report(&r, "B1", ""), &ctx).is_err());
    // A review must name a report that exists.
    assert!(matches!(
        r.check(&review(&r, OpId::new(), Verdict::Verified), &ctx),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn status_follows_reports_and_reviews() {
    let template = osh_general();
    let ctx = Context {
        template: &template,
        facility_kind: FacilityKind::Enterprise,
        trusted_keys: None,
    };
    let mut r = sealed_record(FacilityId::new());
    r.inspection.status = Status::Sealed;
    let minutes_before = r.minutes.clone();
    assert_eq!(status(&r, &ctx), ViolationStatus::Open);
    let first = report(&r, "B1", "Đã bố trí cán bộ ATVSLĐ");
    r.apply(&first, &ctx).unwrap();
    assert_eq!(status(&r, &ctx), ViolationStatus::Remediated);
    r.apply(&review(&r, first.id, Verdict::StillOpen), &ctx).unwrap();
    assert_eq!(
        status(&r, &ctx),
        ViolationStatus::Open,
        "reviewed and not remedied"
    );
    let second = report(&r, "B1", "Đã ký quyết định bổ nhiệm");
    r.apply(&second, &ctx).unwrap();
    assert_eq!(
        status(&r, &ctx),
        ViolationStatus::Remediated,
        "a newer report awaits review"
    );
    r.apply(&review(&r, second.id, Verdict::Verified), &ctx).unwrap();
    assert_eq!(status(&r, &ctx), ViolationStatus::Verified);
    assert_eq!(r.remediation_reports("B1").len(), 2);
    // Applying a report twice keeps one.
    r.merge(&second);
    assert_eq!(r.remediation_reports("B1").len(), 2);
    assert_eq!(r.minutes, minutes_before, "remediation never touches the minutes");
}
