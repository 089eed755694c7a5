//! Who may open the server's staff pages and calls, and for what.
//!
//! Two ways in: a staff account (name and password on `/admin/login`, with
//! its role), or an API token (`admin create-api-token`), bound to an account
//! and acting with its role (an unbound console-made token opens every area). Either gives a session cookie
//! kept in the server's storage (a restart signs nobody out); a script may
//! instead send the token as `Authorization: Bearer …` with each request.
//!
//! An account's session is checked against the account on every request,
//! so a disabled account or a changed role takes effect at once. So is the
//! agency's second-factor rule: while it covers an account's role and the
//! account has no second factor, its session opens its own account page
//! only ([`signed_in`] says [`Signed::MustEnrol`]; [`official`] refuses).

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

/// The `code` of the refusal of a session that must set up a second factor first.
pub const SECOND_FACTOR_REQUIRED: &str = "second_factor_required";

/// Who a request's session or token is, and whether it may open anything yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// Signed in; the role decides the rest.
    In(Official),
    /// An account that the agency's rule requires a second factor of and
    /// that has none: it may open its own account page, to set one up, and
    /// nothing else.
    MustEnrol(Official),
}

/// The official making the request, by session cookie or by bearer token;
/// `None` when neither opens anything. An account that must first set up
/// a second factor is refused here (403 `second_factor_required`), so that
/// every page and call that asks for an official refuses it; only its
/// account page asks [`signed_in`] instead.
pub fn official(db: &impl Read, headers: &HeaderMap) -> Result<Option<Official>, ServerError> {
    match signed_in(db, headers)? {
        Some(Signed::In(who)) => Ok(Some(who)),
        Some(Signed::MustEnrol(_)) => Err(ServerError::forbidden(
            SECOND_FACTOR_REQUIRED,
            "this account must set up a second factor first (/admin/account)",
        )),
        None => Ok(None),
    }
}

/// The official making the request, as [`official`], with those who must
/// set up a second factor first told apart instead of refused.
pub fn signed_in(db: &impl Read, headers: &HeaderMap) -> Result<Option<Signed>, ServerError> {
    if let Some(token) = cookie(headers, COOKIE) {
        let now = chrono::Utc::now().timestamp();
        if let Some(s) = db
            .admin_session(&token_key(&token))?
            .filter(|s| s.expires_at > now)
        {
            let Some(signed_in) = s.account else {
                return Ok(Some(Signed::In(Official {
                    name: s.name,
                    role: None,
                    login: None,
                })));
            };
            let Some(a) = db.account(&signed_in.login)?.filter(|a| !a.disabled) else {
                return Ok(None);
            };
            // Read on every request, so that turning the rule on takes
            // effect for sessions already open, not only at the next sign-in.
            let must_enrol = !a.second_factor.is_on() && db.second_factor_policy()?.covers(a.role);
            let who = Official {
                name: a.display_name,
                role: Some(a.role),
                login: Some(a.login),
            };
            return Ok(Some(if must_enrol {
                Signed::MustEnrol(who)
            } else {
                Signed::In(who)
            }));
        }
    }
    // A token bound to an account acts with that account's role; the
    // second-factor rule is about how a person signs in to the pages, and
    // a token is made by an official already signed in (or on the console).
    Ok(bearer_official(db, headers)?.map(Signed::In))
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
