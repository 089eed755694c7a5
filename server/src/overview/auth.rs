//! Who may open the server's staff pages and calls, and for what.
//!
//! Two ways in: a staff account (name and password on `/admin/login`, with
//! its role), or an admin token (`admin create-admin-token`), which opens
//! every area as it always has, for scripts. Either gives a session cookie
//! kept in the server's storage (a restart signs nobody out); a script may
//! instead send the token as `Authorization: Bearer …` with each request.
//!
//! An account's session is checked against the account on every request,
//! so a disabled account or a changed role takes effect at once.

use std::time::Duration;

use axum::http::HeaderMap;

use crate::accounts::{Area, Role};
use crate::audit::Actor;
use crate::db::Read;
use crate::error::ServerError;
use crate::portal::session::{cookie, token_key};
use crate::writer::token_hash;

pub const COOKIE: &str = "kiemtra_admin";
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// The official making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Official {
    /// The name shown on pages and written in the logs.
    pub name: String,
    /// The account's role; `None` for an admin token, which has every area.
    pub role: Option<Role>,
    /// The account's login; `None` for an admin token.
    pub login: Option<String>,
}

impl Official {
    pub fn may(&self, area: Area) -> bool {
        self.role.is_none_or(|r| r.may(area))
    }

    /// Who the audit log names for this official's changes.
    pub fn actor(&self) -> Actor {
        match &self.login {
            Some(login) => Actor::account(&self.name, login),
            None => Actor::token(&self.name),
        }
    }
}

/// The token of the request's session cookie, to close the session with.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The official making the request, by session cookie or by bearer token;
/// `None` when neither opens anything.
pub fn official(db: &impl Read, headers: &HeaderMap) -> Result<Option<Official>, ServerError> {
    if let Some(token) = cookie(headers, COOKIE) {
        let now = chrono::Utc::now().timestamp();
        if let Some(s) = db
            .admin_session(&token_key(&token))?
            .filter(|s| s.expires_at > now)
        {
            let Some(signed_in) = s.account else {
                return Ok(Some(Official {
                    name: s.name,
                    role: None,
                    login: None,
                }));
            };
            return Ok(db
                .account(&signed_in.login)?
                .filter(|a| !a.disabled)
                .map(|a| Official {
                    name: a.display_name,
                    role: Some(a.role),
                    login: Some(a.login),
                }));
        }
    }
    match bearer_official(db, headers)? {
        Some(o) => Ok(Some(o)),
        None => Ok(None),
    }
}

/// The official a request's `Authorization: Bearer …` token names, if any.
/// A token bound to an account acts as that account (its role, and nothing
/// once the account is disabled); an unbound token opens every area.
pub fn bearer_official(db: &impl Read, headers: &HeaderMap) -> Result<Option<Official>, ServerError> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = bearer else {
        return Ok(None);
    };
    let Some(t) = db.admin_token(&token_hash(token.trim()))? else {
        return Ok(None);
    };
    let Some(login) = t.account else {
        return Ok(Some(Official {
            name: t.name,
            role: None,
            login: None,
        }));
    };
    Ok(db.account(&login)?.filter(|a| !a.disabled).map(|a| Official {
        name: a.display_name,
        role: Some(a.role),
        login: Some(a.login),
    }))
}
