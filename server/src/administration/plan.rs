//! The annual plan: establishments chosen from the ranked list (planning by
//! risk) handed to a delegation for a month, in one step; and the plan of a
//! year as it stands, for the planning pages, the CSV and the printed list.
//!
//! A month's plan is assignments like any other (the phones receive them on
//! their next sync): dated the month's last day, so that an assignment is
//! overdue only once its month is over, and counted in that month by the
//! overview's plan-and-done table.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};
use kiemtra_core::ids::{DelegationId, FacilityId};
use kiemtra_core::inspection::InspectionKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::registers::{assignments, default_kind, parse_template_ref, AssignmentSummary, Progress};
use crate::audit::{values, Actor};
use crate::db::Read;
use crate::error::ServerError;
use crate::writer::Writer;

/// Establishments one request plans at most: a delegation's month, with room.
pub const MAX_PER_MONTH: usize = 500;

/// `POST /api/v1/admin/plan`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthPlan {
    pub delegation: DelegationId,
    /// `YYYY-MM`.
    pub month: String,
    /// `ID@VERSION`, e.g. `osh-general@1`.
    pub template: String,
    #[serde(default = "default_kind")]
    pub kind: InspectionKind,
    pub facilities: Vec<FacilityId>,
}

/// What a month's plan made: one inspection per establishment, in the
/// order asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    pub month: String,
    pub date: NaiveDate,
    pub inspections: Vec<String>,
}

/// A month, `YYYY-MM`: its first and last day.
pub fn parse_month(s: &str) -> Result<(NaiveDate, NaiveDate), ServerError> {
    let bad = || {
        ServerError::Invalid(format!(
            "tháng {s:?}: cần dạng YYYY-MM / the month must be YYYY-MM"
        ))
    };
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let first = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    }
    .ok_or_else(bad)?;
    let last = next.pred_opt().ok_or_else(bad)?;
    Ok((first, last))
}

/// Plans the establishments for the month: every assignment or none (one
/// job of the writer, one commit), each with its audit entry. Refused, with
/// nothing written, when the list is empty, too long or repeats itself, or
/// when an establishment is already planned for that month (whatever the
/// delegation: two delegations must not both go).
pub fn plan_month(w: &mut Writer, actor: &Actor, req: MonthPlan) -> Result<Planned, ServerError> {
    let (first, last) = parse_month(&req.month)?;
    if matches!(
        req.kind,
        InspectionKind::SelfInspection | InspectionKind::AccidentInvestigation
    ) {
        return Err(ServerError::Invalid(
            "kế hoạch gồm các cuộc kiểm tra của cơ quan; tự kiểm tra và điều tra tai nạn không lập theo kế hoạch / the plan holds the inspectorate's own visits".into(),
        ));
    }
    let template = parse_template_ref(&req.template)?;
    if req.facilities.is_empty() {
        return Err(ServerError::Invalid(
            "chọn ít nhất một cơ sở / choose at least one establishment".into(),
        ));
    }
    if req.facilities.len() > MAX_PER_MONTH {
        return Err(ServerError::Invalid(format!(
            "tối đa {MAX_PER_MONTH} cơ sở mỗi lần / at most {MAX_PER_MONTH} establishments at once"
        )));
    }
    let mut seen = HashSet::new();
    if let Some(twice) = req.facilities.iter().find(|f| !seen.insert(**f)) {
        return Err(ServerError::Invalid(format!(
            "cơ sở {twice} được chọn hai lần / chosen twice"
        )));
    }
    let planned: HashSet<FacilityId> = assignments(&w.db(), None)?
        .into_iter()
        .filter(|a| a.kind != InspectionKind::SelfInspection && a.date >= first && a.date <= last)
        .map(|a| a.facility)
        .collect();
    let db = w.db();
    for f in &req.facilities {
        if planned.contains(f) {
            let name = db.facility(*f)?.map_or_else(|| f.to_string(), |f| f.name);
            return Err(ServerError::Conflict(format!(
                "{name} đã có trong kế hoạch tháng {} / is already planned for that month",
                req.month.trim()
            )));
        }
    }
    let mut inspections = Vec::with_capacity(req.facilities.len());
    for f in &req.facilities {
        let i = w.assign(req.delegation, *f, template.clone(), last, req.kind)?;
        let after = values(json!({
            "delegation": req.delegation.to_string(),
            "facility": f.to_string(),
            "template": req.template,
            "date": last.to_string(),
            "kind": req.kind,
            "plan": req.month.trim(),
        }));
        w.audit(actor, "plan", &i.id.to_string(), None, after)?;
        inspections.push(i.id.to_string());
    }
    Ok(Planned {
        month: format!("{:04}-{:02}", first.year(), first.month()),
        date: last,
        inspections,
    })
}

/// The plan of a year: its assignments by month (the inspectorate's kinds;
/// an establishment's own self-inspection is not the inspectorate's plan),
/// each month in planned-date order, then by establishment.
pub fn year_plan(db: &impl Read, year: i32) -> Result<BTreeMap<u32, Vec<AssignmentSummary>>, ServerError> {
    let mut by_month: BTreeMap<u32, Vec<AssignmentSummary>> = BTreeMap::new();
    for a in assignments(db, None)? {
        if a.date.year() == year && a.kind != InspectionKind::SelfInspection {
            by_month.entry(a.date.month()).or_default().push(a);
        }
    }
    for rows in by_month.values_mut() {
        rows.sort_by(|a, b| (a.date, &a.facility_name).cmp(&(b.date, &b.facility_name)));
    }
    Ok(by_month)
}

/// How many of a month's planned inspections are done (sealed).
pub fn done(rows: &[AssignmentSummary]) -> usize {
    rows.iter().filter(|a| a.progress == Progress::Sealed).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_runs_from_its_first_to_its_last_day() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(parse_month("2025-02").unwrap(), (d(2025, 2, 1), d(2025, 2, 28)));
        assert_eq!(parse_month("2024-02").unwrap(), (d(2024, 2, 1), d(2024, 2, 29)));
        assert_eq!(
            parse_month(" 2025-12 ").unwrap(),
            (d(2025, 12, 1), d(2025, 12, 31))
        );
        for bad in ["2025", "2025-13", "2025-00", "tháng 3", "2025-3-1", ""] {
            assert!(parse_month(bad).is_err(), "{bad:?}");
        }
    }
}
