//! Who is looking at the portal: sessions opened with an access code, and
//! the limit on guessing codes.
//!
//! A session is a random token in an HttpOnly cookie; the server's storage
//! keeps the token's SHA-256 with what the code opened (one inspection of
//! one establishment) and when it ends, so a restart signs nobody out and a
//! copy of the data folder holds no usable cookie. Sessions are opened and
//! closed through the writer (`Writer::open_portal_session`).
//!
//! Guessing is limited per client address: after `max_failures` wrong codes
//! in a window, every attempt from that address — right or wrong — gets the
//! same "try later" answer until the window ends, so the limit itself never
//! tells whether a code exists. The counts are in the shared short-lived
//! store (`Expiring`), so guesses spread over several server instances add
//! up, and the store's clock ends the window.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::db::{PortalGrant, Read};
use crate::error::ServerError;
use crate::storage::{Expiring, Kind};

/// The cookie that carries a portal session.
pub const COOKIE: &str = "kiemtra_portal";
/// How long a session lasts after the code was entered.
pub const SESSION_TTL: Duration = Duration::from_secs(2 * 3600);

#[derive(Debug, Clone, Copy)]
pub struct PortalLimits {
    /// Wrong codes allowed per client address per window.
    pub max_failures: u32,
    pub window: Duration,
}

impl Default for PortalLimits {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// The outcome of asking whether an address may try a code now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Locked; try again after this long.
    Locked(Duration),
}

/// A guessing limit per client address, counted in `kind` of the shared
/// store (the portal's codes and the staff sign-ins each have theirs). If
/// the store fails, so does the attempt, with a storage error: neither
/// "wrong" nor "locked", and never an uncounted try.
pub struct Portal {
    limits: PortalLimits,
    store: Arc<dyn Expiring>,
    kind: Kind,
}

impl Portal {
    pub fn new(limits: PortalLimits, store: Arc<dyn Expiring>, kind: Kind) -> Self {
        Self { limits, store, kind }
    }

    /// The same limit on the same counts, with other limits.
    pub fn with_limits(&self, limits: PortalLimits) -> Self {
        Self::new(limits, self.store.clone(), self.kind)
    }

    fn key(ip: IpAddr) -> Vec<u8> {
        ip.to_string().into_bytes()
    }

    /// Whether `ip` may try a code now.
    pub fn gate(&self, ip: IpAddr) -> Result<Gate, ServerError> {
        Ok(match self.store.counted(self.kind, &Self::key(ip))? {
            Some(w) if w.count >= u64::from(self.limits.max_failures) => Gate::Locked(w.ends_in),
            _ => Gate::Open,
        })
    }

    /// Counts a wrong code from `ip` (the window begins at its first).
    pub fn failed(&self, ip: IpAddr) -> Result<(), ServerError> {
        self.store.count(self.kind, &Self::key(ip), self.limits.window)?;
        Ok(())
    }
}

/// The grant of the session whose cookie is in `headers`, if it is live.
pub fn session_grant(db: &impl Read, headers: &HeaderMap) -> Result<Option<PortalGrant>, ServerError> {
    let Some(token) = cookie(headers, COOKIE) else {
        return Ok(None);
    };
    let now = chrono::Utc::now().timestamp();
    Ok(db
        .portal_session(&token_key(&token))?
        .filter(|s| s.expires_at > now)
        .map(|s| s.grant))
}

/// Sessions (the portal's and the overview's) are looked up by the token's
/// hash: a memory dump of the map does not hold usable cookies.
pub(crate) fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure when served over TLS.
pub fn set_cookie(name: &str, value: &str, path: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiemtra_core::ids::{FacilityId, InspectionId};

    #[test]
    fn locks_after_too_many_failures_whatever_is_tried_next() {
        let store: Arc<dyn Expiring> = Arc::new(crate::storage::MemoryExpiring::new());
        let limits = PortalLimits {
            max_failures: 3,
            window: Duration::from_secs(60),
        };
        let p = Portal::new(limits, store.clone(), Kind::PortalGuesses);
        let staff = Portal::new(limits, store, Kind::StaffGuesses);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(p.gate(ip).unwrap(), Gate::Open);
            p.failed(ip).unwrap();
        }
        assert!(matches!(p.gate(ip).unwrap(), Gate::Locked(w) if w <= limits.window));
        assert_eq!(p.gate(other).unwrap(), Gate::Open);
        // Each limit counts its own failures.
        assert_eq!(staff.gate(ip).unwrap(), Gate::Open);
    }

    #[test]
    fn sessions_carry_their_grant_only_and_end_when_closed_or_expired() {
        use crate::storage::{MemoryStorage, Storage};
        use std::sync::Arc;
        let store: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let key = Arc::new(crate::server_key::ServerKey::generate().unwrap());
        let mut w = crate::writer::Writer::new(store.clone(), key).unwrap();
        let db = crate::db::ServerDb::on(store).unwrap();
        let grant = PortalGrant {
            inspection: InspectionId::new(),
            facility: FacilityId::new(),
        };
        let token = w.open_portal_session(grant, SESSION_TTL).unwrap();
        let expired = w.open_portal_session(grant, Duration::ZERO).unwrap();
        w.commit().unwrap();
        let with = |t: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                axum::http::header::COOKIE,
                format!("a=b; {COOKIE}={t}").parse().unwrap(),
            );
            h
        };
        assert_eq!(session_grant(&db, &with(&token)).unwrap(), Some(grant));
        assert_eq!(session_grant(&db, &with(&expired)).unwrap(), None);
        assert_eq!(session_grant(&db, &with("00")).unwrap(), None);
        // Only the token's hash is stored.
        let stored = db.raw_all(crate::storage::Table::PortalSessions).unwrap();
        assert!(stored.iter().all(|(k, _)| k.as_slice() != token.as_bytes()));
        assert_eq!(w.purge_sessions(chrono::Utc::now().timestamp()).unwrap(), 1);
        w.close_portal_session(&token);
        w.commit().unwrap();
        assert_eq!(session_grant(&db, &with(&token)).unwrap(), None);
        assert!(db
            .raw_all(crate::storage::Table::PortalSessions)
            .unwrap()
            .is_empty());
    }
}
