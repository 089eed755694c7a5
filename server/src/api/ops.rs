//! `POST /api/v1/ops` (push) and `GET /api/v1/ops?since=N&limit=M` (pull).

use axum::extract::State;
use kiemtra_core::codec::from_cbor;
use kiemtra_core::ops::Operation;
use kiemtra_core::sync::wire::{LogEntry, PullResponse, PushRequest, PushResponse};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Signed;
use crate::cbor::{decode, Cbor};
use crate::db::Read;
use crate::error::ServerError;
use crate::query::Query;
use crate::storage::{is_blob_name, Scope};

#[tracing::instrument(skip_all, fields(device = %signed.principal.device))]
pub async fn push(State(state): State<AppState>, signed: Signed) -> Result<Cbor<PushResponse>, ServerError> {
    let req: PushRequest = decode("push request", &signed.body)?;
    if req.ops.len() > state.limits.max_push_ops as usize {
        return Err(ServerError::TooManyOps {
            max: state.limits.max_push_ops,
        });
    }
    // No operation may refer to a blob the server does not hold (a photo
    // nobody could ever see): the device uploads its photos first, and a
    // push that comes before them is refused whole, nothing of it taken, so
    // that the device uploads and pushes again. Checked before the writer,
    // and safe to be: a stored blob is never deleted. Malformed names are
    // left to the writer's checks of each operation.
    let mut blobs: Vec<String> = req
        .ops
        .iter()
        .flat_map(|op| op.payload.blobs())
        .filter(|h| is_blob_name(h))
        .collect();
    blobs.sort();
    blobs.dedup();
    if !blobs.is_empty() {
        let store = state.blobs.clone();
        let missing = tokio::task::spawn_blocking(move || store.missing(&blobs)).await??;
        if !missing.is_empty() {
            return Err(ServerError::BlobsMissing(missing));
        }
    }
    let who = signed.principal;
    let n = req.ops.len();
    // Answered only once the commit is durable, with the numbers it gave.
    let results = state
        .writer
        .run_then(
            // The clear codes live only in this request: judged, then dropped.
            move |w| w.push(who, req.ops, &req.access_codes),
            |draft, receipt| draft.resolve(receipt),
        )
        .await?;
    tracing::debug!(ops = n, "pushed");
    Ok(Cbor(PushResponse { results }))
}

#[derive(Debug, Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    since: u64,
    limit: Option<u32>,
}

/// Entries scanned per pull at most, so that a device far behind with few
/// relevant entries does not hold a worker for long: it gets `more` and a cursor.
pub const MAX_SCAN: usize = 20_000;

#[tracing::instrument(skip_all, fields(device = %signed.principal.device, since = q.since))]
pub async fn pull(
    State(state): State<AppState>,
    Query(q): Query<PullQuery>,
    signed: Signed,
) -> Result<Cbor<PullResponse>, ServerError> {
    // 0 is a page of no entry (a cheap way to learn the head), never one.
    let limit = q
        .limit
        .unwrap_or(state.limits.pull_default)
        .min(state.limits.pull_max) as usize;
    let inspector = signed.principal.inspector;
    let res = tokio::task::spawn_blocking(move || -> Result<PullResponse, ServerError> {
        let mine = state.db.delegations_of(inspector)?;
        let store = state.db.storage();
        let head = store.log_head()?;
        let mut entries = Vec::new();
        let mut cursor = q.since;
        let mut scanned = 0;
        'scan: while cursor < head && entries.len() < limit && scanned < MAX_SCAN {
            let batch = store.log_since(cursor, 1000.min(MAX_SCAN - scanned))?;
            if batch.is_empty() {
                break;
            }
            for e in batch {
                if entries.len() >= limit {
                    break 'scan;
                }
                scanned += 1;
                cursor = e.server_seq;
                let relevant = match e.scope {
                    Scope::Everyone => true,
                    Scope::Delegation(d) => mine.contains(&d),
                };
                if relevant {
                    let op: Operation = from_cbor("operation", &e.bytes)?;
                    entries.push(LogEntry {
                        server_seq: e.server_seq,
                        op,
                    });
                }
            }
        }
        // A `since` past the head (a server restored from an older backup)
        // is answered with an empty page and the real head, so the device can tell.
        Ok(PullResponse {
            entries,
            next: cursor.max(q.since),
            more: cursor < head,
            head,
        })
    })
    .await??;
    Ok(Cbor(res))
}
