//! An inspector's own page: the delegations they are in, what is assigned
//! to those delegations and where it stands, their phones, and the way to
//! enrol a new one (`/admin/enrol`, limited to themselves).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{chrome, gate};
use crate::accounts::Area;
use crate::administration::{self as admin, AssignmentSummary, DeviceSummary};
use crate::app::AppState;
use crate::db::Read;
use crate::error::ServerError;
use crate::html::Chrome;

pub struct DelegationRow {
    pub name: String,
    pub decision: String,
    pub role: &'static str,
}

#[derive(askama::Template)]
#[template(path = "staff/my_work.html")]
struct Page {
    chrome: Chrome,
    name: String,
    delegations: Vec<DelegationRow>,
    assignments: Vec<AssignmentSummary>,
    devices: Vec<DeviceSummary>,
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let who = match gate(&state, &headers, Area::OwnWork) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let built = (|| -> Result<Page, ServerError> {
        let login = who.login.clone().unwrap_or_default();
        let inspector = state
            .db
            .account(&login)?
            .and_then(|a| a.inspector)
            .ok_or_else(|| ServerError::forbidden("role_refused", "this account names no inspector"))?;
        let mine: Vec<_> = state
            .db
            .delegations()?
            .into_iter()
            .filter_map(|d| {
                let m = d.members.iter().find(|m| m.inspector == inspector)?;
                let role = match m.role {
                    kiemtra_core::people::Role::Leader => "Trưởng đoàn",
                    kiemtra_core::people::Role::Secretary => "Thư ký",
                    kiemtra_core::people::Role::Member => "Thành viên",
                };
                Some((
                    d.id,
                    DelegationRow {
                        name: d.name,
                        decision: d.decision,
                        role,
                    },
                ))
            })
            .collect();
        let ids: Vec<_> = mine.iter().map(|(id, _)| *id).collect();
        let devices = admin::devices(&*state.db, &state.auth.seen)?
            .into_iter()
            .filter(|d| d.inspector == inspector)
            .collect();
        Ok(Page {
            chrome: chrome("Việc của tôi", &who),
            name: who.name.clone(),
            assignments: admin::assignments(&*state.db, Some(&ids))?,
            delegations: mine.into_iter().map(|(_, d)| d).collect(),
            devices,
        })
    })();
    match built {
        Ok(p) => crate::html::respond(StatusCode::OK, &p),
        Err(e) => super::failure(&who, &e),
    }
}
