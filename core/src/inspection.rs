//! An inspection and its lifecycle.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::LifecycleError;
use crate::geo::GeoPoint;
use crate::ids::{AccidentId, DelegationId, FacilityId, InspectionId, InspectorId};
use crate::template::TemplateRef;

/// The kinds of field work the same engine carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionKind {
    /// *Kiểm tra*: routine OSH inspection by a delegation.
    Inspection,
    /// *Thanh tra*: formal labour inspection with legal conclusions.
    FormalInspection,
    /// *Điều tra tai nạn lao động*: labour-accident investigation.
    AccidentInvestigation,
    /// *Tự kiểm tra*: the establishment's own self-inspection.
    SelfInspection,
    /// Outreach visit to a craft village or cooperative (target 6).
    Outreach,
}

impl InspectionKind {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Inspection => "Kiểm tra",
            Self::FormalInspection => "Thanh tra",
            Self::AccidentInvestigation => "Điều tra tai nạn lao động",
            Self::SelfInspection => "Tự kiểm tra",
            Self::Outreach => "Tuyên truyền, hướng dẫn",
        }
    }
}

/// Draft → InProgress → FindingsClosed → Sealed → Delivered, one step at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Assigned, not yet started.
    Draft,
    /// The checklist is being answered.
    InProgress,
    /// Findings are closed; the minutes can be drawn up and signed.
    FindingsClosed,
    /// The leader signed: answers, violations and photos can no longer change.
    Sealed,
    /// The establishment received its copy.
    Delivered,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::InProgress,
        Status::FindingsClosed,
        Status::Sealed,
        Status::Delivered,
    ];

    /// The one status that may follow this one.
    pub fn next(self) -> Option<Status> {
        match self {
            Status::Draft => Some(Status::InProgress),
            Status::InProgress => Some(Status::FindingsClosed),
            Status::FindingsClosed => Some(Status::Sealed),
            Status::Sealed => Some(Status::Delivered),
            Status::Delivered => None,
        }
    }

    /// Whether answers, violations and photos may still change.
    pub fn findings_open(self) -> bool {
        self == Status::InProgress
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Draft => "Chưa bắt đầu",
            Status::InProgress => "Đang kiểm tra",
            Status::FindingsClosed => "Đã chốt kết quả",
            Status::Sealed => "Đã ký biên bản",
            Status::Delivered => "Đã giao biên bản",
        }
    }

    /// The name on the wire and in messages (`findings_closed`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::InProgress => "in_progress",
            Status::FindingsClosed => "findings_closed",
            Status::Sealed => "sealed",
            Status::Delivered => "delivered",
        }
    }

    /// Whether the leader has sealed the minutes (sealed or delivered).
    pub fn is_sealed(self) -> bool {
        self >= Status::Sealed
    }

    /// Checks a transition operation against the status it finds, on the
    /// device that makes it and on the server that receives it. A transition
    /// to the status already reached or an earlier one is a harmless replay
    /// (two devices both started the inspection) while the findings are
    /// still the team's; after the leader's seal the only way forward is
    /// delivery (amendments are signed minutes, not transitions), and
    /// anything else is refused so that no device ever receives it.
    pub fn check_transition_op(self, to: Status) -> Result<(), LifecycleError> {
        if self.is_sealed() && to != Status::Delivered {
            return Err(LifecycleError::Sealed { status: self, to });
        }
        if to <= self {
            return Ok(());
        }
        self.check_transition(to)
    }

    /// Checks a transition; an out-of-order one is a typed error.
    pub fn check_transition(self, to: Status) -> Result<(), LifecycleError> {
        if self.next() == Some(to) {
            Ok(())
        } else {
            Err(LifecycleError::Transition { from: self, to })
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub id: InspectionId,
    pub kind: InspectionKind,
    pub facility: FacilityId,
    pub template: TemplateRef,
    pub delegation: DelegationId,
    pub planned_date: NaiveDate,
    pub location: Option<GeoPoint>,
    pub status: Status,
    pub created_by: Option<InspectorId>,
    pub created_at: DateTime<Utc>,
    /// When the inspection was started on site: the date deadlines count from.
    pub started_at: Option<DateTime<Utc>>,
    /// The accident an accident investigation investigates.
    #[serde(default)]
    pub accident: Option<AccidentId>,
}

/// Vietnam's civil time: UTC+7 all year, no daylight saving.
pub const VIETNAM: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

pub fn vietnam_offset() -> FixedOffset {
    VIETNAM
}

impl Inspection {
    /// The inspection's date in Vietnam: the day it was started, or the planned day.
    pub fn date(&self) -> NaiveDate {
        self.started_at
            .map(|t| t.with_timezone(&vietnam_offset()).date_naive())
            .unwrap_or(self.planned_date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_step_at_a_time() {
        assert!(Status::Draft.check_transition(Status::InProgress).is_ok());
        assert!(Status::Draft.check_transition(Status::Sealed).is_err());
        assert!(Status::FindingsClosed
            .check_transition(Status::InProgress)
            .is_err());
        assert!(Status::Delivered.check_transition(Status::Draft).is_err());
        assert_eq!(
            Status::InProgress.check_transition(Status::Delivered),
            Err(LifecycleError::Transition {
                from: Status::InProgress,
                to: Status::Delivered
            })
        );
    }

    #[test]
    fn after_the_seal_only_delivery() {
        for from in [Status::Sealed, Status::Delivered] {
            for to in [
                Status::Draft,
                Status::InProgress,
                Status::FindingsClosed,
                Status::Sealed,
            ] {
                assert_eq!(
                    from.check_transition_op(to),
                    Err(LifecycleError::Sealed { status: from, to })
                );
            }
            assert!(from.check_transition_op(Status::Delivered).is_ok());
        }
        // Before the seal a replayed or concurrent start is harmless.
        assert!(Status::FindingsClosed
            .check_transition_op(Status::InProgress)
            .is_ok());
    }

    #[test]
    fn names_are_the_wire_names() {
        for s in Status::ALL {
            let wire = serde_json::to_string(&s).unwrap();
            assert_eq!(wire, format!("\"{s}\""));
        }
    }

    #[test]
    fn date_is_vietnam_local() {
        let started: DateTime<Utc> = "2025-03-04T18:30:00Z".parse().unwrap();
        assert_eq!(
            started.with_timezone(&vietnam_offset()).date_naive(),
            "2025-03-05".parse::<NaiveDate>().unwrap()
        );
    }
}
