//! Planning by risk: every establishment ranked by its risk score, with
//! filters, and each score explained factor by factor on its own page, so
//! that a planner can say why an establishment was chosen.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kiemtra_core::facility::FacilityKind;
use kiemtra_core::ids::FacilityId;
use serde::Deserialize;

use super::assignments::{delegation_choices, kind_choices, template_choices, Choice as FormChoice};
use super::{chrome, gate, FormToken};
use crate::accounts::Area;
use crate::administration::fold;
use crate::app::AppState;
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::Chrome;
use crate::overview::data::Data;
use crate::planning::{self, Factor, HazardTable, RiskScore, RiskWeights};

const PER_PAGE: usize = 50;

/// Every establishment's score, highest first (ties by name), on today's data.
pub(super) fn ranked(state: &AppState) -> Result<(Data, Vec<(FacilityId, RiskScore)>), ServerError> {
    let units = crate::writer::current_units(&*state.db)?;
    let data = Data::load(&state.db, units)?;
    let hazards = HazardTable::shipped().map_err(|e| ServerError::Storage(e.to_string()))?;
    let weights = RiskWeights::default();
    let mut scores: Vec<(FacilityId, RiskScore)> = planning::gather(&data)
        .into_iter()
        .map(|(id, inputs)| (id, planning::score(&inputs, &weights, &hazards, data.today)))
        .collect();
    scores.sort_by(|(a, sa), (b, sb)| {
        sb.total
            .cmp(&sa.total)
            .then_with(|| data.facility_name(*a).cmp(&data.facility_name(*b)))
            .then_with(|| a.cmp(b))
    });
    Ok((data, scores))
}

pub struct Row {
    pub rank: usize,
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub unit: String,
    pub sector: String,
    pub score: u32,
    pub never_inspected: bool,
}

pub struct Choice {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

#[derive(askama::Template)]
#[template(path = "staff/planning.html")]
struct ListPage {
    chrome: Chrome,
    units: Vec<Choice>,
    kinds: Vec<Choice>,
    sector: String,
    never: bool,
    rows: Vec<Row>,
    total: usize,
    page: usize,
    pages: usize,
    search: String,
    /// The form that plans the ticked establishments for a month.
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    delegations: Vec<FormChoice>,
    templates: Vec<FormChoice>,
    plan_kinds: Vec<FormChoice>,
    /// `YYYY-MM`: next month, the month a planner usually fills.
    month: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub(super) unit: String,
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) sector: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub(super) never: Option<String>,
    #[serde(default)]
    pub(super) page: usize,
    #[serde(default)]
    pub(super) done: Option<String>,
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub async fn list(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match FormToken::of(&headers, https) {
        Ok(token) => render_list(&state, &who, token, StatusCode::OK, q, None).await,
        Err(r) => r,
    }
}

/// The ranked list with the planning form; `error` when a plan was refused
/// (then shown with the list as it was filtered).
pub(super) async fn render_list(
    state: &AppState,
    who: &crate::overview::auth::Official,
    token: FormToken,
    status: StatusCode,
    q: ListQuery,
    error: Option<String>,
) -> Response {
    let who = who.clone();
    let st = state.clone();
    let (data, scores) = match tokio::task::spawn_blocking(move || ranked(&st)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return super::failure(&who, &e),
        Err(e) => return super::failure(&who, &ServerError::Storage(e.to_string())),
    };
    let never = q.never.is_some();
    let sector = fold(q.sector.trim());
    let kind = FacilityKind::from_code(&q.kind);
    let unit_names: HashMap<&str, &str> = data
        .units
        .all()
        .iter()
        .map(|u| (u.code.as_str(), u.name_vi.as_str()))
        .collect();
    let matching: Vec<Row> = scores
        .iter()
        .enumerate()
        .filter_map(|(i, (id, score))| {
            let f = data.facilities.get(id)?;
            let never_inspected = score.last_inspected.is_none();
            let keep = (q.unit.is_empty() || f.address.unit == q.unit)
                && kind.is_none_or(|k| f.kind == k)
                && (sector.is_empty() || fold(&f.sector).contains(&sector))
                && (!never || never_inspected);
            keep.then(|| Row {
                rank: i + 1,
                id: f.id.to_string(),
                name: f.name.clone(),
                kind: f.kind.label_vi(),
                unit: unit_names
                    .get(f.address.unit.as_str())
                    .map_or_else(|| f.address.unit.clone(), |n| n.to_string()),
                sector: f.sector.clone(),
                score: score.total,
                never_inspected,
            })
        })
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = q.page.clamp(1, pages);
    let rows = matching
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    let units = data
        .units
        .all()
        .iter()
        .filter(|u| u.valid_on(data.today))
        .map(|u| Choice {
            selected: u.code == q.unit,
            code: u.code.clone(),
            label: u.name_vi.clone(),
        })
        .collect();
    let kinds = FacilityKind::ALL
        .iter()
        .map(|k| Choice {
            selected: Some(*k) == kind,
            code: k.code().to_string(),
            label: k.label_vi().to_string(),
        })
        .collect();
    let form = (|| -> Result<_, ServerError> {
        Ok((delegation_choices(&*state.db)?, template_choices(&*state.db)?))
    })();
    let (delegations, templates) = match form {
        Ok(f) => f,
        Err(e) => return super::failure(&who, &e),
    };
    let next_month = {
        use chrono::Datelike;
        let t = data.today;
        if t.month() == 12 {
            format!("{:04}-01", t.year() + 1)
        } else {
            format!("{:04}-{:02}", t.year(), t.month() + 1)
        }
    };
    let page = ListPage {
        chrome: chrome("Kế hoạch theo rủi ro", &who),
        csrf: token.token.clone(),
        notice: super::notice(q.done.as_deref()),
        error,
        delegations,
        templates,
        // A self-inspection is the establishment's, not the inspectorate's plan.
        plan_kinds: kind_choices()
            .into_iter()
            .filter(|c| c.value != "self_inspection")
            .collect(),
        month: next_month,
        search: format!(
            "unit={}&kind={}&sector={}{}",
            encode(&q.unit),
            encode(&q.kind),
            encode(&q.sector),
            if never { "&never=on" } else { "" }
        ),
        units,
        kinds,
        sector: q.sector,
        never,
        rows,
        total,
        page,
        pages,
    };
    token.respond(status, &page)
}

#[derive(askama::Template)]
#[template(path = "staff/risk.html")]
struct ExplainPage {
    chrome: Chrome,
    name: String,
    rank: usize,
    of: usize,
    total: u32,
    factors: Vec<Factor>,
    hazard_note_vi: String,
    today: String,
}

pub async fn explain(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<FacilityId>() else {
        return super::failure(&who, &ServerError::NotFound("establishment".into()));
    };
    let st = state.clone();
    let (data, scores) = match tokio::task::spawn_blocking(move || ranked(&st)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return super::failure(&who, &e),
        Err(e) => return super::failure(&who, &ServerError::Storage(e.to_string())),
    };
    let Some((rank, (_, score))) = scores.iter().enumerate().find(|(_, (f, _))| *f == id) else {
        return super::failure(&who, &ServerError::NotFound("establishment".into()));
    };
    let hazard_note_vi = HazardTable::shipped().map(|t| t.note_vi).unwrap_or_default();
    let page = ExplainPage {
        chrome: chrome("Điểm rủi ro", &who),
        name: data.facility_name(id),
        rank: rank + 1,
        of: scores.len(),
        total: score.total,
        factors: score.factors.clone(),
        hazard_note_vi,
        today: data.today.to_string(),
    };
    crate::html::respond(StatusCode::OK, &page)
}
