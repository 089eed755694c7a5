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
use crate::audit::values;
use crate::error::ServerError;
use crate::overview::auth::Official;
use serde_json::json;

#[derive(Serialize)]
pub struct Revoked {
    pub device: String,
    pub revoked: bool,
}

fn official(state: &AppState, headers: &HeaderMap) -> Result<Official, ServerError> {
    let who = crate::overview::auth::official(&*state.db, headers)?
        .ok_or_else(|| ServerError::unauthorized("admin_required", "an admin token is required"))?;
    if !who.may(Area::Administration) {
        return Err(ServerError::forbidden(
            "role_refused",
            "revoking devices is for administrators",
        ));
    }
    Ok(who)
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
    let actor = who.actor();
    state
        .writer
        .run(move |w| {
            if w.revoke_device(device)?.is_some() {
                let before = values(json!({"revoked": false}));
                let after = values(json!({"revoked": true}));
                w.audit(&actor, "revoke_device", &device.to_string(), before, after)?;
            }
            Ok(())
        })
        .await?;
    tracing::info!(by = %who.name, "device revoked");
    Ok(Json(Revoked {
        device: device.to_string(),
        revoked: true,
    }))
}
