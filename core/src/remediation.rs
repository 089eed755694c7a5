//! Remediation after the visit: the establishment reports how it fixed a
//! violation (text and photos, sent through the portal), and an inspector
//! reviews the report.
//!
//! Both are operations on the inspection, allowed only once the minutes are
//! sealed, and neither touches the minutes: they live beside them in the
//! record. A report is add-only; reviews are a multi-value register per
//! violation, so two inspectors reviewing at once are both kept.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evidence::PhotoRecord;
use crate::ids::{FacilityId, InspectorId, OpId};

/// What the establishment sent about one violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemediationReport {
    /// The operation that carried it: its identity.
    pub op: OpId,
    pub item: String,
    pub facility: FacilityId,
    /// Who at the establishment sent it, as they gave their name.
    pub sent_by: String,
    pub text: String,
    pub photos: Vec<PhotoRecord>,
    /// Server time of receipt.
    pub received_at: DateTime<Utc>,
}

/// An inspector's judgement of the remediation reported so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The violation is remedied.
    Verified,
    /// The report does not show the violation remedied.
    StillOpen,
}

impl Verdict {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Verified => "Đã khắc phục",
            Self::StillOpen => "Chưa khắc phục",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The newest report the inspector had seen when judging.
    pub report: OpId,
    pub verdict: Verdict,
    pub note: Option<String>,
}

/// A review as kept, with its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewBy<'a> {
    pub review: &'a Review,
    pub by: Option<InspectorId>,
    pub at: DateTime<Utc>,
}
