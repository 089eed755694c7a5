//! Operations: every change a device makes, as the entries of its log.
//!
//! The store applies an operation to its materialised state and appends it to
//! the log in one atomic step; sync later pushes the log. Operations carry
//! what their author saw (`supersedes`), so that replicas merge them in any
//! order to the same state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::answer::AnswerEntry;
use crate::facility::Facility;
use crate::ids::{DeviceId, InspectionId, InspectorId, OpId};
use crate::inspection::{Inspection, Status};
use crate::people::{Delegation, Inspector};
use crate::violation::ViolationEdit;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub id: OpId,
    pub device: DeviceId,
    /// Position in the device's own log, from 1 with no gaps: sync compares
    /// the highest sequence number per device to find what is missing.
    pub seq: u64,
    pub author: Option<InspectorId>,
    pub at: DateTime<Utc>,
    pub payload: Payload,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payload {
    PutFacility(Facility),
    PutInspector(Inspector),
    PutDelegation(Delegation),
    CreateInspection(Inspection),
    Transition {
        inspection: InspectionId,
        to: Status,
    },
    SetAnswer {
        inspection: InspectionId,
        item: String,
        entry: AnswerEntry,
        supersedes: Vec<OpId>,
    },
    EditViolation {
        inspection: InspectionId,
        item: String,
        edit: ViolationEdit,
        supersedes: Vec<OpId>,
    },
}

impl Payload {
    /// The inspection the operation changes, if any.
    pub fn inspection(&self) -> Option<InspectionId> {
        match self {
            Payload::CreateInspection(i) => Some(i.id),
            Payload::Transition { inspection, .. }
            | Payload::SetAnswer { inspection, .. }
            | Payload::EditViolation { inspection, .. } => Some(*inspection),
            Payload::PutFacility(_) | Payload::PutInspector(_) | Payload::PutDelegation(_) => None,
        }
    }

    /// A short name for logs and error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::PutFacility(_) => "put_facility",
            Payload::PutInspector(_) => "put_inspector",
            Payload::PutDelegation(_) => "put_delegation",
            Payload::CreateInspection(_) => "create_inspection",
            Payload::Transition { .. } => "transition",
            Payload::SetAnswer { .. } => "set_answer",
            Payload::EditViolation { .. } => "edit_violation",
        }
    }
}
