//! Device authentication: single-use challenges, short sessions, and signed
//! requests (see `kiemtra_core::sync::wire`). Challenges, sessions and the
//! nonces each session has used live in the short-lived store every server
//! instance shares (`Expiring`): a device may take a challenge from one
//! instance, open its session at another and sign requests to any, and a
//! request replayed to another instance is refused there too. Losing them
//! (a restart on sled, a crash of PostgreSQL) loses them all together, so
//! devices sign in again and nothing can be replayed.
//!
//! Only the store's clock is used (expiry of challenges and sessions); a
//! device's clock is never compared with anything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::header::AUTHORIZATION;
use kiemtra_core::identity::verify_strict;
use kiemtra_core::ids::{DeviceId, InspectorId};
use kiemtra_core::sync::wire::{request_message, HEADER_NONCE, HEADER_SIGNATURE, SIGN_SESSION};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::db::{DeviceRecord, Read};
use crate::error::ServerError;
use crate::portal::session::token_key;
use crate::storage::{Expiring, Kind};
use crate::writer::Principal;

pub const CHALLENGE_SECS: u64 = 120;
pub const SESSION_SECS: u64 = 30 * 60;
/// Bounds of a request nonce, in hex digits.
pub const NONCE_MIN_HEX: usize = 16;
pub const NONCE_MAX_HEX: usize = 128;
/// Requests one session may make: past this it must authenticate again
/// (each request's nonce is kept as long as the session may live).
const MAX_REQUESTS_PER_SESSION: u64 = 1_000_000;
/// How long a "last seen" time is kept after the device's last request.
const SEEN_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// An instance records a device's "last seen" at most this often.
const SEEN_EVERY: Duration = Duration::from_secs(60);

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn session_expired() -> ServerError {
    ServerError::unauthorized(
        "session_expired",
        "unknown or expired session; authenticate again",
    )
}

/// Device authentication over the shared short-lived store.
pub struct Auth {
    store: Arc<dyn Expiring>,
    /// When each device last made an authenticated request.
    pub seen: LastSeen,
}

/// When each device last made an authenticated request, for the device
/// list. Kept in the short-lived store, not in the records: writing a
/// commit on every pull would turn reads into commits, and "last seen" is a
/// hint for an administrator, not a record. Each instance writes a device's
/// time at most once a minute, so the hint may be a minute old; a failure
/// to read or write it shows "not seen", it fails no request.
pub struct LastSeen {
    store: Arc<dyn Expiring>,
    /// When this instance last wrote each device's time.
    written: Mutex<HashMap<DeviceId, Instant>>,
}

/// Nothing seen (the admin command on a stopped server's folder).
impl Default for LastSeen {
    fn default() -> Self {
        Self::new(Arc::new(crate::storage::MemoryExpiring::new()))
    }
}

impl LastSeen {
    pub fn new(store: Arc<dyn Expiring>) -> Self {
        Self {
            store,
            written: Mutex::new(HashMap::new()),
        }
    }

    pub fn saw(&self, device: DeviceId) {
        let now = Instant::now();
        {
            let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
            if written
                .get(&device)
                .is_some_and(|t| now.duration_since(*t) < SEEN_EVERY)
            {
                return;
            }
            // One entry per device; forgetting them all costs one write each.
            if written.len() >= 100_000 {
                written.clear();
            }
            written.insert(device, now);
        }
        let at = chrono::Utc::now().timestamp().to_be_bytes();
        if let Err(e) = self.store.put(Kind::LastSeen, device.as_bytes(), &at, SEEN_TTL) {
            tracing::debug!(error = %e, "a device's last-seen time was not recorded");
        }
    }

    /// Unix seconds, or `None` when not seen lately.
    pub fn get(&self, device: DeviceId) -> Option<i64> {
        let value = self.store.get(Kind::LastSeen, device.as_bytes()).ok()??;
        <[u8; 8]>::try_from(value.as_slice()).ok().map(i64::from_be_bytes)
    }
}

fn random<const N: usize>() -> Result<[u8; N], ServerError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
    Ok(b)
}

/// The device record of an enrolled, unrevoked device.
pub fn active_device(state: &AppState, device: DeviceId) -> Result<DeviceRecord, ServerError> {
    let d = state
        .db
        .device(device)?
        .ok_or_else(|| ServerError::unauthorized("not_enrolled", "this device is not enrolled"))?;
    if d.revoked {
        return Err(ServerError::forbidden("revoked", "this device was revoked"));
    }
    Ok(d)
}

impl Auth {
    pub fn new(store: Arc<dyn Expiring>) -> Self {
        Self {
            seen: LastSeen::new(store.clone()),
            store,
        }
    }

    /// A fresh single-use challenge for `device`.
    pub fn challenge(&self, device: DeviceId) -> Result<[u8; 32], ServerError> {
        let challenge = random::<32>()?;
        self.store.put(
            Kind::Challenge,
            &challenge,
            device.as_bytes(),
            secs(CHALLENGE_SECS),
        )?;
        Ok(challenge)
    }

    /// Checks a signed challenge and opens a session; returns its token.
    pub fn open_session(
        &self,
        record: &DeviceRecord,
        challenge: &[u8],
        signature: &[u8],
    ) -> Result<String, ServerError> {
        let bad = || ServerError::unauthorized("bad_challenge", "unknown, used or expired challenge");
        if challenge.len() != 32 {
            return Err(bad());
        }
        // Taken out whatever happens next, on whichever instance: a
        // challenge is good for one try.
        let device = self.store.take(Kind::Challenge, challenge)?.ok_or_else(bad)?;
        if device.as_slice() != record.device.as_bytes() {
            return Err(bad());
        }
        let mut message = Vec::with_capacity(SIGN_SESSION.len() + 48);
        message.extend_from_slice(SIGN_SESSION);
        message.extend_from_slice(challenge);
        message.extend_from_slice(record.device.as_bytes());
        verify(record, &message, signature)?;
        let token = hex::encode(random::<32>()?);
        let mut who = Vec::with_capacity(32);
        who.extend_from_slice(record.device.as_bytes());
        who.extend_from_slice(record.inspector.as_bytes());
        // By the token's hash, as the portal's sessions: the store holds no usable token.
        self.store
            .put(Kind::DeviceSession, &token_key(&token), &who, secs(SESSION_SECS))?;
        Ok(token)
    }

    fn session(&self, token: &str) -> Result<(DeviceId, InspectorId), ServerError> {
        let who = self
            .store
            .get(Kind::DeviceSession, &token_key(token))?
            .ok_or_else(session_expired)?;
        let wrong = || ServerError::Storage("a device session of the wrong length".into());
        let (d, i) = who.split_at_checked(16).ok_or_else(wrong)?;
        let device = DeviceId::from_bytes(d.try_into().map_err(|_| wrong())?);
        let inspector = InspectorId::from_bytes(i.try_into().map_err(|_| wrong())?);
        self.seen.saw(device);
        Ok((device, inspector))
    }

    /// Records a nonce; false if the session saw it before (a replay), on
    /// any instance.
    fn use_nonce(&self, token: &str, nonce: &str) -> Result<bool, ServerError> {
        let session = token_key(token);
        let made = self
            .store
            .count(Kind::SessionRequests, &session, secs(SESSION_SECS))?;
        if made.count > MAX_REQUESTS_PER_SESSION {
            return Err(ServerError::unauthorized(
                "session_expired",
                "the session has made too many requests; authenticate again",
            ));
        }
        let mut key = Vec::with_capacity(32 + nonce.len());
        key.extend_from_slice(&session);
        key.extend_from_slice(nonce.as_bytes());
        // Kept as long as the session could still be used (it expires at
        // most SESSION_SECS after it opened, so before the nonce does).
        Ok(self
            .store
            .insert_new(Kind::Nonce, &key, b"", secs(SESSION_SECS))?)
    }
}

fn verify(record: &DeviceRecord, message: &[u8], signature: &[u8]) -> Result<(), ServerError> {
    let bad = || ServerError::unauthorized("bad_signature", "the signature does not verify");
    let pk = <[u8; 32]>::try_from(record.public_key.as_slice()).map_err(|_| bad())?;
    let sig = <[u8; 64]>::try_from(signature).map_err(|_| bad())?;
    verify_strict(&pk, message, &sig).map_err(|_| bad())
}

/// A request signed by an authenticated device: who it is, and the body
/// bytes the signature covers.
pub struct Signed {
    pub principal: Principal,
    pub body: Bytes,
}

/// The body limit of a route, set by the router so the extractor can say it in a 413.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

fn header<'a>(req: &'a Request, name: &str) -> Result<&'a str, ServerError> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ServerError::unauthorized("unauthenticated", format!("missing {name} header")))
}

/// The three headers of a signed request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub token: String,
    pub nonce: String,
    pub signature: Vec<u8>,
}

/// Parses `Authorization: Bearer <token>`, the nonce and the hex signature:
/// outside input, checked before any session lookup. Pure, so it is fuzzed
/// on its own.
pub fn parse_signed_headers(
    authorization: &str,
    nonce: &str,
    signature: &str,
) -> Result<SignedHeaders, ServerError> {
    let token = authorization
        .strip_prefix("Bearer ")
        .ok_or_else(|| ServerError::unauthorized("unauthenticated", "expected a Bearer token"))?
        .trim()
        .to_string();
    if !(NONCE_MIN_HEX..=NONCE_MAX_HEX).contains(&nonce.len())
        || !nonce.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(ServerError::unauthorized(
            "bad_nonce",
            "the nonce must be 16 to 128 hex digits",
        ));
    }
    // An ed25519 signature is 64 bytes: a longer header is refused before
    // it is decoded.
    if signature.len() != 128 {
        return Err(ServerError::unauthorized(
            "bad_signature",
            "the signature must be 128 hex digits",
        ));
    }
    let signature = hex::decode(signature)
        .map_err(|_| ServerError::unauthorized("bad_signature", "the signature is not hex"))?;
    Ok(SignedHeaders {
        token,
        nonce: nonce.to_string(),
        signature,
    })
}

impl FromRequest<AppState> for Signed {
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let SignedHeaders {
            token,
            nonce,
            signature,
        } = parse_signed_headers(
            header(&req, AUTHORIZATION.as_str())?,
            header(&req, HEADER_NONCE)?,
            header(&req, HEADER_SIGNATURE)?,
        )?;
        let (device, inspector) = state.auth.session(&token)?;
        // Revocation is checked on every request, so it takes effect at
        // once on every instance; before the body is read, so a revoked
        // device uploads nothing more.
        let record = active_device(state, device)?;
        let method = req.method().as_str().to_string();
        let path_and_query = req
            .extensions()
            .get::<OriginalUri>()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| req.uri().clone());
        let path_and_query = path_and_query
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let limit = req.extensions().get::<BodyLimit>().map_or(usize::MAX, |l| l.0);
        let body = read_body(req, limit).await?;
        let digest: [u8; 32] = Sha256::digest(&body).into();
        let message = request_message(&token, &nonce, &method, &path_and_query, &digest);
        verify(&record, &message, &signature)?;
        // Only a verified request spends its nonce, so forgeries cannot block real ones.
        if !state.auth.use_nonce(&token, &nonce)? {
            return Err(ServerError::unauthorized("replayed", "replayed request"));
        }
        Ok(Signed {
            principal: Principal { device, inspector },
            body,
        })
    }
}

/// Reads a body up to `limit` bytes: longer is a 413, a broken stream a 400.
pub async fn read_body(req: Request, limit: usize) -> Result<Bytes, ServerError> {
    axum::body::to_bytes(req.into_body(), limit).await.map_err(|e| {
        // tower-http's and axum's limits both surface as a length-limit error in the chain.
        let too_long = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
            .any(|e| e.to_string().contains("length limit"));
        if too_long {
            ServerError::TooLarge { limit: limit as u64 }
        } else {
            ServerError::Invalid(format!("the request body could not be read: {e}"))
        }
    })
}
