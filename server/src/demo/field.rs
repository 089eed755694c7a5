//! The demo's field work as enrolled devices would have done it: operations
//! with back-dated times, numbered per device, pushed through
//! [`Writer::push`] and so checked like any real push.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kiemtra_core::access_code::AccessCode;
use kiemtra_core::accident::Accident;
use kiemtra_core::answer::{AnswerEntry, AnswerValue, YesNoNa};
use kiemtra_core::identity::DeviceKey;
use kiemtra_core::ids::{DeviceId, InspectionId, InspectorId, OpId};
use kiemtra_core::inspection::{Inspection, InspectionKind, Status, VIETNAM};
use kiemtra_core::minutes::{MinutesDocument, MinutesInfo, Person, SignedMinutes, Statement};
use kiemtra_core::ops::{Operation, Payload};
use kiemtra_core::people::{Inspector, Role};
use kiemtra_core::record::{AnswerState, Context, InspectionRecord};
use kiemtra_core::store::InspectionSnapshot;
use kiemtra_core::sync::wire::{EnrolRequest, PushOutcome};
use kiemtra_core::template::{osh_accident_investigation, osh_general, AnswerType, ChecklistTemplate, Item};
use serde::Serialize;

use super::plan::{Outcome, Visit};
use super::reference::{agency_on, Reference};
use super::vn_time;
use crate::db::Read;
use crate::error::ServerError;
use crate::writer::{Principal, Writer};

fn core_err(e: impl Into<kiemtra_core::Error>) -> ServerError {
    ServerError::Core(e.into())
}

/// A demo device: enrolled for one inspector, with its key in memory only
/// (nobody can push from it once the seed is done).
pub struct DemoDevice {
    pub id: DeviceId,
    pub inspector: InspectorId,
    key: DeviceKey,
    next_seq: u64,
}

impl DemoDevice {
    /// Enrols a fresh key for `inspector` with a one-time code, as the app does.
    fn enrol(w: &mut Writer, inspector: &Inspector) -> Result<Self, ServerError> {
        let code = w.enrol_code(inspector.id, 1)?;
        let key = DeviceKey::generate().map_err(core_err)?;
        let id = DeviceId::new();
        w.enrol(&EnrolRequest {
            code,
            device: id,
            public_key: key.public_key_bytes().to_vec(),
            device_name: format!("Máy tính bảng của {} (dữ liệu mẫu)", inspector.name),
        })?;
        Ok(Self {
            id,
            inspector: inspector.id,
            key,
            next_seq: 1,
        })
    }

    /// The device's next operation, authored by its inspector.
    fn op(&mut self, at: DateTime<Utc>, payload: Payload) -> Operation {
        let op = Operation {
            id: OpId::new(),
            device: self.id,
            seq: self.next_seq,
            author: Some(self.inspector),
            at,
            payload,
        };
        self.next_seq += 1;
        op
    }

    fn principal(&self) -> Principal {
        Principal {
            device: self.id,
            inspector: self.inspector,
        }
    }

    /// Pushes operations made on this device; every one must be accepted.
    fn push(
        &self,
        w: &mut Writer,
        ops: Vec<Operation>,
        codes: &[AccessCode],
        what: &str,
    ) -> Result<(), ServerError> {
        let described: Vec<(u64, &'static str)> = ops.iter().map(|o| (o.seq, o.payload.kind())).collect();
        let draft = w.push(self.principal(), ops, codes)?;
        let results = draft.results();
        if results.len() != described.len() {
            return Err(ServerError::Storage(format!(
                "demo data, {what}: {} operations pushed, {} results",
                described.len(),
                results.len()
            )));
        }
        for (r, (seq, kind)) in results.iter().zip(described) {
            if !matches!(r.outcome, PushOutcome::Accepted { .. }) {
                return Err(ServerError::Invalid(format!(
                    "demo data, {what}: the server did not accept {kind} (device seq {seq}): {:?}",
                    r.outcome
                )));
            }
        }
        Ok(())
    }
}

/// The demo devices, one per inspector.
pub struct Devices(HashMap<InspectorId, DemoDevice>);

impl Devices {
    pub fn enrol(w: &mut Writer, inspectors: &[Inspector]) -> Result<Self, ServerError> {
        let mut map = HashMap::new();
        for i in inspectors {
            map.insert(i.id, DemoDevice::enrol(w, i)?);
        }
        Ok(Self(map))
    }

    fn get(&self, id: InspectorId) -> Result<&DemoDevice, ServerError> {
        self.0
            .get(&id)
            .ok_or_else(|| ServerError::NotFound(format!("demo device of inspector {id}")))
    }

    fn get_mut(&mut self, id: InspectorId) -> Result<&mut DemoDevice, ServerError> {
        self.0
            .get_mut(&id)
            .ok_or_else(|| ServerError::NotFound(format!("demo device of inspector {id}")))
    }
}

/// A sealed inspection and the code its establishment opens the portal with.
#[derive(Debug, Clone, Serialize)]
pub struct CodeEntry {
    pub facility: String,
    pub tax_code: Option<String>,
    pub inspection: String,
    pub kind: InspectionKind,
    pub date: String,
    /// As printed on the minutes: four groups of five.
    pub code: String,
}

/// What carrying out a visit left behind.
pub struct Done {
    pub inspection: InspectionId,
    pub code: Option<CodeEntry>,
}

/// The answer a visit gives to `item`: the visit's own, or the default.
fn answer_value(item: &Item, visit: &Visit) -> Result<AnswerValue, ServerError> {
    let a = &visit.answers;
    let code = item.code.as_str();
    let count = |c: &str| a.counts.iter().find(|(k, _)| *k == c).map(|(_, n)| *n);
    let n = |c: &str| count(c).unwrap_or(0);
    let value = match item.answer {
        AnswerType::Count => AnswerValue::Count(match (count(code), code) {
            (Some(v), _) => v,
            // Everyone present was reached by the visit unless said otherwise.
            (None, "K1") => n("A1"),
            (None, _) => 0,
        }),
        AnswerType::Ratio => match a.ratios.iter().find(|(k, _, _)| *k == code) {
            Some((_, numerator, denominator)) => AnswerValue::Ratio {
                numerator: *numerator,
                denominator: *denominator,
            },
            None => {
                // Complete, out of the people or machines the item counts.
                let whole = match code {
                    "C1" => 1 + n("A1") / 150,
                    "C2" => n("A4"),
                    "C3" => n("A2"),
                    "C4" => n("A1").saturating_sub(n("A2")),
                    "C5" => n("A5"),
                    "C6" => (n("A1") / 40).max(1),
                    "D1" => n("D0"),
                    "E3" | "D6" => n("A1"),
                    "E4" => n("A3"),
                    "H3" => n("H2"),
                    "H4" | "H5" => n("H1"),
                    _ => {
                        return Err(ServerError::Invalid(format!(
                            "demo visit {}: no default for ratio item {code}",
                            visit.key
                        )))
                    }
                };
                AnswerValue::Ratio {
                    numerator: whole,
                    denominator: whole,
                }
            }
        },
        AnswerType::YesNoNa if a.no.contains(&code) => AnswerValue::YesNoNa(YesNoNa::No),
        AnswerType::YesNoNa if a.not_applicable.contains(&code) => {
            AnswerValue::YesNoNa(YesNoNa::NotApplicable)
        }
        AnswerType::YesNoNa => AnswerValue::YesNoNa(YesNoNa::Yes),
        AnswerType::Text => match a.texts.iter().find(|(k, _)| *k == code) {
            Some((_, t)) => AnswerValue::Text((*t).to_string()),
            None => {
                return Err(ServerError::Invalid(format!(
                    "demo visit {}: text item {code} has no answer",
                    visit.key
                )))
            }
        },
    };
    // Normalised as the app does before making the operation.
    value.validate_for(item).map_err(core_err)
}

/// Every item the visit mentions must have been asked and answered: a typo
/// in the plan would otherwise silently fall back to a default.
fn check_mentioned(visit: &Visit, record: &InspectionRecord) -> Result<(), ServerError> {
    let a = &visit.answers;
    let mentioned = a
        .counts
        .iter()
        .map(|(c, _)| *c)
        .chain(a.ratios.iter().map(|(c, _, _)| *c))
        .chain(a.no.iter().copied())
        .chain(a.not_applicable.iter().copied())
        .chain(a.texts.iter().map(|(c, _)| *c))
        .chain(a.notes.iter().map(|(c, _)| *c));
    for code in mentioned {
        if !record.answers.contains_key(code) {
            return Err(ServerError::Invalid(format!(
                "demo visit {}: item {code} is not asked",
                visit.key
            )));
        }
    }
    Ok(())
}

fn template_for(kind: InspectionKind) -> ChecklistTemplate {
    if kind == InspectionKind::AccidentInvestigation {
        osh_accident_investigation()
    } else {
        osh_general()
    }
}

fn subject(visit: &Visit, accident: Option<&Accident>) -> String {
    match (visit.kind, accident) {
        (InspectionKind::AccidentInvestigation, Some(a)) => format!(
            "Về việc điều tra vụ tai nạn lao động xảy ra ngày {}",
            a.date().format("%d/%m/%Y")
        ),
        (InspectionKind::Outreach, _) => {
            "Về việc thăm, tuyên truyền, hướng dẫn công tác an toàn, vệ sinh lao động".into()
        }
        _ => MinutesInfo::OSH_SUBJECT.into(),
    }
}

fn statement(kind: InspectionKind) -> &'static str {
    match kind {
        InspectionKind::AccidentInvestigation => {
            "Người sử dụng lao động thống nhất với kết luận của Đoàn điều tra và cam kết thực hiện các biện pháp khắc phục, phòng ngừa."
        }
        InspectionKind::Outreach => {
            "Cơ sở đã nhận tài liệu hướng dẫn và cam kết phổ biến tới người lao động."
        }
        _ => "Cơ sở thống nhất với kết quả kiểm tra và cam kết khắc phục các tồn tại trong thời hạn Đoàn yêu cầu.",
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, ServerError> {
    s.parse()
        .map_err(|_| ServerError::Invalid(format!("demo date {s}")))
}

/// Carries out one visit: creates (or takes the assigned) inspection,
/// starts it on its day, answers the checklist, and goes as far as the
/// visit's outcome: findings closed, minutes drawn up, signed and sealed.
pub fn carry_out(
    w: &mut Writer,
    devices: &mut Devices,
    refs: &Reference,
    accidents: &HashMap<&'static str, Accident>,
    visit: &Visit,
    number: &str,
) -> Result<Done, ServerError> {
    let (facility, spec) = refs.facility(visit.facility)?;
    let delegation = refs.delegation(visit.team)?;
    let leader = delegation
        .leader()
        .ok_or_else(|| ServerError::Invalid(format!("demo delegation {} has no leader", delegation.name)))?;
    // The first member does the field work on their tablet; the leader signs last.
    let mut signers: Vec<InspectorId> = delegation
        .members
        .iter()
        .filter(|m| m.role != Role::Leader)
        .map(|m| m.inspector)
        .collect();
    let field = *signers
        .first()
        .ok_or_else(|| ServerError::Invalid(format!("demo delegation {} has no member", delegation.name)))?;
    signers.push(leader);

    let template = template_for(visit.kind);
    let date = parse_date(visit.date)?;
    let start = vn_time(date, visit.start.0, visit.start.1)?;
    let close = start + Duration::minutes(visit.minutes_on_site);
    let accident = match visit.accident {
        Some(key) => Some(
            accidents
                .get(key)
                .ok_or_else(|| ServerError::NotFound(format!("demo accident {key}")))?,
        ),
        None => None,
    };

    let mut ops = Vec::new();
    let dev = devices.get_mut(field)?;
    let mut record = match (visit.kind, accident) {
        (InspectionKind::AccidentInvestigation, Some(a)) => {
            // Investigations are assigned by the inspectorate for the declared accident.
            let i = w.assign_investigation(delegation.id, a.id, Some(template.key()), date)?;
            w.db()
                .record(i.id)?
                .ok_or_else(|| ServerError::NotFound(format!("inspection {}", i.id)))?
        }
        (InspectionKind::AccidentInvestigation, None) => {
            return Err(ServerError::Invalid(format!(
                "demo visit {}: an investigation names its accident",
                visit.key
            )))
        }
        _ => {
            // Routine work is planned on the tablet the afternoon before.
            let created_at = vn_time(date - Duration::days(1), 16, 0)?;
            let inspection = Inspection {
                id: InspectionId::new(),
                kind: visit.kind,
                facility: facility.id,
                template: template.key(),
                delegation: delegation.id,
                planned_date: date,
                location: None,
                status: Status::Draft,
                created_by: Some(field),
                created_at,
                started_at: None,
                accident: None,
            };
            ops.push(dev.op(created_at, Payload::CreateInspection(inspection.clone())));
            InspectionRecord::new(inspection)
        }
    };
    let id = record.inspection.id;
    let ctx = Context {
        template: &template,
        facility_kind: facility.kind,
        trusted_keys: None,
    };
    let apply = |record: &mut InspectionRecord, op: Operation, ops: &mut Vec<Operation>| {
        record.apply(&op, &ctx).map_err(|e| {
            ServerError::Invalid(format!(
                "demo visit {}: {} refused on the device: {e}",
                visit.key,
                op.payload.kind()
            ))
        })?;
        ops.push(op);
        Ok::<(), ServerError>(())
    };

    let started = dev.op(
        start,
        Payload::Transition {
            inspection: id,
            to: Status::InProgress,
        },
    );
    apply(&mut record, started, &mut ops)?;

    // Answers open conditional items: answer until nothing asked is left.
    let mut at = start + Duration::minutes(10);
    loop {
        let todo: Vec<String> = record
            .checklist(&ctx)
            .into_iter()
            .filter(|l| l.asked && l.answer == AnswerState::Unanswered)
            .map(|l| l.item.code.clone())
            .collect();
        if todo.is_empty() {
            break;
        }
        for code in todo {
            let (_, item) = template
                .item(&code)
                .ok_or_else(|| ServerError::NotFound(format!("template item {code}")))?;
            let value = answer_value(item, visit)?;
            let note = visit
                .answers
                .notes
                .iter()
                .find(|(k, _)| *k == item.code)
                .map(|(_, n)| *n);
            let note = kiemtra_core::text::optional("note", note, 5_000)?;
            let op = dev.op(
                at,
                Payload::SetAnswer {
                    inspection: id,
                    item: item.code.clone(),
                    entry: AnswerEntry { value, note },
                    supersedes: Vec::new(),
                },
            );
            apply(&mut record, op, &mut ops)?;
            at += Duration::minutes(2);
        }
    }
    check_mentioned(visit, &record)?;
    if at > close {
        return Err(ServerError::Invalid(format!(
            "demo visit {}: answering takes until {at}, after the findings close",
            visit.key
        )));
    }

    if visit.outcome != Outcome::InProgress {
        let closed = dev.op(
            close,
            Payload::Transition {
                inspection: id,
                to: Status::FindingsClosed,
            },
        );
        apply(&mut record, closed, &mut ops)?;
    }
    dev.push(w, ops, &[], visit.key)?;
    if visit.outcome == Outcome::InProgress {
        return Ok(Done {
            inspection: id,
            code: None,
        });
    }

    // The minutes, drawn up from the record as the server holds it.
    let record = w
        .db()
        .record(id)?
        .ok_or_else(|| ServerError::NotFound(format!("inspection {id}")))?;
    let snapshot = InspectionSnapshot {
        record,
        template: template.clone(),
        facility: facility.clone(),
    };
    let inspectors = delegation
        .members
        .iter()
        .map(|m| refs.inspector(m.inspector).cloned())
        .collect::<Result<Vec<_>, _>>()?;
    let mut member_keys = BTreeMap::new();
    for m in &delegation.members {
        member_keys.insert(m.inspector, devices.get(m.inspector)?.key.public_key_bytes());
    }
    let agency = agency_on(date);
    let (body, report_to) = match visit.kind {
        InspectionKind::AccidentInvestigation => ("ĐOÀN ĐIỀU TRA TAI NẠN LAO ĐỘNG", Some(agency.to_string())),
        InspectionKind::Outreach => ("ĐOÀN KIỂM TRA", None),
        _ => ("ĐOÀN KIỂM TRA", Some(agency.to_string())),
    };
    let info = MinutesInfo {
        number: number.to_string(),
        issuing_body: vec![agency.to_uppercase(), body.to_string()],
        subject: subject(visit, accident),
        extra_grounds: Vec::new(),
        city: "Hải Phòng".into(),
        place: spec.street.to_string(),
        location: None,
        made_elsewhere_reason: None,
        started_at: start.with_timezone(&VIETNAM),
        ended_at: (close + Duration::minutes(30)).with_timezone(&VIETNAM),
        representative: Some(Person {
            name: spec.representative.0.into(),
            title: spec.representative.1.into(),
        }),
        others_present: Vec::new(),
        statement: Statement::Statement {
            text: statement(visit.kind).into(),
        },
        copies: 2,
        photos: Vec::new(),
        member_keys,
        representative_signature_png_sha256: None,
        report_to,
        previous: None,
    };
    let document = MinutesDocument::build(&snapshot, delegation, &inspectors, info).map_err(core_err)?;
    let mut signed = SignedMinutes::new(document).map_err(core_err)?;
    let code = AccessCode::generate()?;
    let drawn_up = close + Duration::minutes(10);
    let dev = devices.get_mut(field)?;
    let mut ops = vec![dev.op(
        drawn_up,
        Payload::DrawUpMinutes {
            inspection: id,
            canonical: signed.canonical_bytes().to_vec(),
            access_code_hash: Some(code.code_hash()),
        },
    )];
    if visit.outcome == Outcome::AwaitingSignatures {
        dev.push(w, ops, std::slice::from_ref(&code), visit.key)?;
        return Ok(Done {
            inspection: id,
            code: None,
        });
    }
    // Each signs on their own tablet, the leader last (which seals).
    let mut at = drawn_up + Duration::minutes(10);
    for signer in signers {
        let signature = signed
            .sign(signer, &devices.get(signer)?.key)
            .map_err(core_err)?
            .clone();
        let dev = devices.get_mut(signer)?;
        ops.push(dev.op(
            at,
            Payload::SignMinutes {
                inspection: id,
                content_hash: signed.content_hash(),
                signature,
            },
        ));
        // The first push carries the draw-up, and so its code.
        dev.push(
            w,
            std::mem::take(&mut ops),
            std::slice::from_ref(&code),
            visit.key,
        )?;
        at += Duration::minutes(3);
    }
    let status = w
        .db()
        .record(id)?
        .map(|r| r.inspection.status)
        .ok_or_else(|| ServerError::NotFound(format!("inspection {id}")))?;
    if status != Status::Sealed {
        return Err(ServerError::Invalid(format!(
            "demo visit {}: the minutes are signed but the inspection is {status:?}",
            visit.key
        )));
    }
    Ok(Done {
        inspection: id,
        code: Some(CodeEntry {
            facility: facility.name.clone(),
            tax_code: facility.tax_code.as_ref().map(|t| t.to_string()),
            inspection: id.to_string(),
            kind: visit.kind,
            date: date.to_string(),
            code: code.grouped(),
        }),
    })
}
