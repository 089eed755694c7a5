//! Counts of the inspectorate's work: inspections by unit, month and kind;
//! violations by checklist section and by legal basis; violations open past
//! their deadline; high-risk establishments not yet inspected in a year.

use std::collections::BTreeMap;

use chrono::Datelike;
use kiemtra_core::facility::FacilityKind;
use kiemtra_core::ids::{FacilityId, InspectionId};
use kiemtra_core::inspection::{InspectionKind, Status};
use kiemtra_core::violation::ViolationStatus;
use serde::Serialize;

use super::data::Data;
use super::units::{unit_on, UnitKey};

#[derive(Debug, Clone, Serialize)]
pub struct InspectionCount {
    pub unit: UnitKey,
    /// `YYYY-MM`.
    pub month: String,
    pub kind: InspectionKind,
    pub count: u64,
    pub inspections: Vec<InspectionId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionCount {
    pub template: String,
    pub section: String,
    pub title: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegalBasisCount {
    pub instrument: String,
    pub article: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverdueViolation {
    pub inspection: InspectionId,
    pub facility: String,
    pub unit: UnitKey,
    pub item: String,
    pub text: String,
    pub deadline: chrono::NaiveDate,
    pub days_overdue: i64,
    pub status: ViolationStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct Uninspected {
    pub facility: FacilityId,
    pub name: String,
    pub kind: FacilityKind,
    pub unit: UnitKey,
}

/// Inspections that have started (a draft is a plan, not work done).
pub fn inspections_by_unit_month_kind(d: &Data) -> Vec<InspectionCount> {
    let mut map: BTreeMap<(UnitKey, String, InspectionKind), Vec<InspectionId>> = BTreeMap::new();
    for r in d
        .records
        .iter()
        .filter(|r| r.inspection.status >= Status::InProgress)
    {
        let Some(f) = d.facilities.get(&r.inspection.facility) else {
            continue;
        };
        let date = r.inspection.date();
        let key = (
            unit_on(&d.units, &f.address.unit, date),
            date.format("%Y-%m").to_string(),
            r.inspection.kind,
        );
        map.entry(key).or_default().push(r.inspection.id);
    }
    map.into_iter()
        .map(|((unit, month, kind), ids)| InspectionCount {
            unit,
            month,
            kind,
            count: ids.len() as u64,
            inspections: ids,
        })
        .collect()
}

pub fn violations_by_section(d: &Data) -> Vec<SectionCount> {
    let mut map: BTreeMap<(String, String), (String, u64)> = BTreeMap::new();
    for r in &d.records {
        let Some(t) = d.templates.get(&r.inspection.template) else {
            continue;
        };
        for v in d.violations(r) {
            let title = t
                .sections
                .iter()
                .find(|s| s.code == v.section)
                .map(|s| s.title_vi.clone())
                .unwrap_or_default();
            let e = map.entry((t.id.clone(), v.section.clone())).or_insert((title, 0));
            e.1 += 1;
        }
    }
    map.into_iter()
        .map(|((template, section), (title, count))| SectionCount {
            template,
            section,
            title,
            count,
        })
        .collect()
}

pub fn violations_by_legal_basis(d: &Data) -> Vec<LegalBasisCount> {
    let mut map: BTreeMap<(String, String), u64> = BTreeMap::new();
    for r in &d.records {
        for v in d.violations(r) {
            for l in &v.legal_basis {
                *map.entry((l.instrument.clone(), l.article.clone())).or_default() += 1;
            }
        }
    }
    let mut out: Vec<_> = map
        .into_iter()
        .map(|((instrument, article), count)| LegalBasisCount {
            instrument,
            article,
            count,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.instrument.cmp(&b.instrument))
    });
    out
}

pub fn overdue_violations(d: &Data) -> Vec<OverdueViolation> {
    let mut out = Vec::new();
    for r in &d.records {
        let Some(f) = d.facilities.get(&r.inspection.facility) else {
            continue;
        };
        for v in d.violations(r) {
            if v.status != ViolationStatus::Verified && v.deadline < d.today {
                out.push(OverdueViolation {
                    inspection: r.inspection.id,
                    facility: f.name.clone(),
                    unit: unit_on(&d.units, &f.address.unit, r.inspection.date()),
                    item: v.item.clone(),
                    text: v.text_vi.clone(),
                    deadline: v.deadline,
                    days_overdue: (d.today - v.deadline).num_days(),
                    status: v.status,
                });
            }
        }
    }
    out.sort_by_key(|o| std::cmp::Reverse(o.days_overdue));
    out
}

/// High-risk establishments with no inspection or visit started in `year`.
pub fn high_risk_not_inspected(d: &Data, year: i32) -> Vec<Uninspected> {
    let reference = chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(d.today);
    let mut out: Vec<Uninspected> = d
        .facilities
        .values()
        .filter(|f| f.high_risk)
        .filter(|f| {
            !d.records.iter().any(|r| {
                r.inspection.facility == f.id
                    && r.inspection.status >= Status::InProgress
                    && r.inspection.date().year() == year
            })
        })
        .map(|f| Uninspected {
            facility: f.id,
            name: f.name.clone(),
            kind: f.kind,
            unit: unit_on(&d.units, &f.address.unit, reference),
        })
        .collect();
    out.sort_by(|a, b| (&a.unit, &a.name).cmp(&(&b.unit, &b.name)));
    out
}
