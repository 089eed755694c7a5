//! The inspectorate's online administration, for what cannot wait for a
//! maintenance window: revoking a lost or stolen phone takes effect at
//! once, while the server runs. Officials authenticate with an admin token
//! (`Authorization: Bearer …`, from `admin create-admin-token`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use kiemtra_core::ids::DeviceId;
use serde::Serialize;

use crate::accounts::Area;
use crate::app::AppState;
use crate::error::ServerError;

#[derive(Serialize)]
pub struct Revoked {
    pub device: String,
    pub revoked: bool,
}

fn official(state: &AppState, headers: &HeaderMap) -> Result<String, ServerError> {
    let who = crate::overview::auth::official(&*state.db, headers)?
        .ok_or_else(|| ServerError::unauthorized("admin_required", "an admin token is required"))?;
    if !who.may(Area::Administration) {
        return Err(ServerError::forbidden(
            "role_refused",
            "revoking devices is for administrators",
        ));
    }
    Ok(who.name)
}

/// `POST /api/v1/admin/devices/{device}/revoke`: the device's key no longer
/// authenticates from the next request on; devices learn it by pull.
#[tracing::instrument(skip_all, fields(device = %device))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> Result<Json<Revoked>, ServerError> {
    let who = official(&state, &headers)?;
    let device: DeviceId = device.parse()?;
    state.writer.run(move |w| w.revoke_device(device)).await?;
    tracing::info!(by = %who, "device revoked");
    Ok(Json(Revoked {
        device: device.to_string(),
        revoked: true,
    }))
}
