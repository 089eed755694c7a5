//! The security headers every response carries: the portal, the overview,
//! the photos and the API alike, so that no page can be framed, no upload
//! can be sniffed into a script and no address leaks to another site.
//!
//! The pages have no scripts at all (see `html.rs`), so the policy forbids
//! them outright. Their styles are inline (`<style>` blocks and a few
//! `style` attributes, in the layout and the printed minutes), which is why
//! `style-src` allows inline styles and nothing else.

use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

/// `default-src 'none'` first: whatever a later line does not allow is
/// refused, scripts included. `connect-src 'self'` only matters to scripts
/// the page's own user runs (a browser extension, the browser tests' link
/// checker): the pages have none that could use it.
pub const CONTENT_SECURITY: &str =
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; connect-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers, in the order they are set.
pub const HEADERS: [(HeaderName, &str); 4] = [
    (CONTENT_SECURITY_POLICY, CONTENT_SECURITY),
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // For browsers older than `frame-ancestors`.
    (X_FRAME_OPTIONS, "DENY"),
    // Portal addresses name no secret, but where a visitor came from is
    // nobody else's business.
    (REFERRER_POLICY, "no-referrer"),
];

/// Adds every header the handler did not set itself.
pub async fn add(mut res: Response) -> Response {
    let headers = res.headers_mut();
    for (name, value) in HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}
