//! The audit log's page (`/admin/audit`, newest first, searchable, 100 a
//! page) and its CSV export (`/admin/audit.csv`, the same search). Both are
//! read only: no route of the server changes or deletes an entry.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::fmt::Write;

use super::{csv_response, export, official};
use crate::accounts::Area;
use crate::app::AppState;
use crate::audit::AuditEntry;
use crate::db::Read;
use crate::error::ServerError;
use crate::html::{datetime_vi, respond, Chrome, Pager};

/// Entries per page.
pub const PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// Text to look for in who, what, the subject and the values.
    #[serde(default)]
    pub q: String,
    /// 1 is the newest page.
    pub page: Option<usize>,
}

/// The entries matching `q`, newest first, for an administrator; or the
/// answer to send instead.
async fn entries_for(state: &AppState, headers: &HeaderMap, q: &str) -> Result<Vec<AuditEntry>, Response> {
    official(state, headers, Area::Administration)?;
    matching(state, q).await.map_err(IntoResponse::into_response)
}

async fn matching(state: &AppState, q: &str) -> Result<Vec<AuditEntry>, ServerError> {
    let db = state.db.clone();
    let needle = q.trim().to_lowercase();
    tokio::task::spawn_blocking(move || {
        let mut entries = db.audit_log()?;
        entries.retain(|a| needle.is_empty() || a.matches(&needle));
        entries.reverse();
        Ok(entries)
    })
    .await
    .map_err(|e| ServerError::Storage(e.to_string()))?
}

pub async fn audit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    match entries_for(&state, &headers, &q.q).await {
        Ok(entries) => respond(StatusCode::OK, &render(&entries, &q)),
        Err(r) => r,
    }
}

pub async fn audit_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    match entries_for(&state, &headers, &q.q).await {
        Ok(entries) => csv_response("nhat-ky.csv", export::audit(&entries)),
        Err(r) => r,
    }
}

fn when(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0).map_or_else(|| at.to_string(), datetime_vi)
}

/// One entry as the page shows it.
pub struct AuditRow {
    pub seq: u64,
    pub at: String,
    /// The actor's name, with their login when they have one.
    pub who: String,
    pub kind: &'static str,
    pub action: String,
    pub subject: String,
    pub before: String,
    pub after: String,
}

/// The audit log page: one page of the matching entries.
#[derive(Template)]
#[template(path = "overview/audit.html")]
pub struct AuditPage<'a> {
    chrome: Chrome,
    q: &'a str,
    csv_href: String,
    count: usize,
    page: usize,
    pages: usize,
    rows: Vec<AuditRow>,
    pager: Pager,
}

fn render<'a>(entries: &[AuditEntry], q: &'a AuditQuery) -> AuditPage<'a> {
    let pages = entries.len().div_ceil(PAGE).max(1);
    let n = q.page.unwrap_or(1).clamp(1, pages);
    let query = urlencode(&q.q);
    let link = |page: usize| format!("/admin/audit?q={query}&page={page}");
    AuditPage {
        chrome: Chrome::new("Nhật ký thay đổi", &[("/admin/logout", "Đăng xuất")]),
        q: &q.q,
        csv_href: format!("/admin/audit.csv?q={query}"),
        count: entries.len(),
        page: n,
        pages,
        rows: entries
            .iter()
            .skip((n - 1) * PAGE)
            .take(PAGE)
            .map(|a| AuditRow {
                seq: a.seq,
                at: when(a.at),
                who: match &a.actor.login {
                    Some(l) => format!("{} ({l})", a.actor.name),
                    None => a.actor.name.clone(),
                },
                kind: a.actor.kind.label_vi(),
                action: a.action.clone(),
                subject: a.subject.clone(),
                before: a.before.clone().unwrap_or_default(),
                after: a.after.clone().unwrap_or_default(),
            })
            .collect(),
        pager: Pager {
            newer: (n > 1).then(|| link(n - 1)),
            older: (n < pages).then(|| link(n + 1)),
        },
    }
}

/// Percent-encodes a query value for a link.
fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}
