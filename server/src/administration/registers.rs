//! The registers a planner keeps: establishments, assignments (inspections
//! handed to delegations) and declared accidents.

use chrono::NaiveDate;
use kiemtra_core::facility::{Facility, FacilityKind, NewFacility};
use kiemtra_core::ids::{AccidentId, DelegationId, FacilityId};
use kiemtra_core::inspection::{InspectionKind, Status};
use kiemtra_core::template::TemplateRef;
use serde::{Deserialize, Serialize};
use serde_json::json;
use unicode_normalization::UnicodeNormalization;

use super::Created;
use crate::audit::{values, Actor};
use crate::csv_import::ImportReport;
use crate::db::Read;
use crate::error::ServerError;
use crate::writer::Writer;

/// Establishments shown per page of a search.
pub const PAGE_SIZE: usize = 50;

/// `GET /api/v1/admin/facilities?q=&unit=&page=`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityQuery {
    /// Words of the name, or a tax code (or its start). Accents and case do
    /// not matter: "hai phong" finds "Hải Phòng".
    #[serde(default)]
    pub q: String,
    /// An administrative unit's code.
    #[serde(default)]
    pub unit: String,
    /// 1, 2, …
    #[serde(default)]
    pub page: usize,
}

/// One page of establishments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityPage {
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub facilities: Vec<Facility>,
}

/// Text folded for searching: NFD without combining marks, đ as d, lower case.
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Establishments matching `query`, sorted by name, one page of them.
pub fn search_facilities(db: &impl Read, query: &FacilityQuery) -> Result<FacilityPage, ServerError> {
    let words: Vec<String> = fold(&query.q).split_whitespace().map(str::to_string).collect();
    let unit = query.unit.trim();
    let mut found: Vec<Facility> = db
        .facilities()?
        .into_iter()
        .filter(|f| unit.is_empty() || f.address.unit == unit)
        .filter(|f| {
            let name = fold(&f.name);
            let tax = f.tax_code.as_ref().map_or("", |t| t.as_str());
            words
                .iter()
                .all(|w| name.contains(w.as_str()) || tax.starts_with(w.as_str()))
        })
        .collect();
    found.sort_by_key(|f| (fold(&f.name), f.id));
    let total = found.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.clamp(1, pages);
    let facilities = found
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    Ok(FacilityPage {
        total,
        page,
        pages,
        facilities,
    })
}

/// `POST /api/v1/admin/facilities` (a new one) and `PUT …/{id}` (an edit):
/// the fields of the import's columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityFields {
    pub kind: FacilityKind,
    pub name: String,
    #[serde(default)]
    pub tax_code: Option<String>,
    pub street: String,
    pub unit: String,
    pub sector: String,
    pub workforce: u32,
    #[serde(default)]
    pub high_risk: bool,
}

/// Registers an establishment (`id` `None`) or changes one. The change is
/// an operation, so devices receive it on their next sync. A tax code
/// already registered to another establishment is refused.
pub fn put_facility(
    w: &mut Writer,
    actor: &Actor,
    id: Option<FacilityId>,
    fields: FacilityFields,
) -> Result<Created, ServerError> {
    let before = match id {
        Some(id) => Some(
            w.db()
                .facility(id)?
                .ok_or_else(|| ServerError::NotFound(format!("establishment {id}")))?,
        ),
        None => None,
    };
    let f = NewFacility {
        kind: fields.kind,
        name: fields.name,
        tax_code: fields.tax_code,
        street: fields.street,
        unit: fields.unit,
        sector: fields.sector,
        workforce: fields.workforce,
        high_risk: fields.high_risk,
    }
    .validate(id.unwrap_or_default(), w.admin_units())?;
    if let Some(tax) = &f.tax_code {
        let taken = w
            .db()
            .facilities()?
            .into_iter()
            .any(|other| other.id != f.id && other.tax_code.as_ref() == Some(tax));
        if taken {
            return Err(ServerError::Taken {
                code: "tax_code_taken",
                message: format!(
                    "the tax code {} is registered to another establishment",
                    tax.as_str()
                ),
            });
        }
    }
    if before.as_ref() != Some(&f) {
        w.put_facility(&f)?;
        let action = if before.is_some() {
            "edit_facility"
        } else {
            "create_facility"
        };
        let before = before.map(|b| json!(b)).and_then(values);
        w.audit(actor, action, &f.id.to_string(), before, values(json!(f)))?;
    }
    Ok(Created { id: f.id.to_string() })
}

/// Rows of an establishment list imported per commit: a long list never
/// holds the writer (and the pushes from the field) for more than one chunk.
pub const IMPORT_CHUNK: usize = 500;

/// Imports parsed `rows` on the running server, a chunk per commit, each
/// chunk with its audit entry (`source (dòng a–b)`): good rows registered,
/// bad ones reported by line. `progress` hears the rows done so far and
/// the report after each chunk. A storage failure stops the import there;
/// the chunks before it stay imported, and importing the list again
/// updates by tax code, so nothing doubles.
pub async fn import_facilities(
    writer: &crate::commit::CommitHandle,
    actor: &Actor,
    source: &str,
    rows: Vec<crate::csv_import::Row>,
    mut progress: impl FnMut(usize, &ImportReport),
) -> Result<ImportReport, ServerError> {
    let total = rows.len();
    let rows = std::sync::Arc::new(rows);
    let mut report = ImportReport::default();
    let mut start = 0;
    while start < total {
        let end = (start + IMPORT_CHUNK).min(total);
        let (chunk, actor, label) = (
            rows.clone(),
            actor.clone(),
            format!("{source} (dòng {start}–{end})"),
        );
        let part = writer
            .run(move |w| {
                let mut part = ImportReport::default();
                crate::csv_import::import_rows(w, &chunk[start..end], &mut part)?;
                audit_import(w, &actor, "import_facilities", &label, &part)?;
                Ok(part)
            })
            .await?;
        report.imported += part.imported;
        report.refused.extend(part.refused);
        progress(end, &report);
        start = end;
    }
    Ok(report)
}

/// The audit entry of an import (or of one chunk of it).
pub fn audit_import(
    w: &mut Writer,
    actor: &Actor,
    action: &str,
    source: &str,
    report: &ImportReport,
) -> Result<(), ServerError> {
    let after = values(json!({"imported": report.imported, "refused": report.refused.len()}));
    w.audit(actor, action, source, None, after)?;
    Ok(())
}

pub(super) fn default_kind() -> InspectionKind {
    InspectionKind::Inspection
}

/// `POST /api/v1/admin/assignments`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAssignment {
    pub delegation: DelegationId,
    pub facility: FacilityId,
    /// `ID@VERSION`, e.g. `osh-general@1`.
    pub template: String,
    /// The planned date.
    pub date: NaiveDate,
    #[serde(default = "default_kind")]
    pub kind: InspectionKind,
}

pub fn parse_template_ref(s: &str) -> Result<TemplateRef, ServerError> {
    let (id, version) = s
        .rsplit_once('@')
        .ok_or_else(|| ServerError::Invalid(format!("template {s:?}: expected ID@VERSION")))?;
    let version = version
        .parse()
        .map_err(|_| ServerError::Invalid(format!("template {s:?}: the version is not a number")))?;
    Ok(TemplateRef {
        id: id.to_string(),
        version,
    })
}

pub fn assign(w: &mut Writer, actor: &Actor, req: NewAssignment) -> Result<Created, ServerError> {
    let template = parse_template_ref(&req.template)?;
    let after = values(json!({
        "delegation": req.delegation.to_string(),
        "facility": req.facility.to_string(),
        "template": req.template,
        "date": req.date.to_string(),
        "kind": req.kind,
    }));
    let i = w.assign(req.delegation, req.facility, template, req.date, req.kind)?;
    w.audit(actor, "assign", &i.id.to_string(), None, after)?;
    Ok(Created { id: i.id.to_string() })
}

/// `POST /api/v1/admin/investigations`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInvestigation {
    pub delegation: DelegationId,
    pub accident: AccidentId,
    pub date: NaiveDate,
}

pub fn assign_investigation(
    w: &mut Writer,
    actor: &Actor,
    req: NewInvestigation,
) -> Result<Created, ServerError> {
    let i = w.assign_investigation(req.delegation, req.accident, None, req.date)?;
    let after = values(json!({
        "delegation": req.delegation.to_string(),
        "accident": req.accident.to_string(),
        "date": req.date.to_string(),
    }));
    w.audit(actor, "assign_investigation", &i.id.to_string(), None, after)?;
    Ok(Created { id: i.id.to_string() })
}

/// Where an assignment stands, as a planner follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Assigned, not started, the planned date not passed.
    Assigned,
    /// Started on site, minutes not sealed.
    Started,
    /// The leader signed the minutes.
    Sealed,
    /// Not sealed and the planned date has passed.
    Overdue,
}

impl Progress {
    pub fn of(status: Status, planned: NaiveDate, today: NaiveDate) -> Self {
        match status {
            Status::Sealed | Status::Delivered => Progress::Sealed,
            _ if planned < today => Progress::Overdue,
            Status::Draft => Progress::Assigned,
            _ => Progress::Started,
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Progress::Assigned => "Đã giao",
            Progress::Started => "Đang kiểm tra",
            Progress::Sealed => "Đã ký biên bản",
            Progress::Overdue => "Quá hạn",
        }
    }

    /// The page's badge class.
    pub fn class(self) -> &'static str {
        match self {
            Progress::Assigned => "muted",
            Progress::Started => "warn",
            Progress::Sealed => "ok",
            Progress::Overdue => "bad",
        }
    }
}

/// One assignment as the planner's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentSummary {
    pub inspection: String,
    pub facility: FacilityId,
    pub facility_name: String,
    pub delegation: DelegationId,
    pub delegation_name: String,
    pub template: String,
    pub kind: InspectionKind,
    pub date: NaiveDate,
    pub progress: Progress,
}

/// Every assignment, the latest planned first; `delegations` limits them to
/// those delegations (an inspector's own).
pub fn assignments(
    db: &impl Read,
    delegations: Option<&[DelegationId]>,
) -> Result<Vec<AssignmentSummary>, ServerError> {
    let today = chrono::Utc::now()
        .with_timezone(&kiemtra_core::inspection::vietnam_offset())
        .date_naive();
    let facilities: std::collections::HashMap<_, _> =
        db.facilities()?.into_iter().map(|f| (f.id, f.name)).collect();
    let names: std::collections::HashMap<_, _> =
        db.delegations()?.into_iter().map(|d| (d.id, d.name)).collect();
    let mut out: Vec<AssignmentSummary> = db
        .records()?
        .into_iter()
        .map(|r| r.inspection)
        .filter(|i| delegations.is_none_or(|ds| ds.contains(&i.delegation)))
        .map(|i| AssignmentSummary {
            inspection: i.id.to_string(),
            facility_name: facilities
                .get(&i.facility)
                .cloned()
                .unwrap_or_else(|| i.facility.to_string()),
            delegation_name: names
                .get(&i.delegation)
                .cloned()
                .unwrap_or_else(|| i.delegation.to_string()),
            template: format!("{}@{}", i.template.id, i.template.version),
            progress: Progress::of(i.status, i.planned_date, today),
            facility: i.facility,
            delegation: i.delegation,
            kind: i.kind,
            date: i.planned_date,
        })
        .collect();
    out.sort_by(|a, b| (b.date, &b.inspection).cmp(&(a.date, &a.inspection)));
    Ok(out)
}

/// `POST /api/v1/admin/accidents/import` (the body is the CSV).
pub fn import_accidents(
    w: &mut Writer,
    actor: &Actor,
    source: &str,
    csv: &str,
) -> Result<ImportReport, ServerError> {
    let report = crate::accident_import::import_accidents_text(w, source, csv)?;
    audit_import(w, actor, "import_accidents", source, &report)?;
    Ok(report)
}

/// A declared accident as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccidentSummary {
    pub id: AccidentId,
    pub date: NaiveDate,
    pub unit: String,
    pub deaths: u32,
    pub place: String,
}

pub fn accidents(db: &impl Read) -> Result<Vec<AccidentSummary>, ServerError> {
    Ok(db
        .accidents()?
        .into_iter()
        .map(|a| AccidentSummary {
            date: a.date(),
            id: a.id,
            unit: a.unit,
            deaths: a.deaths,
            place: a.place,
        })
        .collect())
}

/// The result of `check`: whether the records are the merge of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub holds: bool,
    pub report: String,
}

/// Checks, on the writer (so no commit lands halfway through), that the
/// records are what the operation log says. Repairing is for a stopped
/// server (`admin check --repair`) or a restart, which repairs by itself.
pub fn check(w: &mut Writer) -> Result<CheckResult, ServerError> {
    let report = crate::replay::check(&**w.storage())?;
    Ok(CheckResult {
        holds: report.holds(),
        report: report.to_string(),
    })
}
