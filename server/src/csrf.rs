//! Cross-site request forgery: every form of the staff pages and of the
//! establishments' portal carries a token that a page of another site
//! cannot know, besides the cookies' `SameSite=Strict` (which older
//! browsers and some proxies do not honour).
//!
//! Double-submit: the browser holds the token in a cookie of its own
//! (HttpOnly, SameSite=Strict, 256 random bits), every form repeats it in
//! a hidden field, and a POST is taken only when the two agree. It needs no
//! server state, so it covers the sign-in forms (before any session) and
//! survives restarts like the sessions do. A multipart form (the portal's
//! remediation report) sends it as one more field of its body.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::error::ServerError;
use crate::html::{respond, with_cookie};
use crate::portal::session::{cookie, set_cookie};

pub const COOKIE: &str = "kiemtra_csrf";
/// The hidden field's name.
pub const FIELD: &str = "csrf";
/// A day: a form left open overnight asks to be reloaded.
const MAX_AGE_SECS: u64 = 24 * 3600;

fn well_formed(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// This browser's form token: the one its cookie holds, or a new one with
/// the `Set-Cookie` that gives it (send it with the page).
pub fn token(headers: &HeaderMap, secure: bool) -> Result<(String, Option<String>), ServerError> {
    if let Some(t) = cookie(headers, COOKIE).filter(|t| well_formed(t)) {
        return Ok((t, None));
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
    let t = hex::encode(raw);
    let set = set_cookie(COOKIE, &t, "/", secure, Some(MAX_AGE_SECS));
    Ok((t, Some(set)))
}

/// A page with forms, rendered by `render` with this browser's token (the
/// templates repeat it in `templates/partials/csrf.html`, the hidden field
/// [`FIELD`]), with the token's cookie when it is new.
pub fn form_page<T: askama::Template>(
    headers: &HeaderMap,
    secure: bool,
    status: StatusCode,
    render: impl FnOnce(&str) -> T,
) -> Result<Response, ServerError> {
    let (token, set) = token(headers, secure)?;
    Ok(with_token(respond(status, &render(&token)), set))
}

/// Whether a POST's field agrees with its cookie (compared in constant time).
pub fn check(headers: &HeaderMap, submitted: &str) -> bool {
    let Some(expected) = cookie(headers, COOKIE).filter(|t| well_formed(t)) else {
        return false;
    };
    if submitted.len() != expected.len() {
        return false;
    }
    let diff = submitted
        .bytes()
        .zip(expected.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    diff == 0
}

/// `page` with the token's cookie, when a new one was made.
pub fn with_token(page: Response, set: Option<String>) -> Response {
    match set {
        Some(c) => with_cookie(page, &c),
        None => page,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn a_new_browser_gets_a_token_and_its_cookie() {
        let (t, set) = token(&HeaderMap::new(), false).unwrap();
        assert!(well_formed(&t));
        let set = set.unwrap();
        assert!(
            set.starts_with(&format!("{COOKIE}={t};")) && set.contains("SameSite=Strict"),
            "{set}"
        );
        // The same browser keeps its token.
        let (again, none) = token(&with(&format!("{COOKIE}={t}")), false).unwrap();
        assert_eq!((again.as_str(), none), (t.as_str(), None));
    }

    #[test]
    fn only_the_cookies_own_token_passes() {
        let (t, _) = token(&HeaderMap::new(), false).unwrap();
        let h = with(&format!("other=1; {COOKIE}={t}"));
        assert!(check(&h, &t));
        assert!(!check(&h, ""));
        assert!(!check(&h, &t[..63]));
        assert!(!check(&h, &"0".repeat(64)));
        // No cookie, or a cookie an attacker could have planted badly formed.
        assert!(!check(&HeaderMap::new(), &t));
        assert!(!check(&with(&format!("{COOKIE}=abc")), "abc"));
    }
}
