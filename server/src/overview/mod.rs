//! The inspectorate's overview (`/admin`): inspections by administrative
//! unit, month and kind; violations by section and legal basis; overdue
//! violations; uninspected high-risk establishments; the plan's targets
//! with numerators, denominators and the records behind them; the accident
//! register; JSON and CSV exports (Decree 39 report included).
//!
//! Officials only (see [`auth`]). The overview page, `targets.csv` and
//! `decree39.csv` read the figures the writer keeps with every commit
//! (`crate::figures`), so that their cost follows what they show; the JSON,
//! the records behind a figure and the register still compute from the
//! records (`data`), and a test holds both to the same figures.

// Handlers pass a finished `Response` as their early-return value: it is
// large, but boxing it on every page would add noise for no gain.
#![allow(clippy::result_large_err)]

pub mod audit_log;
pub mod auth;
pub mod data;
pub mod decree39;
pub mod export;
pub mod pages;
pub mod register;
pub mod second_factor;
pub mod stats;
pub mod targets;
pub mod units;

use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::Datelike;
use kiemtra_core::accident::{Declarant, NewAccident};
use kiemtra_core::ids::FacilityId;
use serde::{Deserialize, Serialize};

use self::data::Data;
use crate::accounts::Area;
use crate::app::AppState;
use crate::audit::{values, Actor};
use crate::csrf;
use crate::db::Read;
use crate::error::ServerError;
use crate::forwarded::{ClientIp, Https};
use crate::html::{redirect, respond, with_cookie, Notice};
use crate::portal::session::set_cookie;
use crate::portal::session::Gate;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", get(logout))
        .route("/admin/logout-everywhere", post(logout_everywhere))
        .route("/admin", get(overview_page))
        .route("/admin/overview.json", get(overview_json))
        .route("/admin/targets.csv", get(targets_csv))
        .route("/admin/inspections.csv", get(inspections_csv))
        .route("/admin/decree39.csv", get(decree39_csv))
        .route("/admin/records", get(records_page))
        .route("/admin/accidents", get(accidents_page).post(enter_accident))
        .route("/admin/audit", get(audit_log::audit_page))
        .route("/admin/audit.csv", get(audit_log::audit_csv))
        .merge(second_factor::routes())
}

/// The official making the request, if allowed in `area`; or the answer to
/// send instead: for a browser the login page (nobody signed in) or a page
/// saying the role does not allow it, for a script 401 or 403.
pub(crate) fn official(
    state: &AppState,
    headers: &HeaderMap,
    area: Area,
) -> Result<auth::Official, Response> {
    let wants_html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match auth::signed_in(&*state.db, headers) {
        Ok(Some(auth::Signed::In(who))) if who.may(area) => Ok(who),
        // Until it has set up the second factor the agency requires.
        Ok(Some(auth::Signed::MustEnrol(_))) => Err(if wants_html {
            redirect(second_factor::ACCOUNT_PAGE)
        } else {
            ServerError::forbidden(
                auth::SECOND_FACTOR_REQUIRED,
                "this account must set up a second factor first (/admin/account)",
            )
            .into_response()
        }),
        Ok(Some(auth::Signed::In(who))) => Err(if wants_html {
            respond(StatusCode::FORBIDDEN, &pages::refused(&who))
        } else {
            ServerError::forbidden("role_refused", "this account's role does not allow this").into_response()
        }),
        Ok(None) => Err(if wants_html {
            redirect("/admin/login")
        } else {
            ServerError::unauthorized("admin_required", "an admin token is required").into_response()
        }),
        Err(e) => Err(e.into_response()),
    }
}

async fn load(state: &AppState) -> Result<Data, ServerError> {
    let db = state.db.clone();
    // Read with the rest: units published on the running server count at once.
    tokio::task::spawn_blocking(move || {
        let units = crate::writer::current_units(&*db)?;
        Data::load(&db, units)
    })
    .await
    .map_err(|e| ServerError::Storage(e.to_string()))?
}

/// A staff page with a form: rendered with this browser's form token, and
/// the token's cookie when it is new.
fn form_page<T: askama::Template>(
    headers: &HeaderMap,
    https: bool,
    status: StatusCode,
    render: impl FnOnce(&str) -> T,
) -> Response {
    csrf::form_page(headers, https, status, render).unwrap_or_else(IntoResponse::into_response)
}

/// The answer to a form whose token does not match its cookie (a page of
/// another site posting here, or a form older than its cookie).
fn forged(headers: &HeaderMap, https: bool) -> Response {
    form_page(headers, https, StatusCode::FORBIDDEN, |field| {
        pages::login(
            Some("Biểu mẫu đã hết hạn hoặc không gửi từ trang này (CSRF). Hãy tải lại trang và thử lại."),
            field,
        )
    })
}

async fn login_page(Https(https): Https, headers: HeaderMap) -> Response {
    form_page(&headers, https, StatusCode::OK, |field| pages::login(None, field))
}

/// The sign-in form: a staff account's login and password, or an admin token.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

/// Who the form names, if its password or token is right.
enum SignIn {
    Account(crate::accounts::Account),
    Token(crate::db::AdminToken),
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    let gate = match state.staff_logins.gate(ip) {
        Ok(g) => g,
        Err(e) => return e.into_response(),
    };
    if let Gate::Locked(wait) = gate {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let text = format!("Đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.");
        return form_page(&headers, https, StatusCode::TOO_MANY_REQUESTS, |field| {
            pages::login(Some(&text), field)
        });
    }
    let db = state.db.clone();
    // Password hashing takes tens of milliseconds: off the async threads.
    let checked = tokio::task::spawn_blocking(move || -> Result<Option<SignIn>, ServerError> {
        if !f.token.is_empty() {
            return Ok(db
                .admin_token(&crate::writer::token_hash(&f.token))?
                .map(SignIn::Token));
        }
        let account = match crate::accounts::login(&f.login) {
            Ok(login) => db.account(&login)?,
            Err(_) => None,
        };
        let stored = account.as_ref().map(|a| a.password_hash.as_str());
        // An unknown login is checked against a decoy, so it takes as long.
        let opens = crate::accounts::verify_password(stored, &f.password);
        Ok(account.filter(|a| opens && !a.disabled).map(SignIn::Account))
    })
    .await
    .unwrap_or_else(|e| Err(ServerError::Storage(e.to_string())));
    let opened = match checked {
        Ok(Some(SignIn::Token(t))) => {
            let actor = Actor::token(&t.name);
            state
                .writer
                .run(move |w| {
                    let session = w.open_admin_session(&t.name, auth::SESSION_TTL)?;
                    w.audit(&actor, "sign_in", &t.name, None, None)?;
                    Ok(session)
                })
                .await
        }
        // The password was right; the session waits for the code.
        Ok(Some(SignIn::Account(a))) if a.second_factor.is_on() => {
            return second_factor::ask_code(&state, &a.login, https);
        }
        Ok(Some(SignIn::Account(a))) => {
            let actor = Actor::account(&a.display_name, &a.login);
            state
                .writer
                .run(move |w| {
                    let session = w.open_account_session(&a, auth::SESSION_TTL)?;
                    w.audit(&actor, "sign_in", &a.login, None, None)?;
                    Ok(session)
                })
                .await
        }
        Ok(None) => {
            if let Err(e) = state.staff_logins.failed(ip) {
                return e.into_response();
            }
            return form_page(&headers, https, StatusCode::UNAUTHORIZED, |field| {
                pages::login(
                    Some("Tên đăng nhập, mật khẩu hoặc mã truy cập không đúng."),
                    field,
                )
            });
        }
        Err(e) => return e.into_response(),
    };
    match opened {
        Ok(session) => {
            let c = set_cookie(
                auth::COOKIE,
                &session,
                "/admin",
                https,
                Some(auth::SESSION_TTL.as_secs()),
            );
            with_cookie(redirect("/admin"), &c)
        }
        Err(e) => e.into_response(),
    }
}

async fn logout(State(state): State<AppState>, Https(https): Https, headers: HeaderMap) -> Response {
    if let Some(token) = auth::session_token(&headers) {
        // Ended on the server, so that a copy of the cookie opens nothing.
        if let Err(e) = state
            .writer
            .run(move |w| {
                w.close_admin_session(&token);
                Ok(())
            })
            .await
        {
            return e.into_response();
        }
    }
    let c = set_cookie(auth::COOKIE, "", "/admin", https, Some(0));
    with_cookie(redirect("/admin/login"), &c)
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<i32>,
    /// The page of units of the tables by unit (0-based).
    #[serde(default)]
    units: usize,
}

/// Everything the overview shows, as served in JSON.
#[derive(Serialize)]
pub struct Overview {
    pub year: i32,
    pub today: chrono::NaiveDate,
    pub targets: Vec<targets::TargetFigure>,
    pub targets_not_measured: Vec<NotMeasured>,
    pub inspections: Vec<stats::InspectionCount>,
    pub violations_by_section: Vec<stats::SectionCount>,
    pub violations_by_legal_basis: Vec<stats::LegalBasisCount>,
    pub overdue_violations: Vec<stats::OverdueViolation>,
    pub high_risk_not_inspected: Vec<stats::Uninspected>,
    pub fatal_accidents: u64,
}

#[derive(Serialize)]
pub struct NotMeasured {
    pub target: &'static str,
    pub why: &'static str,
}

/// The years to offer: the plan's, and any with records.
pub fn years(d: &Data) -> Vec<i32> {
    let mut y: Vec<i32> = (2023..=2025).collect();
    y.extend(d.records.iter().map(|r| r.inspection.date().year()));
    y.extend(d.accidents.iter().map(|a| a.date().year()));
    y.sort_unstable();
    y.dedup();
    y
}

pub fn compute(d: &Data, year: i32) -> Overview {
    Overview {
        year,
        today: d.today,
        targets: targets::compute(d),
        targets_not_measured: targets::NOT_MEASURED
            .iter()
            .map(|(target, why)| NotMeasured { target, why })
            .collect(),
        inspections: stats::inspections_by_unit_month_kind(d),
        violations_by_section: stats::violations_by_section(d),
        violations_by_legal_basis: stats::violations_by_legal_basis(d),
        overdue_violations: stats::overdue_violations(d),
        high_risk_not_inspected: stats::high_risk_not_inspected(d, year),
        fatal_accidents: d
            .accidents
            .iter()
            .filter(|a| a.deaths > 0 && a.date().year() == year)
            .count() as u64,
    }
}

/// The year asked for; by default the latest year of the plan with records.
fn year_of(q: &YearQuery, d: &Data) -> i32 {
    q.year.unwrap_or_else(|| {
        d.records
            .iter()
            .map(|r| r.inspection.date().year())
            .filter(|y| *y <= 2025)
            .max()
            .unwrap_or(2025)
    })
}

async fn overview_page(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Query(q): Query<YearQuery>,
) -> Response {
    // `/admin` is where signing in leads: a role without the overview is
    // sent on to its own first page instead of a refusal.
    if let Ok(Some(who)) = auth::official(&*state.db, &headers) {
        if let Some(home) = crate::staff::home(&who).filter(|_| !who.may(Area::Overview)) {
            return redirect(home);
        }
    }
    let who = match official(&state, &headers, Area::Overview) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let p = match page_figures(&state, q.year).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    form_page(&headers, https, StatusCode::OK, |csrf| {
        pages::overview(&pages::OverviewFigures {
            csrf,
            fatal: p.fatal as usize,
            kinds: p.kinds.clone(),
            templates: &p.templates,
            year: p.year,
            years: p.years.clone(),
            official: &who.name,
            targets: &p.targets,
            inspections: &p.inspections,
            sections: &p.sections,
            legal: &p.legal,
            overdue: &p.overdue.rows,
            overdue_open: p.overdue.open,
            overdue_reported: p.overdue.remediated,
            overdue_total: p.overdue.total,
            uninspected: &p.uninspected,
            plan: &p.plan,
            units_page: q.units,
        })
    })
}

/// What the overview page shows, read from the kept figures (`crate::figures`)
/// rather than from every record.
struct PageFigures {
    year: i32,
    years: Vec<i32>,
    targets: Vec<targets::TargetFigure>,
    inspections: Vec<stats::InspectionCount>,
    kinds: Vec<kiemtra_core::inspection::InspectionKind>,
    sections: Vec<stats::SectionCount>,
    legal: Vec<stats::LegalBasisCount>,
    overdue: crate::figures::read::Overdue,
    uninspected: Vec<stats::Uninspected>,
    plan: Vec<crate::figures::read::PlanCount>,
    fatal: u64,
    templates: Vec<kiemtra_core::template::ChecklistTemplate>,
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&kiemtra_core::inspection::vietnam_offset())
        .date_naive()
}

async fn page_figures(state: &AppState, year: Option<i32>) -> Result<PageFigures, ServerError> {
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        let units = crate::writer::current_units(&*db)?;
        let mut r = crate::figures::read::Reader::new(&*db, &units);
        let today = today();
        let year = match year {
            Some(y) => y,
            None => r.default_year()?,
        };
        Ok(PageFigures {
            year,
            years: r.years()?,
            targets: r.targets_in(Some(year))?,
            inspections: r.inspections(year)?,
            kinds: r.kinds()?,
            sections: r.sections()?,
            legal: r.legal()?,
            overdue: r.overdue(today, crate::figures::read::OVERDUE_LISTED)?,
            uninspected: r.uninspected(year, today)?,
            plan: r.plan(year)?,
            fatal: r.fatal(year)?,
            templates: db.templates()?,
        })
    })
    .await
    .map_err(|e| ServerError::Storage(e.to_string()))?
}

/// Runs `f` on the kept figures, off the async threads.
async fn with_figures<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut crate::figures::read::Reader<'_, crate::db::ServerDb>) -> Result<T, ServerError>
        + Send
        + 'static,
) -> Result<T, ServerError> {
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || {
        let units = crate::writer::current_units(&*db)?;
        let mut r = crate::figures::read::Reader::new(&*db, &units);
        f(&mut r)
    })
    .await
    .map_err(|e| ServerError::Storage(e.to_string()))?
}

#[derive(Deserialize)]
struct TokenOnly {
    #[serde(default)]
    csrf: String,
}

/// Ends every session of the signed-in account (or of the admin token's
/// holder), on every browser and device: for a lost phone or a shared
/// computer left signed in.
async fn logout_everywhere(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<TokenOnly>,
) -> Response {
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    let who = match auth::official(&*state.db, &headers) {
        Ok(Some(who)) => who,
        Ok(None) => return redirect("/admin/login"),
        Err(e) => return e.into_response(),
    };
    let actor = who.actor();
    let closed = state
        .writer
        .run(move |w| {
            let n = w.close_sessions_of(who.login.as_deref(), &who.name)?;
            let after = values(serde_json::json!({"sessions_closed": n}));
            let subject = who.login.clone().unwrap_or(who.name.clone());
            w.audit(&actor, "sign_out_everywhere", &subject, None, after)?;
            Ok(())
        })
        .await;
    if let Err(e) = closed {
        return e.into_response();
    }
    let c = set_cookie(auth::COOKIE, "", "/admin", https, Some(0));
    with_cookie(redirect("/admin/login"), &c)
}

async fn overview_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<YearQuery>,
) -> Response {
    if let Err(r) = official(&state, &headers, Area::Overview) {
        return r;
    }
    match load(&state).await {
        Ok(d) => {
            let year = year_of(&q, &d);
            Json(compute(&d, year)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

pub(crate) fn csv_response(name: &str, body: Result<Vec<u8>, ServerError>) -> Response {
    match body {
        Ok(bytes) => {
            let mut r = bytes.into_response();
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                r.headers_mut().insert(CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn targets_csv(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = official(&state, &headers, Area::Overview) {
        return r;
    }
    match with_figures(&state, |r| r.targets()).await {
        Ok(figures) => csv_response("chi-tieu.csv", export::targets(&figures)),
        Err(e) => e.into_response(),
    }
}

async fn inspections_csv(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(r) = official(&state, &headers, Area::Overview) {
        return r;
    }
    match load(&state).await {
        Ok(d) => csv_response(
            "cuoc-kiem-tra.csv",
            export::inspections(&stats::inspections_by_unit_month_kind(&d)),
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct HalfQuery {
    year: i32,
    half: u8,
}

async fn decree39_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HalfQuery>,
) -> Response {
    if let Err(r) = official(&state, &headers, Area::Overview) {
        return r;
    }
    if decree39::period(q.year, q.half).is_none() {
        return ServerError::Invalid("half is 1 (January–June) or 2 (July–December)".into()).into_response();
    }
    let (year, half) = (q.year, q.half);
    match with_figures(&state, move |r| r.decree39(year, half)).await {
        Ok(rows) => csv_response(
            &format!("bao-cao-nd39-{}-{}.csv", q.year, q.half),
            export::decree39(q.year, q.half, &rows),
        ),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct RecordsQuery {
    target: Option<String>,
    unit: Option<String>,
    year: Option<i32>,
    month: Option<String>,
    inspection: Option<String>,
}

/// The records behind a figure: a target's (by unit and year; all units
/// when `unit` is empty), or the inspections of a unit in a year or month.
async fn records_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<RecordsQuery>,
) -> Response {
    if let Err(r) = official(&state, &headers, Area::Overview) {
        return r;
    }
    let d = match load(&state).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let unit = q.unit.clone().unwrap_or_default();
    let (title, rows) = if let Some(t) = &q.target {
        let year = q.year.unwrap_or(2025);
        let rows: Vec<targets::RecordRef> = targets::compute(&d)
            .into_iter()
            .filter(|f| f.target == t.as_str() && f.year == year && (unit.is_empty() || f.unit.code == unit))
            .flat_map(|f| f.records)
            .collect();
        (format!("Chỉ tiêu {t}, năm {year}: hồ sơ"), rows)
    } else {
        let rows: Vec<targets::RecordRef> = stats::inspections_by_unit_month_kind(&d)
            .into_iter()
            .filter(|c| unit.is_empty() || c.unit.code == unit)
            .filter(|c| q.month.as_ref().is_none_or(|m| &c.month == m))
            .filter(|c| q.year.is_none_or(|y| c.month.starts_with(&format!("{y}-"))))
            .flat_map(|c| c.inspections)
            .filter(|id| q.inspection.as_ref().is_none_or(|i| *i == id.to_string()))
            .filter_map(|id| d.records.iter().find(|r| r.inspection.id == id))
            .map(|r| targets::RecordRef {
                kind: "inspection",
                id: r.inspection.id.to_string(),
                label: format!(
                    "{} – {} – {}",
                    d.facility_name(r.inspection.facility),
                    r.inspection.kind.label_vi(),
                    r.inspection.status.label_vi()
                ),
                date: Some(r.inspection.date()),
                numerator: d.violations(r).len() as u64,
                denominator: 0,
            })
            .collect();
        ("Các cuộc kiểm tra (tử số: số vi phạm)".to_string(), rows)
    };
    respond(StatusCode::OK, &pages::records(&title, &rows))
}

async fn accidents_page(State(state): State<AppState>, Https(https): Https, headers: HeaderMap) -> Response {
    let who = match official(&state, &headers, Area::Overview) {
        Ok(w) => w,
        Err(r) => return r,
    };
    // The entry form only for those who may use it (a viewer reads).
    let may_enter = who.may(Area::RegisterEntry);
    match load(&state).await {
        Ok(d) => form_page(&headers, https, StatusCode::OK, |field| {
            register::register(&d, None, may_enter.then_some(field))
        }),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct AccidentForm {
    occurred_at: String,
    place: String,
    unit: String,
    #[serde(default)]
    facility: String,
    #[serde(default)]
    deaths: u32,
    #[serde(default)]
    seriously_injured: u32,
    #[serde(default)]
    lightly_injured: u32,
    account: String,
    #[serde(default)]
    csrf: String,
}

async fn enter_accident(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<AccidentForm>,
) -> Response {
    let who = match official(&state, &headers, Area::RegisterEntry) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !csrf::check(&headers, &f.csrf) {
        return forged(&headers, https);
    }
    let facility = match f.facility.trim() {
        "" => None,
        s => match s.parse::<FacilityId>() {
            Ok(id) => Some(id),
            Err(e) => return ServerError::from(e).into_response(),
        },
    };
    let message = match crate::portal::parse_local(&f.occurred_at) {
        None => Notice::error("Thời gian xảy ra không hợp lệ."),
        Some(occurred_at) => {
            let new = NewAccident {
                occurred_at,
                place: f.place,
                unit: f.unit,
                facility,
                without_contract: facility.is_none(),
                deaths: f.deaths,
                seriously_injured: f.seriously_injured,
                lightly_injured: f.lightly_injured,
                victims: Vec::new(),
                account: f.account,
                needs_examination: false,
            };
            let actor = who.actor();
            let by = Declarant::Inspectorate { person: who.name };
            let declared = state.writer.run(move |w| {
                let a = w.declare_accident(new, by)?;
                let after = values(serde_json::json!({
                    "occurred_at": a.occurred_at.to_rfc3339(),
                    "unit": a.unit,
                    "place": a.place,
                    "deaths": a.deaths,
                }));
                w.audit(&actor, "declare_accident", &a.id.to_string(), None, after)?;
                Ok(a)
            });
            match declared.await {
                Ok(a) => Notice::success(format!("Đã ghi vụ tai nạn {}.", a.id)),
                Err(e) => Notice::error(format!("Chưa ghi được: {e}")),
            }
        }
    };
    match load(&state).await {
        Ok(d) => form_page(&headers, https, StatusCode::OK, |field| {
            register::register(&d, Some(message), Some(field))
        }),
        Err(e) => e.into_response(),
    }
}
