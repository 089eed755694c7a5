//! The annual plan on the staff pages: the establishments ticked on the
//! ranked list planned for a delegation and a month in one step, and the
//! plan of a year as a page (which prints as the list to hand out) and as
//! CSV.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Datelike;
use kiemtra_core::ids::FacilityId;
use serde::Deserialize;

use super::planning::{ranked, render_list, ListQuery};
use super::{chrome, forged, gate, notice, FormToken};
use crate::accounts::Area;
use crate::administration::{self as admin, MonthPlan};
use crate::app::AppState;
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::{redirect, Chrome};

/// The planning form as posted: the list's filters (to show the list again
/// after a refusal), the month's choices, and one `facility` per ticked row.
#[derive(Debug, Default)]
struct PlanForm {
    csrf: String,
    delegation: String,
    month: String,
    template: String,
    kind: String,
    facilities: Vec<String>,
    filters: ListQuery,
}

impl PlanForm {
    /// The form's fields; `facility` repeats, which `serde_urlencoded` cannot take.
    fn parse(body: &[u8]) -> Self {
        let mut f = PlanForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match &*k {
                "csrf" => f.csrf = v,
                "delegation" => f.delegation = v,
                "month" => f.month = v,
                "template" => f.template = v,
                "kind" => f.kind = v,
                "facility" => f.facilities.push(v),
                // The list's filters, carried as hidden fields.
                "filter_unit" => f.filters.unit = v,
                "filter_kind" => f.filters.kind = v,
                "filter_sector" => f.filters.sector = v,
                "filter_never" => f.filters.never = Some(v),
                "filter_page" => f.filters.page = v.parse().unwrap_or(1),
                _ => {}
            }
        }
        f
    }

    fn request(&self) -> Result<MonthPlan, ServerError> {
        let choose = |what: &str| ServerError::Invalid(format!("chọn {what}"));
        Ok(MonthPlan {
            delegation: self
                .delegation
                .parse()
                .map_err(|_| choose("đoàn / the delegation"))?,
            month: self.month.clone(),
            template: self.template.clone(),
            kind: serde_json::from_value(serde_json::Value::String(self.kind.clone()))
                .map_err(|_| choose("loại / the kind"))?,
            facilities: self
                .facilities
                .iter()
                .map(|f| f.parse::<FacilityId>())
                .collect::<Result<_, _>>()
                .map_err(|_| ServerError::Invalid("an establishment ticked is unreadable".into()))?,
        })
    }
}

/// `POST /admin/planning/assign`: plans the ticked establishments, then
/// shows the month's plan; a refusal shows the list again with the reason,
/// and nothing is planned.
pub async fn assign(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let form = PlanForm::parse(&body);
    if !crate::csrf::check(&headers, &form.csrf) {
        return forged();
    }
    let actor = who.actor();
    let result = match form.request() {
        Ok(req) => state.writer.run(move |w| admin::plan_month(w, &actor, req)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(planned) => redirect(&format!(
            "/admin/planning/plan?year={}&done=planned#month-{}",
            planned.date.year(),
            planned.date.month()
        )),
        Err(e) => match FormToken::of(&headers, https) {
            Ok(token) => {
                render_list(&state, &who, token, e.status(), form.filters, Some(e.to_string())).await
            }
            Err(r) => r,
        },
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    done: Option<String>,
}

/// One planned inspection, as listed and exported.
pub struct PlanRow {
    pub date: String,
    pub facility: String,
    pub address: String,
    pub unit: String,
    pub delegation: String,
    pub kind: &'static str,
    pub score: Option<u32>,
    pub progress: crate::administration::Progress,
}

pub struct PlanMonthRows {
    pub month: u32,
    pub rows: Vec<PlanRow>,
    pub done: usize,
}

#[derive(askama::Template)]
#[template(path = "staff/plan.html")]
struct PlanPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    /// The notices partial shows an error too; this page has none.
    error: Option<String>,
    year: i32,
    years: Vec<i32>,
    months: Vec<PlanMonthRows>,
    planned: usize,
    done: usize,
    today: String,
}

/// The plan of `year`, by month, with each establishment's risk score today.
fn year_rows(state: &AppState, year: i32) -> Result<Vec<PlanMonthRows>, ServerError> {
    let plan = admin::year_plan(&*state.db, year)?;
    let (data, scores) = ranked(state)?;
    let scores: HashMap<FacilityId, u32> = scores.into_iter().map(|(id, s)| (id, s.total)).collect();
    let unit_names: HashMap<&str, &str> = data
        .units
        .all()
        .iter()
        .map(|u| (u.code.as_str(), u.name_vi.as_str()))
        .collect();
    Ok(plan
        .into_iter()
        .map(|(month, rows)| PlanMonthRows {
            month,
            done: admin::done(&rows),
            rows: rows
                .iter()
                .map(|a| {
                    let f = data.facilities.get(&a.facility);
                    PlanRow {
                        date: a.date.format("%d/%m/%Y").to_string(),
                        facility: a.facility_name.clone(),
                        address: f.map(|f| f.address.street.clone()).unwrap_or_default(),
                        unit: f
                            .map(|f| {
                                unit_names
                                    .get(f.address.unit.as_str())
                                    .map_or_else(|| f.address.unit.clone(), |n| n.to_string())
                            })
                            .unwrap_or_default(),
                        delegation: a.delegation_name.clone(),
                        kind: super::assignments::kind_label(a.kind),
                        score: scores.get(&a.facility).copied(),
                        progress: a.progress,
                    }
                })
                .collect(),
        })
        .collect())
}

fn this_year() -> i32 {
    chrono::Utc::now()
        .with_timezone(&kiemtra_core::inspection::vietnam_offset())
        .year()
}

/// `GET /admin/planning/plan?year=`: the plan of a year, month by month.
pub async fn page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<YearQuery>) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let year = q.year.unwrap_or_else(this_year);
    let st = state.clone();
    let months = match tokio::task::spawn_blocking(move || year_rows(&st, year)).await {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return super::failure(&who, &e),
        Err(e) => return super::failure(&who, &ServerError::Storage(e.to_string())),
    };
    let page = PlanPage {
        chrome: chrome(&format!("Kế hoạch kiểm tra năm {year}"), &who),
        notice: notice(q.done.as_deref()),
        error: None,
        year,
        years: (year - 2..=year + 1).collect(),
        planned: months.iter().map(|m| m.rows.len()).sum(),
        done: months.iter().map(|m| m.done).sum(),
        months,
        today: crate::html::date_vi(
            chrono::Utc::now()
                .with_timezone(&kiemtra_core::inspection::vietnam_offset())
                .date_naive(),
        ),
    };
    crate::html::respond(StatusCode::OK, &page)
}

/// `GET /admin/planning/plan.csv?year=`
pub async fn csv(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<YearQuery>) -> Response {
    if let Err(r) = gate(&state, &headers, Area::Planning) {
        return r;
    }
    let year = q.year.unwrap_or_else(this_year);
    let st = state.clone();
    let body = match tokio::task::spawn_blocking(move || year_rows(&st, year)).await {
        Ok(Ok(months)) => crate::overview::export::table(
            &[
                "Tháng",
                "Hạn thực hiện",
                "Cơ sở",
                "Địa chỉ",
                "Đơn vị hành chính",
                "Đoàn kiểm tra",
                "Loại",
                "Điểm rủi ro hiện nay",
                "Tình trạng",
            ],
            months.into_iter().flat_map(|m| {
                m.rows.into_iter().map(move |r| {
                    vec![
                        format!("{year:04}-{:02}", m.month),
                        r.date,
                        r.facility,
                        r.address,
                        r.unit,
                        r.delegation,
                        r.kind.to_string(),
                        r.score.map(|s| s.to_string()).unwrap_or_default(),
                        r.progress.label_vi().to_string(),
                    ]
                })
            }),
        ),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(ServerError::Storage(e.to_string())),
    };
    crate::overview::csv_response(&format!("ke-hoach-{year}.csv"), body)
}
