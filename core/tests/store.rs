//! The offline store end to end: a whole inspection, queries, reopening, and
//! bad input that must leave the store unchanged.

mod common;

use common::*;
use kiemtra_core::answer::{AnswerValue, YesNoNa};
use kiemtra_core::error::{AnswerError, Error, LifecycleError, TemplateError, ValidationError};
use kiemtra_core::identity::DeviceKey;
use kiemtra_core::ids::{DeviceId, FacilityId, InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::Status;
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::record::AnswerState;
use kiemtra_core::store::Store;
use kiemtra_core::template::{osh_general, TemplateRef};
use kiemtra_core::violation::ViolationEdit;

/// Everything observable about the store, to prove a failed call changed nothing.
fn fingerprint(store: &Store) -> Vec<String> {
    let mut out: Vec<String> = store
        .operations()
        .unwrap()
        .iter()
        .map(|o| format!("{o:?}"))
        .collect();
    out.push(format!("{:?}", store.pending_operations().unwrap().len()));
    for i in store.inspections().unwrap() {
        out.push(format!("{:?}", store.snapshot(i.id).unwrap().record));
    }
    out.push(format!("{:?}", store.facilities().unwrap()));
    out
}

#[test]
fn a_whole_inspection_offline_and_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let id;
    {
        let store = Store::open(dir.path()).unwrap();
        id = started_inspection(&store);
        answer_all(&store, id, &["B5", "D4"], &["C3"]);
        let snap = store.snapshot(id).unwrap();
        // 350 workers: the council item (from 300 workers) is asked.
        assert!(snap.checklist().iter().any(|l| l.item.code == "B3" && l.asked));
        let violations = store.violations(id).unwrap();
        let items: Vec<_> = violations.iter().map(|v| v.item.as_str()).collect();
        assert_eq!(items, ["B5", "C3", "D4"]);
        let c3 = &violations[1];
        assert_eq!(c3.severity, kiemtra_core::template::Severity::Critical);
        assert!(c3.legal_basis.iter().any(|l| l.instrument.contains("84/2015")));
        assert!(c3.sanction.as_ref().unwrap().instrument.contains("12/2022"));
        // Deadline = inspection date + remediation days (30 for C3).
        let date = store.inspection(id).unwrap().date();
        assert_eq!((c3.deadline - date).num_days(), 30);

        let dismissed = store
            .dismiss_violation(id, "B5", "Đã có kế hoạch, trình bày tại buổi kiểm tra")
            .unwrap();
        assert!(dismissed.is_dismissed());
        let edited = store
            .edit_violation(
                id,
                "D4",
                ViolationEdit {
                    requirement: Some("Lắp che chắn cho máy dập số 2".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(edited.requirement, "Lắp che chắn cho máy dập số 2");
        store.close_findings(id).unwrap();
        assert_eq!(
            store.inspections_by_status(Status::FindingsClosed).unwrap().len(),
            1
        );
    }
    let store = Store::open(dir.path()).unwrap();
    let inspection = store.inspection(id).unwrap();
    assert_eq!(inspection.status, Status::FindingsClosed);
    assert!(store
        .inspections_by_status(Status::InProgress)
        .unwrap()
        .is_empty());
    assert_eq!(
        store.inspections_of_facility(inspection.facility).unwrap().len(),
        1
    );
    let v = store.violations(id).unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(
        v[0].dismissal.as_ref().unwrap().reason,
        "Đã có kế hoạch, trình bày tại buổi kiểm tra"
    );
    assert_eq!(v[2].requirement, "Lắp che chắn cho máy dập số 2");
    // Every change is a pending operation, in order, with no gaps.
    let pending = store.pending_operations().unwrap();
    assert!(pending.len() > 50);
    assert!(pending.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    // The log goes on after reopening.
    let before = store.operations().unwrap().len();
    assert!(matches!(
        store.transition(id, Status::Sealed),
        Err(Error::Lifecycle(LifecycleError::NotAllowed { .. }))
    ));
    let delegation = store.delegation(inspection.delegation).unwrap().unwrap();
    let (leader, member) = leader_and_member(&delegation);
    let (lk, mk) = (DeviceKey::generate().unwrap(), DeviceKey::generate().unwrap());
    store
        .draw_up_minutes(id, minutes_info(&[(leader, &lk), (member, &mk)]))
        .unwrap();
    // The leader signs last.
    assert!(store.sign_minutes(id, leader, &lk).is_err());
    store.sign_minutes(id, member, &mk).unwrap();
    // A forged signature (another key under the member's name) is refused.
    assert!(store
        .sign_minutes(id, member, &DeviceKey::generate().unwrap())
        .is_err());
    let sealed = store.sign_minutes(id, leader, &lk).unwrap();
    assert!(sealed.is_sealed());
    assert_eq!(store.inspection(id).unwrap().status, Status::Sealed);
    let ops = store.operations().unwrap();
    assert_eq!(ops.len(), before + 3);
    assert_eq!(ops[before].seq, ops[before - 1].seq + 1);
    // Sealed: answers, violations and photos can no longer change.
    assert!(matches!(
        store.set_answer(id, "A1", AnswerValue::Count(1), None),
        Err(Error::Lifecycle(LifecycleError::NotAllowed { .. }))
    ));
    // The bundle verifies offline with the signers' keys.
    let mut keys = kiemtra_core::minutes::TrustedKeys::default();
    keys.insert(&leader.to_string(), lk.public_key_bytes(), "Trưởng đoàn")
        .unwrap();
    keys.insert(&member.to_string(), mk.public_key_bytes(), "Thành viên")
        .unwrap();
    let bundle = store.minutes_bundle(id, Some(&keys)).unwrap();
    let report = kiemtra_core::minutes::verify_file(&bundle.to_bytes().unwrap()).unwrap();
    assert!(report.is_valid(), "{report}");
    let pdf = store
        .minutes_pdf(id, "https://kiemtra.example.vn/verify", Some(&keys))
        .unwrap();
    assert!(kiemtra_core::minutes::verify_file(&pdf).unwrap().is_valid());
}

#[test]
fn changing_an_earlier_answer_updates_conditional_items_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = started_inspection(&store);
    let asked = |store: &Store, code: &str| {
        store
            .snapshot(id)
            .unwrap()
            .checklist()
            .iter()
            .any(|l| l.item.code == code && l.asked)
    };
    assert!(!asked(&store, "B3"));
    store.set_answer(id, "A1", AnswerValue::Count(300), None).unwrap();
    assert!(asked(&store, "B3"));
    store
        .set_answer(id, "B3", AnswerValue::YesNoNa(YesNoNa::No), None)
        .unwrap();
    assert_eq!(store.violations(id).unwrap().len(), 1);
    // Down to 120 workers: the council is not required, the violation goes.
    store.set_answer(id, "A1", AnswerValue::Count(120), None).unwrap();
    assert!(!asked(&store, "B3"));
    assert!(store.violations(id).unwrap().is_empty());
    // A fact never proposes a violation.
    store.set_answer(id, "A2", AnswerValue::Count(0), None).unwrap();
    assert!(store.violations(id).unwrap().is_empty());
}

#[test]
fn outreach_items_apply_only_to_their_facility_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = started_inspection(&store);
    let err = store
        .set_answer(id, "K1", AnswerValue::Count(10), None)
        .unwrap_err();
    assert!(
        matches!(err, Error::Answer(AnswerError::NotApplicable { .. })),
        "{err}"
    );
}

#[test]
fn bad_input_is_a_typed_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = started_inspection(&store);
    store.set_answer(id, "A1", AnswerValue::Count(10), None).unwrap();
    let before = fingerprint(&store);

    let mut f = facility(10);
    f.name = "   ".into();
    assert!(matches!(
        store.add_facility(f),
        Err(Error::Validation(ValidationError::Empty {
            field: "facility name"
        }))
    ));
    let mut f = facility(10);
    f.tax_code = Some("12345".into());
    assert!(matches!(
        store.add_facility(f),
        Err(Error::Validation(ValidationError::TaxCode { .. }))
    ));
    assert!(matches!(
        store.add_inspector("", "Thanh tra viên", "Sở"),
        Err(Error::Validation(_))
    ));

    // An answer of the wrong type.
    let err = store
        .set_answer(id, "B1", AnswerValue::Count(1), None)
        .unwrap_err();
    assert!(
        matches!(err, Error::Answer(AnswerError::WrongType { .. })),
        "{err}"
    );
    // An unknown item.
    let err = store
        .set_answer(id, "Z9", AnswerValue::YesNoNa(YesNoNa::Yes), None)
        .unwrap_err();
    assert!(matches!(err, Error::Answer(AnswerError::UnknownItem(_))), "{err}");
    // An item whose condition is not met (10 workers, council from 300).
    let err = store
        .set_answer(id, "B3", AnswerValue::YesNoNa(YesNoNa::No), None)
        .unwrap_err();
    assert!(
        matches!(err, Error::Answer(AnswerError::NotAsked { .. })),
        "{err}"
    );
    // A ratio whose part exceeds the whole.
    store.set_answer(id, "A2", AnswerValue::Count(5), None).unwrap();
    let before = {
        let _ = before;
        fingerprint(&store)
    };
    let err = store
        .set_answer(
            id,
            "C3",
            AnswerValue::Ratio {
                numerator: 6,
                denominator: 5,
            },
            None,
        )
        .unwrap_err();
    assert!(matches!(err, Error::Answer(AnswerError::Invalid { .. })), "{err}");
    // Empty text.
    let err = store
        .set_answer(id, "A1", AnswerValue::Count(10), Some("\u{0}"))
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err}");
    // Transitions out of order.
    let err = store.transition(id, Status::Sealed).unwrap_err();
    assert!(
        matches!(err, Error::Lifecycle(LifecycleError::Transition { .. })),
        "{err}"
    );
    let err = store.start_inspection(id).unwrap_err();
    assert!(
        matches!(err, Error::Lifecycle(LifecycleError::Transition { .. })),
        "{err}"
    );
    // Closing findings with unanswered items.
    let err = store.close_findings(id).unwrap_err();
    assert!(
        matches!(err, Error::Lifecycle(LifecycleError::Unanswered { .. })),
        "{err}"
    );
    // Violations that do not exist.
    assert!(matches!(
        store.dismiss_violation(id, "B1", "lý do"),
        Err(Error::NotFound { .. })
    ));
    // Unknown records.
    assert!(matches!(
        store.start_inspection(InspectionId::new()),
        Err(Error::NotFound { .. })
    ));
    assert!(store
        .inspections_of_facility(FacilityId::new())
        .unwrap()
        .is_empty());
    // A corrupt template file.
    assert!(matches!(
        store.import_template_json("{ not json"),
        Err(Error::Template(TemplateError::Syntax(_)))
    ));
    // A different template under a published id and version.
    let mut changed = osh_general();
    changed.title_vi = "Khác".into();
    assert!(matches!(
        store.install_template(&changed),
        Err(Error::Template(TemplateError::AlreadyPublished { .. }))
    ));
    assert!(matches!(
        store.template(&TemplateRef {
            id: "nope".into(),
            version: 1
        }),
        Err(Error::Template(TemplateError::Unknown { .. }))
    ));
    assert_eq!(fingerprint(&store), before);
}

#[test]
fn sealed_and_closed_inspections_refuse_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = started_inspection(&store);
    answer_all(&store, id, &["B1"], &[]);
    store.close_findings(id).unwrap();
    let before = fingerprint(&store);
    let err = store
        .set_answer(id, "B1", AnswerValue::YesNoNa(YesNoNa::Yes), None)
        .unwrap_err();
    assert!(
        matches!(err, Error::Lifecycle(LifecycleError::NotAllowed { .. })),
        "{err}"
    );
    let err = store.dismiss_violation(id, "B1", "lý do").unwrap_err();
    assert!(
        matches!(err, Error::Lifecycle(LifecycleError::NotAllowed { .. })),
        "{err}"
    );
    assert_eq!(fingerprint(&store), before);
}

#[test]
fn decomposed_vietnamese_input_is_stored_as_nfc() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut f = facility(10);
    f.name = "Co\u{0302}ng ty Thu\u{031B}\u{0323}c pha\u{0302}\u{0309}m".into();
    let stored = store.add_facility(f).unwrap();
    assert_eq!(stored.name, "Công ty Thực phẩm");
    let id = started_inspection(&store);
    store
        .set_answer(id, "A1", AnswerValue::Count(10), Some("Ghi chu\u{0301}"))
        .unwrap();
    let snap = store.snapshot(id).unwrap();
    let line = snap
        .checklist()
        .into_iter()
        .find(|l| l.item.code == "A1")
        .unwrap();
    let AnswerState::Answered(v) = line.answer else {
        panic!("A1 unanswered")
    };
    assert_eq!(v.value.note.as_deref(), Some("Ghi chú"));
}

#[test]
fn a_store_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _ = Store::open(dir.path()).unwrap();
    }
    {
        // Right after the store's handle closed: wait for sled's lock like the store does.
        let db = kiemtra_core::sled_open::open(&sled::Config::new().path(dir.path())).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert(b"format_version", &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(
        Store::open(dir.path()),
        Err(Error::FormatTooNew {
            found: 99,
            supported: 1
        })
    ));
}

/// The inspectorate's administrative units arrive in a pulled page: the
/// device uses them at once and after reopening; a list naming a unit that
/// does not exist is refused and the page changes nothing, cursor included.
#[test]
fn published_units_are_kept_and_a_broken_list_is_refused() {
    use kiemtra_core::admin_units::{AdminUnit, UnitLevel};
    use kiemtra_core::facility::{FacilityKind, NewFacility};
    use kiemtra_core::ids::{DeviceId, OpId};
    use kiemtra_core::ops::{Operation, Payload};
    use kiemtra_core::sync::wire::{LogEntry, PullResponse};

    let unit = |code: &str, predecessor: Option<&str>| AdminUnit {
        code: code.into(),
        name_vi: "Phường Gia Viên".into(),
        kind: "phường".into(),
        level: UnitLevel::Commune,
        valid_from: "2025-07-01".parse().unwrap(),
        valid_to: None,
        predecessor: predecessor.map(String::from),
        successor: None,
    };
    let page = |seq: u64, units: Vec<AdminUnit>| PullResponse {
        entries: vec![LogEntry {
            server_seq: seq,
            op: Operation {
                id: OpId::new(),
                device: DeviceId::new(),
                seq,
                author: None,
                at: chrono::Utc::now(),
                payload: Payload::PublishAdminUnits { units },
            },
        }],
        next: seq,
        more: false,
        head: seq,
    };
    let in_gia_vien = || NewFacility {
        kind: FacilityKind::Enterprise,
        name: "Công ty CP Cảng Gia Viên".into(),
        tax_code: Some("0200555666".into()),
        street: "Số 8 Lê Thánh Tông".into(),
        unit: "hp.p-gia-vien".into(),
        sector: "Cảng biển".into(),
        workforce: 300,
        high_risk: true,
    };

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.add_facility(in_gia_vien()).is_err());

    let before = fingerprint(&store);
    let broken = store.apply_pulled(&page(1, vec![unit("hp.p-gia-vien", Some("hp.nowhere"))]));
    assert!(
        matches!(broken, Err(Error::Validation(ValidationError::Invalid { .. }))),
        "{broken:?}"
    );
    assert_eq!(fingerprint(&store), before);
    assert_eq!(store.sync_cursor().unwrap(), 0);
    assert!(store.admin_units().get("hp.p-gia-vien").is_none());

    store
        .apply_pulled(&page(2, vec![unit("hp.p-gia-vien", None)]))
        .unwrap();
    assert_eq!(store.sync_cursor().unwrap(), 2);
    store.add_facility(in_gia_vien()).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let today = "2026-11-25".parse().unwrap();
    let names: Vec<_> = store
        .admin_units()
        .valid_on(today)
        .map(|u| u.name_vi.clone())
        .collect();
    assert_eq!(names, ["Phường Gia Viên"]);
}

#[test]
fn after_the_leaders_seal_only_delivery_moves_the_inspection_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = started_inspection(&store);
    answer_all(&store, id, &["B1"], &[]);
    store.close_findings(id).unwrap();
    let delegation = store
        .delegation(store.inspection(id).unwrap().delegation)
        .unwrap()
        .unwrap();
    let (leader, member) = leader_and_member(&delegation);
    let (lk, mk) = (DeviceKey::generate().unwrap(), DeviceKey::generate().unwrap());
    store
        .draw_up_minutes(id, minutes_info(&[(leader, &lk), (member, &mk)]))
        .unwrap();
    store.sign_minutes(id, member, &mk).unwrap();
    store.sign_minutes(id, leader, &lk).unwrap();
    assert_eq!(store.inspection(id).unwrap().status, Status::Sealed);

    // What every replica (this device for what it pulls, the server for
    // what it is pushed) runs on a received transition: after the seal,
    // only delivery passes.
    let snap = store.snapshot(id).unwrap();
    for to in [
        Status::Draft,
        Status::InProgress,
        Status::FindingsClosed,
        Status::Sealed,
    ] {
        let op = Operation {
            id: OpId::new(),
            device: DeviceId::new(),
            seq: 1,
            author: Some(member),
            at: chrono::Utc::now(),
            payload: Payload::Transition { inspection: id, to },
        };
        let checked = snap.record.check(&op, &snap.context());
        assert!(
            matches!(checked, Err(Error::Lifecycle(LifecycleError::Sealed { .. }))),
            "a received transition to {to:?} on sealed minutes: {checked:?}"
        );
    }

    // Back to draft, in progress or findings closed, or "sealed" again by a
    // transition: refused, and no operation is written (none could reach
    // another device).
    let before = fingerprint(&store);
    for to in [
        Status::Draft,
        Status::InProgress,
        Status::FindingsClosed,
        Status::Sealed,
    ] {
        let err = store.transition(id, to).unwrap_err();
        assert!(
            matches!(err, Error::Lifecycle(LifecycleError::Sealed { to: t, .. }) if t == to),
            "{to:?}: {err}"
        );
        // Says what is wrong in the protocol's words, not Rust's.
        let message = err.to_string();
        assert!(message.contains("sealed"), "{message}");
        assert!(
            !message.contains("FindingsClosed") && !message.contains("InProgress"),
            "{message}"
        );
    }
    assert_eq!(fingerprint(&store), before);

    // Delivery is the way forward; after it, nothing goes back either.
    store.transition(id, Status::Delivered).unwrap();
    assert_eq!(store.inspection(id).unwrap().status, Status::Delivered);
    let before = fingerprint(&store);
    for to in [
        Status::Draft,
        Status::InProgress,
        Status::FindingsClosed,
        Status::Sealed,
    ] {
        assert!(
            matches!(
                store.transition(id, to),
                Err(Error::Lifecycle(LifecycleError::Sealed { .. }))
            ),
            "{to:?}"
        );
    }
    assert_eq!(fingerprint(&store), before);
}

/// The delegation's leader and another member.
fn leader_and_member(delegation: &kiemtra_core::people::Delegation) -> (InspectorId, InspectorId) {
    let leader = delegation.leader().unwrap();
    let member = delegation
        .members
        .iter()
        .find(|m| m.inspector != leader)
        .unwrap()
        .inspector;
    (leader, member)
}

/// Minutes drawn up on another device arrive by a pull, which merges what
/// the server accepted; a member's device still rebuilds them from its own
/// record before it signs, and refuses minutes that say something else.
#[test]
fn a_member_refuses_to_sign_minutes_that_contradict_its_record() {
    use kiemtra_core::minutes::{
        canonical_bytes, Assessment, Hash32, MinutesDocument, MinutesError, PhotoRef,
    };
    use kiemtra_core::sync::wire::{LogEntry, PullResponse};

    type Forge = fn(&mut MinutesDocument);
    let forgeries: [(&str, Forge); 5] = [
        ("findings", |d| {
            for f in d.findings.iter_mut().flat_map(|s| s.items.iter_mut()) {
                f.assessment = Assessment::Compliant;
            }
            d.violations.clear();
        }),
        ("deadline", |d| d.violations[0].deadline = "2099-01-01".into()),
        ("establishment name", |d| {
            d.establishment.name = "Công ty TNHH Khác".into()
        }),
        ("photos", |d| {
            d.photos.push(PhotoRef {
                sha256: Hash32::sha256(b"not a photo of this inspection"),
                caption: "Ảnh".into(),
                item: None,
            })
        }),
        ("", |_| {}),
    ];
    for (field, forge) in forgeries {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = started_inspection(&store);
        answer_all(&store, id, &["B5", "D4"], &["C3"]);
        store.close_findings(id).unwrap();
        let snap = store.snapshot(id).unwrap();
        let delegation = store
            .delegation(snap.record.inspection.delegation)
            .unwrap()
            .unwrap();
        let (leader, member) = leader_and_member(&delegation);
        let inspectors: Vec<_> = delegation
            .members
            .iter()
            .map(|m| store.inspector(m.inspector).unwrap().unwrap())
            .collect();
        let (lk, mk) = (DeviceKey::generate().unwrap(), DeviceKey::generate().unwrap());
        let info = minutes_info(&[(leader, &lk), (member, &mk)]);
        let mut doc = MinutesDocument::build(&snap, &delegation, &inspectors, info).unwrap();
        forge(&mut doc);
        // Drawn on another device, and pulled.
        let op = Operation {
            id: OpId::new(),
            device: DeviceId::new(),
            seq: 1,
            author: Some(leader),
            at: chrono::Utc::now(),
            payload: Payload::DrawUpMinutes {
                inspection: id,
                canonical: canonical_bytes(&doc).unwrap(),
                access_code_hash: None,
            },
        };
        store
            .apply_pulled(&PullResponse {
                entries: vec![LogEntry { server_seq: 1, op }],
                next: 1,
                more: false,
                head: 1,
            })
            .unwrap();
        if field.is_empty() {
            // The honest minutes, drawn elsewhere, are signed.
            store.sign_minutes(id, member, &mk).unwrap();
            continue;
        }
        let before = fingerprint(&store);
        let err = store.sign_minutes(id, member, &mk).unwrap_err();
        assert!(
            matches!(&err, Error::Minutes(MinutesError::ContradictsRecord { field: f }) if f.contains(field)),
            "{field}: {err}"
        );
        assert_eq!(
            fingerprint(&store),
            before,
            "{field}: the refusal changed the store"
        );
    }
}
