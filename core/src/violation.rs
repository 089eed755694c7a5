//! Violations (*vi phạm*): proposed from non-compliant answers, edited or
//! dismissed by the inspector, never silently deleted.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{InspectorId, OpId};
use crate::template::{LegalRef, Severity};

/// What the inspector changed on a proposed violation. Each field left `None`
/// keeps the template's proposal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationEdit {
    pub requirement: Option<String>,
    pub deadline: Option<NaiveDate>,
    pub severity: Option<Severity>,
    /// Set when the inspector dismisses the proposal, with the reason. The
    /// violation stays listed as dismissed; restoring it is another edit.
    pub dismissed: Option<String>,
}

/// Where the establishment stands with a violation after the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationStatus {
    /// Still to be fixed.
    Open,
    /// The establishment says it fixed it and sent evidence.
    Remediated,
    /// An inspector checked the evidence.
    Verified,
}

impl ViolationStatus {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Open => "Chưa khắc phục",
            Self::Remediated => "Đã báo cáo khắc phục",
            Self::Verified => "Đã xác nhận khắc phục",
        }
    }
}

/// Who dismissed a proposed violation, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dismissal {
    pub reason: String,
    pub by: Option<InspectorId>,
    pub at: DateTime<Utc>,
}

/// A violation as shown and printed: the template's proposal with the inspector's edits applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub item: String,
    pub section: String,
    pub text_vi: String,
    pub legal_basis: Vec<LegalRef>,
    pub sanction: Option<LegalRef>,
    pub requirement: String,
    pub severity: Severity,
    pub deadline: NaiveDate,
    pub status: ViolationStatus,
    pub dismissal: Option<Dismissal>,
    /// The inspector changed the proposal.
    pub edited: bool,
    /// Two edits made without seeing each other; the shown one is the newest, both are kept.
    pub conflict: bool,
    /// The edit versions in force, for a later edit to supersede.
    pub edit_heads: Vec<OpId>,
}

impl Violation {
    pub fn is_dismissed(&self) -> bool {
        self.dismissal.is_some()
    }
}
