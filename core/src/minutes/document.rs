//! The minutes' frozen content and how it is drawn up from an inspection.
//!
//! Every field is plain data (strings, integers, byte strings, enums written as
//! strings): no floats, no maps with keys in hash order, so that the CBOR
//! encoding is the same on every platform. Times are RFC 3339 strings in
//! Vietnam's offset (+07:00), dates `YYYY-MM-DD`. Changing a field's name,
//! order or type changes the signed bytes: bump [`DOCUMENT_FORMAT`] instead.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Serialize};

use super::bytes::Hash32;
use super::MinutesError;
use crate::admin_units::AdminUnits;
use crate::answer::{compliance, Compliance};
use crate::error::ValidationError;
use crate::facility::FacilityKind;
use crate::geo::GeoPoint;
use crate::identity::fingerprint;
use crate::ids::InspectorId;
use crate::inspection::InspectionKind;
use crate::people::{Delegation, Inspector, Role};
use crate::record::AnswerState;
use crate::store::InspectionSnapshot;
use crate::template::{ComplianceRule, LegalRef, Severity, TemplateRef};
use crate::text;

/// Version of the document layout below.
pub const DOCUMENT_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesDocument {
    pub format: u32,
    pub inspection_id: String,
    pub inspection_kind: InspectionKind,
    pub template: TemplateRef,
    /// *Số: 15/BB-ĐKT*: the part before "Số:" as printed.
    pub number: String,
    /// Issuing body, one printed line each, in capitals (agency names are data).
    pub issuing_body: Vec<String>,
    /// *Về việc …*
    pub subject: String,
    /// *Căn cứ*: the delegation's decision first, then any others given.
    pub grounds: Vec<String>,
    pub place: Place,
    pub started_at: String,
    pub ended_at: String,
    pub delegation_name: String,
    pub members: Vec<Member>,
    pub establishment: Establishment,
    pub representative: Option<Person>,
    pub others_present: Vec<Person>,
    pub findings: Vec<SectionFindings>,
    pub violations: Vec<ViolationEntry>,
    /// *báo cáo kết quả khắc phục về … trước ngày …*
    pub report_back: Option<ReportBack>,
    pub photos: Vec<PhotoRef>,
    pub statement: Statement,
    /// SHA-256 of the PNG of the representative's drawn signature, when they signed.
    pub representative_signature: Option<Hash32>,
    /// Copies of equal value; the establishment keeps one.
    pub copies: u32,
    /// Content hash of the version this one corrects.
    pub previous: Option<Hash32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Where the minutes were made, as printed.
    pub address: String,
    /// The city in the dateline: *Hải Phòng, ngày …*
    pub city: String,
    pub location: Option<GeoPoint>,
    /// Art. 58 clause 2: minutes made elsewhere than the inspection say why.
    pub made_elsewhere_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub inspector_id: String,
    pub name: String,
    pub title: String,
    pub agency: String,
    pub role: Role,
    /// [`crate::identity::fingerprint`] of the key this member signs with.
    pub key_fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Establishment {
    pub facility_id: String,
    pub name: String,
    pub kind: FacilityKind,
    pub address: String,
    pub unit_code: String,
    pub tax_code: Option<String>,
    pub sector: String,
    pub workforce: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionFindings {
    pub code: String,
    pub title: String,
    pub items: Vec<Finding>,
}

/// How an answer stands against its item's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assessment {
    /// The item is a fact (no rule).
    Fact,
    Compliant,
    NonCompliant,
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub item: String,
    pub question: String,
    /// The answer as printed (*Có*, *45/50*, …).
    pub answer: String,
    pub note: Option<String>,
    pub assessment: Assessment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub instrument: String,
    pub article: String,
    pub verified: bool,
}

impl Citation {
    /// "Điều 14 khoản 2 Luật 84/2015/QH13".
    pub fn cite_vi(&self) -> String {
        format!("{} {}", self.article, self.instrument)
    }
}

impl From<&LegalRef> for Citation {
    fn from(r: &LegalRef) -> Self {
        Self {
            instrument: r.instrument.clone(),
            article: r.article.clone(),
            verified: r.verified,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationEntry {
    /// 1, 2, … over the violations that stand; 0 for a dismissed one.
    pub number: u32,
    pub item: String,
    pub section: String,
    pub text: String,
    pub legal_basis: Vec<Citation>,
    pub sanction: Option<Citation>,
    pub requirement: String,
    /// `YYYY-MM-DD`
    pub deadline: String,
    pub severity: Severity,
    /// The inspector's reason, when the proposal was dismissed: kept, marked, not numbered.
    pub dismissed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportBack {
    pub to: String,
    /// `YYYY-MM-DD`: the latest deadline of the standing violations.
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    pub sha256: Hash32,
    pub caption: String,
    /// The checklist item the photo supports, if any.
    pub item: Option<String>,
}

/// Who confirms a refusal to sign (Law 15/2012/QH13 Art. 58 cl. 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub name: String,
    pub title: String,
    /// E.g. *Đại diện UBND phường …* or *Người chứng kiến*.
    pub role: String,
}

/// Section V: the establishment's own words, or the record of its refusal to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statement {
    Statement {
        text: String,
    },
    Refused {
        reason: String,
        witness: Option<Witness>,
    },
}

/// What the minutes need beyond the inspection record.
#[derive(Debug, Clone)]
pub struct MinutesInfo {
    pub number: String,
    pub issuing_body: Vec<String>,
    pub subject: String,
    pub extra_grounds: Vec<String>,
    pub city: String,
    pub place: String,
    /// `None` takes the inspection's recorded location.
    pub location: Option<GeoPoint>,
    pub made_elsewhere_reason: Option<String>,
    pub started_at: DateTime<FixedOffset>,
    pub ended_at: DateTime<FixedOffset>,
    pub representative: Option<Person>,
    pub others_present: Vec<Person>,
    pub statement: Statement,
    pub copies: u32,
    pub photos: Vec<PhotoRef>,
    /// Members' public keys; a member without one cannot sign digitally.
    pub member_keys: BTreeMap<InspectorId, [u8; 32]>,
    pub representative_signature_png_sha256: Option<Hash32>,
    pub report_to: Option<String>,
    pub previous: Option<Hash32>,
}

impl MinutesInfo {
    /// The usual subject line of an OSH inspection.
    pub const OSH_SUBJECT: &'static str = "Về việc kiểm tra công tác an toàn, vệ sinh lao động";
}

fn req(field: &'static str, s: &str, max: usize) -> Result<String, MinutesError> {
    Ok(text::required(field, s, max)?)
}

fn opt(field: &'static str, s: Option<&str>, max: usize) -> Result<Option<String>, MinutesError> {
    Ok(text::optional(field, s, max)?)
}

fn person(field: &'static str, p: &Person) -> Result<Person, MinutesError> {
    Ok(Person {
        name: req(field, &p.name, 200)?,
        title: req(field, &p.title, 200)?,
    })
}

/// Times are written in Vietnam's offset whatever offset they came in.
fn rfc3339(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&crate::inspection::VIETNAM)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

impl MinutesDocument {
    /// Draws up the minutes of `snapshot`. Refused while an asked item is
    /// unanswered or in conflict: minutes record closed findings only.
    pub fn build(
        snapshot: &InspectionSnapshot,
        delegation: &Delegation,
        inspectors: &[Inspector],
        info: MinutesInfo,
    ) -> Result<MinutesDocument, MinutesError> {
        let inspection = &snapshot.record.inspection;
        if inspection.delegation != delegation.id {
            return Err(invalid("delegation", "is not the inspection's delegation"));
        }
        if info.copies < 2 {
            return Err(invalid("copies", "at least two copies are made (Art. 58 cl. 4)"));
        }
        if info.ended_at < info.started_at {
            return Err(invalid("end time", "is before the start time"));
        }
        let issuing_body = info
            .issuing_body
            .iter()
            .map(|l| req("issuing body", l, 200))
            .collect::<Result<Vec<_>, _>>()?;
        if issuing_body.is_empty() {
            return Err(ValidationError::Empty {
                field: "issuing body",
            }
            .into());
        }
        let mut grounds = vec![delegation.decision.clone()];
        for g in &info.extra_grounds {
            grounds.push(req("grounds", g, 1_000)?);
        }

        let members = delegation
            .members
            .iter()
            .map(|m| {
                let who = inspectors
                    .iter()
                    .find(|i| i.id == m.inspector)
                    .ok_or_else(|| invalid("delegation", "a member is not among the given inspectors"))?;
                Ok(Member {
                    inspector_id: who.id.to_string(),
                    name: who.name.clone(),
                    title: who.title.clone(),
                    agency: who.agency.clone(),
                    role: m.role,
                    key_fingerprint: info.member_keys.get(&who.id).map(fingerprint),
                })
            })
            .collect::<Result<Vec<_>, MinutesError>>()?;

        let facility = &snapshot.facility;
        let unit_name = AdminUnits::builtin()
            .get(&facility.address.unit)
            .map(|u| u.name_vi.clone());
        let address = match unit_name {
            Some(u) => format!("{}, {}", facility.address.street, u),
            None => facility.address.street.clone(),
        };
        let establishment = Establishment {
            facility_id: facility.id.to_string(),
            name: facility.name.clone(),
            kind: facility.kind,
            address,
            unit_code: facility.address.unit.clone(),
            tax_code: facility.tax_code.as_ref().map(|t| t.to_string()),
            sector: facility.sector.clone(),
            workforce: facility.workforce,
        };

        let findings = findings(snapshot)?;
        let violations = violations(snapshot);
        let report_back = match (
            &info.report_to,
            violations
                .iter()
                .filter(|v| v.dismissed.is_none())
                .map(|v| &v.deadline)
                .max(),
        ) {
            (Some(to), Some(by)) => Some(ReportBack {
                to: req("report to", to, 300)?,
                by: by.clone(),
            }),
            _ => None,
        };

        let photos = info
            .photos
            .iter()
            .map(|p| {
                Ok(PhotoRef {
                    sha256: p.sha256,
                    caption: text::CAPTION.optional(Some(&p.caption))?.unwrap_or_default(),
                    item: p.item.clone(),
                })
            })
            .collect::<Result<Vec<_>, MinutesError>>()?;

        let statement = match &info.statement {
            Statement::Statement { text } => Statement::Statement {
                text: req("statement", text, 10_000)?,
            },
            Statement::Refused { reason, witness } => Statement::Refused {
                reason: req("refusal reason", reason, 2_000)?,
                witness: match witness {
                    None => None,
                    Some(w) => Some(Witness {
                        name: req("witness name", &w.name, 200)?,
                        title: req("witness title", &w.title, 200)?,
                        role: req("witness role", &w.role, 300)?,
                    }),
                },
            },
        };
        let representative_signed = info.representative_signature_png_sha256.is_some();
        if representative_signed && matches!(statement, Statement::Refused { .. }) {
            return Err(invalid(
                "representative signature",
                "given although the representative refused to sign",
            ));
        }
        if representative_signed && info.representative.is_none() {
            return Err(invalid(
                "representative signature",
                "given without a representative",
            ));
        }

        Ok(MinutesDocument {
            format: DOCUMENT_FORMAT,
            inspection_id: inspection.id.to_string(),
            inspection_kind: inspection.kind,
            template: inspection.template.clone(),
            number: req("minutes number", &info.number, 100)?,
            issuing_body,
            subject: req("subject", &info.subject, 500)?,
            grounds,
            place: Place {
                address: req("place", &info.place, 500)?,
                city: req("city", &info.city, 100)?,
                location: info.location.or(inspection.location),
                made_elsewhere_reason: opt(
                    "reason for the place",
                    info.made_elsewhere_reason.as_deref(),
                    1_000,
                )?,
            },
            started_at: rfc3339(&info.started_at),
            ended_at: rfc3339(&info.ended_at),
            delegation_name: delegation.name.clone(),
            members,
            establishment,
            representative: info
                .representative
                .as_ref()
                .map(|p| person("representative", p))
                .transpose()?,
            others_present: info
                .others_present
                .iter()
                .map(|p| person("person present", p))
                .collect::<Result<Vec<_>, _>>()?,
            findings,
            violations,
            report_back,
            photos,
            statement,
            representative_signature: info.representative_signature_png_sha256,
            copies: info.copies,
            previous: info.previous,
        })
    }

    /// The leader's entry, if the delegation has one.
    pub fn leader(&self) -> Option<&Member> {
        self.members.iter().find(|m| m.role == Role::Leader)
    }

    pub fn member(&self, inspector_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.inspector_id == inspector_id)
    }

    /// Violations that stand (not dismissed), in order.
    pub fn standing_violations(&self) -> impl Iterator<Item = &ViolationEntry> {
        self.violations.iter().filter(|v| v.dismissed.is_none())
    }
}

fn invalid(field: &'static str, reason: &str) -> MinutesError {
    ValidationError::Invalid {
        field,
        reason: reason.to_string(),
    }
    .into()
}

fn findings(snapshot: &InspectionSnapshot) -> Result<Vec<SectionFindings>, MinutesError> {
    let mut out: Vec<SectionFindings> = Vec::new();
    for line in snapshot.checklist() {
        if !line.asked {
            continue;
        }
        let entry = match line.answer {
            AnswerState::Answered(v) => &v.value,
            AnswerState::Unanswered => {
                return Err(MinutesError::Incomplete(format!(
                    "item {} has no answer",
                    line.item.code
                )))
            }
            AnswerState::Conflict(_) => {
                return Err(MinutesError::Incomplete(format!(
                    "item {} has conflicting answers",
                    line.item.code
                )))
            }
        };
        let assessment = match (line.item.rule, compliance(line.item, &entry.value)) {
            (None, _) => Assessment::Fact,
            (Some(_), Compliance::Compliant) => Assessment::Compliant,
            (Some(_), Compliance::NonCompliant) => Assessment::NonCompliant,
            (
                Some(ComplianceRule::MustBeYes | ComplianceRule::MinRatioPerMille(_)),
                Compliance::NotAssessed,
            ) => Assessment::NotApplicable,
        };
        let finding = Finding {
            item: line.item.code.clone(),
            question: line.item.question_vi.clone(),
            answer: entry.value.display_vi(),
            note: entry.note.clone(),
            assessment,
        };
        match out.last_mut() {
            Some(s) if s.code == line.section.code => s.items.push(finding),
            _ => out.push(SectionFindings {
                code: line.section.code.clone(),
                title: line.section.title_vi.clone(),
                items: vec![finding],
            }),
        }
    }
    Ok(out)
}

fn violations(snapshot: &InspectionSnapshot) -> Vec<ViolationEntry> {
    let mut n = 0u32;
    snapshot
        .violations()
        .into_iter()
        .map(|v| {
            let dismissed = v.dismissal.as_ref().map(|d| d.reason.clone());
            let number = if dismissed.is_none() {
                n += 1;
                n
            } else {
                0
            };
            ViolationEntry {
                number,
                item: v.item,
                section: v.section,
                text: v.text_vi,
                legal_basis: v.legal_basis.iter().map(Citation::from).collect(),
                sanction: v.sanction.as_ref().map(Citation::from),
                requirement: v.requirement,
                deadline: v.deadline.format("%Y-%m-%d").to_string(),
                severity: v.severity,
                dismissed,
            }
        })
        .collect()
}
