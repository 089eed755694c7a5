//! The establishment register: search by name, tax code and unit, in pages
//! (tens of thousands of rows stay fast to read); register one; edit one
//! (a change devices receive on their next sync).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use kiemtra_core::facility::{Facility, FacilityKind};
use kiemtra_core::ids::FacilityId;
use serde::Deserialize;

use super::{chrome, forged, gate, notice, FormToken};
use crate::accounts::Area;
use crate::administration::{self as admin, FacilityFields, FacilityQuery};
use crate::app::AppState;
use crate::db::Read;
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::{redirect, Chrome};

/// A unit as a choice of the forms.
pub struct UnitChoice {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

/// The units an address may be in today (and the one it has, if older).
fn unit_choices(state: &AppState, selected: &str) -> Result<Vec<UnitChoice>, ServerError> {
    let units = crate::writer::current_units(&*state.db)?;
    let today = chrono::Utc::now()
        .with_timezone(&kiemtra_core::inspection::vietnam_offset())
        .date_naive();
    Ok(units
        .all()
        .iter()
        .filter(|u| u.valid_on(today) || u.code == selected)
        .map(|u| UnitChoice {
            selected: u.code == selected,
            code: u.code.clone(),
            name: format!("{} {}", u.name_vi, if u.valid_on(today) { "" } else { "(cũ)" })
                .trim_end()
                .to_string(),
        })
        .collect())
}

/// One row of the list.
pub struct Row {
    pub id: String,
    pub name: String,
    pub tax_code: String,
    pub kind: &'static str,
    pub unit: String,
    pub workforce: u32,
    pub high_risk: bool,
}

#[derive(askama::Template)]
#[template(path = "staff/establishments.html")]
struct ListPage {
    chrome: Chrome,
    notice: Option<&'static str>,
    error: Option<String>,
    q: String,
    units: Vec<UnitChoice>,
    rows: Vec<Row>,
    total: usize,
    page: usize,
    pages: usize,
    /// The query string of the search, without the page, for the paging links.
    search: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    page: usize,
    #[serde(default)]
    done: Option<String>,
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let query = FacilityQuery {
        q: q.q.clone(),
        unit: q.unit.clone(),
        page: q.page,
    };
    let db = state.db.clone();
    let found = tokio::task::spawn_blocking(move || admin::search_facilities(&*db, &query)).await;
    let found = match found {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => return super::failure(&who, &e),
        Err(e) => return super::failure(&who, &ServerError::Storage(e.to_string())),
    };
    let units = match unit_choices(&state, &q.unit) {
        Ok(u) => u,
        Err(e) => return super::failure(&who, &e),
    };
    let names: std::collections::HashMap<&str, &str> =
        units.iter().map(|u| (u.code.as_str(), u.name.as_str())).collect();
    let rows = found
        .facilities
        .iter()
        .map(|f| Row {
            id: f.id.to_string(),
            name: f.name.clone(),
            tax_code: f
                .tax_code
                .as_ref()
                .map_or(String::new(), |t| t.as_str().to_string()),
            kind: f.kind.label_vi(),
            unit: names
                .get(f.address.unit.as_str())
                .map_or_else(|| f.address.unit.clone(), |n| n.to_string()),
            workforce: f.workforce,
            high_risk: f.high_risk,
        })
        .collect();
    let page = ListPage {
        chrome: chrome("Cơ sở", &who),
        notice: notice(q.done.as_deref()),
        error: None,
        search: format!("q={}&unit={}", encode(&q.q), encode(&q.unit)),
        q: q.q,
        units,
        rows,
        total: found.total,
        page: found.page,
        pages: found.pages,
    };
    crate::html::respond(StatusCode::OK, &page)
}

/// A kind as a choice of the form.
pub struct KindChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(askama::Template)]
#[template(path = "staff/establishment_form.html")]
struct EditPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    /// Where the form posts: the list (a new one) or the establishment.
    action: String,
    kinds: Vec<KindChoice>,
    units: Vec<UnitChoice>,
    form: FacilityForm,
}

/// The form's fields as typed (kept as text so a refused form shows back
/// what was entered).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FacilityForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub tax_code: String,
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub sector: String,
    #[serde(default)]
    pub workforce: String,
    /// A checkbox: present ("on") when ticked.
    #[serde(default)]
    pub high_risk: Option<String>,
}

impl FacilityForm {
    fn of(f: &Facility) -> Self {
        Self {
            csrf: String::new(),
            kind: f.kind.code().to_string(),
            name: f.name.clone(),
            tax_code: f
                .tax_code
                .as_ref()
                .map_or(String::new(), |t| t.as_str().to_string()),
            street: f.address.street.clone(),
            unit: f.address.unit.clone(),
            sector: f.sector.clone(),
            workforce: f.workforce.to_string(),
            high_risk: f.high_risk.then(|| "on".to_string()),
        }
    }

    fn fields(&self) -> Result<FacilityFields, ServerError> {
        let kind = FacilityKind::from_code(&self.kind)
            .ok_or_else(|| ServerError::Invalid("chọn loại cơ sở / choose the kind".into()))?;
        let workforce = self.workforce.trim().parse::<u32>().map_err(|_| {
            ServerError::Invalid("số lao động phải là số nguyên / the workforce is a whole number".into())
        })?;
        Ok(FacilityFields {
            kind,
            name: self.name.clone(),
            tax_code: Some(self.tax_code.clone()).filter(|t| !t.trim().is_empty()),
            street: self.street.clone(),
            unit: self.unit.clone(),
            sector: self.sector.clone(),
            workforce,
            high_risk: self.high_risk.is_some(),
        })
    }
}

fn edit_page(
    state: &AppState,
    who: &crate::overview::auth::Official,
    token: FormToken,
    status: StatusCode,
    action: String,
    form: FacilityForm,
    error: Option<String>,
) -> Response {
    let units = match unit_choices(state, &form.unit) {
        Ok(u) => u,
        Err(e) => return super::failure(who, &e),
    };
    let title = if action == "/admin/establishments" {
        "Thêm cơ sở"
    } else {
        "Sửa thông tin cơ sở"
    };
    let kinds = FacilityKind::ALL
        .iter()
        .map(|k| KindChoice {
            code: k.code(),
            label: k.label_vi(),
            selected: k.code() == form.kind,
        })
        .collect();
    let page = EditPage {
        chrome: chrome(title, who),
        csrf: token.token.clone(),
        notice: None,
        error,
        action,
        kinds,
        units,
        form,
    };
    token.respond(status, &page)
}

pub async fn new_form(State(state): State<AppState>, Https(https): Https, headers: HeaderMap) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let token = match FormToken::of(&headers, https) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let form = FacilityForm {
        kind: "enterprise".into(),
        ..Default::default()
    };
    edit_page(
        &state,
        &who,
        token,
        StatusCode::OK,
        "/admin/establishments".into(),
        form,
        None,
    )
}

pub async fn edit_form(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let token = match FormToken::of(&headers, https) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let found = id
        .parse::<FacilityId>()
        .map_err(ServerError::from)
        .and_then(|id| {
            state
                .db
                .facility(id)?
                .ok_or_else(|| ServerError::NotFound(format!("establishment {id}")))
        });
    match found {
        Ok(f) => edit_page(
            &state,
            &who,
            token,
            StatusCode::OK,
            format!("/admin/establishments/{}", f.id),
            FacilityForm::of(&f),
            None,
        ),
        Err(e) => super::failure(&who, &e),
    }
}

async fn save(
    state: AppState,
    https: bool,
    headers: HeaderMap,
    id: Option<FacilityId>,
    form: FacilityForm,
) -> Response {
    let who = match gate(&state, &headers, Area::Planning) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !crate::csrf::check(&headers, &form.csrf) {
        return forged();
    }
    let action = match id {
        Some(id) => format!("/admin/establishments/{id}"),
        None => "/admin/establishments".to_string(),
    };
    let actor = who.actor();
    let result = match form.fields() {
        Ok(fields) => {
            state
                .writer
                .run(move |w| admin::put_facility(w, &actor, id, fields))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            let done = if id.is_some() {
                "facility_saved"
            } else {
                "facility_created"
            };
            let to = format!("/admin/establishments?q={}&done={done}", encode(&form.name));
            super::with_id(redirect(&to), &created.id)
        }
        Err(e) => {
            let token = match FormToken::of(&headers, https) {
                Ok(t) => t,
                Err(r) => return r,
            };
            edit_page(&state, &who, token, e.status(), action, form, Some(e.to_string()))
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(form): Form<FacilityForm>,
) -> Response {
    save(state, https, headers, None, form).await
}

pub async fn update(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<FacilityForm>,
) -> Response {
    match id.parse::<FacilityId>() {
        Ok(id) => save(state, https, headers, Some(id), form).await,
        Err(e) => match gate(&state, &headers, Area::Planning) {
            Ok(who) => super::failure(&who, &ServerError::from(e)),
            Err(r) => r,
        },
    }
}
