//! `POST /api/v1/enrol`: a one-time code binds a device key to an inspector.

use axum::body::Bytes;
use axum::extract::State;
use kiemtra_core::sync::wire::{EnrolRequest, EnrolResponse};

use crate::app::AppState;
use crate::cbor::{decode, Cbor};
use crate::db::Read;
use crate::error::ServerError;

#[tracing::instrument(skip_all)]
pub async fn enrol(State(state): State<AppState>, body: Bytes) -> Result<Cbor<EnrolResponse>, ServerError> {
    let req: EnrolRequest = decode("enrolment request", &body)?;
    tracing::info!(device = %req.device, "enrolment");
    let res = state
        .writer
        .run(move |w| {
            // On the writer, like the enrolment itself: two requests with the
            // same key cannot both pass the check.
            refuse_enrolled_key(&w.db(), &req.public_key)?;
            w.enrol(&req)
        })
        .await?;
    Ok(Cbor(res))
}

/// One key, one device: a key already certified for a device (revoked or
/// not: a revoked key was on a lost phone) is refused for any other, so a
/// cloned app or a phone presenting another's key cannot get a second
/// certificate under another device id. Checked before the code is spent.
fn refuse_enrolled_key(db: &impl Read, public_key: &[u8]) -> Result<(), ServerError> {
    if db.devices()?.iter().any(|d| d.public_key == public_key) {
        return Err(ServerError::Taken {
            code: "key_enrolled",
            message: "this public key is already enrolled for a device; a new installation makes a new key"
                .into(),
        });
    }
    Ok(())
}
