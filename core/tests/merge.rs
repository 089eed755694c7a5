//! Merge semantics: replicas that have seen the same operations hold equal
//! records, whatever the order and however many duplicates; concurrent
//! edits of one answer are kept as a conflict until a later edit resolves it.

use chrono::{DateTime, Utc};
use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
use kiemtra_core::ids::{DelegationId, DeviceId, FacilityId, InspectionId, OpId};
use kiemtra_core::inspection::{Inspection, InspectionKind, Status};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::record::InspectionRecord;
use kiemtra_core::remediation::{Review, Verdict};
use kiemtra_core::template::osh_general;
use kiemtra_core::violation::ViolationEdit;
use proptest::prelude::*;

fn inspection() -> Inspection {
    Inspection {
        id: InspectionId::new(),
        kind: InspectionKind::Inspection,
        facility: FacilityId::new(),
        template: osh_general().key(),
        delegation: DelegationId::new(),
        planned_date: "2025-03-05".parse().unwrap(),
        location: None,
        status: Status::InProgress,
        created_by: None,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        started_at: None,
        accident: None,
    }
}

fn op(device: DeviceId, seq: u64, payload: Payload) -> Operation {
    Operation {
        id: OpId::new(),
        device,
        seq,
        author: None,
        at: Utc::now(),
        payload,
    }
}

/// What a device does in one step of the simulation.
#[derive(Debug, Clone)]
enum Action {
    /// Answer item `item` (index into a few yes/no items) with yes or no.
    Answer { device: usize, item: usize, yes: bool },
    /// Edit the violation of an item, if this device sees one.
    Edit { device: usize, item: usize },
    /// Two devices exchange everything they know.
    Sync { a: usize, b: usize },
    /// A status step (any device).
    Transition { device: usize, to: u8 },
    /// The establishment's remediation report of an item reaches a replica.
    Report { device: usize, item: usize },
    /// An inspector reviews the newest report this replica has of an item.
    Review {
        device: usize,
        item: usize,
        verified: bool,
    },
}

const ITEMS: [&str; 4] = ["B1", "B2", "D4", "F1"];
const DEVICES: usize = 3;

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..DEVICES, 0..ITEMS.len(), any::<bool>()).prop_map(|(device, item, yes)| Action::Answer { device, item, yes }),
        1 => (0..DEVICES, 0..ITEMS.len()).prop_map(|(device, item)| Action::Edit { device, item }),
        2 => (0..DEVICES, 0..DEVICES).prop_map(|(a, b)| Action::Sync { a, b }),
        1 => (0..DEVICES, 1u8..3).prop_map(|(device, to)| Action::Transition { device, to }),
        1 => (0..DEVICES, 0..ITEMS.len()).prop_map(|(device, item)| Action::Report { device, item }),
        1 => (0..DEVICES, 0..ITEMS.len(), any::<bool>()).prop_map(|(device, item, verified)| Action::Review { device, item, verified }),
    ]
}

/// Runs the actions on three replicas; returns all operations made.
fn simulate(base: &Inspection, actions: &[Action]) -> Vec<Operation> {
    let devices: Vec<DeviceId> = (0..DEVICES).map(|_| DeviceId::new()).collect();
    let mut replicas: Vec<InspectionRecord> = (0..DEVICES)
        .map(|_| InspectionRecord::new(base.clone()))
        .collect();
    let mut known: Vec<Vec<Operation>> = vec![Vec::new(); DEVICES];
    let mut all = Vec::new();
    for (n, a) in actions.iter().enumerate() {
        let seq = n as u64 + 1;
        let made = match a {
            Action::Answer { device, item, yes } => {
                let code = ITEMS[*item];
                let supersedes = replicas[*device]
                    .answers
                    .get(code)
                    .map(|r| r.heads())
                    .unwrap_or_default();
                let value = AnswerValue::YesNoNa(if *yes { YesNoNa::Yes } else { YesNoNa::No });
                Some((
                    *device,
                    op(
                        devices[*device],
                        seq,
                        Payload::SetAnswer {
                            inspection: base.id,
                            item: code.into(),
                            entry: AnswerEntry { value, note: None },
                            supersedes,
                        },
                    ),
                ))
            }
            Action::Edit { device, item } => {
                let code = ITEMS[*item];
                let supersedes = replicas[*device]
                    .violation_edits
                    .get(code)
                    .map(|r| r.heads())
                    .unwrap_or_default();
                Some((
                    *device,
                    op(
                        devices[*device],
                        seq,
                        Payload::EditViolation {
                            inspection: base.id,
                            item: code.into(),
                            edit: ViolationEdit {
                                requirement: Some(format!("Yêu cầu {n}")),
                                ..Default::default()
                            },
                            supersedes,
                        },
                    ),
                ))
            }
            Action::Transition { device, to } => {
                let to = if *to == 1 {
                    Status::InProgress
                } else {
                    Status::FindingsClosed
                };
                Some((
                    *device,
                    op(
                        devices[*device],
                        seq,
                        Payload::Transition {
                            inspection: base.id,
                            to,
                        },
                    ),
                ))
            }
            Action::Report { device, item } => Some((
                *device,
                op(
                    devices[*device],
                    seq,
                    Payload::ReportRemediation {
                        inspection: base.id,
                        item: ITEMS[*item].into(),
                        facility: base.facility,
                        sent_by: "Giám đốc".into(),
                        text: format!("Đã khắc phục {n}"),
                        photos: vec![],
                    },
                ),
            )),
            Action::Review {
                device,
                item,
                verified,
            } => {
                let code = ITEMS[*item];
                replicas[*device].remediation_reports(code).last().map(|r| {
                    let supersedes = replicas[*device]
                        .reviews
                        .get(code)
                        .map(|r| r.heads())
                        .unwrap_or_default();
                    (
                        *device,
                        op(
                            devices[*device],
                            seq,
                            Payload::ReviewRemediation {
                                inspection: base.id,
                                item: code.into(),
                                review: Review {
                                    report: r.op,
                                    verdict: if *verified {
                                        Verdict::Verified
                                    } else {
                                        Verdict::StillOpen
                                    },
                                    note: None,
                                },
                                supersedes,
                            },
                        ),
                    )
                })
            }
            Action::Sync { a, b } => {
                let (ka, kb) = (known[*a].clone(), known[*b].clone());
                for o in &kb {
                    replicas[*a].merge(o);
                }
                for o in &ka {
                    replicas[*b].merge(o);
                }
                known[*a].extend(kb.iter().cloned());
                known[*b].extend(ka.iter().cloned());
                None
            }
        };
        if let Some((d, o)) = made {
            replicas[d].merge(&o);
            known[d].push(o.clone());
            all.push(o);
        }
    }
    all
}

fn merged(base: &Inspection, ops: &[Operation]) -> InspectionRecord {
    let mut r = InspectionRecord::new(base.clone());
    for o in ops {
        r.merge(o);
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn replicas_that_saw_the_same_operations_are_equal(
        actions in proptest::collection::vec(action(), 1..40),
        rotation in any::<prop::sample::Index>(),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let base = inspection();
        let ops = simulate(&base, &actions);
        prop_assume!(!ops.is_empty());
        let reference = merged(&base, &ops);

        let mut other_order = ops.clone();
        other_order.rotate_left(rotation.index(ops.len()));
        other_order.reverse();
        for d in &dups {
            let i = d.index(ops.len());
            other_order.insert(i % other_order.len(), ops[i].clone());
        }
        prop_assert_eq!(&merged(&base, &other_order), &reference);

        // Nothing is silently dropped: every answer edit is either live or
        // superseded by an edit whose author had seen it.
        for (code, reg) in &reference.answers {
            let live: Vec<OpId> = reg.versions().iter().map(|v| v.op).collect();
            let superseded: std::collections::BTreeSet<OpId> = ops.iter().flat_map(|o| match &o.payload {
                Payload::SetAnswer { item, supersedes, .. } if item == code => supersedes.clone(),
                _ => vec![],
            }).collect();
            for o in ops.iter().filter(|o| matches!(&o.payload, Payload::SetAnswer { item, .. } if item == code)) {
                prop_assert!(live.contains(&o.id) || superseded.contains(&o.id));
            }
        }
    }
}

#[test]
fn concurrent_answers_conflict_on_every_replica_and_a_later_edit_resolves() {
    let base = inspection();
    let (a, b) = (DeviceId::new(), DeviceId::new());
    let yes = |device, supersedes| {
        op(
            device,
            1,
            Payload::SetAnswer {
                inspection: base.id,
                item: "B1".into(),
                entry: AnswerEntry {
                    value: AnswerValue::YesNoNa(YesNoNa::Yes),
                    note: None,
                },
                supersedes,
            },
        )
    };
    let no = op(
        b,
        1,
        Payload::SetAnswer {
            inspection: base.id,
            item: "B1".into(),
            entry: AnswerEntry {
                value: AnswerValue::YesNoNa(YesNoNa::No),
                note: Some("thiếu quyết định".into()),
            },
            supersedes: vec![],
        },
    );
    let y = yes(a, vec![]);
    let r1 = merged(&base, &[y.clone(), no.clone()]);
    let r2 = merged(&base, &[no.clone(), y.clone()]);
    assert_eq!(r1, r2);
    assert!(r1.answers["B1"].is_conflict());
    assert_eq!(r1.answers["B1"].versions().len(), 2);
    // A later edit that saw both resolves the conflict everywhere.
    let resolve = yes(a, r1.answers["B1"].heads());
    let r3 = merged(&base, &[resolve.clone(), no.clone(), y.clone()]);
    assert!(!r3.answers["B1"].is_conflict());
    assert_eq!(
        r3.answers["B1"].value().unwrap().value,
        AnswerValue::YesNoNa(YesNoNa::Yes)
    );
}
