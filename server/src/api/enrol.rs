//! `POST /api/v1/enrol`: a one-time code binds a device key to an inspector.

use axum::body::Bytes;
use axum::extract::State;
use kiemtra_core::sync::wire::{EnrolRequest, EnrolResponse};

use crate::app::AppState;
use crate::cbor::{decode, Cbor};
use crate::error::ServerError;

#[tracing::instrument(skip_all)]
pub async fn enrol(State(state): State<AppState>, body: Bytes) -> Result<Cbor<EnrolResponse>, ServerError> {
    let req: EnrolRequest = decode("enrolment request", &body)?;
    tracing::info!(device = %req.device, "enrolment");
    let res = state.writer.run(move |w| w.enrol(&req)).await?;
    Ok(Cbor(res))
}
