//! Who may open the overview: officials holding an admin token (issued by
//! `kiemtra-server admin create-admin-token`). A browser signs in once with
//! the token and gets a session cookie; a script sends the token as
//! `Authorization: Bearer …` with each request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use crate::db::ServerDb;
use crate::error::ServerError;
use crate::portal::session::{cookie, token_key};
use crate::writer::token_hash;

pub const COOKIE: &str = "kiemtra_admin";
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

#[derive(Default)]
pub struct AdminSessions {
    sessions: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

impl AdminSessions {
    /// Opens a session for the official `name`; returns the cookie value.
    pub fn open(&self, name: String) -> Result<String, ServerError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| ServerError::Storage(format!("random source: {e}")))?;
        let token = hex::encode(raw);
        let now = Instant::now();
        let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        s.retain(|_, (_, exp)| *exp > now);
        s.insert(token_key(&token), (name, now + SESSION_TTL));
        Ok(token)
    }

    /// Ends the session of the request's cookie, so that a copy of the
    /// cookie kept anywhere opens nothing after signing out.
    pub fn close(&self, headers: &HeaderMap) {
        if let Some(token) = cookie(headers, COOKIE) {
            self.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&token_key(&token));
        }
    }

    fn by_cookie(&self, headers: &HeaderMap) -> Option<String> {
        let token = cookie(headers, COOKIE)?;
        let s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        s.get(&token_key(&token))
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(name, _)| name.clone())
    }

    /// The official making the request: by session cookie, or by bearer token.
    pub fn official(&self, db: &ServerDb, headers: &HeaderMap) -> Result<Option<String>, ServerError> {
        if let Some(name) = self.by_cookie(headers) {
            return Ok(Some(name));
        }
        let bearer = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match bearer {
            Some(token) => Ok(db.admin_token(&token_hash(token))?.map(|t| t.name)),
            None => Ok(None),
        }
    }
}
