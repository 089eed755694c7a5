//! Device authentication: single-use challenges, short sessions, and signed
//! requests (see `kiemtra_core::sync::wire`). Challenges and sessions live in
//! memory: a restarted server forgets them and devices sign in again.
//!
//! Only the server's own monotonic clock is used (expiry of challenges and
//! sessions); a device's clock is never compared with anything.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
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
use crate::writer::Principal;

pub const CHALLENGE_SECS: u64 = 120;
pub const SESSION_SECS: u64 = 30 * 60;
/// Bounds of a request nonce, in hex digits.
pub const NONCE_MIN_HEX: usize = 16;
pub const NONCE_MAX_HEX: usize = 128;
/// Bounds on memory: past these, the oldest entries are dropped (expired first).
const MAX_CHALLENGES: usize = 100_000;
const MAX_NONCES_PER_SESSION: usize = 1_000_000;

struct PendingChallenge {
    device: DeviceId,
    expires: Instant,
}

struct SessionState {
    device: DeviceId,
    inspector: InspectorId,
    expires: Instant,
    nonces: HashSet<String>,
    /// The device was revoked during the session: kept until it expires so
    /// that every later request says `revoked`, not `session_expired`.
    revoked: bool,
}

#[derive(Default)]
pub struct Auth {
    challenges: Mutex<HashMap<[u8; 32], PendingChallenge>>,
    sessions: Mutex<HashMap<String, SessionState>>,
    /// When each device last made an authenticated request.
    pub seen: LastSeen,
}

/// When each device last made an authenticated request, for the device
/// list. Kept in memory, not in the store: writing on every pull would turn
/// reads into commits, and "last seen" is a hint for an administrator, not
/// a record.
#[derive(Default)]
pub struct LastSeen(Mutex<HashMap<DeviceId, i64>>);

impl LastSeen {
    pub fn saw(&self, device: DeviceId) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(device, chrono::Utc::now().timestamp());
        }
    }

    /// Unix seconds, or `None` when not seen since the server started.
    pub fn get(&self, device: DeviceId) -> Option<i64> {
        self.0.lock().ok().and_then(|m| m.get(&device).copied())
    }
}

fn poisoned<T>(_: T) -> ServerError {
    ServerError::Storage("an authentication lock was poisoned".into())
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
    /// A fresh single-use challenge for `device`.
    pub fn challenge(&self, device: DeviceId) -> Result<[u8; 32], ServerError> {
        let challenge = random::<32>()?;
        let mut map = self.challenges.lock().map_err(poisoned)?;
        let now = Instant::now();
        if map.len() >= MAX_CHALLENGES {
            map.retain(|_, c| c.expires > now);
        }
        if map.len() >= MAX_CHALLENGES {
            return Err(ServerError::Unavailable);
        }
        map.insert(
            challenge,
            PendingChallenge {
                device,
                expires: now + Duration::from_secs(CHALLENGE_SECS),
            },
        );
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
        let key = <[u8; 32]>::try_from(challenge).map_err(|_| bad())?;
        // Taken out whatever happens next: a challenge is good for one try.
        let pending = self
            .challenges
            .lock()
            .map_err(poisoned)?
            .remove(&key)
            .ok_or_else(bad)?;
        if pending.device != record.device || pending.expires <= Instant::now() {
            return Err(bad());
        }
        let mut message = Vec::with_capacity(SIGN_SESSION.len() + 48);
        message.extend_from_slice(SIGN_SESSION);
        message.extend_from_slice(challenge);
        message.extend_from_slice(record.device.as_bytes());
        verify(record, &message, signature)?;
        let token = hex::encode(random::<32>()?);
        let mut sessions = self.sessions.lock().map_err(poisoned)?;
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            token.clone(),
            SessionState {
                device: record.device,
                inspector: record.inspector,
                expires: now + Duration::from_secs(SESSION_SECS),
                nonces: HashSet::new(),
                revoked: false,
            },
        );
        Ok(token)
    }

    fn session(&self, token: &str) -> Result<(DeviceId, InspectorId), ServerError> {
        let sessions = self.sessions.lock().map_err(poisoned)?;
        match sessions.get(token) {
            Some(s) if s.expires > Instant::now() && s.revoked => {
                Err(ServerError::forbidden("revoked", "this device was revoked"))
            }
            Some(s) if s.expires > Instant::now() => {
                self.seen.saw(s.device);
                Ok((s.device, s.inspector))
            }
            _ => Err(ServerError::unauthorized(
                "session_expired",
                "unknown or expired session; authenticate again",
            )),
        }
    }

    /// Records a nonce; false if the session saw it before (a replay).
    fn use_nonce(&self, token: &str, nonce: &str) -> Result<bool, ServerError> {
        let mut sessions = self.sessions.lock().map_err(poisoned)?;
        let s = sessions.get_mut(token).ok_or_else(|| {
            ServerError::unauthorized(
                "session_expired",
                "unknown or expired session; authenticate again",
            )
        })?;
        if s.nonces.len() >= MAX_NONCES_PER_SESSION {
            return Err(ServerError::unauthorized(
                "session_expired",
                "the session has made too many requests; authenticate again",
            ));
        }
        Ok(s.nonces.insert(nonce.to_string()))
    }

    /// Marks every session of a device revoked (after its revocation): they
    /// authenticate nothing more, and say why until they expire.
    pub fn revoke_device(&self, device: DeviceId) -> Result<(), ServerError> {
        for s in self.sessions.lock().map_err(poisoned)?.values_mut() {
            if s.device == device {
                s.revoked = true;
                s.nonces = HashSet::new();
            }
        }
        Ok(())
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
        // Revocation is checked on every request, so it takes effect at once.
        let record = match active_device(state, device) {
            Ok(r) => r,
            Err(e) => {
                state.auth.revoke_device(device)?;
                return Err(e);
            }
        };
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
