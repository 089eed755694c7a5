//! Who may open the overview: officials holding an admin token (issued by
//! `kiemtra-server admin create-admin-token`). A browser signs in once with
//! the token and gets a session cookie (opened and closed through the
//! writer: `Writer::open_admin_session`); a script sends the token as
//! `Authorization: Bearer …` with each request.

use std::time::Duration;

use axum::http::HeaderMap;

use crate::db::Read;
use crate::error::ServerError;
use crate::portal::session::{cookie, token_key};
use crate::writer::token_hash;

pub const COOKIE: &str = "kiemtra_admin";
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// The token of the request's session cookie, to close the session with.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The official making the request: by session cookie (kept in the
/// server's storage, so a restart signs nobody out), or by bearer token.
pub fn official(db: &impl Read, headers: &HeaderMap) -> Result<Option<String>, ServerError> {
    if let Some(token) = cookie(headers, COOKIE) {
        let now = chrono::Utc::now().timestamp();
        if let Some(s) = db
            .admin_session(&token_key(&token))?
            .filter(|s| s.expires_at > now)
        {
            return Ok(Some(s.name));
        }
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
