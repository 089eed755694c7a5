//! The server's HTML pages share one small layout: Vietnamese first, a
//! viewport for phones, print styles that drop navigation and forms, and no
//! external resources at all (the pages must work on a network without
//! internet: no CDN, no web fonts, no scripts).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    kiemtra_core::minutes::escape(s)
}

const CSS: &str = r#"
:root { --ink: #1b1b1b; --muted: #5a5a5a; --line: #d0d0d0; --accent: #0b5394; --bad: #b42318; --ok: #1e7b34; --warn: #9a6700; }
* { box-sizing: border-box; }
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color: var(--ink); margin: 0; line-height: 1.45; font-size: 16px; }
header.top { background: var(--accent); color: #fff; padding: 10px 16px; }
header.top a { color: #fff; }
header.top .brand { font-weight: bold; }
main { max-width: 1100px; margin: 0 auto; padding: 12px 16px 40px; }
h1 { font-size: 1.45rem; margin: 0.6em 0 0.3em; }
h2 { font-size: 1.2rem; margin: 1.2em 0 0.4em; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.en { color: var(--muted); font-size: 0.85em; font-weight: normal; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.85em; border: 1px solid currentColor; }
.bad { color: var(--bad); } .ok { color: var(--ok); } .warn { color: var(--warn); } .muted { color: var(--muted); }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
form.stack label { display: block; margin: 10px 0 4px; font-weight: bold; }
form.stack input[type=text], form.stack input[type=password], form.stack input[type=number], form.stack input[type=datetime-local], form.stack textarea, form.stack select { width: 100%; padding: 8px; font-size: 1rem; border: 1px solid #999; border-radius: 4px; }
button, .button { background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: 9px 16px; font-size: 1rem; cursor: pointer; text-decoration: none; display: inline-block; margin-top: 10px; }
.thumbs { display: flex; flex-wrap: wrap; gap: 8px; }
.thumbs img { width: 120px; height: 120px; object-fit: cover; border: 1px solid var(--line); }
.notice { background: #fff8e1; border-left: 4px solid var(--warn); padding: 8px 12px; }
.error { background: #fdecea; border-left: 4px solid var(--bad); padding: 8px 12px; }
.success { background: #e8f5e9; border-left: 4px solid var(--ok); padding: 8px 12px; }
nav.links a { margin-right: 14px; }
code { overflow-wrap: anywhere; }
.badge { white-space: nowrap; }
td.action { white-space: nowrap; }
svg { max-width: 100%; height: auto; }
@media (max-width: 640px) {
  th, td { padding: 4px 5px; font-size: 0.9rem; }
  /* The violations as cards on a phone: one block per violation, every field readable. */
  table.cards tr:first-child { display: none; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
  table.cards tr { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 10px; padding: 4px 0; }
  table.cards td { border: 0; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; font-weight: bold; }
}
@media print { header.top, nav, form, button, .button, .noprint { display: none !important; } body { font-size: 11pt; } main { max-width: none; padding: 0; } a { color: inherit; text-decoration: none; } }
"#;

/// A whole page: `title` in the tab and the top bar, `nav` links, `body` as given (already escaped).
pub fn page(title: &str, nav: &[(&str, &str)], body: &str) -> String {
    let mut links = String::new();
    for (href, label) in nav {
        links.push_str(&format!(" · <a href=\"{}\">{}</a>", escape(href), escape(label)));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t} – Kiemtra</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header class=\"top\"><span class=\"brand\">Kiemtra – ATVSLĐ Hải Phòng</span>{links}</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        t = escape(title)
    )
}

/// An HTML response that no shared cache keeps (pages show one establishment's data).
pub fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `303 See Other` to `to`: after a form, the browser loads the next page with GET.
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    r
}

/// `r` with a `Set-Cookie` header.
pub fn with_cookie(mut r: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    r
}

/// A date as Vietnamese readers write it.
pub fn date_vi(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A time in Vietnam, as Vietnamese readers write it.
pub fn datetime_vi(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&kiemtra_core::inspection::vietnam_offset())
        .format("%H:%M %d/%m/%Y")
        .to_string()
}
