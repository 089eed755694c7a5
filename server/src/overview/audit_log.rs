//! The audit log's page (`/admin/audit`, newest first, searchable, 100 a
//! page) and its CSV export (`/admin/audit.csv`, the same search). Both are
//! read only: no route of the server changes or deletes an entry.

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
use crate::html::{datetime_vi, escape as e, html, page};

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
        Ok(entries) => html(StatusCode::OK, render(&entries, &q)),
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

fn render(entries: &[AuditEntry], q: &AuditQuery) -> String {
    let pages = entries.len().div_ceil(PAGE).max(1);
    let n = q.page.unwrap_or(1).clamp(1, pages);
    let shown = entries.iter().skip((n - 1) * PAGE).take(PAGE);
    let query = urlencode(&q.q);
    let mut b = String::from("<h1>Nhật ký thay đổi <span class=\"en\">Audit log</span></h1>\n");
    let _ = writeln!(
        b,
        "<form method=\"get\" action=\"/admin/audit\" class=\"noprint\"><label for=\"q\">Tìm (người, việc, đối tượng, giá trị)</label> <input type=\"text\" id=\"q\" name=\"q\" value=\"{}\"> <button type=\"submit\">Tìm</button> · <a href=\"/admin/audit.csv?q={query}\">Tải CSV</a></form>",
        e(&q.q)
    );
    let _ = writeln!(
        b,
        "<p class=\"muted\" id=\"audit-count\">{} mục · trang {n}/{pages}</p>",
        entries.len()
    );
    b.push_str("<div class=\"scroll\"><table id=\"audit\"><tr><th>#</th><th>Thời gian</th><th>Người thực hiện</th><th>Việc</th><th>Đối tượng</th><th>Trước</th><th>Sau</th></tr>\n");
    for a in shown {
        let who = match &a.actor.login {
            Some(l) => format!("{} ({l})", a.actor.name),
            None => a.actor.name.clone(),
        };
        let _ = writeln!(
            b,
            "<tr data-seq=\"{}\"><td class=\"num\">{}</td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            a.seq,
            a.seq,
            when(a.at),
            e(&who),
            e(a.actor.kind.label_vi()),
            e(&a.action),
            e(&a.subject),
            e(a.before.as_deref().unwrap_or("")),
            e(a.after.as_deref().unwrap_or(""))
        );
    }
    b.push_str("</table></div>\n<nav class=\"links noprint\">");
    if n > 1 {
        let _ = write!(
            b,
            "<a href=\"/admin/audit?q={query}&amp;page={}\">← Mới hơn</a>",
            n - 1
        );
    }
    if n < pages {
        let _ = write!(
            b,
            "<a href=\"/admin/audit?q={query}&amp;page={}\">Cũ hơn →</a>",
            n + 1
        );
    }
    b.push_str("</nav>\n");
    page("Nhật ký thay đổi", &[("/admin/logout", "Đăng xuất")], &b)
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
