//! The records that cross the FFI, and their conversions from the core's types.
//! Ids travel as their text form, dates as `YYYY-MM-DD`, times as RFC 3339.

use kiemtra_core as core;
use kiemtra_core::record::AnswerState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FacilityKind {
    Enterprise,
    Cooperative,
    CraftVillage,
    HouseholdBusiness,
    Farm,
}

impl From<FacilityKind> for core::facility::FacilityKind {
    fn from(k: FacilityKind) -> Self {
        use core::facility::FacilityKind as K;
        match k {
            FacilityKind::Enterprise => K::Enterprise,
            FacilityKind::Cooperative => K::Cooperative,
            FacilityKind::CraftVillage => K::CraftVillage,
            FacilityKind::HouseholdBusiness => K::HouseholdBusiness,
            FacilityKind::Farm => K::Farm,
        }
    }
}

impl From<core::facility::FacilityKind> for FacilityKind {
    fn from(k: core::facility::FacilityKind) -> Self {
        use core::facility::FacilityKind as K;
        match k {
            K::Enterprise => Self::Enterprise,
            K::Cooperative => Self::Cooperative,
            K::CraftVillage => Self::CraftVillage,
            K::HouseholdBusiness => Self::HouseholdBusiness,
            K::Farm => Self::Farm,
        }
    }
}

/// What an inspector enters to register an establishment.
#[derive(Debug, Clone, uniffi::Record)]
pub struct NewFacility {
    pub kind: FacilityKind,
    pub name: String,
    /// 10 digits, or 10 digits-3 digits for a branch; optional except for enterprises.
    pub tax_code: Option<String>,
    pub street: String,
    /// Administrative unit code, e.g. `hp.ngo-quyen`.
    pub unit: String,
    pub sector: String,
    pub workforce: u32,
    pub high_risk: bool,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Facility {
    pub id: String,
    pub kind: FacilityKind,
    pub name: String,
    pub tax_code: Option<String>,
    pub street: String,
    pub unit: String,
    pub sector: String,
    pub workforce: u32,
    pub high_risk: bool,
}

impl From<core::facility::Facility> for Facility {
    fn from(f: core::facility::Facility) -> Self {
        Self {
            id: f.id.to_string(),
            kind: f.kind.into(),
            name: f.name,
            tax_code: f.tax_code.map(String::from),
            street: f.address.street,
            unit: f.address.unit,
            sector: f.sector,
            workforce: f.workforce,
            high_risk: f.high_risk,
        }
    }
}

/// An administrative unit in the period it is valid for.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AdminUnit {
    /// The code to give as `NewFacility.unit`.
    pub code: String,
    pub name_vi: String,
    /// quận, huyện, thành phố, xã, phường, đặc khu.
    pub kind: String,
    /// YYYY-MM-DD.
    pub valid_from: String,
    /// YYYY-MM-DD, inclusive; none while still valid.
    pub valid_to: Option<String>,
}

impl From<core::admin_units::AdminUnit> for AdminUnit {
    fn from(u: core::admin_units::AdminUnit) -> Self {
        Self {
            code: u.code,
            name_vi: u.name_vi,
            kind: u.kind,
            valid_from: u.valid_from.to_string(),
            valid_to: u.valid_to.map(|d| d.to_string()),
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Inspector {
    pub id: String,
    pub name: String,
    pub title: String,
    pub agency: String,
}

impl From<core::people::Inspector> for Inspector {
    fn from(i: core::people::Inspector) -> Self {
        Self {
            id: i.id.to_string(),
            name: i.name,
            title: i.title,
            agency: i.agency,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Role {
    Leader,
    Member,
    Secretary,
}

impl From<Role> for core::people::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::Leader => Self::Leader,
            Role::Member => Self::Member,
            Role::Secretary => Self::Secretary,
        }
    }
}

impl From<core::people::Role> for Role {
    fn from(r: core::people::Role) -> Self {
        match r {
            core::people::Role::Leader => Self::Leader,
            core::people::Role::Member => Self::Member,
            core::people::Role::Secretary => Self::Secretary,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct DelegationMember {
    pub inspector_id: String,
    pub role: Role,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Delegation {
    pub id: String,
    pub name: String,
    pub decision: String,
    pub members: Vec<DelegationMember>,
}

impl From<core::people::Delegation> for Delegation {
    fn from(d: core::people::Delegation) -> Self {
        Self {
            id: d.id.to_string(),
            name: d.name,
            decision: d.decision,
            members: d
                .members
                .into_iter()
                .map(|m| DelegationMember {
                    inspector_id: m.inspector.to_string(),
                    role: m.role.into(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum InspectionKind {
    /// Kiểm tra
    Inspection,
    /// Thanh tra
    FormalInspection,
    /// Điều tra tai nạn lao động
    AccidentInvestigation,
    /// Tự kiểm tra
    SelfInspection,
    /// Tuyên truyền, hướng dẫn
    Outreach,
}

impl From<InspectionKind> for core::inspection::InspectionKind {
    fn from(k: InspectionKind) -> Self {
        use core::inspection::InspectionKind as K;
        match k {
            InspectionKind::Inspection => K::Inspection,
            InspectionKind::FormalInspection => K::FormalInspection,
            InspectionKind::AccidentInvestigation => K::AccidentInvestigation,
            InspectionKind::SelfInspection => K::SelfInspection,
            InspectionKind::Outreach => K::Outreach,
        }
    }
}

impl From<core::inspection::InspectionKind> for InspectionKind {
    fn from(k: core::inspection::InspectionKind) -> Self {
        use core::inspection::InspectionKind as K;
        match k {
            K::Inspection => Self::Inspection,
            K::FormalInspection => Self::FormalInspection,
            K::AccidentInvestigation => Self::AccidentInvestigation,
            K::SelfInspection => Self::SelfInspection,
            K::Outreach => Self::Outreach,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Status {
    Draft,
    InProgress,
    FindingsClosed,
    Sealed,
    Delivered,
}

impl From<Status> for core::inspection::Status {
    fn from(s: Status) -> Self {
        use core::inspection::Status as S;
        match s {
            Status::Draft => S::Draft,
            Status::InProgress => S::InProgress,
            Status::FindingsClosed => S::FindingsClosed,
            Status::Sealed => S::Sealed,
            Status::Delivered => S::Delivered,
        }
    }
}

impl From<core::inspection::Status> for Status {
    fn from(s: core::inspection::Status) -> Self {
        use core::inspection::Status as S;
        match s {
            S::Draft => Self::Draft,
            S::InProgress => Self::InProgress,
            S::FindingsClosed => Self::FindingsClosed,
            S::Sealed => Self::Sealed,
            S::Delivered => Self::Delivered,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct NewInspection {
    pub kind: InspectionKind,
    pub facility_id: String,
    pub template_id: String,
    pub template_version: u32,
    pub delegation_id: String,
    /// `YYYY-MM-DD`
    pub planned_date: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Inspection {
    pub id: String,
    pub kind: InspectionKind,
    pub facility_id: String,
    pub template_id: String,
    pub template_version: u32,
    pub delegation_id: String,
    pub planned_date: String,
    /// The inspection's date: when it started on site, else the planned date.
    pub date: String,
    pub status: Status,
}

impl From<core::inspection::Inspection> for Inspection {
    fn from(i: core::inspection::Inspection) -> Self {
        Self {
            id: i.id.to_string(),
            kind: i.kind.into(),
            facility_id: i.facility.to_string(),
            template_id: i.template.id.clone(),
            template_version: i.template.version,
            delegation_id: i.delegation.to_string(),
            planned_date: i.planned_date.to_string(),
            date: i.date().to_string(),
            status: i.status.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum YesNoNa {
    Yes,
    No,
    NotApplicable,
}

/// An answer, typed like the item it answers.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum AnswerValue {
    YesNoNa { value: YesNoNa },
    Count { value: u64 },
    Ratio { numerator: u64, denominator: u64 },
    Text { value: String },
}

impl From<AnswerValue> for core::answer::AnswerValue {
    fn from(a: AnswerValue) -> Self {
        use core::answer::{AnswerValue as A, YesNoNa as Y};
        match a {
            AnswerValue::YesNoNa { value } => A::YesNoNa(match value {
                YesNoNa::Yes => Y::Yes,
                YesNoNa::No => Y::No,
                YesNoNa::NotApplicable => Y::NotApplicable,
            }),
            AnswerValue::Count { value } => A::Count(value),
            AnswerValue::Ratio {
                numerator,
                denominator,
            } => A::Ratio {
                numerator,
                denominator,
            },
            AnswerValue::Text { value } => A::Text(value),
        }
    }
}

impl From<core::answer::AnswerValue> for AnswerValue {
    fn from(a: core::answer::AnswerValue) -> Self {
        use core::answer::{AnswerValue as A, YesNoNa as Y};
        match a {
            A::YesNoNa(v) => AnswerValue::YesNoNa {
                value: match v {
                    Y::Yes => YesNoNa::Yes,
                    Y::No => YesNoNa::No,
                    Y::NotApplicable => YesNoNa::NotApplicable,
                },
            },
            A::Count(value) => AnswerValue::Count { value },
            A::Ratio {
                numerator,
                denominator,
            } => AnswerValue::Ratio {
                numerator,
                denominator,
            },
            A::Text(value) => AnswerValue::Text { value },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AnswerType {
    YesNoNa,
    Count,
    Ratio,
    Text,
}

impl From<core::template::AnswerType> for AnswerType {
    fn from(t: core::template::AnswerType) -> Self {
        use core::template::AnswerType as T;
        match t {
            T::YesNoNa => Self::YesNoNa,
            T::Count => Self::Count,
            T::Ratio => Self::Ratio,
            T::Text => Self::Text,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct LegalRef {
    pub instrument: String,
    pub article: String,
    pub verified: bool,
}

impl From<core::template::LegalRef> for LegalRef {
    fn from(l: core::template::LegalRef) -> Self {
        Self {
            instrument: l.instrument,
            article: l.article,
            verified: l.verified,
        }
    }
}

/// One version of an answer: who set it and when.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AnswerVersion {
    pub value: AnswerValue,
    pub note: Option<String>,
    pub author_id: Option<String>,
    /// RFC 3339
    pub at: String,
}

/// One line of the checklist.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ChecklistLine {
    pub section_code: String,
    pub section_title_vi: String,
    pub item_code: String,
    pub question_vi: String,
    pub question_en: Option<String>,
    pub answer_type: AnswerType,
    pub legal_basis: Vec<LegalRef>,
    /// False when the item does not apply or its condition on an earlier answer is not met.
    pub asked: bool,
    /// The answer in force; empty when unanswered; several when edits conflict.
    pub answers: Vec<AnswerVersion>,
    pub conflict: bool,
}

impl<'a> From<core::record::ChecklistLine<'a>> for ChecklistLine {
    fn from(l: core::record::ChecklistLine<'a>) -> Self {
        let versions: &[core::merge::Version<core::answer::AnswerEntry>] = match l.answer {
            AnswerState::Unanswered => &[],
            AnswerState::Answered(v) => std::slice::from_ref(v),
            AnswerState::Conflict(vs) => vs,
        };
        Self {
            section_code: l.section.code.clone(),
            section_title_vi: l.section.title_vi.clone(),
            item_code: l.item.code.clone(),
            question_vi: l.item.question_vi.clone(),
            question_en: l.item.question_en.clone(),
            answer_type: l.item.answer.into(),
            legal_basis: l.item.legal_basis.iter().cloned().map(Into::into).collect(),
            asked: l.asked,
            conflict: versions.len() > 1,
            answers: versions
                .iter()
                .map(|v| AnswerVersion {
                    value: v.value.value.clone().into(),
                    note: v.value.note.clone(),
                    author_id: v.author.map(|a| a.to_string()),
                    at: v.at.to_rfc3339(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Severity {
    Minor,
    Major,
    Critical,
}

impl From<core::template::Severity> for Severity {
    fn from(s: core::template::Severity) -> Self {
        use core::template::Severity as S;
        match s {
            S::Minor => Self::Minor,
            S::Major => Self::Major,
            S::Critical => Self::Critical,
        }
    }
}

impl From<Severity> for core::template::Severity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Minor => Self::Minor,
            Severity::Major => Self::Major,
            Severity::Critical => Self::Critical,
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Violation {
    pub item_code: String,
    pub section_code: String,
    pub text_vi: String,
    pub legal_basis: Vec<LegalRef>,
    pub sanction: Option<LegalRef>,
    pub requirement: String,
    pub severity: Severity,
    /// `YYYY-MM-DD`
    pub deadline: String,
    pub dismissed: bool,
    pub dismissal_reason: Option<String>,
    pub edited: bool,
    pub conflict: bool,
    /// Where the establishment stands after the visit: open, remediation
    /// reported (through the portal), or verified by an inspector.
    pub status: ViolationStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ViolationStatus {
    Open,
    Remediated,
    Verified,
}

impl From<core::violation::ViolationStatus> for ViolationStatus {
    fn from(s: core::violation::ViolationStatus) -> Self {
        match s {
            core::violation::ViolationStatus::Open => Self::Open,
            core::violation::ViolationStatus::Remediated => Self::Remediated,
            core::violation::ViolationStatus::Verified => Self::Verified,
        }
    }
}

impl From<core::violation::Violation> for Violation {
    fn from(v: core::violation::Violation) -> Self {
        Self {
            item_code: v.item,
            section_code: v.section,
            text_vi: v.text_vi,
            legal_basis: v.legal_basis.into_iter().map(Into::into).collect(),
            sanction: v.sanction.map(Into::into),
            requirement: v.requirement,
            severity: v.severity.into(),
            deadline: v.deadline.to_string(),
            dismissed: v.dismissal.is_some(),
            dismissal_reason: v.dismissal.map(|d| d.reason),
            edited: v.edited,
            conflict: v.conflict,
            status: v.status.into(),
        }
    }
}

/// The inspector's changes to a proposed violation; `None` keeps the proposal.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ViolationEdit {
    pub requirement: Option<String>,
    /// `YYYY-MM-DD`
    pub deadline: Option<String>,
    pub severity: Option<Severity>,
}

/// An operation waiting to be synced.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PendingOperation {
    pub id: String,
    pub seq: u64,
    pub kind: String,
    pub inspection_id: Option<String>,
    pub at: String,
}

impl From<core::ops::Operation> for PendingOperation {
    fn from(o: core::ops::Operation) -> Self {
        Self {
            id: o.id.to_string(),
            seq: o.seq,
            kind: o.payload.kind().to_string(),
            inspection_id: o.payload.inspection().map(|i| i.to_string()),
            at: o.at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct TemplateSummary {
    pub id: String,
    pub version: u32,
    pub title_vi: String,
    pub item_count: u32,
}

impl From<&core::template::ChecklistTemplate> for TemplateSummary {
    fn from(t: &core::template::ChecklistTemplate) -> Self {
        Self {
            id: t.id.clone(),
            version: t.version,
            title_vi: t.title_vi.clone(),
            item_count: u32::try_from(t.items().count()).unwrap_or(u32::MAX),
        }
    }
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct Photo {
    pub item_code: Option<String>,
    pub caption: Option<String>,
    /// SHA-256 (hex) of the stored upright JPEG; fetch it with `KiemtraStore.blob`.
    pub image_sha256: String,
    pub image_width: u32,
    pub image_height: u32,
    pub image_size: u64,
    pub thumbnail_sha256: String,
    pub thumbnail_width: u32,
    pub thumbnail_height: u32,
    /// SHA-256 (hex) and size of the file as the camera wrote it.
    pub original_sha256: String,
    pub original_size: u64,
    /// EXIF capture time as written by the camera (`YYYY-MM-DDTHH:MM:SS`).
    pub captured_at: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl From<core::evidence::PhotoRecord> for Photo {
    fn from(p: core::evidence::PhotoRecord) -> Self {
        Self {
            item_code: p.item,
            caption: p.caption,
            image_sha256: p.image.sha256,
            image_width: p.image.width,
            image_height: p.image.height,
            image_size: p.image.size,
            thumbnail_sha256: p.thumbnail.sha256,
            thumbnail_width: p.thumbnail.width,
            thumbnail_height: p.thumbnail.height,
            original_sha256: p.original_sha256,
            original_size: p.original_size,
            captured_at: p.captured_at.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
            latitude: p.position.map(|g| g.lat()),
            longitude: p.position.map(|g| g.lon()),
        }
    }
}
