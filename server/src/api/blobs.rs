//! Blobs: `GET /api/v1/blobs/{sha256}/status`, `PUT /api/v1/blobs/{sha256}?offset=N&total=T`
//! (one raw chunk), `GET /api/v1/blobs/{sha256}` (the bytes, streamed; `Range` for a part).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, RANGE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
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

/// Chunks of one download buffered between the thread reading the store
/// and the connection: with the stores' 64 KiB chunks, about 200 KiB per
/// download in memory, whatever the blob's size.
const CHUNKS_IN_FLIGHT: usize = 2;

/// The blob's bytes, streamed: `Content-Length` says how many, and a
/// `Range: bytes=A-[B]` asks for a part (206 with `Content-Range`), so a
/// download cut on a weak link resumes where it stopped. Other forms of
/// `Range` (suffixes, several ranges) are ignored, as HTTP allows: the
/// answer is the whole blob.
#[tracing::instrument(skip_all, fields(hash = %hash))]
pub async fn get(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    headers: HeaderMap,
    _signed: Signed,
) -> Result<Response, ServerError> {
    let range = headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_range);
    let (start, end) = range.unwrap_or((0, None));
    let name = hash.clone();
    let blobs = state.blobs.clone();
    let reader = tokio::task::spawn_blocking(move || blobs.open(&name, start, end))
        .await??
        .ok_or_else(|| ServerError::NotFound(format!("blob {hash}")))?;
    let (len, from, to) = (reader.len, reader.start, reader.end);
    // HTTP: a range that starts at or past the end is not satisfiable.
    if range.is_some() && from >= len {
        return Err(ServerError::RangeNotSatisfiable { len });
    }

    // A blocking thread pulls the chunks (the store may wait on the disk or
    // the network) into a small channel the body drains: a slow client
    // slows the reading instead of piling the blob up in memory.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, ServerError>>(CHUNKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        for chunk in reader.chunks {
            let failed = chunk.is_err();
            // The client went away: stop reading.
            if tx.blocking_send(chunk.map_err(ServerError::from)).is_err() || failed {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        if let Err(e) = &item {
            // The status is sent already: the connection is cut short of
            // its Content-Length, which the client sees as a failed download.
            tracing::error!(error = %e, "a blob download failed midway");
        }
        Some((item, rx))
    });

    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(CONTENT_LENGTH, HeaderValue::from(to - from));
    // Content-addressed, hence never changes: the name is the entity tag.
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{hash}\"")) {
        h.insert(ETAG, tag);
    }
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        // `to > from` here: the range starts before the end.
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {from}-{}/{len}", to - 1)) {
            response.headers_mut().insert(CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

/// `bytes=A-` or `bytes=A-B` (B inclusive) as a start and an exclusive end;
/// `None` for anything else, which is then ignored.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let start: u64 = a.trim().parse().ok()?;
    let b = b.trim();
    if b.is_empty() {
        return Some((start, None));
    }
    let last: u64 = b.parse().ok()?;
    (last >= start).then(|| (start, Some(last.saturating_add(1))))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-"), Some((0, None)));
        assert_eq!(parse_range("bytes=100-199"), Some((100, Some(200))));
        assert_eq!(parse_range(" bytes=5-5"), Some((5, Some(6))));
        // Ignored: suffixes, several ranges, nonsense, an end before the start.
        assert_eq!(parse_range("bytes=-500"), None);
        assert_eq!(parse_range("bytes=0-1,5-6"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(parse_range("bytes=9-3"), None);
    }
}
