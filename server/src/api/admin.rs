//! The administration as a JSON API, for scripts and for
//! `kiemtra-server admin --server URL`: the same actions as the staff pages
//! (`administration/`), on the running server.
//!
//! Only `Authorization: Bearer <token>` authenticates here, never the
//! pages' session cookie: a cookie would let another site's page make a
//! signed-in official's browser call the API (the pages' forms carry a
//! CSRF token for that; a script's request has no such thing). A token
//! bound to an account acts with that account's role; every call is checked
//! against it, and refused with `403 role_refused` outside it.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use kiemtra_core::ids::{DeviceId, FacilityId};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::accounts::Area;
use crate::administration::{self as admin, *};
use crate::app::AppState;
use crate::audit::Actor;
use crate::csv_import::ImportReport;
use crate::db::Read;
use crate::error::ServerError;
use crate::overview::auth::{bearer_official, Official};
use crate::writer::Writer;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/whoami", get(whoami))
        .route("/api/v1/admin/inspectors", get(inspectors).post(create_inspector))
        .route("/api/v1/admin/enrol-codes", post(enrol_code))
        .route(
            "/api/v1/admin/delegations",
            get(delegations).post(create_delegation),
        )
        .route("/api/v1/admin/facilities", get(facilities).post(create_facility))
        .route("/api/v1/admin/facilities/{id}", put(edit_facility))
        .route("/api/v1/admin/facilities/import", post(import_facilities))
        .route("/api/v1/admin/templates", post(publish_template))
        .route("/api/v1/admin/units", post(publish_units))
        .route("/api/v1/admin/assignments", get(assignments).post(assign))
        .route("/api/v1/admin/plan", get(year_plan).post(plan_month))
        .route("/api/v1/admin/investigations", post(assign_investigation))
        .route("/api/v1/admin/accidents", get(accidents))
        .route("/api/v1/admin/accidents/import", post(import_accidents))
        .route("/api/v1/admin/sanctions", get(sanctions).post(record_sanction))
        .route("/api/v1/admin/sanctions/{id}/payments", post(record_payment))
        .route("/api/v1/admin/sanctions/{id}/appeal", put(record_appeal))
        .route("/api/v1/admin/accounts", get(accounts).post(create_account))
        .route(
            "/api/v1/admin/accounts/{login}/reset-second-factor",
            post(reset_second_factor),
        )
        .route("/api/v1/admin/api-tokens", post(create_api_token))
        .route("/api/v1/admin/devices", get(devices))
        .route("/api/v1/admin/devices/{device}/revoke", post(revoke))
        .route("/api/v1/admin/check", post(check))
}

/// The caller, if their token opens `area`.
fn caller(state: &AppState, headers: &HeaderMap, area: Area) -> Result<Official, ServerError> {
    let who = bearer_official(&*state.db, headers)?.ok_or_else(|| {
        ServerError::unauthorized(
            "admin_required",
            "send an API token as `Authorization: Bearer …` (see `admin create-api-token`)",
        )
    })?;
    if !who.may(area) {
        let role = who.role.map_or("", |r| r.label_vi());
        return Err(ServerError::forbidden(
            "role_refused",
            format!("the role {role} does not open this ({area:?})"),
        ));
    }
    Ok(who)
}

/// A JSON body, with a refusal in the API's error format (axum's own
/// rejection is plain text).
fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ServerError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ServerError::Invalid(format!("the body is not the expected JSON: {e}")))
}

/// A text body (CSV, a template or units file).
fn text_body(bytes: &[u8]) -> Result<&str, ServerError> {
    std::str::from_utf8(bytes).map_err(|_| ServerError::Invalid("the body is not UTF-8 text".into()))
}

/// Runs an action on the writer as the caller and answers with its result
/// once it is durable.
async fn act<T, F>(state: &AppState, who: &Official, f: F) -> Result<Json<T>, ServerError>
where
    T: Send + 'static,
    F: FnOnce(&mut Writer, &Actor) -> Result<T, ServerError> + Send + 'static,
{
    let actor = who.actor();
    let out = state.writer.run(move |w| f(w, &actor)).await?;
    Ok(Json(out))
}

/// Reads the committed state off the async threads.
async fn read<T, F>(state: &AppState, f: F) -> Result<Json<T>, ServerError>
where
    T: Send + 'static,
    F: FnOnce(&crate::db::ServerDb) -> Result<T, ServerError> + Send + 'static,
{
    let db = state.db.clone();
    let out = tokio::task::spawn_blocking(move || f(&db))
        .await
        .map_err(|e| ServerError::Storage(e.to_string()))??;
    Ok(Json(out))
}

#[derive(serde::Serialize)]
struct WhoAmI {
    name: String,
    login: Option<String>,
    role: Option<crate::accounts::Role>,
}

/// `GET /api/v1/admin/whoami`: whom the token acts for (any valid token).
async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<WhoAmI>, ServerError> {
    // Every role may ask who it is.
    let who = bearer_official(&*state.db, &headers)?.ok_or_else(|| {
        ServerError::unauthorized("admin_required", "send an API token as `Authorization: Bearer …`")
    })?;
    Ok(Json(WhoAmI {
        name: who.name,
        login: who.login,
        role: who.role,
    }))
}

async fn inspectors(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<kiemtra_core::people::Inspector>>, ServerError> {
    caller(&state, &headers, Area::Planning)?;
    read(&state, |db| db.inspectors()).await
}

async fn create_inspector(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Created>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let req: NewInspector = json_body(&body)?;
    act(&state, &who, move |w, a| admin::create_inspector(w, a, req)).await
}

/// An enrolment code: a planner's for any inspector, an inspector's for
/// their own new phone only.
async fn enrol_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IssuedCode>, ServerError> {
    let req: EnrolCodeRequest = json_body(&body)?;
    let who = match caller(&state, &headers, Area::Planning) {
        Ok(who) => who,
        Err(ServerError::Forbidden { .. }) => {
            let who = caller(&state, &headers, Area::OwnWork)?;
            let own = match &who.login {
                Some(login) => state.db.account(login)?.and_then(|a| a.inspector),
                None => None,
            };
            if own != Some(req.inspector) {
                return Err(ServerError::forbidden(
                    "role_refused",
                    "an inspector issues enrolment codes for their own phone only",
                ));
            }
            who
        }
        Err(e) => return Err(e),
    };
    act(&state, &who, move |w, a| admin::issue_enrol_code(w, a, req)).await
}

async fn delegations(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<kiemtra_core::people::Delegation>>, ServerError> {
    caller(&state, &headers, Area::Planning)?;
    read(&state, |db| db.delegations()).await
}

async fn create_delegation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Created>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let req: NewDelegation = json_body(&body)?;
    act(&state, &who, move |w, a| admin::create_delegation(w, a, req)).await
}

async fn facilities(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FacilityQuery>,
) -> Result<Json<FacilityPage>, ServerError> {
    caller(&state, &headers, Area::Planning)?;
    read(&state, move |db| admin::search_facilities(db, &q)).await
}

async fn create_facility(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Created>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let fields: FacilityFields = json_body(&body)?;
    act(&state, &who, move |w, a| admin::put_facility(w, a, None, fields)).await
}

async fn edit_facility(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Created>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let id: FacilityId = id.parse()?;
    let fields: FacilityFields = json_body(&body)?;
    act(&state, &who, move |w, a| {
        admin::put_facility(w, a, Some(id), fields)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct Source {
    /// The file the body came from, for the audit log and the accidents' declarant.
    #[serde(default)]
    source: Option<String>,
}

impl Source {
    fn name(self, default: &str) -> String {
        self.source.unwrap_or_else(|| default.to_string())
    }
}

/// The list is checked whole first (a wrong header refuses it, nothing
/// imported), then imported a chunk per commit.
async fn import_facilities(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(src): Query<Source>,
    body: Bytes,
) -> Result<Json<ImportReport>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let rows = crate::csv_import::parse(text_body(&body)?)?;
    let source = src.name("api");
    let report = admin::import_facilities(&state.writer, &who.actor(), &source, rows, |_, _| {}).await?;
    Ok(Json(report))
}

async fn publish_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Published>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let json = text_body(&body)?.to_string();
    act(&state, &who, move |w, a| admin::publish_template(w, a, &json)).await
}

async fn publish_units(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(src): Query<Source>,
    body: Bytes,
) -> Result<Json<Published>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let json = text_body(&body)?.to_string();
    let source = src.name("api");
    act(&state, &who, move |w, a| {
        admin::publish_units(w, a, &source, &json)
    })
    .await
}

async fn assignments(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<AssignmentSummary>>, ServerError> {
    caller(&state, &headers, Area::Planning)?;
    read(&state, |db| admin::assignments(db, None)).await
}

async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Created>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let req: NewAssignment = json_body(&body)?;
    act(&state, &who, move |w, a| admin::assign(w, a, req)).await
}

#[derive(Deserialize)]
struct YearQuery {
    year: i32,
}

/// The plan of a year: its assignments, by month (`"1"` to `"12"`).
async fn year_plan(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<YearQuery>,
) -> Result<Json<std::collections::BTreeMap<u32, Vec<AssignmentSummary>>>, ServerError> {
    caller(&state, &headers, Area::Planning)?;
    read(&state, move |db| admin::year_plan(db, q.year)).await
}

async fn plan_month(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Planned>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let req: MonthPlan = json_body(&body)?;
    act(&state, &who, move |w, a| admin::plan_month(w, a, req)).await
}

async fn assign_investigation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Created>, ServerError> {
    let who = caller(&state, &headers, Area::Planning)?;
    let req: NewInvestigation = json_body(&body)?;
    act(&state, &who, move |w, a| admin::assign_investigation(w, a, req)).await
}

async fn accidents(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<AccidentSummary>>, ServerError> {
    caller(&state, &headers, Area::Overview)?;
    read(&state, admin::accidents).await
}

async fn import_accidents(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(src): Query<Source>,
    body: Bytes,
) -> Result<Json<ImportReport>, ServerError> {
    let who = caller(&state, &headers, Area::RegisterEntry)?;
    let csv = text_body(&body)?.to_string();
    let source = src.name("api");
    act(&state, &who, move |w, a| {
        admin::import_accidents(w, a, &source, &csv)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct SanctionsQuery {
    #[serde(default)]
    overdue: bool,
}

/// `GET /api/v1/admin/sanctions[?overdue=true]`: the register, newest first.
async fn sanctions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SanctionsQuery>,
) -> Result<Json<Vec<SanctionSummary>>, ServerError> {
    caller(&state, &headers, Area::Overview)?;
    let today = chrono::Utc::now()
        .with_timezone(&kiemtra_core::inspection::vietnam_offset())
        .date_naive();
    read(&state, move |db| admin::sanctions(db, today, q.overdue)).await
}

async fn record_sanction(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<crate::sanctions::SanctionDecision>, ServerError> {
    let who = caller(&state, &headers, Area::RegisterEntry)?;
    let req: crate::writer::NewSanction = json_body(&body)?;
    act(&state, &who, move |w, a| admin::record_sanction(w, a, req)).await
}

fn sanction_id(id: &str) -> Result<kiemtra_core::ids::SanctionId, ServerError> {
    id.parse()
        .map_err(|_| ServerError::NotFound(format!("sanction decision {id}")))
}

async fn record_payment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<crate::sanctions::SanctionDecision>, ServerError> {
    let who = caller(&state, &headers, Area::RegisterEntry)?;
    let id = sanction_id(&id)?;
    let payment: crate::sanctions::Payment = json_body(&body)?;
    act(&state, &who, move |w, a| admin::record_payment(w, a, id, payment)).await
}

async fn record_appeal(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<crate::sanctions::SanctionDecision>, ServerError> {
    let who = caller(&state, &headers, Area::RegisterEntry)?;
    let id = sanction_id(&id)?;
    let appeal: crate::sanctions::Appeal = json_body(&body)?;
    act(&state, &who, move |w, a| admin::record_appeal(w, a, id, appeal)).await
}

async fn accounts(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<AccountSummary>>, ServerError> {
    caller(&state, &headers, Area::Administration)?;
    read(&state, |db| {
        Ok(db.accounts()?.into_iter().map(Into::into).collect())
    })
    .await
}

async fn create_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AccountSummary>, ServerError> {
    let who = caller(&state, &headers, Area::Administration)?;
    let req: NewAccountRequest = json_body(&body)?;
    act(&state, &who, move |w, a| admin::create_account(w, a, req)).await
}

async fn reset_second_factor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(login): Path<String>,
) -> Result<Json<SecondFactorReset>, ServerError> {
    let who = caller(&state, &headers, Area::Administration)?;
    act(&state, &who, move |w, a| admin::reset_second_factor(w, a, &login)).await
}

/// A token for the caller's own account; an administrator may name another
/// account. An unbound token (every area) is made only on the console.
async fn create_api_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IssuedToken>, ServerError> {
    let mut req: NewApiToken = json_body(&body)?;
    let who = bearer_official(&*state.db, &headers)?.ok_or_else(|| {
        ServerError::unauthorized("admin_required", "send an API token as `Authorization: Bearer …`")
    })?;
    match (&req.account, &who.login) {
        (None, Some(own)) => req.account = Some(own.clone()),
        (Some(other), own) if own.as_deref() != Some(other.as_str()) => {
            caller(&state, &headers, Area::Administration)?;
        }
        (Some(_), _) => {}
        (None, None) => {
            return Err(ServerError::Invalid(
                "name the account the token acts for (`account`)".into(),
            ))
        }
    }
    act(&state, &who, move |w, a| admin::create_api_token(w, a, req)).await
}

async fn devices(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<DeviceSummary>>, ServerError> {
    caller(&state, &headers, Area::Administration)?;
    let auth = state.auth.clone();
    read(&state, move |db| admin::devices(db, &auth.seen)).await
}

/// `POST /api/v1/admin/devices/{device}/revoke`: the device's key no longer
/// authenticates from the next request on; devices learn it by pull.
#[tracing::instrument(skip_all, fields(device = %device))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> Result<Json<Revoked>, ServerError> {
    let who = caller(&state, &headers, Area::Administration)?;
    let device: DeviceId = device.parse()?;
    let out = act(&state, &who, move |w, a| admin::revoke_device(w, a, device)).await?;
    // Its sessions refuse it from the next request on: every signed request
    // checks the device record.
    tracing::info!(by = %who.name, "device revoked");
    Ok(out)
}

async fn check(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<CheckResult>, ServerError> {
    let who = caller(&state, &headers, Area::Administration)?;
    act(&state, &who, |w, _| admin::check(w)).await
}
