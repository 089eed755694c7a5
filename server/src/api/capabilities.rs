//! `GET /api/v1/capabilities`: what this server speaks and accepts.

use axum::extract::State;
use kiemtra_core::sync::wire::{Capabilities, PROTOCOL_VERSION};

use crate::app::AppState;
use crate::cbor::Cbor;

#[tracing::instrument(skip_all)]
pub async fn capabilities(State(state): State<AppState>) -> Cbor<Capabilities> {
    Cbor(Capabilities {
        protocol: PROTOCOL_VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        max_body_bytes: state.limits.max_body_bytes as u64,
        max_chunk_bytes: state.limits.max_chunk_bytes as u64,
        max_push_ops: state.limits.max_push_ops,
    })
}
