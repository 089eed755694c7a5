//! The accident register page: every declared accident, who declared it and
//! when, whether on time, its investigation's legal deadline and whether the
//! investigation is concluded, pending or overdue.

use askama::Template;
use kiemtra_core::accident::{deadlines, Accident};
use serde::Serialize;

use super::data::Data;
use super::pages::NAV;
use super::units::unit_on;
use crate::html::{date_vi, datetime_vi, Chrome, Notice};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvestigationState {
    /// Investigated by the employer's own delegation (not tracked here).
    ByEmployer,
    Concluded,
    Pending,
    Overdue,
    ConcludedLate,
}

impl InvestigationState {
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::ByEmployer => "Cơ sở tự điều tra",
            Self::Concluded => "Đã có biên bản điều tra",
            Self::Pending => "Đang trong thời hạn điều tra",
            Self::Overdue => "Quá hạn điều tra",
            Self::ConcludedLate => "Có biên bản, nhưng quá hạn",
        }
    }
}

pub fn state_of(d: &Data, a: &Accident) -> InvestigationState {
    if !a.investigated_by_inspectorate() {
        return InvestigationState::ByEmployer;
    }
    let concluded = d.investigation_sealed_on(a.id);
    match (concluded, a.investigation_overdue(concluded, d.today)) {
        (Some(_), false) => InvestigationState::Concluded,
        (Some(_), true) => InvestigationState::ConcludedLate,
        (None, false) => InvestigationState::Pending,
        (None, true) => InvestigationState::Overdue,
    }
}

/// One accident as the register shows it.
pub struct AccidentRow {
    pub id: String,
    /// The investigation's state (`snake_case`), for the row's `data-state`.
    pub state: String,
    pub occurred_at: String,
    pub place: String,
    pub unit: String,
    pub facility: String,
    pub severity: &'static str,
    pub deaths: u32,
    pub seriously_injured: u32,
    pub lightly_injured: u32,
    pub declared_by: String,
    pub declared_at: String,
    /// Hours late, when not declared on time.
    pub declared_late_by: Option<i64>,
    /// The legal deadline ("—" when the employer investigates).
    pub investigation_deadline: String,
    pub state_class: &'static str,
    pub state_label: &'static str,
}

/// An administrative unit to choose from.
pub struct UnitOption {
    pub code: String,
    pub name: String,
    pub valid_from: String,
    pub valid_to: String,
}

/// An establishment to choose from.
pub struct FacilityOption {
    pub id: String,
    pub name: String,
}

/// The form that types an accident declared on paper into the register.
pub struct EntryForm {
    pub csrf: String,
    pub units: Vec<UnitOption>,
    pub facilities: Vec<FacilityOption>,
}

/// The accident register page.
#[derive(Template)]
#[template(path = "overview/register.html")]
pub struct RegisterPage {
    chrome: Chrome,
    citation: &'static str,
    provincial: &'static str,
    declare_within_hours: i64,
    notice: Option<Notice>,
    overdue: usize,
    rows: Vec<AccidentRow>,
    entry: Option<EntryForm>,
}

fn row(d: &Data, a: &Accident) -> AccidentRow {
    let state = state_of(d, a);
    AccidentRow {
        id: a.id.to_string(),
        state: serde_json::to_value(state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        occurred_at: datetime_vi(a.occurred_at),
        place: a.place.clone(),
        unit: unit_on(&d.units, &a.unit, a.date()).name,
        facility: a.facility.map_or_else(
            || "Lao động không có hợp đồng lao động".to_string(),
            |f| d.facility_name(f),
        ),
        severity: a.severity().label_vi(),
        deaths: a.deaths,
        seriously_injured: a.seriously_injured,
        lightly_injured: a.lightly_injured,
        declared_by: a.declared_by.label_vi(),
        declared_at: datetime_vi(a.declared_at),
        declared_late_by: (!a.declared_on_time()).then(|| a.declaration_delay_hours()),
        investigation_deadline: if a.investigated_by_inspectorate() {
            date_vi(a.investigation_deadline())
        } else {
            "—".into()
        },
        state_class: match state {
            InvestigationState::Overdue | InvestigationState::ConcludedLate => "bad",
            InvestigationState::Pending => "warn",
            _ => "ok",
        },
        state_label: state.label_vi(),
    }
}

fn entry_form(d: &Data, csrf: &str) -> EntryForm {
    let mut facilities: Vec<_> = d.facilities.values().collect();
    facilities.sort_by(|a, b| a.name.cmp(&b.name));
    EntryForm {
        csrf: csrf.to_string(),
        units: d
            .units
            .all()
            .iter()
            .map(|u| UnitOption {
                code: u.code.clone(),
                name: u.name_vi.clone(),
                valid_from: u.valid_from.to_string(),
                valid_to: u.valid_to.map(|t| t.to_string()).unwrap_or_default(),
            })
            .collect(),
        facilities: facilities
            .into_iter()
            .map(|f| FacilityOption {
                id: f.id.to_string(),
                name: f.name.clone(),
            })
            .collect(),
    }
}

/// The register; with the entry form when `entry_csrf` (this browser's
/// form token) is given, for the roles that may enter accidents.
pub fn register(d: &Data, notice: Option<Notice>, entry_csrf: Option<&str>) -> RegisterPage {
    RegisterPage {
        chrome: Chrome::new("Sổ tai nạn lao động", NAV),
        citation: deadlines::CITATION,
        provincial: deadlines::PROVINCIAL,
        declare_within_hours: deadlines::DECLARE_WITHIN_HOURS,
        notice,
        overdue: d
            .accidents
            .iter()
            .filter(|a| state_of(d, a) == InvestigationState::Overdue)
            .count(),
        rows: d.accidents.iter().rev().map(|a| row(d, a)).collect(),
        entry: entry_csrf.map(|csrf| entry_form(d, csrf)),
    }
}
