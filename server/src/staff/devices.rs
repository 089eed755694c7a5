//! Phones: enrolling a new one with a one-time code shown as a QR code (the
//! app scans the server's address and the code together) and as text; the
//! list of enrolled devices; revoking one at once.

#![allow(clippy::result_large_err)] // see staff/mod.rs

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use kiemtra_core::enrol_link::EnrolLink;
use kiemtra_core::ids::{DeviceId, InspectorId};
use serde::Deserialize;

use super::{chrome, forged, gate, notice, Done, FormToken};
use crate::accounts::{Area, Role};
use crate::administration::{self as admin, DeviceSummary, EnrolCodeRequest};
use crate::app::AppState;
use crate::db::Read;
use crate::error::ServerError;
use crate::forwarded::Https;
use crate::html::{redirect, Chrome};
use crate::overview::auth::Official;

/// Whom `who` may enrol a phone for: anyone for a planner, oneself for an
/// inspector's account; `None` for other roles.
fn enrollable(state: &AppState, who: &Official) -> Result<Option<Vec<(InspectorId, String)>>, ServerError> {
    if who.may(Area::Planning) {
        let mut all: Vec<_> = state
            .db
            .inspectors()?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1));
        return Ok(Some(all));
    }
    if who.role == Some(Role::Inspector) {
        let own = match &who.login {
            Some(login) => state.db.account(login)?.and_then(|a| a.inspector),
            None => None,
        };
        if let Some(id) = own {
            let name = state.db.inspector(id)?.map_or_else(|| id.to_string(), |i| i.name);
            return Ok(Some(vec![(id, name)]));
        }
    }
    Ok(None)
}

/// The gate of the enrolment pages: planners, and inspectors for themselves.
fn enrol_gate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Official, Vec<(InspectorId, String)>), Response> {
    let who = match gate(state, headers, Area::Planning) {
        Ok(w) => w,
        Err(refusal) => match gate(state, headers, Area::OwnWork) {
            Ok(w) => w,
            Err(_) => return Err(refusal),
        },
    };
    match enrollable(state, &who) {
        Ok(Some(list)) => Ok((who, list)),
        Ok(None) => Err(super::failure(
            &who,
            &ServerError::forbidden("role_refused", "this account names no inspector"),
        )),
        Err(e) => Err(super::failure(&who, &e)),
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "staff/enrol.html")]
struct EnrolPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    inspectors: Vec<Choice>,
    issued: Option<Issued>,
}

/// A code just issued, shown once.
pub struct Issued {
    pub inspector: String,
    pub code: String,
    pub link: String,
    pub qr: String,
    pub expires: String,
}

fn enrol_page(
    who: &Official,
    list: &[(InspectorId, String)],
    token: FormToken,
    status: StatusCode,
    issued: Option<Issued>,
    error: Option<String>,
) -> Response {
    let page = EnrolPage {
        chrome: chrome("Đăng ký điện thoại", who),
        csrf: token.token.clone(),
        notice: None,
        error,
        inspectors: list
            .iter()
            .map(|(id, name)| Choice {
                value: id.to_string(),
                label: name.clone(),
            })
            .collect(),
        issued,
    };
    token.respond(status, &page)
}

pub async fn enrol_form(State(state): State<AppState>, Https(https): Https, headers: HeaderMap) -> Response {
    let (who, list) = match enrol_gate(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match FormToken::of(&headers, https) {
        Ok(token) => enrol_page(&who, &list, token, StatusCode::OK, None, None),
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    inspector: String,
    #[serde(default)]
    valid_hours: Option<u32>,
}

/// The address phones reach this server at, as the browser did: the
/// `Host` the request came to, over HTTPS when the request was.
fn server_address(headers: &HeaderMap, https: bool) -> Result<String, ServerError> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| ServerError::Invalid("the request has no Host header".into()))?;
    Ok(format!("{}://{host}", if https { "https" } else { "http" }))
}

pub async fn enrol(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Form(f): Form<EnrolForm>,
) -> Response {
    let (who, list) = match enrol_gate(&state, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !crate::csrf::check(&headers, &f.csrf) {
        return forged();
    }
    let token = match FormToken::of(&headers, https) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let chosen = f
        .inspector
        .parse::<InspectorId>()
        .ok()
        .and_then(|id| list.iter().find(|(i, _)| *i == id).cloned());
    let Some((inspector, name)) = chosen else {
        let e = "chọn cán bộ (trong danh sách được phép) / choose an inspector from the list".to_string();
        return enrol_page(&who, &list, token, StatusCode::BAD_REQUEST, None, Some(e));
    };
    let server = match server_address(&headers, https) {
        Ok(s) => s,
        Err(e) => return enrol_page(&who, &list, token, e.status(), None, Some(e.to_string())),
    };
    let req = EnrolCodeRequest {
        inspector,
        valid_hours: f.valid_hours.unwrap_or(24).min(24 * 7),
    };
    let actor = who.actor();
    let issued = state
        .writer
        .run(move |w| admin::issue_enrol_code(w, &actor, req))
        .await
        .and_then(|code| {
            let link = EnrolLink {
                server,
                code: code.code.clone(),
            }
            .to_uri();
            let expires = chrono::DateTime::from_timestamp(code.expires_at, 0)
                .map(crate::html::datetime_vi)
                .unwrap_or_default();
            Ok(Issued {
                inspector: name,
                qr: super::qr::data_url(&link)?,
                code: code.code,
                link,
                expires,
            })
        });
    match issued {
        Ok(issued) => enrol_page(&who, &list, token, StatusCode::OK, Some(issued), None),
        Err(e) => enrol_page(&who, &list, token, e.status(), None, Some(e.to_string())),
    }
}

#[derive(askama::Template)]
#[template(path = "staff/devices.html")]
struct DevicesPage {
    chrome: Chrome,
    csrf: String,
    notice: Option<&'static str>,
    error: Option<String>,
    devices: Vec<DeviceRow>,
}

pub struct DeviceRow {
    pub d: DeviceSummary,
    pub last_seen: String,
}

pub async fn list(
    State(state): State<AppState>,
    Https(https): Https,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let who = match gate(&state, &headers, Area::Administration) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let token = match FormToken::of(&headers, https) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let devices = match admin::devices(&*state.db, &state.auth.seen) {
        Ok(d) => d,
        Err(e) => return super::failure(&who, &e),
    };
    let page = DevicesPage {
        chrome: chrome("Thiết bị", &who),
        csrf: token.token.clone(),
        notice: notice(done.done.as_deref()),
        error: None,
        devices: devices
            .into_iter()
            .map(|d| DeviceRow {
                last_seen: d
                    .last_seen
                    .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                    .map_or_else(|| "—".to_string(), crate::html::datetime_vi),
                d,
            })
            .collect(),
    };
    token.respond(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(device): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let who = match gate(&state, &headers, Area::Administration) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !crate::csrf::check(&headers, &f.csrf) {
        return forged();
    }
    let device: DeviceId = match device.parse() {
        Ok(d) => d,
        Err(e) => return super::failure(&who, &ServerError::from(e)),
    };
    let actor = who.actor();
    match state
        .writer
        .run(move |w| admin::revoke_device(w, &actor, device))
        .await
    {
        // Its sessions refuse it from the next request on: every signed
        // request checks the device record.
        Ok(_) => redirect("/admin/devices?done=revoked"),
        Err(e) => super::failure(&who, &e),
    }
}
