//! `POST /api/v1/auth/challenge` and `POST /api/v1/auth/session`.

use axum::body::Bytes;
use axum::extract::State;
use kiemtra_core::sync::wire::{Challenge, ChallengeRequest, Session, SessionRequest};

use crate::app::AppState;
use crate::auth::{active_device, CHALLENGE_SECS, SESSION_SECS};
use crate::cbor::{decode, Cbor};
use crate::error::ServerError;

#[tracing::instrument(skip_all)]
pub async fn challenge(State(state): State<AppState>, body: Bytes) -> Result<Cbor<Challenge>, ServerError> {
    let req: ChallengeRequest = decode("challenge request", &body)?;
    // Unknown and revoked devices learn so now, not after signing.
    active_device(&state, req.device)?;
    let challenge = state.auth.challenge(req.device)?;
    Ok(Cbor(Challenge {
        challenge: challenge.to_vec(),
        expires_in_secs: CHALLENGE_SECS,
    }))
}

#[tracing::instrument(skip_all)]
pub async fn session(State(state): State<AppState>, body: Bytes) -> Result<Cbor<Session>, ServerError> {
    let req: SessionRequest = decode("session request", &body)?;
    let record = active_device(&state, req.device)?;
    let token = state.auth.open_session(&record, &req.challenge, &req.signature)?;
    tracing::info!(device = %req.device, "session opened");
    Ok(Cbor(Session {
        token,
        expires_in_secs: SESSION_SECS,
        inspector: record.inspector,
    }))
}
