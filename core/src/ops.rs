//! Operations: every change a device makes, as the entries of its log.
//!
//! The store applies an operation to its materialised state and appends it to
//! the log in one atomic step; sync later pushes the log. Operations carry
//! what their author saw (`supersedes`), so that replicas merge them in any
//! order to the same state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access_code::AccessCodeHash;
use crate::admin_units::AdminUnit;
use crate::answer::AnswerEntry;
use crate::evidence::PhotoRecord;
use crate::evidence::PhotoRecord as Photo;
use crate::facility::Facility;
use crate::ids::{DeviceId, FacilityId, InspectionId, InspectorId, OpId};
use crate::inspection::{Inspection, Status};
use crate::minutes::{Hash32, MinutesSignature};
use crate::people::{Delegation, Inspector};
use crate::remediation::Review;
use crate::sync::wire::Certificate;
use crate::template::ChecklistTemplate;
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
    /// A photo attached to the inspection or one of its items.
    AddPhoto {
        inspection: InspectionId,
        photo: PhotoRecord,
    },
    /// The minutes drawn up from closed findings (or an amendment of sealed
    /// minutes), as their canonical bytes: what everyone signs.
    DrawUpMinutes {
        inspection: InspectionId,
        #[serde(with = "serde_bytes")]
        canonical: Vec<u8>,
        /// SHA-256 of the code printed on the minutes for the
        /// establishment's portal access. Not part of the signed content
        /// (anyone verifying a copy would otherwise learn it), and never the
        /// code itself: the log reaches every member's device. Older
        /// operations carried the clear code under `access_code`; they read
        /// as its hash (see [`AccessCodeHash`]).
        #[serde(default, alias = "access_code")]
        access_code_hash: Option<AccessCodeHash>,
    },
    /// One signature on the minutes whose content hash is given; the
    /// leader's signature seals the inspection.
    SignMinutes {
        inspection: InspectionId,
        content_hash: Hash32,
        signature: MinutesSignature,
    },
    /// The establishment reported remediation of a violation through the
    /// portal (server-authored, after the minutes are sealed).
    ReportRemediation {
        inspection: InspectionId,
        item: String,
        facility: FacilityId,
        sent_by: String,
        text: String,
        photos: Vec<Photo>,
    },
    /// An inspector judged the remediation reported so far.
    ReviewRemediation {
        inspection: InspectionId,
        item: String,
        review: Review,
        supersedes: Vec<OpId>,
    },
    /// The server published a checklist template (server-authored).
    PublishTemplate(ChecklistTemplate),
    /// The inspectorate published its administrative units (the commune-level
    /// units from 2025-07-01, say): the whole agency list, which replaces the
    /// previous one on every replica (server-authored).
    PublishAdminUnits {
        units: Vec<AdminUnit>,
    },
    /// The server certified a device's key for an inspector (server-authored).
    CertifyDevice(Certificate),
    /// The server revoked a device: its key no longer authenticates (server-authored).
    RevokeDevice {
        device: DeviceId,
    },
}

impl Payload {
    /// The blobs (SHA-256 hex) the operation refers to and whose bytes the
    /// server must hold before it accepts the operation: a photo's image and
    /// thumbnail.
    pub fn blobs(&self) -> Vec<String> {
        let photos: &[PhotoRecord] = match self {
            Payload::AddPhoto { photo, .. } => std::slice::from_ref(photo),
            Payload::ReportRemediation { photos, .. } => photos,
            _ => &[],
        };
        photos
            .iter()
            .flat_map(|p| [p.image.sha256.clone(), p.thumbnail.sha256.clone()])
            .collect()
    }

    /// The inspection the operation changes, if any.
    pub fn inspection(&self) -> Option<InspectionId> {
        match self {
            Payload::CreateInspection(i) => Some(i.id),
            Payload::Transition { inspection, .. }
            | Payload::SetAnswer { inspection, .. }
            | Payload::EditViolation { inspection, .. }
            | Payload::AddPhoto { inspection, .. }
            | Payload::DrawUpMinutes { inspection, .. }
            | Payload::SignMinutes { inspection, .. }
            | Payload::ReportRemediation { inspection, .. }
            | Payload::ReviewRemediation { inspection, .. } => Some(*inspection),
            Payload::PutFacility(_)
            | Payload::PutInspector(_)
            | Payload::PutDelegation(_)
            | Payload::PublishTemplate(_)
            | Payload::PublishAdminUnits { .. }
            | Payload::CertifyDevice(_)
            | Payload::RevokeDevice { .. } => None,
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
            Payload::AddPhoto { .. } => "add_photo",
            Payload::DrawUpMinutes { .. } => "draw_up_minutes",
            Payload::SignMinutes { .. } => "sign_minutes",
            Payload::ReportRemediation { .. } => "report_remediation",
            Payload::ReviewRemediation { .. } => "review_remediation",
            Payload::PublishTemplate(_) => "publish_template",
            Payload::PublishAdminUnits { .. } => "publish_admin_units",
            Payload::CertifyDevice(_) => "certify_device",
            Payload::RevokeDevice { .. } => "revoke_device",
        }
    }
}
