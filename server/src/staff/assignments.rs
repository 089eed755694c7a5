//! Assignments: an inspection of an establishment, with a template version
//! and a planned date, handed to a delegation (whose phones receive it on
//! their next sync); and what became of each: assigned, started, sealed or
//! overdue.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use kiemtra_core::inspection::InspectionKind;
use serde::Deserialize;

use super::{chrome, forged, gate, notice, with_id, FormToken};
use crate::accounts::Area;
use crate::administration::{self as admin, AssignmentSummary, FacilityQuery, NewAssignment};
use crate::app::AppState;
use crate::db::Read;
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::{redirect, Chrome};
use crate::overview::auth::Official;

/// A choice of a form's list.
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "staff/assignments.html")]
struct Page {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The establishment search typed into the form (`?f=`).
    f: String,
    facilities: Vec<Choice>,
    more_facilities: usize,
    delegations: Vec<Choice>,
    templates: Vec<Choice>,
    kinds: Vec<Choice>,
    today: String,
    assignments: Vec<AssignmentSummary>,
    counts: [usize; 4],
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    f: String,
    #[serde(default)]
    done: Option<String>,
}

/// The kinds a planner assigns here (an accident investigation is assigned
/// from the declared accident).
pub(super) const KINDS: [InspectionKind; 4] = [
    InspectionKind::Inspection,
    InspectionKind::FormalInspection,
    InspectionKind::SelfInspection,
    InspectionKind::Outreach,
];

pub(super) fn kind_label(k: InspectionKind) -> &'static str {
    match k {
        InspectionKind::Inspection => "Kiểm tra",
        InspectionKind::FormalInspection => "Thanh tra",
        InspectionKind::SelfInspection => "Tự kiểm tra",
        InspectionKind::Outreach => "Tuyên truyền, hướng dẫn",
        InspectionKind::AccidentInvestigation => "Điều tra tai nạn lao động",
    }
}

/// The delegations, by name, for a form's list.
pub(super) fn delegation_choices(db: &impl Read) -> Result<Vec<Choice>, ServerError> {
    let mut delegations = db.delegations()?;
    delegations.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(delegations
        .into_iter()
        .map(|d| Choice {
            value: d.id.to_string(),
            label: d.name,
        })
        .collect())
}

/// Every template version, the newest of each first.
pub(super) fn template_choices(db: &impl Read) -> Result<Vec<Choice>, ServerError> {
    let mut templates = db.templates()?;
    templates.sort_by(|a, b| (&a.id, b.version).cmp(&(&b.id, a.version)));
    Ok(templates
        .into_iter()
        .map(|t| Choice {
            value: format!("{}@{}", t.id, t.version),
            label: format!("{} (phiên bản {})", t.title_vi, t.version),
        })
        .collect())
}

/// The kinds a planner assigns, by their wire names.
pub(super) fn kind_choices() -> Vec<Choice> {
    KINDS
        .iter()
        .map(|k| Choice {
            value: serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            label: kind_label(*k).to_string(),
        })
        .collect()
}

fn render(
    state: &AppState,
    who: &Official,
    token: FormToken,
    status: StatusCode,
    q: &PageQuery,
    error: Option<String>,
) -> Response {
    let built = (|| -> Result<Page, ServerError> {
        let found = admin::search_facilities(
            &*state.db,
            &FacilityQuery {
                q: q.f.clone(),
                unit: String::new(),
                page: 1,
            },
        )?;
        let facilities = found
            .facilities
            .iter()
            .map(|f| Choice {
                value: f.id.to_string(),
                label: match &f.tax_code {
                    Some(t) => format!("{} ({})", f.name, t.as_str()),
                    None => f.name.clone(),
                },
            })
            .collect::<Vec<_>>();
        let assignments = admin::assignments(&*state.db, None)?;
        let mut counts = [0; 4];
        for a in &assignments {
            counts[a.progress as usize] += 1;
        }
        Ok(Page {
            chrome: chrome("Phân công kiểm tra", who),
            csrf: token.token.clone(),
            notice: notice(q.done.as_deref()),
            error,
            f: q.f.clone(),
            more_facilities: found.total - facilities.len(),
            facilities,
            delegations: delegation_choices(&*state.db)?,
            templates: template_choices(&*state.db)?,
            kinds: kind_choices(),
            today: chrono::Utc::now()
                .with_timezone(&kiemtra_core::inspection::vietnam_offset())
                .date_naive()
                .to_string(),
            assignments,
            counts,
        })
    })();
    match built {
        Ok(page) => token.respond(status, &page),
        Err(e) => super::failure(who, &e),
    }
}

pub async fn page(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match FormToken::of(&headers, https) {
        Ok(token) => render(&state, &who, token, StatusCode::OK, &q, None),
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    facility: String,
    #[serde(default)]
    delegation: String,
    #[serde(default)]
    template: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    kind: String,
}

impl AssignForm {
    fn request(&self) -> Result<NewAssignment, ServerError> {
        let choose = |what: &str| ServerError::Invalid(format!("chọn {what}"));
        Ok(NewAssignment {
            facility: self
                .facility
                .parse()
                .map_err(|_| choose("cơ sở / the establishment"))?,
            delegation: self
                .delegation
                .parse()
                .map_err(|_| choose("đoàn / the delegation"))?,
            template: self.template.clone(),
            date: self.date.parse().map_err(|_| choose("ngày / the date"))?,
            kind: serde_json::from_value(serde_json::Value::String(self.kind.clone()))
                .map_err(|_| choose("loại / the kind"))?,
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<AssignForm>,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !crate::csrf::check(&headers, &f.csrf) {
        return forged();
    }
    let actor = who.actor();
    let result = match f.request() {
        Ok(req) => state.writer.run(move |w| admin::assign(w, &actor, req)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => with_id(redirect("/admin/assignments?done=assigned"), &c.id),
        Err(e) => match FormToken::of(&headers, https) {
            Ok(token) => render(
                &state,
                &who,
                token,
                e.status(),
                &PageQuery::default(),
                Some(e.to_string()),
            ),
            Err(r) => r,
        },
    }
}
