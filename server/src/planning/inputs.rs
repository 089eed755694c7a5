//! The risk factors of every establishment, gathered from the records the
//! server holds: the register, the sealed minutes' violations and their
//! remediation, the accidents.

use std::collections::HashMap;

use kiemtra_core::ids::FacilityId;
use kiemtra_core::inspection::{vietnam_offset, Status};
use kiemtra_core::violation::ViolationStatus;

use super::score::{AccidentFacts, LastInspection, RiskInputs};
use crate::overview::data::Data;

/// The inputs of every establishment of the register, on `d.today`.
pub fn gather(d: &Data) -> HashMap<FacilityId, RiskInputs> {
    let mut inputs: HashMap<FacilityId, RiskInputs> = d
        .facilities
        .values()
        .map(|f| {
            (
                f.id,
                RiskInputs {
                    sector: f.sector.clone(),
                    workforce: f.workforce,
                    high_risk: f.high_risk,
                    ..Default::default()
                },
            )
        })
        .collect();
    // Records come sorted by date: the last one seen is the latest.
    for r in d.records.iter().filter(|r| r.inspection.status >= Status::Sealed) {
        let Some(i) = inputs.get_mut(&r.inspection.facility) else {
            continue;
        };
        let violations = d.violations(r);
        for v in &violations {
            if v.status == ViolationStatus::Verified {
                continue;
            }
            if v.deadline < d.today {
                i.overdue_violations += 1;
            } else {
                i.open_violations += 1;
            }
        }
        let on = r.inspection.date();
        if i.last_inspection.is_none_or(|l| l.on <= on) {
            i.last_inspection = Some(LastInspection {
                on,
                violations: u32::try_from(violations.len()).unwrap_or(u32::MAX),
            });
        }
    }
    for a in &d.accidents {
        let Some(i) = a.facility.and_then(|f| inputs.get_mut(&f)) else {
            continue;
        };
        i.accidents.push(AccidentFacts {
            on: a.occurred_at.with_timezone(&vietnam_offset()).date_naive(),
            deaths: a.deaths,
            seriously_injured: a.seriously_injured,
        });
    }
    inputs
}
