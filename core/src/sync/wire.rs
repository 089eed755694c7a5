//! The sync protocol's messages, shared by the device client and the server
//! so that the two cannot drift apart. Bodies are CBOR (`crate::codec`),
//! content type `application/cbor`; errors come back as JSON
//! `{"error": "...", "code": "..."}` with an HTTP status.
//!
//! Endpoints (all under `/api/v1`; `docs/api.md` has the reference):
//! - `GET  /capabilities` → [`Capabilities`] (no auth).
//! - `POST /enrol` [`EnrolRequest`] → [`EnrolResponse`] (no auth; one-time code).
//! - `POST /auth/challenge` [`ChallengeRequest`] → [`Challenge`].
//! - `POST /auth/session` [`SessionRequest`] → [`Session`].
//! - `POST /ops` [`PushRequest`] → [`PushResponse`] (signed request).
//! - `GET  /ops?since=N&limit=M` → [`PullResponse`] (signed request).
//! - `GET  /blobs/{sha256}/status` → [`UploadStatus`]; `PUT /blobs/{sha256}?offset=N&total=T` (raw
//!   bytes) → [`UploadStatus`]; `GET /blobs/{sha256}` → raw bytes (signed requests).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access_code::AccessCode;
use crate::ids::{DeviceId, InspectorId, OpId};
use crate::ops::Operation;
use crate::people::Inspector;

/// Bumped when a message changes incompatibly; both sides say what they speak.
pub const PROTOCOL_VERSION: u32 = 1;

/// Domain-separation prefixes for everything a key signs, so a signature
/// made for one purpose can never be replayed for another.
pub const SIGN_CERTIFICATE: &[u8] = b"kiemtra-certificate-v1\0";
pub const SIGN_SESSION: &[u8] = b"kiemtra-session-v1\0";
pub const SIGN_REQUEST: &[u8] = b"kiemtra-request-v1\0";

/// Request headers of a signed request.
pub const HEADER_NONCE: &str = "x-kiemtra-nonce";
pub const HEADER_SIGNATURE: &str = "x-kiemtra-signature";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub protocol: u32,
    pub server_version: String,
    /// Largest request body the server accepts, in bytes.
    pub max_body_bytes: u64,
    /// Largest blob chunk per `PUT`.
    pub max_chunk_bytes: u64,
    /// Largest number of operations in one push.
    pub max_push_ops: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time code an administrator issued (`kiemtra-server admin enrol-code`).
    pub code: String,
    pub device: DeviceId,
    /// The device's ed25519 public key (32 bytes).
    #[serde(with = "serde_bytes")]
    pub public_key: Vec<u8>,
    /// A name the inspector recognises ("Điện thoại của Lan").
    pub device_name: String,
}

/// What the server certifies: this key belongs to this inspector's device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateBody {
    pub serial: u64,
    pub inspector: InspectorId,
    pub inspector_name: String,
    pub device: DeviceId,
    #[serde(with = "serde_bytes")]
    pub public_key: Vec<u8>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: DateTime<Utc>,
}

/// A certificate: the CBOR bytes of a [`CertificateBody`] and the server's
/// signature over `SIGN_CERTIFICATE ++ body`. The exact bytes are kept, so
/// verification never depends on re-encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub certificate: Certificate,
    #[serde(with = "serde_bytes")]
    pub server_public_key: Vec<u8>,
    pub inspector: Inspector,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeRequest {
    pub device: DeviceId,
}

/// A single-use random challenge. No clocks are compared: a device whose
/// clock is hours wrong authenticates all the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    #[serde(with = "serde_bytes")]
    pub challenge: Vec<u8>,
    pub expires_in_secs: u64,
}

/// Signature over `SIGN_SESSION ++ challenge ++ device id bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRequest {
    pub device: DeviceId,
    #[serde(with = "serde_bytes")]
    pub challenge: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub signature: Vec<u8>,
}

/// A short-lived session. Each request then carries `Authorization: Bearer
/// <token>`, a fresh random nonce (`x-kiemtra-nonce`, hex) and a signature
/// (`x-kiemtra-signature`, hex) over [`request_message`]; a nonce seen
/// before in the session is refused as a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub expires_in_secs: u64,
    pub inspector: InspectorId,
}

/// What a signed request's signature covers.
pub fn request_message(
    token: &str,
    nonce: &str,
    method: &str,
    path_and_query: &str,
    body_sha256: &[u8; 32],
) -> Vec<u8> {
    let mut m =
        Vec::with_capacity(SIGN_REQUEST.len() + token.len() + nonce.len() + path_and_query.len() + 48);
    m.extend_from_slice(SIGN_REQUEST);
    for part in [
        token.as_bytes(),
        nonce.as_bytes(),
        method.as_bytes(),
        path_and_query.as_bytes(),
    ] {
        m.extend_from_slice(part);
        m.push(0);
    }
    m.extend_from_slice(body_sha256);
    m
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The device's own operations, in its log order.
    pub ops: Vec<Operation>,
    /// The clear portal access codes of the `draw_up_minutes` among `ops`
    /// (which carry only their hashes), so that the server can refuse a weak
    /// code or one already granted. Beside the operations, never in them:
    /// the server checks them and keeps nothing of them but the hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_codes: Vec<AccessCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// The operation breaks a rule (wrong type, unknown item, schema).
    Invalid,
    /// The author may not change this inspection.
    Forbidden,
    /// Not allowed in the inspection's state (sealed, out of order).
    Lifecycle,
    /// Something it refers to is unknown to the server.
    NotFound,
    /// Minutes that say something else than the server's record of the
    /// inspection (establishment, findings, violations, delegation, photos).
    ContradictsRecord,
    /// Minutes whose portal access code is missing, too easy to guess, or
    /// already granted for another inspection.
    AccessCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// Appended to the server's log at this position.
    Accepted { server_seq: u64 },
    /// Already in the server's log (a retried push): nothing changed.
    Duplicate { server_seq: u64 },
    /// Not accepted; the device keeps the operation and shows the reason.
    Refused { kind: RefusalKind, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    pub op: OpId,
    pub outcome: PushOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per pushed operation, in the same order.
    pub results: Vec<PushResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub server_seq: u64,
    pub op: Operation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Operations relevant to the device with `server_seq > since`, in log order.
    pub entries: Vec<LogEntry>,
    /// The cursor for the next pull.
    pub next: u64,
    /// More entries wait past this page.
    pub more: bool,
    /// The server_seq of the log's last entry, relevant to the device or
    /// not: a `since` beyond it means the device saw a longer log than the
    /// server has. Read as 0 from a server that does not send it.
    #[serde(default)]
    pub head: u64,
}

/// The answer of `GET /api/v1/blobs/{sha256}/status` and of a chunk `PUT`.
/// A chunk at the wrong offset is answered `409 offset_mismatch` with a JSON
/// body whose `received` field is this same number: the client resumes there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadStatus {
    /// Bytes the server holds of this blob; equal to `total` when complete.
    pub received: u64,
    pub complete: bool,
}
