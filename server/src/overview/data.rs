//! Everything the overview computes from, read once per request: the data
//! set is the inspectorate's (thousands of records), small enough to hold.

use std::collections::HashMap;

use chrono::NaiveDate;
use kiemtra_core::accident::Accident;
use kiemtra_core::admin_units::AdminUnits;
use kiemtra_core::facility::Facility;
use kiemtra_core::ids::{AccidentId, FacilityId};
use kiemtra_core::inspection::{vietnam_offset, Status};
use kiemtra_core::record::{Context, InspectionRecord};
use kiemtra_core::template::{ChecklistTemplate, TemplateRef};
use kiemtra_core::violation::Violation;

use crate::db::{Read, ServerDb};
use crate::error::ServerError;

pub struct Data {
    pub facilities: HashMap<FacilityId, Facility>,
    pub records: Vec<InspectionRecord>,
    pub accidents: Vec<Accident>,
    pub templates: HashMap<TemplateRef, ChecklistTemplate>,
    pub units: AdminUnits,
    pub today: NaiveDate,
}

impl Data {
    pub fn load(db: &ServerDb, units: AdminUnits) -> Result<Self, ServerError> {
        let mut records = db.records()?;
        records.sort_by_key(|r| (r.inspection.date(), r.inspection.id));
        let mut accidents = db.accidents()?;
        accidents.sort_by_key(|a| (a.occurred_at, a.id));
        Ok(Self {
            facilities: db.facilities()?.into_iter().map(|f| (f.id, f)).collect(),
            templates: db.templates()?.into_iter().map(|t| (t.key(), t)).collect(),
            records,
            accidents,
            units,
            today: chrono::Utc::now().with_timezone(&vietnam_offset()).date_naive(),
        })
    }

    pub fn facility_name(&self, id: FacilityId) -> String {
        self.facilities
            .get(&id)
            .map(|f| f.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// The violations of a record whose minutes are sealed (the legal
    /// findings), dismissed proposals left out.
    pub fn violations(&self, r: &InspectionRecord) -> Vec<Violation> {
        if r.inspection.status < Status::Sealed {
            return Vec::new();
        }
        let (Some(template), Some(facility)) = (
            self.templates.get(&r.inspection.template),
            self.facilities.get(&r.inspection.facility),
        ) else {
            return Vec::new();
        };
        let ctx = Context {
            template,
            facility_kind: facility.kind,
            trusted_keys: None,
        };
        r.violations(&ctx)
            .into_iter()
            .filter(|v| !v.is_dismissed())
            .collect()
    }

    /// When the investigation of `accident` was concluded: the date its
    /// investigation's minutes were sealed (the leader's signature).
    pub fn investigation_sealed_on(&self, accident: AccidentId) -> Option<NaiveDate> {
        self.records
            .iter()
            .filter(|r| r.inspection.accident == Some(accident) && r.inspection.status >= Status::Sealed)
            .filter_map(|r| {
                // The minutes are dated by their end of session; signatures carry no time.
                r.current_minutes()
                    .and_then(|m| kiemtra_core::minutes::decode_canonical(&m.canonical).ok())
                    .and_then(|d| chrono::DateTime::parse_from_rfc3339(&d.ended_at).ok())
                    .map(|t| t.with_timezone(&vietnam_offset()).date_naive())
                    .or(Some(r.inspection.date()))
            })
            .min()
    }
}
