//! The server's HTML pages share one small layout: Vietnamese first, a
//! viewport for phones, print styles that drop navigation and forms, and no
//! external resources at all (the pages must work on a network without
//! internet: no CDN, no web fonts, no scripts).
//!
//! Every page is an askama template of its own (`templates/portal/`,
//! `templates/overview/`) extending `templates/layout.html`: askama escapes
//! every value it writes, so no page escapes by hand. The only `|safe` is
//! the SVG of `crate::charts`, which escapes its own text.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// What every page shows around its content: the tab title and the links
/// of the top bar. Every page template holds one as `chrome` and extends
/// `templates/layout.html`, which reads it.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    pub nav: Vec<Link>,
}

/// One link of the top bar.
#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub label: String,
}

impl Chrome {
    pub fn new(title: &str, nav: &[(&str, &str)]) -> Self {
        Self {
            title: title.to_string(),
            nav: nav
                .iter()
                .map(|(href, label)| Link {
                    href: href.to_string(),
                    label: label.to_string(),
                })
                .collect(),
        }
    }
}

/// A message shown above a page's content (`templates/partials/notice.html`):
/// its CSS class (`error`, `notice` or `success`) and its text.
#[derive(Debug, Clone)]
pub struct Notice {
    pub class: &'static str,
    pub text: String,
}

impl Notice {
    /// Something went wrong or was refused.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            class: "error",
            text: text.into(),
        }
    }

    /// What was asked was done.
    pub fn success(text: impl Into<String>) -> Self {
        Self {
            class: "success",
            text: text.into(),
        }
    }

    /// A note to read (class `notice`).
    pub fn info(text: impl Into<String>) -> Self {
        Self {
            class: "notice",
            text: text.into(),
        }
    }
}

/// Links to the newer and older pages of a long list
/// (`templates/partials/pager.html`), when there are such pages.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    pub newer: Option<String>,
    pub older: Option<String>,
}

/// Renders a page template. Rendering fails only when a value's `Display`
/// fails, which none of ours do; the error page then still says so.
pub fn render(t: &impl askama::Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page template failed to render");
        "<!DOCTYPE html><p>Lỗi hiển thị trang / the page could not be shown</p>".to_string()
    })
}

/// A template rendered as an HTML response (see [`html`]).
pub fn respond(status: StatusCode, t: &impl askama::Template) -> Response {
    html(status, render(t))
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
