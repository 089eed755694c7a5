//! The inspectorate's work pages on the running server: establishments,
//! inspectors and delegations, assignments, enrolment of phones, devices,
//! templates, administrative units, accounts, and an inspector's own work.
//!
//! Each page is an askama template (`templates/staff/`), checked against
//! the official's role on every request (`gate`), and every form carries
//! the CSRF form token (`csrf.rs`). A form's action is one of the shared
//! actions (`administration/`), run on the writer with its audit entry;
//! after it the browser is sent (303) to the list with a fixed notice, so
//! that reloading the page repeats nothing.

// A handler's refusal is the response to send (a page, a redirect), built
// once per request: boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod accounts;
mod assignments;
mod devices;
mod establishments;
mod imports;
mod my_work;
mod people;
mod plan;
mod planning;
mod publications;
mod qr;
mod upload;

pub use imports::Imports;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::accounts::{Area, Role};
use crate::app::AppState;
use crate::error::ServerError;
use crate::html::{Chrome, Link};
use crate::overview::auth::Official;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/establishments",
            get(establishments::list).post(establishments::create),
        )
        .route("/admin/establishments/new", get(establishments::new_form))
        .route(
            "/admin/establishments/{id}",
            get(establishments::edit_form).post(establishments::update),
        )
        .route(
            "/admin/establishments/import",
            get(imports::form).post(imports::start),
        )
        .route("/admin/imports/{job}", get(imports::progress))
        .route(
            "/admin/delegations",
            get(people::page).post(people::create_delegation),
        )
        .route("/admin/inspectors", post(people::create_inspector))
        .route(
            "/admin/assignments",
            get(assignments::page).post(assignments::create),
        )
        .route("/admin/enrol", get(devices::enrol_form).post(devices::enrol))
        .route("/admin/devices", get(devices::list))
        .route("/admin/devices/{device}/revoke", post(devices::revoke))
        .route(
            "/admin/templates",
            get(publications::templates).post(publications::upload_template),
        )
        .route(
            "/admin/units",
            get(publications::units).post(publications::upload_units),
        )
        .route("/admin/accounts", get(accounts::page).post(accounts::create))
        .route("/admin/my-work", get(my_work::page))
        .route("/admin/planning", get(planning::list))
        .route("/admin/planning/assign", post(plan::assign))
        .route("/admin/planning/plan", get(plan::page))
        .route("/admin/planning/plan.csv", get(plan::csv))
        .route("/admin/planning/{facility}", get(planning::explain))
}

/// The official making the request, if their role opens `area`; or the
/// answer instead (the sign-in page, or a page saying the role does not
/// open this one).
fn gate(state: &AppState, headers: &HeaderMap, area: Area) -> Result<Official, Response> {
    crate::overview::official(state, headers, area)
}

/// The links of the top bar: what the official's role opens.
pub fn nav(who: &Official) -> Vec<Link> {
    let mut links: Vec<(&str, &str)> = Vec::new();
    let may = |a: Area| who.may(a);
    if may(Area::Overview) {
        links.push(("/admin", "Tổng quan"));
    }
    if may(Area::Planning) {
        links.extend([
            ("/admin/establishments", "Cơ sở"),
            ("/admin/planning", "Kế hoạch theo rủi ro"),
            ("/admin/delegations", "Đoàn kiểm tra"),
            ("/admin/assignments", "Phân công"),
            ("/admin/enrol", "Đăng ký điện thoại"),
            ("/admin/templates", "Mẫu kiểm tra"),
            ("/admin/units", "Đơn vị hành chính"),
        ]);
    }
    if may(Area::Administration) {
        links.extend([
            ("/admin/accounts", "Tài khoản"),
            ("/admin/devices", "Thiết bị"),
            ("/admin/second-factor", "Xác thực hai lớp"),
            ("/admin/audit", "Nhật ký"),
        ]);
    }
    if may(Area::OwnWork) && who.role == Some(Role::Inspector) {
        links.push(("/admin/my-work", "Việc của tôi"));
    }
    if who.login.is_some() {
        links.push((crate::overview::second_factor::ACCOUNT_PAGE, "Tài khoản của tôi"));
    }
    links.push(("/admin/logout", "Đăng xuất"));
    links
        .into_iter()
        .map(|(href, label)| Link {
            href: href.to_string(),
            label: label.to_string(),
        })
        .collect()
}

/// The first page of `who`'s work: where `/admin` sends a role that has
/// no overview.
pub fn home(who: &Official) -> Option<&'static str> {
    if who.may(Area::Overview) {
        Some("/admin")
    } else if who.may(Area::Planning) {
        Some("/admin/establishments")
    } else if who.may(Area::Administration) {
        Some("/admin/accounts")
    } else if who.role == Some(Role::Inspector) {
        Some("/admin/my-work")
    } else {
        None
    }
}

/// The chrome of a staff page for `who`.
fn chrome(title: &str, who: &Official) -> Chrome {
    Chrome {
        title: title.to_string(),
        nav: nav(who),
    }
}

/// This browser's form token, and the cookie to set when it is new.
struct FormToken {
    token: String,
    set: Option<String>,
}

impl FormToken {
    fn of(headers: &HeaderMap, https: bool) -> Result<Self, Response> {
        crate::csrf::token(headers, https)
            .map(|(token, set)| Self { token, set })
            .map_err(IntoResponse::into_response)
    }

    /// `page` rendered, with the token's cookie when new.
    fn respond(self, status: StatusCode, page: &impl askama::Template) -> Response {
        crate::csrf::with_token(crate::html::respond(status, page), self.set)
    }
}

/// The answer to a form whose token does not match its cookie: nothing was done.
fn forged() -> Response {
    crate::html::respond(
        StatusCode::FORBIDDEN,
        &Message {
            chrome: Chrome::new("Biểu mẫu không hợp lệ", &[("/admin/login", "Đăng nhập")]),
            heading: "Biểu mẫu đã hết hạn hoặc không gửi từ trang này",
            english: "The form expired or was not sent from this site (CSRF)",
            text: "Không có gì được thay đổi. Hãy tải lại trang và thử lại.".into(),
        },
    )
}

/// A short page that says one thing (a refusal, a missing record).
#[derive(askama::Template)]
#[template(path = "staff/message.html")]
struct Message {
    chrome: Chrome,
    heading: &'static str,
    english: &'static str,
    text: String,
}

/// A failed action as a page: the form's page again is the caller's
/// choice; this is for what has no form to go back to.
fn failure(who: &Official, e: &ServerError) -> Response {
    crate::html::respond(
        e.status(),
        &Message {
            chrome: chrome("Không thực hiện được", who),
            heading: "Không thực hiện được",
            english: "Not done",
            text: e.to_string(),
        },
    )
}

/// The notice a list shows after a form's action (fixed texts, chosen by
/// the redirect's `?done=` so no visitor-supplied text is reflected).
fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "facility_created" => "Đã thêm cơ sở.",
        "facility_saved" => "Đã lưu thay đổi của cơ sở; điện thoại nhận được ở lần đồng bộ sau.",
        "inspector_created" => "Đã thêm cán bộ kiểm tra.",
        "delegation_created" => "Đã lập đoàn kiểm tra.",
        "assigned" => "Đã giao cuộc kiểm tra; đoàn nhận được ở lần đồng bộ sau.",
        "planned" => {
            "Đã đưa các cơ sở đã chọn vào kế hoạch tháng và giao cho đoàn; đoàn nhận được ở lần đồng bộ sau."
        }
        "revoked" => "Đã thu hồi thiết bị: thiết bị không đồng bộ được nữa.",
        "account_created" => "Đã tạo tài khoản.",
        _ => return None,
    })
}

/// The `?done=` of a list page.
#[derive(Debug, Default, serde::Deserialize)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// `r` with the id of what a form made, for scripts and tests (a browser
/// just follows the redirect).
fn with_id(mut r: Response, id: &str) -> Response {
    if let Ok(v) = axum::http::HeaderValue::from_str(id) {
        r.headers_mut().insert("x-kiemtra-id", v);
    }
    r
}
