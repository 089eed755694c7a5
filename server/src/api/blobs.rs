//! Blobs: `GET /api/v1/blobs/{sha256}/status`, `PUT /api/v1/blobs/{sha256}?offset=N&total=T`
//! (one raw chunk), `GET /api/v1/blobs/{sha256}` (the bytes).

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use kiemtra_core::sync::wire::UploadStatus;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Signed;
use crate::cbor::Cbor;
use crate::error::ServerError;
use crate::query::Query;

#[tracing::instrument(skip_all, fields(hash = %hash))]
pub async fn status(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    _signed: Signed,
) -> Result<Cbor<UploadStatus>, ServerError> {
    let (received, complete) = tokio::task::spawn_blocking(move || state.blobs.status(&hash)).await??;
    Ok(Cbor(UploadStatus { received, complete }))
}

#[derive(Debug, Deserialize)]
pub struct ChunkQuery {
    offset: u64,
    total: u64,
}

#[tracing::instrument(skip_all, fields(hash = %hash, offset = q.offset, total = q.total))]
pub async fn put(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    Query(q): Query<ChunkQuery>,
    signed: Signed,
) -> Result<Cbor<UploadStatus>, ServerError> {
    if q.total > state.limits.max_blob_bytes {
        return Err(ServerError::TooLarge {
            limit: state.limits.max_blob_bytes,
        });
    }
    let blobs = state.blobs.clone();
    let (received, complete) =
        tokio::task::spawn_blocking(move || blobs.put_chunk(&hash, q.offset, q.total, &signed.body))
            .await??;
    Ok(Cbor(UploadStatus { received, complete }))
}

#[tracing::instrument(skip_all, fields(hash = %hash))]
pub async fn get(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    _signed: Signed,
) -> Result<impl IntoResponse, ServerError> {
    let name = hash.clone();
    let bytes = tokio::task::spawn_blocking(move || state.blobs.get(&name))
        .await??
        .ok_or_else(|| ServerError::NotFound(format!("blob {hash}")))?;
    Ok(([(CONTENT_TYPE, "application/octet-stream")], bytes))
}
