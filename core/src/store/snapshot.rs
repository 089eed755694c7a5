//! A consistent read of one inspection with what is needed to interpret it.

use crate::facility::Facility;
use crate::record::{ChecklistLine, Context, InspectionRecord};
use crate::template::ChecklistTemplate;
use crate::violation::Violation;

#[derive(Debug, Clone)]
pub struct InspectionSnapshot {
    pub record: InspectionRecord,
    pub template: ChecklistTemplate,
    pub facility: Facility,
}

impl InspectionSnapshot {
    pub fn context(&self) -> Context<'_> {
        Context {
            template: &self.template,
            facility_kind: self.facility.kind,
            trusted_keys: None,
        }
    }

    pub fn checklist(&self) -> Vec<ChecklistLine<'_>> {
        self.record.checklist(&self.context())
    }

    pub fn violations(&self) -> Vec<Violation> {
        self.record.violations(&self.context())
    }
}
